"""Fixtures for the sockeyed process tests: real sockeye-sim (the shared fixtures of
Tests/support) and sockeyed processes on 127.0.0.1 with free ports, stopped by the tests.
SOCKEYE_BIN_DIR names the folder with the release binaries (scripts/test sets it). The
helpers are in daemon_support."""
import os
import signal
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from pytest_sockeye_sim import sim, start_sim  # noqa: E402,F401 (fixtures)
from nats_process import NatsError, NatsServer  # noqa: E402


@pytest.fixture
def processes():
    """The children a test starts (Proc); killed when it ends."""
    started = []
    yield started
    for p in started:
        p.kill()


@pytest.fixture
def nats(tmp_path):
    """Starts nats-server processes with JetStream (`nats(**options)`, see NatsServer), their
    store in the test's folder; killed by PID when the test ends."""
    servers = []

    def start(**options):
        try:
            server = NatsServer(str(tmp_path / "nats-store"), **options)
        except NatsError as error:
            pytest.fail(str(error), pytrace=False)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop(signal.SIGKILL)
