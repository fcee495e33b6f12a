"""An unmodified HTTP-mode slack_bolt App, served through Bolt's WSGI adapter
(`slack_bolt.adapter.wsgi.SlackRequestHandler`) by a threading wsgiref server bound to
127.0.0.1, for test_bridge_bolt.py. Bolt checks every request's signature itself; each
listener call (and each request that got through Bolt's verification) is appended to a JSON
lines file.

    python bolt_http_app.py PORT SIGNING_SECRET API_URL RECORD_FILE
"""
import json
import socketserver
import sys
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

port, secret, api, record = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
lock = threading.Lock()


def note(kind, **fields):
    with lock, open(record, "a") as f:
        f.write(json.dumps(dict(kind=kind, **fields)) + "\n")
        f.flush()


# The sim accepts this bot token for auth.test; the WebClient never leaves 127.0.0.1.
app = App(signing_secret=secret, client=WebClient(base_url=api, token="xoxb-sim-bot-token"))


@app.middleware
def verified(req, next):
    # Custom middleware runs after Bolt's built-in RequestVerification: reaching it means the
    # signature was valid.
    note("verified", signature=req.headers.get("x-slack-signature", [""])[0],
         retry=req.headers.get("x-slack-retry-num", [None])[0],
         user_agent=req.headers.get("user-agent", [""])[0])
    return next()


@app.event("message")
def on_message(ack, event):
    ack()
    note("message", text=event.get("text"))


@app.command("/deploy")
def on_deploy(ack, command):
    ack(f"deploying {command['text']}")
    note("/deploy", text=command["text"])


@app.command("/status")
def on_status(ack, command):
    ack(blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": f"*status* of {command['text']}"}}])
    note("/status", text=command["text"])


@app.action("approve")
def on_approve(ack, body):
    ack()
    note("approve", action_id=body["actions"][0]["action_id"])


@app.view("ticket")
def on_ticket(ack, view):
    ack(response_action="errors", errors={"title": "too short"})
    note("ticket", callback_id=view["callback_id"])


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


if __name__ == "__main__":
    handler = SlackRequestHandler(app)
    server = make_server("127.0.0.1", port, handler, server_class=ThreadingServer, handler_class=QuietHandler)
    print("READY", flush=True)
    server.serve_forever(0.05)
