"""Starts a real sockeye-sim process for the interop tests and offers admin helpers."""
import json
import os
import subprocess
import threading
import time
import urllib.request

import pytest
from slack_bolt import App

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
APP_TOKEN = "xapp-1-A0SIMAPP01-1-simsecret"
BOT_TOKEN = "xoxb-sim-bot-token"
# The mix every run uses: every envelope type, including the ~62 KB view_submission.
KINDS = ["message", "app_mention", "reaction_added", "slash_command", "block_actions", "shortcut", "view_submission"]


class Sim:
    def __init__(self, proc, port, scheme="http", ssl_context=None):
        self.proc = proc
        self.port = port
        self.scheme = scheme
        self.ssl_context = ssl_context
        self.api = f"{scheme}://127.0.0.1:{port}/api/"

    def admin(self, path, body=None):
        data = json.dumps(body or {}).encode() if body is not None else None
        req = urllib.request.Request(f"{self.scheme}://127.0.0.1:{self.port}/admin/{path}", data=data,
                                     headers={"Content-Type": "application/json"}, method="POST" if data else "GET")
        with urllib.request.urlopen(req, timeout=10, context=self.ssl_context) as r:
            return json.loads(r.read())

    def stats(self):
        return self.admin("stats")

    def live_connections(self):
        return [c for c in self.admin("connections")["connections"] if c["state"] == "live"]

    def wait_for(self, predicate, timeout=60, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; stats={json.dumps(self.stats()['total'])}")

    def inject_mix(self, total, rate=250):
        """Delivers `total` envelopes cycling through KINDS at `rate` per second (the load
        generator's open-loop mode); returns the count per kind.

        Paced on purpose: slack_sdk's builtin client parses frames recursively and hits
        RecursionError when megabytes of back-to-back frames are already buffered."""
        counts = {k: 0 for k in KINDS}
        for i in range(total):
            counts[KINDS[i % len(KINDS)]] += 1
        self.admin("load", {"rate": rate, "total": total, "kinds": KINDS})
        return counts


def sim_binary():
    return os.environ.get("SOCKEYE_SIM_BIN", os.path.join(ROOT, ".build", "debug", "sockeye-sim"))


def start_sim(extra=()):
    args = [sim_binary(), "--port", "0", "--report", "table", *extra] + os.environ.get("SOCKEYE_SIM_ARGS", "").split()
    proc = subprocess.Popen([a for a in args if a], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("LISTENING port="), f"sim did not start: {line!r}"
    fields = dict(f.split("=", 1) for f in line.split()[1:])
    if "cert" in fields:
        import ssl
        return Sim(proc, int(fields["port"]), "https", ssl.create_default_context(cafile=fields["cert"]))
    return Sim(proc, int(fields["port"]))


def stop_sim(s):
    s.proc.terminate()
    try:
        s.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        s.proc.kill()
        s.proc.wait(timeout=5)


@pytest.fixture
def sim():
    s = start_sim()
    yield s
    stop_sim(s)


def assert_clean_run(sim, total):
    """Every envelope delivered once and acked; no retries, failures or stray acks."""
    t = sim.wait_for(lambda: (s := sim.stats()["total"]) and s["acked"] >= total and s, what=f"{total} acks")
    assert t["acked"] == total
    assert t["delivered"] == total
    assert t["redelivered"] == 0
    assert t["failedAfterRetries"] == 0
    assert t["userVisibleFailures"] == 0
    assert t["unknownAcks"] == 0
    assert t["duplicateAcks"] == 0
    assert t["malformedFrames"] == 0
    return t


@pytest.fixture(autouse=True)
def bounded_test():
    """Every interop test is bounded: a peer client stuck in a reconnect loop fails the
    test after 180 s instead of hanging the suite."""
    import signal

    def expired(signum, frame):
        raise TimeoutError("interop test exceeded 180 s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(180)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def counting_bolt_app(signing_secret, client, command_ok=lambda command: True):
    """A slack_bolt App whose listeners ack every kind in KINDS and count what they saw;
    returns (app, hits), hits being {kind: count}. A slash command is counted only when
    `command_ok(command)` holds, so a test can check the form decoding too."""
    app = App(signing_secret=signing_secret, client=client)
    hits = {}
    lock = threading.Lock()

    def hit(name):
        with lock:
            hits[name] = hits.get(name, 0) + 1

    app.event("message")(lambda ack: (ack(), hit("message")))
    app.event("app_mention")(lambda ack: (ack(), hit("app_mention")))
    app.event("reaction_added")(lambda ack: (ack(), hit("reaction_added")))
    app.command("/deploy")(lambda ack, command: (ack(), hit("slash_command") if command_ok(command) else None))
    app.action("approve")(lambda ack: (ack(), hit("block_actions")))
    app.shortcut("do-something")(lambda ack: (ack(), hit("shortcut")))
    app.view("modal-with-inputs")(lambda ack: (ack(), hit("view_submission")))
    return app, hits
