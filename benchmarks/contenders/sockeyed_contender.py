"""Contender: sockeyed itself. Writes a configuration for the apps benchmarks/run gives
(SLACK_APP_TOKENS, comma-separated, else SLACK_APP_TOKEN; SOCKEYE_POOL_SIZE connections each;
the sim's Web API at SOCKEYE_API_URL; SSL_CERT_FILE trusted for wss), every event to one sink,
no operations listener — then becomes sockeyed (exec: the process benchmarks/run measures is
the daemon itself, and SIGTERM drains it).

  python sockeyed_contender.py PATH/TO/sockeyed [--sink file|stdout|spool|http]

Sinks (every event is acked once its sink took it):
  file    normalized JSON lines to a file sink on /dev/null (the default)
  stdout  the same lines on the stdout sink (fd 1 is /dev/null)
  spool   the durable SQLite spool (synchronous FULL: each batch fsynced before its acks),
          a fresh database in benchmarks/scratch each run
  http    the HTTP forwarder, signed, to sockeye-bench-backend (a keep-alive HTTP app that
          checks every signature), started here beside the daemon and stopped when the
          daemon exits; its CPU is not the daemon's and is not counted in the row
"""
import os
import subprocess
import sys
import time

import peer

SECRET = "bench-signing-secret"
peer.require_environment()
binary = sys.argv[1]
sink = sys.argv[sys.argv.index("--sink") + 1] if "--sink" in sys.argv else "file"
tokens = [t for t in os.environ.get("SLACK_APP_TOKENS", peer.APP_TOKEN).split(",") if t]
pool = int(os.environ.get("SOCKEYE_POOL_SIZE", "1"))
# In benchmarks/scratch (ignored by git), written again by every run.
scratch = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scratch")
os.makedirs(scratch, exist_ok=True)


def start_backend():
    """Starts the forwarder's backend in a watchdog child that stops it once this process
    (sockeyed after the exec) is gone; returns the backend's port."""
    backend_binary = os.path.join(os.path.dirname(binary), "sockeye-bench-backend")
    read_end, write_end = os.pipe()
    daemon_pid = os.getpid()
    if os.fork() == 0:
        os.close(read_end)
        backend = subprocess.Popen([backend_binary, "--secret", SECRET], stdout=subprocess.PIPE, text=True)
        line = backend.stdout.readline()
        os.write(write_end, line.encode())
        os.close(write_end)
        while True:
            try:
                os.kill(daemon_pid, 0)
                if os.getppid() != daemon_pid:
                    break
            except OSError:
                break
            time.sleep(0.2)
        backend.terminate()
        counted = backend.communicate(timeout=10)[0].strip()
        if "bad_signature=0" not in counted:
            sys.stderr.write(f"backend: {counted or 'no count'}\n")
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        line = pipe.readline()
    if not line.startswith("LISTENING port="):
        sys.stderr.write(f"the backend did not start: {line!r}\n")
        sys.exit(1)
    return int(line.split("=", 1)[1])


if sink == "file":
    sink_lines = ["    type: file", "    path: /dev/null"]
elif sink == "stdout":
    sink_lines = ["    type: stdout"]
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
elif sink == "spool":
    database = os.path.join(scratch, "sockeyed-contender-spool.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(database + suffix):
            os.remove(database + suffix)
    sink_lines = ["    type: spool", f"    path: {database}"]
elif sink == "http":
    port = start_backend()
    sink_lines = ["    type: http", f"    url: http://127.0.0.1:{port}/slack/events", f"    signing_secret: {SECRET}",
                  "    concurrency: 64"]
else:
    sys.stderr.write(f"unknown sink {sink!r}\n")
    sys.exit(2)
lines = ["apps:"]
for index, token in enumerate(tokens):
    lines += [f"  - name: app{index}", f"    app_token: {token}", f"    api_url: {peer.API_URL}",
              f"    pool_size: {pool}", "    routes:", "      - sinks: [out]"]
lines += ["sinks:", "  out:", *sink_lines, "operations:", '  listen: "off"', ""]
path = os.path.join(scratch, f"sockeyed-contender-{sink}.yaml")
with open(path, "w") as f:
    f.write("\n".join(lines))
os.execv(binary, [binary, "run", "--config", path, "--log-level", "warning"])
