"""Helpers for the sockeyed process tests: the release binaries, free ports, child processes
whose output is collected, JSON-lines files. A module of its own name (not conftest), so that
this suite and another one can be collected in one pytest run."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from sim_process import APP_TOKEN, SimError, find_binary  # noqa: E402,F401


def binary(name):
    """The release binary `name`; fails the test when it is missing."""
    try:
        return find_binary(name)
    except SimError as error:
        pytest.fail(str(error), pytrace=False)


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


def json_lines(path):
    """The complete lines of a JSON-lines file, parsed. A writer may be in the middle of a
    line (even of a UTF-8 sequence): only what ends in a newline is read."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    complete = data[:data.rfind(b"\n") + 1]
    return [json.loads(line) for line in complete.split(b"\n") if line.strip()]
