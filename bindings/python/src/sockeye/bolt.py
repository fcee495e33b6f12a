"""Drop-in Socket Mode handlers for slack_bolt apps, on libsockeye.

Change one import::

    from slack_bolt.adapter.socket_mode import SocketModeHandler   # before
    from sockeye.bolt import SocketModeHandler                     # after

:class:`SocketModeHandler` serves an ``App`` (threads), :class:`AsyncSocketModeHandler` an
``AsyncApp`` (asyncio), with Bolt's ``start()``, ``connect()``, ``disconnect()``,
``close()`` and, for the async one, ``start_async()``, ``connect_async()``,
``disconnect_async()``, ``close_async()``.

Acks follow Bolt: Bolt's ``dispatch`` turns each envelope into a ``BoltRequest`` (mode
``socket_mode``) and its ``BoltResponse`` into the ack — with the response body as the
ack's payload for slash commands and view submissions (``ack(text)``,
``ack(response_action="errors", errors=…)``). When Bolt's answer is not a 200 (a listener
raised before calling ``ack()``, or no listener matched) nothing is acked and the envelope
is *declined* (nacked), which is what Bolt's own handler does by not acking: Slack
redelivers Events API events (and the library hands the redelivery to the app again);
slash commands and interactions are not retried by Slack. An exception raised after
``ack()`` (always the case for events: Bolt acks them before running the listener) is
logged by Bolt's error handler and the envelope stays acked.

Requires ``slack_bolt`` (``pip install 'sockeye-slack[bolt]'``).
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from time import time
from typing import Any, Dict, Optional

from slack_bolt import App
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_bolt.util.utils import get_boot_message
from slack_sdk.socket_mode.request import SocketModeRequest

from .slack_sdk import AsyncSocketModeClient, SocketModeClient

__all__ = ["SocketModeHandler", "AsyncSocketModeHandler"]


class SocketModeHandler:
    """Serves a slack_bolt ``App`` over Socket Mode through libsockeye.

    Same arguments as ``slack_bolt.adapter.socket_mode.SocketModeHandler``; ``concurrency``
    is the number of threads that run ``app.dispatch`` (each takes envelopes from the
    library's queue itself), and these keyword-only extras exist:

    Args:
        pool_size: Socket Mode connections kept open (default 2; Slack allows 10 per app).
        api_url: the Web API base URL; default ``$SOCKEYE_API_URL``, else ``web_client``'s
            (``app.client``'s) ``base_url``.
        ca_file: PEM CA file to trust for ``https://``/``wss://``.

    ``ping_interval``, ``receive_buffer_size``, ``auto_reconnect_enabled``, ``trace_*`` and
    ``proxy_headers`` are accepted and ignored: the library always reconnects, answers pings
    and refreshes connections before Slack closes them.
    """

    app: App
    app_token: str
    client: SocketModeClient

    def __init__(
        self,
        app: App,
        app_token: Optional[str] = None,
        logger: Optional[logging.Logger] = None,
        web_client: Optional[Any] = None,
        proxy: Optional[str] = None,
        proxy_headers: Optional[Dict[str, str]] = None,
        auto_reconnect_enabled: bool = True,
        trace_enabled: bool = False,
        all_message_trace_enabled: bool = False,
        ping_pong_trace_enabled: bool = False,
        ping_interval: float = 10,
        receive_buffer_size: int = 1024,
        concurrency: int = 10,
        *,
        pool_size: int = 2,
        api_url: Optional[str] = None,
        ca_file: Optional[str] = None,
    ) -> None:
        self.app = app
        self.app_token = app_token or os.environ["SLACK_APP_TOKEN"]
        self.client = SocketModeClient(
            app_token=self.app_token,
            logger=logger if logger is not None else app.logger,
            web_client=web_client if web_client is not None else app.client,
            proxy=proxy if proxy is not None else app.client.proxy,
            concurrency=concurrency,
            api_url=api_url,
            pool_size=pool_size,
            ca_file=ca_file,
        )
        self.client.socket_mode_request_listeners.append(self.handle)

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:
        """Runs one envelope through the app and acks it with Bolt's response (or declines
        it when Bolt's answer is not a 200)."""
        start = time()
        bolt_resp = run_bolt_app(self.app, req)
        send_response(client, req, bolt_resp, start)
        if bolt_resp.status != 200:
            client._decline(req.envelope_id)

    def connect(self) -> None:
        """Opens the connection pool and starts the workers; returns once a connection is
        live (or after 10 s, still trying)."""
        self.client.connect()

    def disconnect(self) -> None:
        """Drains and closes the connections (envelopes received are still handled)."""
        self.client.disconnect()

    def close(self) -> None:
        """Disconnects and frees the client."""
        self.client.close()

    def start(self) -> None:
        """Connects, prints Bolt's boot message and blocks the calling thread until
        SIGINT/SIGTERM (then closes, draining)."""
        self.connect()
        if self.app.logger.level > logging.INFO:
            print(get_boot_message())
        else:
            self.app.logger.info(get_boot_message())
        stop = threading.Event()
        previous = {}
        if threading.current_thread() is threading.main_thread():
            previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
            for sig in previous:
                signal.signal(sig, lambda *_: stop.set())
        try:
            # A listener's KeyboardInterrupt or SystemExit stops the client; close() below
            # raises it again here, in the caller's thread.
            while not stop.wait(0.5) and not self.client.interrupted():
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.close()


class AsyncSocketModeHandler:
    """Serves a slack_bolt ``AsyncApp`` over Socket Mode through libsockeye, on the
    running asyncio loop (no threads: the library's eventfd is watched with
    ``loop.add_reader``, each envelope runs in a task).

    Same arguments as ``slack_bolt.adapter.socket_mode.async_handler.AsyncSocketModeHandler``
    plus the keyword-only ``pool_size``, ``api_url`` and ``ca_file`` of
    :class:`SocketModeHandler`.
    """

    client: AsyncSocketModeClient

    def __init__(
        self,
        app: Any,
        app_token: Optional[str] = None,
        logger: Optional[logging.Logger] = None,
        web_client: Optional[Any] = None,
        proxy: Optional[str] = None,
        ping_interval: float = 10,
        loop: Optional[Any] = None,
        *,
        pool_size: int = 2,
        api_url: Optional[str] = None,
        ca_file: Optional[str] = None,
    ) -> None:
        self.app = app
        self.app_token = app_token or os.environ["SLACK_APP_TOKEN"]
        self.client = AsyncSocketModeClient(
            app_token=self.app_token,
            logger=logger if logger is not None else app.logger,
            web_client=web_client if web_client is not None else app.client,
            proxy=proxy,
            api_url=api_url,
            pool_size=pool_size,
            ca_file=ca_file,
        )
        self.client.socket_mode_request_listeners.append(self.handle)

    async def handle(self, client: AsyncSocketModeClient, req: SocketModeRequest) -> None:
        """Runs one envelope through the app and acks it with Bolt's response (or declines
        it when Bolt's answer is not a 200)."""
        # Imported here: Bolt's async internals need aiohttp, which sync apps may not have.
        from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response

        start = time()
        if isinstance(self.app, App):
            bolt_resp = run_bolt_app(self.app, req)
        else:
            bolt_resp = await run_async_bolt_app(self.app, req)
        await send_async_response(client, req, bolt_resp, start)
        if bolt_resp.status != 200:
            client._decline(req.envelope_id)

    async def connect_async(self) -> None:
        """Opens the connection pool on the running loop."""
        await self.client.connect()

    async def disconnect_async(self) -> None:
        """Drains and closes the connections."""
        await self.client.disconnect()

    async def close_async(self) -> None:
        """Disconnects and frees the client."""
        await self.client.close()

    async def start_async(self) -> None:
        """Connects, logs Bolt's boot message and serves until cancelled (then closes)."""
        import asyncio

        await self.connect_async()
        if self.app.logger.level > logging.INFO:
            print(get_boot_message())
        else:
            self.app.logger.info(get_boot_message())
        try:
            await asyncio.sleep(float("inf"))
        finally:
            await self.close_async()
