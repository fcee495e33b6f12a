"""`make install PREFIX=…` as a new user runs it (with the release products already built,
NO_BUILD=1): the library as before, and sockeyed, stripped, with its systemd unit (which
`systemd-analyze verify` accepts without a word, its ExecStart at this PREFIX's binary), its
manual page (found by man, naming every command and option `--help` lists) and its bash,
zsh and fish completions; `make uninstall` then leaves no file behind."""
import os
import re
import subprocess

import pytest

from daemon_support import binary

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

INSTALLED = {
    "bin/sockeyed",
    "lib/systemd/system/sockeyed.service",
    "share/man/man1/sockeyed.1",
    "share/bash-completion/completions/sockeyed",
    "share/zsh/site-functions/_sockeyed",
    "share/fish/vendor_completions.d/sockeyed.fish",
    # The library's, as before.
    "lib/libsockeye.so.0",
    "lib/libsockeye.so",
    "include/sockeye.h",
    "lib/pkgconfig/sockeye.pc",
}


def run(argv, **options):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, **options)
    return done.returncode, done.stdout + done.stderr


def files_under(prefix):
    return {os.path.relpath(os.path.join(folder, name), prefix)
            for folder, _, names in os.walk(prefix) for name in names}


def make(target, prefix):
    built = os.path.dirname(binary("sockeyed"))
    library = os.path.join(built, "libsockeye.so")
    if not os.path.exists(library):
        pytest.fail(f"{library} is missing: build it with `swift build -c release --product sockeye`", pytrace=False)
    return run(["make", "-C", ROOT, target, f"PREFIX={prefix}", "NO_BUILD=1", f"BUILT={library}",
                f"SOCKEYED_BUILT={os.path.join(built, 'sockeyed')}"])


def help_of(sockeyed, *command):
    code, out = run([sockeyed, *command, "--help"])
    assert code == 0, out
    return out


def commands_and_options(sockeyed, command=()):
    """Every subcommand name and long option `--help` shows, through every level."""
    out = help_of(sockeyed, *command)
    names = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", out.split("OPTIONS:", 1)[-1]))
    names -= {"--help", "--version"}
    if "SUBCOMMANDS:" in out:
        block = out.split("SUBCOMMANDS:", 1)[1].split("\n\n", 1)[0]
        for sub in re.findall(r"^  ([a-z][a-z-]*)", block, re.M):
            names.add(sub)
            names |= commands_and_options(sockeyed, command + (sub,))
    return names


def test_install_verify_and_uninstall(tmp_path):
    prefix = str(tmp_path / "prefix")
    code, out = make("install", prefix)
    assert code == 0, out
    assert files_under(prefix) == INSTALLED, out
    sockeyed = os.path.join(prefix, "bin", "sockeyed")

    # The unit: placeholders filled, ExecStart at this prefix, and systemd's own check quiet
    # (an unknown key, a missing binary or a man page man cannot find would be printed).
    unit = os.path.join(prefix, "lib/systemd/system/sockeyed.service")
    with open(unit) as f:
        text = f.read()
    assert not re.search(r"@[A-Z]+@", text), re.findall(r"@[A-Z]+@", text)
    assert f"\nExecStart={sockeyed} run --config /etc/sockeyed/sockeyed.yaml\n" in text
    assert "\nType=notify\n" in text and "\nWatchdogSec=" in text
    code, out = run(["systemd-analyze", "verify", unit], env=dict(os.environ, MANPATH=os.path.join(prefix, "share/man")))
    assert code == 0 and out.strip() == "", out

    # The binary: runs from its new place, stripped.
    code, out = run([sockeyed, "--help"])
    assert code == 0 and "SUBCOMMANDS:" in out and "healthcheck" in out, out
    code, out = run(["readelf", "-S", sockeyed])
    assert code == 0 and ".symtab" not in out, "not stripped"

    # The manual page: found by man, and naming every command and option.
    code, out = run(["man", "-w", "sockeyed"], env=dict(os.environ, MANPATH=os.path.join(prefix, "share/man")))
    assert code == 0 and out.strip() == os.path.join(prefix, "share/man/man1/sockeyed.1"), out
    with open(os.path.join(prefix, "share/man/man1/sockeyed.1")) as f:
        manual = f.read()
    assert not re.search(r"@[A-Z]+@", manual)
    plain = manual.replace("\\-", "-")
    missing = sorted(name for name in commands_and_options(sockeyed) if not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", plain))
    assert not missing, f"the manual page does not mention {missing}"
    code, out = run(["groff", "-man", "-ww", "-z", os.path.join(prefix, "share/man/man1/sockeyed.1")])
    assert code == 0 and out.strip() == "", out

    # The completions: each shell's form, naming the subcommands.
    completions = {path: open(os.path.join(prefix, path)).read() for path in INSTALLED if "completion" in path or "site-functions" in path}
    assert all("healthcheck" in text for text in completions.values()), list(completions)
    assert completions["share/zsh/site-functions/_sockeyed"].startswith("#compdef sockeyed")
    assert "complete -c 'sockeyed'" in completions["share/fish/vendor_completions.d/sockeyed.fish"]
    code, out = run(["bash", "-n", os.path.join(prefix, "share/bash-completion/completions/sockeyed")])
    assert code == 0, out

    code, out = make("uninstall", prefix)
    assert code == 0, out
    assert files_under(prefix) == set(), files_under(prefix)
