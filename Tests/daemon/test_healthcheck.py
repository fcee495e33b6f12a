"""`sockeyed healthcheck` (the container's HEALTHCHECK, where curl is missing): exit 0 when the
operations listener answers /healthz (with --ready, /readyz) with 200; 1 for another status,
a refused connection, or a listener that accepts and never answers (within --timeout)."""
import os
import socket
import subprocess

from bridge_support import file_sink, free_port, ready, sockeyed_config, wait_until
from daemon_support import Proc, binary

DEADLINE = 60


def healthcheck(*args):
    done = subprocess.run([binary("sockeyed"), "healthcheck", *args], capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout + done.stderr


def start(tmp_path, processes, api, name):
    ops_port = free_port()
    config = sockeyed_config(os.path.join(str(tmp_path), f"{name}.yaml"), api, "socket",
                             file_sink("out", os.path.join(str(tmp_path), f"{name}.jsonl")), ["out"], ops_port, name=name)
    daemon = Proc([binary("sockeyed"), "run", "--config", config, "--log-level", "warning"])
    processes.append(daemon)
    return daemon, ops_port


def test_healthy_and_ready(tmp_path, processes, sim):
    daemon, port = start(tmp_path, processes, sim.api, "healthy")
    wait_until(lambda: ready(port), DEADLINE, "sockeyed ready", daemon)
    assert healthcheck("--address", f"127.0.0.1:{port}") == (0, f"http://127.0.0.1:{port}/healthz: 200\n")
    code, out = healthcheck("--address", f"0.0.0.0:{port}", "--ready")
    assert code == 0 and "/readyz: 200" in out, out


def test_alive_but_not_ready(tmp_path, processes):
    # The app's Web API is a port nobody listens on: it never connects, /readyz says 503.
    daemon, port = start(tmp_path, processes, f"http://127.0.0.1:{free_port()}/api/", "unready")
    wait_until(lambda: healthcheck("--address", f"127.0.0.1:{port}")[0] == 0, DEADLINE, "/healthz", daemon)
    code, out = healthcheck("--address", f"localhost:{port}", "--ready")
    assert code == 1 and "503" in out, out


def test_nothing_listening_and_no_answer(tmp_path):
    code, out = healthcheck("--address", f"127.0.0.1:{free_port()}")
    assert code == 1 and "refused" in out, out
    # A listener that accepts (the kernel completes the handshake) and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        code, out = healthcheck("--address", f"127.0.0.1:{silent.getsockname()[1]}", "--timeout", "1")
        assert code == 1 and "deadline" in out, out


def test_usage_mistakes_exit_64():
    for args in (["--address", "example.com:9464"], ["--address", "127.0.0.1"], ["--timeout", "0"], ["--timeout", "61"]):
        code, out = healthcheck(*args)
        assert code == 64, (args, code, out)
