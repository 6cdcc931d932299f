"""Importing families and persons: what lands, what is refused, what is reviewed."""

import datetime
import shutil

import pytest
from openpyxl import load_workbook

from sinergi.core.errors import SinergiError
from sinergi.core.models import AuditLog
from sinergi.imports import services
from sinergi.imports.models import DONE, FAILED, REVIEW, ImportIssue, ProposedChange
from sinergi.registry.models import Household, Membership, Person

from .conftest import KAB

VILLAGE = "19.04.01.1002"
OTHER_KAB_VILLAGE = "18.06.01.2016"
HEADER = ("No KK,NIK,Nama,Jenis Kelamin,Tempat Lahir,Tanggal Lahir,Hubungan dalam Keluarga,"
          "Kode Wilayah,RT,RW,Desil,Penghasilan per Bulan")


def nik(prefix, day, month, year, sex, serial):
    return f"{prefix}{day + (40 if sex == 'P' else 0):02d}{month:02d}{year % 100:02d}{serial:04d}"


KK1 = "1904011203150001"
KK2 = "1904011203150002"
ANI = nik("190401", 14, 3, 1990, "P", 1)
BUDI = nik("190401", 2, 7, 1988, "L", 1)
CITRA = nik("190401", 5, 5, 2015, "P", 1)
DEDI = nik("190401", 9, 9, 1970, "L", 2)

GOOD_ROWS = [
    f"{KK1},{BUDI},Budi Santoso,L,Koba,02/07/1988,1,{VILLAGE},001,002,3,1500000",
    f"{KK1},{ANI},Ani Lestari,P,Koba,14/03/1990,3,{VILLAGE},001,002,3,800000",
    f"{KK1},{CITRA},Citra,P,Koba,05/05/2015,4,{VILLAGE},001,002,3,",
    f"{KK2},{DEDI},Dedi,L,Koba,09/09/1970,1,{VILLAGE},003,002,7,5000000",
]


def write_csv(tmp_path, rows, name="data.csv", header=HEADER, encoding="utf-8"):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding=encoding)
    return path


def run(path, *, actor=None, region="19", on_error="skip", fmt="auto", village="",
        complete=False):
    job = services.import_job_create(actor=actor, source=path, file_name=path.name,
                                     file_format=fmt, region_code=region, village_code=village,
                                     on_error=on_error, complete_list=complete)
    claimed = services.import_job_claim(job.pk)
    assert claimed is not None
    return services.import_job_run(claimed)


def test_a_clean_file_lands_whole_and_traceable(world, tmp_path):
    job = run(write_csv(tmp_path, GOOD_ROWS))
    assert job.status == DONE, job.message
    assert (job.rows_total, job.rows_accepted, job.rows_rejected) == (4, 4, 0)
    assert (job.persons_added, job.households_added) == (4, 2)
    ani = Person.objects.get(nik=ANI)
    assert (ani.name, ani.sex, ani.birth_date) == ("Ani Lestari", "P", datetime.date(1990, 3, 14))
    assert ani.household.kk_number == KK1 and ani.shdk == 3 and ani.village_code == VILLAGE
    assert ani.monthly_income == 800000 and ani.household.desil == 3
    assert (ani.import_job_id, ani.import_line) == (job.pk, 3)  # header is row 1
    # Stamped while the job ran (by the database itself on PostgreSQL, whose
    # clock may be another machine's: a little leeway).
    leeway = datetime.timedelta(seconds=5)
    assert job.started_at - leeway <= ani.created_at == ani.updated_at \
        <= job.finished_at + leeway
    assert not Membership.objects.filter(person=ani).exists()  # history starts at a change
    head = Household.objects.get(kk_number=KK1)
    assert (head.rt, head.rw) == ("001", "002")
    assert AuditLog.objects.filter(action="import.persons", object_id=str(job.pk)).exists()


def test_rows_with_errors_are_skipped_and_explained(world, tmp_path):
    rows = [*GOOD_ROWS,
            f"{KK2},190401090970002,Pendek,L,Koba,09/09/1970,4,{VILLAGE},003,002,7,",
            f"{KK2},{nik('190401', 1, 1, 2000, 'L', 3)},,L,Koba,01/01/2000,4,{VILLAGE},,,7,"]
    job = run(write_csv(tmp_path, rows))
    assert (job.rows_accepted, job.rows_rejected) == (4, 2)
    issues = {(i.line, i.column, i.code) for i in ImportIssue.objects.filter(job=job)}
    # Columns are named by the file's own headers.
    assert (6, "NIK", "nik_format") in issues
    assert (7, "Nama", "name_missing") in issues
    message = ImportIssue.objects.get(job=job, code="nik_format").message
    assert "16 digits" in message and "Text" in message
    assert Person.objects.filter(import_job=job).count() == 4


def test_block_mode_writes_nothing_when_any_row_fails(world, tmp_path):
    rows = [*GOOD_ROWS, f"{KK2},1904010909700000,Nol,L,Koba,09/09/1970,4,{VILLAGE},,,,"]
    before = Person.objects.count()
    job = run(write_csv(tmp_path, rows), on_error="block")
    assert job.status == FAILED and job.rows_rejected == 1 and job.rows_accepted == 0
    assert "Nothing was imported" in job.message
    assert Person.objects.count() == before
    assert ImportIssue.objects.filter(job=job, code="nik_serial").exists()


def test_the_same_nik_twice_in_a_file_keeps_the_first(world, tmp_path):
    rows = [*GOOD_ROWS, f"{KK2},{ANI},Ani Lagi,P,Koba,14/03/1990,4,{VILLAGE},,,,"]
    job = run(write_csv(tmp_path, rows))
    assert job.rows_rejected == 1
    assert Person.objects.get(nik=ANI).name == "Ani Lestari"
    assert ImportIssue.objects.get(job=job, code="nik_duplicate_in_file").line == 6


def test_a_sex_that_contradicts_the_nik_is_accepted_with_a_warning(world, tmp_path):
    rows = [f"{KK2},{DEDI},Dedi,P,Koba,09/09/1970,1,{VILLAGE},,,,"]
    job = run(write_csv(tmp_path, rows))
    assert (job.rows_accepted, job.rows_warned) == (1, 1)
    assert Person.objects.get(nik=DEDI).warnings == ["nik_sex_mismatch"]


def test_rows_outside_the_importers_region_are_refused(world, tmp_path):
    kk = "1806011203150001"
    rows = [f"{kk},{nik('180601', 1, 2, 1980, 'L', 1)},Orang Tanggamus,L,Kota Agung,"
            f"01/02/1980,1,{OTHER_KAB_VILLAGE},,,,"]
    job = run(write_csv(tmp_path, rows), actor=world["coordinator"], region=KAB)
    assert (job.rows_accepted, job.rows_rejected) == (0, 1)
    assert ImportIssue.objects.get(job=job).code == "village_out_of_scope"


def test_an_operator_cannot_import_into_another_region(world, tmp_path):
    with pytest.raises(SinergiError) as info:
        services.import_job_create(actor=world["operator"], source=write_csv(tmp_path, []),
                                   file_name="x.csv", region_code=KAB)
    assert info.value.field == "region"


def test_existing_persons_become_changes_to_review_then_apply(world, tmp_path):
    run(write_csv(tmp_path, GOOD_ROWS))
    budi = Person.objects.get(nik=BUDI)
    new_kk = "1904011203150009"
    update = [
        f"{KK1},{BUDI},Budi Santoso,L,Koba,02/07/1988,1,{VILLAGE},001,002,2,2500000",
        f"{new_kk},{ANI},Ani Lestari,P,Koba,14/03/1990,1,{VILLAGE},005,002,2,800000",
    ]
    job = run(write_csv(tmp_path, update, name="verivali.csv"), actor=world["admin"])
    assert job.status == REVIEW and job.changes_proposed == 2
    budi.refresh_from_db()
    assert budi.monthly_income == 1500000  # nothing changes before review
    change = ProposedChange.objects.get(job=job, person=budi)
    assert change.kind == "update"
    assert change.changes["monthly_income"] == [1500000, 2500000]
    assert change.changes["household.desil"] == [3, 2]
    assert ProposedChange.objects.get(job=job, person__nik=ANI).kind == "move"

    applied = services.import_job_apply(actor=world["admin"], job=job)
    assert applied == 2
    budi.refresh_from_db()
    assert budi.monthly_income == 2500000 and budi.household.desil == 2
    ani = Person.objects.get(nik=ANI)
    assert ani.household.kk_number == new_kk
    past = Membership.objects.get(person=ani)
    assert past.end_reason == "moved" and past.household.kk_number == KK1
    assert AuditLog.objects.filter(action="person.verivali.move", object_id=str(ani.pk)).exists()
    job.refresh_from_db()
    assert job.status == DONE and job.persons_updated == 2


def test_a_complete_list_proposes_the_absent_as_gone(world, tmp_path):
    run(write_csv(tmp_path, GOOD_ROWS))
    job = run(write_csv(tmp_path, GOOD_ROWS[:3], name="round2.csv"), region=VILLAGE,
              complete=True)
    absent = ProposedChange.objects.filter(job=job, kind="absent")
    assert [c.person.nik for c in absent] == [DEDI]
    rejected = {absent.get().id}
    assert services.import_job_apply(actor=world["admin"], job=job, reject_ids=rejected) == 0
    assert Person.objects.get(nik=DEDI).life_status == 1


def test_the_error_report_has_the_rows_to_fix_with_their_errors(world, tmp_path, client_of):
    rows = [*GOOD_ROWS, f"{KK2},190401090970002,Pendek,L,Koba,09/09/1970,4,{VILLAGE},,,,"]
    job = run(write_csv(tmp_path, rows), actor=world["coordinator"], region=KAB)
    response = client_of("coordinator").get(f"/imports/{job.pk}/report.xlsx")
    assert response.status_code == 200
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    ws = load_workbook(path).active
    values = list(ws.values)
    assert values[0][0] == "Row in file" and values[0][2] == "NIK"
    assert len(values) == 2 and values[1][0] == 6
    assert values[1][2] == "190401090970002" and "16 digits" in values[1][-1]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (HEADER.encode() + b"\n", "no data"),
        (b"Nama,Alamat\nBudi,Jl. Mawar\n", "required columns"),
    ],
)
def test_an_unusable_file_fails_clearly_and_changes_nothing(world, tmp_path, content,
                                                            fragment):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    before = Person.objects.count()
    job = run(path)
    assert job.status == FAILED
    assert fragment in job.message.lower() or fragment in job.message
    assert Person.objects.count() == before


def test_the_opensid_sample_export_imports_into_the_chosen_village(world, tmp_path):
    source = "/work/shared/fixtures/opensid/contoh_penduduk.xlsx"
    path = tmp_path / "contoh_penduduk.xlsx"
    shutil.copy(source, path)
    village = "52.01.14.2001"
    job = run(path, fmt="opensid", region="52", village=village)
    assert job.status == DONE, job.message
    assert job.rows_total == 97
    assert job.rows_accepted + job.rows_rejected == 97
    assert job.rows_accepted > 80
    landed = Person.objects.filter(import_job=job)
    assert landed.count() == job.rows_accepted
    assert set(landed.values_list("village_code", flat=True)) == {village}
    for issue in ImportIssue.objects.filter(job=job, severity="error"):
        assert issue.line >= 2 and issue.message


def test_the_opensid_template_imports_its_example_row(world, tmp_path):
    path = tmp_path / "FormatImporExcel.xlsx"
    shutil.copy("/work/shared/fixtures/opensid/FormatImporExcel.xlsx", path)
    job = run(path, fmt="opensid", region="52", village="52.01.14.2001")
    # One example row before "###"; its NIK 8788888888888456 is not a real
    # kecamatan, so it is explained, not imported.
    assert job.rows_total == 1
    assert job.rows_rejected == 1
    assert ImportIssue.objects.filter(job=job, code="nik_region").exists()


def test_a_probable_duplicate_under_another_nik_is_flagged(world, tmp_path):
    run(write_csv(tmp_path, GOOD_ROWS))
    twin = nik("190401", 2, 7, 1988, "L", 9)  # Budi again, other NIK
    rows = [f"{KK2},{twin},BUDI SANTOSO,L,Koba,02/07/1988,4,{VILLAGE},,,,"]
    job = run(write_csv(tmp_path, rows, name="twin.csv"))
    assert (job.rows_accepted, job.rows_warned) == (1, 1)
    assert Person.objects.get(nik=twin).warnings == ["probable_duplicate"]
    assert "registered twice" in ImportIssue.objects.get(job=job).message


def test_a_formula_in_a_column_that_is_not_imported_does_not_reject_the_row(world, tmp_path):
    rows = [f"{r},=HYPERLINK(\"http://x\")" for r in GOOD_ROWS[:1]]
    job = run(write_csv(tmp_path, rows, header=HEADER + ",Catatan"))
    assert (job.rows_accepted, job.rows_rejected) == (1, 0)
    assert "Catatan" in job.unknown_columns
    rows = [GOOD_ROWS[1].replace("Ani Lestari", "=HYPERLINK(\"http://x\")")]
    job = run(write_csv(tmp_path, rows, name="f2.csv"))
    assert job.rows_rejected == 1
    assert ImportIssue.objects.get(job=job).code == "formula"


def test_every_import_that_adds_rows_refreshes_planner_statistics(world, tmp_path):
    """A planner that believes a loaded table is empty picks plans that take
    minutes; even a small import leaves statistics behind."""
    from django.db import connection

    def analysed() -> bool:
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                # ANALYZE sets the row estimate, inside the test's transaction too.
                cur.execute("SELECT c.reltuples = (SELECT COUNT(*) FROM registry_person) "
                            "FROM pg_class c WHERE c.relname = 'registry_person'")
                return bool(cur.fetchone()[0])
            cur.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if not cur.fetchone()[0]:
                return False
            cur.execute("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'registry_person'")
            return cur.fetchone()[0] > 0

    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cur.fetchone()[0]:
                cur.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'registry_person'")
    assert not analysed() or connection.vendor == "postgresql"
    job = run(write_csv(tmp_path, GOOD_ROWS[:3]))
    assert job.persons_added == 3
    assert analysed()
