"""Contender: slack_sdk's builtin SocketModeClient (threads, its own WebSocket code),
acking every envelope from a request listener."""
from slack_sdk import WebClient
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.response import SocketModeResponse

import peer

peer.require_environment()
stop = peer.stop_event()
received = peer.Counter()
client = SocketModeClient(app_token=peer.APP_TOKEN, web_client=WebClient(base_url=peer.API_URL))


def on_request(c, req):
    c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
    received.add(peer.event_key(req.payload))


client.socket_mode_request_listeners.append(on_request)
client.connect()
while not stop.wait(0.5):
    pass
client.close()
peer.report(received)
