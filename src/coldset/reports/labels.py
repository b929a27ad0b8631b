"""QR label sheets on standard layouts, printable at 100 % (ReportLab).

A label's code holds only the tag, so a handheld scanner types exactly the tag into
the focused field (the same codes as the Labels page). Each layout is a real
sheet's geometry; print at "actual size", never "fit to page".
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import inch, mm
from reportlab.pdfgen.canvas import Canvas

from coldset.domain.state import State

KINDS = ("firearms", "lots", "containers", "badges")


@dataclass(frozen=True)
class Sheet:
    name: str
    description: str
    page: tuple[float, float]
    columns: int
    rows: int
    width: float  # one label
    height: float
    left: float  # the first label's left edge from the page's left
    top: float  # the first label's top edge from the page's top
    pitch_x: float  # from one label's left edge to the next one's
    pitch_y: float
    round: bool = False


SHEETS = {
    s.name: s
    for s in (
        Sheet(
            "letter-30",
            "US letter, 30 address labels 2⅝ × 1 in (Avery 5160 layout)",
            LETTER,
            3,
            10,
            2.625 * inch,
            1 * inch,
            0.1875 * inch,
            0.5 * inch,
            2.75 * inch,
            1 * inch,
        ),
        Sheet(
            "a4-21",
            "A4, 21 labels 63.5 × 38.1 mm (Avery L7160 layout)",
            A4,
            3,
            7,
            63.5 * mm,
            38.1 * mm,
            7.2 * mm,
            15.15 * mm,
            66.0 * mm,
            38.1 * mm,
        ),
        Sheet(
            "letter-round-12",
            "US letter, 12 round labels 2½ in for ammunition boxes (Avery 22817 layout)",
            LETTER,
            3,
            4,
            2.5 * inch,
            2.5 * inch,
            0.5 * inch,
            0.5 * inch,
            2.75 * inch,
            2.5 * inch,
            round=True,
        ),
    )
}


def items(state: State, kind: str) -> list[tuple[str, str, str]]:
    """(tag, title, subtitle) of every label of ``kind``, sorted by tag."""
    if kind == "firearms":
        return [
            (f.id, f"{f.manufacturer} {f.model}", f"serial {f.serial} · {f.caliber}")
            for f in sorted(state.firearms.values(), key=lambda f: f.id)
            if not f.disposed
        ]
    if kind == "lots":
        return [
            (lt.id, f"{lt.kind.value} · {lt.caliber}", lt.maker)
            for lt in sorted(state.lots.values(), key=lambda lt: lt.id)
        ]
    if kind == "containers":
        return [
            (c.id, c.name, c.kind.value.replace("_", " "))
            for c in sorted(state.containers.values(), key=lambda c: c.id)
        ]
    if kind == "badges":
        return [
            (p.id, p.name, ", ".join(sorted(r.value.replace("_", " ") for r in p.roles)))
            for p in sorted(state.people.values(), key=lambda p: p.id)
        ]
    raise ValueError(f"no label kind {kind!r} (kinds: {', '.join(KINDS)})")


def _qr(c: Canvas, text: str, x: float, y: float, size: float) -> None:
    w = QrCodeWidget(text, barLevel="M", barBorder=2)
    x0, y0, x1, y1 = w.getBounds()
    d = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    d.add(w)
    d.drawOn(c, x, y)


def _fit(c: Canvas, text: str, font: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` (a label never overflows its edge)."""
    if c.stringWidth(text, font, size) <= width:
        return text
    while text and c.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def sheet_pdf(labels: list[tuple[str, str, str]], sheet: str, title: str = "") -> bytes:
    if sheet not in SHEETS:
        raise ValueError(f"no sheet {sheet!r} (sheets: {', '.join(SHEETS)})")
    s = SHEETS[sheet]
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=s.page, invariant=True)
    c.setTitle(title or "coldset labels")
    per_page = s.columns * s.rows
    for n, (tag, name, sub) in enumerate(labels):
        if n and n % per_page == 0:
            c.showPage()
        i = n % per_page
        col, row = i % s.columns, i // s.columns
        x = s.left + col * s.pitch_x
        y = s.page[1] - s.top - row * s.pitch_y - s.height  # the label's bottom edge
        pad = 0.08 * inch
        if s.round:
            q = s.width * 0.48
            _qr(c, tag, x + (s.width - q) / 2, y + s.height * 0.36, q)
            c.setFont("Helvetica-Bold", 11)
            c.drawCentredString(
                x + s.width / 2,
                y + s.height * 0.24,
                _fit(c, tag, "Helvetica-Bold", 11, s.width * 0.7),
            )
            c.setFont("Helvetica", 7.5)
            c.drawCentredString(
                x + s.width / 2,
                y + s.height * 0.15,
                _fit(c, name, "Helvetica", 7.5, s.width * 0.62),
            )
            continue
        q = s.height - 2 * pad
        _qr(c, tag, x + pad, y + pad, q)
        tx, tw = x + 2 * pad + q, s.width - 3 * pad - q
        c.setFont("Helvetica-Bold", 11)
        c.drawString(tx, y + s.height * 0.62, _fit(c, tag, "Helvetica-Bold", 11, tw))
        c.setFont("Helvetica", 7.5)
        c.drawString(tx, y + s.height * 0.40, _fit(c, name, "Helvetica", 7.5, tw))
        c.drawString(tx, y + s.height * 0.22, _fit(c, sub, "Helvetica", 7.5, tw))
    c.save()
    return buf.getvalue()
