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
# Set by benchmarks/run in fault rows: keep event ids to count what reached the app twice
# (off elsewhere: a set of 200 000 ids would weigh on the RSS measured).
TRACK_IDS = bool(os.environ.get("SOCKEYE_BENCH_TRACK_IDS"))


def use_sockeye_package():
    """Makes `import sockeye` work for the contenders built on bindings/python: the library
    from SOCKEYE_LIBRARY, else the command line's --library PATH; the package as installed,
    else from bindings/python/src."""
    if "--library" in sys.argv:
        os.environ.setdefault("SOCKEYE_LIBRARY", sys.argv[sys.argv.index("--library") + 1])
    try:
        import sockeye  # noqa: F401
    except ImportError:
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path.insert(0, os.path.join(here, "..", "..", "bindings", "python", "src"))


def pool_size(default=2):
    """The pool size benchmarks/run asks for (--connections N), else `default`."""
    return int(sys.argv[sys.argv.index("--connections") + 1]) if "--connections" in sys.argv else default


def require_environment():
    if not API_URL or not APP_TOKEN:
        sys.stderr.write("set SOCKEYE_API_URL and SLACK_APP_TOKEN\n")
        sys.exit(2)


class Counter:
    """Envelopes received, counted from listener threads; with TRACK_IDS and a key (the
    event id), the distinct ones too, so a fault run can tell how many reached the app twice."""

    def __init__(self):
        self.value = 0
        self.keys = set()
        self._lock = threading.Lock()

    def add(self, key=None):
        with self._lock:
            self.value += 1
            if TRACK_IDS and key is not None:
                self.keys.add(key)

    @property
    def duplicates(self):
        return self.value - len(self.keys) if self.keys else None


def stop_event():
    """A threading.Event set on SIGTERM or SIGINT (main thread only)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def event_key(payload):
    """What identifies an event across redeliveries: its event_id (Events API), else None."""
    return payload.get("event_id") if isinstance(payload, dict) else None


def report(received, **extra):
    """The last stdout line: allocations are not counted for Python peers. `received` may be
    a Counter (its duplicates are reported when it saw event ids)."""
    if isinstance(received, Counter):
        extra.setdefault("duplicates", received.duplicates)
        received = received.value
    print(json.dumps({"received": received, "allocationsPerEvent": None, **extra}), flush=True)
