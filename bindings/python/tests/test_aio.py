"""The asyncio API: the eventfd watched with loop.add_reader, no thread per event."""
from __future__ import annotations

import asyncio
import threading

import pytest

from sockeye import errors
from sockeye.aio import AsyncClient

from conftest import APP_TOKEN


def test_async_for_takes_and_acks_every_event_without_threads(sim):
    async def main():
        async with AsyncClient(APP_TOKEN, api_url=sim.api) as client:
            assert await client.wait_until_running(20)
            threads_before = threading.active_count()
            sim.inject("message", 200)
            sim.inject("slash_command", 1)
            seen = []
            async for event in client:
                seen.append(event.event_id or event.envelope_id)
                event.ack({"text": "async"} if event.accepts_response_payload else None)
                if len(seen) == 201:
                    break
            assert threading.active_count() <= threads_before
            assert client.stats.host_acks == 201
            return seen

    seen = asyncio.run(asyncio.wait_for(main(), 60))
    assert len(set(seen)) == 201
    assert sim.wait_for(lambda: sim.total()["acked"] == 201)
    total = sim.total()
    assert total["duplicateAcks"] == 0 and total["unknownAcks"] == 0 and total["responsePayloads"] == 1


def test_a_slow_consumer_leaves_events_in_the_library_queue(sim):
    async def main():
        async with AsyncClient(APP_TOKEN, api_url=sim.api) as client:
            assert await client.wait_until_running(20)
            sim.inject("message", 1500)
            await asyncio.sleep(2)  # nobody takes events: at most 1024 move to Python
            assert len(client._ready) <= 1024
            count = 0
            while count < 1500:
                event = await asyncio.wait_for(client.next_event(), 10)
                event.ack()
                count += 1
            return count

    assert asyncio.run(main()) == 1500
    assert sim.wait_for(lambda: sim.total()["acked"] == 1500)
    assert sim.total()["redelivered"] == 0


def test_iteration_ends_after_stop_and_a_fatal_error_raises(start_sim):
    sim = start_sim()

    async def stop_ends_iteration():
        client = AsyncClient(APP_TOKEN, api_url=sim.api)
        assert await client.wait_until_running(20)
        sim.inject("message", 2)
        got = 0
        async for event in client:
            event.ack()
            got += 1
            if got == 2:
                client.stop()
        await client.close()
        return got

    assert asyncio.run(asyncio.wait_for(stop_ends_iteration(), 30)) == 2
    failing = start_sim("--open-error", "invalid_auth")

    async def fails():
        async with AsyncClient(APP_TOKEN, api_url=failing.api) as client:
            with pytest.raises(errors.ClientFailedError):
                async for _ in client:
                    pass

    asyncio.run(asyncio.wait_for(fails(), 30))
