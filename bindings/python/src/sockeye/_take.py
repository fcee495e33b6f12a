"""Taking events from a client's pull queue: one library call takes up to
:data:`MAX_BATCH` events and fills every field of each (``sockeye_client_next_events``),
one slice reads the batch back into Python, and one copy per event brings its bytes over.
Fields are decoded from that copy only when read (most handlers read few of them).

Before, an event cost 11 library calls (take, then one per field) and a decode call for
every escaped string; calls through ctypes cost about a microsecond each, which made them
the larger part of the package's time per event.
"""
from __future__ import annotations

import ctypes
import json
import threading
from typing import Callable, List, Optional, Tuple

from . import _ffi

#: The most events one call takes (the per-thread buffer holds this many).
MAX_BATCH = 64

_INFO_SIZE = ctypes.sizeof(_ffi.EventInfo)
_WORDS = _ffi.INFO_WORDS
_HALF = 0xFFFFFFFF
_PRESENT = _ffi.VIEW_PRESENT
_ESCAPED = _ffi.VIEW_ESCAPED
_W_DATA = _ffi.W_DATA

#: Where each field's words start in an event's words (its `sockeye_event_info` as 64-bit
#: words): the handle, the kind (low half) and accepts_response_payload (high half),
#: retry_attempt, then a view (ptr, len, flags) per string or JSON field.
W_EVENT = _ffi.W_EVENT
W_KIND = _ffi.W_KIND
W_RETRY_ATTEMPT = _ffi.W_RETRY_ATTEMPT
(W_TYPE, W_ENVELOPE_ID, W_PAYLOAD, W_TEAM_ID, W_EVENT_ID, W_EVENT_TYPE, W_PAYLOAD_TYPE,
 W_RETRY_REASON) = _ffi.W_VIEWS

_local = threading.local()

#: One taken event: its words, and a copy of the bytes its views point into. Every field
#: is read from these (see :func:`text`, :func:`raw`), so the event may be released at
#: any time after it was taken.
Taken = Tuple[List[int], bytes]


def _buffers() -> Tuple[ctypes.Array, ctypes.c_size_t]:
    """This thread's buffer for one batch and its count: taken events are read back before
    the next call on the same thread, so one per thread is enough."""
    try:
        return _local.buffer, _local.count
    except AttributeError:
        _local.buffer = (ctypes.c_uint64 * (_WORDS * MAX_BATCH))()
        _local.count = ctypes.c_size_t()
        return _local.buffer, _local.count


def take(function: Callable, handle: ctypes.c_void_p, timeout_ms: int, capacity: int) -> Tuple[int, List[Taken]]:
    """Calls ``sockeye_client_next_events`` (``function``: the GIL-holding binding for a
    timeout of 0, else the one that releases it) for up to ``capacity`` events (at most
    :data:`MAX_BATCH`). Returns the status and, on success, each event taken; the caller
    owns one library reference to each handle (``words[W_EVENT]``)."""
    capacity = max(1, min(capacity, MAX_BATCH))
    if getattr(_local, "busy", False):
        # Re-entered on this thread (a signal handler that takes events runs between the
        # outer call's return and its reading of the buffer): a buffer of its own.
        return _take_into((ctypes.c_uint64 * (_WORDS * capacity))(), ctypes.c_size_t(), function, handle,
                          timeout_ms, capacity)
    _local.busy = True
    try:
        buffer, count = _buffers()
        return _take_into(buffer, count, function, handle, timeout_ms, capacity)
    finally:
        _local.busy = False


def _take_into(buffer: ctypes.Array, count: ctypes.c_size_t, function: Callable, handle: ctypes.c_void_p,
               timeout_ms: int, capacity: int) -> Tuple[int, List[Taken]]:
    buffer[0] = _INFO_SIZE
    status = function(handle, timeout_ms, buffer, capacity, ctypes.byref(count))
    if status != _ffi.OK:
        return status, []
    words = buffer[: count.value * _WORDS]
    taken = []
    for base in range(0, len(words), _WORDS):
        event = words[base:base + _WORDS]
        # One copy of every field's bytes, made while the event is surely held.
        taken.append((event, ctypes.string_at(event[_W_DATA], event[_W_DATA + 1])))
    return status, taken


def raw(event: Taken, at: int) -> Optional[bytes]:
    """The bytes of the view at word ``at`` (JSON escapes left as they are), None if absent."""
    words, data = event
    if not words[at + 2] & _PRESENT:
        return None
    start = words[at] - words[_W_DATA]
    return data[start:start + words[at + 1]]


def text(event: Taken, at: int) -> Optional[str]:
    """The string of the view at word ``at``, escapes resolved; None if absent."""
    words, data = event
    flags = words[at + 2] & _HALF
    if not flags & _PRESENT:
        return None
    start = words[at] - words[_W_DATA]
    chars = data[start:start + words[at + 1]]
    if not flags & _ESCAPED:
        return chars.decode("utf-8")
    try:
        return json.loads(b'"' + chars + b'"')
    except ValueError:
        return None


def kind(event: Taken) -> int:
    """``sockeye_message_kind``."""
    return event[0][W_KIND] & _HALF


def accepts_response_payload(event: Taken) -> bool:
    return bool(event[0][W_KIND] >> 32)


def retry_attempt(event: Taken) -> int:
    value = event[0][W_RETRY_ATTEMPT]
    return value - (1 << 64) if value >= 1 << 63 else value
