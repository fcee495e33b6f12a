"""Contender: a slack_bolt AsyncApp with one event listener, served by Bolt's
AsyncSocketModeHandler (slack_sdk's aiohttp client underneath). Bolt acks each event after
its listener."""
import asyncio
import signal

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

import peer

peer.require_environment()
received = peer.Counter()


async def main():
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app = AsyncApp(client=AsyncWebClient(base_url=peer.API_URL, token=peer.BOT_TOKEN))

    @app.event("message")
    async def on_message(ack, body):
        await ack()
        received.add(peer.event_key(body))

    handler = AsyncSocketModeHandler(app, peer.APP_TOKEN)
    await handler.connect_async()
    await stop.wait()
    await handler.close_async()


asyncio.run(main())
peer.report(received)
