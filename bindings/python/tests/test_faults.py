"""A Bolt app on sockeye.bolt at 1 000 envelopes in flight while the simulator drops
connections and sends refresh_requested and too_many_websockets: nothing lost, nothing
delivered twice to a listener (counted by the listener and by the sim)."""
from __future__ import annotations

import collections
import threading
import time

import pytest

pytest.importorskip("slack_bolt")

from slack_bolt import App  # noqa: E402
from slack_sdk import WebClient  # noqa: E402

from sockeye.bolt import SocketModeHandler  # noqa: E402

from conftest import APP_TOKEN, BOT_TOKEN  # noqa: E402

TOTAL = 12_000


def run_under_faults(sim, faults):
    app = App(client=WebClient(token=BOT_TOKEN, base_url=sim.api))
    seen = []
    lock = threading.Lock()

    @app.event("message")
    def on_message(body):
        with lock:
            seen.append(body["event_id"])

    handler = SocketModeHandler(app, APP_TOKEN)
    handler.connect()
    try:
        assert sim.wait_for(lambda: len(sim.live_connections()) == 2, 20)
        sim.admin("load", {"window": 1000, "total": TOTAL, "kinds": ["message"]})
        for threshold, path, body in faults:
            assert sim.wait_for(lambda: len(seen) >= threshold, 60), (len(seen), sim.total())
            if body.get("connection") == "one":
                live = [c["id"] for c in sim.live_connections()]
                body = {**body, "connection": live[0]}
            sim.admin(path, body)
        done = lambda: len(sim.acked_event_ids()) == TOTAL and sim.stats()["inFlight"] == 0  # noqa: E731
        assert sim.wait_for(done, 120, interval=0.5), (len(seen), sim.stats()["verdict"], sim.total())
        time.sleep(1.0)  # a late second delivery to the listener would show now
        stats = handler.client.sockeye.stats
    finally:
        handler.close()
    report = sim.stats()
    duplicates = [k for k, n in collections.Counter(seen).items() if n > 1]
    assert not duplicates, f"{len(duplicates)} events reached the listener twice, e.g. {duplicates[:3]}"
    assert len(seen) == TOTAL, (len(seen), report["verdict"])
    assert set(seen) == set(sim.acked_event_ids())
    assert report["lost"] == 0 and report["queued"] == 0 and report["inFlight"] == 0, report["verdict"]
    assert report["total"]["unknownAcks"] == 0, report["total"]
    return stats, report


def test_drops_refreshes_and_too_many_websockets_at_1000_in_flight(start_sim):
    sim = start_sim("--ack-deadline", "2", "--time-scale", "30")
    stats, report = run_under_faults(sim, [
        (2_000, "fault", {"kind": "drop"}),
        (5_000, "disconnect", {"reason": "refresh_requested"}),
        # On one connection: sent to every one, the library backs off 20-55 s with none
        # live (nothing is lost then either, but the test would take a minute).
        (8_000, "disconnect", {"reason": "too_many_websockets", "connection": "one"}),
        (10_000, "fault", {"kind": "drop"}),
    ])
    assert stats.reconnects_lost >= 2 and stats.reconnects_refresh >= 1, stats
    assert stats.reconnects_too_many >= 1, stats


def test_1000_in_flight_without_faults_acks_every_event_once(start_sim):
    sim = start_sim()
    stats, report = run_under_faults(sim, [])
    assert report["total"]["redelivered"] == 0 and report["total"]["duplicateAcks"] == 0, report["total"]
    assert stats.host_acks == TOTAL
