"""`sockeyed run` with neither a configuration nor a token is a configuration error (exit
status 2, one line saying what to give), not a demo that exits 0: a service manager whose
unit lost its SLACK_APP_TOKEN must see a failure. The demo is `sockeyed demo`, and its files
are private (a new 0700 directory, a 0600 file)."""
import os
import re
import stat
import time

from daemon_support import Proc, binary


def bare_environment(tmp_path):
    env = {name: value for name, value in os.environ.items()
           if name not in ("SLACK_APP_TOKEN", "SOCKEYE_CONFIG", "SLACK_BOT_TOKEN")}
    env["TMPDIR"] = str(tmp_path)
    return env


def lines_once_read(process, predicate, timeout=10):
    """The process's stderr lines once `predicate` holds for them (its reader thread may
    still be catching up after the exit)."""
    deadline = time.time() + timeout
    while time.time() < deadline and not predicate(process.err):
        time.sleep(0.05)
    return process.err


def test_run_without_token_or_config_fails_with_status_2(tmp_path, processes):
    daemon = Proc([binary("sockeyed"), "run"], env=bare_environment(tmp_path))
    processes.append(daemon)
    assert daemon.wait(30) == 2, daemon.err[-10:]
    errors = [line for line in lines_once_read(daemon, lambda lines: any("SLACK_APP_TOKEN" in l for l in lines)) if line.strip()]
    assert len(errors) == 1 and "SLACK_APP_TOKEN" in errors[0] and "--config" in errors[0], errors
    assert os.listdir(str(tmp_path)) == [], "run made files: " + repr(os.listdir(str(tmp_path)))


def test_demo_runs_explicitly_into_a_private_directory(tmp_path, processes):
    demo = Proc([binary("sockeyed"), "demo", "--seconds", "4", "--rate", "100", "--log-level", "warning"],
                env=bare_environment(tmp_path))
    processes.append(demo)
    assert demo.wait(60) == 0, demo.err[-20:]
    lines = lines_once_read(demo, lambda lines: any("events written to" in l for l in lines))
    written = [m for line in lines for m in re.findall(r"events written to (\S+)", line)]
    assert written, demo.err[-20:]
    path = written[0]
    folder = os.path.dirname(path)
    assert os.path.dirname(folder) == str(tmp_path) and os.path.basename(folder).startswith("sockeyed-demo-"), path
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, "rb") as f:
        assert f.read().count(b"\n") > 0


def test_demo_refuses_out_of_range_options(tmp_path, processes):
    for argv in (["--seconds", "0"], ["--rate", "99999999999999999999"], ["--seconds", "-9223372036854775808"]):
        demo = Proc([binary("sockeyed"), "demo", *argv], env=bare_environment(tmp_path))
        processes.append(demo)
        assert demo.wait(30) not in (0, None), (argv, demo.err[-5:])


def test_check_refuses_an_out_of_range_probe(tmp_path, processes):
    for value in ("0", "-9223372036854775808", "99999999999999999999"):
        check = Proc([binary("sockeyed"), "check", "--probe-seconds", value], env=bare_environment(tmp_path))
        processes.append(check)
        assert check.wait(30) not in (0, None), (value, check.err[-5:])
        lines = lines_once_read(check, lambda lines: any("probe-seconds" in l for l in lines))
        assert any("probe-seconds" in line for line in lines), lines[-5:]


def test_sighup_without_a_config_file_is_ignored(tmp_path, processes, start_sim):
    """A daemon whose settings came from the environment has nothing to reload: SIGHUP (a
    service manager's reload) is logged as ignored and the daemon keeps delivering. Without a
    handler the signal's default action ended the process."""
    import signal
    from daemon_support import APP_TOKEN, free_port
    sim = start_sim()
    env = bare_environment(tmp_path)
    env.update(SLACK_APP_TOKEN=APP_TOKEN, SOCKEYE_API_URL=sim.api, SOCKEYE_POOL_SIZE="1",
               SOCKEYE_OPERATIONS_LISTEN=f"127.0.0.1:{free_port()}")
    daemon = Proc([binary("sockeyed"), "run", "--log-level", "info"], env=env)
    processes.append(daemon)
    assert daemon.wait_for(lambda: any("operations listener ready" in line for line in daemon.err), 60), daemon.err[-20:]
    daemon.signal(signal.SIGHUP)
    assert daemon.wait_for(lambda: any("SIGHUP ignored" in line for line in daemon.err), 30), daemon.err[-20:]
    assert daemon.proc.poll() is None, f"sockeyed ended on SIGHUP: {daemon.proc.poll()}"
    before = sum(1 for line in daemon.out if line.startswith("{"))
    sim.admin("load", {"rate": 100, "total": 5, "kinds": ["message"]})
    assert daemon.wait_for(lambda: sum(1 for line in daemon.out if line.startswith("{")) >= before + 5, 60), daemon.err[-20:]
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(30) == 0, daemon.err[-20:]


def test_an_unknown_log_level_is_a_usage_error(tmp_path, processes):
    """`--log-level verbose` (or SOCKEYE_LOG_LEVEL=verbose) is refused with exit status 64 and
    the levels to choose from, instead of quietly running at info."""
    for argv, extra in ((["run", "--log-level", "verbose"], {}), (["run"], {"SOCKEYE_LOG_LEVEL": "verbose"}),
                        (["demo", "--log-level", "loud"], {})):
        env = bare_environment(tmp_path)
        env.update(extra)
        process = Proc([binary("sockeyed"), *argv], env=env)
        processes.append(process)
        assert process.wait(30) == 64, (argv, extra, process.err[-5:])
        lines = lines_once_read(process, lambda lines: any("notice, warning" in l for l in lines))
        assert any("notice, warning" in line for line in lines), (argv, lines[-5:])
