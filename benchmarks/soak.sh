#!/usr/bin/env bash
# Soak: the Sockeye Swift client (sockeye-bench-client, two connections) under a steady load
# from sockeye-sim while random faults hit its connections (drop, RST, close, warning,
# refresh_requested), for SECONDS (default 60). Prints the client's RSS at the start of the
# load and at the end, and the sim's delivery totals; fails if an event was lost (failed
# after retries or dropped while disabled), if the client did not receive every event, or if
# RSS grew by more than a quarter plus 8 MiB (a leak, not allocator noise).
#   benchmarks/soak.sh [SECONDS]          RATE (default 3000 events/s), SEED (fault schedule)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds=${1:-60}
rate=${RATE:-3000}
seed=${SEED:-$RANDOM}
total=$((seconds * rate))

swift build -c release --product sockeye-sim --product sockeye-bench-client >&2 2>/dev/null ||
    { swift build -c release --product sockeye-sim >&2 && swift build -c release --product sockeye-bench-client >&2; }

work="$(mktemp -d)"
trap 'kill "${sim_pid:-}" "${client_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

# A scenario: the load starts at 1 s; a random fault every 3-7 s until the load ends.
python3 - "$work/scenario.yaml" "$seconds" "$rate" "$total" "$seed" <<'PY'
import random, sys
path, seconds, rate, total, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rng = random.Random(seed)
lines = ["config: { ackDeadline: 3, timeScale: 20 }", "steps:",
         f"  - at: 1\n    load: {{ rate: {rate}, total: {total}, sizes: [1024] }}"]
at = 4.0
while at < seconds - 2:
    kind = rng.choice(["drop", "rst", "close", "warning", "refresh_requested"])
    if kind in ("warning", "refresh_requested"):
        lines.append(f"  - at: {at:.1f}\n    disconnect: {{ reason: {kind} }}")
    else:
        lines.append(f"  - at: {at:.1f}\n    fault: {{ kind: {kind} }}")
    at += rng.uniform(3, 7)
open(path, "w").write("\n".join(lines) + "\n")
PY
echo "soak: ${seconds}s at ${rate} events/s, fault schedule seed ${seed}" >&2

.build/release/sockeye-sim --port 0 --scenario "$work/scenario.yaml" --duration $((seconds + 15)) --report json >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 1 200); do grep -q LISTENING "$work/sim.out" && break; sleep 0.05; done
port=$(grep -o 'port=[0-9]*' "$work/sim.out" | head -1 | cut -d= -f2)
SOCKEYE_API_URL="http://127.0.0.1:$port/api/" SLACK_APP_TOKEN=xapp-1-A0SIMAPP01-1-simsecret SOCKEYE_POOL_SIZE=2 \
    .build/release/sockeye-bench-client >"$work/client.out" 2>"$work/client.err" &
client_pid=$!

rss() { awk '/VmRSS/ {print $2}' "/proc/$client_pid/status" 2>/dev/null || echo 0; }
sleep 6
start_rss=$(rss)
samples="$start_rss"
for _ in $(seq 1 $(((seconds - 4) / 5))); do sleep 5; samples="$samples $(rss)"; done
sleep 2
end_rss=$(rss)
wait "$sim_pid" || true
kill -TERM "$client_pid" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$client_pid" 2>/dev/null || break; sleep 0.1; done
cat "$work/client.out" >&2

python3 - "$work/sim.out" "$work/client.out" "$total" "$start_rss" "$end_rss" "$samples" <<'PY'
import json, sys
sim_out, client_out, total, start, end, samples = sys.argv[1:7]
total, start, end = int(total), int(start), int(end)
report = json.loads(open(sim_out).read().split("\n", 1)[1])
t = report["total"]
lost = t["failedAfterRetries"] + report.get("droppedWhileDisabled", 0)
client = [json.loads(l) for l in open(client_out) if l.startswith("{")]
received = client[-1]["received"] if client else 0
print(f"soak: client RSS start {start/1024:.1f} MiB, end {end/1024:.1f} MiB (samples, KiB: {samples})")
print(f"soak: sim delivered {t['delivered']}, acked {t['acked']}, redelivered {t['redelivered']}, lost {lost}, "
      f"connections opened {report['connectionsOpened']}; client received {received} of {total} (duplicates dropped "
      f"{client[-1]['duplicatesDropped'] if client else '-'}, reconnects {client[-1]['connectionsLost'] if client else '-'})")
ok = lost == 0 and received >= total and end <= start * 1.25 + 8192
print("soak: " + ("ok" if ok else "FAILED"))
sys.exit(0 if ok else 1)
PY
