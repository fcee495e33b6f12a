"""An unmodified HTTP-mode slack_bolt App that authorizes every request from an installation
store file with slack_sdk's SQLite3InstallationStore (the file sockeyed writes), served by a
threading wsgiref server on 127.0.0.1. Each message event's authorization (team, enterprise,
bot token, bot user) is appended to a JSON lines file.

    python bolt_oauth_app.py PORT SIGNING_SECRET API_URL STORE CLIENT_ID RECORD_FILE
"""
import json
import socketserver
import sys
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore

port, secret, api, store, client_id, record = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
lock = threading.Lock()

app = App(signing_secret=secret, client=WebClient(base_url=api),
          installation_store=SQLite3InstallationStore(database=store, client_id=client_id))


@app.event("message")
def on_message(ack, event, context):
    ack()
    with lock, open(record, "a") as f:
        f.write(json.dumps({"team": context.team_id, "enterprise": context.enterprise_id, "bot_token": context.bot_token,
                            "bot_user_id": context.bot_user_id, "text": event.get("text")}) + "\n")


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


handler = SlackRequestHandler(app)
server = make_server("127.0.0.1", port, handler, server_class=ThreadingServer, handler_class=QuietHandler)
print(f"LISTENING {port}", flush=True)
server.serve_forever()
