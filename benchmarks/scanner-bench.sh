#!/bin/sh
# Runs the envelope-scanner benchmark (see benchmarks/README.md).
#   benchmarks/scanner-bench.sh            # full run, about a minute
#   benchmarks/scanner-bench.sh --smoke    # CI: well under a minute once built
#   benchmarks/scanner-bench.sh --json results.json
# Needs Debian's libsimdjson-dev and libjansson-dev (and pkg-config).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

for package in simdjson jansson; do
    if ! pkg-config --exists "$package"; then
        echo "scanner-bench: pkg-config cannot find $package;" \
            "install libsimdjson-dev libjansson-dev pkg-config" >&2
        exit 1
    fi
done

swift build -c release --product scanner-bench
exec "$(swift build -c release --show-bin-path)/scanner-bench" --fixtures "$root/benchmarks/fixtures" "$@"
