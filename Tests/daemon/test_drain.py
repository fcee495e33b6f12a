"""SIGTERM under load: sockeyed drains (stops taking envelopes, finishes its batches, flushes
acks, closes with 1000) and exits 0; a second sockeyed takes over; the simulator reports
nothing lost and nothing failed after retries, and every event is written exactly once."""
import os
import signal
import time

from daemon_support import APP_TOKEN, Proc, binary, json_lines

TOTAL = 20_000


def config(folder, api, name):
    path = os.path.join(folder, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"""apps:
  - name: drain-{name}
    app_token: {APP_TOKEN}
    api_url: {api}
    pool_size: 2
    routes: [{{sinks: [out]}}]
sinks:
  out: {{type: file, path: {folder}/{name}.jsonl}}
operations:
  listen: "off"
""")
    return path


def test_sigterm_under_load_loses_nothing(tmp_path, processes, start_sim):
    folder = str(tmp_path)
    # Retry delays divided by 10 (0, 6 and 30 s) so that redeliveries come within the test.
    sim = start_sim("--load-total", str(TOTAL), "--load-rate", "4000", "--load-delay", "0.5",
                    "--load-kinds", "message,app_mention,reaction_added", "--time-scale", "10", "--duration", "150")
    api = sim.api
    first = Proc([binary("sockeyed"), "run", "--config", config(folder, api, "first")], env=dict(os.environ, SOCKEYE_LOG_LEVEL="info"))
    processes.append(first)
    assert first.wait_for(lambda: len(json_lines(os.path.join(folder, "first.jsonl"))) > 2000, 60), first.err[-20:]
    stopped_at = time.time()
    first.signal(signal.SIGTERM)
    code = first.wait(20)
    assert code == 0, f"exit {code}: {first.err[-20:]}"
    assert time.time() - stopped_at < 15, "the drain took too long"
    assert any("stopped" in line for line in first.err), first.err[-20:]

    second = Proc([binary("sockeyed"), "run", "--config", config(folder, api, "second")])
    processes.append(second)
    report = sim.report(120)
    second.signal(signal.SIGTERM)
    assert second.wait(20) == 0, second.err[-20:]

    total = report["total"]
    assert total["failedAfterRetries"] == 0 and report["lost"] == 0, report
    assert total["acked"] >= TOTAL and total["unknownAcks"] == 0, total
    ids = [line["event_id"] for name in ("first", "second") for line in json_lines(os.path.join(folder, f"{name}.jsonl"))]
    assert len(set(ids)) == TOTAL, f"{len(set(ids))} distinct events written of {TOTAL}"
    assert len(ids) == TOTAL, f"{len(ids) - len(set(ids))} events written twice"
