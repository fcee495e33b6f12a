"""HTTP delivery mode: sockeye-sim POSTs signed requests to a slack_bolt app's Request URL.
Bolt verifies every v0 signature (it answers 401 otherwise), answers url_verification, and
its listeners see events, slash commands (form-encoded) and interactivity (payload=)."""
import socket
import threading

from slack_bolt import App
from slack_sdk import WebClient

from interop_support import BOT_TOKEN, KINDS, counting_bolt_app

SECRET = "interop-signing-secret"
TOTAL = 140


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bolt_http_mode_receives_signed_requests(start_sim):
    api = start_sim()  # a first sim only serves auth.test for Bolt's startup
    app, hits = counting_bolt_app(SECRET, WebClient(base_url=api.api, token=BOT_TOKEN),
                                  command_ok=lambda command: command["text"] == "api prod 🚀")

    port = free_port()
    threading.Thread(target=app.start, kwargs={"port": port, "path": "/slack/events"}, daemon=True).start()

    sim = start_sim("--request-url", f"http://127.0.0.1:{port}/slack/events", "--signing-secret", SECRET, "--verify-url")
    # The line after LISTENING: the url_verification challenge was answered.
    assert sim.stdout_line(1, timeout=30) == "URL_VERIFIED"
    for kind in KINDS:
        sim.admin("inject", {"kind": kind, "count": TOTAL // len(KINDS)})
    http = sim.wait_for(lambda: (h := sim.stats().get("http")) and h["acked"] >= TOTAL and h, timeout=60, what="HTTP acks")
    assert http["acked"] == TOTAL
    assert http["failed"] == 0
    assert http["retries"] == 0
    assert hits == {k: TOTAL // len(KINDS) for k in KINDS}


def test_wrong_secret_is_rejected_and_retried(start_sim):
    api = start_sim()
    app = App(signing_secret=SECRET, client=WebClient(base_url=api.api, token=BOT_TOKEN))
    app.event("app_mention")(lambda ack: ack())
    port = free_port()
    threading.Thread(target=app.start, kwargs={"port": port, "path": "/slack/events"}, daemon=True).start()
    sim = start_sim("--request-url", f"http://127.0.0.1:{port}/slack/events", "--signing-secret", "wrong",
                    "--time-scale", "1000", "--ack-deadline", "1")
    sim.admin("inject", {"kind": "app_mention", "count": 1})
    http = sim.wait_for(lambda: (h := sim.stats().get("http")) and h["failed"] >= 1 and h, timeout=30, what="failure")
    assert http["acked"] == 0
    assert http["retries"] == 3
    assert http["attempts"] == 4
