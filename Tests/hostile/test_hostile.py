"""The hostile-input harness as a test (scripts/test runs it against the release sockeyed):
the daemon under malformed requests, idle connections, slow-loris heads and bodies and a flood
of unsigned requests survives as the same process, loses and duplicates no event it took,
stays under its memory bound and answers every signed request. The table is printed (pytest
-s shows it) and written to $SOCKEYE_HOSTILE_REPORT when that is set;
$SOCKEYE_HOSTILE_FLOOD_SECONDS shortens or lengthens the flood (20 s by default)."""
import os

import harness


def test_sockeyed_survives_the_hostile_harness():
    options = harness.Options(markdown=os.environ.get("SOCKEYE_HOSTILE_REPORT", ""))
    if "SOCKEYE_HOSTILE_FLOOD_SECONDS" in os.environ:
        options.flood_seconds = min(600.0, max(1.0, float(os.environ["SOCKEYE_HOSTILE_FLOOD_SECONDS"])))
    report, failures = harness.run(options)
    print(report)
    assert not failures, "\n".join(failures)
