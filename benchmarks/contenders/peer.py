"""What every Python contender shares: where the simulator is, a stop flag set by SIGTERM
or SIGINT, and the one JSON line printed at exit that benchmarks/run reads."""
import json
import os
import signal
import sys
import threading

API_URL = os.environ.get("SOCKEYE_API_URL", "")
APP_TOKEN = os.environ.get("SLACK_APP_TOKEN", "")
# slack_bolt's App calls auth.test with a bot token at start; the simulator accepts this one.
BOT_TOKEN = os.environ.get("SLACK_BOT_TOKEN", "xoxb-sim-bot-token")


def require_environment():
    if not API_URL or not APP_TOKEN:
        sys.stderr.write("set SOCKEYE_API_URL and SLACK_APP_TOKEN\n")
        sys.exit(2)


class Counter:
    """Envelopes received, counted from listener threads."""

    def __init__(self):
        self.value = 0
        self._lock = threading.Lock()

    def add(self):
        with self._lock:
            self.value += 1


def stop_event():
    """A threading.Event set on SIGTERM or SIGINT (main thread only)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def report(received, **extra):
    """The last stdout line: allocations are not counted for Python peers."""
    print(json.dumps({"received": received, "allocationsPerEvent": None, **extra}), flush=True)
