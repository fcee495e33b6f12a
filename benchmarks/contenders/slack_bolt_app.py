"""Contender: a slack_bolt App with one event listener, served by Bolt's SocketModeHandler
(slack_sdk's builtin client underneath). Bolt acks each event after its listener."""
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

import peer

peer.require_environment()
stop = peer.stop_event()
received = peer.Counter()
app = App(client=WebClient(base_url=peer.API_URL, token=peer.BOT_TOKEN))


@app.event("message")
def on_message(ack, body):
    ack()
    received.add(peer.event_key(body))


handler = SocketModeHandler(app, peer.APP_TOKEN)
handler.connect()
while not stop.wait(0.5):
    pass
handler.close()
peer.report(received)
