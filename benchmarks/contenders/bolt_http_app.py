"""A slack_bolt app served over HTTP, for the ingress benchmark row: the same load sockeyed's
ingress takes, against Bolt verifying each signature and acking each event. Served by
Bolt's WSGI adapter on a threading WSGI server bound to 127.0.0.1 (Bolt's own development
server listens on every interface).

  python bolt_http_app.py PORT SIGNING_SECRET API_URL
Prints LISTENING port=PORT once serving.
"""
import logging
import socketserver
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

port, secret, api = int(sys.argv[1]), sys.argv[2], sys.argv[3]
logging.basicConfig(level=logging.ERROR)


def authorize(enterprise_id, team_id, logger):
    # A fixed installation: no auth.test round trip per request (nothing leaves the host).
    return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token="xoxb-bench", bot_user_id="U0BENCHBOT",
                           bot_id="B0BENCHBOT")


app = App(signing_secret=secret, authorize=authorize, client=WebClient(base_url=api))


@app.event("message")
def on_message(event):
    pass


@app.event("app_mention")
def on_mention(event):
    pass


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: 32 clients reconnecting at once (wsgiref
    # closes the connection after each request) would wait for SYN retries (1 s, 3 s …).
    request_queue_size = 128


class QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass


server = make_server("127.0.0.1", port, SlackRequestHandler(app), server_class=ThreadingServer, handler_class=QuietHandler)
print(f"LISTENING port={port}", flush=True)
server.serve_forever()
