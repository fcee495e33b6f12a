"""Shared helpers for the sockeyed process tests: real sockeye-sim and sockeyed processes on
127.0.0.1 with free ports, stopped by the tests. SOCKEYE_BIN_DIR names the folder with the
release binaries (scripts/test sets it)."""
import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

BIN = os.environ.get("SOCKEYE_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "release"))
APP_TOKEN = "xapp-1-A0SIMAPP01-1-simsecret"


def binary(name):
    path = os.path.join(BIN, name)
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: build it with `swift build -c release --product {name}`")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A child process whose stdout and stderr lines are collected on threads."""

    def __init__(self, argv, env=None):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     start_new_session=True)
        self.out, self.err = [], []
        for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, sink), daemon=True).start()

    @staticmethod
    def _read(stream, sink):
        for line in stream:
            sink.append(line.rstrip("\n"))

    def wait_for(self, predicate, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return True
            if self.proc.poll() is not None:
                return predicate()
            time.sleep(0.05)
        return predicate()

    def signal(self, number):
        if self.proc.poll() is None:
            self.proc.send_signal(number)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def processes():
    started = []
    yield started
    for p in started:
        p.kill()


def start_sim(processes, *args):
    sim = Proc([binary("sockeye-sim"), "--port", "0", "--report", "json", *args])
    processes.append(sim)
    assert sim.wait_for(lambda: any(l.startswith("LISTENING") for l in sim.out), 30), sim.err[-20:]
    line = next(l for l in sim.out if l.startswith("LISTENING"))
    fields = dict(part.split("=", 1) for part in line.split()[1:])
    return sim, fields["api"]


def sim_report(sim, timeout):
    """Waits for the sim to exit and returns its JSON report."""
    assert sim.wait(timeout) is not None, "the simulator did not finish in time"
    time.sleep(0.2)
    text = "\n".join(l for l in sim.out if not l.startswith("LISTENING"))
    start = text.index("{")
    report, _ = json.JSONDecoder().raw_decode(text[start:])
    return report


def json_lines(path):
    """The complete lines of a JSON-lines file, parsed. A writer may be in the middle of a
    line (even of a UTF-8 sequence): only what ends in a newline is read."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    complete = data[:data.rfind(b"\n") + 1]
    return [json.loads(line) for line in complete.split(b"\n") if line.strip()]
