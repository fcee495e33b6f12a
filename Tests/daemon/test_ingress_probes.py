"""The HTTP ingress against the simulator's odd requests (`POST /admin/http-probe`): wrong,
missing, stale and future signatures are refused with 401, a 2 MiB body with 413 (the default
limit is 1 MiB), broken JSON and broken forms with 400; url_verification is answered with its
challenge; a body sent slowly and a replayed request (valid both) are taken. Nothing refused
reaches the file sink, and /metrics counts every request by kind and outcome."""
import json
import os
import urllib.request

from daemon_support import json_lines
from bridge_support import SECRET, delivery, file_sink, free_port, metrics, ready, sockeyed_config, start_sockeyed, stop, wait_until

# kind → (statuses the ingress answers, kind label, outcome label in sockeyed_ingress_requests_total)
EXPECTED = {
    "bad_signature": ([401], "events", "bad_signature"),
    "missing_signature": ([401], "events", "missing_signature"),
    "stale_timestamp": ([401], "events", "stale_timestamp"),
    "future_timestamp": ([401], "events", "stale_timestamp"),
    "oversize": ([413], "events", "too_large"),
    "malformed_json": ([400], "events", "malformed"),
    "malformed_form": ([400], "commands", "malformed"),
    "url_verification": ([200], "events", "url_verification"),
    "slow_body": ([200], "events", "acked"),
    "replay": ([200, 200], "events", "acked"),
}


def test_ingress_answers_every_probe(tmp_path, processes, start_sim):
    folder = str(tmp_path)
    out = os.path.join(folder, "events.jsonl")
    sim = start_sim()
    ops_port, public_port = free_port(), free_port()
    config = sockeyed_config(os.path.join(folder, "sockeyed.yaml"), sim.api, "http", file_sink("out", out), ["out"], ops_port,
                             public_port=public_port)
    daemon = start_sockeyed(processes, config, log_level="debug")
    wait_until(lambda: ready(ops_port), 60, "sockeyed ready", daemon)
    delivery(sim, "http", public_port)

    lines_after = {}
    for kind, (statuses, _, _) in EXPECTED.items():
        reply = sim.admin("http-probe", {"app": 0, "kind": kind, "count": 1})
        assert reply["ok"] and reply["statuses"] == statuses, (kind, reply)
        if kind == "url_verification":
            assert reply["bodies"][0].strip() == reply["challenge"], reply
        lines_after[kind] = len(json_lines(out))

    # Only the valid events were written: the slow body once, the replayed request once (the
    # second copy has the same event id, so it is acked and dropped).
    lines = json_lines(out)
    assert len(lines) == 2, lines
    assert len({l["event_id"] for l in lines}) == 2 and all(l["delivery"] == "http" for l in lines), lines
    refused = [k for k, (s, _, _) in EXPECTED.items() if s[0] != 200]
    order = list(EXPECTED)
    for kind in refused:
        before = lines_after[order[order.index(kind) - 1]] if order.index(kind) else 0
        assert lines_after[kind] == before, f"{kind} produced a line"

    wanted = {}
    for kind, (statuses, label, outcome) in EXPECTED.items():
        key = (label, outcome)
        wanted[key] = wanted.get(key, 0) + len(statuses)
    values = wait_until(lambda: (m := metrics(ops_port)) and all(
        m.get(("sockeyed_ingress_requests_total", frozenset({("app", "bridge"), ("kind", k), ("outcome", o)}))) == n
        for (k, o), n in wanted.items()) and m, 10, "the ingress counters")
    counted = {k: v for k, v in values.items() if k[0] == "sockeyed_ingress_requests_total"}
    assert sum(counted.values()) == sum(wanted.values()), counted
    # The replayed copy was recognised by its event id (already taken: acked, not written).
    assert values.get(("sockeyed_events_deduplicated_total", frozenset({("app", "bridge")}))) == 1, \
        {k: v for k, v in values.items() if "dedup" in k[0]}
    # The status page counts it too (Socket Mode's duplicates and those taken across channels).
    with urllib.request.urlopen(f"http://127.0.0.1:{ops_port}/status.json", timeout=5) as reply:
        status = json.load(reply)
    assert status["apps"][0]["events"]["deduplicated"] == 1, status["apps"][0]
    stop(daemon)
    # Every refusal was logged (at debug level, everything is), and never with the secret.
    log = "\n".join(daemon.err)
    assert "ingress refused a request" in log, log[-2000:]
    assert SECRET not in log
