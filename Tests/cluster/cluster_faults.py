#!/usr/bin/env python3
"""Cluster faults, for real: three `nats-server` in a JetStream cluster, three `sockeyed` nodes
sharing one app's Socket Mode connections (pool_size 9, leases in the cluster's bucket) and
publishing its events to an R3 stream, a fourth `sockeyed` running a worker that consumes the
stream into a spool, and the simulator playing Slack: it allows 10 sockets per app (the 11th
gets `too_many_websockets`), drops a connection that misses three pings a second apart,
recycles every connection after 40 s (a warning, then `refresh_requested`: the nodes replace
them through the cluster's refresh spare), and counts `apps.connections.open` calls.

Under a steady load, one fault at a time:
  1. `kill -9` of a sockeyed node (then it is started again);
  2. `SIGSTOP` of a node for longer than its lease, then `SIGCONT`: it must find its leases
     gone and close those sockets;
  3. `kill -9` of the stream's leader `nats-server` (it stays down: two of three keep quorum);
  4. `kill -9` of the worker under load, between its sink and its JetStream ack (then it is
     started again).

Checks: every event the simulator saw acked is in the stream exactly once (each event of the
load has an event id of its own; the stream holds as many messages as events were acked, and
the worker's spool, which reads only the stream, holds that many distinct events); the worker's
spool has each event once; the simulator never
saw more than 10 sockets for the app nor sent `too_many_websockets`; nothing was lost. Reported:
per fault, the seconds until the app had its 9 connections again, and overall the longest time
the app had no connection at all, the `apps.connections.open` calls and the acks that missed
Slack's 3 s.

    python3 Tests/cluster/cluster_faults.py            # the full run (every fault twice)
    python3 Tests/cluster/cluster_faults.py --short    # what CI runs (each fault once)

The binaries come from SOCKEYE_BIN_DIR (else `swift build -c release --show-bin-path`); the
NATS server from SOCKEYE_NATS_SERVER, else PATH or /usr/sbin. Everything listens on 127.0.0.1
and is stopped by PID. Exits 1 when a check fails, after printing the report.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from nats_process import NatsCluster  # noqa: E402
from sim_process import APP_TOKEN, SimProcess, find_binary  # noqa: E402

SLOTS = 9              # the app's connections across the cluster (Slack's 10, one kept as the refresh spare)
LEASE_SECONDS = 10.0   # sockeyed's default lease time
STREAM = "SLACK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Child:
    """A child process in its own session; its stderr is kept (last lines) for the report."""

    def __init__(self, name: str, argv: List[str], log: Optional[str] = None) -> None:
        self.name, self.argv, self.log = name, argv, log
        self.lines: List[str] = []
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True, env=dict(os.environ, SOCKEYE_LOG_LEVEL=os.environ.get(
                                         "SOCKEYE_CLUSTER_LOG_LEVEL", "info")))
        threading.Thread(target=self._read, args=(self.proc.stderr,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        log = open(self.log, "a") if self.log else None
        try:
            for line in stream:
                self.lines.append(line.rstrip("\n"))
                if len(self.lines) > 4000:
                    del self.lines[:2000]
                if log:
                    log.write(line)
        finally:
            if log:
                log.close()

    def send(self, number: int) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, number)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def node_config(folder: str, name: str, api: str, urls: List[str], port: int) -> str:
    path = os.path.join(folder, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"""apps:
  - name: app
    app_token: {APP_TOKEN}
    api_url: {api}
    pool_size: {SLOTS}
    routes: [{{sinks: [events]}}]
sinks:
  events: {{type: jetstream, stream: {STREAM}, subject_prefix: slack}}
cluster:
  nats: [{", ".join(urls)}]
  node: {name}
  lease_time: {LEASE_SECONDS:g}s
operations:
  listen: "127.0.0.1:{port}"
""")
    return path


def live_on(port: int) -> Optional[int]:
    """The app's live connections on the node with this operations port (its /metrics), None
    when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("sockeyed_connections{") and 'kind="live"' in line:
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def worker_config(folder: str, urls: List[str], spool: str) -> str:
    path = os.path.join(folder, "worker.yaml")
    with open(path, "w") as f:
        f.write(f"""sinks:
  out: {{type: spool, path: {spool}}}
cluster:
  nats: [{", ".join(urls)}]
  node: worker
workers:
  - name: archive
    stream: {STREAM}
    routes: [{{sinks: [out]}}]
    backoff: [200ms]
    ack_wait: 5s
operations:
  listen: "off"
""")
    return path


def spool_event_ids(path: str) -> List[str]:
    if not os.path.exists(path):
        return []
    try:
        database = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return [row[0] for row in database.execute("SELECT event_id FROM events")]
        finally:
            database.close()
    except sqlite3.Error:
        return []


class Run:
    """One run: the processes, the load, the faults and what was measured."""

    def __init__(self, folder: str, short: bool) -> None:
        self.folder, self.short = folder, short
        self.rate = 200 if short else 400
        self.rounds = 1 if short else 2
        # Load long enough for every fault of every round, with time to settle after each.
        seconds = 110 * self.rounds + 30
        self.total = self.rate * seconds
        self.results: Dict[str, Any] = {"faults": [], "rate": self.rate, "events": self.total,
                                        "lease_seconds": LEASE_SECONDS}
        self.failures: List[str] = []

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            self.failures.append(what)

    def app(self) -> Dict[str, Any]:
        return self.sim.stats()["apps"][0]

    def live(self) -> int:
        return len(self.sim.live_connections())

    def wait_live(self, count: int, timeout: float) -> Optional[float]:
        """Seconds until the app has `count` live connections, None after `timeout`."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.live() >= count:
                return round(time.monotonic() - started, 1)
            time.sleep(0.2)
        return None

    def per_node(self) -> Dict[str, Optional[int]]:
        """Live connections per node, from the nodes' metrics."""
        return {node.name: live_on(port) for node, port in zip(self.nodes, self.ports)}

    def wait_balanced(self, timeout: float) -> Optional[float]:
        """Seconds until the three nodes hold three connections each (None after `timeout`)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if list(self.per_node().values()) == [SLOTS // 3] * 3:
                return round(time.monotonic() - started, 1)
            time.sleep(0.3)
        return None

    def restored_after(self, timeout: float) -> Optional[float]:
        """After a fault (just now): seconds until the app had its connections again, counted
        from the fault, once the simulator noticed the loss (it notices a stalled node only
        after its missed pings). None when they were not lost or not restored in `timeout`."""
        started = time.monotonic()
        while time.monotonic() - started < 10 and self.live() >= SLOTS:
            time.sleep(0.1)
        if self.live() >= SLOTS:
            return None
        back = self.wait_live(SLOTS, timeout)
        return None if back is None else round(time.monotonic() - started, 1)

    def record(self, fault: str, **figures: Any) -> None:
        app = self.app()
        entry = {"fault": fault, **figures, "live_per_node": self.per_node(), "peak_sockets_so_far": app["peakConnections"],
                 "too_many_websockets_so_far": app["tooManyRejections"],
                 "longest_without_connection_so_far": round(app["longestWithoutConnectionSeconds"], 2)}
        self.results["faults"].append(entry)
        print(json.dumps(entry), flush=True)

    def start(self) -> None:
        self.nats = NatsCluster(os.path.join(self.folder, "nats"))
        sim_config = os.path.join(self.folder, "sim.json")
        with open(sim_config, "w") as f:
            # Slack recycles each connection after 40 s here (400 s of protocol time at
            # --time-scale 10), with its warning 1 s before: the nodes refresh all through the
            # run, one at a time through the cluster's spare.
            json.dump({"pingInterval": 1, "maxMissedPongs": 3, "maxConnectionsPerApp": 10,
                       "connectionLifetime": 400, "warningLead": 10, "warningProbability": 1}, f)
        self.sim = SimProcess("--config", sim_config, "--load-rate", str(self.rate), "--load-total", str(self.total),
                              "--wait-connections", str(SLOTS), "--load-delay", "1", "--time-scale", "10",
                              "--duration", str(self.total // self.rate + 900))
        sockeyed = find_binary("sockeyed")
        self.ports = [free_port() for _ in range(3)]
        self.nodes = [Child(f"node{index + 1}", [sockeyed, "run", "--config",
                                                  node_config(self.folder, f"node{index + 1}", self.sim.api, self.nats.urls,
                                                              self.ports[index])],
                            log=os.path.join(self.folder, f"node{index + 1}.log"))
                      for index in range(3)]
        self.spool = os.path.join(self.folder, "worker.db")
        self.worker = Child("worker", [sockeyed, "run", "--config", worker_config(self.folder, self.nats.urls, self.spool)],
                            log=os.path.join(self.folder, "worker.log"))
        first = self.wait_live(SLOTS, 60)
        self.check(first is not None, "the app never had its 9 connections")
        self.record("start", connections_after=first)
        balanced = self.wait_balanced(60)
        self.check(balanced is not None, f"the nodes never split the connections evenly: {self.per_node()}")
        self.record("balanced", after=balanced)

    def kill_node(self, node: Child) -> None:
        node.kill()
        restored = self.restored_after(3 * LEASE_SECONDS)
        self.check(restored is not None and restored <= 15, f"kill -9 {node.name}: slots taken over in {restored} s (target 15 s)")
        self.record(f"kill -9 {node.name}", connections_restored_after=restored)
        node.start()
        balanced = self.wait_balanced(4 * LEASE_SECONDS)
        self.check(balanced is not None, f"{node.name} restarted: the nodes did not split the connections again: {self.per_node()}")
        self.record(f"{node.name} started again", balanced_after=balanced)

    def stall_node(self, node: Child) -> None:
        node.send(signal.SIGSTOP)
        stopped = time.monotonic()
        restored = self.restored_after(3 * LEASE_SECONDS)
        time.sleep(max(0.0, LEASE_SECONDS + 5 - (time.monotonic() - stopped)))
        held_while_stopped = self.per_node()
        node.send(signal.SIGCONT)
        self.check(restored is not None and restored <= 15, f"SIGSTOP {node.name}: slots taken over in {restored} s (target 15 s)")
        self.record(f"SIGSTOP {node.name} for {LEASE_SECONDS + 5:g} s", connections_restored_after=restored,
                    live_per_node_while_stopped=held_while_stopped)
        balanced = self.wait_balanced(4 * LEASE_SECONDS)
        self.check(balanced is not None, f"{node.name} resumed: the nodes did not split the connections again: {self.per_node()}")
        self.record(f"SIGCONT {node.name}", balanced_after=balanced)

    def kill_stream_leader(self) -> None:
        leader = self.nats.stream_leader()
        if leader is None or len(self.nats.alive()) < 3:
            self.record("kill -9 of the stream leader skipped", reason="no leader known or a server is down already")
            return
        before = self.nats.stream_messages()
        leader.stop(signal.SIGKILL)
        started = time.monotonic()
        moved = None
        while time.monotonic() - started < 30:
            now_leader = self.nats.stream_leader()
            if now_leader is not None and now_leader is not leader:
                moved = round(time.monotonic() - started, 1)
                break
            time.sleep(0.2)
        time.sleep(5)
        self.check(moved is not None, "the stream elected no new leader within 30 s")
        self.record(f"kill -9 nats-server {leader.name} (stream leader)", new_leader_after=moved,
                    stored_before=before, stored_after=self.nats.stream_messages())

    def kill_worker(self) -> None:
        taken = len(spool_event_ids(self.spool))
        self.worker.kill()
        time.sleep(2)
        self.worker.start()
        time.sleep(5)
        self.record("kill -9 worker", spool_rows_before=taken, spool_rows_after=len(spool_event_ids(self.spool)))

    def run(self) -> None:
        self.start()
        for round_number in range(self.rounds):
            self.kill_node(self.nodes[round_number % 3])
            self.stall_node(self.nodes[(round_number + 1) % 3])
            if round_number == 0:
                self.kill_stream_leader()
            self.kill_worker()
        # The simulator ends once every event of the load is acked or lost for good.
        self.finish(self.sim.report(self.total / self.rate + 600))

    def finish(self, report: Dict[str, Any]) -> None:
        total = report["total"]
        app = report["apps"][0]
        # Each event of the load has an event id of its own: with nothing lost, every one was acked.
        acked = min(total["acked"], self.total) if report["lost"] == 0 else self.total - report["lost"]
        deadline = time.time() + 90
        while time.time() < deadline and len(set(spool_event_ids(self.spool))) < acked:
            time.sleep(0.5)
        spool_ids = spool_event_ids(self.spool)
        stored = self.nats.stream_messages()
        self.results.update({
            "acked_events": acked, "stream_messages": stored, "spool_rows": len(spool_ids),
            "spool_distinct": len(set(spool_ids)),
            "lost": report["lost"], "failed_after_retries": total["failedAfterRetries"],
            "redelivered_by_slack": total["redelivered"], "acks_after_3s": total["lateAcks"],
            "peak_sockets": app["peakConnections"], "too_many_websockets": app["tooManyRejections"],
            "connections_open_calls": app["connectionsOpenURLs"] + app["connectionsOpenRateLimited"],
            "sockets_opened": report["connectionsOpened"],
            "longest_without_connection_seconds": round(app["longestWithoutConnectionSeconds"], 2),
            "ack_latency_ms": report["latencyMs"],
        })
        self.check(report["lost"] == 0 and acked == self.total, f"{acked} events acked of {self.total}, {report['lost']} lost")
        # The stream holds as many messages as events were acked, and the worker, which reads
        # only the stream, found that many distinct events in it: each is in the stream once.
        self.check(stored == acked, f"the stream has {stored} messages for {acked} acked events")
        self.check(len(set(spool_ids)) == acked, f"the worker's spool has {len(set(spool_ids))} distinct events of {acked}")
        self.check(len(spool_ids) == len(set(spool_ids)), f"{len(spool_ids) - len(set(spool_ids))} events twice in the spool")
        self.check(app["peakConnections"] <= 10, f"the simulator saw {app['peakConnections']} sockets for the app")
        self.check(app["tooManyRejections"] == 0, f"the simulator sent too_many_websockets {app['tooManyRejections']} times")

    def stop(self) -> None:
        for child in getattr(self, "nodes", []) + ([self.worker] if hasattr(self, "worker") else []):
            child.stop()
        if hasattr(self, "sim"):
            self.sim.stop()
        if hasattr(self, "nats"):
            self.nats.stop()

    def tails(self) -> str:
        parts = []
        for child in getattr(self, "nodes", []) + ([self.worker] if hasattr(self, "worker") else []):
            parts.append(f"--- {child.name} ---\n" + "\n".join(child.lines[-15:]))
        return "\n".join(parts)


def run_faults(short: bool, folder: Optional[str] = None) -> Dict[str, Any]:
    """Runs every fault; returns the results with `failures` (empty when every check held)."""
    with tempfile.TemporaryDirectory(prefix="sockeye-cluster-") as scratch:
        run = Run(folder or scratch, short)
        try:
            run.run()
        except Exception as error:  # noqa: BLE001 - reported as a failure with the processes' last words
            run.failures.append(f"{type(error).__name__}: {error}")
        finally:
            run.stop()
        run.results["failures"] = run.failures
        if run.failures:
            run.results["logs"] = run.tails()
        return run.results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="each fault once, at a lower rate (what CI runs)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--keep", help="work in this folder and keep it (the daemons' logs, the stores)")
    options = parser.parse_args()
    if options.keep:
        os.makedirs(options.keep, exist_ok=True)
    results = run_faults(options.short, options.keep)
    text = json.dumps({k: v for k, v in results.items() if k != "logs"}, indent=2)
    print(text)
    if results.get("logs"):
        print(results["logs"], file=sys.stderr)
    if options.json:
        with open(options.json, "w") as f:
            f.write(text + "\n")
    return 1 if results["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
