"""The contenders and scenarios of benchmarks/run. Add a contender by adding an entry.

A contender may set "max_seconds": the sim stops its rows after that many seconds (default
300), and what is unacked then counts as lost.

Command words may use {root} (repository), {here} (this folder), {python} (.venv's
python), {scratch} (the Swift build folder) and {port}; every contender also gets
SOCKEYE_API_URL, SLACK_APP_TOKEN and, for wss, SSL_CERT_FILE in its environment. A
contender may print one JSON line last on stdout, e.g. {"allocationsPerEvent": 0.0,
"received": N}."""

# Full-mode sizes; --smoke uses SMOKE. Per-contender keys of the same names override them.
# (A full matrix is ~180 rows x 3 repetitions: 500 000 events keep a saturation row of the
# fastest clients at 2–5 s of load.)
FULL = {"window": 1000, "saturation_total": 500_000}
SMOKE = {"window": 100, "saturation_total": 2_000}

# Python peers handle a few thousand envelopes per second: smaller full runs keep each
# row to seconds (open-loop rates above what they ack are not offered: "max_rate").
PYTHON_FULL = {"saturation_total": 30_000}
# slack_sdk's builtin client (and Bolt on top of it) needs small bursts: see its note.
BUILTIN_FULL = {**PYTHON_FULL, "window": 100}
BUILTIN_SMOKE = {"window": 50}
# Bolt on Bolt's handler and on sockeye.bolt side by side at 1 000 envelopes in flight.
BOLT_1000_FULL = {"window": 1_000, "saturation_total": 30_000}
BOLT_1000_SMOKE = {"window": 1_000, "saturation_total": 3_000}

CONTENDERS = [
    {
        "key": "ack-client",
        "name": "C ack-client",
        "command": ["{root}/benchmarks/ack-client/ack-client", "--port", "{port}", "--duration", "3600",
                    "--connections", "{connections}"],
        "transports": ["ws"],
        "family": "c",
        "pool": True,
        # Acks frames as they come (no event layer): not a client to run under faults.
        "scenarios": ["connections", "payload", "rate", "transport", "idle"],
        "note": "libwebsockets handshake, then its own frame reader: the limit of the machine",
    },
    {
        "key": "sdk-builtin",
        "name": "slack_sdk builtin",
        "command": ["{python}", "{here}/slack_sdk_builtin.py"],
        "transports": ["ws"],
        "family": "slack_sdk",
        "max_rate": 1_000,
        # At its window, 20 KB payloads and more stop it: its frame reader recurses on the
        # buffered frames (RecursionError) and acks nothing, so the sim waits out the row.
        "max_payload": 10_240,
        "full": BUILTIN_FULL,
        "smoke": BUILTIN_SMOKE,
        "note": "window 100 (smoke 50), at most 1 000/s offered: its frame parser recurses per buffered "
                "frame and raises RecursionError on bigger bursts (wss: TLS only on port 443)",
    },
    {
        "key": "sdk-aiohttp",
        "name": "slack_sdk aiohttp",
        "command": ["{python}", "{here}/slack_sdk_aiohttp.py"],
        "transports": ["ws", "wss"],
        "family": "slack_sdk",
        "max_rate": 10_000,
        "full": PYTHON_FULL,
    },
    {
        "key": "bolt",
        "name": "slack_bolt",
        "command": ["{python}", "{here}/slack_bolt_app.py"],
        "transports": ["ws"],
        "family": "slack_sdk",
        "max_rate": 1_000,
        # At its window, 20 KB payloads and more stop it: its frame reader recurses on the
        # buffered frames (RecursionError) and acks nothing, so the sim waits out the row.
        "max_payload": 10_240,
        "full": BUILTIN_FULL,
        "smoke": BUILTIN_SMOKE,
        "note": "App + event listener + SocketModeHandler: the builtin client underneath, "
                "so paced like it (at 10 000/s it desynchronised and needed redeliveries)",
    },
    {
        "key": "bolt-sockeye",
        "name": "slack_bolt on sockeye.bolt",
        "command": ["{python}", "{here}/slack_bolt_sockeye_app.py", "--library", "{scratch}/release/libsockeye.so",
                    "--connections", "{connections}"],
        "pool": True,
        "transports": ["ws"],
        "family": "sockeye",
        "max_rate": 1_000,
        "full": BUILTIN_FULL,
        "smoke": BUILTIN_SMOKE,
        "note": "the slack_bolt row's app with one import changed (bindings/python: "
                "sockeye.bolt.SocketModeHandler: a pool of 2, one dispatch thread plus up to 9 woken "
                "while it is stuck); same load as that row",
    },
    {
        "key": "bolt-1000",
        "name": "slack_bolt, 1 000 in flight",
        "command": ["{python}", "{here}/slack_bolt_app.py"],
        "transports": ["ws"],
        "family": "slack_sdk",
        # One row only: the 1 000-in-flight comparison of Bolt's handler and sockeye.bolt.
        "scenarios": ["connections"],
        "full": BOLT_1000_FULL,
        "smoke": BOLT_1000_SMOKE,
        # Bolt's own handler is expected to lose envelopes here: that is what the row shows.
        "loss_expected": True,
        # Once it has stopped acking, the sim would wait out every redelivery (minutes): the
        # row ends after 40 s, and what is unacked then counts as lost.
        "max_seconds": 40,
        "note": "Bolt's own SocketModeHandler at window 1 000: the load its builtin "
                "client cannot take (losses here are reported, not a failure)",
    },
    {
        "key": "bolt-sockeye-1000",
        "name": "slack_bolt on sockeye.bolt, 1 000 in flight",
        "command": ["{python}", "{here}/slack_bolt_sockeye_app.py", "--library", "{scratch}/release/libsockeye.so",
                    "--connections", "{connections}"],
        "pool": True,
        "transports": ["ws"],
        "family": "sockeye",
        # One row only: the 1 000-in-flight comparison of Bolt's handler and sockeye.bolt.
        "scenarios": ["connections"],
        "full": BOLT_1000_FULL,
        "smoke": BOLT_1000_SMOKE,
        "note": "the same app and load as the row above on sockeye.bolt.SocketModeHandler: no loss allowed",
    },
    {
        "key": "sdk-websockets",
        "name": "slack_sdk websockets",
        "command": ["{python}", "{here}/slack_sdk_websockets.py"],
        "transports": ["ws"],
        "family": "slack_sdk",
        "full": PYTHON_FULL,
        "max_rate": 10_000,
    },
    {
        "key": "sdk-websocket-client",
        "name": "slack_sdk websocket-client",
        "command": ["{python}", "{here}/slack_sdk_websocket_client.py"],
        "transports": ["ws"],
        "family": "slack_sdk",
        "full": PYTHON_FULL,
        "max_rate": 1_000,
        "note": "slack_sdk's SocketModeClient on the websocket-client package (threads)",
    },
    {
        "key": "bolt-async",
        "name": "slack_bolt async",
        "command": ["{python}", "{here}/slack_bolt_async_app.py"],
        "transports": ["ws"],
        "family": "slack_sdk",
        "full": PYTHON_FULL,
        "max_rate": 10_000,
        "note": "AsyncApp + AsyncSocketModeHandler (slack_sdk's aiohttp client underneath)",
    },
    {
        "key": "sockeye",
        "name": "Sockeye",
        "command": ["{scratch}/release/sockeye-bench-client"],
        "transports": ["ws", "wss"],
        "family": "sockeye",
        "pool": True,
        "apps": True,
        # A missing binary is skipped with a note in a full run, a failure with --smoke.
        "required_in_smoke": True,
        "note": "Swift API (SocketModeClient), manual event.ack()",
    },
    {
        # The same client held to one connection, like the slack_sdk clients: how fast it
        # comes back when that connection is dropped or refreshed.
        "key": "sockeye-1",
        "name": "Sockeye, one connection",
        "command": ["{scratch}/release/sockeye-bench-client"],
        "transports": ["ws"],
        "family": "sockeye",
        "scenarios": ["faults"],
        "note": "Swift API held to one connection (pool size 1), for the fault rows",
    },
    {
        "key": "c-abi-pull",
        "name": "C via ABI (pull)",
        "command": ["{root}/benchmarks/c-abi-client/c-abi-client", "--mode", "pull"],
        "transports": ["ws"],
        "family": "sockeye",
        "pool": True,
        "note": "libsockeye's C ABI, installed with make install: a consumer thread takes events "
                "from the pull queue and acks each (sockeye_ack, manual mode)",
    },
    {
        "key": "c-abi-callback",
        "name": "C via ABI (callback)",
        "command": ["{root}/benchmarks/c-abi-client/c-abi-client", "--mode", "callback"],
        "transports": ["ws"],
        "family": "sockeye",
        "pool": True,
        "note": "libsockeye's C ABI: the event callback acks on the service thread (manual mode)",
    },
    {
        "key": "python-sockeye",
        "name": "Python sockeye.Client",
        "command": ["{python}", "{here}/python_sockeye.py", "--library", "{scratch}/release/libsockeye.so",
                    "--connections", "{connections}"],
        "pool": True,
        "transports": ["ws", "wss"],
        "family": "sockeye",
        "max_rate": 50_000,
        "full": {"saturation_total": 300_000},  # 30 000 would last a quarter of a second
        "note": "bindings/python's blocking client: a `for event in client` loop acks each event (ctypes, manual mode; "
                "the iterator takes events in batches)",
    },
    {
        "key": "sockeyed",
        "name": "sockeyed (file sink)",
        "command": ["{python}", "{here}/sockeyed_contender.py", "{scratch}/release/sockeyed"],
        "transports": ["ws", "wss"],
        "family": "sockeye",
        "pool": True,
        "apps": True,
        "note": "the daemon: every event routed and written as a normalized JSON line to a file "
                "sink on /dev/null, acked after the write",
    },
    {
        "key": "sockeyed-stdout",
        "name": "sockeyed (stdout sink)",
        "command": ["{python}", "{here}/sockeyed_contender.py", "{scratch}/release/sockeyed", "--sink", "stdout"],
        "transports": ["ws"],
        "family": "sockeye",
        "pool": True,
        "scenarios": ["connections"],
        "note": "the daemon's stdout sink (JSON lines; stdout is /dev/null), acked after the write",
    },
    {
        "key": "sockeyed-spool",
        "name": "sockeyed (SQLite spool)",
        "command": ["{python}", "{here}/sockeyed_contender.py", "{scratch}/release/sockeyed", "--sink", "spool"],
        "transports": ["ws"],
        "family": "sockeye",
        "pool": True,
        "scenarios": ["connections", "faults"],
        "full": {"saturation_total": 200_000},
        "note": "the durable spool (SQLite, synchronous FULL): each batch committed and fsynced before "
                "its events are acked; a fresh database per run",
    },
    {
        "key": "sockeyed-http",
        "name": "sockeyed (HTTP forwarder)",
        "command": ["{python}", "{here}/sockeyed_contender.py", "{scratch}/release/sockeyed", "--sink", "http"],
        "transports": ["ws"],
        "family": "sockeye",
        "pool": True,
        "scenarios": ["connections"],
        "full": {"saturation_total": 200_000},
        "note": "the HTTP forwarder: each event signed and POSTed to a keep-alive backend on the same "
                "machine that checks every signature (sockeye-bench-backend; its CPU, about a third of "
                "the daemon's per event, is not counted here but shares the two cores); acked after "
                "the backend's 200",
    },
]

# The matrix (benchmarks/run): scenario -> the points of a full run and of --smoke.
#   connections  saturation with N connections (contenders without "pool" run 1 only)
#   payload      saturation with payloads of N bytes
#   rate         open loop at N events/s (latency from the scheduled send time)
#   apps         N apps in one process, the load spread over them (contenders with "apps")
#   apps-rate    N apps in one process, 2 connections each, APP_RATE events/s per app: where
#                most users live (contenders with "apps" and "pool")
#   faults       a refresh storm, random drops: lost, delivered twice, longest gap
#   transport    saturation over ws and wss (contenders whose "transports" include it)
#   idle         N idle connections, no load: RSS per idle connection
SCENARIOS = {
    "connections": {"full": [1, 2, 4, 10], "smoke": [1, 2]},
    "payload": {"full": [300, 1024, 10240, 30720], "smoke": [30720]},
    "rate": {"full": [1_000, 10_000, 50_000, 100_000], "smoke": [1_000]},
    "apps": {"full": [1, 10, 100], "smoke": [10]},
    "apps-rate": {"full": [100], "smoke": [10]},
    "faults": {"full": ["refresh-storm", "drops"], "smoke": ["refresh-storm", "drops"]},
    "transport": {"full": ["ws", "wss"], "smoke": ["wss"]},
    "idle": {"full": [1, 10], "smoke": []},
}
# Seconds of offered load in a rate row (the total is rate x seconds, at most MAX_RATE_TOTAL)
# and in a fault row, and the fault rows' offered rate.
RATE_SECONDS = {"full": 4, "smoke": 1}
# The apps-rate rows: events/s per app (Slack caps an app at 30 000 events an hour per
# workspace, about 8/s), seconds of load (long enough that the CPU of a thousand events or
# so is read to within a percent from /proc's 10 ms ticks), connections per app.
APP_RATE = 10
APP_RATE_SECONDS = {"full": 20, "smoke": 2}
APP_RATE_POOL = 2
MAX_RATE_TOTAL = 300_000
FAULT_SECONDS = {"full": 12, "smoke": 6}
FAULT_RATE = {"full": 1_000, "smoke": 1_000}
