"""Specifications of the dev CA and the SPIFFE workload certificates it issues."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from kit import tls

TRUST_DOMAIN = "stockmesh.test"
ACCOUNT = "svc-user"
SPIFFE_ID = f"spiffe://{TRUST_DOMAIN}/ns/stockmesh/sa/{ACCOUNT}"


@pytest.fixture
def ca_dir(tmp_path: Path) -> Path:
    tls.ensure_ca(tmp_path, trust_domain=TRUST_DOMAIN)
    return tmp_path


def certificate(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def ca_of(directory: Path) -> x509.Certificate:
    return certificate((directory / tls.CA_CERT).read_bytes())


def test_the_ca_is_created_once_and_kept_on_later_calls(tmp_path: Path) -> None:
    directory = tmp_path / "tls"
    tls.ensure_ca(directory, trust_domain=TRUST_DOMAIN)
    first = ((directory / tls.CA_CERT).read_bytes(), (directory / tls.CA_KEY).read_bytes())

    tls.ensure_ca(directory, trust_domain=TRUST_DOMAIN)

    assert ((directory / tls.CA_CERT).read_bytes(), (directory / tls.CA_KEY).read_bytes()) == first


def test_the_ca_may_sign_certificates_only(ca_dir: Path) -> None:
    constraints = ca_of(ca_dir).extensions.get_extension_for_class(x509.BasicConstraints).value

    assert constraints.ca
    assert constraints.path_length == 0


def test_an_issued_certificate_carries_the_spiffe_id_as_its_uri_san(ca_dir: Path) -> None:
    identity = tls.issue(ca_dir, ACCOUNT, SPIFFE_ID)

    assert tls.peer_spiffe_ids(identity.cert) == [SPIFFE_ID]


def test_a_certificate_without_a_san_has_no_spiffe_id(ca_dir: Path) -> None:
    assert tls.peer_spiffe_ids((ca_dir / tls.CA_CERT).read_bytes()) == []


def test_an_issued_certificate_is_signed_by_the_ca(ca_dir: Path) -> None:
    issued = certificate(tls.issue(ca_dir, ACCOUNT, SPIFFE_ID).cert)
    ca = ca_of(ca_dir)
    ca_key = ca.public_key()
    assert isinstance(ca_key, ec.EllipticCurvePublicKey)
    assert issued.signature_hash_algorithm is not None

    ca_key.verify(issued.signature, issued.tbs_certificate_bytes, ec.ECDSA(issued.signature_hash_algorithm))
    assert issued.issuer == ca.subject


def test_an_issued_certificate_serves_and_calls_but_signs_nothing(ca_dir: Path) -> None:
    issued = certificate(tls.issue(ca_dir, ACCOUNT, SPIFFE_ID).cert)

    usages = issued.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert not issued.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_an_issued_certificate_names_the_account_and_loopback(ca_dir: Path) -> None:
    issued = certificate(tls.issue(ca_dir, ACCOUNT, SPIFFE_ID).cert)

    names = issued.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {ACCOUNT, "localhost"} <= set(names.get_values_for_type(x509.DNSName))
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_an_identity_holds_the_key_of_its_certificate_and_the_ca(ca_dir: Path) -> None:
    identity = tls.issue(ca_dir, ACCOUNT, SPIFFE_ID)
    key = serialization.load_pem_private_key(identity.key, None)

    assert key.public_key() == certificate(identity.cert).public_key()
    assert identity.ca == (ca_dir / tls.CA_CERT).read_bytes()


def test_a_valid_identity_is_reused(ca_dir: Path) -> None:
    first = tls.ensure_identity(ca_dir, ACCOUNT, SPIFFE_ID)

    assert tls.ensure_identity(ca_dir, ACCOUNT, SPIFFE_ID) == first


def test_an_identity_for_another_spiffe_id_is_reissued(ca_dir: Path) -> None:
    tls.ensure_identity(ca_dir, ACCOUNT, SPIFFE_ID)
    moved = SPIFFE_ID.replace("/ns/stockmesh/", "/ns/staging/")

    assert tls.peer_spiffe_ids(tls.ensure_identity(ca_dir, ACCOUNT, moved).cert) == [moved]


def test_an_identity_near_expiry_is_reissued(ca_dir: Path) -> None:
    expiring = tls.issue(ca_dir, ACCOUNT, SPIFFE_ID, days=3)

    renewed = tls.ensure_identity(ca_dir, ACCOUNT, SPIFFE_ID)

    assert renewed.cert != expiring.cert
    assert certificate(renewed.cert).not_valid_after_utc > certificate(expiring.cert).not_valid_after_utc


def test_an_identity_signed_by_a_replaced_ca_is_reissued(ca_dir: Path) -> None:
    tls.ensure_identity(ca_dir, ACCOUNT, SPIFFE_ID)
    (ca_dir / tls.CA_KEY).unlink()
    tls.ensure_ca(ca_dir, trust_domain=TRUST_DOMAIN)

    renewed = certificate(tls.ensure_identity(ca_dir, ACCOUNT, SPIFFE_ID).cert)

    renewed.verify_directly_issued_by(ca_of(ca_dir))


def test_private_keys_are_readable_by_their_owner_only(ca_dir: Path) -> None:
    tls.issue(ca_dir, ACCOUNT, SPIFFE_ID)

    for key_file in (ca_dir / tls.CA_KEY, ca_dir / f"{ACCOUNT}-key.pem"):
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600, key_file.name
