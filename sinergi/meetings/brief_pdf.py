"""The rakor brief as a PDF (reportlab): the context ``briefs.brief_context``
gathers, laid out with a status chart, progress bars and numbered pages."""

import io
import os
import threading
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import CANCELLED, DONE, IN_PROGRESS, LATE, NOT_STARTED, STATUS_ORDER

STATUS_COLORS = {LATE: "#a61b1b", IN_PROGRESS: "#d39e00", NOT_STARTED: "#8a9591",
                 DONE: "#0b6e4f", CANCELLED: "#c5ccc9"}


STATUS_BACKGROUNDS = {LATE: "#fbeaea", IN_PROGRESS: "#fff4d6", DONE: "#eaf6f0"}
FONT, FONT_BOLD = "SinergiVera", "SinergiVera-Bold"
_fonts_lock = threading.Lock()
_fonts_ready = False


def _register_fonts() -> None:
    """Bitstream Vera, shipped inside reportlab: embedded in the PDF, so names
    with letters outside ASCII render everywhere, with nothing downloaded."""
    global _fonts_ready
    with _fonts_lock:
        if _fonts_ready:
            return
        import reportlab
        from reportlab.lib.fonts import addMapping
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
        faces = {FONT: "Vera.ttf", FONT_BOLD: "VeraBd.ttf", f"{FONT}-Italic": "VeraIt.ttf",
                 f"{FONT}-BoldItalic": "VeraBI.ttf"}
        for name, file in faces.items():
            pdfmetrics.registerFont(TTFont(name, os.path.join(folder, file)))
        addMapping(FONT, 0, 0, FONT)
        addMapping(FONT, 1, 0, FONT_BOLD)
        addMapping(FONT, 0, 1, f"{FONT}-Italic")
        addMapping(FONT, 1, 1, f"{FONT}-BoldItalic")
        _fonts_ready = True


def _styles() -> dict:
    from reportlab.lib.colors import HexColor
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11.5)
    muted = HexColor("#5f6b66")
    return {
        "body": base,
        "title": ParagraphStyle("title", base, fontName=FONT_BOLD, fontSize=15, leading=19,
                                spaceAfter=4),
        "subtitle": ParagraphStyle("subtitle", base, textColor=muted, spaceAfter=8),
        "h2": ParagraphStyle("h2", base, fontName=FONT_BOLD, fontSize=11.5, leading=14,
                             spaceBefore=10, spaceAfter=5, textColor=HexColor("#0b6e4f")),
        "h3": ParagraphStyle("h3", base, fontName=FONT_BOLD, spaceBefore=4, spaceAfter=2),
        "cell": ParagraphStyle("cell", base, fontSize=8, leading=10),
        "cell_bold": ParagraphStyle("cell_bold", base, fontName=FONT_BOLD, fontSize=8,
                                    leading=10),
        "small": ParagraphStyle("small", base, fontSize=7, leading=8.5, textColor=muted),
        "muted": ParagraphStyle("muted", base, textColor=muted),
    }


def _p(text, style) -> object:
    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _status_chart(context: dict, width: float):
    """Horizontal bars of commitments by status, late on top."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.colors import HexColor

    rows = list(reversed(context["status_counts"]))  # the chart draws its first bar lowest
    height = 16 * len(rows) + 20
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 95, 14
    chart.width, chart.height = width - 130, height - 20
    chart.data = [[r["count"] for r in rows]]
    top = max([r["count"] for r in rows] + [1])
    step = max(1, -(-top // 5))
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, step * 5
    chart.valueAxis.valueStep = step
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%d"
    chart.categoryAxis.categoryNames = [r["label"] for r in rows]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 8
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    chart.barWidth = 10
    chart.bars.strokeColor = None
    for i, r in enumerate(rows):
        chart.bars[(0, i)].fillColor = HexColor(STATUS_COLORS[r["status"]])
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def _progress_bar(percent: int, status: str, width: float = 100, height: float = 6):
    from reportlab.graphics.shapes import Drawing, Rect
    from reportlab.lib.colors import HexColor

    drawing = Drawing(width, height + 2)
    drawing.add(Rect(0, 1, width, height, fillColor=HexColor("#e4e9e7"), strokeColor=None))
    if percent:
        color = STATUS_COLORS[LATE] if status == LATE else STATUS_COLORS[DONE]
        drawing.add(Rect(0, 1, width * percent / 100, height, fillColor=HexColor(color),
                         strokeColor=None))
    return drawing


def _grid(data, widths, *, header: bool = True, extra=()):
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Table, TableStyle

    table = Table(data, colWidths=widths, repeatRows=1 if header else 0)
    style = [("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 8),
             ("LINEBELOW", (0, 0), (-1, -1), 0.4, HexColor("#d8dfdc")),
             ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
             ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), HexColor("#eef2f0")),
                  ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD)]
    table.setStyle(TableStyle(style + list(extra)))
    return table


def _commitments_table(context: dict, st: dict, width: float):
    from reportlab.lib.colors import HexColor
    from reportlab.lib.units import mm

    region_brief = context["kind"] == "region"
    widths = [9 * mm, None, 22 * mm, 20 * mm, 20 * mm, 34 * mm]
    widths[1] = width - sum(w for w in widths if w)
    data = [[_p(h, st["cell_bold"]) for h in
             ("#", _("Commitment"), _("Owner"), _("Due"), _("Status"), _("Progress"))]]
    extra = []
    status_styles = {LATE: st["cell_bold"], CANCELLED: st["small"]}
    for i, row in enumerate(context["commitments"], start=1):
        text = [_p(row["text"], st["cell"])]
        meta = []
        if region_brief:
            meta.append(row["meeting_title"])
        if row["region"] and (region_brief or row["region_code"] != context["meeting"][
                "region_code"]):
            meta.append(row["region"])
        if row["supporting"]:
            meta.append("+ " + ", ".join(row["supporting"]))
        if meta:
            text.append(_p(" · ".join(meta), st["small"]))
        cell = [_p(row["progress_text"], st["cell"])] if row["progress_text"] else []
        if row["has_measure"] and row["percent"] is not None:
            cell.append(_progress_bar(row["percent"], row["status"], width=30 * mm))
        data.append([_p(row["number"], st["cell"]), text, _p(row["owner"], st["cell"]),
                     _p(row["due"] or "—", st["cell"]),
                     _p(row["status_label"], status_styles.get(row["status"], st["cell"])),
                     cell])
        if row["status"] in STATUS_BACKGROUNDS:
            extra.append(("BACKGROUND", (4, i), (4, i),
                          HexColor(STATUS_BACKGROUNDS[row["status"]])))
    return _grid(data, widths, extra=extra)


def _story(context: dict, width: float) -> list:
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Spacer

    st = _styles()
    story = [_p(context["title"], st["title"])]
    meeting = context["meeting"]
    if meeting:
        story.append(_p(_("Rakor brief"), st["subtitle"]))
        facts = [(_("Kind"), meeting["kind_label"]), (_("Date"), meeting["dates"]),
                 (_("Theme"), meeting["theme"]), (_("Place"), meeting["place"]),
                 (_("Region"), meeting["region"]), (_("Host agency"), meeting["host"]),
                 (_("Chair"), meeting["chair"])]
        attendance = context["attendance"]
        facts.append((_("Attendance"), _("%(attended)d attended of %(invited)d invited")
                      % attendance))
        story.append(_grid([[_p(k, st["cell_bold"]), _p(v, st["cell"])]
                            for k, v in facts if v], [32 * mm, width - 32 * mm],
                           header=False))
    else:
        region = context["region"]
        n = len(context["meetings"])
        story.append(_p(_("Rakor brief") + " · " + ngettext(
            "%(name)s (%(code)s) and the regions inside it; %(n)d meeting.",
            "%(name)s (%(code)s) and the regions inside it; %(n)d meetings.", n)
            % {"name": region["name"], "code": region["code"], "n": n}, st["subtitle"]))

    story.append(_p(_("Commitments by status"), st["h2"]))
    total = context["shown_commitments"]
    if total:
        counts = [[_p(r["label"], st["cell"]), _p(r["count"], st["cell"])]
                  for r in context["status_counts"]]
        counts.append([_p(_("Total"), st["cell_bold"]), _p(total, st["cell_bold"])])
        summary = _grid([[_p(_("Status"), st["cell_bold"]), _p(_("Count"), st["cell_bold"])],
                         *counts], [30 * mm, 15 * mm])
        chart = _status_chart(context, width - 50 * mm)
        story.append(_grid([[summary, chart]], [48 * mm, width - 48 * mm], header=False,
                           extra=[("LINEBELOW", (0, 0), (-1, -1), 0, "white"),
                                  ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    else:
        story.append(_p(_("No commitments."), st["muted"]))
    if context["truncated"]:
        story.append(_p(_("Only the first %(shown)d of %(total)d commitments are shown, open "
                          "ones first; use the commitment board with filters for the rest.")
                        % {"shown": total, "total": context["total_commitments"]},
                        st["muted"]))

    if context["per_agency"]:
        story.append(_p(_("Commitments by owner agency"), st["h2"]))
        head = [_p(_("Agency"), st["cell_bold"])] + [
            _p(label, st["cell_bold"]) for label in context["status_labels"]] + [
            _p(_("Total"), st["cell_bold"])]
        rows = [[_p(a["name"], st["cell"]), *[_p(n or "", st["cell"]) for n in a["cells"]],
                 _p(a["total"], st["cell_bold"])] for a in context["per_agency"]]
        n = len(STATUS_ORDER)
        story.append(_grid([head, *rows], [width - (n + 1) * 22 * mm] + [22 * mm] * (n + 1)))

    if context["commitments"]:
        story.append(_p(_("Commitments"), st["h2"]))
        story.append(_commitments_table(context, st, width))

    if context["agenda"]:
        story.append(_p(_("Agenda"), st["h2"]))
        for group in context["agenda"]:
            block = [_p(group["desk"] or _("Other topics"), st["h3"])]
            for i, topic in enumerate(group["topics"], start=1):
                line = f"{i}. {topic['title']}"
                if topic["description"]:
                    line += f" — {topic['description']}"
                block.append(_p(line, st["body"]))
            story.append(KeepTogether(block))

    story.append(_p(_("Issues raised"), st["h2"]))
    if context["issues"]:
        head = [_p(h, st["cell_bold"]) for h in (_("Category"), _("Region"), _("Issue"))]
        rows = []
        for issue in context["issues"]:
            text = [_p(issue["description"], st["cell"])]
            meta = [issue["raised_by"]] if issue["raised_by"] else []
            if context["kind"] == "region":
                meta.insert(0, issue["meeting_title"])
            if meta:
                text.append(_p(" · ".join(meta), st["small"]))
            rows.append([_p(issue["category_label"], st["cell"]),
                         _p(issue["region"] or "—", st["cell"]), text])
        story.append(_grid([head, *rows], [38 * mm, 30 * mm, width - 68 * mm]))
    else:
        story.append(_p(_("none"), st["muted"]))

    if context["kind"] == "region":
        story.append(_p(_("Meetings"), st["h2"]))
        if context["meetings"]:
            head = [_p(h, st["cell_bold"]) for h in (_("Date"), _("Meeting"), _("Region"),
                                                      _("Commitments"))]
            rows = [[_p(m["dates"], st["cell"]),
                     [_p(m["title"], st["cell"]), _p(m["kind_label"], st["small"])],
                     _p(m["region"], st["cell"]), _p(m["commitments"], st["cell"])]
                    for m in context["meetings"]]
            story.append(_grid([head, *rows], [24 * mm, width - 84 * mm, 34 * mm, 26 * mm]))
        else:
            story.append(_p(_("none"), st["muted"]))
    for section in context.get("sections", []):
        story.append(_p(section["title"], st["h2"]))
        for line in section.get("lines", []):
            story.append(_p(line, st["cell"]))
        if section.get("rows"):
            head = [_p(h, st["cell_bold"]) for h in section["headers"]]
            rows = [[_p(cell, st["cell"]) for cell in row] for row in section["rows"]]
            share = width / max(len(head), 1)
            story.append(_grid([head, *rows], [share] * len(head)))
    story.append(Spacer(1, 4 * mm))
    return story


def _numbered_canvas(page_label: str):
    """A canvas that writes "page n of N" once it knows N (two passes over the
    saved page states, the usual reportlab recipe)."""
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            count = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                width = self._pagesize[0]
                self.setFont(FONT, 7.5)
                self.drawRightString(width - self._margin, 10 * 2.8346,
                                     page_label % {"n": self._pageNumber, "total": count})
                super().showPage()
            super().save()

    return NumberedCanvas


def render_pdf(context: dict) -> bytes:
    """The brief as an A4 PDF: header with title and date on every page, page
    numbers in the footer, fonts embedded."""
    from reportlab.lib.colors import HexColor
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    _register_fonts()
    margin = 15 * mm
    page_w, page_h = A4
    title = context["title"]
    header_title = title if len(title) <= 80 else title[:79] + "…"
    generated = _("Generated %(date)s") % {"date": context["generated_on"]}
    footer = "Sinergi · " + _("Rakor brief")

    def decorate(canvas, doc):
        canvas.saveState()
        canvas.setFont(FONT_BOLD, 8.5)
        canvas.drawString(margin, page_h - 11 * mm, header_title)
        canvas.setFont(FONT, 8)
        canvas.drawRightString(page_w - margin, page_h - 11 * mm, generated)
        canvas.setStrokeColor(HexColor("#0b6e4f"))
        canvas.setLineWidth(0.6)
        canvas.line(margin, page_h - 13 * mm, page_w - margin, page_h - 13 * mm)
        canvas.setStrokeColor(HexColor("#d8dfdc"))
        canvas.line(margin, 14 * mm, page_w - margin, 14 * mm)
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(HexColor("#5f6b66"))
        canvas.drawString(margin, 10 * mm, footer)
        canvas.restoreState()

    canvas_class = _numbered_canvas(_("Page %(n)d of %(total)d"))
    canvas_class._margin = margin
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=margin, rightMargin=margin,
                            topMargin=18 * mm, bottomMargin=18 * mm, title=title,
                            author="Sinergi", subject=_("Rakor brief"), creator="Sinergi")
    doc.build(_story(context, page_w - 2 * margin), onFirstPage=decorate,
              onLaterPages=decorate, canvasmaker=canvas_class)
    return buffer.getvalue()
