"""The contenders and scenarios of benchmarks/run. Add a contender by adding an entry.

Command words may use {root} (repository), {here} (this folder), {python} (.venv's
python), {scratch} (the Swift build folder) and {port}; every contender also gets
SOCKEYE_API_URL, SLACK_APP_TOKEN and, for wss, SSL_CERT_FILE in its environment. A
contender may print one JSON line last on stdout, e.g. {"allocationsPerEvent": 0.0,
"received": N}."""

# Full-mode sizes; --smoke uses SMOKE. Per-contender keys of the same names override them.
FULL = {"window": 1000, "saturation_total": 1_000_000, "rate": 10_000, "rate_total": 100_000}
SMOKE = {"window": 100, "saturation_total": 2_000, "rate": 10_000, "rate_total": 2_000}

# Python peers handle a few thousand envelopes per second: smaller full runs keep each
# row to seconds; the offered open-loop rate is the same.
PYTHON_FULL = {"saturation_total": 30_000, "rate_total": 30_000}
# slack_sdk's builtin client (and Bolt on top of it) needs small bursts: see its note.
BUILTIN_FULL = {**PYTHON_FULL, "window": 100, "rate": 1_000, "rate_total": 10_000}
BUILTIN_SMOKE = {"window": 50, "rate": 1_000, "rate_total": 1_000}

CONTENDERS = [
    {
        "key": "ack-client",
        "name": "C ack-client",
        "command": ["{root}/benchmarks/ack-client/ack-client", "--port", "{port}", "--duration", "3600"],
        "transports": ["ws"],
        "family": "c",
        "note": "libwebsockets handshake, then its own frame reader: the limit of the machine",
    },
    {
        "key": "sdk-builtin",
        "name": "slack_sdk builtin",
        "command": ["{python}", "{here}/slack_sdk_builtin.py"],
        "transports": ["ws"],
        "family": "slack_sdk",
        "full": BUILTIN_FULL,
        "smoke": BUILTIN_SMOKE,
        "note": "window 100 (smoke 50) and 1 000/s: its frame parser recurses per buffered "
                "frame and raises RecursionError on bigger bursts (wss: TLS only on port 443)",
    },
    {
        "key": "sdk-aiohttp",
        "name": "slack_sdk aiohttp",
        "command": ["{python}", "{here}/slack_sdk_aiohttp.py"],
        "transports": ["ws"],
        "family": "slack_sdk",
        "full": PYTHON_FULL,
    },
    {
        "key": "bolt",
        "name": "slack_bolt",
        "command": ["{python}", "{here}/slack_bolt_app.py"],
        "transports": ["ws"],
        "family": "slack_sdk",
        "full": BUILTIN_FULL,
        "smoke": BUILTIN_SMOKE,
        "note": "App + event listener + SocketModeHandler: the builtin client underneath, "
                "so paced like it (at 10 000/s it desynchronised and needed redeliveries)",
    },
    {
        "key": "sockeye",
        "name": "Sockeye",
        "command": ["{scratch}/release/sockeye-bench-client"],
        "transports": ["ws", "wss"],
        "family": "sockeye",
        # A missing binary is skipped with a note in a full run, a failure with --smoke.
        "required_in_smoke": True,
        "note": "Swift API (SocketModeClient), manual event.ack()",
    },
    {
        "key": "c-abi-pull",
        "name": "C via ABI (pull)",
        "command": ["{root}/benchmarks/c-abi-client/c-abi-client", "--mode", "pull"],
        "transports": ["ws"],
        "family": "sockeye",
        "note": "libsockeye's C ABI, installed with make install: a consumer thread takes events "
                "from the pull queue and acks each (sockeye_ack, manual mode)",
    },
    {
        "key": "c-abi-callback",
        "name": "C via ABI (callback)",
        "command": ["{root}/benchmarks/c-abi-client/c-abi-client", "--mode", "callback"],
        "transports": ["ws"],
        "family": "sockeye",
        "note": "libsockeye's C ABI: the event callback acks on the service thread (manual mode)",
    },
]

# (key, label, sim load arguments for a size table)
SCENARIOS = [
    ("saturation", lambda s: f"window {s['window']}",
     lambda s: ["--load-total", str(s["saturation_total"]), "--load-window", str(s["window"])]),
    ("latency", lambda s: f"{s['rate']}/s open loop",
     lambda s: ["--load-total", str(s["rate_total"]), "--load-rate", str(s["rate"])]),
]
