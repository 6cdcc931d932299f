"""Commitments to and from Excel: the template, the all-or-nothing import
with its problem list, CSV variants, whole-file problems and the export."""

import datetime
import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from sinergi.agencies.models import Agency
from sinergi.core.errors import AccessDenied, SinergiError
from sinergi.core.models import AuditLog
from sinergi.imports import readers
from sinergi.meetings import selectors, services, sheet, transfer
from sinergi.meetings.models import Commitment
from sinergi.regions.models import Region

from .conftest import KAB, agency

HEADERS = ["No", "Komitmen", "Agenda", "OPD penanggung jawab", "OPD pendukung",
           "Kode wilayah", "Tenggat", "Satuan", "Baseline", "Target"]


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    """Statuses depend on the date: "today" is fixed in these tests."""
    monkeypatch.setattr(timezone, "localdate",
                        lambda *args, **kwargs: datetime.date(2026, 11, 23))




def xlsx(rows, headers=HEADERS, *, name="komitmen.xlsx", sheet="Komitmen"):
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def run(world, meeting, upload, persona="coordinator"):
    return transfer.commitments_import(actor=world[persona], meeting=meeting, upload=upload)


def imports_audited() -> int:
    return AuditLog.objects.filter(action="commitment.import").count()


def test_template_downloads_and_reimports_its_example_row(world, meeting, client_of):
    response = client_of("coordinator").get("/meetings/commitments/template.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["Komitmen", "Petunjuk"]
    assert [c.value for c in wb["Komitmen"][1]] == HEADERS
    help_text = " ".join(str(c.value) for row in wb["Petunjuk"].iter_rows() for c in row
                         if c.value)
    for header in HEADERS + ["Wajib", "Tidak wajib", "HH/BB/TTTT", "1.500", "Owner agency"]:
        assert header.lower() in help_text.lower()

    result = run(world, meeting, SimpleUploadedFile("template-komitmen.xlsx", response.content))
    assert (result.problems, result.warnings, result.created) == ([], [], 1)
    c = Commitment.objects.get(meeting=meeting)
    assert (c.number, c.owner_agency, c.region_id, c.due_date, c.unit, c.baseline,
            c.target) == (1, agency("DP3ACSKB"), KAB, datetime.date(2026, 12, 31), "persen",
                          Decimal(85), Decimal(95))
    assert set(c.supporting_agencies.all()) == {agency("Dinsos"), agency("Dinkes")}
    log = AuditLog.objects.get(action="commitment.import")
    assert log.after == {"file": "template-komitmen.xlsx", "created": 1}
    assert log.object_id == str(meeting.pk)
    assert AuditLog.objects.filter(action="commitment.create").count() == 1


def test_a_valid_file_creates_numbered_commitments(world, meeting):
    coordinator = world["coordinator"]
    topic = services.agenda_add(actor=coordinator, meeting=meeting,
                                title="Perlindungan Anak")
    services.commitment_create(actor=coordinator, meeting=meeting,
                               text="Sudah ada", owner_agency=agency("Dinsos").pk)
    kecamatan = Region.objects.filter(code__startswith=KAB + ".", level=3).order_by(
        "code").first().code
    upload = xlsx([
        [7, "Komitmen A", "  perlindungan ANAK ", "dp3acskb", "Dinsos, DPPKB;Dinsos", kecamatan,
         datetime.date(2026, 6, 30), "anak", 1200, "1.234.567"],
        [None] * 10,  # blank rows are skipped
        [None, "Komitmen B", None, "Bappeda (19)", None, None, "31/12/2026", None, "12,5",
         "1.234,5"],
        [None, "Komitmen C", None, "DPPKB", "dp3acskb", "", "2027-01-15", "%", 0.1,
         "1,234.5"],
    ])
    result = run(world, meeting, upload)
    assert (result.problems, result.warnings, result.created) == ([], [], 3)
    a, b, c = Commitment.objects.filter(meeting=meeting, number__gt=1).order_by("number")
    assert [x.number for x in (a, b, c)] == [2, 3, 4]
    assert [x.pk for x in result.commitments] == [a.pk, b.pk, c.pk]

    assert (a.text, a.agenda_item, a.owner_agency, a.region_id, a.due_date, a.unit,
            a.baseline, a.target) == ("Komitmen A", topic, agency("DP3ACSKB"), kecamatan,
                                      datetime.date(2026, 6, 30), "anak", Decimal(1200),
                                      Decimal(1234567))
    assert set(a.supporting_agencies.all()) == {agency("Dinsos"), agency("DPPKB")}
    assert a.created_by == coordinator

    assert (b.owner_agency, b.region_id, b.due_date, b.baseline, b.target) == (
        agency("Bappeda", "19"), KAB, datetime.date(2026, 12, 31), Decimal("12.5"),
        Decimal("1234.5"))
    assert not b.supporting_agencies.exists() and b.agenda_item is None

    assert (c.owner_agency, c.due_date, c.unit, c.baseline, c.target) == (
        agency("DPPKB"), datetime.date(2027, 1, 15), "%", Decimal("0.1"), Decimal("1234.5"))
    assert list(c.supporting_agencies.all()) == [agency("DP3ACSKB")]

    assert AuditLog.objects.get(action="commitment.import").after == {
        "file": "komitmen.xlsx", "created": 3}
    assert AuditLog.objects.filter(action="commitment.create").count() == 4


def test_english_headers_in_any_order_and_unknown_columns_warn(world, meeting):
    upload = xlsx([["DINSOS", "Data terpadu kesejahteraan", "2026-11-30", "x", "10"]],
                  headers=["  owner AGENCY ", "Commitment", "Due date", "Catatan", "target"])
    result = run(world, meeting, upload)
    assert result.ok and result.created == 1
    assert len(result.warnings) == 1 and "Catatan" in result.warnings[0]
    c = Commitment.objects.get(meeting=meeting)
    assert (c.owner_agency, c.due_date, c.target) == (
        agency("Dinsos"), datetime.date(2026, 11, 30), Decimal(10))


def test_a_title_above_the_table_is_skipped(world, meeting):
    wb = Workbook()
    ws = wb.active
    ws.append(["Komitmen bersama Rakor Bangka Tengah"])
    ws.append([])
    ws.append(["Komitmen", "OPD penanggung jawab", "Target"])
    ws.append(["Satu", "Dinsos", "1.5.5"])  # row 4 as Excel shows it
    out = io.BytesIO()
    wb.save(out)
    result = run(world, meeting, SimpleUploadedFile("k.xlsx", out.getvalue()))
    assert [(p.row, p.column, p.value) for p in result.problems] == [(4, "Target", "1.5.5")]


def test_bad_rows_are_each_reported_and_nothing_is_created(world, meeting):
    ok = [None, "Komitmen baik", None, "DP3ACSKB", None, None, "31/12/2026", None, 1, 2]
    upload = xlsx([
        ok,                                                                      # row 2
        [None, "Agensi salah", None, "DINASX", None, None, None, None, None, None],
        [None, "Tanggal salah", None, "Dinsos", None, None, "31/13/2026", None, None, None],
        [None, None, None, "Dinsos", None, None, None, None, None, 5],           # row 5
        [None, "Di luar wilayah", None, "Dinsos", None, "19", None, None, None, None],
        [None, "Target teks", None, "Dinsos", None, None, None, None, None, "banyak"],
        [None, "Ambigu", None, "Dinsos", "Dinsos; Entah", None, None, None, "1.500", None],
        [None, "Rumus", None, "Dinsos", None, None, None, None, None, "=1+1"],    # row 9
        [None, "Satuan panjang", None, "Dinsos", None, None, None, "x" * 61, None, None],
        [None, "Wilayah lain", None, "Dinsos", None, "18.06", None, None, None, None],
        ok,                                                                      # row 12
    ])
    result = run(world, meeting, upload)
    assert result.created == 0 and result.commitments == []
    found = {(p.row, p.column, p.value): p.message for p in result.problems}
    assert sorted(found) == [
        (3, "OPD penanggung jawab", "DINASX"),
        (4, "Tenggat", "31/13/2026"),
        (5, "Komitmen", ""),
        (6, "Kode wilayah", "19"),
        (7, "Target", "banyak"),
        (8, "Baseline", "1.500"),
        (8, "OPD pendukung", "Entah"),
        (9, "Target", "=1+1"),
        (10, "Satuan", "x" * 61),
        (11, "Kode wilayah", "18.06"),
    ]
    assert "not among the agencies you can see" in found[(3, "OPD penanggung jawab", "DINASX")]
    assert "DP3ACSKB" in found[(3, "OPD penanggung jawab", "DINASX")]  # what there is
    assert "not a date" in found[(4, "Tenggat", "31/13/2026")]
    assert "commitment text is empty" in found[(5, "Komitmen", "")]
    assert "outside the meeting's region" in found[(6, "Kode wilayah", "19")]
    assert "not a number" in found[(7, "Target", "banyak")]
    assert "ambiguous" in found[(8, "Baseline", "1.500")]
    assert "formula" in found[(9, "Target", "=1+1")]
    assert "At most 60 characters" in found[(10, "Satuan", "x" * 61)]  # from the service
    assert "not in your scope" in found[(11, "Kode wilayah", "18.06")]
    # In the order of the file: by row, then by column.
    assert [(p.row, p.column) for p in result.problems][5:7] == [
        (8, "OPD pendukung"), (8, "Baseline")]
    assert json.loads(json.dumps(result.as_dict()))["problems"][0] == {
        "row": 3, "column": "OPD penanggung jawab", "value": "DINASX",
        "message": found[(3, "OPD penanggung jawab", "DINASX")]}
    assert not Commitment.objects.exists()
    assert imports_audited() == 0
    assert not AuditLog.objects.filter(action="commitment.create").exists()


def test_the_import_page_lists_problems_and_saves_nothing(world, meeting, client_of):
    client = client_of("coordinator")
    url = f"/meetings/{meeting.pk}/commitments/import/"
    bad = xlsx([[None, "Satu", None, "Tidakada", None, None, None, None, None, None]])
    response = client.post(url, {"file": bad})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Tidakada" in page and "OPD penanggung jawab" in page
    assert not Commitment.objects.exists()
    good = xlsx([[None, "Satu", None, "Dinsos", None, None, None, None, None, None]])
    response = client.post(url, {"file": good})
    assert response.status_code == 302 and Commitment.objects.count() == 1


def test_csv_with_semicolons_in_windows_1252(world, meeting):
    text = ("Komitmen;OPD penanggung jawab;OPD pendukung;Tenggat;Baseline;Target\r\n"
            "Layanan terpadu – anak & café;DP3ACSKB;Dinsos;31/12/2026;1.234.567;1.234,5\r\n"
            ";;;;;\r\n"
            "Kedua;Dinsos;;2026-10-01;;12,5\r\n")
    upload = SimpleUploadedFile("komitmen.csv", text.encode("cp1252"))
    result = run(world, meeting, upload)
    assert result.ok and result.created == 2
    first, second = Commitment.objects.filter(meeting=meeting).order_by("number")
    assert first.text == "Layanan terpadu – anak & café"
    assert (first.baseline, first.target, first.due_date) == (
        Decimal(1234567), Decimal("1234.5"), datetime.date(2026, 12, 31))
    assert list(first.supporting_agencies.all()) == [agency("Dinsos")]
    assert (second.owner_agency, second.target) == (agency("Dinsos"), Decimal("12.5"))


def test_csv_utf8_bom_with_commas_counts_rows_as_excel_does(world, meeting):
    text = ('Commitment,Owner agency,Target\n'
            '"Baris dua,\nyang panjang",DP3ACSKB,10\n'
            'Baris tiga,Dinsos,"=SUM(A1:A2)"\n'
            'Baris empat,Nope,5\n')
    upload = SimpleUploadedFile("k.csv", b"\xef\xbb\xbf" + text.encode())
    result = run(world, meeting, upload)
    assert [(p.row, p.column, p.value) for p in result.problems] == [
        (3, "Target", "=SUM(A1:A2)"), (4, "Owner agency", "Nope")]
    assert not Commitment.objects.exists()


def _zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def _too_many_rows() -> bytes:
    lines = ["Komitmen;OPD penanggung jawab"] + [f"K{i};Dinsos" for i in range(501)]
    return "\n".join(lines).encode()


@pytest.mark.parametrize(("content", "expected"), [
    (b"", "is empty"),
    (b" \r\n;;\r\n", "is empty"),
    ("header", "header row but no commitments"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not a CSV text file or an Excel workbook"),
    (_zip_bytes(), "cannot be opened"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "old Excel 97-2003"),
    ("duplicate", "both mean 'Komitmen'"),
    ("missing", "Required columns are missing: OPD penanggung jawab"),
    (_too_many_rows(), "at most 500 can be imported"),
])
def test_whole_file_problems_change_nothing(world, meeting, content, expected):
    if content == "header":
        upload = xlsx([])
    elif content == "duplicate":
        upload = xlsx([["Satu", "Dua", "Dinsos"]],
                      headers=["Komitmen", "Commitment", "OPD penanggung jawab"])
    elif content == "missing":
        upload = xlsx([["Satu", "Dinsos"]], headers=["Komitmen", "OPD"])
    else:
        upload = SimpleUploadedFile("data.xlsx", content)
    result = run(world, meeting, upload)
    assert len(result.problems) == 1, result.problems
    assert expected in result.problems[0].message
    assert result.created == 0
    assert not Commitment.objects.exists() and imports_audited() == 0


def test_only_coordinators_of_the_meeting_import(world, meeting):
    upload = xlsx([[None, "Satu", None, "Dinsos", None, None, None, None, None, None]])
    for persona in ("officer", "leader", "outsider"):
        with pytest.raises(AccessDenied):
            run(world, meeting, upload, persona)
    assert not Commitment.objects.exists()


def test_agencies_of_the_meeting_region_come_first_then_the_named_one(world):
    admin = world["admin"]
    province = services.meeting_create(actor=admin,
        kind="rakor", title="Rakor provinsi", starts_on="2026-03-01", region="19")
    for code in ("19.01", "19.02"):
        Agency.objects.create(name="Satuan Polisi Pamong Praja", short_name="Satpol PP",
                              level="kabupaten", region_id=code, sector="other")
    upload = xlsx([["Satu", "dp3acskb", ""], ["Dua", "Satpol PP", ""],
                   ["Tiga", "Satpol PP (19.02)", "DP3ACSKB (19.04)"]],
                  headers=["Komitmen", "OPD penanggung jawab", "OPD pendukung"])
    result = run(world, province, upload, "admin")
    assert [(p.row, p.value) for p in result.problems] == [(3, "Satpol PP")]
    assert "Satpol PP (19.01), Satpol PP (19.02)" in result.problems[0].message
    upload = xlsx([["Satu", "dp3acskb", ""], ["Tiga", "Satpol PP (19.02)", "DP3ACSKB (19.04)"]],
                  headers=["Komitmen", "OPD penanggung jawab", "OPD pendukung"])
    result = run(world, province, upload, "admin")
    assert result.ok, result.problems
    one, three = Commitment.objects.filter(meeting=province).order_by("number")
    assert one.owner_agency == agency("DP3ACSKB", "19")
    assert three.owner_agency.region_id == "19.02"
    assert list(three.supporting_agencies.all()) == [agency("DP3ACSKB")]


@pytest.mark.parametrize(("value", "expected"), [
    ("1500", "1500"), ("12,5", "12.5"), ("12.5", "12.5"), ("-3", "-3"), ("0,250", "0.25"),
    ("1.234.567", "1234567"), ("1,234,567", "1234567"), ("1.234,5", "1234.5"),
    ("1,234.5", "1234.5"), ("1 500", "1500"), (1200, "1200"), (0.1, "0.1"), ("", None),
    (None, None),
])
def test_numbers_follow_one_documented_rule(value, expected):
    number = readers.number(value, "target")
    assert number == (Decimal(expected) if expected is not None else None)


@pytest.mark.parametrize(("value", "message"), [
    ("1.500", "ambiguous"), ("2,250", "ambiguous"), ("1.23.4", "read safely"),
    ("12,34,56", "read safely"), ("1.234,5,6", "read safely"), ("75%", "without %"),
    ("sepuluh", "not a number"), ("1,", "read safely"),
])
def test_numbers_that_could_be_misread_are_refused(value, message):
    with pytest.raises(SinergiError) as caught:
        readers.number(value, "target")
    assert message in caught.value.message and caught.value.field == "target"


def test_export_contains_the_commitments_and_their_statuses(world, meeting, client_of):
    coordinator = world["coordinator"]
    done = services.commitment_create(actor=coordinator, meeting=meeting,
                                      text="=Selesai", owner_agency=agency("DP3ACSKB").pk,
                                      supporting_agencies=[agency("Dinsos").pk, agency("DPPKB").pk],
                                      baseline="0", target="10", unit="desa", due_date="2030-12-31")
    services.progress_report(actor=coordinator, commitment=done,
                             value="10", narrative="tercapai")
    late = services.commitment_create(actor=coordinator, meeting=meeting,
        text="Terlambat", owner_agency=agency("Dinsos").pk, due_date="2026-01-31")
    rows, _truncated = selectors.board(user=coordinator, meeting=meeting.pk)
    response = sheet.commitments_xlsx(rows, "komitmen.xlsx")
    assert 'filename="komitmen.xlsx"' in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    table = [[c.value for c in row] for row in ws.iter_rows()]
    assert table[0] == ["Meeting", "No.", "Commitment", "Owner agency", "Supporting agencies",
                        "Region code", "Region", "Due date", "Unit", "Baseline", "Target",
                        "Current value", "Value as of", "Progress source", "Status",
                        "Percent"]
    by_number = {row[1]: row for row in table[1:]}
    assert set(by_number) == {done.number, late.number}
    d = by_number[done.number]
    assert d[0] == str(meeting) and d[2] == "=Selesai"  # as typed, never a live formula
    assert ws.cell(row=table.index(d) + 1, column=3).data_type == "s"
    assert d[3:6] == ["DP3ACSKB", "Dinsos, DPPKB", KAB]
    assert d[7].date() == datetime.date(2030, 12, 31) and d[8] == "desa"
    assert (d[9], d[10], d[11], d[13], d[14], d[15]) == (0, 10, 10, "Manual updates", "done",
                                                         100)
    lt = by_number[late.number]
    assert (lt[3], lt[4], lt[14], lt[15]) == ("Dinsos", None, "late", None)

    page = client_of("coordinator").get(f"/meetings/commitments/export.xlsx?meeting={meeting.pk}")
    assert page.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(page.streaming_content))).active
    assert ws.max_row == 3
