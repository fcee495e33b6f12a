"""Contender: the Python package (bindings/python, `sockeye.Client` over libsockeye with
ctypes) used as its README shows: a `for event in client` loop that acks each event
(manual mode). SIGTERM stops the client; the loop ends once its queue is empty.

The package comes from bindings/python/src unless it is installed; the library from
SOCKEYE_LIBRARY, else --library (benchmarks/run passes the release build's); the pool size
from --connections; SSL_CERT_FILE (wss against the sim) becomes the client's ca_file. With
SOCKEYE_BENCH_TRACK_IDS set, event ids are kept to count what reached the app twice."""
import os
import signal

import peer

peer.use_sockeye_package()
import sockeye  # noqa: E402

peer.require_environment()
received = peer.Counter()
client = sockeye.Client(peer.APP_TOKEN, api_url=peer.API_URL, pool_size=peer.pool_size(),
                        ack_mode="manual", ca_file=os.environ.get("SSL_CERT_FILE") or None)
for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, lambda *_: client.stop(drain=False))
for event in client:
    key = event.event_id if peer.TRACK_IDS else None
    event.ack()
    received.add(key)
stats = client.stats.as_dict()
client.close()
peer.report(received, sockeye=stats)
