"""mTLS for local runs: a dev CA and per-service certificates with SPIFFE IDs.

Each certificate carries `spiffe://<trust-domain>/ns/<ns>/sa/<account>` as a URI
SAN, the identity Istio gives a workload in the cluster, so authorization rules
read the same in both places. Servers require a client certificate signed by
the CA; the caller's SPIFFE ID is read from the verified peer certificate.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT, CA_KEY = "ca.pem", "ca-key.pem"


@dataclass(frozen=True)
class Identity:
    """A workload's key and certificate chain, PEM-encoded."""

    key: bytes
    cert: bytes
    ca: bytes


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def ensure_ca(directory: Path, *, trust_domain: str) -> None:
    """Create the dev CA once; later calls keep the existing one."""
    if (directory / CA_CERT).exists() and (directory / CA_KEY).exists():
        return
    directory.mkdir(parents=True, exist_ok=True)
    key = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"stockmesh dev CA ({trust_domain})")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(directory / CA_KEY, _pem_key(key), private=True)
    _write(directory / CA_CERT, cert.public_bytes(serialization.Encoding.PEM))


def issue(
    directory: Path,
    account: str,
    spiffe_id: str,
    *,
    hostnames: tuple[str, ...] = ("localhost",),
    days: int = 365,
) -> Identity:
    """Issue (or reissue) `account`'s certificate, signed by the dev CA."""
    ca_key = serialization.load_pem_private_key((directory / CA_KEY).read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate((directory / CA_CERT).read_bytes())
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = _key()
    now = datetime.now(UTC)
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(spiffe_id)]
    names += [x509.DNSName(h) for h in (account, *hostnames)]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, account)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(directory / f"{account}-key.pem", _pem_key(key), private=True)
    _write(directory / f"{account}.pem", cert.public_bytes(serialization.Encoding.PEM))
    return load(directory, account)


def ensure_identity(directory: Path, account: str, spiffe_id: str) -> Identity:
    """The account's identity, issued on first use, reissued when it nears expiry."""
    cert_path = directory / f"{account}.pem"
    if cert_path.exists() and (directory / f"{account}-key.pem").exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        fresh = cert.not_valid_after_utc - datetime.now(UTC) > timedelta(days=7)
        if fresh and spiffe_id in peer_spiffe_ids(cert_path.read_bytes()) and _signed_by_ca(directory, cert):
            return load(directory, account)
    return issue(directory, account, spiffe_id)


def _signed_by_ca(directory: Path, cert: x509.Certificate) -> bool:
    """False when the CA was replaced since `cert` was issued."""
    ca = x509.load_pem_x509_certificate((directory / CA_CERT).read_bytes())
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def load(directory: Path, account: str) -> Identity:
    return Identity(
        key=(directory / f"{account}-key.pem").read_bytes(),
        cert=(directory / f"{account}.pem").read_bytes(),
        ca=(directory / CA_CERT).read_bytes(),
    )


def server_credentials(identity: Identity) -> grpc.ServerCredentials:
    """Require and verify a client certificate from the same CA."""
    return grpc.ssl_server_credentials(
        [(identity.key, identity.cert)],
        root_certificates=identity.ca,
        require_client_auth=True,
    )


def channel_credentials(identity: Identity) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=identity.ca,
        private_key=identity.key,
        certificate_chain=identity.cert,
    )


def peer_spiffe_ids(pem: bytes) -> list[str]:
    """The spiffe:// URI SANs of a PEM certificate."""
    cert = x509.load_pem_x509_certificate(pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [
        uri for uri in san.get_values_for_type(x509.UniformResourceIdentifier) if uri.startswith("spiffe://")
    ]


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    # A private key is created 0600, so it is never readable by others, even briefly.
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
