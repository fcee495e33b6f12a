"""Taking events from a client's pull queue: one library call takes up to
:data:`MAX_BATCH` events and fills every field of each (``sockeye_client_next_events``),
one slice reads the batch back into Python, and one copy per event brings its bytes over.

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
_W_EVENT = _ffi.W_EVENT
_W_KIND = _ffi.W_KIND
_W_RETRY = _ffi.W_RETRY_ATTEMPT
_W_DATA = _ffi.W_DATA
# The views in the order Fields lists them after the numbers; payload is kept as bytes.
_W_TEXTS = tuple(_ffi.W_VIEWS[_ffi.VIEW_FIELDS.index(name)]
                 for name in ("type", "envelope_id", "team_id", "event_id", "event_type", "payload_type",
                              "retry_reason"))
_W_PAYLOAD = _ffi.W_VIEWS[_ffi.VIEW_FIELDS.index("payload")]

_local = threading.local()

#: (handle, kind, accepts_response_payload, retry_attempt, payload_bytes, type, envelope_id,
#: team_id, event_id, event_type, payload_type, retry_reason); absent strings are None.
Fields = Tuple


def _buffers() -> Tuple[ctypes.Array, ctypes.c_size_t]:
    """This thread's buffer for one batch (taken events are read back before the next call
    on the same thread, so one per thread is enough) and its count."""
    try:
        return _local.buffer, _local.count
    except AttributeError:
        _local.buffer = (ctypes.c_uint64 * (_WORDS * MAX_BATCH))()
        _local.count = ctypes.c_size_t()
        return _local.buffer, _local.count


def take(function: Callable, handle: ctypes.c_void_p, timeout_ms: int, capacity: int) -> Tuple[int, List[Fields]]:
    """Calls ``sockeye_client_next_events`` (``function``: the GIL-holding binding for a
    timeout of 0, else the one that releases it) for up to ``capacity`` events (at most
    :data:`MAX_BATCH`). Returns the status and, on success, the fields of each event taken;
    the caller owns one library reference to each handle."""
    buffer, count = _buffers()
    buffer[0] = _INFO_SIZE
    status = function(handle, timeout_ms, buffer, max(1, min(capacity, MAX_BATCH)), ctypes.byref(count))
    if status != _ffi.OK:
        return status, []
    taken = count.value
    words = buffer[: taken * _WORDS]
    return status, [_fields(words, index * _WORDS) for index in range(taken)]


def _fields(words: List[int], base: int) -> Fields:
    data_pointer = words[base + _W_DATA]
    # One copy of every field's bytes; the fields are slices of it.
    data = ctypes.string_at(data_pointer, words[base + _W_DATA + 1])
    retry_attempt = words[base + _W_RETRY]
    if retry_attempt >= 1 << 63:
        retry_attempt -= 1 << 64
    both = words[base + _W_KIND]
    at = base + _W_PAYLOAD
    payload: Optional[bytes] = None
    if words[at + 2] & _PRESENT:
        start = words[at] - data_pointer
        payload = data[start:start + words[at + 1]]
    fields = [words[base + _W_EVENT], both & _HALF, bool(both >> 32), retry_attempt, payload]
    for offset in _W_TEXTS:
        at = base + offset
        flags = words[at + 2] & _HALF
        if not flags & _PRESENT:
            fields.append(None)
            continue
        start = words[at] - data_pointer
        raw = data[start:start + words[at + 1]]
        fields.append(raw.decode("utf-8") if not flags & _ESCAPED else _unescape(raw))
    return tuple(fields)


def _unescape(raw: bytes) -> Optional[str]:
    """The characters of a JSON string still escaped (the library validated it)."""
    try:
        return json.loads(b'"' + raw + b'"')
    except ValueError:
        return None
