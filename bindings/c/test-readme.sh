#!/usr/bin/env bash
# Does what bindings/c/README.md tells a new user to do, on loopback, and fails if any step
# does not give what the README promises:
#   make install PREFIX=<temp>; build sockeye-tail with pkg-config only; run it against
#   sockeye-sim; events appear as JSON lines; a slash command is answered in the ack;
#   Ctrl-C (SIGINT) drains, prints the stats and exits 0; make uninstall removes the files.
# Then the same consumer built with AddressSanitizer (LeakSanitizer) through connection
# refreshes: no leak, exit 0.
# Usage: bindings/c/test-readme.sh PATH/TO/sockeye-sim [SCRATCH]   (SCRATCH: SwiftPM build folder)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
sim_bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
scratch=${2:-.build}
work=$(mktemp -d)
prefix="$work/prefix"
sim_pid=""
tail_pid=""
cleanup() {
    [ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null || true
    [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$work"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done; exit 1; }

echo "== make install PREFIX=$prefix"
make -C "$root" install PREFIX="$prefix" SCRATCH="$scratch" >"$work/install.log" 2>&1 || { tail -20 "$work/install.log"; fail "make install"; }
for f in lib/libsockeye.so.0 lib/libsockeye.so include/sockeye.h lib/pkgconfig/sockeye.pc; do
    [ -e "$prefix/$f" ] || fail "make install did not install $f"
done
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion sockeye)" = "$(sed -n 's/^#define SOCKEYE_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' "$root/include/sockeye.h" | paste -sd. -)" ] \
    || fail "pkg-config version differs from the header"

echo "== the installed library is self-contained and exports only sockeye_*"
if ldd "$prefix/lib/libsockeye.so.0" | grep -qi swift; then fail "libsockeye needs Swift runtime libraries"; fi
foreign=$(nm -D --defined-only "$prefix/lib/libsockeye.so.0" | awk '$2 ~ /^[A-Z]$/ && $3 !~ /^sockeye_/ { print $3 }')
[ -z "$foreign" ] || fail "exports outside sockeye_*: $foreign"

echo "== build sockeye-tail with pkg-config (a copy, as a user would)"
cp -r "$root/bindings/c/sockeye-tail" "$work/tail"
rm -f "$work/tail/sockeye-tail"
make -C "$work/tail" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "building sockeye-tail"; }

start_sim() {
    "$sim_bin" --port 0 --report json >"$work/sim.out" 2>"$work/sim.err" &
    sim_pid=$!
    for _ in $(seq 1 200); do
        grep -q LISTENING "$work/sim.out" 2>/dev/null && break
        sleep 0.05
    done
    port=$(sed -n 's/.*LISTENING port=\([0-9]*\).*/\1/p' "$work/sim.out" | head -1)
    api=$(sed -n 's/.*api=\([^ ]*\).*/\1/p' "$work/sim.out" | head -1)
    [ -n "$port" ] || fail "sockeye-sim did not start"
}
admin() { curl -sf -X POST "http://127.0.0.1:$port/admin/$1" -H 'Content-Type: application/json' -d "$2" >/dev/null; }
total() { curl -sf "http://127.0.0.1:$port/admin/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['total']['$1'])"; }
wait_lines() { # file count
    for _ in $(seq 1 200); do
        [ "$(wc -l <"$1")" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
stop_tail() {
    kill -INT "$tail_pid"
    local rc=0
    for _ in $(seq 1 200); do kill -0 "$tail_pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$tail_pid" 2>/dev/null && fail "sockeye-tail did not stop within 10 s of SIGINT"
    wait "$tail_pid" || rc=$?
    tail_pid=""
    return $rc
}
run_tail() { # binary, name
    SLACK_APP_TOKEN=xapp-1-A0SIMAPP01-1-simsecret SOCKEYE_API_URL="$api" "$1" >"$work/$2.out" 2>"$work/$2.err" &
    tail_pid=$!
    for _ in $(seq 1 200); do grep -qs "state: running (2/2)" "$work/$2.err" && return 0; sleep 0.05; done
    fail "$2 did not connect"
}

echo "== run sockeye-tail against sockeye-sim, inject events and a slash command, Ctrl-C"
start_sim
run_tail "$work/tail/sockeye-tail" tail
admin inject '{"kind":"app_mention","count":3}'
admin inject '{"kind":"slash_command","count":1}'
wait_lines "$work/tail.out" 4 || fail "expected 4 JSON lines, got $(wc -l <"$work/tail.out")"
python3 - "$work/tail.out" <<'PY' || fail "the JSON lines are not what the README shows"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
kinds = sorted(l["type"] for l in lines)
assert kinds == ["events_api"] * 3 + ["slash_commands"], kinds
assert all(l["envelope_id"] and isinstance(l["payload"], dict) for l in lines)
assert [l["event_type"] for l in lines if l["type"] == "events_api"] == ["app_mention"] * 3
PY
grep -q "^# /" "$work/tail.err" || fail "no human summary of the slash command (jansson)"
for _ in $(seq 1 100); do [ "$(total acked)" -ge 4 ] && break; sleep 0.05; done
[ "$(total acked)" = 4 ] || fail "the sim saw $(total acked) acks, not 4"
[ "$(total responsePayloads)" = 1 ] || fail "the slash command was not answered in its ack"
stop_tail || fail "sockeye-tail exited with $? after SIGINT"
grep -q "sockeye-tail: stopped; received" "$work/tail.err" || fail "no stats line after SIGINT"
grep -q "simsecret" "$work/tail.err" "$work/tail.out" && fail "the token's secret appears in the output"
kill "$sim_pid"; wait "$sim_pid" 2>/dev/null || true; sim_pid=""
echo "   4 events, 1 slash command answered, stats printed, exit 0"

echo "== LeakSanitizer: sockeye-tail through refreshes"
cp -r "$root/bindings/c/sockeye-tail" "$work/tail-asan"
rm -f "$work/tail-asan/sockeye-tail"
make -C "$work/tail-asan" CFLAGS="-O1 -g -fno-omit-frame-pointer" CFLAGS_EXTRA=-fsanitize=address >"$work/build-asan.log" 2>&1 \
    || { cat "$work/build-asan.log"; fail "building sockeye-tail with -fsanitize=address"; }
start_sim
export ASAN_OPTIONS=detect_leaks=1:exitcode=23
run_tail "$work/tail-asan/sockeye-tail" asan
admin inject '{"kind":"message","count":20}'
admin disconnect '{"reason":"refresh_requested"}'
sleep 1
admin inject '{"kind":"slash_command","count":2}'
admin disconnect '{"reason":"warning"}'
sleep 1
admin inject '{"kind":"view_submission","count":2}'
wait_lines "$work/asan.out" 24 || fail "expected 24 JSON lines under ASan, got $(wc -l <"$work/asan.out")"
rc=0; stop_tail || rc=$?
unset ASAN_OPTIONS
grep -q "ERROR: LeakSanitizer\|ERROR: AddressSanitizer" "$work/asan.err" && { grep -A30 "ERROR:" "$work/asan.err" | head -60; fail "AddressSanitizer/LeakSanitizer report"; }
[ "$rc" = 0 ] || fail "sockeye-tail under ASan exited with $rc"
grep -q "refreshed [1-9]" "$work/asan.err" || fail "no refresh happened during the leak run"
kill "$sim_pid"; wait "$sim_pid" 2>/dev/null || true; sim_pid=""
echo "   24 events through 2 refreshes: no leak, no ASan report"

echo "== make uninstall"
make -C "$root" uninstall PREFIX="$prefix" >/dev/null
for f in lib/libsockeye.so.0 lib/libsockeye.so include/sockeye.h lib/pkgconfig/sockeye.pc; do
    [ ! -e "$prefix/$f" ] || fail "make uninstall left $f"
done
echo "ok: the README's steps work"
