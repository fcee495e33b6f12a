#!/usr/bin/env bash
# Fuzzes SockeyeCore with libFuzzer + AddressSanitizer: every fuzz/<Name>Fuzzer.swift is a
# target (the envelope scanner, ack scanner and encoder; the wire codecs).
#
#   fuzz/run.sh [seconds] [name ...]   (default 60 s in all, split evenly between targets)
#
# Each target is built with the SockeyeCore sources straight through swiftc (no SwiftPM),
# then run for its share of the time over its committed seed corpus fuzz/corpus/<name>/
# (name = the file name without "Fuzzer.swift", lowercased). New inputs go to
# fuzz/work/<name>/ (ignored by git); crashes to fuzz/artifacts/<name>/. Exits non-zero on a
# finding and prints the input. Needs a Swift toolchain whose clang ships libFuzzer (Swift on
# Linux does); SWIFTC overrides the compiler.
set -euo pipefail

seconds="${1:-60}"
shift || true
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
swiftc="${SWIFTC:-swiftc}"

targets=()
if [ $# -gt 0 ]; then
    targets=("$@")
else
    for file in "$here"/*Fuzzer.swift; do
        base="$(basename "$file" Fuzzer.swift)"
        targets+=("$(echo "$base" | tr '[:upper:]' '[:lower:]')")
    done
fi
share=$(( seconds / ${#targets[@]} ))
[ "$share" -ge 1 ] || share=1

status=0
for name in "${targets[@]}"; do
    source_file="$(ls "$here"/*Fuzzer.swift | while read -r f; do
        b="$(basename "$f" Fuzzer.swift)"; [ "$(echo "$b" | tr '[:upper:]' '[:lower:]')" = "$name" ] && echo "$f" || true; done)"
    [ -n "$source_file" ] || { echo "fuzz: no target named $name"; exit 2; }
    work="$here/work/$name"
    artifacts="$here/artifacts/$name"
    corpus="$here/corpus/$name"
    mkdir -p "$work" "$artifacts" "$corpus"
    binary="$here/work/$name-fuzzer"
    echo "fuzz[$name]: building $binary"
    "$swiftc" -sanitize=fuzzer,address -O -parse-as-library -swift-version 6 -warnings-as-errors \
        -module-name "${name^}Fuzzer" \
        -I "$root/Sources/CSockeyeSIMD/include" \
        "$source_file" "$root"/Sources/SockeyeCore/*.swift \
        -o "$binary"
    echo "fuzz[$name]: running for ${share}s"
    # libFuzzer reports crashes itself; the Swift runtime backtracer would only get in its way.
    target_status=0
    SWIFT_BACKTRACE=enable=no "$binary" "$work" "$corpus" \
        -max_total_time="$share" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 || target_status=$?
    if [ "$target_status" -ne 0 ]; then
        status=$target_status
        echo "fuzz[$name]: FAILED (exit $target_status)"
        for f in "$artifacts"/*; do
            [ -f "$f" ] || continue
            echo "fuzz[$name]: finding $f ($(wc -c <"$f") bytes):"
            od -A d -t x1z -v "$f" | head -n 64
        done
    else
        echo "fuzz[$name]: no findings in ${share}s"
    fi
done
exit "$status"
