"""The blocking API against a real sockeye-sim: iteration, acks with payloads, nacks and
Slack's redelivery, typed errors, stats and lifecycle."""
from __future__ import annotations

import inspect
import json
import logging
import select
import threading
import time

import pytest

import sockeye
from sockeye import errors

from conftest import APP_TOKEN


def test_the_iterator_acks_every_event_and_answers_a_slash_command(sim):
    with sockeye.Client(APP_TOKEN, api_url=sim.api) as client:
        assert client.wait_until_running(20)
        sim.inject("message", 5)
        sim.inject("slash_command", 1, command="/deploy", text="api")
        seen = []
        for event in client:
            seen.append(event)
            if event.kind == "slash_commands":
                assert event.accepts_response_payload
                assert event.payload["command"] == "/deploy"
                event.ack({"text": f"deploying {event.payload['text']}"})
            else:
                assert event.kind == "events_api" and event.event_type == "message"
                assert event.event_id and event.team_id and event.retry_attempt == 0
                assert event.payload["event"]["type"] == "message"
                event.ack()
            if len(seen) == 6:
                break
        assert sim.wait_for(lambda: sim.total()["acked"] == 6), sim.total()
        stats = client.stats
        assert stats.host_acks == 6 and stats.delivered == 6 and stats.state == "running", stats
        assert stats.connections_live == 2, stats
    total = sim.total()
    assert total["duplicateAcks"] == 0 and total["unknownAcks"] == 0 and total["responsePayloads"] == 1, total
    answers = [r for r in sim.responses() if r["kind"] == "slash_commands"]
    assert answers and answers[-1]["payload"] == {"text": "deploying api"}, answers
    assert len({e.envelope_id for e in seen}) == 6


def test_a_nacked_event_is_redelivered_by_slack_and_delivered_again(start_sim):
    sim = start_sim("--ack-deadline", "0.5")
    with sockeye.Client(APP_TOKEN, api_url=sim.api, pool_size=1) as client:
        assert client.wait_until_running(20)
        sim.inject("app_mention", 1)
        first = client.next_event(timeout=10)
        assert first is not None and first.retry_attempt == 0
        first.nack()
        assert first.answered == "nack"
        again = client.next_event(timeout=10)
        assert again is not None, "the redelivery never came"
        assert again.event_id == first.event_id and again.retry_attempt == 1, again
        assert again.envelope_id != first.envelope_id
        again.ack()
        assert sim.wait_for(lambda: sim.total()["acked"] == 1)
        assert client.stats.nacked == 1
        assert client.next_event(timeout=1.0) is None, "delivered more than twice"
    assert sim.acked_event_ids() == [first.event_id]


def test_errors_are_typed(sim):
    with pytest.raises(errors.InvalidTokenError) as raised:
        sockeye.Client("xoxb-not-an-app-token", api_url=sim.api)
    assert raised.value.status == -14 and "app-level" in str(raised.value)
    with pytest.raises(errors.InvalidURLError):
        sockeye.Client(APP_TOKEN, api_url="ftp://example.com/")
    with pytest.raises(errors.InvalidOptionError):
        sockeye.Client(APP_TOKEN, api_url=sim.api, pool_size=11)
    with pytest.raises(ValueError):
        sockeye.Client(APP_TOKEN, api_url=sim.api, ack_mode="sometimes")
    with sockeye.Client(APP_TOKEN, api_url=sim.api) as client:
        sim.inject("slash_command", 1)
        event = client.next_event(timeout=10)
        assert event is not None
        with pytest.raises(errors.InvalidPayloadError):
            event.ack("[1, 2]")  # not an object: the event stays unanswered
        with pytest.raises(errors.AckTooLargeError):
            event.ack({"text": "x" * 30000})
        event.ack({"text": "ok"})
        with pytest.raises(errors.AlreadyAnsweredError):
            event.ack()
        with pytest.raises(errors.AlreadyAnsweredError):
            event.nack()
        assert sim.wait_for(lambda: sim.total()["acked"] == 1)
    with pytest.raises(errors.StoppedError):
        client.next_event(timeout=0.1)
    assert issubclass(errors.ClientFailedError, sockeye.SockeyeError)


def test_a_fatal_token_error_ends_iteration_with_client_failed(start_sim):
    sim = start_sim("--open-error", "invalid_auth")
    with sockeye.Client(APP_TOKEN, api_url=sim.api) as client:
        with pytest.raises(errors.ClientFailedError) as raised:
            for _ in client:
                pass
        assert "invalid_auth" in str(raised.value)
        assert client.state == "failed"


def test_close_drains_and_ends_iteration_in_other_threads(sim):
    client = sockeye.Client(APP_TOKEN, api_url=sim.api)
    assert client.wait_until_running(20)
    sim.inject("message", 3)
    taken = []
    ended = threading.Event()

    def consume():
        for event in client:
            event.ack()
            taken.append(event.event_id)
        ended.set()

    threading.Thread(target=consume, daemon=True).start()
    assert sim.wait_for(lambda: len(taken) == 3, 10)
    client.stop()
    assert ended.wait(10), "iteration did not end after stop()"
    client.close()
    assert client.closed
    assert sim.wait_for(lambda: sim.total()["acked"] == 3)


def test_the_eventfd_is_readable_while_events_are_queued(sim):
    with sockeye.Client(APP_TOKEN, api_url=sim.api) as client:
        assert client.wait_until_running(20)
        fd = client.fileno()
        assert select.select([fd], [], [], 0.2)[0] == []
        sim.inject("reaction_added", 2)
        assert select.select([fd], [], [], 10)[0] == [fd]
        events = []
        deadline = time.time() + 10
        while len(events) < 2 and time.time() < deadline:
            event = client.next_event_nowait()
            if event is None:
                select.select([fd], [], [], 1)
                continue
            events.append(event)
            event.ack()
        assert [e.event_type for e in events] == ["reaction_added", "reaction_added"]
        assert client.next_event_nowait() is None


def test_after_handler_mode_acks_on_release_and_the_guard_acks_in_manual_mode(start_sim):
    sim = start_sim("--ack-deadline", "3")
    with sockeye.Client(APP_TOKEN, api_url=sim.api, ack_mode="after_handler") as client:
        sim.inject("message", 1)
        with client.next_event(timeout=10) as event:
            assert event.event_type == "message"
        assert sim.wait_for(lambda: sim.total()["acked"] == 1, 5)
    with sockeye.Client(APP_TOKEN, api_url=sim.api, ack_mode="manual", ack_guard_ms=300) as client:
        sim.inject("message", 1)
        event = client.next_event(timeout=10)
        assert event is not None  # held, never answered: the guard acks it
        assert sim.wait_for(lambda: sim.total()["acked"] == 2, 5)
        assert client.stats.ack_guarded == 1
        event.release()
    assert sim.total()["redelivered"] == 0


def test_the_default_ack_mode_is_after_handler_as_in_the_swift_and_c_apis(sim):
    # Swift: SocketModeOptions.ackMode = .afterHandler; C: ack_mode 0 is SOCKEYE_ACK_AFTER_HANDLER.
    assert inspect.signature(sockeye.Client).parameters["ack_mode"].default == "after_handler"
    # The ack guard off: only the release can ack an event left unanswered.
    with sockeye.Client(APP_TOKEN, api_url=sim.api, ack_guard_ms=-1) as client:
        assert client.ack_mode == "after_handler"
        sim.inject("message", 1)
        with client.next_event(timeout=10) as event:
            assert event.event_type == "message"
        assert sim.wait_for(lambda: sim.total()["acked"] == 1, 10)
        assert client.stats.ack_guarded == 0
    # The same in manual mode is not acked (Slack would redeliver it).
    with sockeye.Client(APP_TOKEN, api_url=sim.api, ack_mode="manual", ack_guard_ms=-1) as client:
        sim.inject("message", 1)
        with client.next_event(timeout=10) as event:
            assert event.event_type == "message"
        time.sleep(1.0)
        assert sim.total()["acked"] == 1, sim.total()


def test_stats_and_version(sim):
    assert sockeye.library_version().count(".") == 2
    with sockeye.Client(APP_TOKEN, api_url=sim.api, pool_size=3) as client:
        assert client.wait_until_running(20, connections=3)
        stats = client.stats
        assert stats.connections_live == 3 and stats.connections_target == 3
        assert json.loads(json.dumps(stats.as_dict()))["state"] == "running"


def test_library_log_lines_reach_the_python_logger(sim, caplog):
    with caplog.at_level(logging.INFO, logger="sockeye"):
        with sockeye.Client(APP_TOKEN, api_url=sim.api, pool_size=1) as client:
            assert client.wait_until_running(20)
            sim.admin("fault", {"kind": "drop"})
            assert sim.wait_for(lambda: client.stats.reconnects_lost >= 1, 10)
            assert sim.wait_for(lambda: any(r.levelno == logging.WARNING and r.name == "sockeye"
                                            for r in caplog.records), 5), caplog.text
    assert "xapp-1-A0SIMAPP01-1-simsecret" not in caplog.text  # the token is never logged


def test_next_events_takes_a_batch_with_every_field(start_sim):
    sim = start_sim()
    with sockeye.Client(APP_TOKEN, api_url=sim.api, pool_size=1, ack_mode="manual") as client:
        assert client.wait_until_running(20)
        with pytest.raises(ValueError):
            client.next_events(0)
        with pytest.raises(ValueError):
            client.next_events(65)
        assert client.next_events(8, timeout=0) == []
        sim.inject("message", 19)
        sim.inject("slash_command", 1, command="/deploy", text="api")
        deadline = time.monotonic() + 20
        while client.stats.queued < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert client.stats.queued == 20, client.stats
        first = client.next_events(8, timeout=0)
        assert len(first) == 8
        rest = []
        while len(rest) < 12 and time.monotonic() < deadline:
            rest += client.next_events(64, timeout=1)
        events = first + rest
        assert len(events) == 20 and client.stats.queued == 0
        for event in events:
            payload = event.payload
            if event.kind == "slash_commands":
                assert event.type == "slash_commands" and event.accepts_response_payload
                assert payload["command"] == "/deploy" and event.team_id == payload["team_id"]
                assert event.event_id is None and event.event_type is None
                event.ack({"text": "ok"})
            else:
                assert event.type == "events_api" and not event.accepts_response_payload
                assert event.event_id == payload["event_id"] and event.team_id == payload["team_id"]
                assert event.event_type == payload["event"]["type"] == "message"
                assert event.payload_type == payload["type"] == "event_callback"
                assert event.retry_attempt == 0 and event.retry_reason == ""  # as Slack sends it
                event.ack()
        assert len({event.envelope_id for event in events}) == 20
        assert sim.wait_for(lambda: sim.total()["acked"] == 20), sim.total()
    total = sim.total()
    assert total["duplicateAcks"] == 0 and total["unknownAcks"] == 0 and total["responsePayloads"] == 1, total


def test_leaving_the_loop_nacks_what_the_iterator_took_and_did_not_yield(start_sim):
    # after_handler mode: a release acks, so events taken in a batch and never yielded
    # must be nacked (Slack redelivers them), not acked unseen.
    sim = start_sim("--ack-deadline", "1")
    with sockeye.Client(APP_TOKEN, api_url=sim.api, pool_size=1, ack_guard_ms=-1) as client:
        assert client.wait_until_running(20)
        sim.inject("message", 30)
        deadline = time.monotonic() + 20
        while client.stats.queued < 30 and time.monotonic() < deadline:
            time.sleep(0.02)
        seen = []
        iterator = iter(client)
        seen.append(next(iterator))  # a batch of 1 first: the loop's pace is unknown
        seen.append(next(iterator))  # the next batch takes the rest
        seen[0].release()
        seen[1].release()
        iterator.close()
        # The counters are published by the library's thread after its next round of work.
        while client.stats.nacked < 28 and time.monotonic() < deadline:
            time.sleep(0.02)
        stats = client.stats
        assert stats.nacked == 28 and stats.queued == 0, stats
        assert sim.wait_for(lambda: sim.total()["acked"] == 2), sim.total()
        # Slack redelivers the 28 after its deadline; they come again, once each.
        again = []
        while len(again) < 28 and time.monotonic() < deadline + 20:
            for event in client.next_events(64, timeout=1):
                assert event.retry_attempt == 1
                again.append(event.event_id)
                event.ack()
        assert len(again) == 28 and not set(again) & {event.event_id for event in seen}
        assert sim.wait_for(lambda: sim.total()["acked"] == 30), sim.total()
