"""slack_bolt apps on sockeye.bolt against a real sockeye-sim: the README example as a
process, every listener once per event, ack payloads, Bolt's error semantics, blocking
listeners, and the async handler."""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("slack_bolt")

from slack_bolt import App  # noqa: E402
from slack_bolt.app.async_app import AsyncApp  # noqa: E402
from slack_sdk import WebClient  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402

from sockeye.bolt import AsyncSocketModeHandler, SocketModeHandler  # noqa: E402

from conftest import APP_TOKEN, BOT_TOKEN, HERE  # noqa: E402

EXAMPLE = os.path.join(HERE, "..", "examples", "bolt_app.py")
README = os.path.join(HERE, "..", "README.md")


def inject_getting_started(sim, n):
    """n of each: message "hello", app_mention, /hello, button_click, view_1 submission."""
    sim.inject("message", n, text="hello there")
    sim.inject("app_mention", n)
    sim.inject("slash_command", n, command="/hello")
    sim.inject("block_actions", n, action_id="button_click")
    sim.inject("view_submission", n, callback_id="view_1")


def check_getting_started_answers(sim, n):
    responses = sim.responses()
    commands = [r for r in responses if r["kind"] == "slash_commands"]
    views = [r for r in responses if r["type"] == "view_submission"]
    assert [r["payload"] for r in commands] == [{"text": "Hi <@U0SIMUSR1>!"}] * n, responses
    assert [r["payload"] for r in views] == [{"response_action": "clear"}] * n, responses
    total = sim.total()
    assert total["acked"] == 5 * n and total["responsePayloads"] == 2 * n, total
    assert total["duplicateAcks"] == 0 and total["unknownAcks"] == 0 and total["redelivered"] == 0, total
    assert total["userVisibleFailures"] == 0, total


def test_the_readme_example_runs_unchanged_as_a_process(sim):
    with open(README) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    with open(EXAMPLE) as f:
        assert f.read() in blocks, "README.md must show examples/bolt_app.py verbatim"
    env = dict(os.environ, SLACK_APP_TOKEN=APP_TOKEN, SLACK_BOT_TOKEN=BOT_TOKEN, SOCKEYE_API_URL=sim.api)
    app = subprocess.Popen([sys.executable, EXAMPLE], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env)
    lines, errors = [], []
    for stream, sink in ((app.stdout, lines), (app.stderr, errors)):
        threading.Thread(target=lambda s=stream, k=sink: k.extend(l.rstrip("\n") for l in s), daemon=True).start()
    try:
        assert sim.wait_for(lambda: any("Bolt app is running" in l for l in lines + errors), 30), errors[-20:]
        assert len(sim.live_connections()) == 2  # a pool of two by default
        inject_getting_started(sim, 3)
        assert sim.wait_for(lambda: sim.total()["acked"] == 15, 30), (sim.total(), errors[-20:])
        time.sleep(0.5)  # a second call of any listener would show now
        app.send_signal(signal.SIGTERM)
        assert app.wait(15) == 0, errors[-20:]
    finally:
        if app.poll() is None:
            app.kill()
    calls = [json.loads(l) for l in lines if l.startswith("{")]
    per_listener = collections.Counter(c["listener"] for c in calls)
    assert per_listener == {"message": 3, "app_mention": 3, "command": 3, "action": 3, "view": 3}, calls
    events = [c["id"] for c in calls if c["listener"] in ("message", "app_mention")]
    assert len(set(events)) == 6, "an event reached its listener twice"
    check_getting_started_answers(sim, 3)
    assert not [l for l in errors if "Traceback" in l or "ERROR" in l], errors


def make_app(sim, calls, lock):
    app = App(client=WebClient(token=BOT_TOKEN, base_url=sim.api))

    def record(name, body):
        with lock:
            calls[name].append(body.get("event_id") or body.get("trigger_id"))

    @app.message("hello")
    def on_message(body):
        record("message", body)

    @app.event("app_mention")
    def on_mention(body):
        record("app_mention", body)

    @app.command("/hello")
    def on_command(ack, command, body):
        ack(f"Hi <@{command['user_id']}>!")
        record("command", body)

    @app.action("button_click")
    def on_action(ack, body):
        ack()
        record("action", body)

    @app.view("view_1")
    def on_view(ack, body):
        ack(response_action="clear")
        record("view", body)

    return app


def test_every_listener_fires_once_in_process(sim):
    calls, lock = collections.defaultdict(list), threading.Lock()
    handler = SocketModeHandler(make_app(sim, calls, lock), APP_TOKEN)
    handler.connect()
    try:
        assert handler.client.is_connected()
        inject_getting_started(sim, 20)
        assert sim.wait_for(lambda: sim.total()["acked"] == 100, 30), sim.total()
        time.sleep(0.5)
    finally:
        handler.close()
    assert {k: len(v) for k, v in calls.items()} == {"message": 20, "app_mention": 20, "command": 20,
                                                     "action": 20, "view": 20}
    assert len(set(calls["message"] + calls["app_mention"])) == 40
    check_getting_started_answers(sim, 20)


def test_blocking_and_raising_listeners_do_not_stop_delivery(start_sim, caplog):
    sim = start_sim("--ack-deadline", "1")
    # Bolt runs listeners on its own executor (5 threads unless given one): 5 listeners
    # blocked for good would starve Bolt's other listeners whatever the handler. With room
    # there, 12 blocked listeners (3x the handler's 4 workers) must not stop anything.
    app = App(client=WebClient(token=BOT_TOKEN, base_url=sim.api), listener_executor=ThreadPoolExecutor(32))
    release = threading.Event()
    counts = collections.Counter()
    lock = threading.Lock()

    def count(name):
        with lock:
            counts[name] += 1

    @app.event("reaction_added")
    def blocks(body):  # Events API: Bolt acks first, then runs the listener
        count("blocking")
        release.wait(30)

    @app.event("app_mention")
    def raises_after_ack(body):
        count("raises_after_ack")
        raise RuntimeError("listener failed after Bolt's automatic ack")

    @app.command("/fail")
    def raises_before_ack(ack, body):
        count("raises_before_ack")
        raise RuntimeError("listener failed before ack()")

    @app.message("hello")
    def fine(body):
        count("message")

    handler = SocketModeHandler(app, APP_TOKEN, concurrency=4)
    handler.connect()
    try:
        with caplog.at_level(logging.ERROR):
            sim.inject("reaction_added", 12)  # more blocked listeners than Bolt's 10 listener threads
            sim.inject("app_mention", 5)
            sim.inject("slash_command", 2, command="/fail")
            sim.inject("message", 50, text="hello")
            assert sim.wait_for(lambda: counts["message"] == 50, 20), counts
            assert sim.wait_for(lambda: sim.total()["acked"] == 67, 20), sim.total()
            # the two failed commands were declined: Slack shows the user an error, no retry
            assert sim.wait_for(lambda: sim.total()["userVisibleFailures"] == 2, 20), sim.total()
        assert counts["raises_after_ack"] == 5 and counts["raises_before_ack"] == 2
        assert handler.client.sockeye.stats.nacked == 2
        assert "listener failed after Bolt's automatic ack" in caplog.text
        assert "listener failed before ack()" in caplog.text
    finally:
        release.set()
        handler.close()
    assert counts["blocking"] == 12
    assert sim.total()["redelivered"] == 0


def test_listeners_blocking_inline_hold_only_their_worker(sim):
    # process_before_response=True runs listeners inside app.dispatch, i.e. on the
    # handler's own worker threads: 3 blocked of 4 leave one to carry on.
    app = App(client=WebClient(token=BOT_TOKEN, base_url=sim.api), process_before_response=True)
    release = threading.Event()
    counts = collections.Counter()

    @app.event("reaction_added")
    def blocks(body):
        counts["blocking"] += 1
        release.wait(30)

    @app.message("hello")
    def fine(body):
        counts["message"] += 1

    handler = SocketModeHandler(app, APP_TOKEN, concurrency=4)
    handler.connect()
    try:
        sim.inject("reaction_added", 3)
        assert sim.wait_for(lambda: counts["blocking"] == 3, 10)
        sim.inject("message", 100, text="hello")
        assert sim.wait_for(lambda: counts["message"] == 100, 20), counts
        assert sim.wait_for(lambda: sim.total()["acked"] == 103, 10), sim.total()  # the guard acked the 3
        assert handler.client.sockeye.stats.ack_guarded == 3
    finally:
        release.set()
        handler.close()
    assert sim.total()["redelivered"] == 0 and sim.total()["duplicateAcks"] == 0


def test_an_event_nobody_listens_to_is_declined_and_redelivered_like_bolts_own_handler(start_sim):
    sim = start_sim("--ack-deadline", "0.5")
    app = App(client=WebClient(token=BOT_TOKEN, base_url=sim.api))
    handler = SocketModeHandler(app, APP_TOKEN)
    handler.connect()
    try:
        sim.inject("reaction_added", 1)  # no listener: Bolt answers 404, nothing is acked
        assert sim.wait_for(lambda: handler.client.sockeye.stats.nacked >= 2, 10)
        assert sim.total()["acked"] == 0
    finally:
        handler.close()


def test_the_async_handler_serves_an_async_app(sim):
    calls = collections.Counter()

    async def main():
        app = AsyncApp(client=AsyncWebClient(token=BOT_TOKEN, base_url=sim.api))

        @app.message("hello")
        async def on_message(body):
            calls["message"] += 1

        @app.event("app_mention")
        async def on_mention(body):
            calls["app_mention"] += 1

        @app.command("/hello")
        async def on_command(ack, command):
            await ack(f"Hi <@{command['user_id']}>!")
            calls["command"] += 1

        @app.action("button_click")
        async def on_action(ack):
            await ack()
            calls["action"] += 1

        @app.view("view_1")
        async def on_view(ack):
            await ack(response_action="clear")
            calls["view"] += 1

        handler = AsyncSocketModeHandler(app, APP_TOKEN)
        task = asyncio.get_running_loop().create_task(handler.start_async())
        for _ in range(400):
            if await handler.client.is_connected():
                break
            await asyncio.sleep(0.05)
        threads = threading.active_count()
        inject_getting_started(sim, 10)
        for _ in range(600):
            if sim.total()["acked"] == 50:
                break
            await asyncio.sleep(0.05)
        assert threading.active_count() <= threads  # no thread per event
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(main(), 60))
    assert dict(calls) == {"message": 10, "app_mention": 10, "command": 10, "action": 10, "view": 10}
    check_getting_started_answers(sim, 10)


def test_lazy_listeners_run_after_the_ack(sim):
    # process_before_response + lazy listeners (Bolt's FaaS style): the ack goes out with
    # the command's text, the lazy function runs afterwards on Bolt's own thread.
    app = App(client=WebClient(token=BOT_TOKEN, base_url=sim.api), process_before_response=True)
    done = threading.Event()

    def acknowledge(ack, command):
        ack(f"working on {command['text']}")

    def work(body):
        done.set()

    app.command("/deploy")(ack=acknowledge, lazy=[work])
    handler = SocketModeHandler(app, APP_TOKEN)
    handler.connect()
    try:
        sim.inject("slash_command", 1, command="/deploy", text="api")
        assert done.wait(10), "the lazy listener never ran"
        assert sim.wait_for(lambda: sim.total()["acked"] == 1, 10)
    finally:
        handler.close()
    assert [r["payload"] for r in sim.responses()] == [{"text": "working on api"}]


def test_a_listener_slower_than_the_guard_finds_its_envelope_acked(start_sim, caplog):
    sim = start_sim("--ack-deadline", "3")
    app = App(client=WebClient(token=BOT_TOKEN, base_url=sim.api), process_before_response=True)
    answered = threading.Event()

    @app.command("/slow")
    def slow(ack):
        time.sleep(3.0)
        ack("too late")
        answered.set()

    handler = SocketModeHandler(app, APP_TOKEN)
    handler.connect()
    try:
        sim.inject("slash_command", 1, command="/slow")
        assert answered.wait(10)
        assert sim.wait_for(lambda: sim.total()["acked"] == 1, 5)
        time.sleep(0.5)
        assert handler.client.sockeye.stats.ack_guarded == 1
    finally:
        handler.close()
    total = sim.total()
    assert total["responsePayloads"] == 0 and total["userVisibleFailures"] == 0 and total["duplicateAcks"] == 0, total
