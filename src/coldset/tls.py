"""HTTPS on the set's own network: a local certificate authority and a server certificate.

On location the server is the armorer's laptop and the tablets reach it over the
set's Wi-Fi, with no internet: no public certificate authority can vouch for it.
So the install makes its own (``coldset tls``, or the first ``coldset serve
--tls``): a CA whose certificate each tablet installs once (from the ``/setup``
page or its QR code), and a server certificate signed by it, naming the laptop's
host names and addresses (those given, plus ``localhost``, the machine's host name
and the LAN addresses found now). Browsers then treat the pages as a secure
context (Secure session cookies, camera access for scanning).

Files, in the data directory (0600 like every file there):

- ``tls-ca.pem`` — the CA certificate (what a tablet installs; public);
- ``tls-ca.key`` — its private key (never leaves the laptop);
- ``tls-server.pem`` / ``tls-server.key`` — the server's certificate and key.

The CA is made once and kept (a tablet that trusts it keeps working); the server
certificate is made again whenever the names it must cover change.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "tls-ca.pem"
CA_KEY_FILE = "tls-ca.key"
CERT_FILE = "tls-server.pem"
KEY_FILE = "tls-server.key"
CA_YEARS = 10
CERT_DAYS = 825  # the longest validity Apple devices accept for a server certificate

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TlsError(ValueError):
    """A host name or address that cannot go in a certificate (said in plain words)."""


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path
    names: tuple[str, ...]
    addresses: tuple[str, ...]


def lan_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses, found without sending anything."""
    found: set[str] = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(str(info[4][0]))
    except OSError:
        pass
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:  # a UDP "connect" sends no packet; it only picks the outgoing interface
        s.connect(("10.255.255.255", 1))
        found.add(str(s.getsockname()[0]))
    except OSError:
        pass
    finally:
        s.close()
    return sorted(a for a in found if not ipaddress.ip_address(a).is_loopback)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _names(hosts: list[str], ips: list[str]) -> tuple[list[str], list[IpAddress]]:
    names = {"localhost", socket.gethostname().lower()}
    addresses: set[IpAddress] = {ipaddress.ip_address("127.0.0.1")}
    for h in hosts:
        h = h.strip().lower().rstrip(".")
        try:
            addresses.add(ipaddress.ip_address(h))
            continue
        except ValueError:
            pass
        if (
            not h
            or len(h) > 253
            or not all(
                part and len(part) <= 63 and part.replace("-", "").isalnum()
                for part in h.split(".")
            )
        ):
            raise TlsError(
                f"{h!r} is not a host name a certificate can name "
                "(letters, digits, hyphens and dots)"
            )
        names.add(h)
    for a in ips:
        try:
            addresses.add(ipaddress.ip_address(a.strip()))
        except ValueError:
            raise TlsError(f"{a!r} is not an IP address") from None
    return sorted(names), sorted(addresses, key=lambda x: (x.version, int(x)))


def _make_ca(home: Path, install_name: str, now: dt.datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, f"coldset set CA ({install_name})"[:64])]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
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
    _write(home / CA_KEY_FILE, _key_pem(key))
    _write(home / CA_FILE, cert.public_bytes(serialization.Encoding.PEM))


def _covers(
    cert: x509.Certificate,
    names: list[str],
    addresses: list[IpAddress],
    ca: x509.Certificate,
    now: dt.datetime,
) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return (
        cert.issuer == ca.subject
        and cert.not_valid_after_utc > now + dt.timedelta(days=30)
        and set(names) <= set(san.get_values_for_type(x509.DNSName))
        and set(addresses) <= set(san.get_values_for_type(x509.IPAddress))
    )


def ensure(
    home: Path,
    install_name: str,
    hosts: list[str] | None = None,
    ips: list[str] | None = None,
    *,
    lan: bool = True,
    now: dt.datetime | None = None,
) -> TlsFiles:
    """The CA (made once) and a server certificate covering ``hosts`` and ``ips``
    (plus localhost, the host name and, with ``lan``, the LAN addresses found now).

    Bad input (a name or address that cannot be in a certificate) raises
    :class:`TlsError` before anything is written."""
    now = now or dt.datetime.now(dt.UTC)
    names, addresses = _names(list(hosts or ()), [*(ips or ()), *(lan_addresses() if lan else ())])
    if not (home / CA_FILE).exists() or not (home / CA_KEY_FILE).exists():
        _make_ca(home, install_name, now)
    ca = x509.load_pem_x509_certificate((home / CA_FILE).read_bytes())
    cert_path, key_path = home / CERT_FILE, home / KEY_FILE
    if cert_path.exists() and key_path.exists():
        current = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if _covers(current, names, addresses, ca, now):
            return _files(home, current)
    ca_key = serialization.load_pem_private_key((home / CA_KEY_FILE).read_bytes(), None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TlsError(f"{home / CA_KEY_FILE} is not the key coldset made")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=CERT_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [*(x509.DNSName(n) for n in names), *(x509.IPAddress(a) for a in addresses)]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(key_path, _key_pem(key))
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return _files(home, cert)


def _files(home: Path, cert: x509.Certificate) -> TlsFiles:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return TlsFiles(
        home / CA_FILE,
        home / CERT_FILE,
        home / KEY_FILE,
        tuple(san.get_values_for_type(x509.DNSName)),
        tuple(str(a) for a in san.get_values_for_type(x509.IPAddress)),
    )


def ca_pem(home: Path) -> bytes | None:
    """The CA certificate a tablet installs, or None when this install has none yet."""
    path = home / CA_FILE
    return path.read_bytes() if path.exists() else None


def ca_fingerprint(pem: bytes) -> str:
    """SHA-256 of the CA certificate, as the tablets' certificate dialogs show it."""
    cert = x509.load_pem_x509_certificate(pem)
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))
