"""The asyncio API: :class:`AsyncClient`.

The client's pull-queue eventfd is watched with ``loop.add_reader``: when it becomes
readable the loop takes every queued event without waiting (no thread per event, no
thread at all on the Python side). Acks are plain calls (:meth:`sockeye.Event.ack` never
blocks), so they need no ``await``.
"""
from __future__ import annotations

import asyncio
import collections
from typing import Any, AsyncIterator, Deque, Optional

from . import _take
from .client import Client, Event, Stats
from .errors import ClientFailedError, SockeyeError, StoppedError

__all__ = ["AsyncClient"]

# Events taken from the library ahead of the consumer, at most; past it the reader is
# removed, so a slow consumer leaves events in the library's queue (and the eventfd
# readable) instead of growing a Python list.
_HIGH_WATER = 1024


class AsyncClient:
    """A :class:`sockeye.Client` driven by an asyncio event loop.

    Takes the same keyword arguments as :class:`sockeye.Client`. Make it inside a running
    loop (it registers its eventfd with ``asyncio.get_running_loop()``)::

        async with AsyncClient(token) as client:
            async for event in client:
                event.ack()
    """

    def __init__(self, app_token: str, **options: Any) -> None:
        self.client = Client(app_token, **options)
        self._loop = asyncio.get_running_loop()
        self._fd = self.client.fileno()
        self._ready: Deque[Event] = collections.deque()
        self._waiter: Optional[asyncio.Future] = None
        self._reading = False
        self._end: Optional[BaseException] = None
        self._watch()

    # --- the reader --------------------------------------------------------------------

    def _watch(self) -> None:
        if not self._reading and self._end is None:
            self._loop.add_reader(self._fd, self._on_readable)
            self._reading = True

    def _unwatch(self) -> None:
        if self._reading:
            self._loop.remove_reader(self._fd)
            self._reading = False

    def _on_readable(self) -> None:
        try:
            while len(self._ready) < _HIGH_WATER:
                events = self.client.next_events(min(_take.MAX_BATCH, _HIGH_WATER - len(self._ready)), 0)
                if not events:
                    break
                self._ready.extend(events)
            else:
                self._unwatch()
        except StoppedError as error:
            self._finish(error)
        except SockeyeError as error:
            self._finish(error)
        waiter = self._waiter
        if waiter is not None and not waiter.done() and (self._ready or self._end is not None):
            waiter.set_result(None)

    def _finish(self, error: BaseException) -> None:
        self._end = error
        self._unwatch()

    # --- events ------------------------------------------------------------------------

    async def next_event(self) -> Event:
        """The next event. Raises :class:`~sockeye.errors.StoppedError` once the client is
        stopped and everything queued was taken, :class:`~sockeye.errors.ClientFailedError`
        when it gave up."""
        while True:
            if self._ready:
                event = self._ready.popleft()
                if len(self._ready) < _HIGH_WATER // 2:
                    self._watch()
                return event
            if self._end is not None:
                raise self._end
            self._watch()
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            try:
                yield await self.next_event()
            except StoppedError:
                return

    # --- lifecycle and state -----------------------------------------------------------

    @property
    def stats(self) -> Stats:
        """The client's latest counters."""
        return self.client.stats

    async def wait_until_running(self, timeout: float = 30.0, connections: int = 1) -> bool:
        """Waits (without blocking the loop) until ``connections`` connections are live."""
        deadline = self._loop.time() + timeout
        while self._loop.time() < deadline:
            stats = self.client.stats
            if stats.connections_live >= connections:
                return True
            if stats.state in ("failed", "stopped"):
                return False
            await asyncio.sleep(0.02)
        return False

    def stop(self, drain: bool = True) -> None:
        """As :meth:`sockeye.Client.stop`; iteration ends once the queue is empty."""
        self.client.stop(drain)

    async def close(self, drain: bool = True, timeout: float = 5.0) -> None:
        """Stops (draining by default), waits up to ``timeout`` seconds for the connections
        to close without blocking the loop, and frees the client. Idempotent."""
        if self.client.closed:
            return
        self.client.stop(drain)
        deadline = self._loop.time() + timeout
        while self._loop.time() < deadline:
            try:
                if self.client.stats.state in ("stopped", "failed"):
                    break
            except SockeyeError:
                break
            await asyncio.sleep(0.02)
        self._unwatch()
        # Taken from the library but never handed out: nacked, so Slack redelivers them.
        while self._ready:
            self._ready.popleft()._give_back()
        self._end = self._end or StoppedError("the client is closed")
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self.client.close(drain=False, timeout=0)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.close()


# ClientFailedError is re-exported for `except sockeye.aio.ClientFailedError`.
__all__ += ["ClientFailedError"]
