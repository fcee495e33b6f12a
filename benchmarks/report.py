#!/usr/bin/env python3
"""benchmarks/report.py: turns a benchmarks/run matrix (JSON) into the published report —
benchmarks/results/<date>-<machine>.md with its tables, and PNG plots beside it.

  .venv/bin/python benchmarks/report.py benchmarks/scratch/matrix-latest.json [--out benchmarks/results]

The input (written by benchmarks/run) is one object:

  {"machine": {"name", "cores", "cpu", "kernel", "memory_gib"}, "versions": {package: version},
   "mode": "full" | "smoke", "when": "YYYYMMDD-HHMMSS", "repetitions": n,
   "rows": [{"contender": "Sockeye (Swift API)", "key": "sockeye", "family": "sockeye",
             "scenario": "connections" | "payload" | "rate" | "apps" | "apps-rate" | "faults" | "transport",
             "point": 4 (connections, bytes, events/s, apps, a fault's name, ws/wss),
             "runs": [{"eventsPerSecond", "p50Ms", "p99Ms", "p999Ms", "cpuUserS", "cpuSystemS",
                       "acked", "rssMiB", "allocationsPerEvent", "simCpuFraction", "simBound",
                       "lost", "duplicates", "longestGapMs"}, …],
             "skipped": "why" (optional), "notes": [...]}]}

Every figure in the tables is the median of a row's runs, with [min–max] when there were
several; ratios are taken between rows of the same run.
"""
import argparse
import json
import os
import statistics
import sys

FAULTS_LEGEND = ("Lost: not acked a minute after the load's last envelope was due (or given up by the sim). "
                 "Redelivered: envelopes the sim sent again because no ack came within Slack's 3 s. Delivered "
                 "twice: events that reached the client's handler more than once, counted by event id ('-' where "
                 "the client does not count them). Longest gap: the longest time without a new ack while the load "
                 "ran, polled at about 10 Hz, so about 100 ms means no gap was seen.")

PLOTS = [
    ("throughput-vs-connections.png", "connections", "connections", "acked events/s", False),
    ("throughput-vs-payload.png", "payload", "payload bytes", "acked events/s", True),
    ("latency-vs-rate.png", "rate", "offered events/s", "ack latency p99 (ms, from the scheduled send)", True),
    ("resources-vs-apps.png", "apps", "apps in one process", None, False),
    ("loss-under-faults.png", "faults", None, "events lost", False),
]


def median_of(runs, field):
    values = [r[field] for r in runs if r.get(field) is not None]
    if not values:
        return None, None, None
    return statistics.median(values), min(values), max(values)


def cpu_per_million(run):
    """CPU seconds (user, system) per million acked events of one run."""
    if not run.get("acked"):
        return None, None
    scale = 1e6 / run["acked"]
    return run.get("cpuUserS", 0) * scale, run.get("cpuSystemS", 0) * scale


def cell(runs, field, spec, repetitions):
    mid, low, high = median_of(runs, field)
    if mid is None:
        return "-"
    text = format(mid, spec)
    if repetitions > 1 and low != high:
        text += f" [{format(low, spec)}–{format(high, spec)}]"
    return text


def enrich(rows):
    """Adds per-run CPU per million events and each row's median events/s."""
    for row in rows:
        for run in row.get("runs", []):
            run["cpuUserPerMillion"], run["cpuSystemPerMillion"] = cpu_per_million(run)
        row["median"] = median_of(row.get("runs", []), "eventsPerSecond")[0]


def scenario_table(rows, scenario, repetitions):
    """Markdown table of one scenario: a line per contender and point."""
    picked = [r for r in rows if r["scenario"] == scenario]
    if not picked:
        return []
    head = ["contender", scenario if scenario != "faults" else "fault", "acked events/s", "p50 ms", "p99 ms"]
    if scenario in ("rate", "apps-rate"):
        head.append("p99.9 ms")
    head += ["CPU s / M events (user + sys)", "peak RSS MiB", "sim CPU", "lost"]
    counts_allocations = any(run.get("allocationsPerEvent") is not None for r in picked for run in r.get("runs", []))
    if counts_allocations:
        head.append("allocations / event")
    if scenario == "faults":
        head += ["redelivered by the sim", "delivered twice", "longest gap ms"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in sorted(picked, key=lambda r: (order(r["point"]), r["family"] != "sockeye", r["contender"])):
        runs = row.get("runs", [])
        if row.get("skipped"):
            lines.append(f"| {row['contender']} | {row['point']} | {row['skipped']} |" + " |" * (len(head) - 3))
            continue
        user = median_of(runs, "cpuUserPerMillion")[0]
        system = median_of(runs, "cpuSystemPerMillion")[0]
        cpu = "-" if user is None else f"{user:.1f} + {system:.1f}"
        sim = median_of(runs, "simCpuFraction")[0]
        bound = any(r.get("simBound") for r in runs)
        cells = [row["contender"], str(row["point"]), cell(runs, "eventsPerSecond", ",.0f", repetitions)
                 + (" (sim-bound)" if bound else ""), cell(runs, "p50Ms", ".2f", repetitions), cell(runs, "p99Ms", ".2f", repetitions)]
        if scenario in ("rate", "apps-rate"):
            cells.append(cell(runs, "p999Ms", ".2f", repetitions))
        cells += [cpu, cell(runs, "rssMiB", ".1f", repetitions), "-" if sim is None else f"{sim * 100:.0f} %",
                  str(max((r.get("lost") or 0) for r in runs) if runs else "-")]
        if counts_allocations:
            cells.append(cell(runs, "allocationsPerEvent", ".2f", repetitions))
        if scenario == "faults":
            twice = [r["duplicates"] for r in runs if r.get("duplicates") is not None]
            cells += [cell(runs, "redelivered", ",.0f", repetitions), str(max(twice)) if twice else "-",
                      cell(runs, "longestGapMs", ",.0f", repetitions)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def idle_table(rows, repetitions):
    """Markdown table of the idle rows: RSS with 1 and 10 idle connections, and what each
    idle connection beyond the first costs ((RSS at 10 - RSS at 1) / 9, medians)."""
    picked = [r for r in rows if r["scenario"] == "idle"]
    if not picked:
        return []
    lines = ["| contender | RSS, 1 idle connection MiB | RSS, 10 idle connections MiB | per idle connection KiB |",
             "|---|---|---|---|"]
    for contender in sorted({r["contender"] for r in picked}):
        by_point = {r["point"]: r for r in picked if r["contender"] == contender}
        cells, values = [contender], {}
        for point in (1, 10):
            row = by_point.get(point)
            if row is None or row.get("skipped"):
                cells.append(row["skipped"] if row else "-")
                continue
            values[point] = median_of(row["runs"], "idleRssMiB")[0]
            cells.append(cell(row["runs"], "idleRssMiB", ".1f", repetitions))
        if values.get(1) is not None and values.get(10) is not None:
            cells.append(f"{(values[10] - values[1]) * 1024 / 9:,.0f}")
        else:
            cells.append("-")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def order(point):
    """Sorts numeric points by value and the others by name."""
    return (0, point, "") if isinstance(point, (int, float)) else (1, 0, str(point))


def plot(rows, out_dir):
    """The PNG plots; returns their file names (none when matplotlib is missing)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from cycler import cycler
    except ImportError:
        print("report: matplotlib is not installed: no plots", file=sys.stderr)
        return []
    # Up to 20 contenders, each its own colour and marker (the default cycle repeats after 10).
    colours = list(plt.cm.tab20.colors[::2]) + list(plt.cm.tab20.colors[1::2])
    markers = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">"] * 2
    plt.rcParams["axes.prop_cycle"] = cycler(color=colours) + cycler(marker=markers)
    made = []
    for name, scenario, xlabel, ylabel, logx in PLOTS:
        picked = [r for r in rows if r["scenario"] == scenario and r.get("runs")]
        if not picked:
            continue
        contenders = sorted({r["contender"] for r in picked})
        if scenario == "apps":
            fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
            for contender in contenders:
                points = sorted((r["point"], median_of(r["runs"], "rssMiB")[0], median_of(r["runs"], "cpuUserPerMillion")[0])
                                for r in picked if r["contender"] == contender)
                xs = [p[0] for p in points]
                axes[0].plot(xs, [p[1] for p in points], label=contender)
                axes[1].plot(xs, [p[2] for p in points], label=contender)
            axes[0].set_ylabel("peak RSS (MiB)")
            axes[1].set_ylabel("user CPU s per million events")
            for ax in axes:
                ax.set_xlabel("apps in one process")
                ax.set_xscale("log")
                ax.grid(True, alpha=0.3)
            axes[1].legend(fontsize=7)
        elif scenario == "faults":
            fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
            faults = sorted({r["point"] for r in picked}, key=str)
            width = 0.8 / max(len(faults), 1)
            panels = [(axes[0], ylabel, lambda runs: max((run.get("lost") or 0) for run in runs), False),
                      (axes[1], "longest gap without an ack (s, median)",
                       lambda runs: (median_of(runs, "longestGapMs")[0] or 0) / 1000, True)]
            for ax, label, value, log_scale in panels:
                for index, fault in enumerate(faults):
                    values = [value(next((r["runs"] for r in picked if r["contender"] == c and r["point"] == fault),
                                         [{}])) for c in contenders]
                    ax.bar([i + index * width for i in range(len(contenders))], values, width, label=str(fault))
                ax.set_xticks([i + width * (len(faults) - 1) / 2 for i in range(len(contenders))])
                ax.set_xticklabels(contenders, rotation=35, ha="right", fontsize=7)
                ax.set_ylabel(label)
                if log_scale:
                    ax.set_yscale("log")
                ax.grid(True, axis="y", alpha=0.3)
            axes[0].legend(fontsize=7)
        else:
            fig, ax = plt.subplots(figsize=(9, 4.8))
            field = "p99Ms" if scenario == "rate" else "eventsPerSecond"
            for contender in contenders:
                points = sorted((r["point"], median_of(r["runs"], field)[0], median_of(r["runs"], "p50Ms")[0])
                                for r in picked if r["contender"] == contender)
                points = [p for p in points if p[1] is not None]
                if not points:
                    continue
                line, = ax.plot([p[0] for p in points], [p[1] for p in points], label=contender)
                if scenario == "rate":
                    ax.plot([p[0] for p in points], [p[2] for p in points], linestyle=":", color=line.get_color())
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel + (" (dotted: p50)" if scenario == "rate" else ""))
            if logx:
                ax.set_xscale("log")
            if scenario in ("rate", "connections", "payload"):
                ax.set_yscale("log")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, name), dpi=110)
        plt.close(fig)
        made.append(name)
    return made


def write(matrix, out_dir, daemon=None):
    rows = matrix["rows"]
    enrich(rows)
    machine = matrix["machine"]
    stem = f"{matrix['when'][:8]}-{machine['name']}"
    plot_dir = os.path.join(out_dir, stem)
    os.makedirs(plot_dir, exist_ok=True)
    plots = plot(rows, plot_dir)
    repetitions = matrix.get("repetitions", 1)
    lines = [f"# Benchmarks, {matrix['when'][:4]}-{matrix['when'][4:6]}-{matrix['when'][6:8]} ({matrix['mode']} run)", "",
             f"Machine: {machine['cores']} cores, {machine['cpu']}, {machine.get('memory_gib', '?')} GiB, "
             f"Linux {machine['kernel']}. Each figure is the median of {repetitions} run(s)"
             + (" [min–max]" if repetitions > 1 else "") + "; every contender ran against the same sockeye-sim build "
             "with the same load, one row after another on this machine. The sim's own CPU is shown beside each row; "
             "\"sim-bound\" marks rows where the simulator, not the contender, was the limit.", "",
             "Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(matrix.get("versions", {}).items())), ""]
    titles = {"connections": "Saturation by connections", "payload": "Saturation by payload size",
              "rate": "Open-loop offered rate: ack latency from the scheduled send time",
              "apps": "Many apps in one process",
              "apps-rate": "Many apps at a low rate: 100 apps, 2 connections each, 10 events/s per app, in one process",
              "faults": "Faults: refresh storm and random drops",
              "transport": "ws and wss"}
    for scenario in ("connections", "payload", "rate", "apps", "apps-rate", "faults", "transport"):
        table = scenario_table(rows, scenario, repetitions)
        if table:
            lines += [f"## {titles[scenario]}", ""] + ([FAULTS_LEGEND, ""] if scenario == "faults" else []) + table + [""]
    idle = idle_table(rows, repetitions)
    if idle:
        lines += ["## Idle connections (RSS from /proc, no load)", ""] + idle + [""]
    if daemon:
        with open(daemon) as f:
            text = f.read().splitlines()
        lines += ["## sockeyed end to end and the HTTP ingress (benchmarks/daemon-bench, one run)", "",
                  "Run after the matrix on the same machine: many apps idle in one daemon, the stdout, spool and "
                  "HTTP-forwarder sinks at saturation beside the Swift API client, the forwarder's added latency at "
                  "an open-loop rate, and signed Events API requests to the ingress and to a slack_bolt HTTP app. "
                  "See benchmarks/README.md for what each row does.", ""]
        text = [l for l in text if not l.startswith("# ")]
        while text and not text[0].strip():
            text.pop(0)
        lines += text + [""]
    if plots:
        lines += ["## Plots", ""] + [f"![{p}]({stem}/{p})" for p in plots] + [""]
    notes = list(dict.fromkeys(matrix.get("notes", [])))
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    path = os.path.join(out_dir, stem + ".md")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path, plots


def load_runner():
    """benchmarks/run as a module (its file has no .py suffix), for its ratio notes."""
    from importlib.machinery import SourceFileLoader
    from importlib.util import module_from_spec, spec_from_loader
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run")
    spec = spec_from_loader("benchmarks_run", SourceFileLoader("benchmarks_run", path))
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def merge(paths):
    """One matrix from one or more runs' JSON (see --help); parts after the first add a note."""
    with open(paths[0]) as f:
        matrix = json.load(f)
    for path in paths[1:]:
        with open(path) as f:
            part = json.load(f)
        replaced = {(r["key"], r["scenario"], str(r["point"])) for r in part["rows"]}
        # A replaced row's notes and failures go with it ("<contender> <scenario> <point>: …").
        gone = tuple(f"{r['contender']} {r['scenario']} {r['point']}: " for r in matrix["rows"]
                     if (r["key"], r["scenario"], str(r["point"])) in replaced)
        matrix["rows"] = [r for r in matrix["rows"] if (r["key"], r["scenario"], str(r["point"])) not in replaced]
        matrix["rows"] += part["rows"]
        matrix["notes"] = [n for n in matrix.get("notes", []) if not n.startswith(gone)] + part.get("notes", [])
        matrix["failures"] = ([f for f in matrix.get("failures", []) if not f.startswith(gone)]
                              + part.get("failures", []))
        scenarios = sorted({r["scenario"] for r in part["rows"]})
        commit = f" at commit {part['commit']}" if part.get("commit") else ""
        matrix["notes"].append(f"rows of {', '.join(scenarios)} ({len(part['rows'])}) from a later part of the run, "
                               f"started {part.get('when', '?')} on the same machine{commit}")
    if len(paths) > 1 or matrix.get("partial"):
        # The ratios between rows are benchmarks/run's own notes: taken again over the merged rows.
        run = load_runner()
        ours = ("Sockeye (Swift API), ", "slack_bolt on sockeye.bolt")
        matrix["notes"] = [n for n in matrix["notes"] if not n.startswith(ours)]
        matrix["notes"] += run.ratios(matrix["rows"]) + run.compare_bolt(matrix["rows"])
        keys = {r["key"] for r in matrix["rows"]}
        matrix["notes"] += [f"{c['name']}: {c['note']}" for c in run.CONTENDERS if c.get("note") and c["key"] in keys]
    return matrix


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("matrix", nargs="+",
                        help="the JSON benchmarks/run wrote; with several (one run completed in parts, e.g. "
                             "--scenarios), a later file's rows replace the earlier files' rows of the same "
                             "contender, scenario and point, and the report says which part each came from")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    parser.add_argument("--without", default="",
                        help="comma-separated scenarios left out of the report (e.g. rows known to be distorted)")
    parser.add_argument("--daemon", help="benchmarks/daemon-bench's tables (markdown) to append")
    args = parser.parse_args()
    matrix = merge(args.matrix)
    left_out = [k for k in args.without.split(",") if k]
    if left_out:
        matrix["rows"] = [r for r in matrix["rows"] if r["scenario"] not in left_out]
        matrix["notes"] = [n for n in matrix["notes"] if not any(f" {k} " in n for k in left_out)]
    path, plots = write(matrix, args.out, args.daemon)
    print(f"report: {path} ({len(plots)} plots)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
