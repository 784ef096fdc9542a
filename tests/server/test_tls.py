"""The sandbox's local CA and server certificate."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import ssl
from pathlib import Path

from cryptography import x509

from ampbase.server.tls import ensure_dev_certificates, server_ssl_context, trust_hint


def test_creates_a_ca_and_a_server_certificate_for_loopback_names(tmp_path: Path) -> None:
    certs = ensure_dev_certificates(tmp_path)
    server = x509.load_pem_x509_certificate(certs.cert.read_bytes())
    ca = x509.load_pem_x509_certificate(certs.ca_cert.read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(names.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }
    assert server.issuer == ca.subject
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    server.verify_directly_issued_by(ca)
    assert certs.key.stat().st_mode & 0o777 == 0o600
    assert certs.ca_key.stat().st_mode & 0o777 == 0o600


def test_certificates_are_reused_across_runs(tmp_path: Path) -> None:
    first = ensure_dev_certificates(tmp_path)
    ca_pem, cert_pem = first.ca_cert.read_bytes(), first.cert.read_bytes()
    second = ensure_dev_certificates(tmp_path)
    assert second.ca_cert.read_bytes() == ca_pem
    assert second.cert.read_bytes() == cert_pem


def test_expiring_server_certificate_is_renewed_with_the_same_ca(tmp_path: Path) -> None:
    certs = ensure_dev_certificates(tmp_path)
    ca_pem = certs.ca_cert.read_bytes()
    certs.cert.write_text("not a certificate")
    renewed = ensure_dev_certificates(tmp_path)
    assert renewed.ca_cert.read_bytes() == ca_pem
    server = x509.load_pem_x509_certificate(renewed.cert.read_bytes())
    assert server.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=300)


def test_server_context_loads_and_a_client_trusting_the_ca_accepts_the_chain(tmp_path: Path) -> None:
    certs = ensure_dev_certificates(tmp_path)
    server_ctx = server_ssl_context(certs.cert, certs.key)
    client_ctx = ssl.create_default_context(cafile=str(certs.ca_cert))
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx.wrap_bio(client_in, client_out, server_hostname="127.0.0.1")
    server = server_ctx.wrap_bio(server_in, server_out, server_side=True)
    for _ in range(10):  # pump the handshake in memory
        for side in (client, server):
            with contextlib.suppress(ssl.SSLWantReadError):
                side.do_handshake()
        server_in.write(client_out.read())
        client_in.write(server_out.read())
    client.do_handshake()
    assert client.getpeercert()["subject"] == ((("commonName", "localhost"),),)


def test_trust_hint_names_node_extra_ca_certs(tmp_path: Path) -> None:
    hint = trust_hint(tmp_path / "ca.pem")
    assert f"NODE_EXTRA_CA_CERTS={tmp_path / 'ca.pem'}" in hint
