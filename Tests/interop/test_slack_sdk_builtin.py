"""slack_sdk's builtin SocketModeClient against sockeye-sim: 1 000 envelopes, all acked."""
import threading

from slack_sdk import WebClient
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from interop_support import APP_TOKEN, assert_clean_run, inject_mix

TOTAL = 1000


def test_builtin_client_acks_every_envelope(sim):
    client = SocketModeClient(app_token=APP_TOKEN, web_client=WebClient(base_url=sim.api), ping_interval=5)
    seen = []
    lock = threading.Lock()

    def on_request(c: SocketModeClient, req: SocketModeRequest):
        with lock:
            seen.append((req.type, req.envelope_id))
        c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    client.socket_mode_request_listeners.append(on_request)
    try:
        client.connect()
        sim.wait_for(lambda: sim.live_connections(), timeout=10, what="the client's connection")
        counts = inject_mix(sim, TOTAL)
        assert_clean_run(sim, TOTAL)
        sim.wait_for(lambda: len(seen) >= TOTAL, timeout=10, what="listener calls")
        assert len(seen) == TOTAL
        assert len({eid for _, eid in seen}) == TOTAL
        by_type = {t: sum(1 for x, _ in seen if x == t) for t in ("events_api", "slash_commands", "interactive")}
        assert by_type["slash_commands"] == counts["slash_command"]
        assert by_type["interactive"] == counts["block_actions"] + counts["shortcut"] + counts["view_submission"]
    finally:
        client.close()


def test_builtin_client_reconnects_on_refresh_requested(sim):
    client = SocketModeClient(app_token=APP_TOKEN, web_client=WebClient(base_url=sim.api), ping_interval=1)
    seen = []
    client.socket_mode_request_listeners.append(
        lambda c, req: (seen.append(req.envelope_id), c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))))
    try:
        client.connect()
        first = sim.wait_for(lambda: sim.live_connections(), timeout=10, what="first connection")[0]["id"]
        sim.admin("disconnect", {"reason": "refresh_requested"})
        sim.wait_for(lambda: any(c["id"] != first for c in sim.live_connections()), timeout=15, what="a replacement connection")
        sim.admin("inject", {"kind": "app_mention", "count": 20})
        assert_clean_run(sim, 20)
        assert len(seen) == 20
    finally:
        client.close()


def test_builtin_client_recovers_after_too_many_websockets(sim):
    """Ten ghost registrations fill the app's limit: the client's sockets get
    disconnect{too_many_websockets} instead of hello until the ghosts expire."""
    sim.admin("fault", {"kind": "ghosts", "count": 10, "seconds": 3})
    client = SocketModeClient(app_token=APP_TOKEN, web_client=WebClient(base_url=sim.api), ping_interval=1)
    client.socket_mode_request_listeners.append(
        lambda c, req: c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id)))
    try:
        client.connect()
        sim.wait_for(lambda: sim.live_connections(), timeout=30, what="a live connection once the ghosts expire")
        # (slack_sdk reconnects on a disconnect message before its message listeners run,
        # so the rejections are counted on the sim's side.)
        assert sim.stats()["tooManyRejections"] >= 1
        sim.admin("inject", {"kind": "app_mention", "count": 20})
        assert_clean_run(sim, 20)
    finally:
        client.close()
