"""The bridge: an unmodified HTTP-mode slack_bolt app behind sockeyed. sockeyed takes the
events over Socket Mode (`delivery: socket`) and its `http` sink POSTs each one to Bolt as
Slack would in HTTP mode, signed with the app's signing secret; Bolt verifies every signature
itself, its listeners fire once each, and what they answer (a slash command's text or blocks,
a view_submission's `response_action: errors`) reaches the simulator as the Socket Mode ack
payload."""
import hashlib
import hmac
import json
import os
import sys
import time

from daemon_support import Proc, json_lines
from bridge_support import (SECRET, file_sink, free_port, http, ready, sockeyed_config, start_sockeyed, stop,
                            wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))


def bolt_reachable(port):
    try:
        # Bolt answers a GET on its events path with 404: the server is up.
        return http(f"http://127.0.0.1:{port}/slack/events", timeout=2)[0] in (404, 405)
    except OSError:
        return False


def test_unmodified_bolt_http_app_behind_socket_mode(tmp_path, processes, start_sim):
    folder = str(tmp_path)
    sim = start_sim()
    bolt_port, ops_port = free_port(), free_port()
    record = os.path.join(folder, "bolt-calls.jsonl")
    bolt = Proc([sys.executable, os.path.join(HERE, "bolt_http_app.py"), str(bolt_port), SECRET, sim.api, record])
    processes.append(bolt)
    wait_until(lambda: "READY" in bolt.out and bolt_reachable(bolt_port), 30, f"Bolt on port {bolt_port}: {bolt.err[-10:]}")

    # Bolt itself refuses a request with a wrong signature (and one without any).
    body = json.dumps({"type": "event_callback", "event": {"type": "message", "text": "forged"}}).encode()
    timestamp = str(int(time.time()))
    wrong = "v0=" + hmac.new(b"not-the-secret", f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    assert http(f"http://127.0.0.1:{bolt_port}/slack/events", body,
                {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": wrong})[0] == 401
    assert http(f"http://127.0.0.1:{bolt_port}/slack/events", body)[0] == 401

    sinks = (f"  bolt:\n    type: http\n    url: http://127.0.0.1:{bolt_port}/slack/events\n"
             f"    signing_secret: {SECRET}\n    concurrency: 32\n    timeout: 2500ms\n"
             + file_sink("out", os.path.join(folder, "events.jsonl")))
    config = sockeyed_config(os.path.join(folder, "sockeyed.yaml"), sim.api, "socket", sinks, ["bolt", "out"], ops_port)
    daemon = start_sockeyed(processes, config)
    wait_until(lambda: ready(ops_port), 60, "sockeyed ready", daemon)

    injections = [
        {"kind": "message", "text": "hello from the bridge test"},
        {"kind": "slash_command", "command": "/deploy", "text": "api prod"},
        {"kind": "slash_command", "command": "/status", "text": "db"},
        {"kind": "block_actions", "action_id": "approve"},
        {"kind": "view_submission", "callback_id": "ticket"},
    ]
    for body in injections:
        sim.admin("inject", dict(body, count=1, app=0))

    listeners = ["message", "/deploy", "/status", "approve", "ticket"]
    wait_until(lambda: {c["kind"] for c in json_lines(record)} >= set(listeners)
               and sim.stats()["total"]["acked"] >= len(injections), 30,
               f"every Bolt listener and {len(injections)} acks", daemon)
    time.sleep(1.0)  # anything extra (a redelivery, a second call) would show up now
    calls = json_lines(record)
    counts = {name: sum(1 for c in calls if c["kind"] == name) for name in listeners}
    assert counts == {name: 1 for name in listeners}, calls
    by_kind = {c["kind"]: c for c in calls}
    assert by_kind["message"]["text"] == "hello from the bridge test"
    assert by_kind["/deploy"]["text"] == "api prod" and by_kind["/status"]["text"] == "db"
    assert by_kind["approve"]["action_id"] == "approve" and by_kind["ticket"]["callback_id"] == "ticket"
    # One request per envelope went through Bolt's signature check, none a retry, all from sockeyed.
    verified = [c for c in calls if c["kind"] == "verified"]
    assert len(verified) == len(injections), verified
    assert all(v["signature"].startswith("v0=") and v["retry"] is None and "Sockeye" in v["user_agent"] for v in verified), verified

    # Bolt's answers came back to the simulator as the Socket Mode ack payloads.
    responses = sim.responses()
    socket_answers = {r["type"]: r for r in responses if r["delivery"] == "socket"}
    assert socket_answers["/deploy"]["payload"] == {"text": "deploying api prod"}, responses
    assert socket_answers["/status"]["payload"]["blocks"][0]["text"]["text"] == "*status* of db", responses
    assert socket_answers["view_submission"]["payload"] == {"response_action": "errors", "errors": {"title": "too short"}}, responses
    assert all(r["delivery"] == "socket" and r.get("envelope_id") for r in responses), responses

    stats = sim.stats()
    total = stats["total"]
    assert stats["lost"] == 0 and total["failedAfterRetries"] == 0 and total["userVisibleFailures"] == 0, stats
    assert total["acked"] == len(injections) and total["redelivered"] == 0, total
    lines = json_lines(os.path.join(folder, "events.jsonl"))
    assert len(lines) == len(injections) and all(l["delivery"] == "socket_mode" for l in lines), lines
    stop(daemon)
