"""Fixtures for the package's tests: a real sockeye-sim process on 127.0.0.1 (port 0),
stopped after each test, and helpers for its admin API. No mocks.

SOCKEYE_BIN_DIR names the folder with the release `sockeye-sim` (default: the
repository's .build/release). The library is found the package's way (SOCKEYE_LIBRARY,
then the copy inside an installed wheel, then the loader's path).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from typing import Any, Dict, List, Optional

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
BIN = os.environ.get("SOCKEYE_BIN_DIR", os.path.join(ROOT, ".build", "release"))
APP_TOKEN = "xapp-1-A0SIMAPP01-1-simsecret"
BOT_TOKEN = "xoxb-sim-bot-token"


class Sim:
    """A sockeye-sim child process and its admin API."""

    def __init__(self, *args: str) -> None:
        path = os.path.join(BIN, "sockeye-sim")
        if not os.path.exists(path):
            pytest.fail(f"{path} is missing: build it with `swift build -c release --product sockeye-sim` "
                        "or set SOCKEYE_BIN_DIR")
        self.proc = subprocess.Popen([path, "--port", "0", "--report", "json", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.out: List[str] = []
        self.err: List[str] = []
        for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, sink), daemon=True).start()
        deadline = time.time() + 30
        while time.time() < deadline and not any(l.startswith("LISTENING") for l in self.out):
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        line = next((l for l in self.out if l.startswith("LISTENING")), None)
        assert line, f"sockeye-sim did not start: {self.err[-20:]}"
        fields = dict(part.split("=", 1) for part in line.split()[1:])
        self.port = int(fields["port"])
        self.api = fields["api"]
        self.base = f"http://127.0.0.1:{self.port}"

    @staticmethod
    def _read(stream: Any, sink: List[str]) -> None:
        for line in stream:
            sink.append(line.rstrip("\n"))

    def request(self, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method="POST" if data is not None else "GET")
        with urllib.request.urlopen(req, timeout=10) as response:
            return json.loads(response.read())

    def inject(self, kind: str, count: int = 1, **overrides: Any) -> Any:
        return self.request("/admin/inject", {"kind": kind, "count": count, **overrides})

    def stats(self) -> Dict[str, Any]:
        return self.request("/admin/stats")

    def total(self) -> Dict[str, Any]:
        return self.stats()["total"]

    def live_connections(self) -> int:
        return sum(1 for c in self.request("/admin/connections")["connections"] if c["state"] == "live")

    def responses(self) -> List[Dict[str, Any]]:
        return self.request("/admin/responses")["responses"]

    def acked_event_ids(self) -> List[str]:
        return self.request("/admin/acked-events")["event_ids"]

    def wait_for(self, predicate: Any, timeout: float = 20.0, interval: float = 0.05) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        return bool(predicate())

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def start_sim():
    """Starts sims with extra arguments: ``sim = start_sim("--ack-deadline", "1")``."""
    sims: List[Sim] = []

    def start(*args: str) -> Sim:
        sim = Sim(*args)
        sims.append(sim)
        return sim

    yield start
    for sim in sims:
        sim.stop()


@pytest.fixture
def sim(start_sim) -> Sim:
    """A sim with the default configuration."""
    return start_sim()
