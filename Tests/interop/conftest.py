"""Starts a real sockeye-sim process for the interop tests and offers admin helpers."""
import json
import os
import subprocess
import time
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
APP_TOKEN = "xapp-1-A0SIMAPP01-1-simsecret"
BOT_TOKEN = "xoxb-sim-bot-token"
# The mix every run uses: every envelope type, including the ~62 KB view_submission.
KINDS = ["message", "app_mention", "reaction_added", "slash_command", "block_actions", "shortcut", "view_submission"]


class Sim:
    def __init__(self, proc, port):
        self.proc = proc
        self.port = port
        self.api = f"http://127.0.0.1:{port}/api/"

    def admin(self, path, body=None):
        data = json.dumps(body or {}).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/admin/{path}", data=data,
                                     headers={"Content-Type": "application/json"}, method="POST" if data else "GET")
        with urllib.request.urlopen(req, timeout=10) as r:
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
    return Sim(proc, int(line.split()[1].split("=")[1]))


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
