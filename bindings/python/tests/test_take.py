"""The batch reader's decoding of `sockeye_event_info` words (sockeye._take), on words laid
out as the library lays them: escaped, absent and empty strings, a negative retry_attempt,
and garbage in the padding beside each view's flags."""
from __future__ import annotations

import ctypes

from sockeye import _ffi, _take


def words_for(data: bytes, views: dict, kind: int = 3, accepts: int = 1, retry: int = 0) -> tuple:
    block = ctypes.create_string_buffer(data, len(data))
    base = ctypes.addressof(block)
    words = [0] * _ffi.INFO_WORDS
    words[0] = ctypes.sizeof(_ffi.EventInfo)
    words[_ffi.W_EVENT] = 0x1234
    words[_ffi.W_KIND] = kind | accepts << 32
    words[_ffi.W_RETRY_ATTEMPT] = retry & (1 << 64) - 1
    words[_ffi.W_DATA:_ffi.W_DATA + 3] = [base, len(data), _ffi.VIEW_PRESENT | 0xDEAD << 32]
    for name, (start, length, escaped) in views.items():
        at = _ffi.W_VIEWS[_ffi.VIEW_FIELDS.index(name)]
        flags = _ffi.VIEW_PRESENT | (_ffi.VIEW_ESCAPED if escaped else 0)
        words[at:at + 3] = [base + start, length, flags | 0xBEEF << 32]
    return block, words


def test_fields_are_sliced_from_one_copy_and_escapes_resolved():
    data = b'events_apie-1{"a":1}T\\u00e9\\"q\\/1Ev1'
    block, words = words_for(data, {
        "type": (0, 10, False), "envelope_id": (10, 3, False), "payload": (13, 7, False),
        "team_id": (20, 13, True), "event_id": (33, 3, False), "event_type": (36, 0, False)},
        retry=-2)
    fields = _take._fields(words, 0)
    (handle, kind, accepts, retry, payload, type_, envelope_id, team_id, event_id, event_type,
     payload_type, retry_reason) = fields
    assert (handle, kind, accepts, retry) == (0x1234, 3, True, -2)
    assert payload == b'{"a":1}' and type_ == "events_api" and envelope_id == "e-1"
    assert team_id == 'Té"q/1' and event_id == "Ev1"
    assert event_type == "" and payload_type is None and retry_reason is None
    del block


def test_a_batch_reads_each_element_at_its_own_offset():
    first, words_a = words_for(b"aaa", {"envelope_id": (0, 3, False)}, kind=4, accepts=0)
    second, words_b = words_for(b"bbbb", {"envelope_id": (0, 4, False)}, kind=5, accepts=1)
    words = words_a + words_b
    one = _take._fields(words, 0)
    two = _take._fields(words, _ffi.INFO_WORDS)
    assert (one[1], one[2], one[6]) == (4, False, "aaa")
    assert (two[1], two[2], two[6]) == (5, True, "bbbb")
    del first, second
