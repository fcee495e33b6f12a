"""slack_sdk's aiohttp SocketModeClient against sockeye-sim: 1 000 envelopes, all acked."""
import asyncio

from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from interop_support import APP_TOKEN, assert_clean_run, inject_mix

TOTAL = 1000


def test_aiohttp_client_acks_every_envelope(sim):
    seen = []

    async def main():
        client = SocketModeClient(app_token=APP_TOKEN, web_client=AsyncWebClient(base_url=sim.api), ping_interval=5)

        async def on_request(c: SocketModeClient, req: SocketModeRequest):
            seen.append((req.type, req.envelope_id))
            await c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

        client.socket_mode_request_listeners.append(on_request)
        await client.connect()
        try:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, lambda: sim.wait_for(lambda: sim.live_connections(), timeout=10, what="connection"))
            await loop.run_in_executor(None, inject_mix, sim, TOTAL)
            await loop.run_in_executor(None, assert_clean_run, sim, TOTAL)
            for _ in range(200):
                if len(seen) >= TOTAL:
                    break
                await asyncio.sleep(0.05)
        finally:
            await client.close()

    asyncio.run(main())
    assert len(seen) == TOTAL
    assert len({eid for _, eid in seen}) == TOTAL
