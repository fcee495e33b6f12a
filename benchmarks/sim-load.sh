#!/usr/bin/env bash
# Load benchmark of sockeye-sim: builds release, starts the sim and the C ack-only client
# on loopback, runs the as-fast-as-acked load and prints the sim's report (table + JSON).
#   benchmarks/sim-load.sh           full run (3,000,000 envelopes of ~1 KB)
#   benchmarks/sim-load.sh --smoke   a few seconds (200,000 envelopes)
# Environment: TOTAL, WINDOW, CONNECTIONS, CLIENT_ARGS (e.g. --lws-rx), SIZES (comma list of payload bytes), RATE (set
# for open-loop fixed-rate mode instead of as-fast-as-acked), LOAD_APPS (spread the run
# round-robin over this many apps, one ack client each with CONNECTIONS connections).
# Rate mode prints how far the sends fell behind the schedule (`max send lag`):
#   RATE=1000 TOTAL=2000 LOAD_APPS=3 benchmarks/sim-load.sh
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
trap 'kill ${sim_pid:-} ${client_pid:-} 2>/dev/null || true; rm -rf "$work"' EXIT

load_args=(--load-total "$total" --load-sizes "$sizes" --wait-connections "$connections")
if [ -n "${RATE:-}" ]; then load_args+=(--load-rate "$RATE"); else load_args+=(--load-window "$window"); fi
apps=${LOAD_APPS:-1}
tokens=()
for i in $(seq 1 "$apps"); do tokens+=("$(printf 'xapp-1-A0SIMAPP%02d-1-simsecret' "$i")"); done
if [ "$apps" -gt 1 ]; then
  { echo "apps:"
    for i in $(seq 1 "$apps"); do
      printf '  - { appID: A0SIMAPP%02d, appTokens: [%s], scopes: [connections:write, authorizations:read] }\n' "$i" "${tokens[$((i - 1))]}"
    done; } >"$work/apps.yaml"
  load_args+=(--config "$work/apps.yaml" --load-apps all)
fi

.build/release/sockeye-sim --port 0 "${load_args[@]}" --report both --duration 300 >"$work/sim.out" &
sim_pid=$!
for _ in $(seq 1 200); do grep -q LISTENING "$work/sim.out" && break; sleep 0.05; done
port=$(grep -o 'port=[0-9]*' "$work/sim.out" | head -1 | cut -d= -f2)
[ -n "$port" ] || { echo "sim did not start" >&2; exit 1; }

client_pids=()
for token in "${tokens[@]}"; do
  benchmarks/ack-client/ack-client --port "$port" --token "$token" --connections "$connections" --duration 320 ${CLIENT_ARGS:-} 2>>"$work/client.err" &
  client_pids+=($!)
done
client_pid="${client_pids[*]}"
wait "$sim_pid"
kill ${client_pid} 2>/dev/null || true
for pid in "${client_pids[@]}"; do wait "$pid" 2>/dev/null || true; done

echo "# sockeye-sim load: total=$total window=$window connections=$connections sizes=$sizes rate=${RATE:-as-fast-as-acked} apps=$apps"
grep -v '^LISTENING' "$work/sim.out"
cat "$work/client.err" >&2
