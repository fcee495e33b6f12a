"""Bolt's getting-started app, served by Sockeye: only the handler import changed.

    SLACK_APP_TOKEN=xapp-… SLACK_BOT_TOKEN=xoxb-… python bolt_app.py

Each listener prints one line; slash commands and view submissions are answered in the ack.
"""
import json
import os
import sys

from slack_bolt import App
from slack_sdk import WebClient

# from slack_bolt.adapter.socket_mode import SocketModeHandler   # Bolt's own handler
from sockeye.bolt import SocketModeHandler  # the only line that changes

# SOCKEYE_API_URL points the app at a simulator (e.g. sockeye-sim); unset, it is Slack.
app = App(client=WebClient(token=os.environ["SLACK_BOT_TOKEN"],
                           base_url=os.environ.get("SOCKEYE_API_URL", "https://slack.com/api/")))


def seen(listener, body):
    """One line per listener call, with the id that tells deliveries apart (one write per
    line: listeners run on several threads)."""
    line = json.dumps({"listener": listener, "id": body.get("event_id") or body.get("trigger_id")})
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@app.message("hello")
def message_hello(message, body):
    seen("message", body)


@app.event("app_mention")
def mentioned(event, body):
    seen("app_mention", body)


@app.command("/hello")
def hello_command(ack, command, body):
    ack(f"Hi <@{command['user_id']}>!")  # the text travels in the Socket Mode ack
    seen("command", body)


@app.action("button_click")
def button_click(ack, body):
    ack()
    seen("action", body)


@app.view("view_1")
def view_submission(ack, body):
    ack(response_action="clear")  # closes the modal; also in the ack
    seen("view", body)


if __name__ == "__main__":
    SocketModeHandler(app, os.environ["SLACK_APP_TOKEN"]).start()
