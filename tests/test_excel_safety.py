"""Every Excel file Sinergi writes, made from hostile input: no cell is a formula.

Names, addresses, titles, reasons and uploaded cells that hold formula
payloads (OWASP CSV/formula injection) must come back in every workbook as
the text that was typed, in string cells: the exports, the import error
report and both templates. The list of workbooks is checked against the URL
conf and against the code that builds workbooks, so a new export cannot
leave this test without failing it.
"""

import ast
import csv
import datetime
import io
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

import sinergi
from sinergi.agencies.models import Agency
from sinergi.core.exports import xlsx_response
from sinergi.groups.models import Group
from sinergi.imports import services as import_services
from sinergi.imports import template as import_template_module
from sinergi.indicators.models import Indicator, Target, Value
from sinergi.meetings import services as meeting_services
from sinergi.meetings import sheet
from sinergi.meetings.models import Commitment
from sinergi.programs.models import Enrollment, Program
from sinergi.regions.models import Region
from sinergi.registry.models import Household, Person

from .conftest import KAB, OUTSIDE_KAB, agency
from .test_registry_import import HEADER, KK1, VILLAGE

YEAR = timezone.localdate().year

# Each one is read as a formula (or, the last, an error value) when typed into
# a cell; the ones led by a space, tab or CR hide the formula behind them.
PAYLOADS = (
    '=HYPERLINK("http://evil.example/","klik")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "-5",
    " =1+1",
    "\t=1+1",
    "\r=1+1",
    "#N/A",
)
SHORT = ("-5", "+1+1", "=A1", "@A1")  # for fields of at most 4 characters (RT, RW)


def read_back(text: str) -> str:
    """``text`` as a reader sees it: XML turns a bare carriage return into a
    line feed (Excel writes it as a line break too)."""
    return text.replace("\r", "\n")


def looks_like_formula(text: str) -> bool:
    """The test's own reading of OWASP's rule (not the code under test)."""
    return text.lstrip()[:1] in ("=", "+", "-", "@") or text[:1] in ("\t", "\r")


def inert_texts(content: bytes) -> set[str]:
    """The texts of the workbook's string cells, once it is checked that no
    cell is a formula or an error value and that formula-like text carries
    Excel's quote prefix (so editing the cell keeps it text)."""
    wb = load_workbook(io.BytesIO(content))  # not read-only, formulas as formulas
    texts = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                where = f"{ws.title}!{cell.coordinate} = {cell.value!r}"
                assert cell.data_type not in ("f", "e"), f"live formula or error: {where}"
                if cell.data_type == "s" and cell.value:
                    texts.add(cell.value)
                    if looks_like_formula(cell.value):
                        assert cell.quotePrefix, f"formula-like text without quote prefix: {where}"
    return texts


def content_of(response) -> bytes:
    assert response.status_code == 200, response
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return (b"".join(response.streaming_content) if response.streaming
            else response.content)


def village(world) -> str:
    return world["operator"].region_id


def hostile_family(world, n: int, *, desil=2) -> Household:
    """A family in the operator's village whose text fields are all payloads."""
    hh = Household.objects.create(
        kk_number=f"1904{n:012d}", village_code=village(world), desil=desil,
        rt=SHORT[n % len(SHORT)], rw=SHORT[(n + 1) % len(SHORT)],
        address=PAYLOADS[n % len(PAYLOADS)], dusun=PAYLOADS[(n + 1) % len(PAYLOADS)])
    Person.objects.create(nik=f"19040{n:05d}000001", name=PAYLOADS[(n + 2) % len(PAYLOADS)],
                          sex="P", household=hh, shdk=1, village_code=village(world),
                          birth_place=PAYLOADS[(n + 3) % len(PAYLOADS)],
                          birth_date=datetime.date(1985, 5, 17))
    return hh


def hostile_families(world, *, desil=2) -> list[Household]:
    return [hostile_family(world, n, desil=desil) for n in range(len(PAYLOADS))]


def indicator_values(names=()) -> list[str]:
    """P0 of 19.04 and of its kecamatan in 2024 and 2025 (the first
    kecamatan flagged an outlier in 2025, the last missing 2025) and a target
    of 19.04 for 2029; the same of 18.06 and its kecamatan, renamed OUTSIDER.
    19.04's kecamatan take ``names`` in turn; returns their names."""
    p0, now = Indicator.objects.get(code="P0"), timezone.now()
    for kab in (OUTSIDE_KAB, KAB):
        kecamatan = Region.objects.filter(parent_id=kab).order_by("code")[:6]
        renamed = [f"OUTSIDER {k.name}" for k in kecamatan] if kab == OUTSIDE_KAB else names
        for region, name in zip(kecamatan, renamed, strict=False):
            Region.objects.filter(pk=region.pk).update(name=name)
        codes = [kab, *(k.code for k in kecamatan)]
        for n, code in enumerate(codes):
            for period, value in (("2024", 10 + n), ("2025", 20 - n)):
                if period == "2025" and n == len(codes) - 1:
                    continue  # the last kecamatan has not reported 2025
                Value.objects.create(
                    indicator=p0, region_code=code, level=len(code.split(".")), period=period,
                    value=value, numerator=value * 10, denominator=1000, lower=value - 1,
                    upper=value + 1, origin="form", computed_at=now,
                    status="draft" if period == "2025" else "verified",
                    flags="outlier" if (period, n) == ("2025", 1) else "")
        Target.objects.create(indicator=p0, region_code=kab, period="2029", target=8,
                              baseline=10, baseline_period="2024", document="rpjmd")
    return list(Region.objects.filter(parent_id=KAB).order_by("code")
                .values_list("name", flat=True)[:6])


def hostile_indicators() -> None:
    """Indicators whose name, unit, agency, definition and formula are
    payloads (unit and agency hold 40 characters: not the first payload)."""
    fitting = PAYLOADS[1:]
    for n, payload in enumerate(PAYLOADS):
        Indicator.objects.create(
            code=f"HOSTILE{n}", name_id=payload, unit=fitting[n % len(fitting)],
            agency=fitting[(n + 1) % len(fitting)], kind="percent", source="bps",
            definition=PAYLOADS[(n + 2) % len(PAYLOADS)],
            formula=PAYLOADS[(n + 3) % len(PAYLOADS)])




# Producers: one per URL that sends an Excel file. Each makes hostile data,
# fetches the file as the coordinator of 19.04 and returns the workbooks and
# the texts they must hold.

def registry_export(ctx):
    hostile_families(ctx.world)
    content = content_of(ctx.client.get(reverse("registry:export")))
    return [content], [*PAYLOADS, *SHORT]


def registry_export_file(ctx):
    """The same export grown large: written in the background, then fetched."""
    hostile_families(ctx.world)
    url = background_export(ctx.world["coordinator"])
    return [content_of(ctx.client.get(url))], [*PAYLOADS, *SHORT]


def background_export(user, region: str | None = None) -> str:
    """A persons export of ``user`` that goes to the background, written
    there; the URL of its file."""
    from unittest import mock

    from sinergi.core import jobs
    from sinergi.registry import services as registry_services

    with mock.patch.object(registry_services, "EXPORT_INLINE_MAX", 0):
        job = registry_services.persons_export(actor=user, region=region).job
    jobs.run(jobs.claim(kind=registry_services.EXPORT_JOB_KIND, ref_id=job.pk))
    return reverse("registry:export_file", args=[job.pk])


def enrollment_export(ctx):
    families = hostile_families(ctx.world)
    owner = agency("Dinsos")
    persons = Program.objects.create(owner_agency=owner, code="PKH-P", name="Per orang",
                                     year_start=YEAR - 1, unit="person", benefit_type="cash")
    for n, hh in enumerate(families):
        Enrollment.objects.create(program=persons, year=YEAR, person=hh.members.get(),
                                  household=hh, village_code=hh.village_code, status="active",
                                  status_reason=PAYLOADS[n], benefit_value=150000,
                                  start_date=datetime.date(YEAR, 1, 1))
    groups = Program.objects.create(owner_agency=owner, code="IR-G", name="Per kelompok",
                                    year_start=YEAR - 1, unit="group", benefit_type="goods")
    for n, payload in enumerate(PAYLOADS):
        group = Group.objects.create(code=f"=G{n}()", name=payload, kind_id="IR",
                                     village_code=village(ctx.world))
        Enrollment.objects.create(program=groups, year=YEAR, group=group,
                                  village_code=group.village_code, status_reason="-")
    return ([content_of(ctx.client.get(reverse("programs:export", args=[p.pk]),
                                       {"year": YEAR})) for p in (persons, groups)],
            [*PAYLOADS, "=G0()", "-"])


def unserved_export(ctx):
    hostile_families(ctx.world, desil=2)
    program = Program.objects.create(owner_agency=agency("Dinsos"), code="=PKH()",
                                     name="Bantuan", year_start=YEAR - 1, unit="household",
                                     benefit_type="cash", rule="desil <= 3")
    url = reverse("convergence:unserved_export")
    return ([content_of(ctx.client.get(url, {"region": KAB, "year": YEAR})),
             content_of(ctx.client.get(url, {"region": KAB, "year": YEAR,
                                             "program": program.pk}))],
            [*PAYLOADS, "=PKH()"])


def board_export(ctx):
    coordinator = ctx.world["coordinator"]
    meeting = meeting_services.meeting_create(actor=coordinator,
        kind="rakor", title="=Rakor()", starts_on="2026-02-10", region=KAB)
    hostile = Agency.objects.create(region_id=KAB, name="@Dinas", short_name="=OPD()",
                                    level=agency("Dinsos").level, sector="other")
    for payload in PAYLOADS:
        meeting_services.commitment_create(actor=coordinator, meeting=meeting,
            text=payload, owner_agency=hostile.pk,
            supporting_agencies=[hostile.pk], unit="-persen", target="10")
    stored = list(Commitment.objects.filter(meeting=meeting).values_list("text", flat=True))
    assert all(looks_like_formula(t) or t == "#N/A" for t in stored)  # still hostile
    content = content_of(ctx.client.get(reverse("meetings:board_export"),
                                         {"meeting": meeting.pk}))
    return [content], [*stored, "=OPD()", "-persen"]


def commitment_template(ctx):
    p = ctx.monkeypatch
    p.setattr(sheet, "TEXT", {**sheet.TEXT, "title": PAYLOADS[0], "intro": PAYLOADS,
                              "column_headers": PAYLOADS[:6]})
    p.setattr(sheet, "EXAMPLE", {**sheet.EXAMPLE, "text": PAYLOADS[1], "unit": PAYLOADS[2],
                                 "region": "-19.04"})
    p.setattr(sheet, "COLUMN_HELP", {**sheet.COLUMN_HELP, "text": PAYLOADS[3:6]})
    content = content_of(ctx.client.get(reverse("meetings:commitment_template")))
    return [content], [*PAYLOADS, "-19.04"]


def import_template(ctx):
    p = ctx.monkeypatch
    t = import_template_module
    p.setattr(t, "TEXT", {**t.TEXT, "title": PAYLOADS[0], "intro": PAYLOADS,
                          "column_headers": PAYLOADS[:5], "code_headers": PAYLOADS[5:7]})
    p.setattr(t, "EXAMPLE_ROWS", ({**t.EXAMPLE_ROWS[0], "name": PAYLOADS[1],
                                   "address": PAYLOADS[2], "nik": "-1904011205880003"},
                                  t.EXAMPLE_ROWS[1]))
    p.setattr(t, "COLUMN_HELP", {**t.COLUMN_HELP, "name": PAYLOADS[3:5]})
    p.setattr(t, "EXTRA_TABLES", {"sex": {"L": PAYLOADS[8], "=P": PAYLOADS[9]}})
    content = content_of(ctx.client.get(reverse("imports:template")))
    return [content], [*PAYLOADS, "-1904011205880003", "=P"]


def import_report(ctx):
    """A CSV and a workbook whose rows are refused (a bad NIK, a formula),
    with payloads in their cells and in a header of their own."""
    hostile_header = '=HYPERLINK("http://evil.example/","kolom")'
    csv_path = ctx.tmp_path / "hostile.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow([*HEADER.split(","), hostile_header])
        for n, payload in enumerate(PAYLOADS):
            writer.writerow([KK1, "123", payload, "L", payload, "01/01/2000", "1", VILLAGE,
                             SHORT[n % len(SHORT)], "", "", "", payload])
    wb = Workbook()
    ws = wb.active
    ws.append([*HEADER.split(","), hostile_header])
    ws.cell(row=1, column=13).data_type = "s"  # a header typed as text
    for n, payload in enumerate(PAYLOADS):
        ws.append([KK1, "-190401120588000", None, "L", "Koba", "01/01/2000", "1", VILLAGE])
        row = ws.max_row
        ws.cell(row=row, column=3).value = payload
        ws.cell(row=row, column=3).data_type = "s"  # the payload typed as text
        ws.cell(row=row, column=13).value = f"=HYPERLINK(\"http://evil.example/{n}\",\"x\")"
    xlsx_path = ctx.tmp_path / "hostile.xlsx"
    wb.save(xlsx_path)
    contents = []
    for path in (csv_path, xlsx_path):
        job = import_services.import_job_create(
            actor=ctx.world["coordinator"], source=path, file_name=path.name, region_code=KAB,
            on_error="skip")
        import_services.import_job_run(import_services.import_job_claim(job.pk))
        contents.append(content_of(ctx.client.get(reverse("imports:report", args=[job.pk]))))
    return contents, [*PAYLOADS, hostile_header, "-190401120588000",
                      "=HYPERLINK(\"http://evil.example/0\",\"x\")"]


def indicator_catalogue_export(ctx):
    hostile_indicators()
    return [content_of(ctx.client.get(reverse("indicators:catalogue_export")))], PAYLOADS


def indicator_detail_export(ctx):
    names = indicator_values(PAYLOADS)
    content = content_of(ctx.client.get(reverse("indicators:detail_export", args=["P0"]),
                                        {"region": KAB, "period": "2025"}))
    return [content], names[:-1]  # the last kecamatan has no 2025 value


def indicator_region_export(ctx):
    hostile_indicators()
    indicator_values()
    return [content_of(ctx.client.get(reverse("indicators:region_export", args=[KAB])))], \
        PAYLOADS


def indicator_quality_export(ctx):
    names = indicator_values(PAYLOADS)
    content = content_of(ctx.client.get(reverse("indicators:quality_export")))
    return [content], [names[0], names[-1]]  # flagged, and missing 2025


def indicator_bps_export(ctx):
    names = indicator_values(PAYLOADS)
    content = content_of(ctx.client.get(reverse("indicators:export", args=["P0"]),
                                        {"region": KAB}))
    return [content], names


def monitoring_rounds(names=("Putaran 1", "Putaran 2", "Putaran 3")) -> list:
    """Three income rounds of 19.04 (owner DP3ACSKB) named ``names``."""
    from sinergi.agencies.models import Agency
    from sinergi.monitoring.models import Round

    owner = Agency.objects.get(region_id=KAB, short_name="DP3ACSKB")
    return [Round.objects.create(name=name, kind="income", region_id=KAB, owner_agency=owner,
                                 starts_on=datetime.date(2024 + n, 3, 1),
                                 ends_on=datetime.date(2024 + n, 4, 30))
            for n, name in enumerate(names)]


def monitoring_template(ctx):
    rnd = monitoring_rounds()[0]
    return [content_of(ctx.client.get(reverse("monitoring:template", args=[rnd.pk])))], \
        ["No KK", "1904010101010001"]


def monitoring_round_export(ctx):
    from sinergi.monitoring.models import IncomeRecord

    rnd = monitoring_rounds()[0]
    for n, hh in enumerate(hostile_families(ctx.world)):
        IncomeRecord.objects.create(round=rnd, household=hh, village_code=hh.village_code,
                                    wages=1_000_000 + n, total=1_000_000 + n,
                                    enumerator=PAYLOADS[n], flags="outlier")
    return [content_of(ctx.client.get(reverse("monitoring:round_export", args=[rnd.pk])))], \
        PAYLOADS


def monitoring_impact_export(ctx):
    from sinergi.monitoring.models import IncomeRecord

    rounds = monitoring_rounds(PAYLOADS[:3])
    for hh in hostile_families(ctx.world):
        for n, rnd in enumerate(rounds):
            IncomeRecord.objects.create(round=rnd, household=hh, village_code=hh.village_code,
                                        wages=1_000_000 + n, total=1_000_000 + n)
    content = content_of(ctx.client.get(reverse("monitoring:impact_export"), {
        "kind": "UPPKA", "region": KAB, "baseline": rounds[1].pk, "followup": rounds[2].pk}))
    return [content], [f"Pendapatan {PAYLOADS[1]}", f"Pendapatan {PAYLOADS[2]}"]


# URL name -> producer. Every URL that sends an Excel file must be here.
PRODUCERS = {
    "registry:export": registry_export,
    "programs:export": enrollment_export,
    "convergence:unserved_export": unserved_export,
    "meetings:board_export": board_export,
    "meetings:commitment_template": commitment_template,
    "imports:template": import_template,
    "imports:report": import_report,
    "registry:export_file": registry_export_file,
    "indicators:catalogue_export": indicator_catalogue_export,
    "indicators:detail_export": indicator_detail_export,
    "indicators:region_export": indicator_region_export,
    "indicators:quality_export": indicator_quality_export,
    "indicators:export": indicator_bps_export,
    "monitoring:template": monitoring_template,
    "monitoring:round_export": monitoring_round_export,
    "monitoring:impact_export": monitoring_impact_export,
}
MONITORING_EXPORTS = ("monitoring:template", "monitoring:round_export",
                      "monitoring:impact_export")
INDICATOR_EXPORTS = ("indicators:catalogue_export", "indicators:detail_export",
                     "indicators:region_export", "indicators:quality_export",
                     "indicators:export")

# Every function of sinergi/ that builds a workbook -> the URLs whose files it writes.
WRITERS = {
    "sinergi/core/exports.py:write_xlsx": ("registry:export", "programs:export",
                                           "convergence:unserved_export",
                                           "meetings:board_export", "imports:report",
                                           "registry:export_file", *INDICATOR_EXPORTS,
                                           *MONITORING_EXPORTS),
    "sinergi/core/exports.py:xlsx_response": ("registry:export", "programs:export",
                                              "convergence:unserved_export",
                                              "meetings:board_export", "imports:report",
                                              *INDICATOR_EXPORTS, *MONITORING_EXPORTS),
    "sinergi/registry/services.py:export_job_work": ("registry:export_file",),
    "sinergi/registry/views.py:export": ("registry:export",),
    "sinergi/programs/views.py:enrollment_export": ("programs:export",),
    "sinergi/convergence/views.py:unserved_export": ("convergence:unserved_export",),
    "sinergi/meetings/sheet.py:commitments_xlsx": ("meetings:board_export",),
    "sinergi/meetings/sheet.py:template_workbook": ("meetings:commitment_template",),
    "sinergi/imports/template.py:template_workbook": ("imports:template",),
    "sinergi/imports/report.py:report_response": ("imports:report",),
    "sinergi/indicators/views.py:catalogue": ("indicators:catalogue_export",),
    "sinergi/indicators/views.py:detail": ("indicators:detail_export",),
    "sinergi/indicators/views.py:region_panel": ("indicators:region_export",),
    "sinergi/indicators/views.py:quality_list": ("indicators:quality_export",),
    "sinergi/indicators/views.py:export_bps": ("indicators:export",),
    "sinergi/monitoring/views.py:round_template": ("monitoring:template",),
    "sinergi/monitoring/views.py:round_export": ("monitoring:round_export",),
    "sinergi/monitoring/views.py:impact_inputs": ("monitoring:impact_export",),
}
# Calls that make a workbook: openpyxl's and xlsxwriter's Workbook, the
# project's export, and polars' Excel writer.
WORKBOOK_CALLS = {"Workbook", "xlsx_response", "write_xlsx", "write_excel"}


def excel_urls() -> set[str]:
    """URL names (or routes, for unnamed ones) that look like they send a
    workbook: the name ends in "export" or the route in ".xlsx"."""
    found = set()

    def walk(patterns, route, namespaces):
        for pattern in patterns:
            here = route + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, here,
                     [*namespaces, pattern.namespace] if pattern.namespace else namespaces)
            elif (pattern.name or "").endswith("export") or ".xlsx" in here:
                found.add(":".join([*namespaces, pattern.name]) if pattern.name else here)

    walk(get_resolver().url_patterns, "", [])
    return found


def workbook_writers() -> set[str]:
    """"path:function" of every top-level function of sinergi/ (or "path:"
    for module level) that calls one of WORKBOOK_CALLS."""
    root = Path(sinergi.__file__).parent
    found = set()
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        owners = {}
        for node in tree.body:
            named = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            for inner in ast.walk(node):
                owners[inner] = node.name if named else ""
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in WORKBOOK_CALLS:
                    found.add(f"sinergi/{path.relative_to(root).as_posix()}:{owners[node]}")
    return found


def test_every_excel_url_is_produced_by_this_test():
    assert excel_urls() == set(PRODUCERS), (
        "an Excel URL was added or renamed: add a producer for it to PRODUCERS")


def test_every_workbook_writer_is_reached_by_a_producer():
    assert workbook_writers() == set(WRITERS), (
        "code that builds a workbook was added or moved: write its cells with "
        "core.exports.write_cell and list it in WRITERS with the URL that exercises it")
    assert {url for urls in WRITERS.values() for url in urls} <= set(PRODUCERS)


@pytest.mark.parametrize("url_name", sorted(PRODUCERS))
def test_hostile_text_comes_back_as_text_never_as_a_formula(
        url_name, world, client_of, monkeypatch, tmp_path):
    client = client_of("coordinator")
    fetched, get = [], client.get

    def recording_get(path, *args, **kwargs):
        fetched.append(resolve(path).view_name)
        return get(path, *args, **kwargs)

    monkeypatch.setattr(client, "get", recording_get)
    contents, expected = PRODUCERS[url_name](SimpleNamespace(
        world=world, client=client, monkeypatch=monkeypatch, tmp_path=tmp_path))
    assert set(fetched) == {url_name} and len(contents) == len(fetched)
    texts = set().union(*(inert_texts(content) for content in contents))
    missing = {read_back(t) for t in expected} - texts
    assert not missing, f"hostile text not found as it was typed: {sorted(missing)}"


def test_numbers_and_dates_stay_typed_and_text_columns_stay_text():
    when = datetime.datetime(2026, 3, 14, 9, 30)
    response = xlsx_response("x.xlsx", ["NIK", "=Jumlah", "Nilai", "Tanggal", "Waktu", "Teks"], [
        ("1904011205880003", 5, Decimal("2.5"), datetime.date(2026, 1, 31), when, "-5"),
        ("-5", -5, 1.5, None, None, "abc\x01def"),
        (None, None, None, None, None, True),
    ], text_columns={0})
    ws = load_workbook(io.BytesIO(content_of(response))).active
    header, first, second, third = ws.iter_rows()
    assert (header[1].value, header[1].data_type, header[1].quotePrefix) == ("=Jumlah", "s", True)
    assert [c.value for c in first[:3]] == ["1904011205880003", 5, 2.5]
    assert first[0].data_type == "s" and first[0].number_format == "@"
    assert first[3].value.date() == datetime.date(2026, 1, 31) and first[3].is_date
    assert first[4].value == when and first[4].is_date
    assert (first[5].value, first[5].data_type, first[5].quotePrefix) == ("-5", "s", True)
    assert (second[0].value, second[0].data_type, second[0].number_format) == ("-5", "s", "@")
    assert (second[1].value, second[1].data_type) == (-5, "n")
    # A control character XML cannot hold no longer stops the whole file.
    assert second[5].value == "abc\ufffddef"
    assert third[0].value is None and third[0].number_format == "@"
    assert third[5].value is True
