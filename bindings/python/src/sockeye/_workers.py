"""The threads that run listeners for the thread-based handlers.

Measured (benchmarks/run, Bolt's app): one thread running every envelope inline took
~260 µs of CPU per event; ten threads all waiting on the library's queue took ~360–500 µs,
because each ctypes wake-up of another thread forces a GIL hand-over in the middle of
somebody's dispatch. So one *leader* thread takes and runs envelopes; up to
``concurrency - 1`` *helpers* stay parked and are woken by a supervisor only when every
running thread has spent more than ``STUCK_S`` on its current envelope (a listener that
blocks, a slash command waiting for ``ack()``) while envelopes are queued. A helper runs
what is queued, then parks again. A blocking listener so holds one thread, never delivery.

A listener's exception never ends a thread: an ordinary one (``Exception``) is logged and
delivery goes on; a ``KeyboardInterrupt``, ``SystemExit`` or other ``BaseException`` that
is not an ``Exception`` means "stop": the envelope is declined (Slack redelivers it), the
client stops taking envelopes and drains, every thread ends, and the exception is kept in
:attr:`Workers.fatal` for the caller to raise again (the handlers raise it from
``disconnect()``/``close()``, Bolt's ``start()`` from its loop).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, List, Optional

from .client import Client, Event
from .errors import SockeyeError, StoppedError

#: A thread busy with one envelope this long counts as stuck.
STUCK_S = 0.02
#: How often the supervisor looks.
TICK_S = 0.01


class Workers:
    """``concurrency`` threads running ``deliver(event)`` for the events of ``client``."""

    def __init__(self, client: Client, deliver: Callable[[Event], None], concurrency: int,
                 logger: logging.Logger, on_error: Callable[[Exception], None],
                 every_second: Callable[[], None]) -> None:
        self.client = client
        self.deliver = deliver
        self.logger = logger
        self.on_error = on_error
        self.every_second = every_second
        self.concurrency = max(1, concurrency)
        # start time of each thread's current envelope; None while it has none
        self.busy: List[Optional[float]] = [None] * self.concurrency
        self.parked = [False] * self.concurrency
        self.wakeups = 0
        self.cond = threading.Condition()
        self.done = False
        #: the BaseException (not an Exception) a listener raised, which stopped delivery
        self.fatal: Optional[BaseException] = None
        self.threads = [threading.Thread(target=self._lead, name="sockeye-worker-0", daemon=True)]
        self.threads += [threading.Thread(target=self._help, args=(n,), name=f"sockeye-worker-{n}", daemon=True)
                         for n in range(1, self.concurrency)]
        self.threads.append(threading.Thread(target=self._supervise, name="sockeye-supervisor", daemon=True))
        for thread in self.threads:
            thread.start()

    def join(self, timeout: float) -> None:
        """Waits for every thread (they end when the client is stopped and drained)."""
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self, index: int, event: Event) -> None:
        self.busy[index] = time.monotonic()
        try:
            self.deliver(event)
        except Exception:  # the handlers catch their listeners' errors; this is a last guard
            self.logger.exception("An envelope's delivery raised; delivery goes on")
        except BaseException as error:  # KeyboardInterrupt, SystemExit …: stop, never silently
            self._stop_for(error, event)
        finally:
            self.busy[index] = None

    def _stop_for(self, error: BaseException, event: Event) -> None:
        """A listener asked the program to stop: decline its envelope, stop the client
        (draining), end every thread and keep the exception for the caller."""
        with self.cond:
            first = self.fatal is None
            if first:
                self.fatal = error
        if first:
            self.logger.error(f"A listener raised {type(error).__name__}; the Socket Mode client stops "
                              "(it is raised again when the client is disconnected or closed)")
        try:
            event.nack()
        except SockeyeError:
            pass  # already answered, or the client is gone
        try:
            self.client.stop(drain=True)
        except SockeyeError:
            pass
        self._end(None)

    def _end(self, error: Optional[Exception]) -> None:
        with self.cond:
            first = not self.done
            self.done = True
            self.cond.notify_all()
        if error is not None and first:
            self.logger.error(f"Socket Mode client stopped: {error}")
            self.on_error(error)

    def _lead(self) -> None:
        client = self.client
        while True:
            try:
                # Under load the queue is rarely empty: taking without waiting keeps the
                # GIL; only an empty queue makes the leader wait (GIL released).
                event = client.next_event_nowait() or client.next_event(timeout=1.0)
            except StoppedError:
                return self._end(None)
            except SockeyeError as error:
                return self._end(error)
            if event is not None:
                self._run(0, event)
            if self.done:
                return

    def _help(self, index: int) -> None:
        client = self.client
        while True:
            with self.cond:
                self.parked[index] = True
                while not self.wakeups and not self.done:
                    self.cond.wait()
                self.parked[index] = False
                if self.done:
                    return
                self.wakeups -= 1
            while True:
                try:
                    event = client.next_event_nowait()
                except SockeyeError:
                    return self._end(None)
                if event is None:
                    break
                self._run(index, event)
                if self.done:
                    return

    def _supervise(self) -> None:
        last = time.monotonic()
        while not self.done:
            time.sleep(TICK_S)
            now = time.monotonic()
            if now - last >= 1.0:
                last = now
                self.every_second()
            if self.concurrency == 1:
                continue
            running = [self.busy[n] for n in range(self.concurrency) if not self.parked[n]]
            if not running or any(start is None or now - start < STUCK_S for start in running):
                continue
            try:
                queued = self.client.stats.queued
            except SockeyeError:
                continue
            if queued:
                with self.cond:
                    if any(self.parked) and self.wakeups == 0:
                        self.wakeups = 1
                        self.cond.notify()
