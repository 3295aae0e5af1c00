"""The key that signs credit reports (PAdES), and the certificate the hub publishes for it.

Like the token signing key, it is made on first use: an EC P-256 key and a self-signed
certificate, written together to one PEM file (``HUB_REPORTS__SIGNING_KEY_PATH``) so that they
can never be read apart. There is no public certificate authority offline, so a verifier
trusts this certificate itself: ``/reports/certificate.pem`` publishes it, and
``pyhanko sign validate --trust certificate.pem --trust-replace report.pdf`` accepts a report
it signed. A PDF reader's own trust list does not know it; the reader says the signature is
intact but the signer unknown.

Workers that start together agree on one key: each writes a complete file under a private name
and links it into place, and only the first link succeeds (as ``hub.auth.keys`` does).
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from hub.kit.time import utcnow
from hub.report.errors import ReportUnavailableError

#: How long a new certificate is valid: reports are kept for years, and a verifier checks the
#: signature against the certificate's validity at the signing time.
CERTIFICATE_YEARS = 20
SIGNATURE_FIELD = "QualityCreditHub"
SIGNATURE_REASON = "Issued by the Quality Credit Hub: verify at /verify"


@dataclass(frozen=True, slots=True)
class ReportSigner:
    """A key and its certificate, ready to sign."""

    certificate_pem: bytes
    _signer: signers.SimpleSigner

    @classmethod
    def from_pem(cls, pem: bytes) -> ReportSigner:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
            certificate = x509.load_pem_x509_certificate(pem)
        except ValueError:
            raise ReportUnavailableError(
                "the report signing file must hold a PEM private key and its certificate"
            ) from None
        public = certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        mine = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if public != mine:
            raise ReportUnavailableError("the report signing certificate is not the key's")
        der_certificate = certificate.public_bytes(serialization.Encoding.DER)
        der_key = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        signer = signers.SimpleSigner(
            signing_cert=asn1_x509.Certificate.load(der_certificate),
            signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
            # The certificate is self-signed: there is no chain to carry.
            cert_registry=SimpleCertificateStore(),  # type: ignore[no-untyped-call]
        )
        return cls(certificate.public_bytes(serialization.Encoding.PEM), signer)

    def sign(self, pdf: bytes) -> bytes:
        """``pdf`` with a PAdES signature (B-B, SHA-256) added as an incremental update.

        Blocking (the signature is computed in Python's thread): call it from a worker thread.
        """
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        metadata = signers.PdfSignatureMetadata(
            field_name=SIGNATURE_FIELD,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=SIGNATURE_REASON,
        )
        signed = signers.sign_pdf(writer, metadata, signer=self._signer)
        return bytes(signed.getvalue())


def new_signing_pem() -> bytes:
    """A new EC P-256 key and a self-signed certificate for it, in one PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Quality Credit Hub"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Quality Credit Hub credit reports"),
        ]
    )
    now = utcnow()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # A verifier whose clock runs a little behind must not see a report signed before
        # the certificate's start.
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * CERTIFICATE_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return private + certificate.public_bytes(serialization.Encoding.PEM)


def load_or_create(path: Path) -> ReportSigner:
    """The signer of the file at ``path``, made there first if there is none."""
    if not path.exists():
        _create(path)
    try:
        pem = path.read_bytes()
    except OSError as error:
        raise ReportUnavailableError(
            f"cannot read the report signing file {path}: {error.strerror}"
        ) from None
    return ReportSigner.from_pem(pem)


def _create(path: Path) -> None:
    staging = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(new_signing_pem())
            file.flush()
            os.fsync(file.fileno())
        # Another worker may have been first: then its key is the one.
        with contextlib.suppress(FileExistsError):
            os.link(staging, path)
    except OSError as error:
        raise ReportUnavailableError(
            f"cannot write the report signing file {path}: {error.strerror}"
        ) from None
    finally:
        staging.unlink(missing_ok=True)


class LazySigner:
    """The signer of ``path``, loaded (or made) by the first report, then kept."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._signer: ReportSigner | None = None
        self._lock = threading.Lock()

    def get(self) -> ReportSigner:
        """Blocking on first use (a key is made, a file written): call from a worker thread."""
        with self._lock:
            if self._signer is None:
                self._signer = load_or_create(self.path)
            return self._signer
