#!/usr/bin/env bash
# Builds the platform wheel of the sockeye package with libsockeye.so inside it.
# Usage: bindings/python/build-wheel.sh PATH/TO/libsockeye.so [OUT_DIR]   (default OUT_DIR: dist)
# Needs pip (it fetches setuptools into an isolated build environment, as `pip wheel` does).
# The library is copied (stripped) to src/sockeye/_lib/ for the build and removed after.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] && [ -f "$1" ] || { echo "usage: $0 PATH/TO/libsockeye.so [OUT_DIR]" >&2; exit 2; }
lib=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$(mkdir -p "${2:-dist}" && cd "${2:-dist}" && pwd)
python=${PYTHON:-python3}
bundled="$here/src/sockeye/_lib"
cleanup() { rm -rf "$bundled" "$here/build" "$here/src/sockeye.egg-info"; }
trap cleanup EXIT
cleanup
mkdir -p "$bundled"
cp "$lib" "$bundled/libsockeye.so"
strip --strip-unneeded "$bundled/libsockeye.so" 2>/dev/null || true
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$out" "$here"
wheel=$(ls -t "$out"/sockeye-*.whl | head -1)
case "$wheel" in
    *-none-any.whl) echo "built a pure wheel ($wheel): the library is missing from it" >&2; exit 1 ;;
esac
"$python" - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
assert "sockeye/_lib/libsockeye.so" in names and "sockeye/py.typed" in names, names
PY
echo "$wheel"
