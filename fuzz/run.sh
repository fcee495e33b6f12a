#!/usr/bin/env bash
# Fuzzes the envelope scanner, ack scanner and ack encoder with libFuzzer + AddressSanitizer.
#
#   fuzz/run.sh [seconds]     (default 60)
#
# Builds fuzz/ScannerFuzzer.swift with the SockeyeCore sources straight through swiftc (no
# SwiftPM), then runs it for a bounded time over the committed seed corpus fuzz/corpus/.
# New inputs go to fuzz/work/corpus/ (ignored by git); crashes to fuzz/artifacts/. Exits
# non-zero on a finding and prints the input. Needs a Swift toolchain whose clang ships
# libFuzzer (Swift on Linux does); SWIFTC overrides the compiler.
set -euo pipefail

seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
swiftc="${SWIFTC:-swiftc}"
work="$here/work"
artifacts="$here/artifacts"
mkdir -p "$work/corpus" "$artifacts"

echo "fuzz: building $work/scanner-fuzzer"
"$swiftc" -sanitize=fuzzer,address -O -parse-as-library -swift-version 6 -warnings-as-errors \
    -module-name ScannerFuzzer \
    -I "$root/Sources/CSockeyeSIMD/include" \
    "$here/ScannerFuzzer.swift" "$root"/Sources/SockeyeCore/*.swift \
    -o "$work/scanner-fuzzer"

echo "fuzz: running for ${seconds}s"
# libFuzzer reports crashes itself; the Swift runtime backtracer would only get in its way.
status=0
SWIFT_BACKTRACE=enable=no "$work/scanner-fuzzer" "$work/corpus" "$here/corpus" \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 || status=$?

if [ "$status" -ne 0 ]; then
    echo "fuzz: FAILED (exit $status)"
    for f in "$artifacts"/*; do
        [ -f "$f" ] || continue
        echo "fuzz: finding $f ($(wc -c <"$f") bytes):"
        od -A d -t x1z -v "$f" | head -n 64
    done
    exit "$status"
fi
echo "fuzz: no findings in ${seconds}s"
