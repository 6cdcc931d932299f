"""Server-rendered SVG charts: a ranking of regions, a trend over periods and
a sparkline.

Design:

* Charts are plain ``<svg>`` markup built here in Python and placed in the
  page by the template; no JavaScript library and nothing from a CDN, so a
  chart shows on a slow connection, in a printout and with scripts off.
* The Content-Security-Policy allows no ``style`` attribute and no
  ``<style>`` element, so shapes carry only geometry (x, y, width, points…)
  and CSS classes; colours and dashes live in ``static/sinergi/app.css``
  under "Charts (core/charts.py)".
* Every chart is ``role="img"`` with a ``<title>`` and ``<desc>`` named by
  ``aria-labelledby`` and comes with a caption and a data table
  (``templates/core/_chart.html``): the table is the text alternative for
  screen readers and for anyone who wants the exact numbers.
* Labels come from the callers (already translated) and are escaped here;
  numbers are written with Django's localisation ("12,5" in Indonesian).
  ``None`` means no data: no bar or dot is drawn and the text says so.
"""

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from uuid import uuid4

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

SVG_NS = "http://www.w3.org/2000/svg"
DASH = "–"


@dataclass(frozen=True)
class Chart:
    svg: SafeString  # the <svg> element
    caption: str  # one sentence, shown as figcaption
    headers: list[str]  # the data table's headings
    rows: list[list[str]]  # the data table's cells, already formatted as text


# --- helpers -------------------------------------------------------------------


def _number(value) -> float | None:
    """A finite float, or None for no data (None, NaN, infinity, non-numbers)."""
    try:
        out = float(value)
    except (TypeError, ValueError, ArithmeticError):
        return None
    return out if math.isfinite(out) else None


def figure(value, decimals: int) -> str:
    """``value`` in the active language's notation, rounded half up (Django's
    number_format cuts digits instead of rounding)."""
    if _number(value) is None:
        return ""
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    return number_format(rounded, decimals, force_grouping=True)


def _interval(lower, upper, decimals: int) -> str:
    if _number(lower) is None or _number(upper) is None:
        return ""
    return f"{figure(lower, decimals)} {DASH} {figure(upper, decimals)}"


def _c(value: float) -> str:
    """A coordinate, always with a point as decimal mark."""
    return f"{value:.1f}"


def _short(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _svg(width: int, height: int, caption: str, desc: str, body: list[str]) -> SafeString:
    """The accessible ``<svg>`` wrapper; ``body`` is markup already escaped."""
    uid = f"chart-{uuid4().hex[:8]}"
    head = (
        f'<svg xmlns="{SVG_NS}" class="chart-svg" width="100%" viewBox="0 0 {width} {height}"'
        f' preserveAspectRatio="xMinYMin meet" role="img"'
        f' aria-labelledby="{uid}-title {uid}-desc">'
        f'<title id="{uid}-title">{escape(caption)}</title>'
        f'<desc id="{uid}-desc">{escape(desc)}</desc>'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every text is escaped


def _text(x: float, y: float, content: str, css: str, anchor: str = "start") -> str:
    return (f'<text x="{_c(x)}" y="{_c(y)}" class="{css}" text-anchor="{anchor}">'
            f"{escape(content)}</text>")


def _line(x1: float, y1: float, x2: float, y2: float, css: str, title: str = "") -> str:
    tip = f"<title>{escape(title)}</title>" if title else ""
    return (f'<line x1="{_c(x1)}" y1="{_c(y1)}" x2="{_c(x2)}" y2="{_c(y2)}" class="{css}">'
            f"{tip}</line>")


def _points(pairs) -> str:
    return " ".join(f"{_c(x)},{_c(y)}" for x, y in pairs)


# --- ranking -------------------------------------------------------------------


def ranking_bars(rows, *, caption: str, headers: list[str], decimals: int = 1,
                 highlight: str | None = None, target=None, no_data: str | None = None) -> Chart:
    """Horizontal bars in the order given: rank and label at left, the value
    at the bar's end, an interval as a whisker, an optional target line."""
    no_data = no_data or gettext("no data")
    width, label_w, right, top, row_h, bar_h = 640, 240, 90, 22, 24, 14
    plot_w = width - label_w - right
    target_v = _number(target)
    lows = [0.0] + [v for r in rows for v in (_number(r.get("value")), _number(r.get("lower")))
                    if v is not None]
    highs = [v for r in rows for v in (_number(r.get("value")), _number(r.get("upper")))
             if v is not None] + ([target_v] if target_v is not None else [])
    lo, hi = min(lows), max(highs + lows)
    span = (hi - lo) or 1.0

    def x(v: float) -> float:
        return label_w + (v - lo) / span * plot_w

    height = top + row_h * max(len(rows), 1) + 6
    body, table, desc = [], [], []
    for i, row in enumerate(rows):
        label, rank = str(row.get("label", "")), str(row.get("rank", ""))
        value, lower, upper = (_number(row.get(k)) for k in ("value", "lower", "upper"))
        text = figure(row.get("value"), decimals) if value is not None else no_data
        interval = _interval(row.get("lower"), row.get("upper"), decimals)
        table.append([rank, label, text, interval])
        desc.append(f"{rank}. {label}: {text}" if rank else f"{label}: {text}")
        mid = top + i * row_h + row_h / 2
        marked = row.get("key") is not None and row.get("key") == highlight
        css = " highlight" if marked else ""
        body.append(_text(label_w - 8, mid + 4, f"{rank}. {_short(label)}" if rank
                          else _short(label), f"chart-label{css}", "end"))
        end = x(0)
        if value is not None:
            left, end = sorted((x(0), x(value)))
            body.append(f'<rect x="{_c(left)}" y="{_c(mid - bar_h / 2)}"'
                        f' width="{_c(end - left)}" height="{bar_h}" class="chart-bar{css}">'
                        f"<title>{escape(label)}: {escape(text)}</title></rect>")
        if lower is not None and upper is not None:
            a, b = x(lower), x(upper)
            body.append(f'<path d="M{_c(a)} {_c(mid - 4)}V{_c(mid + 4)}M{_c(a)} {_c(mid)}'
                        f'H{_c(b)}M{_c(b)} {_c(mid - 4)}V{_c(mid + 4)}" class="chart-whisker">'
                        f"<title>{escape(interval)}</title></path>")
            end = max(end, a, b)
        body.append(_text(end + 4, mid + 4, text,
                          "chart-value" if value is not None else "chart-value chart-nodata"))
    if target_v is not None:
        tx, label = x(target_v), f"{gettext('target')} {figure(target, decimals)}"
        body.append(_line(tx, top - 4, tx, height - 4, "chart-target", label))
        body.append(_text(tx, top - 8, label, "chart-target-label", "middle"))
    return Chart(svg=_svg(width, height, caption, "; ".join(desc), body), caption=caption,
                 headers=list(headers), rows=table)


# --- trend ---------------------------------------------------------------------


def _ticks(lo: float, hi: float) -> tuple[list[float], int]:
    """3 to 5 round gridline values covering lo..hi, and their decimals."""
    span = (hi - lo) or abs(hi) or 1.0
    magnitude = math.floor(math.log10(span / 4))
    for power in (magnitude, magnitude + 1, magnitude + 2):
        for mantissa in ("1", "2", "2.5", "5"):
            step = Decimal(mantissa).scaleb(power)
            first = math.floor(Decimal(repr(lo)) / step)
            last = max(math.ceil(Decimal(repr(hi)) / step), first + 2)
            if last - first <= 4:
                decimals = max(0, -step.normalize().as_tuple().exponent)
                return [float(step) * k for k in range(first, last + 1)], decimals
    return [lo, (lo + hi) / 2, hi], 1  # not reached for finite values


def _value_grid(ticks, decimals: int, left: float, right: float, y) -> list[str]:
    """Horizontal grid lines at ``ticks`` with their labels left of the plot."""
    body = []
    for tick in ticks:
        body.append(_line(left, y(tick), right, y(tick), "chart-grid"))
        body.append(_text(left - 6, y(tick) + 4, figure(tick, decimals), "chart-axis", "end"))
    return body


def trend_line(points, *, caption: str, headers: list[str], decimals: int = 1,
               targets=None, no_data: str | None = None) -> Chart:
    """Values over periods: a line with a dot per value, an interval band and
    dashed target markers; a period without a value breaks the line. Points
    and targets may say where they lie in time ("at": a number such as
    2025.5); when all do, the x axis follows time instead of the list."""
    no_data = no_data or gettext("no data")
    targets = [t for t in (targets or []) if _number(t.get("value")) is not None]
    periods = [str(p.get("period", "")) for p in points]
    extra = [t for t in dict.fromkeys(str(t.get("period", "")) for t in targets)
             if t not in periods]
    periods += extra
    target_of = {str(t.get("period", "")): t["value"] for t in targets}
    width, height, left, right, top, bottom = 640, 260, 64, 16, 28, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for p in points for v in (_number(p.get(k)) for k in ("value", "lower", "upper"))
              if v is not None] + [_number(v) for v in target_of.values()]
    ticks, tick_decimals = _ticks(min([0.0, *values]), max([0.0, *values]))
    lo, span = ticks[0], (ticks[-1] - ticks[0]) or 1.0
    step = plot_w / max(len(periods), 1)
    # Where each period lies in time ("at", e.g. 2025.5), when every point
    # and target says: a target four years out is drawn four years out.
    at = [_number(p.get("at")) for p in points] + \
        [_number(next(t.get("at") for t in targets if str(t.get("period", "")) == e))
         for e in extra]
    timed = all(a is not None for a in at) and len(set(at)) > 1

    def x(i: int) -> float:
        if timed:
            return left + step / 2 + (at[i] - min(at)) / (max(at) - min(at)) * (plot_w - step)
        return left + (i + 0.5) * step

    def y(v: float) -> float:
        return top + plot_h - (v - lo) / span * plot_h

    body = _value_grid(ticks, tick_decimals, left, width - right, y)
    every = math.ceil(len(periods) / 12) or 1
    for i, period in enumerate(periods):
        if i % every == 0:
            body.append(_text(x(i), height - bottom + 18, period, "chart-axis", "middle"))

    # The band: runs of consecutive points with both bounds (one alone: a whisker).
    run: list[tuple[float, float, float]] = []
    for i, p in enumerate([*points, {}]):
        lower, upper = _number(p.get("lower")), _number(p.get("upper"))
        if lower is not None and upper is not None:
            run.append((x(i), y(lower), y(upper)))
            continue
        if len(run) > 1:
            outline = [(px, up) for px, _, up in run] + [(px, low) for px, low, _ in run[::-1]]
            body.append(f'<polygon points="{_points(outline)}" class="chart-band"/>')
        elif run:
            body.append(_line(run[0][0], run[0][1], run[0][0], run[0][2], "chart-whisker"))
        run = []

    # The line: one polyline per run of consecutive values.
    segment: list[tuple[float, float]] = []
    for i, p in enumerate([*points, {}]):
        value = _number(p.get("value"))
        if value is not None:
            segment.append((x(i), y(value)))
            continue
        if len(segment) > 1:
            body.append(f'<polyline points="{_points(segment)}" class="chart-line" fill="none"/>')
        segment = []

    for period, goal in target_of.items():
        tx, ty = x(periods.index(period)), y(_number(goal))
        tip = f"{period}: {gettext('target')} {figure(goal, decimals)}"
        body.append(_line(tx - step * 0.35, ty, tx + step * 0.35, ty, "chart-target", tip))
    if target_of:
        body.append(_line(width - right - 90, 12, width - right - 66, 12, "chart-target"))
        body.append(_text(width - right - 60, 16, gettext("target"), "chart-target-label"))

    table, desc = [], []
    for i, p in enumerate(points):
        period, value = str(p.get("period", "")), _number(p.get("value"))
        text = figure(p.get("value"), decimals) if value is not None else no_data
        goal = target_of.get(period)
        table.append([period, text, _interval(p.get("lower"), p.get("upper"), decimals),
                      figure(goal, decimals) if goal is not None else ""])
        desc.append(f"{period}: {text}")
        if value is not None:
            body.append(f'<circle cx="{_c(x(i))}" cy="{_c(y(value))}" r="3.5" class="chart-dot">'
                        f"<title>{escape(period)}: {escape(text)}</title></circle>")
    for period in extra:
        table.append([period, "", "", figure(target_of[period], decimals)])
    return Chart(svg=_svg(width, height, caption, "; ".join(desc), body), caption=caption,
                 headers=list(headers), rows=table)


# --- two series ----------------------------------------------------------------


def compare_lines(series, *, caption: str, headers: list[str], decimals: int = 0,
                  no_data: str | None = None) -> Chart:
    """Two or more series over the same periods (members against their
    comparison): a line, dots and an interval band per series, a legend; the
    table has a column per series ("value (lower – upper)")."""
    no_data = no_data or gettext("no data")
    periods = [str(p.get("period", "")) for p in (series[0]["points"] if series else [])]
    width, height, left, right, top, bottom = 640, 260, 72, 16, 30, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for p in s["points"]
              for v in (_number(p.get(k)) for k in ("value", "lower", "upper")) if v is not None]
    ticks, tick_decimals = _ticks(min([0.0, *values]), max([0.0, *values]))
    lo, span = ticks[0], (ticks[-1] - ticks[0]) or 1.0
    step = plot_w / max(len(periods), 1)

    def x(i: int) -> float:
        return left + (i + 0.5) * step

    def y(v: float) -> float:
        return top + plot_h - (v - lo) / span * plot_h

    body = _value_grid(ticks, tick_decimals, left, width - right, y)
    for i, period in enumerate(periods):
        body.append(_text(x(i), height - bottom + 18, _short(period, 18), "chart-axis", "middle"))
    desc = []
    for n, s in enumerate(series):
        css = f"chart-series-{n % 2}"
        points = s["points"]
        band = [(x(i), y(_number(p["lower"])), y(_number(p["upper"])))
                for i, p in enumerate(points)
                if _number(p.get("lower")) is not None and _number(p.get("upper")) is not None]
        if len(band) > 1:
            outline = [(px, up) for px, _, up in band] + [(px, low) for px, low, _ in band[::-1]]
            body.append(f'<polygon points="{_points(outline)}" class="chart-band {css}"/>')
        line = [(x(i), y(_number(p["value"]))) for i, p in enumerate(points)
                if _number(p.get("value")) is not None]
        if len(line) > 1:
            body.append(f'<polyline points="{_points(line)}" class="chart-line {css}" '
                        f'fill="none"/>')
        for i, p in enumerate(points):
            if _number(p.get("value")) is not None:
                tip = f"{s['label']}, {periods[i]}: {figure(p['value'], decimals)}"
                body.append(f'<circle cx="{_c(x(i))}" cy="{_c(y(_number(p["value"])))}" r="3.5"'
                            f' class="chart-dot {css}"><title>{escape(tip)}</title></circle>')
        lx = left + 8 + n * 170
        body.append(_line(lx, 14, lx + 22, 14, f"chart-line {css}"))
        body.append(_text(lx + 28, 18, _short(str(s["label"]), 22), "chart-axis"))
        desc.append(f"{s['label']}: " + ", ".join(
            f"{periods[i]} {figure(p.get('value'), decimals) or no_data}"
            for i, p in enumerate(points)))
    table = []
    for i, period in enumerate(periods):
        row = [period]
        for s in series:
            p = s["points"][i]
            if _number(p.get("value")) is None:
                row.append(no_data)
                continue
            interval = _interval(p.get("lower"), p.get("upper"), decimals)
            row.append(figure(p["value"], decimals) + (f" ({interval})" if interval else ""))
        table.append(row)
    return Chart(svg=_svg(width, height, caption, "; ".join(desc), body), caption=caption,
                 headers=list(headers), rows=table)


# --- balance ---------------------------------------------------------------------


def balance_dots(rows, *, caption: str, headers: list[str], target: float = 0.1) -> Chart:
    """A "love plot": each covariate's standardised mean difference before
    (hollow) and after (filled) matching, with the ±target band marked."""
    width, label_w, right, top, row_h = 640, 220, 30, 24, 24
    plot_w = width - label_w - right
    values = [abs(v) for r in rows for v in (_number(r.get("before")), _number(r.get("after")))
              if v is not None]
    reach = max([target * 2, *values]) * 1.1
    height = top + row_h * max(len(rows), 1) + 26

    def x(v: float) -> float:
        return label_w + (v + reach) / (2 * reach) * plot_w

    body = [_line(x(0), top - 6, x(0), height - 20, "chart-axis-line"),
            _line(x(-target), top - 6, x(-target), height - 20, "chart-target"),
            _line(x(target), top - 6, x(target), height - 20, "chart-target")]
    for v in (-reach, -target, 0.0, target, reach):
        body.append(_text(x(v), height - 6, figure(v, 2), "chart-axis", "middle"))
    table, desc = [], []
    for i, r in enumerate(rows):
        cy = top + i * row_h + row_h / 2
        body.append(_text(label_w - 8, cy + 4, _short(str(r["label"]), 32), "chart-label", "end"))
        before, after = _number(r.get("before")), _number(r.get("after"))
        if before is not None:
            body.append(f'<circle cx="{_c(x(max(-reach, min(reach, before))))}" cy="{_c(cy)}"'
                        f' r="4" class="chart-dot-hollow"><title>{escape(str(r["label"]))}: '
                        f'{escape(figure(before, 2))}</title></circle>')
        if after is not None:
            body.append(f'<circle cx="{_c(x(max(-reach, min(reach, after))))}" cy="{_c(cy)}"'
                        f' r="4" class="chart-dot"><title>{escape(str(r["label"]))}: '
                        f'{escape(figure(after, 2))}</title></circle>')
        table.append([str(r["label"]), figure(before, 2), figure(after, 2)])
        desc.append(f"{r['label']}: {figure(before, 2)} → {figure(after, 2)}")
    return Chart(svg=_svg(width, height, caption, "; ".join(desc), body), caption=caption,
                 headers=list(headers), rows=table)


# --- sparkline -----------------------------------------------------------------


def sparkline(values, *, label: str) -> SafeString:
    """A tiny inline trend (60 × 16) of the values that are not None."""
    label = escape(str(label))
    body = ""
    try:
        values = list(values or [])
        known = [(i, v) for i, v in enumerate(_number(v) for v in values) if v is not None]
        if known:
            lo, hi = min(v for _, v in known), max(v for _, v in known)
            count = max(len(values) - 1, 1)

            def at(i: int, v: float) -> tuple[float, float]:
                return 1 + 58 * i / count, 8.0 if hi == lo else 15 - 14 * (v - lo) / (hi - lo)

            pairs = [at(i, v) for i, v in known]
            if len(pairs) == 1:
                body = f'<circle cx="{_c(pairs[0][0])}" cy="{_c(pairs[0][1])}" r="1.5"/>'
            else:
                body = f'<polyline points="{_points(pairs)}" fill="none"/>'
    except Exception:  # a sparkline must never break a page
        body = ""
    return mark_safe(  # noqa: S308 - the label is escaped, the rest is numbers
        f'<svg xmlns="{SVG_NS}" class="sparkline" viewBox="0 0 60 16" width="60" height="16"'
        f' role="img" aria-label="{label}"><title>{label}</title>{body}</svg>'
    )
