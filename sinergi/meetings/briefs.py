"""The rakor brief: what a meeting (or every meeting of a region) agreed and
how far each commitment has come, as a page and as a PDF made in the background.

``brief_context`` gathers plain values (no model objects in the rows), so the
page and the PDF show the same thing. PDF jobs follow the import jobs'
pattern: created and audited by a page, claimed with a compare-and-swap
UPDATE by one worker (a thread of the web process or ``sinergi worker``),
reaped when their process dies.
"""

import datetime
import io
import logging
import os
import socket
import threading
from xml.sax.saxutils import escape

from django.core.files.base import ContentFile
from django.db import close_old_connections, transaction
from django.db.models import Count, F, Q
from django.template.defaultfilters import floatformat
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sinergi.core import access
from sinergi.core.audit import audit_record
from sinergi.core.errors import SinergiError
from sinergi.regions.codes import subtree_q

from . import progress, selectors
from .models import (
    BRIEF_DONE,
    BRIEF_FAILED,
    BRIEF_PENDING,
    BRIEF_RUNNING,
    CANCELLED,
    DONE,
    IN_PROGRESS,
    LATE,
    NOT_STARTED,
    STATUS_CHOICES,
    STATUS_ORDER,
    AgendaItem,
    BriefJob,
    Commitment,
    Desk,
    Meeting,
    MeetingIssue,
    Participant,
)

log = logging.getLogger(__name__)

# A brief reads at most this many commitments (open ones first); a province
# brief past it says so and the board with filters shows the rest.
MAX_COMMITMENTS = 2000
MAX_ISSUES = 500
MAX_MEETINGS = 200

STATUS_COLORS = {LATE: "#a61b1b", IN_PROGRESS: "#d39e00", NOT_STARTED: "#8a9591",
                 DONE: "#0b6e4f", CANCELLED: "#c5ccc9"}
STATUS_BACKGROUNDS = {LATE: "#fbeaea", IN_PROGRESS: "#fff4d6", DONE: "#eaf6f0"}


# --- context ---------------------------------------------------------------------------

def _date(value: datetime.date | None) -> str:
    return date_format(value, "d-m-Y") if value else ""


def _num(value) -> str:
    return str(floatformat(value, "-2")) if value is not None else ""


def _progress_text(c: Commitment, state: progress.Progress) -> str:
    """Value / target unit (percent), as on the commitment pages."""
    if state.value is None and c.target is None:
        return ""
    parts = [_num(state.value) if state.value is not None else "—"]
    if c.target is not None:
        parts.append(" / " + _num(c.target))
    if c.unit:
        parts.append(" " + c.unit)
    if state.percent is not None:
        parts.append(f" ({state.percent}%)")
    if state.live:
        parts.append(" · " + _("counted from the data"))
    return "".join(parts)


def _commitment_rows(qs, today) -> tuple[list[dict], bool, int]:
    """Commitments of ``qs`` with their progress, late first then by due date.

    Reads at most MAX_COMMITMENTS, open ones first, so truncation drops the
    finished ones before the ones still owed.
    """
    qs = (qs.select_related("meeting", "owner_agency__region", "region")
          .prefetch_related("supporting_agencies")
          .order_by(F("cancelled_on").asc(nulls_first=True), F("done_on").asc(nulls_first=True),
                    F("due_date").asc(nulls_last=True), "meeting_id", "number"))
    items = list(qs[:MAX_COMMITMENTS + 1])
    truncated = len(items) > MAX_COMMITMENTS
    total = qs.count() if truncated else len(items)
    items = items[:MAX_COMMITMENTS]
    states = progress.progress_of(items, today)
    items.sort(key=lambda c: (selectors.STATUS_RANK[states[c.pk].status],
                              c.due_date or datetime.date.max, c.meeting_id, c.number))
    rows = []
    for c in items:
        state = states[c.pk]
        rows.append({
            "id": c.pk, "meeting_id": c.meeting_id, "meeting_title": c.meeting.title,
            "number": c.number, "text": c.text,
            "owner": c.owner_agency.short_name, "owner_id": c.owner_agency_id,
            "owner_name": c.owner_agency.name, "owner_region": c.owner_agency.region.name,
            "supporting": [a.short_name for a in c.supporting_agencies.all()],
            "region": c.region.name, "region_code": c.region_id,
            "due_date": c.due_date, "due": _date(c.due_date),
            "status": state.status, "status_label": state.status_label,
            "value": state.value, "baseline": c.baseline, "target": c.target, "unit": c.unit,
            "percent": state.percent, "live": state.live,
            "has_measure": c.target is not None, "progress_text": _progress_text(c, state),
        })
    return rows, truncated, total


def _counts(rows: list[dict]) -> tuple[dict, list[dict], list[dict]]:
    """Counts by status, the same as a list for display, and per owner agency."""
    labels = dict(STATUS_CHOICES)
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for row in rows:
        counts[row["status"]] += 1
    total = len(rows) or 1
    status_counts = [{"status": s, "label": str(labels[s]), "count": counts[s],
                      "percent": round(100 * counts[s] / total)} for s in STATUS_ORDER]
    agencies: dict[int, dict] = {}
    for row in rows:
        entry = agencies.setdefault(row["owner_id"], {
            "name": row["owner"], "full_name": row["owner_name"],
            "region": row["owner_region"],
            "counts": dict.fromkeys(STATUS_ORDER, 0), "total": 0})
        entry["counts"][row["status"]] += 1
        entry["total"] += 1
    # Two agencies of different regions may share a short name (Dinsos).
    seen: dict[str, int] = {}
    for entry in agencies.values():
        seen[entry["name"]] = seen.get(entry["name"], 0) + 1
    per_agency = []
    for entry in agencies.values():
        if seen[entry["name"]] > 1:
            entry["name"] = f"{entry['name']} ({entry['region']})"
        entry["cells"] = [entry["counts"][s] for s in STATUS_ORDER]
        per_agency.append(entry)
    per_agency.sort(key=lambda e: (-e["counts"][LATE], -e["total"], e["name"]))
    return counts, status_counts, per_agency


def _issue_rows(qs) -> list[dict]:
    return [{"category": i.category, "category_label": i.get_category_display(),
             "region": i.region.name if i.region_id else "", "description": i.description,
             "raised_by": i.raised_by, "meeting_title": i.meeting.title,
             "meeting_id": i.meeting_id}
            for i in qs.select_related("region", "meeting").order_by("meeting_id", "id")
            [:MAX_ISSUES]]


def _meeting_facts(m: Meeting) -> dict:
    return {"id": m.pk, "title": m.title, "kind": m.kind, "kind_label": m.get_kind_display(),
            "theme": m.theme, "starts_on": m.starts_on, "ends_on": m.ends_on,
            "dates": _date(m.starts_on) + (f" – {_date(m.ends_on)}"
                                           if m.ends_on and m.ends_on != m.starts_on else ""),
            "place": m.place, "host": m.host_agency.name if m.host_agency_id else "",
            "host_short": m.host_agency.short_name if m.host_agency_id else "",
            "chair": m.chair, "region": m.region.name, "region_code": m.region_id}


def _agenda(meeting: Meeting) -> list[dict]:
    """Topics grouped by desk in desk order; topics of no desk come last."""
    desks = Desk.objects.filter(meeting=meeting).order_by("position", "id")
    by_desk = {d.pk: {"desk": d.name, "topics": []} for d in desks}
    loose = {"desk": "", "topics": []}
    for item in AgendaItem.objects.filter(meeting=meeting).order_by("position", "id"):
        group = by_desk.get(item.desk_id, loose)
        group["topics"].append({"title": item.title, "description": item.description})
    return [g for g in [*by_desk.values(), loose] if g["topics"]]


def brief_context(*, scope_root: str | None, meeting: Meeting | None = None, region=None,
                  today: datetime.date | None = None) -> dict:
    """Everything the brief shows, for one meeting or for a region's subtree,
    as seen from the scope ``scope_root`` (a region root code; None or "" is
    unscoped): the commitments are those selectors.commitments_visible gives
    a user of that scope, and a region brief's issues and meetings too.

    The caller has checked that the user may see the meeting or region;
    labels are translated in the active language.
    """
    scope_root = scope_root or None
    in_scope = selectors.commitments_in_scope_q(scope_root)
    if (meeting is None) == (region is None):
        raise ValueError("a brief is for one meeting or one region")
    today = today or timezone.localdate()
    context = {"today": today, "generated_on": _date(today), "limit": MAX_COMMITMENTS,
               "status_order": STATUS_ORDER, "meeting": None, "region": None,
               "agenda": [], "attendance": None, "meetings": []}
    if meeting is not None:
        meeting = Meeting.objects.select_related("region", "host_agency").get(pk=meeting.pk)
        context["kind"] = "meeting"
        context["title"] = meeting.title
        context["meeting"] = _meeting_facts(meeting)
        context["agenda"] = _agenda(meeting)
        context["attendance"] = Participant.objects.filter(meeting=meeting).aggregate(
            participants=Count("id"), invited=Count("id", filter=Q(invited=True)),
            attended=Count("id", filter=Q(attended=True)))
        rows, truncated, total = _commitment_rows(
            Commitment.objects.filter(in_scope, meeting=meeting), today)
        context["issues"] = _issue_rows(MeetingIssue.objects.filter(meeting=meeting))
    else:
        code = region.code
        context["kind"] = "region"
        context["title"] = _("Rakor brief of %(region)s") % {"region": region.name}
        context["region"] = {"code": code, "name": region.name,
                             "kind_label": region.get_kind_display()}
        rows, truncated, total = _commitment_rows(
            Commitment.objects.filter(in_scope, subtree_q("region__code", code)), today)
        context["issues"] = _issue_rows(MeetingIssue.objects.filter(
            subtree_q("meeting__region__code", code),
            selectors.visible_q(scope_root, "meeting__region__code")))
        # Meetings held in the region, and those above it that bound it to a commitment.
        per_meeting: dict[int, int] = {}
        for r in rows:
            per_meeting[r["meeting_id"]] = per_meeting.get(r["meeting_id"], 0) + 1
        meetings = (Meeting.objects.filter(subtree_q("region__code", code)
                                           | Q(pk__in=list(per_meeting)),
                                           selectors.visible_q(scope_root, "region__code"))
                    .select_related("region", "host_agency")
                    .order_by("-starts_on", "-id")[:MAX_MEETINGS])
        context["meetings"] = [{**_meeting_facts(m), "commitments": per_meeting.get(m.pk, 0)}
                               for m in meetings]
    counts, status_counts, per_agency = _counts(rows)
    context.update({"commitments": rows, "truncated": truncated,
                    "total_commitments": total, "shown_commitments": len(rows),
                    "counts": counts, "status_counts": status_counts,
                    "per_agency": per_agency,
                    "status_labels": [str(dict(STATUS_CHOICES)[s]) for s in STATUS_ORDER]})
    return context


# --- PDF ---------------------------------------------------------------------------------

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


# --- jobs --------------------------------------------------------------------------------

def brief_job_create(*, actor, meeting: Meeting | None = None, region=None,
                     language: str = "id") -> BriefJob:
    """Queue a brief; the caller has checked that ``actor`` may see the
    meeting or region. ``language`` is the one the PDF is written in. The
    job records the actor's scope: the PDF shows what that scope sees, and
    only users of the same scope may open it (``actor`` None: unscoped)."""
    from django.conf import settings

    if (meeting is None) == (region is None):
        raise SinergiError(_("Say which meeting or region the brief is for."))
    if actor is not None:
        access.check_capability(actor, "meeting.view")
    codes = [code for code, _name in settings.LANGUAGES]
    language = (language or "").lower()
    if language not in codes:
        language = language.split("-")[0] if language.split("-")[0] in codes \
            else settings.LANGUAGE_CODE
    with transaction.atomic():
        scope_root = (access.scope_root(actor) or "") if actor is not None else ""
        job = BriefJob.objects.create(
            meeting=meeting, region=region if meeting is None else None, language=language,
            scope_root=scope_root,
            created_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit_record(actor=actor, action="brief.create", obj=job,
                     after={"meeting": meeting.pk if meeting else None,
                            "region": region.code if region is not None else None,
                            "language": language, "scope_root": scope_root})
    return job


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def brief_job_claim(job_id: int | None = None) -> BriefJob | None:
    """Take a pending brief (the given one, or the oldest) for this process."""
    qs = BriefJob.objects.filter(status=BRIEF_PENDING)
    if job_id is not None:
        qs = qs.filter(pk=job_id)
    candidate = qs.order_by("id").values_list("id", flat=True).first()
    if candidate is None:
        return None
    # Compare-and-swap: only one worker's UPDATE finds the row still pending.
    claimed = BriefJob.objects.filter(pk=candidate, status=BRIEF_PENDING).update(
        status=BRIEF_RUNNING, started_at=timezone.now(), worker=_worker_id())
    return BriefJob.objects.get(pk=candidate) if claimed else None


def brief_job_run(job: BriefJob) -> BriefJob:
    """Make the PDF of a claimed job: done with its file, or failed with a
    message and no file. The PDF is made in memory first, so a failure
    leaves nothing behind."""
    stored = ""
    try:
        with translation.override(job.language):
            job = BriefJob.objects.select_related("meeting", "region").get(pk=job.pk)
            pdf = render_pdf(brief_context(meeting=job.meeting, region=job.region,
                                           scope_root=job.scope_root))
        job.file.save(f"brief-rakor-{job.pk}.pdf", ContentFile(pdf), save=False)
        stored = job.file.name
        updated = BriefJob.objects.filter(pk=job.pk, status=BRIEF_RUNNING).update(
            status=BRIEF_DONE, file=stored, message="", finished_at=timezone.now())
        if not updated:  # reaped or removed meanwhile: the row no longer wants it
            job.file.storage.delete(stored)
    except Exception as exc:  # a bug must not leave the job "running" forever
        log.exception("brief job %s crashed", job.pk)
        if stored:
            job.file.storage.delete(stored)
        with translation.override(job.language):
            _fail(job, _("The brief could not be made because of an internal error (%(e)s). "
                         "Try again; if it fails again, tell your administrator.")
                  % {"e": type(exc).__name__})
    job.refresh_from_db()
    return job


def _fail(job: BriefJob, message: str) -> None:
    with transaction.atomic():
        updated = BriefJob.objects.filter(pk=job.pk).update(
            status=BRIEF_FAILED, message=message, file="", finished_at=timezone.now())
        if updated:  # a job removed with its meeting has nothing left to record
            audit_record(actor=job.created_by, action="brief.fail", obj=job,
                         after={"message": message})


def brief_jobs_reap() -> int:
    """Mark as failed the running briefs of this host whose process is gone."""
    host = socket.gethostname()
    failed = 0
    for job in BriefJob.objects.filter(status=BRIEF_RUNNING, worker__startswith=host + ":"):
        try:
            os.kill(int(job.worker.rsplit(":", 1)[1]), 0)
            continue
        except ProcessLookupError:
            pass
        except (PermissionError, ValueError):
            continue
        with translation.override(job.language):
            _fail(job, _("Making the brief was interrupted (the process stopped); ask for it "
                         "again."))
        failed += 1
    return failed


def start_brief_in_background(job_id: int) -> None:
    """Make the brief in a thread of this process (the job row is the truth;
    ``sinergi worker`` makes whatever is left pending)."""
    def work():
        close_old_connections()
        try:
            job = brief_job_claim(job_id)
            if job is not None:
                brief_job_run(job)
        finally:
            close_old_connections()
    threading.Thread(target=work, name=f"brief-{job_id}", daemon=True).start()
