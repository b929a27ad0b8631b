"""``/setup``: a tablet's first visit on the set's network (no login).

It offers the set's CA certificate for download (and a QR code of its address,
for a tablet to open it without typing), and shows this install's name and the
fingerprints of its signing key and of that CA, so the crew can check, against
what ``coldset tls`` printed on the laptop, that the tablet reached the right
server. Nothing here is secret: the CA certificate and the public key are public.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import Response

from coldset.tls import ca_fingerprint, ca_pem
from coldset.web.context import app_state, render
from coldset.web.routes.labels import qr_svg

router = APIRouter()


def key_fingerprint(public_key: bytes) -> str:
    """SHA-256 of the install's public signing key, in groups of four hex digits."""
    h = hashlib.sha256(public_key).hexdigest().upper()
    return " ".join(h[i : i + 4] for i in range(0, 32, 4))


@router.get("/setup")
def setup_page(request: Request) -> Response:
    home = request.app.state.coldset_home
    pem = ca_pem(home) if home is not None else None
    ca_url = str(request.url_for("setup_ca"))
    st = app_state(request)
    return render(
        request,
        "setup.html",
        key_fingerprint=key_fingerprint(st.custody.ledger.signer.public_key),
        ca_fingerprint=ca_fingerprint(pem) if pem else None,
        ca_url=ca_url,
        ca_qr=qr_svg(ca_url) if pem else None,
        https=request.url.scheme == "https",
    )


@router.get("/setup/coldset-ca.crt", name="setup_ca")
def setup_ca(request: Request) -> Response:
    home = request.app.state.coldset_home
    pem = ca_pem(home) if home is not None else None
    if pem is None:
        return render(
            request,
            "error.html",
            status=404,
            title="No certificate yet",
            message="This server has no certificate of its own yet. On the laptop, "
            "run: coldset tls",
        )
    return Response(
        pem,
        media_type="application/x-x509-ca-cert",
        headers={"Content-Disposition": 'attachment; filename="coldset-ca.crt"'},
    )
