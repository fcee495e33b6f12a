"""HTTP delivery mode over https:// with the load generator: a slack_bolt app behind a
Python TLS server (HTTP/1.1 keep-alive, the sim's generated self-signed certificate)
verifies every v0 signature; the sim trusts the certificate through --request-url-ca.
Without it, every attempt fails certificate verification and is counted as such."""
import json
import os
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from interop_support import BOT_TOKEN, KINDS, counting_bolt_app

SECRET = "interop-signing-secret"
TOTAL = 210


def https_server(app, cert, key):
    """A threaded HTTPS server dispatching every POST to the Bolt app; returns (server, port)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("utf-8")
            headers = {k.lower(): [v] for k, v in self.headers.items()}
            resp = app.dispatch(BoltRequest(body=body, headers=headers))
            payload = (resp.body if isinstance(resp.body, str) else json.dumps(resp.body)).encode("utf-8")
            self.send_response(resp.status)
            for k, vs in resp.headers.items():
                if k.lower() != "content-length":
                    for v in vs:
                        self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def run_sim(start_sim, *args):
    """Runs a sim to the end of its load and returns its JSON report."""
    sim = start_sim(*args)
    report = sim.report(120)
    assert sim.proc.returncode == 0, sim.stderr_tail()
    return report


def test_bolt_over_https_with_the_load_generator(tmp_path, start_sim):
    # A TLS sim creates the self-signed certificate (and serves auth.test for Bolt).
    api = start_sim("--tls", "--cert-dir", str(tmp_path))
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    server = None
    try:
        client = WebClient(base_url=api.api, token=BOT_TOKEN, ssl=ssl.create_default_context(cafile=cert))
        app, hits = counting_bolt_app(SECRET, client)
        server, port = https_server(app, cert, key)
        url = f"https://127.0.0.1:{port}/slack/events"

        report = run_sim(start_sim, "--request-url", url, "--request-url-ca", cert, "--signing-secret", SECRET,
                         "--http-connections", "4", "--load-total", str(TOTAL), "--load-rate", "150", "--load-kinds",
                         ",".join(KINDS))
        assert report["total"]["delivered"] == TOTAL
        assert report["total"]["acked"] == TOTAL
        assert report["total"]["redelivered"] == 0
        assert report["latencyMs"]["count"] == TOTAL
        assert report["http"]["tlsFailures"] == 0
        assert report["http"]["connectionsOpened"] <= 4
        assert hits == {k: TOTAL // len(KINDS) for k in KINDS}

        # Without --request-url-ca the self-signed certificate is not trusted.
        refused = run_sim(start_sim, "--request-url", url, "--signing-secret", SECRET, "--time-scale", "1000",
                          "--ack-deadline", "2", "--load-total", "1", "--load-window", "1", "--load-kinds", "app_mention")
        assert refused["http"]["attempts"] == 4
        assert refused["http"]["tlsFailures"] == 4
        assert refused["total"]["failedAfterRetries"] == 1
        assert "certificate verify failed" in refused["http"]["lastError"]
        assert sum(hits.values()) == TOTAL
    finally:
        if server:
            server.shutdown()
