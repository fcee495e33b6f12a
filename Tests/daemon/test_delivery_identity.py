"""The same event over Socket Mode and over HTTP gives the same line: an app with
`delivery: both` receives a deterministic `message` (fixed text) once over Socket Mode, then,
after the simulator's app switches to HTTP, once over the ingress. The two lines are identical
but for `delivery`, `envelope_id` (per delivery) and `received_at`, and for the fields that
differ per injection in the simulator's payload (the event id and times, which it generates
anew for every event whatever the mode); the test lists which those are."""
import json
import os

from daemon_support import json_lines
from bridge_support import delivery, file_sink, free_port, ready, sockeyed_config, start_sockeyed, stop, wait_until

TEXT = "identity check: the same message both ways"
PER_DELIVERY = ("delivery", "envelope_id", "received_at")


def differences(a, b, path=""):
    """Paths where two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b)):
            found += differences(a.get(key, "<absent>"), b.get(key, "<absent>"), f"{path}.{key}" if path else key)
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def test_same_event_same_line_both_ways(tmp_path, processes, start_sim):
    folder = str(tmp_path)
    out = os.path.join(folder, "events.jsonl")
    sim = start_sim()
    ops_port, public_port = free_port(), free_port()
    config = sockeyed_config(os.path.join(folder, "sockeyed.yaml"), sim.api, "both", file_sink("out", out), ["out"], ops_port,
                             public_port=public_port)
    daemon = start_sockeyed(processes, config)
    wait_until(lambda: ready(ops_port), 60, "sockeyed ready", daemon)

    sim.admin("inject", {"kind": "message", "count": 1, "app": 0, "text": TEXT})
    wait_until(lambda: len(json_lines(out)) == 1, 20, "the Socket Mode line", daemon)
    delivery(sim, "http", public_port)
    sim.admin("inject", {"kind": "message", "count": 1, "app": 0, "text": TEXT})
    wait_until(lambda: len(json_lines(out)) == 2, 20, "the HTTP line", daemon)

    # The lines' bytes (both are complete: json_lines counted them).
    with open(out) as f:
        raw = [line for line in f.read().splitlines() if line]
    socket_line, http_line = (json.loads(line) for line in raw)
    assert (socket_line["delivery"], http_line["delivery"]) == ("socket_mode", "http"), raw
    assert socket_line["envelope_id"] != http_line["envelope_id"] and http_line["envelope_id"].startswith("http-")
    assert socket_line["payload"]["event"]["text"] == TEXT == http_line["payload"]["event"]["text"]

    # What differs beyond the per-delivery fields comes from the simulator: it must be the
    # per-injection identity of the event (ids and times) and nothing else.
    differ = [d for d in differences(socket_line, http_line) if d not in PER_DELIVERY]
    per_injection = {"event_id", "payload.event_id", "payload.event_time", "payload.event.ts", "payload.event.event_ts",
                     "payload.event.client_msg_id"}
    assert set(differ) <= per_injection, f"fields that differ between the modes: {differ}"
    print(f"fields differing per injection (masked): {differ}")

    # With those fields masked, the lines are the same bytes: the same key order and the
    # payload as the simulator sent it.
    masked = []
    for line, values in zip(raw, (socket_line, http_line)):
        for path in list(PER_DELIVERY) + differ:
            value = values
            for part in path.split("."):
                value = value[part]
            key = path.split(".")[-1]
            text = f"\"{key}\":" + json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            # (a key masked already, e.g. event_id at the top and in the payload, is done)
            assert text in line or f"\"{key}\":\"<masked>\"" in line, (text, line[:800])
            line = line.replace(text, f"\"{key}\":\"<masked>\"")
        masked.append(line)
    assert masked[0] == masked[1], f"\n{masked[0][:1500]}\n{masked[1][:1500]}"
    stop(daemon)
