#!/usr/bin/env bash
# CI: builds the wheel from a built libsockeye.so, installs it (with slack_bolt and pytest)
# into a fresh virtual environment and runs the package's tests there against sockeye-sim,
# from a copy of the tests outside the source tree, so `import sockeye` must find the
# installed wheel and its bundled library (SOCKEYE_LIBRARY is unset).
# Usage: bindings/python/test-wheel.sh PATH/TO/libsockeye.so PATH/TO/sockeye-sim
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 2 ] || { echo "usage: $0 PATH/TO/libsockeye.so PATH/TO/sockeye-sim" >&2; exit 2; }
lib=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
sim_dir=$(cd "$(dirname "$2")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python=${PYTHON:-python3}

wheel=$(PYTHON="$python" "$here/build-wheel.sh" "$lib" "$work/dist" | tail -1)
echo "wheel: $(basename "$wheel") ($(du -h "$wheel" | cut -f1))"
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "$wheel[bolt,async,test]"
mkdir -p "$work/pkg"
cp -r "$here/tests" "$here/examples" "$here/README.md" "$work/pkg/"
cd "$work/pkg"
unset SOCKEYE_LIBRARY PYTHONPATH
"$work/venv/bin/python" - <<'PY'
import os, sockeye, sockeye._ffi as ffi
assert "site-packages" in sockeye.__file__, sockeye.__file__
bundled = os.path.join(os.path.dirname(sockeye.__file__), "_lib", "libsockeye.so")
assert ffi.library_candidates()[0] == bundled, ffi.library_candidates()
print(f"sockeye {sockeye.__version__} from {os.path.dirname(sockeye.__file__)}, libsockeye {sockeye.library_version()}")
PY
# The simulator fixtures are the repository's (Tests/support): they hold no `sockeye`, so the
# package under test is still the installed wheel.
SOCKEYE_TEST_SUPPORT="$here/../../Tests/support" SOCKEYE_BIN_DIR="$sim_dir" \
    "$work/venv/bin/python" -m pytest -q -p no:cacheprovider tests
