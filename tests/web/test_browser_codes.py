"""Every QR code coldset prints or serves decodes with a real decoder (zxing-cpp), as
Chromium renders it on a 768 px tablet and as it prints (issue 10: the concern poster's
code was cropped and did not scan). Each label is screenshotted on its own; its code must
hold exactly the tag (or the concern form's address)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.web.test_browser import browser, login, page, server, shot  # noqa: F401

zxingcpp = pytest.importorskip("zxingcpp")
Image = pytest.importorskip("PIL.Image")

KINDS = ("firearms", "lots", "containers", "badges", "concern")


def _decode(png: bytes) -> list[str]:
    img = Image.open(io.BytesIO(png)).convert("L")
    return [b.text for b in zxingcpp.read_barcodes(img)]


def _labels(pg: Any, base: str) -> list[tuple[str, str]]:
    """(what the code should hold, what zxing-cpp read) for every label on every labels
    page, as shown and as printed."""
    found: list[tuple[str, str]] = []
    for media in ("screen", "print"):
        pg.emulate_media(media=media)
        for kind in KINDS:
            pg.goto(f"{base}/p/dusty-trail/labels?kind={kind}")
            labels = pg.locator(".label")
            assert labels.count() > 0, kind
            for i in range(labels.count()):
                label = labels.nth(i)
                want = (
                    label.locator("small").inner_text().strip()
                    if kind == "concern"
                    else label.locator(".tag").inner_text().strip()
                )
                got = _decode(label.screenshot())
                found.append((f"{media}/{kind}: {want}", " | ".join(got)))
                if kind == "concern":
                    shot(pg, f"concern-poster-{media}")
    pg.emulate_media(media="screen")
    return found


def test_every_label_and_the_concern_poster_decode(server: str, page: Any) -> None:  # noqa: F811
    """Firearm, lot, container and badge labels and the concern poster: each code, cut out
    of the rendered page, decodes to its tag / the concern form's full address."""
    login(page, server, "hana")
    found = _labels(page, server)
    wrong = [(want, got) for want, got in found if want.split(": ", 1)[1] != got]
    assert wrong == [], wrong
    assert any("concern" in w and got.endswith("/c/dusty-trail") for w, got in found)
