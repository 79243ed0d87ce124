"""A local development certificate authority for C2PA signing, made on first use.

C2PA validators refuse self-signed signing certificates and demand an end-entity certificate
with ``digitalSignature`` key usage and a signing EKU (emailProtection, documentSigning or the
C2PA claim-signing OID), so the default is a two-level chain: a root CA and a leaf signed by it,
both ES256 (P-256). Operators replace it with a real chain via ``[guard] c2pa_cert``/``c2pa_key``.
Nothing here is trustworthy beyond this installation: the root is only trusted by our verifier.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from imagine.atomic import atomic_write

log = logging.getLogger(__name__)

# id-kp-documentSigning (RFC 9336) and the C2PA claim-signing key purpose.
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
ROOT_FILE, CHAIN_FILE, KEY_FILE = "root.pem", "chain.pem", "signer.key"


@dataclass(frozen=True)
class DevCA:
    """Paths of the development CA: ``chain`` is leaf + root (PEM), ``key`` the leaf's private key."""

    directory: Path
    root: Path
    chain: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "imagine local development"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "XX"),
    ])


def _make_chain(years: int = 10) -> tuple[bytes, bytes, bytes]:
    """(root PEM, leaf+root chain PEM, leaf PKCS#8 key PEM)."""
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    until = now + dt.timedelta(days=365 * years)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("imagine development root CA")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name).issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("imagine development signer")).issuer_name(root_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    root_pem = root.public_bytes(pem)
    key_pem = leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return root_pem, leaf.public_bytes(pem) + root_pem, key_pem


def ensure_dev_ca(directory: Path) -> DevCA:
    """The development CA under ``directory``, generated on first call and reused afterwards.

    The three files are written into a temporary sibling folder renamed into place in one step,
    so two processes starting together never pair one's key with the other's certificate.
    """
    ca = DevCA(directory, directory / ROOT_FILE, directory / CHAIN_FILE, directory / KEY_FILE)
    if ca.root.is_file() and ca.chain.is_file() and ca.key.is_file():
        return ca
    directory.parent.mkdir(parents=True, exist_ok=True)
    root_pem, chain_pem, key_pem = _make_chain()
    tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}."))
    try:
        atomic_write(tmp / KEY_FILE, key_pem, mode=0o600)
        atomic_write(tmp / ROOT_FILE, root_pem)
        atomic_write(tmp / CHAIN_FILE, chain_pem)
        os.rename(tmp, directory)  # atomic; fails if another process got there first
        log.info("generated a local development C2PA CA in %s (trusted by this installation only)", directory)
    except OSError:
        if not (ca.root.is_file() and ca.chain.is_file() and ca.key.is_file()):
            raise
    finally:
        if tmp.exists():
            for f in tmp.iterdir():
                f.unlink()
            tmp.rmdir()
    return ca
