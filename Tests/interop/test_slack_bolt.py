"""A slack_bolt app over SocketModeHandler against sockeye-sim: every listener fires and
every one of 1 000 envelopes is acked."""
import threading

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from interop_support import APP_TOKEN, BOT_TOKEN, assert_clean_run, inject_mix

TOTAL = 1000


def test_bolt_app_handles_every_envelope(sim):
    app = App(client=WebClient(base_url=sim.api, token=BOT_TOKEN))
    hits = {}
    lock = threading.Lock()

    def hit(name):
        with lock:
            hits[name] = hits.get(name, 0) + 1

    @app.event("message")
    def on_message(ack, event):
        ack()
        assert "🐟" in event["text"]
        hit("message")

    @app.event("app_mention")
    def on_mention(ack):
        ack()
        hit("app_mention")

    @app.event("reaction_added")
    def on_reaction(ack):
        ack()
        hit("reaction_added")

    @app.command("/deploy")
    def on_command(ack, command):
        ack(text=f"deploying {command['text']}")
        hit("slash_command")

    @app.action("approve")
    def on_action(ack):
        ack()
        hit("block_actions")

    @app.shortcut("do-something")
    def on_shortcut(ack):
        ack()
        hit("shortcut")

    @app.view("modal-with-inputs")
    def on_view(ack, view):
        ack()
        assert len(view["state"]["values"]) > 500
        hit("view_submission")

    handler = SocketModeHandler(app, APP_TOKEN)
    try:
        handler.connect()
        sim.wait_for(lambda: sim.live_connections(), timeout=10, what="bolt's connection")
        counts = inject_mix(sim, TOTAL)
        total = assert_clean_run(sim, TOTAL)
        sim.wait_for(lambda: sum(hits.values()) >= TOTAL, timeout=10, what="listener calls")
        assert hits == {k: v for k, v in counts.items() if v}
        # Bolt sends the slash command's ack(text=…) as a response payload.
        assert total["responsePayloads"] == counts["slash_command"]
    finally:
        handler.close()
