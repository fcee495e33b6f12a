"""sockeyed out of file descriptors: with a hard limit of 64 open files and more connections
than that, accepting fails (EMFILE). The listener must pause and retry instead of spinning on
accept (NIO's server channel stays readable while the connection waits in the backlog), and
serve again once the connections are gone."""
import os
import resource
import signal
import socket
import subprocess
import time

from bridge_support import SECRET, free_port, http, wait_until
from daemon_support import binary

LIMIT = 64


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def healthy(port):
    try:
        return http(f"http://127.0.0.1:{port}/healthz", timeout=2)[0] == 200
    except OSError:
        return False


def test_out_of_descriptors_pauses_accepting(tmp_path):
    ops_port, public_port = free_port(), free_port()
    config = tmp_path / "sockeyed.yaml"
    config.write_text(f"""apps:
  - name: h
    delivery: http
    signing_secret: {SECRET}
    routes: [{{sinks: [stdout]}}]
operations:
  listen: 127.0.0.1:{ops_port}
public:
  listen: 127.0.0.1:{public_port}
  max_connections: 5000
  head_timeout: 60s
""")
    log = open(tmp_path / "stderr.log", "w+")

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))

    daemon = subprocess.Popen([binary("sockeyed"), "run", "--config", str(config), "--log-level", "error"],
                              stdout=subprocess.DEVNULL, stderr=log, preexec_fn=low_limit, start_new_session=True)
    sockets = []
    try:
        wait_until(lambda: healthy(ops_port), 60, "sockeyed up")
        # More connections than descriptors: the kernel completes them, the daemon cannot
        # accept them all.
        for _ in range(3 * LIMIT):
            sockets.append(socket.create_connection(("127.0.0.1", public_port), timeout=10))
        time.sleep(1)
        before = cpu_seconds(daemon.pid)
        time.sleep(3)
        spent = cpu_seconds(daemon.pid) - before
        # Spinning on accept takes a whole core whenever it can get one; pausing takes next to
        # nothing. The bound is loose on purpose (a loaded machine may give a spinner less).
        assert spent < 1.0, f"sockeyed used {spent:.2f} s of CPU in 3 s while out of descriptors"
        assert daemon.poll() is None, "sockeyed died"
        for s in sockets:
            s.close()
        sockets.clear()
        wait_until(lambda: healthy(ops_port), 30, "sockeyed serving again")
    finally:
        for s in sockets:
            s.close()
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(timeout=10)
        log.close()
