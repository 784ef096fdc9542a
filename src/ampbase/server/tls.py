"""A local development CA and a server certificate for the sandbox.

The Amplify JS client always opens ``wss://<host:port>/graphql/realtime``, even for an
``http://`` URL, so the sandbox must speak TLS. :func:`ensure_dev_certificates` creates, once,
a CA (``ca.pem``/``ca-key.pem``) and a certificate for ``localhost``, ``127.0.0.1`` and ``::1``
signed by it (``server.pem``/``server-key.pem``) in a state directory, and renews the server
certificate when it is about to expire. Trust the CA once (``NODE_EXTRA_CA_CERTS`` for Node,
the OS store for browsers) and every later sandbox is trusted too.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import platform
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["DevCertificates", "ensure_dev_certificates", "server_ssl_context", "trust_hint"]

CA_DAYS = 3650
SERVER_DAYS = 397  # the longest validity browsers accept for a server certificate
RENEW_BEFORE = dt.timedelta(days=30)
SERVER_NAMES: tuple[str, ...] = ("localhost",)
SERVER_IPS: tuple[str, ...] = ("127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class DevCertificates:
    ca_cert: Path
    ca_key: Path
    cert: Path
    key: Path


def ensure_dev_certificates(directory: Path) -> DevCertificates:
    """Create (or reuse) the local CA and a current server certificate under ``directory``."""
    tls_dir = directory / "tls"
    tls_dir.mkdir(parents=True, exist_ok=True)
    files = DevCertificates(
        ca_cert=tls_dir / "ca.pem",
        ca_key=tls_dir / "ca-key.pem",
        cert=tls_dir / "server.pem",
        key=tls_dir / "server-key.pem",
    )
    now = dt.datetime.now(dt.UTC)
    if not (files.ca_cert.exists() and files.ca_key.exists()) or _expires_soon(files.ca_cert, now):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _make_ca(ca_key, now)
        _write_key(files.ca_key, ca_key)
        files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        files.cert.unlink(missing_ok=True)
    if not (files.cert.exists() and files.key.exists()) or _expires_soon(files.cert, now):
        ca_key_loaded = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
        if not isinstance(ca_key_loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{files.ca_key} is not an EC private key")
        ca_cert_loaded = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        server_key = ec.generate_private_key(ec.SECP256R1())
        cert = _make_server_cert(server_key, ca_key_loaded, ca_cert_loaded, now)
        _write_key(files.key, server_key)
        files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files


def server_ssl_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side TLS context offering HTTP/1.1 (the client's fetch and WebSocket both use it)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    context.set_alpn_protocols(["http/1.1"])
    return context


def trust_hint(ca_cert: Path) -> str:
    """How to make clients trust the sandbox CA."""
    return (
        f"TLS: certificates are signed by the local ampbase CA {ca_cert}\n"
        f"  Node:     export NODE_EXTRA_CA_CERTS={ca_cert}\n"
        "  Browsers: import that file into your OS / browser trust store as a trusted root "
        "(macOS Keychain 'Always Trust', Windows 'Trusted Root Certification Authorities', "
        "Linux: copy to /usr/local/share/ca-certificates/ampbase.crt and run update-ca-certificates)"
    )


def _make_ca(key: ec.EllipticCurvePrivateKey, now: dt.datetime) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ampbase development CA"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"ampbase local CA ({platform.node() or 'localhost'})"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _make_server_cert(
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    now: dt.datetime,
) -> x509.Certificate:
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVER_NAMES]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IPS]
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def _expires_soon(path: Path, now: dt.datetime) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return True
    return cert.not_valid_after_utc - now < RENEW_BEFORE


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
