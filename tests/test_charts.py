"""Server-rendered SVG charts (sinergi/core/charts.py): geometry, escaping,
no inline styles, localized numbers and the data table as text alternative."""

import xml.etree.ElementTree as ET
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import translation

from sinergi.core.charts import (
    Chart,
    balance_dots,
    compare_lines,
    ranking_bars,
    sparkline,
    trend_line,
)

NS = {"svg": "http://www.w3.org/2000/svg"}
HEADERS = ["Rank", "Region", "Value", "Interval"]


def parse(svg) -> ET.Element:
    assert "style=" not in str(svg)
    return ET.fromstring(str(svg))  # noqa: S314 - our own output, not untrusted input


def bars(root) -> list[ET.Element]:
    return root.findall(".//svg:rect", NS)


def ranking(rows, **kwargs) -> Chart:
    return ranking_bars(rows, caption="Stunting by region", headers=HEADERS, **kwargs)


ROWS = [
    {"key": "19.04", "label": "Bangka Tengah", "value": 100, "lower": 90, "upper": 110,
     "rank": "1"},
    {"key": "19.01", "label": "Bangka", "value": Decimal("50"), "lower": None, "upper": None,
     "rank": "2"},
    {"key": "19.02", "label": "Belitung", "value": None, "lower": None, "upper": None,
     "rank": "3"},
    {"key": "19.03", "label": "Bangka Selatan", "value": 25.0, "rank": "4"},
]


def test_ranking_draws_one_bar_per_value_in_proportion():
    chart = ranking(ROWS)
    root = parse(chart.svg)
    assert root.get("role") == "img" and root.get("viewBox")
    assert "chart-svg" in root.get("class")
    drawn = bars(root)
    assert len(drawn) == 3  # Belitung has no value
    widths = [float(rect.get("width")) for rect in drawn]
    lefts = {float(rect.get("x")) for rect in drawn}
    assert len(lefts) == 1  # the scale starts at 0: every bar starts at the same x
    assert abs(widths[1] - widths[0] / 2) < 0.2
    assert abs(widths[2] - widths[0] / 4) < 0.2
    assert [rect.find("svg:title", NS).text for rect in drawn][1] == "Bangka: 50.0"


def test_ranking_title_desc_and_unique_ids():
    first, second = ranking(ROWS).svg, ranking(ROWS).svg
    root = parse(first)
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find("svg:title", NS).get("id") == title_id
    assert root.find("svg:title", NS).text == "Stunting by region"
    assert root.find("svg:desc", NS).get("id") == desc_id
    assert parse(second).get("aria-labelledby") != root.get("aria-labelledby")


def test_ranking_no_data_row_and_table():
    chart = ranking(ROWS)
    assert chart.headers == HEADERS
    assert chart.rows[0] == ["1", "Bangka Tengah", "100.0", "90.0 – 110.0"]
    assert chart.rows[1] == ["2", "Bangka", "50.0", ""]
    assert chart.rows[2] == ["3", "Belitung", "no data", ""]
    texts = [t.text for t in parse(chart.svg).findall(".//svg:text", NS)]
    assert "no data" in texts and "3. Belitung" in texts
    custom = ranking(ROWS, no_data="–")
    assert custom.rows[2][2] == "–"


def test_ranking_highlight_lands_on_the_right_bar():
    root = parse(ranking(ROWS, highlight="19.01").svg)
    marked = [rect for rect in bars(root) if "highlight" in rect.get("class").split()]
    assert len(marked) == 1
    assert marked[0].get("class") == "chart-bar highlight"
    assert marked[0].find("svg:title", NS).text.startswith("Bangka:")
    assert not [r for r in bars(parse(ranking(ROWS).svg)) if "highlight" in r.get("class")]


def test_ranking_whisker_only_with_an_interval():
    root = parse(ranking(ROWS).svg)
    whiskers = root.findall(".//svg:path[@class='chart-whisker']", NS)
    assert len(whiskers) == 1
    assert whiskers[0].find("svg:title", NS).text == "90.0 – 110.0"


def test_ranking_target_line_only_when_given():
    assert not parse(ranking(ROWS).svg).findall(".//*[@class='chart-target']", NS)
    root = parse(ranking(ROWS, target=80).svg)
    lines = root.findall(".//svg:line[@class='chart-target']", NS)
    assert len(lines) == 1
    assert lines[0].get("x1") == lines[0].get("x2")  # vertical
    labels = [t.text for t in root.findall(".//svg:text[@class='chart-target-label']", NS)]
    assert labels == ["target 80.0"]
    # The target is on the scale: a target above every value widens it.
    wide = parse(ranking(ROWS, target=200).svg)
    assert float(bars(wide)[0].get("width")) < float(bars(root)[0].get("width"))


def test_ranking_escapes_labels():
    rows = [{"key": "x", "label": '<script>alert("x")</script> & co', "value": 3, "rank": "1"}]
    chart = ranking_bars(rows, caption="<script>bad()</script>", headers=HEADERS)
    root = parse(chart.svg)
    assert not root.findall(".//svg:script", NS) and not root.findall(".//script")
    assert "<script>" not in str(chart.svg)
    assert root.find("svg:title", NS).text == "<script>bad()</script>"
    html = render_to_string("core/_chart.html", {"chart": chart})
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_ranking_without_values_or_rows_does_not_divide_by_zero():
    zeros = [{"key": "a", "label": "A", "value": 0, "rank": "1"},
             {"key": "b", "label": "B", "value": None, "rank": "2"}]
    root = parse(ranking(zeros).svg)
    assert [float(r.get("width")) for r in bars(root)] == [0.0]
    assert parse(ranking([]).svg).get("role") == "img"
    negative = parse(ranking([{"key": "a", "label": "A", "value": -5, "rank": "1"},
                              {"key": "b", "label": "B", "value": 5, "rank": "2"}]).svg)
    first, second = (float(r.get("width")) for r in bars(negative))
    assert abs(first - second) < 0.2


def test_indonesian_number_format():
    with translation.override("id"):
        chart = ranking([{"key": "a", "label": "A", "value": 12.5, "lower": 1234.5,
                          "upper": 2000, "rank": "1"}], target=Decimal("12.45"))
        trend = trend_line([{"period": "2025", "value": 12.5}], caption="c", headers=HEADERS)
    assert chart.rows[0][2] == "12,5"
    assert chart.rows[0][3] == "1.234,5 – 2.000,0"
    root = parse(chart.svg)
    assert "12,5" in [t.text for t in root.findall(".//svg:text", NS)]
    target = root.find(".//svg:text[@class='chart-target-label']", NS).text
    assert target.endswith(" 12,5")  # 12.45 rounded half up
    assert trend.rows[0][1] == "12,5"
    assert "12,5" in str(trend.svg)


def test_english_number_format_rounds_half_up():
    chart = ranking([{"key": "a", "label": "A", "value": 66.66, "rank": "1"},
                     {"key": "b", "label": "B", "value": Decimal("0.25"), "rank": "2"}])
    assert [row[2] for row in chart.rows] == ["66.7", "0.3"]


POINTS = [
    {"period": "2021", "value": 30, "lower": 28, "upper": 32},
    {"period": "2022", "value": 27.5, "lower": 25, "upper": 30},
    {"period": "2023", "value": None},
    {"period": "2024", "value": 22},
    {"period": "2025", "value": 21.5},
]


def trend(points, **kwargs) -> Chart:
    return trend_line(points, caption="Stunting over time",
                      headers=["Year", "Value", "Interval", "Target"], **kwargs)


def test_trend_dots_lines_and_gaps():
    root = parse(trend(POINTS).svg)
    dots = root.findall(".//svg:circle[@class='chart-dot']", NS)
    assert len(dots) == 4
    assert dots[0].find("svg:title", NS).text == "2021: 30.0"
    lines = root.findall(".//svg:polyline[@class='chart-line']", NS)
    assert [len(line.get("points").split()) for line in lines] == [2, 2]
    whole = parse(trend([{"period": str(y), "value": y - 2000} for y in range(2020, 2026)]).svg)
    assert len(whole.findall(".//svg:polyline[@class='chart-line']", NS)) == 1
    # Higher values are drawn higher (smaller y).
    ys = [float(dot.get("cy")) for dot in dots]
    assert ys == sorted(ys)


def test_trend_band_only_with_intervals():
    root = parse(trend(POINTS).svg)
    bands = root.findall(".//svg:polygon[@class='chart-band']", NS)
    assert len(bands) == 1
    assert len(bands[0].get("points").split()) == 4
    plain = [{"period": p["period"], "value": p["value"]} for p in POINTS]
    assert not parse(trend(plain).svg).findall(".//svg:polygon", NS)


def test_trend_gridlines_and_table():
    chart = trend(POINTS)
    root = parse(chart.svg)
    grid = root.findall(".//svg:line[@class='chart-grid']", NS)
    assert 3 <= len(grid) <= 5
    assert chart.rows[0] == ["2021", "30.0", "28.0 – 32.0", ""]
    assert chart.rows[2] == ["2023", "no data", "", ""]
    assert chart.headers == ["Year", "Value", "Interval", "Target"]
    empty = parse(trend([{"period": "2025", "value": None}]).svg)
    assert not empty.findall(".//svg:circle", NS)
    assert 3 <= len(empty.findall(".//svg:line[@class='chart-grid']", NS)) <= 5


def test_trend_target_for_a_later_period_extends_the_axis():
    plain = parse(trend(POINTS).svg)
    assert not plain.findall(".//*[@class='chart-target']", NS)
    chart = trend(POINTS, targets=[{"period": "2025", "value": 20},
                                   {"period": "2030", "value": 14}])
    root = parse(chart.svg)
    axis = [t.text for t in root.findall(".//svg:text[@class='chart-axis']", NS)]
    assert axis[-2:] == ["2025", "2030"]
    markers = root.findall(".//svg:line[@class='chart-target']", NS)
    assert len(markers) >= 2
    assert markers[0].find("svg:title", NS).text == "2025: target 20.0"
    # The later period sits right of the last point.
    last_dot = root.findall(".//svg:circle[@class='chart-dot']", NS)[-1]
    assert float(markers[1].get("x1")) > float(last_dot.get("cx"))
    assert chart.rows[4] == ["2025", "21.5", "", "20.0"]
    assert chart.rows[5] == ["2030", "", "", "14.0"]
    # Four periods of points plus one more: the dots squeeze to the left.
    assert float(last_dot.get("cx")) < float(
        parse(trend(POINTS).svg).findall(".//svg:circle[@class='chart-dot']", NS)[-1].get("cx"))


def test_sparkline_never_raises():
    for values in ([], [3], [1, 2, None, 4, 5, 6], [Decimal("1"), 1.5, 2, 2, 3], None,
                   [None, None], ["x", float("nan")], [0, 0, 0]):
        svg = sparkline(values, label="Trend <b>")
        root = parse(svg)
        assert root.get("viewBox") == "0 0 60 16"
        assert root.get("class") == "sparkline" and root.get("role") == "img"
        assert root.get("aria-label") == "Trend <b>"
        assert root.find("svg:title", NS).text == "Trend <b>"
    assert not parse(sparkline([], label="x")).findall(".//svg:polyline", NS)
    assert len(parse(sparkline([3], label="x")).findall(".//svg:circle", NS)) == 1
    line = parse(sparkline([5, 3, 4, 1, 2], label="x")).find(".//svg:polyline", NS)
    points = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
    assert len(points) == 5
    assert all(0 <= px <= 60 and 0 <= py <= 16 for px, py in points)
    assert points[3][1] == max(py for _, py in points)  # the lowest value is lowest


def test_template_renders_the_table():
    chart = ranking(ROWS, highlight="19.04", target=60)
    html = render_to_string("core/_chart.html", {"chart": chart})
    assert "style=" not in html
    assert html.count("<figure") == 1 and "<figcaption>Stunting by region</figcaption>" in html
    assert "<summary>Data table</summary>" in html
    assert '<th scope="col">Region</th>' in html
    assert "<td>Bangka Tengah</td>" in html and "<td>90.0 – 110.0</td>" in html
    assert "<td>no data</td>" in html
    assert html.count("<tr>") == 1 + len(ROWS)
    assert "<svg" in html and "&lt;svg" not in html  # the SVG is not escaped again


def test_trend_line_spaces_periods_by_time_when_told():
    points = [{"period": str(y), "value": v, "at": y} for y, v in
              ((2021, 5), (2022, 4.8), (2023, 4.6), (2024, 4.5), (2025, 4.3))]
    chart = trend_line(points, caption="P0", headers=["a", "b", "c", "d"],
                              targets=[{"period": "2029", "value": 3.5, "at": 2029}])
    root = ET.fromstring(str(chart.svg))  # noqa: S314
    xs = [float(c.get("cx")) for c in root.iter("{http://www.w3.org/2000/svg}circle")]
    step = xs[1] - xs[0]
    assert all(abs((b - a) - step) < 0.2 for a, b in zip(xs, xs[1:], strict=False))
    target = next(e for e in root.iter("{http://www.w3.org/2000/svg}line")
                  if "chart-target" in (e.get("class") or "") and e.find("{http://www.w3.org/2000/svg}title")
                  is not None)
    middle = (float(target.get("x1")) + float(target.get("x2"))) / 2
    assert abs((middle - xs[-1]) - 4 * step) < 0.5  # four years out, not one


def test_two_series_have_a_band_each_and_a_table_column_each():
    members = {"label": "members <b>", "points": [
        {"period": "R1", "value": 1000, "lower": 900, "upper": 1100},
        {"period": "R2", "value": 1500, "lower": 1400, "upper": 1600},
        {"period": "R3", "value": None}]}
    comparison = {"label": "comparison", "points": [
        {"period": "R1", "value": 1000, "lower": 950, "upper": 1050},
        {"period": "R2", "value": 1200, "lower": 1100, "upper": 1300},
        {"period": "R3", "value": 1300, "lower": 1200, "upper": 1400}]}
    chart = compare_lines([members, comparison], caption="Income", headers=["Round", "M", "C"])
    root = parse(chart.svg)
    bands = root.findall(".//svg:polygon", NS)
    assert [b.get("class") for b in bands] == ["chart-band chart-series-0",
                                               "chart-band chart-series-1"]
    assert len(root.findall(".//svg:circle", NS)) == 5  # no dot where there is no value
    with translation.override("en"):
        chart = compare_lines([members, comparison], caption="Income",
                              headers=["Round", "M", "C"])
    assert chart.rows == [["R1", "1,000 (900 – 1,100)", "1,000 (950 – 1,050)"],
                          ["R2", "1,500 (1,400 – 1,600)", "1,200 (1,100 – 1,300)"],
                          ["R3", "no data", "1,300 (1,200 – 1,400)"]]
    assert "members &lt;b&gt;" in str(chart.svg)


def test_balance_dots_mark_the_target_and_keep_far_values_inside():
    chart = balance_dots([{"label": "income", "before": -1.2, "after": 0.05},
                          {"label": "desil", "before": None, "after": 0.3}],
                         caption="Balance", headers=["Covariate", "Before", "After"],
                         target=0.1)
    root = parse(chart.svg)
    targets = [ln for ln in root.findall(".//svg:line", NS) if ln.get("class") == "chart-target"]
    assert len(targets) == 2
    xs = [float(c.get("cx")) for c in root.findall(".//svg:circle", NS)]
    assert len(xs) == 3 and all(220 <= x <= 640 for x in xs)
    assert chart.rows[1][1] == "" and chart.rows[0][0] == "income"
