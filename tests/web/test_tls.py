"""HTTPS on the set's own network (issue 10): the install's own certificate authority,
``coldset serve --tls`` as users run it (a real uvicorn over TLS), Secure session cookies,
and the ``/setup`` page a tablet opens first (the CA certificate, a QR code of its
address, the install's name and key fingerprint)."""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from coldset import tls
from coldset.cli.serve import wants_tls
from coldset.config import Settings
from coldset.install import open_install
from coldset.web.routes.setup import key_fingerprint
from tests.web.conftest import Web, text_of
from tests.web.test_serve_cli import _free_port


def test_the_certificate_names_the_laptop_and_the_ca_is_kept(tmp_path: Path) -> None:
    """The server certificate covers the names and addresses given (and localhost), is
    signed by the install's CA, and a second run keeps the CA a tablet already trusts;
    new names make a new server certificate under the same CA."""
    first = tls.ensure(tmp_path, "set.local", ["armory-laptop.local"], ["192.168.4.20"], lan=False)
    cert = x509.load_pem_x509_certificate(first.cert.read_bytes())
    ca = x509.load_pem_x509_certificate(first.ca.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"armory-laptop.local", "localhost"} <= set(san.get_values_for_type(x509.DNSName))
    assert ipaddress.ip_address("192.168.4.20") in san.get_values_for_type(x509.IPAddress)
    assert cert.issuer == ca.subject
    cert.verify_directly_issued_by(ca)
    for f in (first.ca, first.cert, first.key, tmp_path / tls.CA_KEY_FILE):
        assert f.stat().st_mode & 0o077 == 0, f
    ca_bytes, cert_bytes = first.ca.read_bytes(), first.cert.read_bytes()
    again = tls.ensure(tmp_path, "set.local", ["armory-laptop.local"], ["192.168.4.20"], lan=False)
    assert again.cert.read_bytes() == cert_bytes  # nothing to change
    more = tls.ensure(tmp_path, "set.local", ["other.local"], [], lan=False)
    assert more.ca.read_bytes() == ca_bytes  # the tablets' trust stays
    assert more.cert.read_bytes() != cert_bytes and "other.local" in more.names


def test_a_bad_name_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(tls.TlsError, match="not a host name"):
        tls.ensure(tmp_path, "set.local", ["bad name!"], [], lan=False)
    with pytest.raises(tls.TlsError, match="not an IP address"):
        tls.ensure(tmp_path, "set.local", [], ["300.1.1.1"], lan=False)
    assert list(tmp_path.iterdir()) == []


def test_https_is_the_default_off_loopback() -> None:
    """Bound to the set's network, serve speaks HTTPS unless told otherwise; on loopback
    (or behind a proxy that terminates HTTPS) plain HTTP, unless --tls."""
    assert wants_tls(None, "0.0.0.0", forwarded=False)
    assert wants_tls(None, "192.168.4.20", forwarded=False)
    assert not wants_tls(None, "127.0.0.1", forwarded=False)
    assert not wants_tls(None, "0.0.0.0", forwarded=True)
    assert wants_tls(True, "127.0.0.1", forwarded=False)
    assert not wants_tls(False, "0.0.0.0", forwarded=False)


def test_setup_without_a_certificate_says_how_to_make_one(web: Web) -> None:
    """No login needed; the install's name and key fingerprint are there either way."""
    r = web.client.get("/setup")
    assert r.status_code == 200
    text = text_of(r.text)
    assert "test.local" in text
    assert key_fingerprint(web.install.signer.public_key) in text
    assert "coldset tls" in text
    r = web.client.get("/setup/coldset-ca.crt")
    assert r.status_code == 404 and "coldset tls" in text_of(r.text)


def test_serve_tls_is_trusted_by_a_tablet_with_the_ca_and_refused_without(tmp_path: Path) -> None:
    """``coldset serve --tls`` (a real uvicorn over TLS): a client trusting the set's CA
    gets /setup (CA download, QR code, name and fingerprints) and a Secure session
    cookie; a client that does not trust it fails the TLS handshake."""
    port = _free_port()
    exe = Path(sys.executable).with_name("coldset")
    proc = subprocess.Popen(
        [
            str(exe),
            "serve",
            "--demo",
            "--tls",
            "--port",
            str(port),
            "--tls-name",
            "armory-laptop.local",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    out: list[str] = []
    try:
        assert proc.stdout is not None
        home = None
        deadline = time.monotonic() + 120
        while home is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "the server stopped: " + "".join(out)
            out.append(line)
            m = re.search(r"data in (\S+),", line)
            home = m.group(1) if m else None
        assert home is not None
        ca_pem = (Path(home) / tls.CA_FILE).read_bytes()
        trusted = ssl.create_default_context(cadata=ca_pem.decode())
        base = f"https://127.0.0.1:{port}"
        with httpx.Client(base_url=base, verify=trusted, timeout=10) as c:
            while True:
                try:
                    page = c.get("/setup")
                    break
                except httpx.ConnectError as e:
                    if "CERTIFICATE" in str(e).upper() or time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            assert page.status_code == 200
            text = text_of(page.text)
            inst = open_install(Settings.load(Path(home)))
            try:
                name, kfp = inst.signer.name, key_fingerprint(inst.signer.public_key)
            finally:
                inst.close()
            assert name in text and kfp in text
            assert tls.ca_fingerprint(ca_pem) in text
            assert "<svg" in page.text  # the QR code of the CA's URL
            assert c.get("/setup/coldset-ca.crt").content == ca_pem
            login = c.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
            r = c.post(
                "/login", data={"login": "hana", "password": "demo-hana", "csrf": csrf, "next": "/"}
            )
            cookies = [
                v
                for k, v in r.headers.multi_items()
                if k == "set-cookie" and v.startswith("coldset_session")
            ]
            assert cookies and all("secure" in v.lower() for v in cookies), r.headers
        with (
            httpx.Client(base_url=base, timeout=10) as stranger,
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
        ):
            stranger.get("/setup")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
