"""One `sockeye-sim` process on 127.0.0.1, for every Python test suite and the benchmarks.

The simulator is started with `--port 0`: it binds a free port itself and announces it on its
first stdout line (`LISTENING port=… api=… [cert=…]`), so no port is picked here and then
raced for. Readiness is that line, awaited with a deadline. The admin API (inject, load,
faults, stats) is reached over the announced address, with the announced certificate when
the sim serves TLS. The process is stopped by its PID: SIGTERM (the sim then prints its
report and exits), a deadline, then SIGKILL. Its stderr is kept for failure messages.

Importable without pytest (the benchmarks use it); `pytest_sockeye_sim` wraps it in fixtures.

The binaries are looked up in SOCKEYE_BIN_DIR, else in the folder `swift build -c release
--show-bin-path` names.
"""
from __future__ import annotations

import collections
import json
import os
import ssl
import subprocess
import threading
import time
import urllib.request
from typing import Any, Callable, Dict, List, Optional, Tuple

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
APP_TOKEN = "xapp-1-A0SIMAPP01-1-simsecret"
BOT_TOKEN = "xoxb-sim-bot-token"
START_TIMEOUT = 60.0   # seconds for the LISTENING line; two busy cores can be slow to exec and bind
STOP_GRACE = 10.0      # seconds between SIGTERM and SIGKILL
ADMIN_TIMEOUT = 30.0   # seconds for one admin request
STDERR_LINES = 2000    # the stderr lines kept: the newest, enough for a failure message

_bin_dir_cache: List[str] = []


class SimError(AssertionError):
    """The simulator is missing, did not start, or did not finish in time. An AssertionError,
    so that a test reports it as a failure rather than as an error in its set-up."""


def bin_dir() -> str:
    """The folder with the release binaries: SOCKEYE_BIN_DIR, else SwiftPM's release bin path."""
    explicit = os.environ.get("SOCKEYE_BIN_DIR")
    if explicit:
        return explicit
    if not _bin_dir_cache:
        try:
            out = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True,
                                 text=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as error:
            raise SimError(f"set SOCKEYE_BIN_DIR: `swift build -c release --show-bin-path` failed: {error}") from error
        if out.returncode != 0 or not out.stdout.strip():
            raise SimError(f"set SOCKEYE_BIN_DIR: `swift build -c release --show-bin-path` failed: {out.stderr[-500:]}")
        _bin_dir_cache.append(out.stdout.strip().splitlines()[-1])
    return _bin_dir_cache[0]


def find_binary(name: str) -> str:
    """The path of the release binary `name` (sockeye-sim, sockeyed, …); fails with the build
    command when it is missing."""
    path = os.path.join(bin_dir(), name)
    if not os.path.exists(path):
        raise SimError(f"{path} is missing: build it with `swift build -c release --product {name}` "
                       "or set SOCKEYE_BIN_DIR")
    return path


class SimProcess:
    """A running `sockeye-sim` child and its admin API.

    `args` are the simulator's own options (`--ack-deadline 1`, `--tls --cert-dir D`, a load,
    …); `--port 0 --report json` come first. `binary` overrides the lookup (the benchmarks
    use their own scratch path); `stderr_path` sends stderr to a file instead of memory (a
    long benchmark row keeps it beside its results). Raises SimError when the sim exits or
    says nothing within `start_timeout` seconds, after stopping it."""

    def __init__(self, *args: str, binary: Optional[str] = None, report: str = "json",
                 start_timeout: float = START_TIMEOUT, stderr_path: Optional[str] = None,
                 env: Optional[Dict[str, str]] = None, cpus: Optional[set] = None) -> None:
        self.argv = [binary or find_binary("sockeye-sim"), "--port", "0", "--report", report, *args]
        self.stderr_path = stderr_path
        self._stderr_file = open(stderr_path, "w") if stderr_path else None
        # A session of its own: a signal meant for the test run (Ctrl-C) does not reach the sim
        # mid-report; the sim is stopped by its PID below.
        # `cpus`: the sim's threads run only there (a benchmark keeps it off the client's core).
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE,
                                     stderr=self._stderr_file or subprocess.PIPE, text=True, env=env,
                                     start_new_session=True,
                                     preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
        # stdout carries only the announcement, URL_VERIFIED and the final report: kept whole.
        self.out: List[str] = []
        self.err: collections.deque = collections.deque(maxlen=STDERR_LINES)
        self._readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True)]
        if self._stderr_file is None:
            self._readers.append(threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True))
        for reader in self._readers:
            reader.start()
        line = self._await_listening(start_timeout)
        fields = dict(part.split("=", 1) for part in line.split()[1:] if "=" in part)
        try:
            self.port = int(fields["port"])
            self.api: str = fields["api"]
        except (KeyError, ValueError):
            self.stop()
            raise SimError(f"sockeye-sim announced {line!r}") from None
        if not 0 < self.port < 65536:
            self.stop()
            raise SimError(f"sockeye-sim announced port {self.port}")
        self.cert: Optional[str] = fields.get("cert")
        self.scheme = "https" if self.cert else "http"
        self.ssl_context = ssl.create_default_context(cafile=self.cert) if self.cert else None
        self.base = f"{self.scheme}://127.0.0.1:{self.port}"

    @staticmethod
    def _read(stream: Any, sink: Any) -> None:
        for line in stream:
            sink.append(line.rstrip("\n"))

    def _await_listening(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.out and self.out[0].startswith("LISTENING port="):
                return self.out[0]
            if self.out or self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        self._join_readers(2.0)  # the last stderr lines of a sim that refused its options
        first = self.out[0] if self.out else None
        raise SimError(f"sockeye-sim did not start (first stdout line {first!r}, exit {self.proc.returncode}): "
                       f"{self.stderr_tail()}")

    # --- output ---

    def stderr_tail(self, lines: int = 20) -> str:
        """The last `lines` lines of the sim's stderr, for a failure message."""
        if self.stderr_path:
            if self._stderr_file:
                self._stderr_file.flush()
            try:
                with open(self.stderr_path, errors="replace") as f:
                    return "\n".join(f.read().splitlines()[-lines:])
            except OSError:
                return ""
        return "\n".join(list(self.err)[-lines:])

    def stdout_line(self, index: int, timeout: float = 30.0) -> str:
        """The `index`-th stdout line (0 is the LISTENING line), awaited up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.out) <= index and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.02)
        if len(self.out) <= index:
            self._join_readers(2.0)
        if len(self.out) <= index:
            raise SimError(f"sockeye-sim printed {len(self.out)} stdout lines, line {index} awaited: {self.stderr_tail()}")
        return self.out[index]

    def _join_readers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for reader in self._readers:
            reader.join(timeout=max(0.0, deadline - time.monotonic()))

    # --- admin API ---

    def admin(self, path: str, body: Optional[Dict[str, Any]] = None, timeout: float = ADMIN_TIMEOUT) -> Any:
        """`GET /admin/<path>`, or a POST of `body` as JSON; the decoded JSON answer. An answer
        other than 2xx raises urllib's HTTPError."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base}/admin/{path}", data=data, headers={"Content-Type": "application/json"},
                                         method="POST" if data is not None else "GET")
        with urllib.request.urlopen(request, timeout=timeout, context=self.ssl_context) as response:
            return json.loads(response.read())

    def inject(self, kind: str, count: int = 1, **overrides: Any) -> Any:
        """Delivers `count` envelopes of `kind` now (`overrides`: app, text, command, …)."""
        return self.admin("inject", {"kind": kind, "count": count, **overrides})

    def stats(self) -> Dict[str, Any]:
        """The sim's report so far."""
        return self.admin("stats")

    def total(self) -> Dict[str, Any]:
        """The report's totals over every connection."""
        return self.stats()["total"]

    def connections(self) -> List[Dict[str, Any]]:
        return self.admin("connections")["connections"]

    def live_connections(self) -> List[Dict[str, Any]]:
        """The connections in state `live` (an empty list is false, for wait_for)."""
        return [c for c in self.connections() if c["state"] == "live"]

    def responses(self) -> List[Dict[str, Any]]:
        """The response payloads that came with acks."""
        return self.admin("responses")["responses"]

    def acked_event_ids(self) -> List[str]:
        """The event IDs acked, one entry per ack."""
        return self.admin("acked-events")["event_ids"]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 60.0, what: str = "a condition",
                 interval: float = 0.05) -> Any:
        """Polls `predicate` until it returns something true and returns that; raises SimError
        with the sim's totals after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                break
            time.sleep(interval)
        try:
            totals = json.dumps(self.total())
        except (OSError, ValueError, KeyError) as error:
            totals = f"unavailable ({error})"
        raise SimError(f"timed out after {timeout} s waiting for {what}; sim totals: {totals}; "
                       f"sim stderr: {self.stderr_tail(10)}")

    # --- the end ---

    def wait_exit(self, timeout: float) -> Optional[int]:
        """The exit code once the sim has exited, or None after `timeout` seconds."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def report(self, timeout: float) -> Dict[str, Any]:
        """Waits up to `timeout` seconds for the sim to finish (its `--duration` or its load)
        and returns the JSON report it printed."""
        if self.wait_exit(timeout) is None:
            raise SimError(f"sockeye-sim did not finish within {timeout} s")
        return self.printed_report()

    def printed_report(self) -> Dict[str, Any]:
        """The JSON report on stdout of a sim that has exited (the reader may still hold the
        pipe's last bytes, so it is joined first)."""
        self._join_readers(10.0)
        text = "\n".join(line for line in self.out if not line.startswith("LISTENING"))
        start = text.find("{")
        if start < 0:
            raise SimError(f"sockeye-sim printed no JSON report (exit {self.proc.returncode}): {self.stderr_tail()}")
        report, _ = json.JSONDecoder().raw_decode(text[start:])
        return report

    def stop(self, grace: float = STOP_GRACE) -> Tuple[Optional[int], bool]:
        """Stops the sim by its PID: SIGTERM, up to `grace` seconds, then SIGKILL. Returns (exit
        code, whether SIGKILL was needed). Safe to call twice."""
        killed = False
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                killed = True
                self.proc.kill()
                self.proc.wait(timeout=grace)
        if self._stderr_file:
            self._stderr_file.close()
            self._stderr_file = None
        return self.proc.returncode, killed

