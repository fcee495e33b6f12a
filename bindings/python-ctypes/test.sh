#!/usr/bin/env bash
# The ctypes host against sockeye-sim on loopback: it must receive and ack every injected
# envelope (a slash command answered in its ack), drain and exit 0.
# Usage: bindings/python-ctypes/test.sh PATH/TO/libsockeye.so PATH/TO/sockeye-sim
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
sim_bin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
work=$(mktemp -d)
sim_pid=""
host_pid=""
trap '[ -n "$host_pid" ] && kill $host_pid 2>/dev/null; [ -n "$sim_pid" ] && kill $sim_pid 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; tail -20 "$work/host.err" 2>/dev/null; exit 1; }

"$sim_bin" --port 0 --report json >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 1 200); do grep -q LISTENING "$work/sim.out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*LISTENING port=\([0-9]*\).*/\1/p' "$work/sim.out" | head -1)
[ -n "$port" ] || fail "sockeye-sim did not start"

SOCKEYE_LIBRARY="$lib" SLACK_APP_TOKEN=xapp-1-A0SIMAPP01-1-simsecret SOCKEYE_API_URL="http://127.0.0.1:$port/api/" \
    python3 "$here/sockeye_ctypes.py" --count 6 --seconds 30 >"$work/host.out" 2>"$work/host.err" &
host_pid=$!
for _ in $(seq 1 200); do grep -qs "state: running" "$work/host.err" && break; sleep 0.05; done
grep -qs "state: running" "$work/host.err" || fail "the ctypes host did not connect"
curl -sf -X POST "http://127.0.0.1:$port/admin/inject" -d '{"kind":"message","count":5}' >/dev/null
curl -sf -X POST "http://127.0.0.1:$port/admin/inject" -d '{"kind":"slash_command","count":1}' >/dev/null
rc=0
wait "$host_pid" || rc=$?
host_pid=""
[ "$rc" = 0 ] || fail "the ctypes host exited with $rc"
[ "$(wc -l <"$work/host.out")" = 6 ] || fail "expected 6 lines, got $(wc -l <"$work/host.out")"
stats=$(curl -sf "http://127.0.0.1:$port/admin/stats")
python3 - "$stats" <<'PY' || fail "the sim's counters are wrong"
import json, sys
total = json.loads(sys.argv[1])["total"]
assert total["acked"] == 6, total
assert total["responsePayloads"] == 1, total
assert total["unknownAcks"] == 0 and total["duplicateAcks"] == 0, total
PY
grep -q '^stats {.*"host_acks": 6' "$work/host.err" || fail "no stats line with 6 host acks"
echo "ok: the ctypes host received and acked 6 envelopes (1 slash command answered)"
