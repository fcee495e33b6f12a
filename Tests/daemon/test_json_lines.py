"""The tests' reader of sink files sees only complete lines: a sink may be in the middle of
writing one (or of a UTF-8 sequence in it) when a test looks."""
import os

from daemon_support import json_lines


def test_a_line_being_written_is_not_read(tmp_path):
    path = os.path.join(str(tmp_path), "events.jsonl")
    assert json_lines(path) == []
    whole = '{"event_id":"Ev1","text":"caf\u00e9"}\n{"event_id":"Ev2"}\n'.encode()
    partial = '{"event_id":"Ev3","text":"caf\u00e9'.encode()[:-1]  # cut inside the two bytes of "é"
    with open(path, "wb") as f:
        f.write(whole + partial)
    assert [line["event_id"] for line in json_lines(path)] == ["Ev1", "Ev2"]
    with open(path, "ab") as f:
        f.write('\u00e9"}\n'.encode()[1:])
    assert [line["event_id"] for line in json_lines(path)] == ["Ev1", "Ev2", "Ev3"]
