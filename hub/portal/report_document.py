"""A credit report's PDF: the credit page's public credit file, set with ReportLab.

The data is what the public tier's read answered (``queries/enterprise.graphql``), in Chinese as
it is kept; the labels follow the reader's language, from the portal's catalog. The first page
carries the report's number, instant and verification code, and a QR code of ``/verify`` with
the number filled in.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from hub.kit.time import SHANGHAI
from hub.portal import labels
from hub.portal.language import Language, translations
from hub.report.service import Issue

MARGIN = 40
WIDTH = A4[0] - 2 * MARGIN
QR_SIZE = 92
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
RULE = colors.HexColor("#cbd2d9")
HEADER_FILL = colors.HexColor("#eef2f6")

Gettext = Callable[[str], str]


def shown_instant(at: datetime) -> str:
    """An instant as reports and ``/verify`` show it: ISO 8601 in Asia/Shanghai, to the
    second, with its offset and the zone's name (``2025-05-06T18:00:00+08:00 Asia/Shanghai``)."""
    return f"{at.astimezone(SHANGHAI).isoformat(timespec='seconds')} {SHANGHAI.key}"


@cache
def _gettext(language: Language) -> Gettext:
    return translations(language).gettext


class _Styles:
    def __init__(self, font: str) -> None:
        def style(name: str, size: float, leading: float, **more: Any) -> ParagraphStyle:
            return ParagraphStyle(
                name,
                fontName=font,
                fontSize=size,
                leading=leading,
                textColor=more.pop("textColor", INK),
                wordWrap="CJK",
                **more,
            )

        self.title = style("title", 18, 24, spaceAfter=4)
        self.subtitle = style("subtitle", 10, 14, textColor=MUTED, spaceAfter=10)
        self.heading = style("heading", 12, 16, spaceBefore=12, spaceAfter=5)
        self.body = style("body", 9, 13)
        self.label = style("label", 8, 11, textColor=MUTED)
        self.cell = style("cell", 7.5, 10)
        self.head = style("head", 7.5, 10, textColor=MUTED)
        self.note = style("note", 8, 11.5, textColor=MUTED, spaceBefore=6)
        self.code = style("code", 11, 15)


def _text(value: Any) -> str:
    """A value of the data as ReportLab markup: escaped, a dash when absent."""
    if value is None or value == "":
        return "—"
    return escape(str(value))


def _lines(values: Iterable[str]) -> str:
    joined = "<br/>".join(values)
    return joined or "—"


def render_report(
    enterprise: Mapping[str, Any],
    issue: Issue,
    *,
    verify_url: str,
    certificate_url: str,
    language: Language,
    font: str,
) -> bytes:
    """The report's PDF, unsigned. Blocking (ReportLab is plain Python): call it from a worker
    thread."""
    _ = _gettext(language)
    styles = _Styles(font)
    title = _("Enterprise quality credit report")
    number_label = _("Credit report number")
    footer_left = f"{_('Quality Credit Hub')} · {number_label} {issue.number}"
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 10,
        title=f"{title} · {enterprise['name']}",
        author=_("Quality Credit Hub"),
        subject=f"{number_label} {issue.number}",
        creator=_("Quality Credit Hub"),
        lang=language.tag,
    )

    def footer(canvas: Canvas, _document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, MARGIN - 4, footer_left)
        page = _("Page %(page)s") % {"page": canvas.getPageNumber()}
        canvas.drawRightString(MARGIN + WIDTH, MARGIN - 4, page)
        canvas.restoreState()

    story = [
        Paragraph(escape(title), styles.title),
        Paragraph(f"{_text(enterprise['name'])} · {_text(enterprise['uscc'])}", styles.subtitle),
        _cover(issue, verify_url, styles, _),
        Paragraph(
            escape(
                _(
                    "This report shows the enterprise's public credit file as the Quality Credit "
                    "Hub published it at the instant above: published records only, and "
                    "blacklist listings only while their publicity period runs. To check that it "
                    "is genuine, enter its number and verification code at %(url)s, or scan the "
                    "QR code: the hub shows the report's key facts and the SHA-256 of the file it "
                    "issued. The file is signed too; the signing certificate is at "
                    "%(certificate)s."
                )
                % {"url": verify_url, "certificate": certificate_url}
            ),
            styles.note,
        ),
        *_sections(enterprise, styles, _),
    ]
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _cover(issue: Issue, verify_url: str, styles: _Styles, _: Gettext) -> Flowable:
    facts = [
        (_("Credit report number"), Paragraph(escape(issue.number), styles.code)),
        (_("Issued at"), Paragraph(escape(shown_instant(issue.issued_at)), styles.code)),
        (_("Verification code"), Paragraph(escape(issue.code), styles.code)),
        (_("Verify at"), Paragraph(escape(verify_url), styles.body)),
    ]
    rows = [[Paragraph(escape(label), styles.label), value] for label, value in facts]
    table = Table(rows, colWidths=[90, WIDTH - 90 - QR_SIZE - 20])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    outer = Table([[table, _qr(f"{verify_url}?number={issue.number}")]])
    outer.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BOX", (0, 0), (-1, -1), 0.75, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return outer


def _qr(url: str) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(
        QR_SIZE,
        QR_SIZE,
        transform=[QR_SIZE / (right - left), 0, 0, QR_SIZE / (top - bottom), 0, 0],
    )
    drawing.add(widget)
    return drawing


def _sections(e: Mapping[str, Any], styles: _Styles, _: Gettext) -> list[Flowable]:
    grade = e["creditGrade"]
    summary = [
        (_("Credit grade"), _(labels.GRADE[grade]) if grade else _("Not graded")),
        (_("Blacklist status"), _(labels.BLACKLISTED[bool(e["blacklisted"])])),
        (_("Unified Social Credit Code"), e["uscc"]),
        (_("Status"), _(labels.ENTERPRISE_STATUS[e["status"]])),
        (_("Legal representative"), e["legalRepresentative"]),
        (_("Address"), e["address"]),
        (_("Established on"), e["establishedOn"]),
        (_("Region"), (e["region"] or {}).get("name")),
        (_("Industry"), (e["industry"] or {}).get("name")),
    ]
    flowables: list[Flowable] = [
        Paragraph(escape(_("Summary")), styles.heading),
        _facts(summary, styles),
    ]

    history = e["creditHistory"]
    flowables += _section(
        _("Credit evaluations"),
        history["totalCount"],
        [_("Evaluated at"), _("Grade"), _("Score"), _("Authority"), _("Basis")],
        [0.13, 0.22, 0.07, 0.22, 0.36],
        [
            [
                _text(row["evaluatedAt"][:10]),
                _text(_(labels.GRADE[row["grade"]])),
                _text(row["score"]),
                _text(row["authority"]),
                _text(row["basis"]),
            ]
            for row in history["nodes"]
        ],
        _("No published evaluation."),
        styles,
        _,
    )

    entries = e["blacklistEntries"]
    flowables += _section(
        _("Blacklist listings"),
        len(entries),
        [
            _("Decision number"),
            _("List"),
            _("Reason"),
            _("Legal basis"),
            _("Decided by"),
            _("Listed on"),
            _("Publicity ends on"),
            _("Removed on"),
        ],
        [0.14, 0.12, 0.17, 0.15, 0.12, 0.10, 0.10, 0.10],
        [
            [
                _text(entry["decisionNumber"]),
                _text(_(labels.LIST_TYPE[entry["listType"]])),
                _text(entry["reason"]),
                _text(entry["legalBasis"]),
                _text(entry["authority"]),
                _text(entry["listedAt"]),
                _text(entry["publicityEndsOn"]),
                _text(entry["removedAt"])
                + (f" ({_text(entry['removalReason'])})" if entry["removalReason"] else ""),
            ]
            for entry in entries
        ],
        _("No listing in force."),
        styles,
        _,
    )

    licences = e["licences"]
    flowables += _section(
        _("Production licences"),
        licences["totalCount"],
        [
            _("Licence number"),
            _("Product"),
            _("Status"),
            _("Issued by"),
            _("Valid from"),
            _("Valid until"),
            _("History"),
        ],
        [0.15, 0.15, 0.08, 0.15, 0.11, 0.11, 0.25],
        [
            [
                _text(licence["number"]),
                _text(licence["product"]),
                _text(_(labels.LICENCE_STATUS[licence["status"]])),
                _text(licence["issuedBy"]),
                _text(licence["validFrom"]),
                _text(licence["validUntil"]),
                _lines(_change(change, _) for change in licence["history"]),
            ]
            for licence in licences["nodes"]
        ],
        _("No published licence."),
        styles,
        _,
    )

    checks = e["spotChecks"]
    flowables += _section(
        _("Spot checks"),
        checks["totalCount"],
        [
            _("Sampled on"),
            _("Level"),
            _("Product"),
            _("Result"),
            _("Failed items"),
            _("Inspecting body"),
            _("Report number"),
        ],
        [0.10, 0.08, 0.15, 0.07, 0.28, 0.16, 0.16],
        [
            [
                _text(check["sampledAt"]),
                _text(_(labels.CHECK_LEVEL[check["level"]])),
                _product(check["product"]),
                _text(_(labels.CHECK_RESULT[check["result"]])),
                _lines(
                    f"{_text(item['item'])} ({_text(item['standard'])}: {escape(_('required'))} "
                    f"{_text(item['required'])}, {escape(_('measured'))} {_text(item['measured'])})"
                    for item in check["failedItems"]
                ),
                _text(check["inspectingBody"]),
                _text(check["reportNumber"]),
            ]
            for check in checks["nodes"]
        ],
        _("No published spot check."),
        styles,
        _,
    )

    recalls = e["recalls"]
    flowables += _section(
        _("Recalls"),
        recalls["totalCount"],
        [
            _("Started on"),
            _("Notice"),
            _("Hazard"),
            _("Remedy"),
            _("Units affected"),
            _("Kind"),
            _("Status"),
        ],
        [0.10, 0.22, 0.20, 0.20, 0.09, 0.09, 0.10],
        [
            [
                _text(recall["startedOn"]),
                f"{_text(recall['title'])}<br/>{_text(recall['noticeNumber'])}",
                _text(recall["hazard"]),
                _text(recall["remedy"]),
                _text(recall["affectedUnits"]),
                _text(_(labels.RECALL_KIND[recall["kind"]])),
                _text(_(labels.RECALL_STATUS[recall["status"]])),
            ]
            for recall in recalls["nodes"]
        ],
        _("No published recall."),
        styles,
        _,
    )

    products = e["products"]
    flowables += _section(
        _("Products"),
        products["totalCount"],
        [_("Product"), _("Brand"), _("Model"), _("Category"), _("Barcode (GTIN)")],
        [0.28, 0.16, 0.18, 0.18, 0.20],
        [
            [
                _text(product["name"]),
                _text(product["brand"]),
                _text(product["model"]),
                _text(product["category"]),
                _text(product["gtin"]),
            ]
            for product in products["nodes"]
        ],
        _("No published product."),
        styles,
        _,
    )
    return flowables


def _change(change: Mapping[str, Any], _: Gettext) -> str:
    """One event of a licence's history: its day, the status it brought, and why."""
    status = _text(_(labels.LICENCE_STATUS[change["status"]]))
    reason = f": {_text(change['reason'])}" if change["reason"] else ""
    return f"{_text(change['at'][:10])} {status}{reason}"


def _product(product: Mapping[str, Any] | None) -> str:
    if not product:
        return "—"
    brand = f" ({_text(product['brand'])})" if product.get("brand") else ""
    return _text(product["name"]) + brand


def _facts(pairs: Sequence[tuple[str, Any]], styles: _Styles) -> Table:
    """Label and value pairs, two pairs to a row."""
    cells = [
        [Paragraph(escape(label), styles.label), Paragraph(_text(value), styles.body)]
        for label, value in pairs
    ]
    if len(cells) % 2:
        cells.append([Paragraph("", styles.label), Paragraph("", styles.body)])
    rows = [cells[i] + cells[i + 1] for i in range(0, len(cells), 2)]
    quarter = WIDTH / 4
    table = Table(rows, colWidths=[quarter * 0.7, quarter * 1.3, quarter * 0.7, quarter * 1.3])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
            ]
        )
    )
    return table


def _section(
    heading: str,
    total: int,
    columns: Sequence[str],
    widths: Sequence[float],
    rows: Sequence[Sequence[str]],
    empty: str,
    styles: _Styles,
    _: Gettext,
) -> list[Flowable]:
    """A heading with the count of records, and their table (or a line saying there is none).

    ``rows`` hold ReportLab markup, each value escaped already.
    """
    title = Paragraph(f"{escape(heading)} ({total})", styles.heading)
    if not rows:
        return [KeepTogether([title, Paragraph(escape(empty), styles.body)])]
    header = [Paragraph(escape(column), styles.head) for column in columns]
    body = [[Paragraph(value, styles.cell) for value in row] for row in rows]
    table = Table(
        [header, *body],
        colWidths=[WIDTH * share for share in widths],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    flowables: list[Flowable] = [title, table]
    if total > len(rows):
        flowables.append(
            Paragraph(
                escape(
                    _("The latest %(shown)s of %(count)s are shown; the API has all of them.")
                    % {"shown": len(rows), "count": total}
                ),
                styles.note,
            )
        )
    flowables.append(Spacer(1, 2))
    return flowables
