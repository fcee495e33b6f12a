#!/usr/bin/env bash
# The client half of the C ABI (Tests/CABI/client_test.c) against sockeye-sim, linked through
# an installed library and `pkg-config sockeye`, built and run four ways:
#   C99 (-std=c99 -pedantic -Wall -Wextra -Werror), C++ (-Wall -Wextra -Werror),
#   C++ with AddressSanitizer + LeakSanitizer, and C with ThreadSanitizer against a
#   libsockeye built with -sanitize=thread (so TSan sees the library's own code; the
#   toolchain's clang provides the matching TSan runtime).
# Usage: Tests/CABI/run-client.sh PATH/TO/sockeye-sim [SCRATCH] [TSAN_SCRATCH]
#   SCRATCH, TSAN_SCRATCH: SwiftPM build folders (default .build and .build-tsan-abi).
#   SOCKEYE_ABI_SKIP_TSAN=1 skips the ThreadSanitizer build (it compiles the library again).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sim=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
scratch=${2:-.build}
tsan_scratch=${3:-.build-tsan-abi}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

run() { # name, binary, [env…]
    local name=$1 binary=$2
    shift 2
    echo "== $name"
    if env "$@" "$binary" "$sim" >"$work/$name.log" 2>&1; then
        grep -E "^(ok|FAILED) |passed|threads:" "$work/$name.log"
    else
        cat "$work/$name.log" | tail -80
        echo "FAIL: $name"
        failed=1
    fi
    if grep -q "simsecret" "$work/$name.log"; then
        echo "FAIL: $name: the app token's secret appears in the output"
        failed=1
    fi
}

echo "== make install-lib (a temporary prefix)"
make -C "$root" install-lib PREFIX="$work/prefix" SCRATCH="$scratch" >"$work/install.log" 2>&1 || { tail -30 "$work/install.log"; exit 1; }
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
flags="$(pkg-config --cflags --libs sockeye) -Wl,-rpath,$(pkg-config --variable=libdir sockeye) -lpthread"

echo "== every SOCKEYE_API function of the header is exported, and nothing else"
declared=$(tr '\n' ' ' <"$root/include/sockeye.h" | grep -o 'SOCKEYE_API [^;(]*(' | grep -o 'sockeye_[a-z0-9_]*($' | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$work/prefix/lib/libsockeye.so.0" | awk '$2 ~ /^[A-Z]$/ { print $3 }' | sort -u)
if [ "$declared" != "$exported" ]; then
    echo "FAIL: header and library differ:"; diff <(echo "$declared") <(echo "$exported") || true
    failed=1
else
    echo "   $(echo "$declared" | wc -l) functions"
fi

cc -std=c99 -pedantic -Wall -Wextra -Werror "$here/client_test.c" $flags -o "$work/client_c99"
g++ -x c++ -Wall -Wextra -Werror "$here/client_test.c" $flags -o "$work/client_cxx"
g++ -x c++ -g -O1 -fno-omit-frame-pointer -fsanitize=address -Wall -Wextra -Werror "$here/client_test.c" $flags \
    -o "$work/client_asan"
run "C99" "$work/client_c99"
run "C++" "$work/client_cxx"
run "C++ AddressSanitizer+LeakSanitizer" "$work/client_asan" ASAN_OPTIONS=detect_leaks=1:abort_on_error=0

if [ "${SOCKEYE_ABI_SKIP_TSAN:-0}" != 1 ]; then
    echo "== make install of a ThreadSanitizer build of the library"
    make -C "$root" install-lib PREFIX="$work/tsan" SCRATCH="$tsan_scratch" SWIFTFLAGS="-Xswiftc -sanitize=thread" \
        >"$work/install-tsan.log" 2>&1 || { tail -30 "$work/install-tsan.log"; exit 1; }
    toolchain=$(dirname "$(readlink -f "$(command -v swift)")")
    runtime_dir="$toolchain/../lib/swift/linux"
    tflags="$(PKG_CONFIG_PATH="$work/tsan/lib/pkgconfig" pkg-config --cflags --libs sockeye)"
    tflags="$tflags -Wl,-rpath,$work/tsan/lib -lpthread -L$runtime_dir -ldispatch -lBlocksRuntime -Wl,-rpath,$runtime_dir"
    "$toolchain/clang" -std=c99 -pedantic -Wall -Wextra -Werror -g -fsanitize=thread "$here/client_test.c" $tflags \
        -o "$work/client_tsan"
    run "C99 ThreadSanitizer" "$work/client_tsan" TSAN_OPTIONS=halt_on_error=0:exitcode=66
    if grep -q "WARNING: ThreadSanitizer" "$work/C99 ThreadSanitizer.log"; then
        grep -A30 "WARNING: ThreadSanitizer" "$work/C99 ThreadSanitizer.log" | head -80
        echo "FAIL: ThreadSanitizer reports"
        failed=1
    fi
fi
[ "$failed" = 0 ] && echo "C ABI client tests: all variants passed"
exit "$failed"
