"""wss:// and https:// with the sim's self-signed certificate (created on first start):
slack_sdk's aiohttp client verifies it (the WebClient's `ssl` context, which the socket
also uses, trusts the sim's certificate) — no verification is disabled.

(slack_sdk's builtin client only uses TLS when the port is 443 — `internals.py` treats any
other port as "library testing" and connects in plain text — so it cannot reach a wss://
simulator on a free port; it is covered over ws:// in test_slack_sdk_builtin.py.)"""
import asyncio
import ssl

from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from interop_support import APP_TOKEN, assert_clean_run, inject_mix

TOTAL = 140


def test_aiohttp_client_over_wss(tmp_path, start_sim):
    sim = start_sim("--tls", "--cert-dir", str(tmp_path))
    cert = tmp_path / "cert.pem"
    assert cert.exists() and (tmp_path / "key.pem").exists()
    assert sim.api.startswith("https://")
    trust = ssl.create_default_context(cafile=str(cert))
    seen = []

    async def main():
        client = SocketModeClient(app_token=APP_TOKEN, web_client=AsyncWebClient(base_url=sim.api, ssl=trust), ping_interval=5)

        async def on_request(c, req):
            seen.append(req.envelope_id)
            await c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

        client.socket_mode_request_listeners.append(on_request)
        await asyncio.wait_for(client.connect(), 20)
        try:
            loop = asyncio.get_running_loop()
            await asyncio.wait_for(loop.run_in_executor(None, lambda: sim.wait_for(lambda: sim.live_connections(), timeout=10, what="wss connection")), 20)
            await asyncio.wait_for(loop.run_in_executor(None, inject_mix, sim, TOTAL), 20)
            await asyncio.wait_for(loop.run_in_executor(None, assert_clean_run, sim, TOTAL), 90)
        finally:
            await asyncio.wait_for(client.close(), 20)

    asyncio.run(main())
    assert len(set(seen)) == TOTAL
