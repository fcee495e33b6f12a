"""What a listener's exception does to delivery, and that clients close their log sinks,
against a real sockeye-sim: an ordinary exception is logged and delivery goes on; a
KeyboardInterrupt or SystemExit stops the client cleanly and is raised again to the caller,
never swallowed by a dead thread."""
from __future__ import annotations

import gc
import logging
import threading
import time

import pytest

from sockeye import Client
from sockeye._log import LogSink
from sockeye._workers import Workers

from conftest import APP_TOKEN  # noqa: E402


def wait_until(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_an_exception_escaping_delivery_is_logged_and_the_delivery_thread_goes_on(sim, caplog):
    # One worker thread: if it died, nothing after the first envelope would be delivered.
    client = Client(APP_TOKEN, api_url=sim.api, pool_size=1)
    delivered = []
    lock = threading.Lock()

    def deliver(event):
        with lock:
            first = not delivered
            delivered.append(event.envelope_id)
        if first:
            event.nack()
            raise ValueError("a broken handler")
        event.ack()

    with caplog.at_level(logging.ERROR, logger="sockeye"):
        workers = Workers(client, deliver, 1, logging.getLogger("sockeye"), lambda error: None, lambda: None)
        try:
            assert client.wait_until_running(30)
            sim.inject("message", 5)
            assert wait_until(lambda: sim.total()["acked"] >= 5), sim.total()
        finally:
            client.close()
            workers.join(timeout=10)
    assert "An envelope's delivery raised; delivery goes on" in caplog.text
    assert "ValueError: a broken handler" in caplog.text
    assert workers.fatal is None


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_a_keyboard_interrupt_or_system_exit_in_a_listener_stops_the_client_and_is_raised_again(sim, caplog, interrupt):
    pytest.importorskip("slack_sdk")
    from sockeye.slack_sdk import SocketModeClient

    client = SocketModeClient(app_token=APP_TOKEN, api_url=sim.api, pool_size=1, concurrency=3)
    seen = []

    def listener(c, req):
        seen.append(req.envelope_id)
        raise interrupt()

    client.socket_mode_request_listeners.append(listener)
    with caplog.at_level(logging.ERROR, logger=client.logger.name):
        client.connect()
        sim.inject("message", 1)
        assert wait_until(client.interrupted), "the interrupt was swallowed"
        # The client stops: its connection closes and nothing more is delivered.
        assert sim.wait_for(lambda: len(sim.live_connections()) == 0, 30)
        sim.inject("message", 3)
        time.sleep(0.5)
        assert len(seen) == 1
        with pytest.raises(interrupt):
            client.close()
    assert f"A listener raised {interrupt.__name__}" in caplog.text
    # Raised once: a second close is quiet.
    client.close()
    # The envelope was declined, not acked: Slack redelivers it.
    assert sim.total()["acked"] == 0, sim.total()


def test_bolt_start_raises_a_listeners_keyboard_interrupt_in_its_caller(sim):
    pytest.importorskip("slack_bolt")
    from slack_bolt import App
    from slack_sdk import WebClient
    from sockeye.bolt import SocketModeHandler

    app = App(client=WebClient(token="xoxb-sim-bot-token", base_url=sim.api))
    handler = SocketModeHandler(app, APP_TOKEN, concurrency=2, pool_size=1)

    def interrupts(c, req):
        raise KeyboardInterrupt()

    handler.client.socket_mode_request_listeners.insert(0, interrupts)
    outcome = []

    def run():
        try:
            handler.start()  # not the main thread: no signal handlers, only the loop
            outcome.append("returned")
        except BaseException as error:  # noqa: B902 - what start() raised is the point
            outcome.append(type(error).__name__)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert wait_until(lambda: handler.client.sockeye is not None and handler.client.is_connected())
    sim.inject("message", 1)
    thread.join(30)
    assert outcome == ["KeyboardInterrupt"]


def test_a_client_closes_its_log_sink_on_close_on_exit_and_when_dropped(sim):
    def sinks_back_to(count: int) -> bool:
        return wait_until(lambda: LogSink.open_count() == count, 10)

    gc.collect()
    base = LogSink.open_count()
    client = Client(APP_TOKEN, api_url=sim.api, pool_size=1)
    assert LogSink.open_count() == base + 1
    client.close()
    assert sinks_back_to(base)

    with Client(APP_TOKEN, api_url=sim.api, pool_size=1):
        assert LogSink.open_count() == base + 1
    assert sinks_back_to(base)

    dropped = Client(APP_TOKEN, api_url=sim.api, pool_size=1)
    assert LogSink.open_count() == base + 1
    del dropped
    gc.collect()
    assert sinks_back_to(base), "a client dropped without close() keeps its log sink for ever"
