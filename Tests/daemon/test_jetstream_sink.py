"""sockeyed with a jetstream sink, against a real nats-server and the simulator: every event
Slack (the simulator) saw acked is in the stream, once; when the NATS server is killed with
SIGKILL under load, events are nacked instead of acked, Slack delivers them again, and once the
server is back (same port, same store) each event is in the stream exactly once, none lost."""
import os
import signal
import time

from daemon_support import APP_TOKEN, Proc, binary

TOTAL = 6_000


def config(folder, api, nats_url):
    path = os.path.join(folder, "sockeyed.yaml")
    with open(path, "w") as f:
        f.write(f"""apps:
  - name: js-app
    app_token: {APP_TOKEN}
    api_url: {api}
    pool_size: 2
    routes: [{{sinks: [events]}}]
sinks:
  events: {{type: jetstream, stream: SLACK, subject_prefix: slack}}
cluster:
  nats: [{nats_url}]
  node: node-a
operations:
  listen: "off"
""")
    return path


def stored(server):
    stream = server.stream("SLACK")
    return stream["state"]["messages"] if stream else 0


def test_every_acked_event_is_in_the_stream_once(tmp_path, processes, start_sim, nats):
    server = nats()
    sim = start_sim("--load-total", str(TOTAL), "--load-rate", "3000", "--load-delay", "1", "--time-scale", "10",
                    "--duration", "120")
    daemon = Proc([binary("sockeyed"), "run", "--config", config(str(tmp_path), sim.api, server.url)],
                  env=dict(os.environ, SOCKEYE_LOG_LEVEL="info"))
    processes.append(daemon)
    report = sim.report(120)
    total = report["total"]
    assert total["acked"] >= TOTAL and report["lost"] == 0 and total["failedAfterRetries"] == 0, report
    stream = server.stream("SLACK")
    assert stream is not None, server.jsz()
    assert stream["state"]["messages"] == TOTAL, stream["state"]
    assert stream["config"]["subjects"] == ["slack.>"], stream["config"]
    assert stream["config"]["duplicate_window"] == 900 * 10**9, stream["config"]
    assert stream["config"]["storage"] == "file", stream["config"]
    assert any("created stream SLACK" in line for line in daemon.err), daemon.err[-20:]


def test_nats_killed_under_load_loses_nothing_and_stores_each_event_once(tmp_path, processes, start_sim, nats):
    server = nats()
    port, monitor = server.port, server.monitor_port
    # Retry delays divided by 10 (0, 6 and 30 s): the redeliveries come within the test.
    sim = start_sim("--load-total", str(TOTAL), "--load-rate", "1500", "--load-delay", "1", "--time-scale", "10",
                    "--duration", "150")
    daemon = Proc([binary("sockeyed"), "run", "--config", config(str(tmp_path), sim.api, server.url)],
                  env=dict(os.environ, SOCKEYE_LOG_LEVEL="info"))
    processes.append(daemon)
    deadline = time.time() + 60
    while time.time() < deadline and stored(server) < TOTAL // 4:
        time.sleep(0.05)
    assert stored(server) >= TOTAL // 4, daemon.err[-20:]
    server.stop(signal.SIGKILL)
    time.sleep(3)
    # Slack's deliveries during the outage were nacked, not acked.
    assert daemon.wait_for(lambda: any("refuses events" in line for line in daemon.err), 10), daemon.err[-20:]
    restarted = nats(port=port, monitor_port=monitor)
    report = sim.report(150)
    total = report["total"]
    assert report["lost"] == 0 and total["failedAfterRetries"] == 0, report
    assert total["acked"] >= TOTAL, total
    assert stored(restarted) == TOTAL, restarted.stream("SLACK")["state"]
    assert any("takes events again" in line for line in daemon.err), daemon.err[-20:]
    assert daemon.proc.poll() is None, "sockeyed exited"


def worker_config(folder, nats_url, name, sink_yaml):
    path = os.path.join(folder, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"""sinks:
  out: {sink_yaml}
cluster:
  nats: [{nats_url}]
  node: {name}
workers:
  - name: archive
    stream: SLACK
    routes: [{{sinks: [out]}}]
    backoff: [200ms]
    ack_wait: 5s
operations:
  listen: "off"
""")
    return path


def spool_event_ids(path):
    """The event ids in a spool file; none while the worker has created the file but not yet
    its table."""
    import sqlite3
    database = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [row[0] for row in database.execute("SELECT event_id FROM events")]
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return []
        raise
    finally:
        database.close()


def test_a_worker_on_another_node_takes_every_event_even_when_killed(tmp_path, processes, start_sim, nats):
    """A node publishes Slack's events to the stream; a worker (another sockeyed) consumes them
    into a spool. The worker is killed with SIGKILL halfway and started again: the spool ends
    with every event the simulator saw acked, once (the spool de-duplicates the redeliveries of
    what the killed worker had taken but not acknowledged)."""
    folder = str(tmp_path)
    server = nats()
    sim = start_sim("--load-total", str(TOTAL), "--load-rate", "2000", "--load-delay", "1", "--time-scale", "10",
                    "--duration", "120")
    node = Proc([binary("sockeyed"), "run", "--config", config(folder, sim.api, server.url)])
    processes.append(node)
    spool = os.path.join(folder, "worker.db")
    worker_yaml = worker_config(folder, server.url, "worker", f"{{type: spool, path: {spool}}}")
    worker = Proc([binary("sockeyed"), "run", "--config", worker_yaml], env=dict(os.environ, SOCKEYE_LOG_LEVEL="info"))
    processes.append(worker)
    deadline = time.time() + 60
    while time.time() < deadline and (not os.path.exists(spool) or len(spool_event_ids(spool)) < TOTAL // 3):
        time.sleep(0.1)
    assert len(spool_event_ids(spool)) >= TOTAL // 3, worker.err[-20:]
    worker.kill()
    restarted = Proc([binary("sockeyed"), "run", "--config", worker_yaml], env=dict(os.environ, SOCKEYE_LOG_LEVEL="info"))
    processes.append(restarted)
    report = sim.report(120)
    assert report["lost"] == 0 and report["total"]["acked"] >= TOTAL, report
    deadline = time.time() + 60
    while time.time() < deadline and len(set(spool_event_ids(spool))) < TOTAL:
        time.sleep(0.2)
    ids = spool_event_ids(spool)
    assert len(set(ids)) == TOTAL, f"{len(set(ids))} distinct events in the worker's spool of {TOTAL}"
    assert len(ids) == TOTAL, f"{len(ids) - len(set(ids))} events stored twice"
    assert any("consumes slack.> from stream SLACK" in line for line in restarted.err), restarted.err[-20:]


def test_a_worker_killed_between_its_sink_and_its_ack_gets_the_events_again(tmp_path, processes, start_sim, nats):
    """The worker's sink is a slow program (every event takes it 10 ms, four at a time), so a
    batch is always in the sink when the worker is killed with SIGKILL: those events were
    written but never acknowledged. The stream delivers them again after ack_wait (to the
    restarted worker): every event reaches the sink at least once, and the consumer counts
    more deliveries than the stream has messages."""
    folder = str(tmp_path)
    server = nats()
    total = 2_000
    sim = start_sim("--load-total", str(total), "--load-rate", "2000", "--load-delay", "1", "--time-scale", "10",
                    "--duration", "120")
    node = Proc([binary("sockeyed"), "run", "--config", config(folder, sim.api, server.url)])
    processes.append(node)
    ids = os.path.join(folder, "ids.txt")
    handler = os.path.join(folder, "handle.sh")
    with open(handler, "w") as f:
        f.write(f"#!/bin/sh\necho \"$SOCKEYE_EVENT_ID\" >> {ids}\nsleep 0.01\n")
    os.chmod(handler, 0o755)
    worker_yaml = worker_config(folder, server.url, "worker", f"{{type: command, command: [{handler}], concurrency: 4}}")
    worker = Proc([binary("sockeyed"), "run", "--config", worker_yaml])
    processes.append(worker)

    def seen():
        try:
            with open(ids) as f:
                return [line.strip() for line in f if line.strip()]
        except FileNotFoundError:
            return []

    deadline = time.time() + 60
    while time.time() < deadline and len(seen()) < total // 3:
        time.sleep(0.05)
    assert len(seen()) >= total // 3, worker.err[-20:]
    worker.kill()
    restarted = Proc([binary("sockeyed"), "run", "--config", worker_yaml])
    processes.append(restarted)
    report = sim.report(120)
    assert report["lost"] == 0 and report["total"]["acked"] >= total, report
    deadline = time.time() + 90
    while time.time() < deadline and len(set(seen())) < total:
        time.sleep(0.2)
    assert len(set(seen())) == total, f"{len(set(seen()))} distinct events reached the sink of {total}"
    consumers = [c for a in server.jsz_consumers() for c in a]
    archive = next(c for c in consumers if c["name"] == "archive")
    # Deliveries (consumer sequence) beyond the stream's messages are redeliveries.
    assert archive["delivered"]["consumer_seq"] > archive["delivered"]["stream_seq"], archive


def test_a_worker_on_another_node_answers_slash_commands_in_slacks_ack(tmp_path, processes, start_sim, nats):
    """Request–reply around the stream: the node that receives a slash command publishes it
    (answer_wait set) and waits; a worker on another node runs it through a command sink
    that prints the answer; the answer reaches Slack (the simulator) in the node's ack, within
    Slack's 3 s. An event in the same flow is stored and acked without one."""
    folder = str(tmp_path)
    server = nats()
    sim = start_sim("--duration", "90")
    node_yaml = os.path.join(folder, "node.yaml")
    with open(node_yaml, "w") as f:
        f.write(f"""apps:
  - name: js-app
    app_token: {APP_TOKEN}
    api_url: {sim.api}
    pool_size: 2
    routes: [{{sinks: [events]}}]
sinks:
  events: {{type: jetstream, stream: SLACK, subject_prefix: slack, answer_wait: 2s}}
cluster:
  nats: [{server.url}]
  node: node-a
operations:
  listen: "off"
""")
    node = Proc([binary("sockeyed"), "run", "--config", node_yaml])
    processes.append(node)
    handler = os.path.join(folder, "answer.sh")
    with open(handler, "w") as f:
        # The command's stdout (a JSON object) is its answer; events print nothing.
        f.write("#!/bin/sh\n[ \"$SOCKEYE_ENVELOPE_TYPE\" = slash_commands ] && "
                "printf '{\"text\":\"done by the worker\"}'\nexit 0\n")
    os.chmod(handler, 0o755)
    worker_yaml = worker_config(folder, server.url, "worker", f"{{type: command, command: [{handler}], concurrency: 4}}")
    worker = Proc([binary("sockeyed"), "run", "--config", worker_yaml])
    processes.append(worker)
    sim.wait_for(lambda: len(sim.live_connections()) >= 2, 30, "the node's connections")
    # The worker binds its consumer once the stream exists: an event first makes it.
    sim.inject("message", count=1, app=0, text="warm-up")
    assert worker.wait_for(lambda: any("consumes slack.> from stream SLACK" in line for line in worker.err), 30), worker.err[-20:]
    time.sleep(0.5)
    sim.inject("slash_command", count=1, app=0, command="/deploy", text="api prod")
    sim.inject("message", count=1, app=0, text="after the command")
    sim.wait_for(lambda: sim.total()["acked"] >= 3, 30, "three acks")
    answers = [r for r in sim.responses() if r["type"] == "/deploy"]
    assert [a["payload"] for a in answers] == [{"text": "done by the worker"}], (sim.responses(), node.err[-10:], worker.err[-10:])
    total = sim.total()
    assert total["lateAcks"] == 0 and total["redelivered"] == 0, total
