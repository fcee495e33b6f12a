"""Moving an app from Socket Mode to HTTP under load, the way an operator would: sockeyed runs
it with `delivery: socket`; mid-load the configuration says `delivery: both` (SIGHUP); then
the simulator's app switches to HTTP while it is not reading sockeyed's acks (a 3 s `stall`
fault), so events sockeyed already wrote are unacked and redelivered over HTTP as retries with
the same event ids, which sockeyed must recognise as taken; later the configuration says
`delivery: http` (SIGHUP). Every event the simulator saw acked is in the file exactly once,
lines came both ways, and nothing is lost."""
import collections
import os
import time

from daemon_support import json_lines
from bridge_support import delivery, http, metrics, file_sink, free_port, ready, reload, sockeyed_config, start_sockeyed, status, stop, wait_until

TOTAL = 3000
RATE = 300


def app_ready(ops_port, public_port, delivery):
    """The reloaded app runs with `delivery`: the ingress on the public listener takes requests
    (an unsigned POST gets 401, not 404) for both and http, the state names HTTP for http, and
    /readyz is 200."""
    try:
        if http(f"http://127.0.0.1:{public_port}/slack/events", b"{}")[0] != 401:
            return False
        states = [a["state"] for a in status(ops_port)["apps"]]
    except OSError:
        return False
    http_only = all(s.startswith("running (HTTP") for s in states)
    return ready(ops_port) and http_only == (delivery == "http")


def test_socket_to_both_to_http_under_load(tmp_path, processes, start_sim):
    folder = str(tmp_path)
    out = os.path.join(folder, "events.jsonl")
    # Retry delays divided by 10 (0, 6 and 30 s) so redeliveries come within the test.
    sim = start_sim("--time-scale", "10")
    ops_port, public_port = free_port(), free_port()
    config = sockeyed_config(os.path.join(folder, "sockeyed.yaml"), sim.api, "socket", file_sink("out", out), ["out"], ops_port,
                             public_port=public_port)
    daemon = start_sockeyed(processes, config)
    wait_until(lambda: ready(ops_port), 60, "sockeyed ready", daemon)
    started = time.time()
    sim.admin("load", {"rate": RATE, "total": TOTAL, "kinds": ["message"]})

    wait_until(lambda: len(json_lines(out)) >= 600, 30, "600 lines over Socket Mode", daemon)
    reload(daemon, config, lambda text: text.replace("delivery: socket", "delivery: both"))
    wait_until(lambda: app_ready(ops_port, public_port, "both"), 30, "the app back with delivery both", daemon)

    wait_until(lambda: len(json_lines(out)) >= 1200, 30, "1200 lines", daemon)
    # The simulator stops reading sockeyed's acks for a moment, so that events sockeyed has
    # already written are unacked when the app switches: the simulator redelivers them over
    # HTTP (same event ids) and sockeyed must recognise them as taken.
    sim.admin("fault", {"kind": "stall", "app": 0, "seconds": 3})
    written = len(json_lines(out))
    wait_until(lambda: len(json_lines(out)) >= written + 150, 10, "150 lines written while the acks are stalled", daemon)
    delivery(sim, "http", public_port)

    wait_until(lambda: sum(1 for l in json_lines(out) if l["delivery"] == "http") >= 500, 30, "500 lines over HTTP", daemon)
    reload(daemon, config, lambda text: text.replace("delivery: both", "delivery: http"))
    wait_until(lambda: app_ready(ops_port, public_port, "http"), 30, "the app back with delivery http", daemon)

    wait_until(lambda: len(sim.acked_event_ids()) >= TOTAL, 90, f"{TOTAL} events acked", daemon)
    print(f"every event acked {time.time() - started:.1f} s after the load started")
    time.sleep(7)  # a retry on the scaled schedule (6 s) would come within this
    stats = sim.stats()

    acked = sim.acked_event_ids()
    lines = json_lines(out)
    ids = collections.Counter(l["event_id"] for l in lines)
    twice = {i: n for i, n in ids.items() if n > 1}
    deliveries = collections.Counter(l["delivery"] for l in lines)
    assert deliveries["socket_mode"] > 0 and deliveries["http"] > 0, deliveries
    assert not twice, (f"{len(twice)} event ids written more than once, e.g. "
                       f"{[l for l in lines if l['event_id'] in list(twice)[:2]]}")
    missing = set(acked) - set(ids)
    assert not missing, f"{len(missing)} acked events not in the file, e.g. {sorted(missing)[:5]}"
    assert len(acked) == TOTAL and set(ids) == set(acked), (len(acked), len(ids))
    total = stats["total"]
    assert total["redelivered"] > 0, f"no socket event was redelivered over HTTP: {total}"
    deduplicated = metrics(ops_port).get(("sockeyed_events_deduplicated_total", frozenset({("app", "bridge")})), 0)
    assert deduplicated > 0, "no redelivered event was recognised as taken"
    assert stats["lost"] == 0 and total["failedAfterRetries"] == 0, stats
    print(f"lines by delivery: {dict(deliveries)}; redelivered {total['redelivered']}; "
          f"{ {k: v for k, v in total.items() if 'late' in k.lower()} }; deduplicated {deduplicated}; http {stats.get('http', {}).get('acked')} acked")
    stop(daemon)
