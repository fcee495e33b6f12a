"""A real `nats-server` with JetStream for the Python suites: started on 127.0.0.1 with ports
it picks itself (read back from its log), its streams in a folder of the test's, stopped by
its PID. The binary is $SOCKEYE_NATS_SERVER, else `nats-server` on PATH or in /usr/sbin (where
Debian puts it)."""
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from typing import Any, Dict, List, Optional

START_TIMEOUT = 20.0
STOP_GRACE = 5.0


class NatsError(Exception):
    pass


def nats_server_binary() -> str:
    configured = os.environ.get("SOCKEYE_NATS_SERVER")
    if configured:
        return configured
    found = shutil.which("nats-server") or next(
        (p for p in ("/usr/sbin/nats-server", "/usr/local/sbin/nats-server", "/usr/local/bin/nats-server")
         if os.access(p, os.X_OK)), None)
    if not found:
        raise NatsError("nats-server is not installed (scripts/setup --tests installs it; or set SOCKEYE_NATS_SERVER)")
    return found


class NatsServer:
    """One server: `url` for clients, `jsz()` for the monitoring view of its streams."""

    def __init__(self, store: str, name: str = "n1", port: Optional[int] = None, monitor_port: Optional[int] = None,
                 extra: Optional[List[str]] = None) -> None:
        self.store, self.name = store, name
        argv = [nats_server_binary(), "-js", "-a", "127.0.0.1", "-n", name, "-sd", store,
                "-p", str(port or -1), "-m", str(monitor_port or -1), *(extra or [])]
        self.lines: List[str] = []
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline and self.proc.poll() is None:
            if any("Server is ready" in line for line in self.lines):
                break
            time.sleep(0.02)
        text = "\n".join(self.lines)
        clients = re.search(r"Listening for client connections on 127\.0\.0\.1:(\d+)", text)
        http = re.search(r"Starting http monitor on 127\.0\.0\.1:(\d+)", text)
        if "Server is ready" not in text or not clients or not http:
            self.stop(signal.SIGKILL)
            raise NatsError("nats-server did not start:\n" + "\n".join(self.lines[-15:]))
        self.port, self.monitor_port = int(clients.group(1)), int(http.group(1))
        self.url = f"nats://127.0.0.1:{self.port}"

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def jsz(self) -> Dict[str, Any]:
        """/jsz?streams=true&config=true from the monitoring port."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/jsz?streams=true&config=true", timeout=5) as response:
            return json.loads(response.read())

    def stream(self, name: str) -> Optional[Dict[str, Any]]:
        """The stream's detail (config and state), or None when the server has no such stream."""
        for account in self.jsz().get("account_details") or []:
            for stream in account.get("stream_detail") or []:
                if stream.get("name") == name:
                    return stream
        return None

    def jsz_consumers(self) -> List[List[Dict[str, Any]]]:
        """Every stream's consumers (/jsz?consumers=true), one list per stream."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/jsz?consumers=true", timeout=5) as response:
            data = json.loads(response.read())
        return [stream.get("consumer_detail") or [] for account in data.get("account_details") or []
                for stream in account.get("stream_detail") or []]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stops the server by its PID (SIGKILL after STOP_GRACE) and waits for it."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_GRACE)
        self._reader.join(timeout=2)


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NatsCluster:
    """Three JetStream servers with routes to each other (their route ports picked here: a
    cluster needs them before the servers start), each with its store in `folder`; ready once
    they elected a JetStream meta leader. `stream` names the stream the helpers look at."""

    def __init__(self, folder: str, stream: str = "SLACK") -> None:
        self.stream_name = stream
        routes = [_free_port() for _ in range(3)]
        route_urls = ",".join(f"nats://127.0.0.1:{port}" for port in routes)
        self.servers: List[NatsServer] = []
        for index in range(3):
            name = f"n{index + 1}"
            self.servers.append(NatsServer(os.path.join(folder, name), name=name, extra=[
                "--cluster_name", "sockeye", "--cluster", f"nats://127.0.0.1:{routes[index]}", "--routes", route_urls]))
        deadline = time.time() + 60
        while time.time() < deadline and not self.meta_leader():
            time.sleep(0.2)
        if not self.meta_leader():
            raise AssertionError("the NATS cluster elected no JetStream meta leader in 60 s")

    @property
    def urls(self) -> List[str]:
        return [server.url for server in self.servers]

    def alive(self) -> List[NatsServer]:
        return [server for server in self.servers if server.proc.poll() is None]

    def jsz(self) -> Optional[Dict[str, Any]]:
        for server in self.alive():
            try:
                return server.jsz()
            except OSError:
                continue
        return None

    def meta_leader(self) -> Optional[str]:
        view = self.jsz()
        return ((view or {}).get("meta_cluster") or {}).get("leader")

    def stream(self) -> Optional[Dict[str, Any]]:
        for server in self.alive():
            try:
                found = server.stream(self.stream_name)
            except OSError:
                continue
            if found:
                return found
        return None

    def stream_leader(self) -> Optional[NatsServer]:
        found = self.stream()
        leader = ((found or {}).get("cluster") or {}).get("leader")
        return next((server for server in self.servers if server.name == leader), None)

    def stream_messages(self) -> int:
        found = self.stream()
        return found["state"]["messages"] if found else 0

    def stop(self) -> None:
        for server in self.servers:
            server.stop(signal.SIGKILL)
