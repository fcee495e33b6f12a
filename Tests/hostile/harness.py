#!/usr/bin/env python3
"""The hostile-input harness: one sockeyed with two HTTP-mode apps, attacked from outside in
phases (malformed heads and bodies, thousands of idle connections, slow-loris heads and
bodies, a flood of unsigned requests) while a correctly signed event is sent every 100-250 ms
on a fresh connection. Afterwards: the daemon is the same process, still alive; every signed
event it answered 200 is in its file sink exactly once and nothing else is; its peak RSS is
under the bound; the signed requests were all answered in time. Prints a table per phase
(and writes it as markdown with --markdown FILE); exits 1 when a check fails.

    Tests/hostile/harness.py [--bin-dir DIR] [--flood-seconds 20] [--markdown FILE]

Everything runs on 127.0.0.1 with free ports; the daemon is stopped by its PID; every phase
has a deadline, so a run takes about two minutes whatever the daemon does."""
import argparse
import asyncio
import collections
import concurrent.futures
import os
import random
import resource
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import attacks  # noqa: E402
from cases import malformed_cases  # noqa: E402
from daemon import SMALL_PATHS, Daemon, MemoryWatch  # noqa: E402
from wire import CLOSED, RESET, TIMEOUT, blocking_exchange, event_body, exchange, signed_request  # noqa: E402

MiB = 1 << 20


@dataclass
class Options:
    """What a run does; the defaults are the CI run's."""
    bin_dir: str = os.environ.get("SOCKEYE_BIN_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                                  ".build", "release"))
    baseline_seconds: float = 3
    idle_connections: int = 5000
    # The idle and slow connections are held longer than the daemon's default head and body
    # timeouts (10 s, from the accept): by the end of their phase the daemon must have closed every one.
    idle_seconds: float = 15
    slow_connections: int = 256
    slow_seconds: float = 15
    flood_seconds: float = 20
    flood_workers: int = 6
    # How long a malformed case may wait for its answer: longer than the daemon's longest
    # default deadline, a chunked body to a 1 MiB path (body_timeout 10 s + 1 MiB at the
    # minimum rate of 16 KiB/s = 74 s).
    case_timeout: float = 90
    probe_timeout: float = 10
    # The assertions: signed requests answered within this (the target, 100 ms, is reported),
    # and the daemon's peak RSS under this.
    latency_bound: float = 2.0
    rss_bound: int = 256 * MiB
    markdown: str = ""
    log_level: str = "info"


@dataclass
class Phase:
    """One attack and what it did."""
    name: str
    sent: str = ""
    outcomes: collections.Counter = field(default_factory=collections.Counter)
    log_lines: int = 0
    notes: list = field(default_factory=list)


@dataclass
class Probe:
    phase: str
    event_id: str
    status: object = None
    seconds: float = 0.0


class Run:
    """One harness run: the daemon, the probes, the phases, the checks."""

    def __init__(self, options, folder):
        self.options = options
        self.folder = folder
        self.daemon = None
        self.watch = None
        self.phase = "start"
        self.phases = []
        self.probes = []
        self.failures = []
        self.cases = []
        self.case_results = []
        self.culprit = None
        self.metrics = {}
        self.exit_code = None

    # MARK: probes

    def probe_loop(self, stop):
        """A correctly signed event on a fresh connection every 100-250 ms until `stop`, on
        threads of their own with blocking sockets, so that the attack's event loop does not
        delay them (each probe on its own thread: a slow answer does not hold the next)."""
        rng = random.Random(250)
        with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
            serial = 0
            while not stop.is_set() and serial < 100_000:
                serial += 1
                probe = Probe(self.phase, f"EvPROBE{serial:06d}")
                self.probes.append(probe)
                pool.submit(self.probe, probe)
                stop.wait(rng.uniform(0.1, 0.25))

    def probe(self, probe):
        data = signed_request("/slack/events", event_body(probe.event_id), self.daemon.secret, self.daemon.host)
        probe.status, probe.seconds = blocking_exchange(self.daemon.ingress_port, data, self.options.probe_timeout)

    # MARK: phases

    async def in_phase(self, name, attack):
        """Runs `attack()` (a coroutine function filling a Phase) as phase `name`."""
        phase = Phase(name)
        self.phase = self.watch.phase = name
        lines_before = self.daemon.log_lines()
        await attack(phase)
        phase.log_lines = self.daemon.log_lines() - lines_before
        self.phases.append(phase)
        if not self.daemon.alive():
            self.failures.append(f"sockeyed died during '{name}': {self.daemon.exit_description()}")
        elif phase.outcomes.get("still open at the end"):
            self.failures.append(f"'{name}': {phase.outcomes['still open at the end']} connections were still open after "
                                 f"the phase (the daemon's head and body timeouts should have closed them)")

    async def baseline(self, phase):
        phase.sent = "signed probes only"
        await asyncio.sleep(self.options.baseline_seconds)

    async def malformed(self, phase):
        """Each case on its own connection, sent one after the other; a case not answered
        within half a second keeps waiting in the background (up to case_timeout) while the next
        ones go, so a case the daemon holds open does not slow the rest. A case that ends
        without an answer is followed by a /healthz check: when the daemon no longer answers,
        it is given 30 s to exit and that case is named as the one that killed it."""
        d = self.daemon
        self.cases = malformed_cases(d.secret, d.host, now=int(time.time()), small_limit_path=SMALL_PATHS[0])
        self.case_results = [None] * len(self.cases)
        waiting = []

        async def run_case(index):
            self.case_results[index] = await exchange(d.ingress_port, self.cases[index].data, self.options.case_timeout)

        for index, case in enumerate(self.cases):
            task = asyncio.create_task(run_case(index))
            done, _ = await asyncio.wait([task], timeout=0.5)
            if not done:
                waiting.append(task)
            elif self.case_results[index][0] in (CLOSED, RESET) and not await asyncio.to_thread(d.healthy, 5):
                if not await asyncio.to_thread(d.healthy, 5):  # one more chance for a loaded machine
                    await asyncio.to_thread(d.wait_exit, 30)
                    break
            if not d.alive():
                break
        phase.sent = f"{len(self.cases)} cases, one connection each"
        self.case_waits = waiting
        if not d.alive():
            # The cases still waiting end now; the one that killed the daemon is the first
            # after the last one it answered (it answered every one before).
            await asyncio.gather(*waiting)
            answered = [i for i, r in enumerate(self.case_results) if r and isinstance(r[0], int)]
            first_unanswered = answered[-1] + 1 if answered else 0
            self.culprit = self.cases[min(first_unanswered, len(self.cases) - 1)]

    async def finish_malformed(self):
        """Collects the cases still waiting and counts every case's outcome."""
        await asyncio.gather(*getattr(self, "case_waits", []))
        phase = next((p for p in self.phases if p.name == "malformed heads and bodies"), None)
        for case, result in zip(self.cases, self.case_results):
            if result is None:
                continue
            status = result[0]
            if phase:
                phase.outcomes[_label(status)] += 1
            if isinstance(status, int) and 400 <= status < 500 or status in (CLOSED, RESET):
                continue
            if case.may_accept and status == 200:
                continue
            self.failures.append(f"malformed case [{case.category}] {case.name}: {_label(status)} (expected a 4xx or a close)")

    async def idle(self, phase):
        counts, close_times = await attacks.idle_connections(self.daemon.ingress_port, self.options.idle_connections,
                                                             self.options.idle_seconds)
        phase.sent = f"{self.options.idle_connections} connections held {self.options.idle_seconds:g} s"
        phase.outcomes.update(counts)
        if close_times:
            phase.notes.append(f"closed after {min(close_times):.1f}-{max(close_times):.1f} s")

    async def slow_heads(self, phase):
        counts, close_times = await attacks.slow_heads(self.daemon.ingress_port, self.options.slow_connections,
                                                       self.options.slow_seconds, self.daemon.host)
        phase.sent = f"{self.options.slow_connections} heads at 1 byte/s for {self.options.slow_seconds:g} s"
        phase.outcomes.update(counts)
        if close_times:
            phase.notes.append(f"closed after {min(close_times):.1f}-{max(close_times):.1f} s")

    async def slow_bodies(self, phase):
        counts, close_times = await attacks.slow_bodies(self.daemon.ingress_port, self.options.slow_connections,
                                                        self.options.slow_seconds, self.daemon.host, self.daemon.secret)
        phase.sent = f"{self.options.slow_connections} signed heads, bodies at 1 byte/s for {self.options.slow_seconds:g} s"
        phase.outcomes.update(counts)
        if close_times:
            phase.notes.append(f"closed after {min(close_times):.1f}-{max(close_times):.1f} s")

    async def flood(self, phase):
        counts = await attacks.flood(self.daemon.ingress_port, self.options.flood_seconds, self.daemon.host,
                                     self.daemon.secret, workers=self.options.flood_workers)
        requests = counts.pop("requests", 0)
        connections = counts.pop("connections", 0)
        phase.sent = (f"{requests} unsigned/wrongly signed POSTs on {connections} connections in "
                      f"{self.options.flood_seconds:g} s ({requests / max(self.options.flood_seconds, 0.001):.0f}/s)")
        phase.outcomes.update({_label(k): v for k, v in counts.items()})

    # MARK: the run

    async def attack(self):
        stop = threading.Event()
        prober = threading.Thread(target=self.probe_loop, args=(stop,), daemon=True)
        prober.start()
        steps = [("baseline (no attack)", self.baseline), ("malformed heads and bodies", self.malformed),
                 ("idle connections", self.idle), ("slow-loris heads", self.slow_heads),
                 ("slow-loris bodies", self.slow_bodies), ("flood of unsigned requests", self.flood)]
        for name, step in steps:
            await self.in_phase(name, step)
            if not self.daemon.alive():
                break
        self.phase = self.watch.phase = "after the attack"
        await self.finish_malformed()
        if self.daemon.alive():
            await asyncio.sleep(2)
        stop.set()
        await asyncio.to_thread(prober.join, self.options.probe_timeout + 30)

    def check_probes(self):
        """One failure line per phase and outcome: refused, unanswered or late probes."""
        bad = collections.defaultdict(list)
        for probe in self.probes:
            if probe.status != 200:
                bad[(probe.phase, _label(probe.status))].append(probe)
            elif probe.seconds > self.options.latency_bound:
                bad[(probe.phase, f"200 later than {self.options.latency_bound:g} s")].append(probe)
        for (phase, outcome), probes in bad.items():
            first = probes[0]
            self.failures.append(f"{len(probes)} signed events during '{phase}': {outcome} (first: {first.event_id} "
                                 f"after {first.seconds * 1000:.0f} ms)")

    def check_sink(self):
        """Every event answered 200 is written exactly once; nothing refused is written (an
        event whose answer did not come may be written once)."""
        taken = {p.event_id for p in self.probes if p.status == 200}
        taken |= {c.event_id for c, r in zip(self.cases, self.case_results) if c.may_accept and r and r[0] == 200}
        unanswered = {p.event_id for p in self.probes if p.status != 200}
        unanswered |= {c.event_id for c, r in zip(self.cases, self.case_results) if c.may_accept and (not r or r[0] != 200)}
        deadline = time.monotonic() + 30
        written = self.daemon.written_ids()
        while any(written[e] == 0 for e in taken) and time.monotonic() < deadline:
            time.sleep(0.2)
            written = self.daemon.written_ids()
        missing = sorted(e for e in taken if written[e] == 0)
        doubled = sorted((e for e, n in written.items() if n > 1), key=str)
        strangers = sorted((e for e in written if e not in taken and e not in unanswered), key=str)
        if missing:
            self.failures.append(f"{len(missing)} events answered 200 are not in the sink: {missing[:10]}")
        if doubled:
            self.failures.append(f"{len(doubled)} events are in the sink more than once: {doubled[:10]}")
        if strangers:
            self.failures.append(f"{len(strangers)} events in the sink were refused or never sent (None: a line with no id "
                                 f"the harness sent): {strangers[:10]}")
        self.sink_summary = f"{len(taken)} requests answered 200, {sum(written.values())} lines written"

    def run(self):
        options = self.options
        binary = os.path.join(options.bin_dir, "sockeyed")
        if not os.path.exists(binary):
            self.failures.append(f"{binary} is missing: build it with `swift build -c release --product sockeyed`")
            return
        self.file_limit_note = raise_file_limit(options)
        self.daemon = Daemon(binary, self.folder, options.log_level)
        self.watch = MemoryWatch(self.daemon)
        try:
            if not self.daemon.wait_listening():
                self.failures.append(f"sockeyed did not start ({self.daemon.exit_description()}): {self.daemon.log_tail()}")
                return
            asyncio.run(self.attack())
            self.watch.stop()
            if self.daemon.alive():
                self.metrics = self.daemon.metrics() or {}
            self.check_probes()
            self.check_sink()
            if self.watch.hwm > options.rss_bound:
                self.failures.append(f"peak RSS {self.watch.hwm / MiB:.0f} MiB is over the bound {options.rss_bound / MiB:.0f} MiB")
            if self.daemon.log_contains(self.daemon.secret) or self.daemon.log_contains(self.daemon.small_secret):
                self.failures.append("a signing secret is in the daemon's log")
        finally:
            self.watch.stop()
            alive = self.daemon.alive()
            self.exit_code = self.daemon.stop()
            if alive and self.exit_code != 0:
                self.failures.append(f"sockeyed did not stop cleanly on SIGTERM: exit {self.exit_code}")
            if self.culprit:
                self.failures.insert(0, f"sockeyed died ({self.daemon.exit_description()}) on malformed case "
                                        f"[{self.culprit.category}] {self.culprit.name}: {self.culprit.data[:300]!r}")
            if not alive:
                self.failures.append("sockeyed's log:\n  " + "\n  ".join(self.daemon.crash_lines()))

    # MARK: the report

    def table(self):
        lines = ["| attack | sent | outcomes | signed events (200/sent) | latency p50 / p99 / max | daemon RSS peak | log lines |",
                 "|---|---|---|---|---|---|---|"]
        for phase in self.phases + [Phase("after the attack", "signed probes only")]:
            probes = [p for p in self.probes if p.phase == phase.name]
            ok = [p.seconds for p in probes if p.status == 200]
            outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(phase.outcomes.items(), key=lambda kv: -kv[1]))
            if phase.notes:
                outcomes += " (" + "; ".join(phase.notes) + ")"
            peak = self.watch.peaks.get(phase.name, 0) if self.watch else 0
            lines.append(f"| {phase.name} | {phase.sent} | {outcomes or '-'} | {len(ok)}/{len(probes)} | {_latency(ok)} | "
                         f"{peak / MiB:.0f} MiB | {phase.log_lines if phase.name != 'after the attack' else '-'} |")
        return "\n".join(lines)

    def case_table(self):
        by_category = collections.defaultdict(collections.Counter)
        for case, result in zip(self.cases, self.case_results):
            by_category[case.category][_label(result[0]) if result else "not sent"] += 1
        lines = ["| malformed category | cases | outcomes |", "|---|---|---|"]
        for category, counts in by_category.items():
            lines.append(f"| {category} | {sum(counts.values())} | "
                         + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) + " |")
        slow = sorted(((r[1], c, r[0]) for c, r in zip(self.cases, self.case_results) if r and r[1] > 5), key=lambda t: -t[0])
        if slow:
            lines += ["", "Malformed cases the daemon took more than 5 s to end:", ""]
            lines += [f"- [{c.category}] {c.name}: {_label(status)} after {seconds:.1f} s" for seconds, c, status in slow]
        return "\n".join(lines)

    def report(self):
        all_ok = [p.seconds for p in self.probes if p.status == 200]
        during = [p.seconds for p in self.probes if p.status == 200 and p.phase not in ("baseline (no attack)", "after the attack")]
        parts = ["## Hostile-input harness", "", self.table(), "", self.case_table(), ""]
        parts.append(f"- signed events during the attacks: {len(during)} answered 200, latency {_latency(during)} "
                     f"(target 100 ms, asserted bound {self.options.latency_bound:g} s); all probes: {_latency(all_ok)}")
        if self.watch:
            parts.append(f"- daemon peak RSS (VmHWM): {self.watch.hwm / MiB:.0f} MiB (bound {self.options.rss_bound / MiB:.0f} MiB)")
        if self.daemon:
            parts.append(f"- daemon PID {self.daemon.pid}: {'alive through the run' if not self.culprit and self.exit_code == 0 else self.daemon.exit_description()}; "
                         f"stopped with exit {self.exit_code}")
        parts.append(f"- sink: {getattr(self, 'sink_summary', 'not checked')}")
        if getattr(self, "file_limit_note", ""):
            parts.append(f"- {self.file_limit_note}")
        counters = {k: v for k, v in self.metrics.items() if _is_rejection_metric(k) and v}
        if counters:
            parts += ["", "Ingress and listener counters in /metrics after the run (those not zero):", "", "```"]
            parts += [f"{k} {v:g}" for k, v in sorted(counters.items())]
            parts.append("```")
        parts += ["", f"Result: {'PASS' if not self.failures else 'FAIL'}"]
        parts += [f"- {f}" for f in self.failures[:40]]
        if len(self.failures) > 40:
            parts.append(f"- … and {len(self.failures) - 40} more")
        return "\n".join(parts) + "\n"


def _is_rejection_metric(name):
    return name.startswith("sockeyed_ingress") or any(w in name for w in ("reject", "refus", "listener", "limit"))


def _label(status):
    if isinstance(status, int):
        return str(status)
    return {CLOSED: "closed", RESET: "reset", TIMEOUT: "no answer", None: "not answered"}.get(status, str(status))


def _latency(seconds):
    if not seconds:
        return "-"
    ordered = sorted(seconds)

    def rank(q):
        return ordered[min(len(ordered) - 1, max(0, int(-(-q * len(ordered) // 1)) - 1))]
    return f"{rank(0.5) * 1000:.1f} / {rank(0.99) * 1000:.1f} / {ordered[-1] * 1000:.1f} ms"


def raise_file_limit(options):
    """Raises this process's open-file limit (inherited by the daemon) to fit the idle
    connections; shrinks the attack when the hard limit is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = options.idle_connections + options.slow_connections + 4096
    if hard != resource.RLIM_INFINITY and hard < wanted:
        options.idle_connections = max(100, hard - options.slow_connections - 4096)
        note = f"open-file hard limit {hard}: idle connections cut to {options.idle_connections}"
        wanted = hard
    else:
        note = ""
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return note


def run(options):
    """Runs the harness; (report text, failures)."""
    with tempfile.TemporaryDirectory(prefix="sockeye-hostile-") as folder:
        harness = Run(options, folder)
        harness.run()
        text = harness.report()
    if options.markdown:
        with open(options.markdown, "w") as f:
            f.write(text)
    return text, harness.failures


def main():
    defaults = Options()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin-dir", default=defaults.bin_dir, help="the folder with the release sockeyed")
    parser.add_argument("--flood-seconds", type=float, default=defaults.flood_seconds)
    parser.add_argument("--idle-connections", type=int, default=defaults.idle_connections)
    parser.add_argument("--idle-seconds", type=float, default=defaults.idle_seconds)
    parser.add_argument("--slow-connections", type=int, default=defaults.slow_connections)
    parser.add_argument("--slow-seconds", type=float, default=defaults.slow_seconds)
    parser.add_argument("--rss-bound-mib", type=int, default=defaults.rss_bound // MiB)
    parser.add_argument("--latency-bound", type=float, default=defaults.latency_bound, help="seconds")
    parser.add_argument("--markdown", default="", help="also write the report to this file")
    args = parser.parse_args()
    options = Options(bin_dir=args.bin_dir, flood_seconds=args.flood_seconds, idle_connections=args.idle_connections,
                      idle_seconds=args.idle_seconds, slow_connections=args.slow_connections, slow_seconds=args.slow_seconds,
                      rss_bound=args.rss_bound_mib * MiB, latency_bound=args.latency_bound, markdown=args.markdown)
    text, failures = run(options)
    print(text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
