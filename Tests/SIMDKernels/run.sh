#!/usr/bin/env bash
# Builds Tests/SIMDKernels/kernels_test.c against Sources/CSockeyeSIMD twice, with the
# platform's vector kernel and with the portable loop, and runs both. On x86-64 it also
# syntax-checks the NEON kernel for AArch64 when clang is there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
include="$root/Sources/CSockeyeSIMD/include"
flags=(-std=c11 -O2 -Wall -Wextra -Werror -I"$include")

cc "${flags[@]}" "$here/kernels_test.c" -o "$work/vector"
echo "== vector kernel ($(uname -m))"
"$work/vector"

portable=()
case "$(uname -m)" in
    x86_64) portable=(-mno-sse2 -mno-sse -mgeneral-regs-only) ;;
    aarch64) portable=(-mgeneral-regs-only) ;;
esac
cc "${flags[@]}" "${portable[@]}" "$here/kernels_test.c" -o "$work/portable"
echo "== portable kernel"
"$work/portable"

if [ "$(uname -m)" = x86_64 ] && command -v clang >/dev/null; then
    echo "== NEON kernel: syntax check for aarch64"
    clang --target=aarch64-linux-gnu -ffreestanding -fsyntax-only "${flags[@]}" -Wno-unused-function \
        -x c "$include/sockeye_simd.h"
fi
