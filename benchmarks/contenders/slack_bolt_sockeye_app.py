"""Contender: the same slack_bolt App as slack_bolt_app.py (one event listener), served by
sockeye.bolt.SocketModeHandler (libsockeye underneath) instead of Bolt's own handler: the
one-import change of bindings/python. Bolt acks each event after dispatch, as there.

The package comes from bindings/python/src unless it is installed; the library from
SOCKEYE_LIBRARY, else --library (benchmarks/run passes the release build's); the pool
size from --connections (default 2, the handler's own default)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if "--library" in sys.argv:
    os.environ.setdefault("SOCKEYE_LIBRARY", sys.argv[sys.argv.index("--library") + 1])
try:
    import sockeye  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python", "src"))

from slack_bolt import App  # noqa: E402
from slack_sdk import WebClient  # noqa: E402

from sockeye.bolt import SocketModeHandler  # noqa: E402

import peer  # noqa: E402

peer.require_environment()
stop = peer.stop_event()
received = peer.Counter()
app = App(client=WebClient(base_url=peer.API_URL, token=peer.BOT_TOKEN))


@app.event("message")
def on_message(ack):
    ack()
    received.add()


# --connections N: the pool size benchmarks/run asks for (sockeye.bolt's default is 2).
pool = int(sys.argv[sys.argv.index("--connections") + 1]) if "--connections" in sys.argv else 2
handler = SocketModeHandler(app, peer.APP_TOKEN, pool_size=pool)
handler.connect()
while not stop.wait(0.5):
    pass
stats = handler.client.sockeye.stats.as_dict() if handler.client.sockeye else None
handler.close()
peer.report(received.value, sockeye=stats)
