"""sockeyed's two listeners as configured in its file, against the real process: the operations
listener refuses a Host it does not answer for (421) and serves loopback names; the limits
from the file hold (on the operations listener a connection beyond max_connections while every
slot is busy is closed at once; on the public one slow-loris heads are cut at head_timeout),
a signed request is served afterwards, the refusals are counted on /metrics; the process
raised its open-file soft limit to the hard limit."""
import hashlib
import hmac
import json
import os
import select
import socket
import time

from bridge_support import SECRET, file_sink, free_port, http, metrics, ready, sockeyed_config, start_sockeyed, stop, wait_until


def exchange(port, data, wait=30):
    """Sends `data` on a new connection; (bytes read, closed) once the peer closes or nothing
    comes for `wait` seconds."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        return read_until_closed(s, wait)


def read_until_closed(s, wait):
    out = b""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        ready_to_read, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
        if not ready_to_read:
            break
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return out, True
        if not chunk:
            return out, True
        out += chunk
    return out, False


def open_files_limits(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return soft, hard
    return None


def test_listeners_as_configured(tmp_path, processes, start_sim):
    folder = str(tmp_path)
    out = os.path.join(folder, "events.jsonl")
    sim = start_sim()
    ops_port, public_port = free_port(), free_port()
    config = sockeyed_config(os.path.join(folder, "sockeyed.yaml"), sim.api, "http", file_sink("out", out), ["out"], ops_port,
                             public_port=public_port)
    with open(config) as f:
        text = f.read()
    text = text.replace(f"operations:\n  listen: 127.0.0.1:{ops_port}\n",
                        f"operations:\n  listen: 127.0.0.1:{ops_port}\n  allowed_hosts: [sockeyed.internal]\n"
                        f"  max_connections: 2\n  head_timeout: 60s\n")
    text = text.replace(f"public:\n  listen: 127.0.0.1:{public_port}\n",
                        f"public:\n  listen: 127.0.0.1:{public_port}\n  max_connections: 4\n  head_timeout: 1s\n")
    with open(config, "w") as f:
        f.write(text)
    daemon = start_sockeyed(processes, config)
    wait_until(lambda: ready(ops_port), 60, "sockeyed ready", daemon)

    # The soft limit on open files was raised to the hard one.
    soft, hard = open_files_limits(daemon.proc.pid)
    assert soft == hard, (soft, hard)

    # Host check on the operations listener.
    for host in [b"evil.example", b"evil.example:%d" % ops_port, b"localhost.evil.example"]:
        answer, _ = exchange(ops_port, b"GET /status.json HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 421 "), (host, answer[:200])
    for host in [b"localhost:%d" % ops_port, b"127.0.0.1", b"sockeyed.internal:%d" % ops_port]:
        answer, _ = exchange(ops_port, b"GET /healthz HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200 "), (host, answer[:200])

    # Two slow heads fill the operations listener's slots (busy: a head has begun; its
    # head_timeout is long), so a third connection is closed at once.
    # A held connection whose head had not been read yet when another came in was idle, and
    # made room for it: open it again until both are busy.
    held = [None, None]
    def third_refused():
        for index, s in enumerate(held):
            if s is None or read_until_closed(s, 0.05)[1]:
                if s is not None:
                    s.close()
                held[index] = socket.create_connection(("127.0.0.1", ops_port), timeout=10)
                held[index].sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        time.sleep(0.2)
        answer, closed = exchange(ops_port, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", wait=5)
        return closed and answer == b""
    wait_until(third_refused, 30, "a connection beyond max_connections refused", daemon)
    for s in held:
        s.close()

    # On the public listener, slow heads are cut at head_timeout though they keep sending.
    loris = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", public_port), timeout=10)
        s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
        loris.append(s)
    for s in loris:
        deadline = time.monotonic() + 30
        closed = False
        while time.monotonic() < deadline and not closed:
            try:
                s.sendall(b"X")
            except OSError:
                closed = True
                break
            _, closed = read_until_closed(s, 0.2)
        assert closed, "a slow head was not cut off"
        s.close()

    # A signed request is served again.
    body = json.dumps({"token": "x", "challenge": "still-here", "type": "url_verification"}).encode()
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    status, answer = http(f"http://127.0.0.1:{public_port}/slack/events", body,
                          {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature})
    assert (status, answer.strip()) == (200, b"still-here"), (status, answer)

    def counted():
        m = metrics(ops_port)
        def value(listener, reason):
            return m.get(("sockeyed_listener_rejections_total", frozenset({("listener", listener), ("reason", reason)})), 0)
        return (value("operations", "host") >= 3 and value("public", "head_timeout") >= 4
                and value("operations", "connection_limit") >= 1) and m
    wait_until(counted, 30, "the refusals on /metrics", daemon)
    stop(daemon)
    # Refusals are logged at a bounded rate, and never with a header value.
    log = "\n".join(daemon.err)
    assert "evil.example" not in log
