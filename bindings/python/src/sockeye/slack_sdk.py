"""Drop-in replacements for slack_sdk's Socket Mode clients, on libsockeye.

:class:`SocketModeClient` has the surface of ``slack_sdk.socket_mode.SocketModeClient``
(``socket_mode_request_listeners``, ``message_listeners``, ``send_socket_mode_response``,
``connect``, ``disconnect``, ``close``, ``is_connected``); :class:`AsyncSocketModeClient`
that of ``slack_sdk.socket_mode.aiohttp.SocketModeClient`` (async listeners). Underneath:
a pool of connections (two by default), de-duplication of Slack's redeliveries,
make-before-break refreshes and reconnection, all in libsockeye.

Answers. A listener answers an envelope with ``client.send_socket_mode_response(
SocketModeResponse(envelope_id=…, payload=…))`` (or a dict), from any thread and also
after it returned. An envelope no listener answered is acked empty by the library's ack
guard shortly before Slack's 3 s deadline; one whose listener *raised* without answering
is declined (nacked) so that Slack redelivers it, as it would to slack_sdk's own client
that never acked. Requires the ``slack_sdk`` package (``pip install 'sockeye-slack[slack]'``).
"""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Union

from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web import WebClient

from ._workers import Workers
from .client import Client, Event
from .errors import SockeyeError, StoppedError

__all__ = ["SocketModeClient", "AsyncSocketModeClient", "request_of", "message_of"]

_DEFAULT_API = "https://slack.com/api/"
# How long an envelope nobody answered is kept for a late send_socket_mode_response; the
# ack guard has acked it long before, so a later answer only gets a warning.
_KEEP_UNANSWERED_S = 10.0


def request_of(event: Event) -> SocketModeRequest:
    """The :class:`SocketModeRequest` slack_sdk would have built for ``event``."""
    return SocketModeRequest(
        type=event.type,
        envelope_id=event.envelope_id,
        payload=event.payload,
        accepts_response_payload=event.accepts_response_payload,
        # Slack sends retry_attempt (0 first) only with events_api envelopes.
        retry_attempt=event.retry_attempt if event.kind == "events_api" or event.retry_attempt else None,
        retry_reason=event.retry_reason,
    )


def message_of(event: Event) -> dict:
    """The envelope as the dict slack_sdk's ``message_listeners`` receive."""
    message = {"type": event.type, "envelope_id": event.envelope_id, "payload": event.payload,
               "accepts_response_payload": event.accepts_response_payload}
    if event.kind == "events_api" or event.retry_attempt:
        message["retry_attempt"] = event.retry_attempt
    if event.retry_reason is not None:
        message["retry_reason"] = event.retry_reason
    return message


def _api_url(explicit: Optional[str], web_client: Any) -> Optional[str]:
    """The Web API base URL: explicit, else $SOCKEYE_API_URL, else the web client's."""
    if explicit:
        return explicit
    if os.environ.get("SOCKEYE_API_URL"):
        return os.environ["SOCKEYE_API_URL"]
    base = getattr(web_client, "base_url", None)
    return base if base and base != _DEFAULT_API else None


def _response_payload(response: Union[Dict[str, Any], SocketModeResponse]) -> tuple:
    """(envelope_id, payload dict or None) of a response in either of slack_sdk's forms."""
    if isinstance(response, SocketModeResponse):
        return response.envelope_id, response.payload
    return response.get("envelope_id"), response.get("payload")


class _Pending:
    """Envelopes handed to listeners and not answered yet, by envelope id."""

    def __init__(self) -> None:
        self._events: "collections.OrderedDict[str, tuple]" = collections.OrderedDict()
        self._lock = threading.Lock()

    def add(self, event: Event) -> None:
        with self._lock:
            self._events[event.envelope_id] = (event, time.monotonic())

    def pop(self, envelope_id: Optional[str]) -> Optional[Event]:
        with self._lock:
            entry = self._events.pop(envelope_id, None) if envelope_id else None
        return entry[0] if entry else None

    def expire(self, older_than: float) -> None:
        """Releases the envelopes received more than ``older_than`` seconds ago."""
        limit = time.monotonic() - older_than
        expired = []
        with self._lock:
            while self._events:
                envelope_id, (event, since) = next(iter(self._events.items()))
                if since > limit:
                    break
                self._events.popitem(last=False)
                expired.append(event)
        for event in expired:
            event.release()

    def clear(self) -> None:
        with self._lock:
            events = [entry[0] for entry in self._events.values()]
            self._events.clear()
        for event in events:
            event.release()


class _Responder:
    """What both clients share: the pending table and ``send_socket_mode_response``."""

    logger: logging.Logger

    def _init_responder(self) -> None:
        self._pending = _Pending()

    def _answer(self, response: Union[Dict[str, Any], SocketModeResponse]) -> None:
        envelope_id, payload = _response_payload(response)
        event = self._pending.pop(envelope_id)
        if event is None:
            self.logger.warning(f"No pending envelope {envelope_id!r} to answer (answered already, or too late)")
            return
        try:
            event.ack(payload)
        except SockeyeError as error:
            self.logger.warning(f"The ack of {envelope_id} was not sent: {error}")

    def _decline(self, envelope_id: str) -> bool:
        """Nacks a pending envelope (Slack redelivers it); False when already answered."""
        event = self._pending.pop(envelope_id)
        if event is None:
            return False
        try:
            event.nack()
        except SockeyeError:
            return False
        return True

    def _settle(self, event: Event, raised: bool) -> None:
        """After the listeners: decline an envelope whose listener raised unanswered."""
        if raised and self._pending.pop(event.envelope_id) is not None:
            try:
                event.nack()
            except SockeyeError:
                pass


class SocketModeClient(_Responder):
    """slack_sdk's ``SocketModeClient`` surface on libsockeye (threads, no asyncio).

    Listeners run on up to ``concurrency`` threads: one takes envelopes from the library's
    queue and runs them; the others are woken only while every running one has been busy
    with one envelope for more than 20 ms and envelopes are waiting (measured: fewer
    threads contending for the GIL is what makes Python fast here). A listener that blocks
    holds one thread, the others keep delivering.

    Args:
        app_token: the app-level token (``xapp-…``).
        logger: default ``logging.getLogger("slack_sdk.socket_mode.sockeye")``.
        web_client: its ``base_url`` is the Web API used for ``apps.connections.open``.
        proxy: an ``http://`` proxy URL.
        concurrency: worker threads running listeners (default 10).
        api_url: overrides the Web API base URL (also ``$SOCKEYE_API_URL``).
        pool_size: Socket Mode connections kept open (default 2).
        ca_file: PEM CA file to trust for ``wss://``/``https://``.
        connect_timeout: how long :meth:`connect` waits for the first live connection.

    The other slack_sdk arguments (``auto_reconnect_enabled``, ``trace_enabled``,
    ``ping_interval``, ``receive_buffer_size`` …) are accepted and ignored: the library
    always reconnects and answers pings itself.
    """

    def __init__(
        self,
        app_token: str,
        logger: Optional[logging.Logger] = None,
        web_client: Optional[WebClient] = None,
        auto_reconnect_enabled: bool = True,
        trace_enabled: bool = False,
        all_message_trace_enabled: bool = False,
        ping_pong_trace_enabled: bool = False,
        ping_interval: float = 10,
        receive_buffer_size: int = 1024,
        concurrency: int = 10,
        proxy: Optional[str] = None,
        proxy_headers: Optional[Dict[str, str]] = None,
        on_message_listeners: Optional[List[Callable[[str], None]]] = None,
        on_error_listeners: Optional[List[Callable[[Exception], None]]] = None,
        on_close_listeners: Optional[List[Callable[[int, Optional[str]], None]]] = None,
        *,
        api_url: Optional[str] = None,
        pool_size: int = 2,
        ca_file: Optional[str] = None,
        connect_timeout: float = 10.0,
    ) -> None:
        self.app_token = app_token
        self.logger = logger or logging.getLogger("slack_sdk.socket_mode.sockeye")
        self.web_client = web_client or WebClient()
        self.proxy = proxy
        self.concurrency = max(1, concurrency)
        self.api_url = _api_url(api_url, self.web_client)
        self.pool_size = pool_size
        self.ca_file = ca_file
        self.connect_timeout = connect_timeout
        self.message_listeners: List[Callable[..., None]] = []
        self.socket_mode_request_listeners: List[Callable[..., None]] = []
        self.on_message_listeners = on_message_listeners or []
        self.on_error_listeners = on_error_listeners or []
        self.on_close_listeners = on_close_listeners or []
        self.closed = False
        self.sockeye: Optional[Client] = None
        self._workers: Optional[Workers] = None
        #: a KeyboardInterrupt, SystemExit … a listener raised: delivery stopped, and
        #: ``disconnect()``/``close()`` raise it again once
        self.listener_interrupt: Optional[BaseException] = None
        self._lock = threading.Lock()
        self._init_responder()

    # --- lifecycle ---------------------------------------------------------------------

    def connect(self) -> None:
        """Starts the connection pool and the workers, and waits (up to
        ``connect_timeout``) for the first live connection. Calling it while connected
        does nothing."""
        with self._lock:
            if self.sockeye is not None:
                return
            self.closed = False
            # manual: listeners answer with send_socket_mode_response, also from another thread
            # after they returned; what nobody answered is the ack guard's (see the module doc).
            self.sockeye = Client(self.app_token, api_url=self.api_url, pool_size=self.pool_size,
                                  ack_mode="manual", proxy_url=self.proxy, ca_file=self.ca_file,
                                  logger=self.logger)
            client = self.sockeye
            self._workers = Workers(client, self._deliver, self.concurrency, self.logger, self._on_error,
                                    lambda: self._pending.expire(_KEEP_UNANSWERED_S))
        if not client.wait_until_running(self.connect_timeout):
            self.logger.warning(f"No Socket Mode connection after {self.connect_timeout:g} s; still trying")

    def connect_to_new_endpoint(self, force: bool = False) -> None:
        """Connects if not connected. (The library replaces connections on its own.)"""
        self.connect()

    def is_connected(self) -> bool:
        """True while at least one connection is live."""
        client = self.sockeye
        try:
            return client is not None and client.stats.connections_live > 0
        except SockeyeError:
            return False

    def disconnect(self) -> None:
        """Drains and closes the connections: envelopes already received are still given
        to the listeners and may be answered for up to 3 s; new ones are left to Slack to
        redeliver. Waits for the workers. :meth:`connect` may be called again."""
        with self._lock:
            client, self.sockeye = self.sockeye, None
            workers, self._workers = self._workers, None
        if client is not None:
            client.stop(drain=True)
            if workers is not None:
                workers.join(timeout=5)
                if workers.fatal is not None and self.listener_interrupt is None:
                    self.listener_interrupt = workers.fatal
            client.close()
            self._pending.clear()
            for listener in self.on_close_listeners:
                try:
                    listener(1000, None)
                except Exception as error:
                    self.logger.exception(f"Failed to run an on_close listener: {error}")
        interrupt, self.listener_interrupt = self.listener_interrupt, None
        if interrupt is not None:
            raise interrupt

    def interrupted(self) -> bool:
        """True once a listener raised a ``BaseException`` that is not an ``Exception``
        (``KeyboardInterrupt``, ``SystemExit``): delivery stopped and the client is
        draining; :meth:`disconnect` or :meth:`close` raises it again."""
        workers = self._workers
        return self.listener_interrupt is not None or (workers is not None and workers.fatal is not None)

    def close(self) -> None:
        """Disconnects for good."""
        self.closed = True
        self.disconnect()

    # --- answers -----------------------------------------------------------------------

    def send_socket_mode_response(self, response: Union[Dict[str, Any], SocketModeResponse]) -> None:
        """Acks the envelope the response names, with its payload if any. Thread-safe."""
        self._answer(response)

    def send_message(self, message: str) -> None:
        """Only acks can be sent: a JSON ``{"envelope_id": …, "payload": …}`` is treated as
        :meth:`send_socket_mode_response`; anything else raises ``ValueError``."""
        data = json.loads(message)
        if not isinstance(data, dict) or "envelope_id" not in data:
            raise ValueError("sockeye sends only acks ({\"envelope_id\": …}) over Socket Mode")
        self._answer(data)

    # --- the workers -------------------------------------------------------------------

    def _on_error(self, error: Exception) -> None:
        for listener in self.on_error_listeners:
            try:
                listener(error)
            except Exception:
                self.logger.exception("Failed to run an on_error listener")

    def _deliver(self, event: Event) -> None:
        self._pending.add(event)
        raised = False
        try:
            if self.message_listeners or self.on_message_listeners:
                message = message_of(event)
                raw = json.dumps(message)
                for on_message in self.on_message_listeners:
                    try:
                        on_message(raw)
                    except Exception as error:
                        self.logger.exception(f"Failed to run an on_message listener: {error}")
                for listener in self.message_listeners:
                    try:
                        listener(self, message, raw)
                    except Exception as error:
                        raised = True
                        self.logger.exception(f"Failed to run a message listener: {error}")
            if self.socket_mode_request_listeners:
                request = request_of(event)
                for listener in self.socket_mode_request_listeners:
                    try:
                        listener(self, request)
                    except Exception as error:
                        raised = True
                        self.logger.exception(f"Failed to run a request listener: {error}")
        except Exception as error:  # e.g. a payload that is not a JSON object
            raised = True
            self.logger.exception(f"Failed to run message listeners: {error}")
        self._settle(event, raised)


class AsyncSocketModeClient(_Responder):
    """slack_sdk's asyncio ``SocketModeClient`` surface (``slack_sdk.socket_mode.aiohttp``)
    on libsockeye: listeners are coroutine functions ``async def listener(client, req)``,
    each envelope runs in a task of its own on the running loop; the library's eventfd is
    watched with ``loop.add_reader``. Arguments as :class:`SocketModeClient` (without
    ``concurrency``); ``send_socket_mode_response`` is a coroutine."""

    def __init__(
        self,
        app_token: str,
        logger: Optional[logging.Logger] = None,
        web_client: Optional[Any] = None,
        proxy: Optional[str] = None,
        auto_reconnect_enabled: bool = True,
        ping_interval: float = 10,
        trace_enabled: bool = False,
        loop: Optional[asyncio.AbstractEventLoop] = None,
        *,
        api_url: Optional[str] = None,
        pool_size: int = 2,
        ca_file: Optional[str] = None,
        connect_timeout: float = 10.0,
        **_ignored: Any,
    ) -> None:
        self.app_token = app_token
        self.logger = logger or logging.getLogger("slack_sdk.socket_mode.sockeye")
        self.web_client = web_client
        self.proxy = proxy
        self.api_url = _api_url(api_url, web_client)
        self.pool_size = pool_size
        self.ca_file = ca_file
        self.connect_timeout = connect_timeout
        self.message_listeners: List[Callable[..., Any]] = []
        self.socket_mode_request_listeners: List[Callable[..., Any]] = []
        self.closed = False
        self.sockeye: Optional[Any] = None
        self._pump: Optional[asyncio.Task] = None
        self._tasks: set = set()
        self._init_responder()

    async def connect(self) -> None:
        """Starts the pool on the running loop and waits for the first live connection."""
        from .aio import AsyncClient

        if self.sockeye is not None:
            return
        self.closed = False
        self.sockeye = AsyncClient(self.app_token, api_url=self.api_url, pool_size=self.pool_size,
                                   ack_mode="manual", proxy_url=self.proxy, ca_file=self.ca_file,
                                   logger=self.logger)
        self._pump = asyncio.get_running_loop().create_task(self._run(self.sockeye))
        if not await self.sockeye.wait_until_running(self.connect_timeout):
            self.logger.warning(f"No Socket Mode connection after {self.connect_timeout:g} s; still trying")

    async def connect_to_new_endpoint(self, force: bool = False) -> None:
        """Connects if not connected. (The library replaces connections on its own.)"""
        await self.connect()

    async def is_connected(self) -> bool:
        """True while at least one connection is live."""
        try:
            return self.sockeye is not None and self.sockeye.stats.connections_live > 0
        except SockeyeError:
            return False

    async def disconnect(self) -> None:
        """Drains (envelopes received are still handled), then closes the connections."""
        client, self.sockeye = self.sockeye, None
        if client is None:
            return
        client.stop(drain=True)
        if self._pump is not None:
            try:
                await asyncio.wait_for(self._pump, timeout=5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        await client.close()
        self._pending.clear()

    async def close(self) -> None:
        """Disconnects for good."""
        self.closed = True
        await self.disconnect()

    async def send_socket_mode_response(self, response: Union[Dict[str, Any], SocketModeResponse]) -> None:
        """Acks the envelope the response names, with its payload if any."""
        self._answer(response)

    async def send_message(self, message: str) -> None:
        """Only acks can be sent (see :meth:`SocketModeClient.send_message`)."""
        data = json.loads(message)
        if not isinstance(data, dict) or "envelope_id" not in data:
            raise ValueError("sockeye sends only acks ({\"envelope_id\": …}) over Socket Mode")
        self._answer(data)

    async def _run(self, client: Any) -> None:
        loop = asyncio.get_running_loop()
        last_expiry = loop.time()
        while True:
            try:
                event = await client.next_event()
            except StoppedError:
                return
            except SockeyeError as error:
                self.logger.error(f"Socket Mode client stopped: {error}")
                return
            if loop.time() - last_expiry > 1.0:
                last_expiry = loop.time()
                self._pending.expire(_KEEP_UNANSWERED_S)
            task = loop.create_task(self._deliver(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, event: Event) -> None:
        self._pending.add(event)
        raised = False
        try:
            if self.message_listeners:
                message = message_of(event)
                raw = json.dumps(message)
                for listener in self.message_listeners:
                    try:
                        await listener(self, message, raw)
                    except Exception as error:
                        raised = True
                        self.logger.exception(f"Failed to run a message listener: {error}")
            if self.socket_mode_request_listeners:
                request = request_of(event)
                for listener in self.socket_mode_request_listeners:
                    try:
                        await listener(self, request)
                    except Exception as error:
                        raised = True
                        self.logger.exception(f"Failed to run a request listener: {error}")
        except Exception as error:
            raised = True
            self.logger.exception(f"Failed to run message listeners: {error}")
        self._settle(event, raised)
