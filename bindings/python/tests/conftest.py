"""Fixtures for the package's tests: a real sockeye-sim process on 127.0.0.1 (port 0),
stopped after each test, and its admin API (the shared fixtures of the repository's
Tests/support, or of SOCKEYE_TEST_SUPPORT when the tests run from a copy). No mocks.

SOCKEYE_BIN_DIR names the folder with the release `sockeye-sim`. The library is found the
package's way (SOCKEYE_LIBRARY, then the copy inside an installed wheel, then the loader's
path).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.environ.get("SOCKEYE_TEST_SUPPORT") or os.path.join(ROOT, "Tests", "support"))
from pytest_sockeye_sim import sim, start_sim  # noqa: E402,F401 (fixtures)
from sim_process import APP_TOKEN, BOT_TOKEN  # noqa: E402,F401
