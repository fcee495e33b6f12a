"""Contender: the same slack_bolt App as slack_bolt_app.py (one event listener), served by
sockeye.bolt.SocketModeHandler (libsockeye underneath) instead of Bolt's own handler: the
one-import change of bindings/python. Bolt acks each event after dispatch, as there.

The package comes from bindings/python/src unless it is installed; the library from
SOCKEYE_LIBRARY, else --library (benchmarks/run passes the release build's); the pool
size from --connections (default 2, the handler's own default)."""
import peer

peer.use_sockeye_package()
from slack_bolt import App  # noqa: E402
from slack_sdk import WebClient  # noqa: E402

from sockeye.bolt import SocketModeHandler  # noqa: E402

peer.require_environment()
stop = peer.stop_event()
received = peer.Counter()
app = App(client=WebClient(base_url=peer.API_URL, token=peer.BOT_TOKEN))


@app.event("message")
def on_message(ack, body):
    ack()
    received.add(peer.event_key(body))


# --connections N: the pool size benchmarks/run asks for (sockeye.bolt's default is 2).
handler = SocketModeHandler(app, peer.APP_TOKEN, pool_size=peer.pool_size())
handler.connect()
while not stop.wait(0.5):
    pass
stats = handler.client.sockeye.stats.as_dict() if handler.client.sockeye else None
handler.close()
peer.report(received, sockeye=stats)
