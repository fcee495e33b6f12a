"""The sockeyed under attack: its configuration (two HTTP-mode apps writing to one file sink),
the process (started and stopped by its PID), its memory read from /proc, its log, its
/metrics and the event lines it wrote."""
import collections
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import threading
import time

SMALL_PATHS = ("/slack/small/events", "/slack/small/commands", "/slack/small/actions")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """One sockeyed process on free loopback ports: the ingress on its public listener, /metrics
    and /healthz on its operations listener, both with their default limits. `secret` signs
    the main app's requests (at /slack/events, /slack/commands, /slack/actions, 1 MiB
    bodies); a second app with another secret takes SMALL_PATHS with a 64 KiB body limit."""

    def __init__(self, binary, folder, log_level="info"):
        self.folder = folder
        self.secret = "hostile-" + secrets.token_hex(16)
        self.small_secret = "hostile-small-" + secrets.token_hex(16)
        self.operations_port = free_port()
        self.ingress_port = free_port()
        self.sink_path = os.path.join(folder, "events.jsonl")
        self.log_path = os.path.join(folder, "sockeyed.log")
        self.config_path = os.path.join(folder, "sockeyed.yaml")
        with open(self.config_path, "w") as f:
            f.write(self.config())
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([binary, "run", "--config", self.config_path, "--log-level", log_level],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.proc.pid
        self.start_time = self._start_time()

    def config(self):
        small = SMALL_PATHS
        return f"""apps:
  - name: hostile
    delivery: http
    signing_secret: {self.secret}
    routes:
      - sinks: [events]
  - name: hostile-small
    delivery: http
    signing_secret: {self.small_secret}
    ingress:
      events: {small[0]}
      commands: {small[1]}
      actions: {small[2]}
      max_body: 64KiB
    routes:
      - sinks: [events]
sinks:
  events:
    type: file
    path: {self.sink_path}
operations:
  listen: 127.0.0.1:{self.operations_port}
public:
  listen: 127.0.0.1:{self.ingress_port}
"""

    @property
    def host(self):
        """The Host header for requests to the ingress."""
        return f"127.0.0.1:{self.ingress_port}"

    def _start_time(self):
        """The process's start time in clock ticks (/proc/PID/stat field 22): a PID reused by
        another process would have another."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                return int(f.read().rsplit(")", 1)[1].split()[19])
        except (OSError, IndexError, ValueError):
            return None

    def alive(self):
        """True while the process started here runs (same PID, same start time)."""
        return self.proc.poll() is None and self._start_time() == self.start_time

    def exit_description(self):
        code = self.proc.poll()
        if code is None:
            return "running"
        if code < 0:
            return f"killed by signal {-code} ({signal.Signals(-code).name})"
        return f"exit status {code}"

    def wait_listening(self, timeout=60):
        """Waits until /healthz answers 200; False when the process ended or the time ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive():
            if self.healthy():
                return True
            time.sleep(0.1)
        return False

    def healthy(self, timeout=2):
        """True when /healthz answers 200 within `timeout` s."""
        try:
            with socket.create_connection(("127.0.0.1", self.operations_port), timeout=timeout) as s:
                s.settimeout(timeout)
                s.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{self.operations_port}\r\nConnection: close\r\n\r\n".encode())
                return s.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def wait_exit(self, timeout):
        """Waits up to `timeout` s for the process to end (a crashing Swift process prints its
        backtrace first); True when it ended."""
        try:
            self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def memory(self):
        """(VmRSS, VmHWM) in bytes, or None once the process is gone."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
        except (OSError, KeyError, ValueError):
            return None

    def metrics(self, timeout=10):
        """{name{labels}: value} from /metrics, or None when it does not answer."""
        try:
            with socket.create_connection(("127.0.0.1", self.operations_port), timeout=timeout) as s:
                s.settimeout(timeout)
                s.sendall(f"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{self.operations_port}\r\nConnection: close\r\n\r\n".encode())
                data = b""
                while len(data) < (16 << 20):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError:
            return None
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            return None
        values = {}
        for line in body.decode("utf-8", "replace").splitlines():
            match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?)\s+(\S+)$", line)
            if match and not line.startswith("#"):
                try:
                    values[match.group(1)] = float(match.group(2))
                except ValueError:
                    pass
        return values

    def log_lines(self):
        self.log.flush()
        try:
            with open(self.log_path, "rb") as f:
                return f.read().count(b"\n")
        except OSError:
            return 0

    def log_tail(self, lines=30):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()[-lines:]

    def crash_lines(self, count=16):
        """The log from the crash report's first line (Swift's "Fatal error" or its
        backtracer's "Program crashed"), or its last lines when there is none."""
        with open(self.log_path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        start = next((i for i, line in enumerate(lines) if "Fatal error" in line or "crashed" in line), None)
        return lines[start:start + count] if start is not None else lines[-count:]

    def log_contains(self, text):
        with open(self.log_path, "rb") as f:
            return text.encode() in f.read()

    def written_ids(self):
        """How many lines of the file sink hold each of the harness's ids (`EvPROBE…`,
        `EvHOSTILE…`: an event's id, or the marker in a command's text); lines holding none
        count under None. Complete lines only: a line the sink is still writing is read next
        time."""
        counts = collections.Counter()
        try:
            with open(self.sink_path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return counts
        for line in data.split(b"\n")[:-1]:
            if line.strip():
                json.loads(line)  # every line is JSON
                ids = set(re.findall(rb"Ev(?:PROBE|HOSTILE)[0-9]{6}", line))
                counts.update(i.decode() for i in ids)
                if not ids:
                    counts[None] += 1
        return counts

    def stop(self, timeout=30):
        """SIGTERM, then SIGKILL after `timeout` s; the exit code (None when it had to be killed)."""
        code = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        else:
            code = self.proc.returncode
        self.log.close()
        return code


class MemoryWatch:
    """Samples the daemon's VmRSS every 100 ms on a thread (the harness's event loop is busy
    attacking) and keeps the peak of each phase."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.phase = "start"
        self.peaks = collections.defaultdict(int)
        self.hwm = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.1):
            sample = self.daemon.memory()
            if sample is None:
                return
            rss, hwm = sample
            self.peaks[self.phase] = max(self.peaks[self.phase], rss)
            self.hwm = max(self.hwm, hwm)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        sample = self.daemon.memory()
        if sample:
            self.hwm = max(self.hwm, sample[1])
