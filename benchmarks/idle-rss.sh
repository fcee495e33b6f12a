#!/usr/bin/env bash
# RSS per additional idle connection of the Sockeye Swift client: sockeye-bench-client with a
# pool of 1 and of 10 connections to an idle sockeye-sim, RSS read from /proc after they are
# all live; prints both and (RSS10 - RSS1) / 9.
#   benchmarks/idle-rss.sh            SOCKEYE_BUILD_PATH (default .build) names the build folder
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
build=${SOCKEYE_BUILD_PATH:-.build}
swift build -c release --scratch-path "$build" --product sockeye-sim >&2
swift build -c release --scratch-path "$build" --product sockeye-bench-client >&2

work="$(mktemp -d)"
trap 'kill "${sim_pid:-}" "${client_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
"$build/release/sockeye-sim" --port 0 --duration 120 --report json >"$work/sim.out" 2>/dev/null &
sim_pid=$!
for _ in $(seq 1 200); do grep -q LISTENING "$work/sim.out" && break; sleep 0.05; done
port=$(grep -o 'port=[0-9]*' "$work/sim.out" | head -1 | cut -d= -f2)

measure() {
    SOCKEYE_API_URL="http://127.0.0.1:$port/api/" SLACK_APP_TOKEN=xapp-1-A0SIMAPP01-1-simsecret SOCKEYE_POOL_SIZE=$1 \
        "$build/release/sockeye-bench-client" >/dev/null 2>&1 &
    client_pid=$!
    sleep 4
    local rss
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$client_pid/status")
    local sockets
    sockets=$(ls -l "/proc/$client_pid/fd" 2>/dev/null | grep -c socket || true)
    kill -TERM "$client_pid"; wait "$client_pid" 2>/dev/null || true
    echo "$rss $sockets"
}
read -r one one_sockets < <(measure 1)
read -r ten ten_sockets < <(measure 10)
echo "idle RSS: 1 connection ${one} KiB (${one_sockets} sockets), 10 connections ${ten} KiB (${ten_sockets} sockets)"
echo "idle RSS per additional connection: $(( (ten - one) / 9 )) KiB"
