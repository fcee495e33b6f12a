#!/usr/bin/env bash
# Load benchmark of sockeye-sim: builds release, starts the sim and the C ack-only client
# on loopback, runs the as-fast-as-acked load and prints the sim's report (table + JSON).
#   benchmarks/sim-load.sh           full run (3,000,000 envelopes of ~1 KB)
#   benchmarks/sim-load.sh --smoke   a few seconds (200,000 envelopes)
# Environment: TOTAL, WINDOW, CONNECTIONS, SIZES (comma list of payload bytes), RATE (set
# for open-loop fixed-rate mode instead of as-fast-as-acked).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

total=${TOTAL:-3000000}
if [ "${1:-}" = "--smoke" ]; then total=${TOTAL:-200000}; fi
window=${WINDOW:-4000}
connections=${CONNECTIONS:-1}
sizes=${SIZES:-1024}

swift build -c release --product sockeye-sim >&2
make -s -C benchmarks/ack-client >&2

work="$(mktemp -d)"
trap 'kill "${sim_pid:-}" "${client_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

load_args=(--load-total "$total" --load-sizes "$sizes" --wait-connections "$connections")
if [ -n "${RATE:-}" ]; then load_args+=(--load-rate "$RATE"); else load_args+=(--load-window "$window"); fi

.build/release/sockeye-sim --port 0 "${load_args[@]}" --report both --duration 300 >"$work/sim.out" &
sim_pid=$!
for _ in $(seq 1 200); do grep -q LISTENING "$work/sim.out" && break; sleep 0.05; done
port=$(grep -o 'port=[0-9]*' "$work/sim.out" | head -1 | cut -d= -f2)
[ -n "$port" ] || { echo "sim did not start" >&2; exit 1; }

benchmarks/ack-client/ack-client --port "$port" --connections "$connections" --duration 320 2>"$work/client.err" &
client_pid=$!
wait "$sim_pid"
kill "$client_pid" 2>/dev/null || true
wait "$client_pid" 2>/dev/null || true

echo "# sockeye-sim load: total=$total window=$window connections=$connections sizes=$sizes rate=${RATE:-as-fast-as-acked}"
grep -v '^LISTENING' "$work/sim.out"
cat "$work/client.err" >&2
