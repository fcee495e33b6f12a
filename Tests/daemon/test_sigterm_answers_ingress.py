"""SIGTERM while an HTTP request from Slack is in progress: sockeyed answers it before it exits.
The app's sink is a command that takes two seconds; the signal comes while it runs. The
request must get its 200 (the event is in the sink, so Slack must not retry it) and the
process must exit 0 afterwards, not while the answer is still on its way."""
import hashlib
import hmac
import json
import os
import socket
import threading
import time

from bridge_support import SECRET, free_port, ready, sockeyed_config, start_sockeyed, wait_until


def signed_event(event_id):
    body = json.dumps({"token": "x", "team_id": "T0SIGTERM", "api_app_id": "A0SIGTERM", "type": "event_callback",
                       "event_id": event_id, "event_time": int(time.time()),
                       "event": {"type": "message", "text": "hello", "channel": "C0GENERAL", "ts": "1.2"}}).encode()
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return body, stamp, signature


def test_sigterm_answers_the_request_in_progress(tmp_path, processes, start_sim):
    folder = str(tmp_path)
    marker = os.path.join(folder, "sink-started")
    written = os.path.join(folder, "written")
    sim = start_sim()
    ops_port, public_port = free_port(), free_port()
    sink = (f"  slow:\n    type: command\n"
            f"    command: [sh, -c, 'touch \"$1\"; cat >> \"$2\"; sleep 2', sh, {marker}, {written}]\n")
    config = sockeyed_config(os.path.join(folder, "sockeyed.yaml"), sim.api, "http", sink, ["slow"], ops_port,
                             public_port=public_port)
    daemon = start_sockeyed(processes, config)
    wait_until(lambda: ready(ops_port), 60, "sockeyed ready", daemon)

    body, stamp, signature = signed_event("Ev0SIGTERM01")
    request = (f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               f"X-Slack-Request-Timestamp: {stamp}\r\nX-Slack-Signature: {signature}\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    answer = {}

    def post():
        with socket.create_connection(("127.0.0.1", public_port), timeout=30) as s:
            s.sendall(request)
            data = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except OSError as error:
                    answer["error"] = repr(error)
                    break
                if not chunk:
                    break
                data += chunk
            answer["data"] = data

    client = threading.Thread(target=post)
    client.start()
    # The sink has the event: the request is in progress.
    wait_until(lambda: os.path.exists(marker), 30, "the sink to start", daemon)
    daemon.signal(15)
    client.join(40)
    assert not client.is_alive(), "no answer and no close within 40 s"
    assert answer.get("data", b"").startswith(b"HTTP/1.1 200 "), answer
    code = daemon.wait(40)
    assert code == 0, f"sockeyed exit {code}: {daemon.err[-20:]}"
    with open(written) as f:
        assert "Ev0SIGTERM01" in f.read()
