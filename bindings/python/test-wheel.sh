#!/usr/bin/env bash
# CI: builds the manylinux wheel from a built libsockeye.so (build-wheel.sh), twice, and
# requires the same bytes; prints `auditwheel show` and requires a manylinux tag; installs
# the wheel by its distribution name (`sockeye-slack`, from the built wheel only) into a fresh
# virtual environment, then its extras (slack_bolt, slack_sdk, aiohttp, pytest) from PyPI;
# checks that `import sockeye` is the installed wheel, that its library is the bundled copy and
# that libwebsockets, libssl and libcrypto are the copies inside the wheel, not the system's;
# then runs the package's tests there against sockeye-sim, from a copy of the tests outside
# the source tree (SOCKEYE_LIBRARY and PYTHONPATH unset).
# Usage: bindings/python/test-wheel.sh PATH/TO/libsockeye.so PATH/TO/sockeye-sim
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ $# -eq 2 ] || { echo "usage: $0 PATH/TO/libsockeye.so PATH/TO/sockeye-sim" >&2; exit 2; }
lib=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
sim_dir=$(cd "$(dirname "$2")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/sockeye-test-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
python=${PYTHON:-python3}
tools=${SOCKEYE_WHEEL_TOOLS:-$root/.venv}
distribution=sockeye-slack

# One file time for both builds (build-wheel.sh's default, the last commit's, could change
# between them in a tree where others commit).
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 315532800)}
wheel=$("$here/build-wheel.sh" "$lib" "$work/dist" | tail -1)
again=$("$here/build-wheel.sh" "$lib" "$work/again" | tail -1)
echo "wheel: $(basename "$wheel") ($(du -h "$wheel" | cut -f1))"
if ! cmp -s "$wheel" "$again"; then
    echo "the wheel is not reproducible: two builds of the same library differ" >&2
    sha256sum "$wheel" "$again" >&2
    exit 1
fi
echo "reproducible: two builds are identical (sha256 $(sha256sum "$wheel" | cut -c1-16)…)"

show=$("$tools/bin/auditwheel" show "$wheel" 2>&1 | grep -v '^INFO:')
echo "$show"
tag=$(echo "$show" | tr '\n' ' ' | sed -nE 's/.*consistent with the following platform tag: "([^"]+)".*/\1/p')
case "$tag" in
    manylinux_*_x86_64) ;;
    *) echo "auditwheel show reports platform tag '$tag', not manylinux" >&2; exit 1 ;;
esac
case "$(basename "$wheel")" in
    *-py3-none-"$tag".whl) echo "platform tag: $tag (auditwheel show and the file name agree)" ;;
    *) echo "the file name's tag is not auditwheel's $tag: $(basename "$wheel")" >&2; exit 1 ;;
esac

"$python" -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip --disable-pip-version-check --quiet)
# By name, from the built wheel and nothing else (no index: a project of that name on PyPI
# could not stand in for it); then the extras' dependencies from the index.
"${pip[@]}" install --no-index --find-links "$work/dist" "$distribution"
"${pip[@]}" install --find-links "$work/dist" "$distribution[bolt,async,test]"
mkdir -p "$work/pkg"
cp -r "$here/tests" "$here/examples" "$here/README.md" "$work/pkg/"
cd "$work/pkg"
unset SOCKEYE_LIBRARY PYTHONPATH
"$work/venv/bin/python" - "$distribution" "$(basename "$wheel")" <<'PY'
import importlib.metadata as metadata, os, sys
import sockeye, sockeye._ffi as ffi

distribution, wheel = sys.argv[1], sys.argv[2]
dist = metadata.distribution(distribution)
assert dist.version == sockeye.__version__, (dist.version, sockeye.__version__)
assert wheel.startswith(f"{distribution.replace('-', '_')}-{dist.version}-"), (wheel, dist.version)
package = os.path.dirname(sockeye.__file__)
assert "site-packages" in package, package
assert os.path.realpath(sockeye.__file__) == os.path.realpath(dist.locate_file("sockeye/__init__.py")), \
    "sockeye is not imported from the sockeye-slack distribution"
bundled = os.path.join(package, "_lib", "libsockeye.so")
assert ffi.library_candidates()[0] == bundled, ffi.library_candidates()
version = sockeye.library_version()
assert ffi.bundled_openssl(), "the wheel's library is not linked with the OpenSSL the wheel carries"
# The libraries auditwheel copied in are the ones loaded (the system's libwebsockets is not;
# the system's libssl may be, for Python's own ssl module, beside the wheel's copy).
with open("/proc/self/maps") as maps:
    mapped = {fields[5] for fields in (line.split() for line in maps) if len(fields) >= 6}
libs = os.path.realpath(os.path.join(package, "..", "sockeye_slack.libs"))
for name in ("libwebsockets", "libssl", "libcrypto"):
    ours = [path for path in mapped if path.startswith(libs + "/" + name + "-")]
    assert ours, f"{name}: no copy from {libs} is loaded: {sorted(mapped)}"
system = [path for path in mapped if os.path.basename(path).startswith("libwebsockets.so")]
assert not system, f"the system's libwebsockets is loaded: {system}"
print(f"{distribution} {dist.version}: sockeye from {package}, libsockeye {version}; "
      f"libwebsockets, libssl, libcrypto from {libs}")
PY
# The simulator fixtures are the repository's (Tests/support): they hold no `sockeye`, so the
# package under test is still the installed wheel.
SOCKEYE_TEST_SUPPORT="$root/Tests/support" SOCKEYE_BIN_DIR="$sim_dir" \
    "$work/venv/bin/python" -m pytest -q -p no:cacheprovider tests
