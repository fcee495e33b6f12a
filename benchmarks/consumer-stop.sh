#!/usr/bin/env bash
# A consumer that stops for a minute while Slack keeps sending: the Sockeye Swift client
# (sockeye-bench-client, two connections, the ack guard waiting for the consumer as by
# default) takes sockeye-sim's open-loop load of RATE events/s (default 1 000). After WARMUP
# seconds (default 20) the consumer stops taking events for STOP seconds (default 60), then
# resumes; the load runs until the stop ends. The simulator retries an unacked event as Slack
# does (at once, then 60 s and 300 s later), at a quarter of Slack's delays (0, 15 s, 75 s):
# an event delivered as the stop begins gets its last retry 96 s later, so a one-minute stop
# must lose nothing even then (Slack itself allows more). The run then waits until every
# event settled (acked, or given up after its last retry).
#
# Prints the client's RSS every 5 s, the queue's peak and the times reading stopped, and the
# simulator's totals. Fails if an event was lost (failed after every retry, or dropped while
# events were disabled), if the application did not get every event exactly once, or if
# memory kept growing during the stop: the largest RSS of the stop's second half may exceed
# that of its first half by at most 8 MiB (the queue is bounded, so memory must level off,
# not grow with the stop's length).
#   benchmarks/consumer-stop.sh [STOP]      RATE, WARMUP (environment)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
stop=${1:-60}
rate=${RATE:-1000}
warmup=${WARMUP:-20}
total=$(((warmup + stop) * rate))
# The last retries of what was sent during the stop come up to 96 s after it was sent.
settle_limit=$((stop + 150))

swift build -c release --product sockeye-sim >&2 && swift build -c release --product sockeye-bench-client >&2

work="$(mktemp -d)"
trap 'kill "${sim_pid:-}" "${client_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

.build/release/sockeye-sim --port 0 --time-scale 4 --load-rate "$rate" --load-total "$total" --load-sizes 1024 \
    --wait-connections 2 --duration $((warmup + stop + settle_limit + 120)) --report json \
    >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 1 200); do grep -q LISTENING "$work/sim.out" 2>/dev/null && break; sleep 0.05; done
port=$(grep -o 'port=[0-9]*' "$work/sim.out" | head -1 | cut -d= -f2)
[ -n "$port" ] || { echo "consumer-stop: the simulator did not start" >&2; cat "$work/sim.err" >&2; exit 1; }
SOCKEYE_API_URL="http://127.0.0.1:$port/api/" SLACK_APP_TOKEN=xapp-1-A0SIMAPP01-1-simsecret SOCKEYE_POOL_SIZE=2 \
    SOCKEYE_BENCH_TRACK_IDS=1 .build/release/sockeye-bench-client >"$work/client.out" 2>"$work/client.err" &
client_pid=$!

stats() { curl -s --max-time 5 "http://127.0.0.1:$port/admin/stats" || echo '{}'; }
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1] or "{}"); print(eval(sys.argv[2], {}, {"d": d}))' "$1" "$2" 2>/dev/null || echo "?"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$client_pid/status" 2>/dev/null || echo 0; }

# The load starts once both connections are live.
for _ in $(seq 1 300); do
    [ "$(field "$(stats)" 'd["total"]["delivered"] > 0')" = "True" ] && break
    sleep 0.1
done
echo "consumer-stop: ${rate} events/s, the consumer stops after ${warmup} s for ${stop} s (${total} events)" >&2

samples=""
sample() { samples="$samples $(( $(date +%s) - started )):$(rss)"; }
started=$(date +%s)
sleep "$warmup"
sample
kill -USR1 "$client_pid"
stop_started=$(date +%s)
for _ in $(seq 1 $((stop / 5))); do
    sleep 5
    sample
done
kill -USR2 "$client_pid"
stop_ended=$(date +%s)

# Every event settles (acked, or given up after its last retry): the simulator then ends
# its load run, prints its report and exits.
settled=no
for _ in $(seq 1 $((settle_limit / 2))); do
    sleep 2
    sample
    if ! kill -0 "$sim_pid" 2>/dev/null; then settled=yes; break; fi
    echo "consumer-stop: settling: $(field "$(stats)" '"in flight %s, queued %s, delivered %s, acked in time %s, late %s" % (d["inFlight"], d["queued"], d["total"]["delivered"], d["total"]["acked"], d["total"]["lateAcks"])')" >&2
done
settle_seconds=$(( $(date +%s) - stop_ended ))
if [ "$settled" = yes ]; then
    wait "$sim_pid" || true
    report=$(sed 1d "$work/sim.out")
else
    report=$(stats)
    kill "$sim_pid" 2>/dev/null || true
fi
kill -TERM "$client_pid" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$client_pid" 2>/dev/null || break; sleep 0.1; done
cat "$work/client.err" >&2

python3 - "$report" "$work/client.out" "$total" "$samples" "$((stop_started - started))" "$((stop_ended - started))" \
    "$settled" "$settle_seconds" <<'PY'
import json, sys
report, client_out, total, samples, stop_from, stop_to, settled, settle_seconds = sys.argv[1:9]
total, stop_from, stop_to = int(total), int(stop_from), int(stop_to)
report = json.loads(report)
t = report["total"]
lost = t["failedAfterRetries"] + report.get("droppedWhileDisabled", 0)
client = [json.loads(l) for l in open(client_out) if l.startswith("{")]
c = client[-1] if client else {}
points = [(int(a), int(b)) for a, b in (s.split(":") for s in samples.split())]
during = [(at, kib) for at, kib in points if stop_from < at <= stop_to]
half = stop_from + (stop_to - stop_from) / 2
first = max((kib for at, kib in during if at <= half), default=0)
second = max((kib for at, kib in during if at > half), default=0)
before = next((kib for at, kib in points if at <= stop_from), 0)
print("consumer-stop: client RSS (s: MiB): " + " ".join(f"{at}:{kib / 1024:.1f}" for at, kib in points))
print(f"consumer-stop: RSS before the stop {before / 1024:.1f} MiB; largest in the stop's first half {first / 1024:.1f} MiB, "
      f"second half {second / 1024:.1f} MiB")
print(f"consumer-stop: queue peak {c.get('peakQueuedEvents', '?')} events (bound 10 000), reading stopped {c.get('intakePauses', '?')} times; "
      f"guard withheld {c.get('ackGuardWithheld', '?')}, retries joined to a queued copy {c.get('redeliveriesCoalesced', '?')}, "
      f"duplicates dropped {c.get('duplicatesDropped', '?')}")
print(f"consumer-stop: sim delivered {t['delivered']}, acked in time {t['acked']}, acked late {t['lateAcks']}, "
      f"redelivered {t['redelivered']}, lost {lost}; settled {settle_seconds} s after the consumer resumed ({settled})")
print(f"consumer-stop: the application got {c.get('distinct', '?')} distinct events of {total}, "
      f"{c.get('duplicates', '?')} twice")
ok = (lost == 0 and settled == "yes" and c.get("distinct") == total and c.get("duplicates") == 0
      and second <= first + 8 * 1024)
print("consumer-stop: " + ("ok" if ok else "FAILED"))
sys.exit(0 if ok else 1)
PY
