"""How the batch reader decodes a taken event (sockeye._take): its `sockeye_event_info` as
64-bit words, laid out as the library lays them, and the copy of its bytes. Escaped,
absent and empty strings, a negative retry_attempt, garbage in the padding beside each
view's flags, and events side by side in one batch. (What the library fills is checked
against sockeye-sim in test_client.py.)"""
from __future__ import annotations

import ctypes

from sockeye import _ffi, _take

BASE = 0x7F0000001000  # where the library's copy of the bytes would be


def event_words(data: bytes, views: dict, kind: int = 3, accepts: int = 1, retry: int = 0) -> _take.Taken:
    words = [0] * _ffi.INFO_WORDS
    words[0] = _ffi.INFO_WORDS * 8
    words[_take.W_EVENT] = 0x1234
    words[_take.W_KIND] = kind | accepts << 32
    words[_take.W_RETRY_ATTEMPT] = retry & (1 << 64) - 1
    words[_ffi.W_DATA:_ffi.W_DATA + 3] = [BASE, len(data), _ffi.VIEW_PRESENT | 0xDEAD << 32]
    for name, (start, length, escaped) in views.items():
        at = _ffi.W_VIEWS[_ffi.VIEW_FIELDS.index(name)]
        flags = _ffi.VIEW_PRESENT | (_ffi.VIEW_ESCAPED if escaped else 0)
        words[at:at + 3] = [BASE + start, length, flags | 0xBEEF << 32]
    return words, data


def test_fields_are_sliced_from_the_copy_and_escapes_resolved():
    data = b'events_apie-1{"a":1}T\\u00e9\\"q\\/1Ev1'
    event = event_words(data, {
        "type": (0, 10, False), "envelope_id": (10, 3, False), "payload": (13, 7, False),
        "team_id": (20, 13, True), "event_id": (33, 3, False), "event_type": (36, 0, False)},
        retry=-2)
    assert (_take.kind(event), _take.accepts_response_payload(event), _take.retry_attempt(event)) == (3, True, -2)
    assert _take.raw(event, _take.W_PAYLOAD) == b'{"a":1}'
    assert _take.text(event, _take.W_TYPE) == "events_api" and _take.text(event, _take.W_ENVELOPE_ID) == "e-1"
    assert _take.text(event, _take.W_TEAM_ID) == 'Té"q/1' and _take.text(event, _take.W_EVENT_ID) == "Ev1"
    assert _take.text(event, _take.W_EVENT_TYPE) == ""
    assert _take.text(event, _take.W_PAYLOAD_TYPE) is None and _take.raw(event, _take.W_RETRY_REASON) is None


def test_each_event_of_a_batch_reads_its_own_words():
    one = event_words(b"aaa", {"envelope_id": (0, 3, False)}, kind=4, accepts=0)
    two = event_words(b"bbbb", {"envelope_id": (0, 4, False)}, kind=5, accepts=1, retry=3)
    assert (_take.kind(one), _take.accepts_response_payload(one), _take.text(one, _take.W_ENVELOPE_ID)) == \
        (4, False, "aaa")
    assert (_take.kind(two), _take.retry_attempt(two), _take.text(two, _take.W_ENVELOPE_ID)) == (5, 3, "bbbb")


def test_a_take_re_entered_on_the_same_thread_does_not_overwrite_the_outer_batch():
    # What a signal handler that takes events would do between the library's return and
    # the outer take reading its buffer: here the stand-in for the library fills the outer
    # buffer, then takes again on the same thread before it returns (the same interleaving
    # for the buffer, without a signal's timing).
    data = {1: b"outer", 2: b"inner"}
    keep = {}

    def fill(buffer, number, count):
        block = ctypes.create_string_buffer(data[number], len(data[number]))
        keep[number] = block
        buffer[_ffi.W_EVENT] = number
        buffer[_ffi.W_DATA] = ctypes.addressof(block)
        buffer[_ffi.W_DATA + 1] = len(data[number])
        count._obj.value = 1
        return _ffi.OK

    def library(handle, timeout_ms, buffer, capacity, count):
        status = fill(buffer, handle, count)
        if handle == 1:
            _, inner = _take.take(library, 2, 0, 1)
            assert inner[0][1] == b"inner" and inner[0][0][_take.W_EVENT] == 2
        return status

    status, outer = _take.take(library, 1, 0, 1)
    assert status == _ffi.OK and outer[0][1] == b"outer" and outer[0][0][_take.W_EVENT] == 1
