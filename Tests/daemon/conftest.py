"""Fixtures for the sockeyed process tests: real sockeye-sim (the shared fixtures of
Tests/support) and sockeyed processes on 127.0.0.1 with free ports, stopped by the tests.
SOCKEYE_BIN_DIR names the folder with the release binaries (scripts/test sets it). The
helpers are in daemon_support."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from pytest_sockeye_sim import sim, start_sim  # noqa: E402,F401 (fixtures)


@pytest.fixture
def processes():
    """The children a test starts (Proc); killed when it ends."""
    started = []
    yield started
    for p in started:
        p.kill()
