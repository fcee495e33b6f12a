"""pytest fixtures over `sim_process`: every Python suite starts `sockeye-sim` through them.

A suite's conftest puts this folder on `sys.path` and imports the fixtures it uses:

    from pytest_sockeye_sim import sim, start_sim  # noqa: F401 (fixtures)

`start_sim(*args, **options)` starts a simulator with the given options (see `SimProcess`);
every simulator a test started is stopped, by its PID, when the test ends. `sim` is one
simulator with the default configuration.
"""
from typing import Any, Callable, Iterator, List

import pytest

from sim_process import SimError, SimProcess


@pytest.fixture
def start_sim() -> Iterator[Callable[..., SimProcess]]:
    """Starts simulators: ``sim = start_sim("--ack-deadline", "1")``; stops them all afterwards."""
    sims: List[SimProcess] = []

    def start(*args: str, **options: Any) -> SimProcess:
        try:
            sim = SimProcess(*args, **options)
        except SimError as error:
            pytest.fail(str(error), pytrace=False)
        sims.append(sim)
        return sim

    yield start
    for sim in reversed(sims):
        sim.stop()


@pytest.fixture
def sim(start_sim: Callable[..., SimProcess]) -> SimProcess:
    """A simulator with the default configuration."""
    return start_sim()
