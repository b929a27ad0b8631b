"""Reports as PDF pages a studio would file (ReportLab; see docs/ARCHITECTURE.md for why).

Every page carries a header with the production, the day and the unit, and a
footer with "page N of M" and the log the report was made from. The first page
carries a QR code of the signed checkpoint (origin, size, root hash and the
install's signature): scanned, it can be checked against the log with the
install's public key, so a paper copy can be checked without trusting us.
Tables repeat their header row on each page and wrap long text in their cells;
nothing is clipped.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from coldset.reports.facts import DayReport, FirearmHistory, IncidentReport, Row, Source

PAGE = landscape(A4)
_SS = getSampleStyleSheet()
BODY = ParagraphStyle(
    "body", parent=_SS["BodyText"], fontName="Helvetica", fontSize=8.5, leading=10.5
)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=8, leading=9.6)
HEAD = ParagraphStyle("head", parent=CELL, fontName="Helvetica-Bold", textColor=colors.white)
H1 = ParagraphStyle(
    "h1", parent=_SS["Heading1"], fontName="Helvetica-Bold", fontSize=16, leading=19, spaceAfter=4
)
H2 = ParagraphStyle(
    "h2",
    parent=_SS["Heading2"],
    fontName="Helvetica-Bold",
    fontSize=11.5,
    leading=14,
    spaceBefore=8,
    spaceAfter=3,
)
LOUD = ParagraphStyle(
    "loud", parent=CELL, fontName="Helvetica-Bold", textColor=colors.HexColor("#9b1c1c")
)
_INK = colors.HexColor("#1f2933")
_RULE = colors.HexColor("#9aa5b1")


def _p(text: str, style: ParagraphStyle = CELL) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


_LOUD = ("REFUSED", "LIVE", "DIFFERENCE", "OPEN", "NOT ")


def _cell(text: str, width: float) -> Paragraph | str:
    """A wrapping paragraph, or plain text where it surely fits on one line (ReportLab
    draws that ten times faster, and a busy day has thousands of cells)."""
    if any(w in text for w in _LOUD):
        return _p(text, LOUD)
    if "\n" not in text and len(text) * 5.0 < width - 6:  # 8 pt Helvetica: < 5 pt a char
        return text
    return _p(text, CELL)


#: Rows per table: a long table is cut into tables of this many rows (each repeats the
#: header), as splitting one table of thousands of rows page by page costs more and more.
_CHUNK = 80


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]
) -> Flowable:
    if len(rows) > _CHUNK:
        return _Stack(
            [_table(header, rows[i : i + _CHUNK], widths) for i in range(0, len(rows), _CHUNK)]
        )
    data: list[list[Any]] = [[_p(h, HEAD) for h in header]]
    data += [[_cell(str(c), w) for c, w in zip(r, widths, strict=True)] for r in rows]
    t = Table(data, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), _INK),
                ("FONTNAME", (0, 1), (-1, -1), "Helvetica"),
                ("FONTSIZE", (0, 1), (-1, -1), 8),
                ("LEADING", (0, 1), (-1, -1), 9.6),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, _RULE),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f4f6")]),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return t


class _Stack(list):  # type: ignore[type-arg]
    """Several tables one after the other (a story takes them as they come)."""


def _entry_rows(rows: Sequence[Row]) -> list[list[str]]:
    return [[str(r.index), r.at, r.actor, r.action, r.detail, r.outcome, r.rules] for r in rows]


_ENTRY_HEAD = ("Log #", "Time", "By", "What", "Details", "Outcome", "Rules")
_W = PAGE[0] - 30 * mm - 12  # the frame's width, less its padding
_ENTRY_W = (14 * mm, 33 * mm, 33 * mm, 28 * mm, _W - 176 * mm, 18 * mm, 50 * mm)
_NOTE_W = (14 * mm, 33 * mm, 33 * mm, 28 * mm, _W - 108 * mm)


def _note_rows(rows: Sequence[Row]) -> list[list[str]]:
    return [[str(r.index), r.at, r.actor, r.action, r.detail] for r in rows]


class _QR(Flowable):  # type: ignore[misc]  # (ReportLab has no type hints)
    """A QR code of ``text``, drawn as vectors (it prints sharp at any scale)."""

    def __init__(self, text: str, size: float = 44 * mm) -> None:
        super().__init__()
        self.text, self.size = text, size
        self.width = self.height = size

    def draw(self) -> None:
        widget = QrCodeWidget(self.text, barLevel="M")
        x0, y0, x1, y1 = widget.getBounds()
        w, h = x1 - x0, y1 - y0
        d = Drawing(self.size, self.size, transform=[self.size / w, 0, 0, self.size / h, 0, 0])
        d.add(widget)
        d.drawOn(self.canv, 0, 0)


def _source_block(source: Source, kind: str) -> Table:
    text = (
        f"This {kind} was made from the log <b>{escape(source.origin)}</b> at its signed "
        f"checkpoint of <b>{source.size}</b> entries, root hash "
        f"<font face='Courier'>{escape(source.root_b64)}</font>. The QR code holds that "
        "signed checkpoint: check it with <font face='Courier'>coldset verify</font> or "
        "any C2SP signed-note verifier and the install's public key, then check the "
        "entries named here (by their log numbers) against the log."
    )
    t = Table(
        [[_QR(source.checkpoint), Paragraph(text, BODY)]],
        colWidths=[50 * mm, _W - 50 * mm],
        hAlign="LEFT",
    )
    t.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("BOX", (0, 0), (-1, -1), 0.6, _RULE)])
    )
    return t


class _Numbered(Canvas):  # type: ignore[misc]
    """A canvas that knows the page count when it writes each footer ("page 2 of 5")."""

    header = ""
    footer = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._furniture(total)
            super().showPage()
        super().save()

    def _furniture(self, total: int) -> None:
        w, h = PAGE
        self.setFont("Helvetica-Bold", 9)
        self.setFillColor(_INK)
        self.drawString(15 * mm, h - 10 * mm, self.header)
        self.setStrokeColor(_RULE)
        self.line(15 * mm, h - 12 * mm, w - 15 * mm, h - 12 * mm)
        self.setFont("Helvetica", 7.5)
        self.drawString(15 * mm, 8 * mm, self.footer)
        self.drawRightString(w - 15 * mm, 8 * mm, f"page {self._pageNumber} of {total}")


def _flat(story: list[Any]) -> list[Flowable]:
    out: list[Flowable] = []
    for f in story:
        out.extend(_flat(f) if isinstance(f, list) else [f])
    return out


def _render(story: list[Flowable], header: str, footer: str, title: str) -> bytes:
    story = _flat(story)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=PAGE,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=16 * mm,
        bottomMargin=14 * mm,
        title=title,
        author="coldset",
        invariant=True,
    )

    class Canvas_(_Numbered):
        pass

    Canvas_.header, Canvas_.footer = header, footer
    doc.build(story, canvasmaker=Canvas_)
    return buf.getvalue()


def _section(story: list[Flowable], title: str, empty: str, table: Flowable | None) -> None:
    story.append(_p(title, H2))
    story.append(table if table is not None else _p(empty, BODY))


def day_pdf(r: DayReport) -> bytes:
    header = f"{r.title} · day report · shoot day {r.shoot_day} ({r.day}) · {r.unit}"
    footer = f"log {r.source.origin} · checkpoint size {r.source.size} · times in {r.zone}"
    story: list[Flowable] = [
        _p(f"Day report: {r.title}", H1),
        _p(
            f"Shoot day {r.shoot_day}, {r.day} · {r.unit} · {r.entries} log entries that "
            f"day · times in {r.zone}",
            BODY,
        ),
        Spacer(1, 3 * mm),
        _source_block(r.source, "report"),
    ]
    story.append(_p("Custody of each firearm", H2))
    if not r.custody:
        story.append(_p("No firearm was handled this day.", BODY))
    for label, rows in r.custody.items():
        story.append(
            KeepTogether([_p(label, ParagraphStyle("fa", parent=BODY, fontName="Helvetica-Bold"))])
        )
        story.append(_table(_ENTRY_HEAD, _entry_rows(rows), _ENTRY_W))
        story.append(Spacer(1, 2 * mm))
    lot_rows = [
        [
            ln.lot,
            f"{ln.kind} {ln.caliber}",
            str(ln.start_stock),
            str(ln.received),
            str(ln.loaded),
            str(ln.fired),
            str(ln.returned),
            str(ln.disposed),
            str(ln.adjusted),
            str(ln.end_stock),
            str(ln.in_firearms),
            "\n".join(ln.counts) or "not counted this day",
            "agrees" if not ln.discrepancy else f"DIFFERENCE {ln.discrepancy:+d}",
        ]
        for ln in r.lots
    ]
    _section(
        story,
        "Rounds per lot",
        "No rounds moved this day.",
        _table(
            (
                "Lot",
                "Kind",
                "Stock at start",
                "Received",
                "Loaded",
                "Fired",
                "Unloaded",
                "Disposed",
                "Adjusted",
                "Stock at end",
                "In firearms",
                "Counts",
                "Reconciliation",
            ),
            lot_rows,
            (
                24 * mm,
                30 * mm,
                15 * mm,
                15 * mm,
                14 * mm,
                13 * mm,
                15 * mm,
                15 * mm,
                15 * mm,
                15 * mm,
                15 * mm,
                _W - 231 * mm,
                30 * mm,
            ),
        )
        if lot_rows
        else None,
    )
    for title, rows, empty in (
        ("Incidents", r.incidents, "No incident was reported."),
        ("Stop-works", r.stop_works, "No stop-work was called or cleared."),
        ("Alerts and how they were resolved", r.alerts, "No alert was raised or resolved."),
        ("Overrides", r.overrides, "No rule was overridden."),
        ("Safety meetings and attendance", r.meetings, "No safety meeting was recorded."),
        ("Training and consent given", r.training, "No training or consent was recorded."),
    ):
        _section(
            story,
            title,
            empty,
            _table(_ENTRY_HEAD[:4] + ("Details",), _note_rows(rows), _NOTE_W) if rows else None,
        )
    _section(
        story,
        "Refusals (every step the rules refused)",
        "Nothing was refused.",
        _table(_ENTRY_HEAD, _entry_rows(r.refusals), _ENTRY_W) if r.refusals else None,
    )
    story.append(_p("Open items carried to the next day", H2))
    story.append(
        _table(("Item",), [[i] for i in r.open_items], (_W,))
        if r.open_items
        else _p("Nothing is left open.", BODY)
    )
    sig = Table(
        [
            ["Armorer", "", "Safety contact", ""],
            ["Name and signature", "Date", "Name and signature", "Date"],
        ],
        colWidths=[_W * 0.3, _W * 0.2, _W * 0.3, _W * 0.2],
        rowHeights=[16 * mm, 6 * mm],
    )
    sig.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, _INK),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("VALIGN", (0, 0), (-1, 0), "TOP"),
                ("TEXTCOLOR", (0, 1), (-1, 1), colors.HexColor("#52606d")),
            ]
        )
    )
    story += [Spacer(1, 6 * mm), KeepTogether([_p("Signatures", H2), sig])]
    return _render(story, header, footer, f"Day report {r.production} {r.shoot_day}")


def history_pdf(h: FirearmHistory) -> bytes:
    header = f"{h.title} · firearm history · {h.firearm}"
    footer = f"log {h.source.origin} · checkpoint size {h.source.size} · times in {h.zone}"
    story: list[Flowable] = [
        _p(f"Firearm history: {h.firearm}", H1),
        _p(
            f"{h.description} · {h.title} · {len(h.rows)} log entries · "
            f"{'; '.join(h.now)} · times in {h.zone}",
            BODY,
        ),
        Spacer(1, 3 * mm),
        _source_block(h.source, "history"),
        _p("Every entry of the log that concerns this firearm", H2),
        _table(_ENTRY_HEAD, _entry_rows(h.rows), _ENTRY_W),
    ]
    return _render(story, header, footer, f"Firearm history {h.production} {h.firearm}")


def incident_pdf(r: IncidentReport) -> bytes:
    header = f"{r.title} · incident report · {r.incident} · {r.unit}"
    footer = f"log {r.source.origin} · checkpoint size {r.source.size} · times in {r.zone}"
    story: list[Flowable] = [
        _p(f"Incident report: {r.incident}", H1),
        _p(r.summary, BODY),
        _p(
            f"The entries before and after it on {r.unit} (and with its firearm), each "
            f"with what the rules said; the incident itself is log entry {r.at_index}. "
            f"Times in {r.zone}.",
            BODY,
        ),
        Spacer(1, 3 * mm),
        _source_block(r.source, "report"),
        _p("Around the incident", H2),
        _table(
            ("Log #", "Time", "By", "What", "Details", "Outcome", "What the rules said"),
            _entry_rows(r.rows),
            _INCIDENT_W,
        ),
    ]
    return _render(story, header, footer, f"Incident report {r.production} {r.incident}")


_INCIDENT_W = (14 * mm, 33 * mm, 30 * mm, 25 * mm, _W - 212 * mm, 18 * mm, 92 * mm)
