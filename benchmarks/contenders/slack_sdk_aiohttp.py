"""Contender: slack_sdk's aiohttp SocketModeClient (asyncio), acking every envelope from
an async request listener."""
import asyncio
import signal

from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

import peer

peer.require_environment()
received = peer.Counter()


async def main():
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # SSL_CERT_FILE (wss) is honoured by the default SSL context aiohttp creates.
    client = SocketModeClient(app_token=peer.APP_TOKEN, web_client=AsyncWebClient(base_url=peer.API_URL))

    async def on_request(c, req):
        await c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        received.add(peer.event_key(req.payload))

    client.socket_mode_request_listeners.append(on_request)
    await client.connect()
    await stop.wait()
    await client.close()


asyncio.run(main())
peer.report(received)
