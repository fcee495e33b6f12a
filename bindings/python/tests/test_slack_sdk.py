"""sockeye.slack_sdk's SocketModeClient (slack_sdk's surface) against a real sockeye-sim:
listeners, send_socket_mode_response with payloads, answers from another thread, raised
listeners nacked, connect / disconnect / connect again, and the asyncio twin."""
from __future__ import annotations

import asyncio
import collections
import threading

import pytest

pytest.importorskip("slack_sdk")

from slack_sdk import WebClient  # noqa: E402
from slack_sdk.socket_mode.request import SocketModeRequest  # noqa: E402
from slack_sdk.socket_mode.response import SocketModeResponse  # noqa: E402

from sockeye.slack_sdk import AsyncSocketModeClient, SocketModeClient  # noqa: E402

from conftest import APP_TOKEN, BOT_TOKEN  # noqa: E402


def test_request_listeners_answer_with_send_socket_mode_response(sim):
    client = SocketModeClient(app_token=APP_TOKEN, web_client=WebClient(token=BOT_TOKEN, base_url=sim.api))
    seen = collections.Counter()
    messages = []
    lock = threading.Lock()

    def process(client: SocketModeClient, req: SocketModeRequest) -> None:
        with lock:
            seen[req.type] += 1
        if req.type == "events_api":
            assert req.retry_attempt == 0 and req.payload["event"]["type"] in ("message", "app_mention")
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        elif req.type == "slash_commands":
            assert req.accepts_response_payload
            client.send_socket_mode_response({"envelope_id": req.envelope_id, "payload": {"text": "from the sdk"}})
        else:  # answered later, from another thread
            threading.Timer(0.2, client.send_socket_mode_response,
                            [SocketModeResponse(envelope_id=req.envelope_id)]).start()

    client.socket_mode_request_listeners.append(process)
    client.message_listeners.append(lambda c, message, raw: messages.append(message["envelope_id"]))
    client.connect()
    try:
        assert client.is_connected()
        assert client.sockeye.ack_mode == "manual"  # listeners answer, also after they returned
        sim.inject("message", 10)
        sim.inject("app_mention", 10)
        sim.inject("slash_command", 3)
        sim.inject("block_actions", 3)
        assert sim.wait_for(lambda: sim.total()["acked"] == 26, 20), sim.total()
    finally:
        client.close()
    assert not client.is_connected()
    assert dict(seen) == {"events_api": 20, "slash_commands": 3, "interactive": 3}
    assert len(set(messages)) == 26
    total = sim.total()
    assert total["responsePayloads"] == 3 and total["duplicateAcks"] == 0 and total["unknownAcks"] == 0, total
    assert [r["payload"] for r in sim.responses()] == [{"text": "from the sdk"}] * 3


def test_a_listener_that_raises_unanswered_gets_the_envelope_redelivered(start_sim):
    sim = start_sim("--ack-deadline", "0.5")
    client = SocketModeClient(app_token=APP_TOKEN, web_client=WebClient(base_url=sim.api))
    attempts = []

    def flaky(client, req):
        attempts.append(req.retry_attempt)
        if req.retry_attempt == 0:
            raise RuntimeError("first delivery fails")
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    client.socket_mode_request_listeners.append(flaky)
    client.connect()
    try:
        sim.inject("app_mention", 1)
        assert sim.wait_for(lambda: sim.total()["acked"] == 1, 10), sim.total()
    finally:
        client.close()
    assert attempts == [0, 1]


def test_disconnect_then_connect_again(sim):
    client = SocketModeClient(app_token=APP_TOKEN, api_url=sim.api, pool_size=1, concurrency=2)
    got = []
    client.socket_mode_request_listeners.append(
        lambda c, req: (got.append(req.envelope_id), c.send_socket_mode_response({"envelope_id": req.envelope_id})))
    client.connect()
    sim.inject("message", 2)
    assert sim.wait_for(lambda: sim.total()["acked"] == 2, 10)
    client.disconnect()
    assert sim.wait_for(lambda: len(sim.live_connections()) == 0, 10)
    client.connect()
    assert len(sim.live_connections()) == 1
    sim.inject("message", 2)
    assert sim.wait_for(lambda: sim.total()["acked"] == 4, 10)
    client.close()
    assert len(set(got)) == 4


def test_the_async_client_runs_coroutine_listeners(sim):
    async def main():
        client = AsyncSocketModeClient(app_token=APP_TOKEN, api_url=sim.api)
        seen = []

        async def process(client, req):
            seen.append(req.envelope_id)
            payload = {"text": "async sdk"} if req.accepts_response_payload else None
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id, payload=payload))

        client.socket_mode_request_listeners.append(process)
        await client.connect()
        assert await client.is_connected()
        sim.inject("message", 20)
        sim.inject("slash_command", 2)
        for _ in range(400):
            if sim.total()["acked"] == 22:
                break
            await asyncio.sleep(0.05)
        await client.close()
        return seen

    seen = asyncio.run(asyncio.wait_for(main(), 60))
    assert len(set(seen)) == 22
    assert sim.total()["acked"] == 22 and sim.total()["responsePayloads"] == 2
