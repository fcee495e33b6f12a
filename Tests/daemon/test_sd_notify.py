"""sockeyed speaks systemd's notification protocol itself (Type=notify): the test plays the
service manager, binding a datagram socket (a file, or a name in the abstract namespace) that
NOTIFY_SOCKET names, with the sender's credentials on. READY=1 comes once the operations
listener answers; WATCHDOG=1 pings follow while WATCHDOG_USEC is set; SIGHUP brings
RELOADING=1 with the monotonic clock, then READY=1 (also when the reload is refused); SIGTERM
brings STOPPING=1 and no ping after it, and the exit status is 0. Every datagram comes from
sockeyed's own PID (NotifyAccess=main) and none holds the app's token. A socket nobody reads
is logged once and changes nothing else."""
import os
import signal
import socket
import struct
import time
import uuid

from bridge_support import file_sink, free_port, http, ready, sockeyed_config, wait_until
from daemon_support import APP_TOKEN, Proc, binary

DEADLINE = 60  # seconds for anything to arrive: a busy machine is not a failure


class Manager:
    """The service manager's end: a datagram socket that receives sockeyed's notifications
    with the sender's PID (SO_PASSCRED)."""

    def __init__(self, address):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(address)
        self.received = []  # (fields, sender pid, time.monotonic() at receipt)

    def next(self, timeout=DEADLINE):
        """The next datagram as (dict of fields, sender pid); fails after `timeout` seconds."""
        self.sock.settimeout(timeout)
        try:
            data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(struct.calcsize("3i")))
        except socket.timeout:
            raise AssertionError(f"no notification within {timeout} s; received so far: {self.received}") from None
        pid = None
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("3i", payload[:struct.calcsize("3i")])[0]
        text = data.decode()
        fields = dict(line.split("=", 1) for line in text.split("\n") if line)
        self.received.append((fields, pid, time.monotonic()))
        return fields, pid

    def until(self, predicate, what):
        """Datagrams up to and including the first that satisfies `predicate`."""
        seen = []
        deadline = time.monotonic() + DEADLINE
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {what} within {DEADLINE} s; received: {seen}"
            fields, pid = self.next(left)
            seen.append((fields, pid))
            if predicate(fields):
                return seen

    def close(self):
        self.sock.close()


def start(tmp_path, processes, sim, notify_socket, watchdog_usec="1000000"):
    folder = str(tmp_path)
    ops_port = free_port()
    config = sockeyed_config(os.path.join(folder, "sockeyed.yaml"), sim.api, "socket",
                             file_sink("out", os.path.join(folder, "events.jsonl")), ["out"], ops_port)
    env = dict(os.environ, NOTIFY_SOCKET=notify_socket, WATCHDOG_USEC=watchdog_usec)
    env.pop("WATCHDOG_PID", None)
    daemon = Proc([binary("sockeyed"), "run", "--config", config, "--log-level", "info"], env=env)
    processes.append(daemon)
    return daemon, ops_port, config


def expect_ready_first(manager, daemon, ops_port):
    """The first datagram is READY=1 with a STATUS line, from sockeyed's PID, and the
    operations listener answers as soon as it has arrived."""
    fields, pid = manager.next()
    assert fields.get("READY") == "1", f"first notification: {fields}; stderr: {daemon.err[-10:]}"
    assert "STATUS" in fields and "apps ready" in fields["STATUS"], fields
    assert pid == daemon.proc.pid, f"sent by PID {pid}, sockeyed is {daemon.proc.pid}"
    # Bound before READY: a connection made now is answered at once (no retry).
    status, body = http(f"http://127.0.0.1:{ops_port}/healthz", timeout=10)
    assert status == 200 and body.startswith(b"ok"), (status, body)
    status, _ = http(f"http://127.0.0.1:{ops_port}/readyz", timeout=10)
    assert status in (200, 503), status


def test_ready_watchdog_reload_and_stop_on_a_socket_file(tmp_path, processes, sim):
    manager = Manager(os.path.join(str(tmp_path), "notify.sock"))
    try:
        daemon, ops_port, config = start(tmp_path, processes, sim, os.path.join(str(tmp_path), "notify.sock"))
        expect_ready_first(manager, daemon, ops_port)

        # The watchdog: pings keep coming (three in a row prove a loop, not a one-off).
        for _ in range(3):
            manager.until(lambda f: f.get("WATCHDOG") == "1", "WATCHDOG=1")
        # The STATUS line follows the apps: the app connects to the simulator.
        wait_until(lambda: ready(ops_port), DEADLINE, "sockeyed ready", daemon)
        app_ready = lambda f: f.get("STATUS", "").startswith("apps ready 1/1, Socket Mode connections 1/1")  # noqa: E731
        if not any(app_ready(f) for f, _, _ in manager.received):
            manager.until(app_ready, "STATUS with the app ready")

        # SIGHUP: RELOADING=1 with CLOCK_MONOTONIC (the clock Python's monotonic reads on
        # Linux) taken after the signal was sent, then READY=1.
        before = time.monotonic()
        daemon.signal(signal.SIGHUP)
        seen = manager.until(lambda f: f.get("RELOADING") == "1", "RELOADING=1")
        assert not any(f.get("READY") for f, _ in seen), seen
        reloading, pid = seen[-1]
        assert pid == daemon.proc.pid
        stamp = int(reloading["MONOTONIC_USEC"]) / 1e6
        assert before <= stamp <= manager.received[-1][2], (before, stamp, manager.received[-1][2])
        done = manager.until(lambda f: f.get("READY") == "1", "READY=1 after the reload")
        assert not any(f.get("RELOADING") for f, _ in done), done
        assert "refused" not in done[-1][0].get("STATUS", ""), done[-1]

        # A refused reload ends the same way (the daemon runs on with the old configuration).
        with open(config, "a") as f:
            f.write("not yaml: [\n")
        daemon.signal(signal.SIGHUP)
        manager.until(lambda f: f.get("RELOADING") == "1", "RELOADING=1 for the refused reload")
        refused = manager.until(lambda f: f.get("READY") == "1", "READY=1 after the refused reload")
        assert "refused" in refused[-1][0].get("STATUS", ""), refused[-1]

        # SIGTERM: STOPPING=1, then no ping, and a clean exit.
        daemon.signal(signal.SIGTERM)
        manager.until(lambda f: f.get("STOPPING") == "1", "STOPPING=1")
        stopping_index = len(manager.received) - 1
        assert daemon.wait(30) == 0, daemon.err[-20:]
        try:
            while True:
                manager.next(0.001)
        except AssertionError:
            pass
        after = [f for f, _, _ in manager.received[stopping_index + 1:]]
        assert not any("WATCHDOG" in f for f in after), after
        assert all(pid == daemon.proc.pid for _, pid, _ in manager.received)
        texts = "\n".join(repr(f) for f, _, _ in manager.received)
        assert APP_TOKEN not in texts and "xapp-" not in texts
    finally:
        manager.close()


def test_abstract_socket_name(tmp_path, processes, sim):
    name = f"sockeyed-test-{uuid.uuid4().hex}"
    manager = Manager("\0" + name)
    try:
        daemon, ops_port, _ = start(tmp_path, processes, sim, "@" + name)
        expect_ready_first(manager, daemon, ops_port)
        manager.until(lambda f: f.get("WATCHDOG") == "1", "WATCHDOG=1")
        daemon.signal(signal.SIGTERM)
        manager.until(lambda f: f.get("STOPPING") == "1", "STOPPING=1")
        assert daemon.wait(30) == 0, daemon.err[-20:]
    finally:
        manager.close()


def test_a_socket_nobody_reads_is_logged_once(tmp_path, processes, sim):
    # The name is free: every datagram fails (ECONNREFUSED or ENOENT), pings included.
    daemon, ops_port, _ = start(tmp_path, processes, sim, os.path.join(str(tmp_path), "nobody.sock"))
    wait_until(lambda: ready(ops_port), DEADLINE, "sockeyed ready", daemon)
    wait_until(lambda: any("cannot notify the service manager" in line for line in daemon.err), DEADLINE,
               "the failure's log line", daemon)
    daemon.signal(signal.SIGHUP)
    wait_until(lambda: any("configuration reloaded" in line for line in daemon.err), DEADLINE, "the reload", daemon)
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(30) == 0, daemon.err[-20:]
    failures = [line for line in daemon.err if "cannot notify the service manager" in line]
    assert len(failures) == 1, failures
