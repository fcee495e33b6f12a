"""Typed exceptions for the library's ``sockeye_status`` codes.

Every failing call raises a subclass of :class:`SockeyeError`; ``status`` holds the C code
and ``str(error)`` the library's own description (``sockeye_strerror``).
"""
from __future__ import annotations

from typing import Dict, Type

from . import _ffi


class SockeyeError(Exception):
    """A libsockeye call failed. ``status`` is the negative ``sockeye_status`` code."""

    status: int = 0

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status or type(self).status


class InvalidArgumentError(SockeyeError, ValueError):
    """A required value was missing or a struct was too small (SOCKEYE_E_INVALID_ARGUMENT)."""

    status = _ffi.E_INVALID_ARGUMENT


class AckTooLargeError(SockeyeError, ValueError):
    """The ack would be 20 480 bytes or more; Slack would close the connection
    (SOCKEYE_E_ACK_TOO_LARGE). Send large answers through the Web API instead."""

    status = _ffi.E_ACK_TOO_LARGE


class InvalidPayloadError(SockeyeError, ValueError):
    """The response payload is not exactly one JSON object (SOCKEYE_E_INVALID_PAYLOAD);
    the event stays unanswered and can be acked again."""

    status = _ffi.E_INVALID_PAYLOAD


class InvalidHandleError(SockeyeError):
    """The client or event is no longer live: closed, freed or released
    (SOCKEYE_E_INVALID_HANDLE)."""

    status = _ffi.E_INVALID_HANDLE


class AlreadyAnsweredError(SockeyeError):
    """The event was already acked or nacked (SOCKEYE_E_ALREADY_ANSWERED)."""

    status = _ffi.E_ALREADY_ANSWERED


class TimeoutError_(SockeyeError, TimeoutError):
    """No event came within the timeout (SOCKEYE_E_TIMEOUT). Exported as ``sockeye.Timeout``."""

    status = _ffi.E_TIMEOUT


class StoppedError(SockeyeError):
    """The client is stopped (or closed) and has no queued event left (SOCKEYE_E_STOPPED);
    for an ack: its client was closed, nothing was sent."""

    status = _ffi.E_STOPPED


class WrongModeError(SockeyeError):
    """The call does not fit how the client was made (SOCKEYE_E_WRONG_MODE)."""

    status = _ffi.E_WRONG_MODE


class InvalidTokenError(SockeyeError, ValueError):
    """The app token is missing or not an app-level ``xapp-`` token (SOCKEYE_E_INVALID_TOKEN)."""

    status = _ffi.E_INVALID_TOKEN


class InvalidURLError(SockeyeError, ValueError):
    """The API base URL or proxy URL cannot be used (SOCKEYE_E_INVALID_URL)."""

    status = _ffi.E_INVALID_URL


class InvalidOptionError(SockeyeError, ValueError):
    """An option is out of range or unusable (SOCKEYE_E_INVALID_OPTION)."""

    status = _ffi.E_INVALID_OPTION


class SystemResourceError(SockeyeError, OSError):
    """The operating system refused a thread or an eventfd (SOCKEYE_E_SYSTEM)."""

    status = _ffi.E_SYSTEM


class WrongThreadError(SockeyeError):
    """Called on the library's service thread where it would deadlock (SOCKEYE_E_WRONG_THREAD)."""

    status = _ffi.E_WRONG_THREAD


class ClientFailedError(SockeyeError):
    """The client gave up for good: a fatal ``apps.connections.open`` error such as
    ``invalid_auth``, or ``link_disabled`` (SOCKEYE_E_FAILED)."""

    status = _ffi.E_FAILED


_BY_STATUS: Dict[int, Type[SockeyeError]] = {
    cls.status: cls
    for cls in (InvalidArgumentError, AckTooLargeError, InvalidPayloadError, InvalidHandleError,
                AlreadyAnsweredError, TimeoutError_, StoppedError, WrongModeError, InvalidTokenError,
                InvalidURLError, InvalidOptionError, SystemResourceError, WrongThreadError, ClientFailedError)
}


def error_for(status: int, context: str = "") -> SockeyeError:
    """The exception for a non-OK status, with the library's description of it."""
    message = _ffi.lib().sockeye_strerror(status).decode()
    if context:
        message = f"{context}: {message}"
    return _BY_STATUS.get(status, SockeyeError)(message, status)


def check(status: int, context: str = "") -> None:
    """Raises the matching :class:`SockeyeError` unless ``status`` is SOCKEYE_OK."""
    if status != _ffi.OK:
        raise error_for(status, context)
