"""Every Excel export carries what its page shows, under the page's filters,
and nothing from outside the user's scope.

The exports are walked from the URL conf with test_excel_safety's
``excel_urls`` (names ending in "export", routes with ".xlsx"; its WRITERS
map every function that builds a workbook to the URLs that send it), so an
export added later fails here until it has a producer below. The data lies
in two regions: the coordinator's kabupaten 19.04 (the operator's village
and a village of another kecamatan) and Tanggamus 18.06, whose names and
addresses all say OUTSIDER and whose NIK and KK numbers start with 1806. Every
field an export writes is filled somewhere, including those that may
legitimately stay empty (an end date, a reason, supporting agencies), so a
column without a single value is a column the export forgot to fill.
"""

import datetime
import html
import io
import re
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sinergi.groups.models import Group
from sinergi.imports import services as import_services
from sinergi.meetings import services as meeting_services
from sinergi.meetings import sheet
from sinergi.programs.models import Enrollment, Program
from sinergi.regions.models import Region
from sinergi.registry.models import Household, Person

from .conftest import KAB, OUTSIDE_KAB, agency
from .test_excel_safety import PRODUCERS as SAFETY_PRODUCERS
from .test_excel_safety import (
    WRITERS,
    content_of,
    excel_urls,
    indicator_values,
    monitoring_rounds,
)
from .test_registry_import import HEADER

TODAY = timezone.localdate()
YEAR = TODAY.year
FOREIGN = "OUTSIDER"  # in every name, address and title of 18.06
NO_PROGRAM = "no program (desil 1–4)"  # the unserved page's words for "served by none"


# --- reading a workbook -----------------------------------------------------------------------


def blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class Table:
    """One sheet: its header and the rows that hold anything."""

    name: str
    header: list
    rows: list[tuple]

    def column(self, title: str) -> list:
        index = self.header.index(title)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict]:
        return [dict(zip(self.header, row, strict=False)) for row in self.rows]

    def empty_columns(self) -> list:
        return [title for i, title in enumerate(self.header)
                if all(blank(row[i] if i < len(row) else None) for row in self.rows)]


def table(content: bytes, name: str, sheet_index: int = 0) -> Table:
    ws = load_workbook(io.BytesIO(content), read_only=True).worksheets[sheet_index]
    header, *rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
    return Table(name, list(header), [r for r in rows if not all(blank(v) for v in r)])


def download(client, url: str, params=None, name: str = "") -> Table:
    return table(content_of(client.get(url, params or {})), name or url)


def export_link(page_html: str, path: str) -> str:
    """The href of the page's link to ``path`` (query string included)."""
    found = re.findall(rf'href="({re.escape(path)}[^"]*)"', page_html)
    assert len(found) == 1, f"one link to {path} expected, found {found}"
    return html.unescape(found[0])


def foreign(value) -> bool:
    """A value that belongs to 18.06: its names, codes, NIK and KK numbers."""
    text = str(value or "")
    return FOREIGN in text.upper() or text.startswith(("18.", "1806"))


# --- the data ---------------------------------------------------------------------------------


def first_village(prefix: str, *, exclude: str = "") -> str:
    qs = Region.objects.filter(level=4, code__startswith=prefix + ".")
    if exclude:
        qs = qs.exclude(code__startswith=exclude + ".")
    return qs.order_by("code").first().code


def family(village: str, n: int, desil: int) -> Household:
    """A family of two (head and spouse) with every registry field filled."""
    outside = village.startswith(OUTSIDE_KAB)
    tag, prefix = ("OUTSIDER ", "1806") if outside else ("", "1904")
    hh = Household.objects.create(
        kk_number=f"{prefix}{n:012d}", village_code=village, desil=desil, rt="001",
        rw="002", dusun=f"{tag}Dusun {n}", address=f"{tag}Jl. Melati {n}")
    for i, (sex, shdk, year) in enumerate((("L", 1, 1980), ("P", 3, 1984))):
        Person.objects.create(
            nik=f"{prefix}0{n:05d}{i:06d}", name=f"{tag}Warga {n}-{i}", sex=sex,
            household=hh, shdk=shdk, village_code=village, birth_place=f"{tag}Koba",
            birth_date=datetime.date(year, 3, 1 + n), monthly_income=1_000_000 + n)
    return hh


def head(hh: Household) -> Person:
    return hh.members.get(shdk=1)


def enroll(program: Program, status: str = "active", **fields) -> Enrollment:
    beneficiary = fields.get("person") or fields.get("group") or fields.get("household")
    if "person" in fields:
        fields["household"] = fields["person"].household
    start = datetime.date(YEAR, 1, 15) if status != "proposed" else None
    end = datetime.date(YEAR, 6, 30) if status in ("completed", "exited") else None
    reason = {"exited": "pindah domisili", "completed": "masa bantuan selesai",
              "rejected": "data ganda"}.get(status, "")
    return Enrollment.objects.create(
        program=program, year=YEAR, village_code=beneficiary.village_code, status=status,
        status_reason=reason, benefit_value=250_000, start_date=start, end_date=end, **fields)


@pytest.fixture
def data(world):
    """Families, programs, enrollments and groups in 19.04 (two villages) and
    18.06, and a commitment board in each."""
    own = world["operator"].region_id
    other = first_village(KAB, exclude=own[:8])
    outside = first_village(OUTSIDE_KAB)
    f = {1: family(own, 1, 2), 2: family(own, 2, 3), 3: family(own, 3, 2),
         4: family(other, 4, 1), 5: family(other, 5, 3),
         6: family(outside, 6, 2), 7: family(outside, 7, 3), 8: family(outside, 8, 1)}
    dinsos = agency("Dinsos")
    pkh = Program.objects.create(owner_agency=dinsos, code="PKH-X", name="Keluarga harapan",
                                 year_start=YEAR - 1, unit="household", benefit_type="cash",
                                 benefit_value=600_000, rule="desil <= 3")
    sembako = Program.objects.create(owner_agency=dinsos, code="SEMBAKO-P", name="Sembako",
                                     year_start=YEAR - 1, unit="person", benefit_type="in_kind",
                                     rule="")
    kube = Program.objects.create(owner_agency=dinsos, code="KUBE-G", name="Usaha bersama",
                                  year_start=YEAR - 1, unit="group", benefit_type="credit")
    enroll(pkh, "active", household=f[1])
    enroll(pkh, "exited", household=f[2])
    enroll(pkh, "proposed", household=f[4])
    enroll(pkh, "active", household=f[6])  # 18.06: never in a 19.04 file
    enroll(sembako, "active", person=head(f[3]))
    enroll(sembako, "completed", person=f[5].members.get(shdk=3))
    enroll(sembako, "active", person=head(f[7]))
    groups = {}
    for n, village in ((1, own), (2, other), (3, outside)):
        tag = "OUTSIDER " if village == outside else ""
        groups[n] = Group.objects.create(code=f"{'OUTSIDER-' if tag else ''}KUBE-{n:02d}",
                                         name=f"{tag}KUBE Mawar {n}", kind_id="IR",
                                         village_code=village)
    enroll(kube, "completed", group=groups[1])
    enroll(kube, "rejected", group=groups[2])
    enroll(kube, "active", group=groups[3])
    return {"own": own, "other": other, "outside": outside, "families": f, "groups": groups,
            "pkh": pkh, "sembako": sembako, "kube": kube}


@pytest.fixture
def boards(world):
    """Commitments of a rakor of 19.04 with every column filled (supporting
    agencies, region, due date, unit, baseline, target, a reported value),
    one late, and a rakor of 18.06."""
    coordinator = world["coordinator"]
    meeting = meeting_services.meeting_create(actor=coordinator, kind="rakor",
                                              title="Rakor Bangka Tengah",
                                              starts_on=TODAY - datetime.timedelta(days=60),
                                              region=KAB)
    kec = world["operator"].region_id[:8]
    on_track = meeting_services.commitment_create(
        actor=coordinator, meeting=meeting, text="Akta kelahiran anak",
        owner_agency=agency("DP3ACSKB").pk,
        supporting_agencies=[agency("Dinsos").pk, agency("DPPKB").pk], region=kec,
        due_date=TODAY + datetime.timedelta(days=200), unit="desa", baseline="0",
        target="10")
    meeting_services.progress_report(actor=coordinator, commitment=on_track, value="4",
                                     narrative="empat desa")
    late = meeting_services.commitment_create(
        actor=coordinator, meeting=meeting, text="Data PKH diperbarui",
        owner_agency=agency("Dinsos").pk, supporting_agencies=[agency("DPPKB").pk],
        due_date=TODAY - datetime.timedelta(days=10), unit="persen", baseline="20",
        target="100")
    meeting_services.progress_report(actor=coordinator, commitment=late, value="50",
                                     narrative="separuh")
    outsider = world["outsider"]
    away = meeting_services.meeting_create(actor=outsider, kind="rakor", title="OUTSIDER Rakor",
                                           starts_on=TODAY, region=OUTSIDE_KAB)
    meeting_services.commitment_create(
        actor=outsider, meeting=away, text="OUTSIDER komitmen",
        owner_agency=agency("Dinsos", OUTSIDE_KAB).pk, unit="desa", target="3")
    return {"meeting": meeting, "on_track": on_track, "late": late}


# --- producers: one per Excel URL; each downloads as the coordinator of 19.04 ----------------


def registry_export(ctx):
    return [download(ctx.client, reverse("registry:export"), name="registry")]


def registry_export_file(ctx):
    from .test_excel_safety import background_export

    url = background_export(ctx.world["coordinator"])
    return [download(ctx.client, url, name="registry (background)")]


def enrollment_export(ctx):
    d = ctx.data
    return [download(ctx.client, reverse("programs:export", args=[d[key].pk]), {"year": YEAR},
                     name=key) for key in ("pkh", "sembako", "kube")]


def unserved_export(ctx):
    url = reverse("convergence:unserved_export")
    return [download(ctx.client, url, {"region": KAB, "year": YEAR}, name="all programs"),
            download(ctx.client, url, {"region": KAB, "year": YEAR,
                                       "program": ctx.data["pkh"].pk}, name="PKH-X")]


def board_export(ctx):
    return [download(ctx.client, reverse("meetings:board_export"), name="board")]


def commitment_template(ctx):
    # The example leaves the optional agenda and region empty: give them one.
    ctx.monkeypatch.setattr(sheet, "EXAMPLE", {**sheet.EXAMPLE, "agenda": "Akta",
                                               "region": "19.04"})
    return [download(ctx.client, reverse("meetings:commitment_template"), name="template")]


def import_template(ctx):
    return [download(ctx.client, reverse("imports:template"), name="template")]


def import_report(ctx):
    """A file whose rows are refused (a NIK of 3 digits), every cell filled."""
    rows = [f"1904011203159{n:03d},123,Warga Tolak {n},L,Koba,0{n}/07/1988,1,{ctx.data['own']},"
            f"001,002,3,150000{n}" for n in (1, 2)]
    path = ctx.tmp_path / "tolak.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    job = import_services.import_job_create(actor=ctx.world["coordinator"], source=path,
                                            file_name=path.name, region_code=KAB,
                                            on_error="skip")
    import_services.import_job_run(import_services.import_job_claim(job.pk))
    return [download(ctx.client, reverse("imports:report", args=[job.pk]), name="report")]


def indicator_catalogue_export(ctx):
    return [download(ctx.client, reverse("indicators:catalogue_export"), name="catalogue")]


def indicator_detail_export(ctx):
    indicator_values()
    return [download(ctx.client, reverse("indicators:detail_export", args=["P0"]),
                     {"region": KAB, "period": "2025"}, name="P0 by kecamatan")]


def indicator_region_export(ctx):
    indicator_values()
    return [download(ctx.client, reverse("indicators:region_export", args=[KAB]),
                     name="panel")]


def indicator_quality_export(ctx):
    indicator_values()
    return [download(ctx.client, reverse("indicators:quality_export"), name="quality")]


def indicator_bps_export(ctx):
    indicator_values()
    return [download(ctx.client, reverse("indicators:export", args=["P0"]), {"region": KAB},
                     name="BPS layout")]


def _income_rounds(ctx) -> list:
    """Three income rounds of 19.04 with every field of a record filled for
    the families of 19.04, and a record of an 18.06 family slipped into the
    same round (never in a 19.04 file)."""
    from sinergi.monitoring.models import IncomeRecord

    rounds = monitoring_rounds()
    for n, rnd in enumerate(rounds):
        for key, hh in ctx.data["families"].items():
            IncomeRecord.objects.create(
                round=rnd, household=hh, village_code=hh.village_code, wages=1_000_000 + key,
                business=100_000, farming=200_000, transfers=50_000, other=10_000 + n,
                total=1_360_000 + key + n, expenditure=900_000, assets=5_000_000,
                enumerator=f"{FOREIGN} kader" if hh.village_code == ctx.data["outside"]
                else "Kader Melati", recorded_on=datetime.date(2024 + n, 4, 1),
                flags="outlier" if key == 1 else "")
    return rounds


def monitoring_template(ctx):
    rnd = monitoring_rounds()[0]
    return [download(ctx.client, reverse("monitoring:template", args=[rnd.pk]),
                     name="template")]


def monitoring_round_export(ctx):
    rnd = _income_rounds(ctx)[0]
    t = download(ctx.client, reverse("monitoring:round_export", args=[rnd.pk]), name="round")
    kk = {hh.kk_number for key, hh in ctx.data["families"].items() if key <= 5}
    assert set(t.column("No KK")) == kk
    return [t]


def monitoring_impact_export(ctx):
    from sinergi.groups.models import GroupMember

    rounds = _income_rounds(ctx)
    group = ctx.data["groups"][1]
    GroupMember.objects.create(group=group, person=head(ctx.data["families"][1]),
                               joined_on=rounds[1].ends_on + datetime.timedelta(days=5))
    return [download(ctx.client, reverse("monitoring:impact_export"), {
        "kind": "IR", "region": KAB, "baseline": rounds[1].pk, "followup": rounds[2].pk},
        name="impact inputs")]


# URL name -> producer: for every Excel URL the hostile-input test produces,
# the function of this module with the same name produces it with real data.
PRODUCERS = {url: globals()[producer.__name__] for url, producer in SAFETY_PRODUCERS.items()}


def test_every_excel_url_has_a_producer():
    assert excel_urls() == set(PRODUCERS), (
        "an Excel URL was added or renamed: add a producer for it to PRODUCERS")
    assert {url for urls in WRITERS.values() for url in urls} <= set(PRODUCERS)


@pytest.mark.parametrize("url_name", sorted(PRODUCERS))
def test_no_export_column_is_empty_and_nothing_comes_from_outside_the_scope(
        url_name, world, data, boards, client_of, monkeypatch, tmp_path):
    tables = PRODUCERS[url_name](SimpleNamespace(
        world=world, data=data, client=client_of("coordinator"), monkeypatch=monkeypatch,
        tmp_path=tmp_path))
    for t in tables:
        assert t.rows, f"{url_name} ({t.name}): no rows"
        assert not t.empty_columns(), (
            f"{url_name} ({t.name}): columns without a single value: {t.empty_columns()}")
        outside = [v for row in t.rows for v in row if foreign(v)]
        assert not outside, f"{url_name} ({t.name}): values of 18.06 in a 19.04 file: {outside}"


# --- what each export holds -------------------------------------------------------------------


def test_household_enrollments_carry_the_head_and_group_ones_the_group(world, data, client_of):
    client = client_of("coordinator")
    f, own = data["families"], data["own"]
    own_name = Region.objects.get(code=own).name
    pkh = download(client, reverse("programs:export", args=[data["pkh"].pk]), {"year": YEAR})
    assert pkh.header[:5] == ["Village code", "Village", "NIK", "Head of family", "KK number"]
    by_kk = {r["KK number"]: r for r in pkh.records()}
    assert set(by_kk) == {f[1].kk_number, f[2].kk_number, f[4].kk_number}
    first = by_kk[f[1].kk_number]
    assert (first["Village code"], first["Village"], first["NIK"], first["Head of family"]) == (
        own, own_name, head(f[1]).nik, head(f[1]).name)
    assert first["Status"] == "active (aktif)" and first["Benefit value (Rp)"] == 250_000
    exited = by_kk[f[2].kk_number]
    assert exited["Reason"] == "pindah domisili"
    assert exited["End"].date() == datetime.date(YEAR, 6, 30)

    person = download(client, reverse("programs:export", args=[data["sembako"].pk]),
                      {"year": YEAR})
    assert person.header[:5] == ["Village code", "Village", "NIK", "Name", "KK number"]
    spouse = f[5].members.get(shdk=3)
    assert {(r["NIK"], r["Name"], r["KK number"]) for r in person.records()} == {
        (head(f[3]).nik, head(f[3]).name, f[3].kk_number),
        (spouse.nik, spouse.name, f[5].kk_number)}

    group = download(client, reverse("programs:export", args=[data["kube"].pk]), {"year": YEAR})
    assert group.header[:4] == ["Village code", "Village", "Group code", "Name"]
    assert {(r["Group code"], r["Name"], r["Village"]) for r in group.records()} == {
        (g.code, g.name, Region.objects.get(code=g.village_code).name)
        for g in (data["groups"][1], data["groups"][2])}


def test_the_unserved_export_says_what_the_page_says(world, data, client_of):
    client = client_of("coordinator")
    f = data["families"]
    page = client.get(reverse("convergence:unserved"), {"region": KAB, "year": YEAR})
    text = page.content.decode()
    assert NO_PROGRAM in text
    everyone = download(client, export_link(text, reverse("convergence:unserved_export")))
    assert everyone.header == ["Village code", "Village", "KK number", "Head of family",
                               "Address", "Desil", "Eligible but not served by"]
    records = {r["KK number"]: r for r in everyone.records()}
    # Desil 1-4 served by no program: the exited and the proposed family.
    assert set(records) == {f[2].kk_number, f[4].kk_number}
    assert {r["Eligible but not served by"] for r in records.values()} == {NO_PROGRAM}
    second = records[f[2].kk_number]
    assert (second["Village"], second["Head of family"], second["Address"], second["Desil"]) \
        == (Region.objects.get(code=data["own"]).name, head(f[2]).name, f[2].address, 3)
    assert Region.objects.get(code=data["own"]).name in text  # the page names villages too

    chosen = client.get(reverse("convergence:unserved"), {"region": KAB, "year": YEAR,
                                                           "program": data["pkh"].pk})
    missing = download(client, export_link(chosen.content.decode(),
                                            reverse("convergence:unserved_export")))
    assert {r["KK number"]: r["Eligible but not served by"] for r in missing.records()} == {
        f[n].kk_number: "PKH-X" for n in (2, 3, 4, 5)}


# --- a filtered page exports the filtered rows ------------------------------------------------


def test_the_program_page_exports_its_year_and_status(world, data, client_of):
    client = client_of("coordinator")
    f, pkh = data["families"], data["pkh"]
    url = reverse("programs:detail", args=[pkh.pk])
    export_path = reverse("programs:export", args=[pkh.pk])
    page = client.get(url, {"year": YEAR, "status": "active"}).content.decode()
    link = export_link(page, export_path)
    assert "status=active" in link and f"year={YEAR}" in link
    active = download(client, link)
    assert active.column("KK number") == [f[1].kk_number]  # not the exited, not 18.06's
    assert set(active.column("Status")) == {"active (aktif)"}
    unfiltered = download(client, export_link(client.get(url, {"year": YEAR}).content.decode(),
                                              export_path))
    assert sorted(unfiltered.column("KK number")) == sorted(
        f[n].kk_number for n in (1, 2, 4))
    # The year travels too: nothing was enrolled last year.
    last_year = client.get(url, {"year": YEAR - 1, "status": "active"}).content.decode()
    assert download(client, export_link(last_year, export_path)).rows == []


def test_the_registry_search_exports_its_region_and_query(world, data, client_of):
    client = client_of("coordinator")
    f = data["families"]
    export_path = reverse("registry:export")
    # The whole page, and the htmx partial a search replaces the results with.
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        page = client.get(reverse("registry:search"), {"region": data["other"]},
                          **headers).content.decode()
        by_region = download(client, export_link(page, export_path))
        assert set(by_region.column("Village code")) == {data["other"]}
        assert set(by_region.column("KK number")) == {f[4].kk_number, f[5].kk_number}
        assert set(by_region.column("Village")) == {
            Region.objects.get(code=data["other"]).name}
        page = client.get(reverse("registry:search"), {"region": KAB, "q": "warga 2-"},
                          **headers).content.decode()
        by_name = download(client, export_link(page, export_path))
        assert sorted(by_name.column("Name")) == ["Warga 2-0", "Warga 2-1"]
    # A region above the scope exports the scope, never 18.06 or the rest of 19.
    above = download(client, export_path, {"region": "19"})
    assert len(above.rows) == 10 and not any(foreign(v) for r in above.rows for v in r)


def test_the_board_exports_its_filters(world, data, boards, client_of):
    client = client_of("coordinator")
    export_path = reverse("meetings:board_export")

    def exported(**filters) -> list:
        page = client.get(reverse("meetings:board"), filters).content.decode()
        return download(client, export_link(page, export_path)).column("Commitment")

    assert sorted(exported()) == ["Akta kelahiran anak", "Data PKH diperbarui"]
    assert exported(status="late") == ["Data PKH diperbarui"]
    assert exported(agency=agency("DP3ACSKB").pk) == ["Akta kelahiran anak"]
    assert exported(region=world["operator"].region_id[:8]) == ["Akta kelahiran anak"]
    assert exported(agency=agency("DPPKB").pk, status="in_progress") == [
        "Akta kelahiran anak"]


# --- scope: the other region's files, and a village operator's --------------------------------


def test_exports_of_another_region_are_not_found(world, data, boards, client_of, tmp_path):
    away = Program.objects.create(owner_agency=agency("Dinsos", OUTSIDE_KAB), code="OUT-P",
                                  name="OUTSIDER", year_start=YEAR - 1, unit="household",
                                  benefit_type="cash")
    enroll(away, "active", household=data["families"][8])
    path = tmp_path / "luar.csv"
    path.write_text(f"{HEADER}\n1806011203150001,123,OUTSIDER,L,Kota,01/01/1990,1,"
                    f"{data['outside']},001,002,3,1\n", encoding="utf-8")
    job = import_services.import_job_create(actor=world["outsider"], source=path,
                                            file_name=path.name, region_code=OUTSIDE_KAB,
                                            on_error="skip")
    import_services.import_job_run(import_services.import_job_claim(job.pk))
    client = client_of("coordinator")
    assert client.get(reverse("programs:export", args=[away.pk])).status_code == 404
    assert client.get(reverse("imports:report", args=[job.pk])).status_code == 404
    for url, params in ((reverse("registry:export"), {"region": OUTSIDE_KAB}),
                        (reverse("convergence:unserved_export"), {"region": OUTSIDE_KAB})):
        assert client.get(url, params).status_code == 404
    # And the other way round: 18.06's coordinator gets 18.06 and nothing of 19.04.
    outsider = client_of("outsider")
    theirs = download(outsider, reverse("programs:export", args=[away.pk]), {"year": YEAR})
    assert theirs.column("KK number") == [data["families"][8].kk_number]
    registry = download(outsider, reverse("registry:export"))
    assert len(registry.rows) == 6 and all(foreign(v) for v in registry.column("Name"))
    unserved = download(outsider, reverse("convergence:unserved_export"))
    assert unserved.rows and all(foreign(v) for v in unserved.column("Village code"))
    board = download(outsider, reverse("meetings:board_export"))
    assert board.column("Commitment") == ["OUTSIDER komitmen"]


def test_a_village_operator_exports_the_own_village_only(world, data, client_of):
    client = client_of("operator")
    own, f = data["own"], data["families"]
    registry = download(client, reverse("registry:export"))
    assert set(registry.column("Village code")) == {own} and len(registry.rows) == 6
    pkh = download(client, reverse("programs:export", args=[data["pkh"].pk]), {"year": YEAR})
    assert sorted(pkh.column("KK number")) == [f[1].kk_number, f[2].kk_number]
    kube = download(client, reverse("programs:export", args=[data["kube"].pk]), {"year": YEAR})
    assert kube.column("Group code") == [data["groups"][1].code]
    unserved = download(client, reverse("convergence:unserved_export"), {"year": YEAR})
    assert unserved.column("KK number") == [f[2].kk_number]
    # A region the operator may not see is refused, not narrowed to the village.
    assert client.get(reverse("registry:export"), {"region": data["other"]}).status_code == 404
