"""TLS against a real sockeye-sim serving https:// and wss:// with a self-signed certificate
(in test-wheel.sh: through the OpenSSL the wheel carries): trusted through ``ca_file``,
through ``SSL_CERT_FILE``, through the host's CA bundle that a wheel's library is given on a
system without Debian's /usr/lib/ssl; refused when nothing trusts it."""
from __future__ import annotations

import logging

import pytest

import sockeye
from sockeye import _ffi

from conftest import APP_TOKEN


@pytest.fixture
def tls_sim(start_sim, tmp_path, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    sim = start_sim("--tls", "--cert-dir", str(tmp_path / "tls"))
    assert sim.api.startswith("https://") and sim.cert, sim.api
    return sim


def acks_over_tls(sim, **options) -> None:
    with sockeye.Client(APP_TOKEN, api_url=sim.api, pool_size=1, **options) as client:
        assert client.wait_until_running(30), client.stats
        sim.inject("message", 2)
        for _ in range(2):
            event = client.next_event(timeout=10)
            assert event is not None and event.event_type == "message"
            event.ack()
        assert sim.wait_for(lambda: sim.total()["acked"] == 2, 10)


def test_a_ca_file_trusts_the_servers_certificate(tls_sim):
    acks_over_tls(tls_sim, ca_file=tls_sim.cert)


def test_ssl_cert_file_trusts_it_too(tls_sim, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", tls_sim.cert)
    acks_over_tls(tls_sim)


def test_an_untrusted_certificate_is_refused(tls_sim, caplog):
    with caplog.at_level(logging.WARNING, logger="sockeye"):
        with sockeye.Client(APP_TOKEN, api_url=tls_sim.api, pool_size=1) as client:
            assert tls_sim.wait_for(lambda: "certificate verify failed" in caplog.text, 30)
            assert client.stats.connections_live == 0
    assert tls_sim.live_connections() == []


def test_a_wheels_library_without_debians_openssl_folder_gets_the_host_ca_bundle(tls_sim, tmp_path, monkeypatch):
    # As on Fedora: no /usr/lib/ssl, the host's bundle elsewhere (here, the sim's certificate).
    monkeypatch.setattr(_ffi, "bundled_openssl", lambda: True)
    monkeypatch.setattr(_ffi, "_DEBIAN_OPENSSL_DIR", str(tmp_path / "no-such-folder"))
    monkeypatch.setattr(_ffi, "_ca_bundle_candidates", lambda: [None, str(tmp_path / "missing.pem"), tls_sim.cert])
    assert _ffi.host_ca_file() == tls_sim.cert
    acks_over_tls(tls_sim)
    # SSL_CERT_FILE still decides …
    monkeypatch.setenv("SSL_CERT_FILE", tls_sim.cert)
    assert _ffi.host_ca_file() is None
    monkeypatch.delenv("SSL_CERT_FILE")
    # … Debian's folder, where it exists, is left to the library …
    (tmp_path / "debian-ssl" / "certs").mkdir(parents=True)
    monkeypatch.setattr(_ffi, "_DEBIAN_OPENSSL_DIR", str(tmp_path / "debian-ssl"))
    assert _ffi.host_ca_file() is None
    # … and so is a library that is not a wheel's (it uses its own OpenSSL's store).
    monkeypatch.setattr(_ffi, "_DEBIAN_OPENSSL_DIR", str(tmp_path / "no-such-folder"))
    monkeypatch.setattr(_ffi, "bundled_openssl", lambda: False)
    assert _ffi.host_ca_file() is None
