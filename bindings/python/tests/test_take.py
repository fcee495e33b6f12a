"""How the batch reader decodes a taken event (sockeye._take): its `sockeye_event_info` as
64-bit words, laid out as the library lays them, and the copy of its bytes. Escaped,
absent and empty strings, a negative retry_attempt, garbage in the padding beside each
view's flags, and events side by side in one batch. (What the library fills is checked
against sockeye-sim in test_client.py.)"""
from __future__ import annotations

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
