"""Forwards the library's log lines to :mod:`logging` without blocking its service thread.

The C log callback runs on the library's service thread, which must never wait on Python
code; it only puts the line on a queue. One daemon thread per process hands the lines to
each client's :class:`logging.Logger`.
"""
from __future__ import annotations

import logging
import queue
import threading
from typing import Callable, Dict, Optional, Tuple

from . import _ffi

#: library level -> logging level
LEVELS = {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG}


def library_level(logger: logging.Logger) -> int:
    """The most verbose ``sockeye_log_level`` worth passing up for ``logger``."""
    level = logger.getEffectiveLevel()
    if level <= logging.DEBUG:
        return 4
    if level <= logging.INFO:
        return 3
    if level <= logging.WARNING:
        return 2
    return 1


class LogSink:
    """Owns the ctypes log callback of one client (kept alive as long as the client)."""

    _queue: "queue.SimpleQueue[Tuple[int, int, str]]" = queue.SimpleQueue()
    _loggers: Dict[int, "LogSink"] = {}
    _thread: Optional[threading.Thread] = None
    _thread_lock = threading.Lock()
    _next_id = 0

    def __init__(self, logger: logging.Logger, prefix: str = "") -> None:
        self.logger = logger
        self.prefix = prefix
        #: the last ERROR line, which names why a client failed
        self.last_error: Optional[str] = None
        with LogSink._thread_lock:
            LogSink._next_id += 1
            self.ident = LogSink._next_id
            LogSink._loggers[self.ident] = self
            if LogSink._thread is None:
                LogSink._thread = threading.Thread(target=LogSink._forward, name="sockeye-log", daemon=True)
                LogSink._thread.start()
        ident = self.ident
        put = LogSink._queue.put

        def on_log(_user: Optional[int], level: int, message: bytes) -> None:
            text = message.decode("utf-8", "replace")
            if level == 1:
                self.last_error = text
            put((ident, level, text))

        self.callback: Callable = _ffi.LOG_FN(on_log)

    def close(self) -> None:
        """Stops forwarding (lines already queued are still logged). Idempotent."""
        if getattr(self, "_closed", False):
            return
        self._closed = True
        LogSink._queue.put((self.ident, 0, ""))

    @staticmethod
    def open_count() -> int:
        """Sinks still forwarding (registered and not yet closed by the log thread)."""
        with LogSink._thread_lock:
            return len(LogSink._loggers)

    @staticmethod
    def _forward() -> None:
        while True:
            ident, level, text = LogSink._queue.get()
            sink = LogSink._loggers.get(ident)
            if sink is None:
                continue
            if level == 0:
                LogSink._loggers.pop(ident, None)
                continue
            try:
                sink.logger.log(LEVELS.get(level, logging.INFO), "%s%s", sink.prefix, text)
            except Exception:  # a broken handler must not end the forwarding thread
                pass
