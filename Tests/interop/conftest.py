"""Fixtures for the interop tests: a real sockeye-sim process per test (the shared fixtures
of Tests/support), and a bound on every test. The helpers are in interop_support."""
import os
import signal
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from pytest_sockeye_sim import sim, start_sim  # noqa: E402,F401 (fixtures)


@pytest.fixture(autouse=True)
def bounded_test():
    """Every interop test is bounded: a peer client stuck in a reconnect loop fails the
    test after 180 s instead of hanging the suite."""
    def expired(signum, frame):
        raise TimeoutError("interop test exceeded 180 s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(180)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
