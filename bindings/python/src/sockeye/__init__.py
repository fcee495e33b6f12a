"""Sockeye for Python: Slack Socket Mode on libsockeye.

A pool of connections per app, acks, de-duplication of Slack's redeliveries, refreshes
and reconnects, all in libsockeye's native service thread. Three ways in:

- :class:`sockeye.Client` — a blocking iterator of :class:`sockeye.Event` (thread-safe);
- :class:`sockeye.aio.AsyncClient` — ``async for`` on the event loop (``loop.add_reader``);
- :mod:`sockeye.bolt` and :mod:`sockeye.slack_sdk` — drop-in replacements for Bolt's
  ``SocketModeHandler`` and slack_sdk's ``SocketModeClient``.
"""
from . import errors
from ._ffi import lib as _lib
from .client import ACK_MODES, Client, Event, Runtime, Stats
from .errors import (AckTooLargeError, AlreadyAnsweredError, ClientFailedError, InvalidHandleError,
                     InvalidOptionError, InvalidPayloadError, InvalidTokenError, InvalidURLError, SockeyeError,
                     StoppedError)

__all__ = [
    "Client", "Event", "Stats", "Runtime", "ACK_MODES", "errors", "SockeyeError", "AckTooLargeError",
    "AlreadyAnsweredError", "ClientFailedError", "InvalidHandleError", "InvalidOptionError", "InvalidPayloadError",
    "InvalidTokenError", "InvalidURLError", "StoppedError", "library_version", "__version__",
]

__version__ = "0.4.0"


def library_version() -> str:
    """The loaded libsockeye's version, ``"MAJOR.MINOR.PATCH"``."""
    return _lib().sockeye_version().decode()
