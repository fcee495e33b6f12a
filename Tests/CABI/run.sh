#!/usr/bin/env bash
# Builds Tests/CABI/abi_test.c as C99 and as C++ against include/sockeye.h, links both to
# libsockeye.so, runs them, and checks that the library exports only sockeye_* symbols.
# Usage: Tests/CABI/run.sh PATH/TO/libsockeye.so
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lib=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Stage the library under its soname, as an install would.
cp "$lib" "$work/libsockeye.so.0"
ln -s libsockeye.so.0 "$work/libsockeye.so"

cc -std=c99 -pedantic -Wall -Wextra -Werror -I"$root/include" "$here/abi_test.c" \
    -L"$work" -lsockeye -Wl,-rpath,"$work" -o "$work/abi_test_c"
g++ -x c++ -Wall -Wextra -Werror -I"$root/include" "$here/abi_test.c" \
    -L"$work" -lsockeye -Wl,-rpath,"$work" -o "$work/abi_test_cxx"

echo "== C ABI test (C99)"
"$work/abi_test_c"
echo "== C ABI test (C++)"
"$work/abi_test_cxx"

echo "== exported symbols"
exported=$(nm -D --defined-only "$work/libsockeye.so.0" | awk '$2 ~ /^[A-Z]$/ { print $3 }')
echo "$exported"
foreign=$(echo "$exported" | grep -v '^sockeye_' || true)
if [ -n "$foreign" ]; then
    echo "FAIL: libsockeye.so exports symbols outside sockeye_*:"; echo "$foreign"; exit 1
fi
[ -n "$exported" ] || { echo "FAIL: no symbols exported"; exit 1; }
echo "only sockeye_* exported: $(echo "$exported" | wc -l) symbols"
