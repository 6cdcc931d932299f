"""Indicators: ranks, trends and targets; entry of external values and
village facts with their roll-ups and data quality; who sees and edits
what; commitments measured by an indicator; the pages and the API."""

import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from openpyxl import load_workbook

from sinergi.core.errors import AccessDenied, NotInScope, SinergiError
from sinergi.indicators import compute, periods, quality, ranking, selectors, services
from sinergi.indicators.models import Indicator, Stale, Target, Value
from sinergi.meetings import progress
from sinergi.meetings import services as meeting_services
from sinergi.regions.models import Region
from sinergi.registry import services as registry_services
from sinergi.registry.models import Person

from .conftest import KAB, OUTSIDE_KAB, agency

D = Decimal


# --- pure rules -------------------------------------------------------------------------


def test_ranks_follow_the_direction_and_share_ties():
    values = {"a": D("4.5"), "b": D("3.1"), "c": D("4.5"), "d": None, "e": D("9")}
    assert ranking.rank(values, "lower") == {"b": 1, "a": 2, "c": 2, "e": 4}
    assert ranking.rank(values, "higher") == {"e": 1, "a": 2, "c": 2, "b": 4}


def test_trend_labels_and_whether_the_move_is_for_the_better():
    falling = ranking.trend(D("5.0"), D("4.2"), "lower", 2)
    assert (falling.direction, falling.better) == (ranking.DOWN, True)
    rising = ranking.trend(D("5.0"), D("6.0"), "lower", 2)
    assert (rising.direction, rising.better) == (ranking.UP, False)
    # Under 1 % of the earlier value: stable.
    assert ranking.trend(D("70.00"), D("70.50"), "higher", 2).direction == ranking.STABLE
    assert ranking.trend(None, D("1"), "higher") is None


def test_target_judgements():
    judge = ranking.judge
    kw = {"target": D("4.0"), "target_period": "2029", "baseline": D("6.0"),
          "baseline_period": "2024", "direction": "lower"}
    assert judge(actual=D("3.9"), actual_period="2026", **kw).status == ranking.MET
    # Two of five years gone: a straight path would be at 5.2 by the end of 2026.
    on_track = judge(actual=D("5.1"), actual_period="2026", **kw)
    assert on_track.status == ranking.ON_TRACK and on_track.expected == D("5.2")
    assert on_track.gap == D("1.1")
    assert judge(actual=D("5.6"), actual_period="2026", **kw).status == ranking.BEHIND
    # The target's period has passed without reaching it.
    assert judge(actual=D("4.5"), actual_period="2029", **kw).status == ranking.BEHIND
    # No baseline, not yet due: cannot be judged.
    assert judge(actual=D("5"), actual_period="2026", target=D("4"), target_period="2029",
                 baseline=None, baseline_period="", direction="lower").status == \
        ranking.UNKNOWN
    assert judge(actual=None, actual_period=None, **kw).status == ranking.UNKNOWN


def test_periods_are_read_as_the_indicator_keeps_them():
    assert periods.normalize("2025.0", "year") == "2025"
    assert periods.normalize(" 2025-s1 ", "semester") == "2025-S1"
    assert periods.normalize("2025-3", "month") == "2025-03"
    assert periods.normalize("2025-Q5", "quarter") is None
    assert "2025-Q3" in periods.problem("Q3 2025", "quarter")
    assert periods.position("2025-Q3") == 2025.5
    assert periods.end_position("2025-S1") == 2025.5


def test_outliers_by_median_absolute_deviation():
    values = {"a": D("4.1"), "b": D("4.4"), "c": D("3.9"), "d": D("4.6"), "e": D("19.7")}
    assert quality.outliers(values) == {"e"}
    assert quality.outliers({"a": D("1"), "b": D("1"), "c": D("1"), "d": D("9")}) == set()


# --- entering values --------------------------------------------------------------------


def kecamatan_codes() -> list[str]:
    return list(Region.objects.filter(parent_id=KAB, retired_in="").order_by("code")
                .values_list("code", flat=True))


@pytest.mark.django_db
def test_an_external_value_is_a_draft_with_its_parts_audited(world):
    p0 = Indicator.objects.get(code="P0")
    row = services.value_enter(actor=world["coordinator"], indicator=p0, region_code=KAB,
                               period="2025", numerator="12000", denominator="200000",
                               source_note="BPS")
    assert (row.value, row.status, row.level) == (D("6.0000"), "draft", 2)
    from sinergi.core.models import AuditLog

    audit = AuditLog.objects.filter(action="indicator.value").latest("id")
    assert audit.after["value"] == "6.0000" and audit.region_code == KAB


@pytest.mark.django_db
@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"value": "124.8"}, "value", "cannot be above 100"),
    ({"numerator": "30", "denominator": "20"}, "numerator", "larger than the denominator"),
    ({"value": "-1"}, "value", "cannot be negative"),
    ({"value": "dua belas"}, "value", "number"),
    ({}, "value", "Give the value"),
])
def test_impossible_values_are_refused_with_the_field(world, fields, field, words):
    p0 = Indicator.objects.get(code="P0")
    with pytest.raises(SinergiError) as caught:
        services.value_enter(actor=world["coordinator"], indicator=p0, region_code=KAB,
                             period="2025", **fields)
    assert caught.value.field == field and words in caught.value.message
    assert not Value.objects.exists()


@pytest.mark.django_db
def test_a_wrong_period_says_how_to_write_it(world):
    with pytest.raises(SinergiError) as caught:
        services.value_enter(actor=world["coordinator"], indicator=Indicator.objects.get(
            code="TPT"), region_code=KAB, period="Agustus 2025", value="4")
    assert caught.value.field == "period" and "2025" in caught.value.message


@pytest.mark.django_db
def test_outliers_and_implausible_values_are_flagged_on_entry(world):
    tpt = Indicator.objects.get(code="TPT")
    admin = world["admin"]
    kabs = list(Region.objects.filter(parent_id="19").order_by("code")
                .values_list("code", flat=True))
    for code, value in zip(kabs[:5], ["4.1", "4.4", "3.9", "4.6", "4.0"], strict=True):
        services.value_enter(actor=admin, indicator=tpt, region_code=code, period="2025",
                             value=value)
    slip = services.value_enter(actor=admin, indicator=tpt, region_code=kabs[5],
                                period="2025", value="29.5")
    assert slip.flag_list == ["outlier"]
    found = selectors.quality_list(admin)
    assert [(f["region_code"], f["period"]) for f in found] == [(kabs[5], "2025")]


@pytest.mark.django_db
def test_officers_enter_only_their_agencys_indicators(world):
    officer = world["officer"]  # DP3ACSKB of 19.04
    with pytest.raises(AccessDenied) as caught:
        services.value_enter(actor=officer, indicator=Indicator.objects.get(code="P0"),
                             region_code=KAB, period="2025", value="5")
    assert "Bappeda" in caught.value.message
    tfr = Indicator.objects.get(code="TFR")
    tfr.agency = "DP3ACSKB"
    tfr.save()
    assert services.value_enter(actor=officer, indicator=tfr, region_code=KAB,
                                period="2025", value="2.1").value == D("2.1")
    # Inside the own kabupaten only.
    with pytest.raises(NotInScope):
        services.value_enter(actor=officer, indicator=tfr, region_code=OUTSIDE_KAB,
                             period="2025", value="2.1")
    with pytest.raises(SinergiError):  # computed indicators are never typed in
        services.value_enter(actor=world["coordinator"], indicator=Indicator.objects.get(
            code="NIK_PCT"), region_code=KAB, period="2025", value="90")


@pytest.mark.django_db
def test_a_region_above_sums_its_children_only_when_all_reported(world):
    poor = Indicator.objects.get(code="MISKIN")  # a count that sums
    admin = world["admin"]
    kabs = list(Region.objects.filter(parent_id="19", retired_in="").order_by("code")
                .values_list("code", flat=True))
    for code in kabs[:-1]:
        services.value_enter(actor=admin, indicator=poor, region_code=code, period="2025",
                             numerator="10.5")
    assert not Value.objects.filter(indicator=poor, region_code="19").exists()
    services.value_enter(actor=admin, indicator=poor, region_code=kabs[-1], period="2025",
                         numerator="1.25")
    province = Value.objects.get(indicator=poor, region_code="19", period="2025")
    assert province.origin == "rollup"
    assert province.value == D("10.5") * (len(kabs) - 1) + D("1.25")
    assert province.status == "draft"  # its parts are drafts
    # A province figure entered itself is kept, never replaced by the sum.
    services.value_enter(actor=admin, indicator=poor, region_code="19", period="2025",
                         numerator="70")
    services.value_enter(actor=admin, indicator=poor, region_code=kabs[0], period="2025",
                         numerator="11")
    assert Value.objects.get(indicator=poor, region_code="19", period="2025").value == 70


@pytest.mark.django_db
def test_village_facts_roll_up_as_villages_with_x_n_of_n(world):
    operator = world["operator"]
    village = operator.region_id
    kec = village[:8]
    villages = Region.objects.filter(parent_id=kec, retired_in="").count()
    services.facts_set(actor=operator, village_code=village, year="2026",
                       facts={"F_PUSKESSOS": "1", "F_POSYANDU": "3", "F_WEBSITE": "0"})
    puskesos = Indicator.objects.get(code="F_PUSKESSOS")
    at_kec = Value.objects.get(indicator=puskesos, region_code=kec, period="2026")
    assert (at_kec.numerator, at_kec.denominator) == (1, villages)
    assert at_kec.value == (D(100) / villages).quantize(D("0.0001"))
    posyandu = Value.objects.get(indicator__code="F_POSYANDU", region_code=KAB, period="2026")
    assert (posyandu.numerator, posyandu.denominator) == (3, None)
    # Another village of the kabupaten is not the operator's to answer for.
    other = Region.objects.filter(parent_id=kec).exclude(code=village).first().code
    with pytest.raises(NotInScope):
        services.facts_set(actor=operator, village_code=other, year="2026",
                           facts={"F_PUSKESSOS": "1"})
    with pytest.raises(AccessDenied):
        services.facts_set(actor=world["officer"], village_code=village, year="2026",
                           facts={"F_PUSKESSOS": "1"})
    with pytest.raises(SinergiError) as caught:
        services.facts_set(actor=operator, village_code=village, year="2026",
                           facts={"F_PUSKESSOS": "2"})
    assert caught.value.field == "F_PUSKESSOS"


@pytest.mark.django_db
def test_a_commitment_reads_villages_with_a_fact_live(world, meeting):
    operator = world["operator"]
    commitment = meeting_services.commitment_create(
        actor=world["coordinator"], meeting=meeting, text="Puskesos di setiap desa",
        owner_agency=agency("Dinsos").pk, region=KAB, unit="desa", baseline="0",
        target="10", source="indicators.villages_with", source_param="F_PUSKESSOS")
    assert progress.tracked_one(commitment).progress.value == 0
    services.facts_set(actor=operator, village_code=operator.region_id,
                       year=str(timezone.localdate().year), facts={"F_PUSKESSOS": "1"})
    state = progress.tracked_one(commitment).progress
    assert state.value == 1 and state.live
    with pytest.raises(SinergiError):
        meeting_services.commitment_create(
            actor=world["coordinator"], meeting=meeting, text="x",
            owner_agency=agency("Dinsos").pk, region=KAB, source="indicators.villages_with",
            source_param="P0")


# --- seeing values ----------------------------------------------------------------------


def _values(indicator: Indicator, rows: dict, period="2025", status="verified", **extra):
    now = timezone.now()
    for code, value in rows.items():
        Value.objects.create(indicator=indicator, region_code=code, level=code.count(".") + 1,
                             period=period, value=value, origin="form", status=status,
                             computed_at=now, **extra)


@pytest.mark.django_db
def test_the_public_sees_verified_values_of_provinces_and_kabupaten_only(world, client_of):
    p0 = Indicator.objects.get(code="P0")
    kec = kecamatan_codes()[0]
    _values(p0, {KAB: D("5.5"), "19": D("4.9")})
    _values(p0, {"19.05": D("7.25")}, status="draft")
    _values(p0, {kec: D("6.5")})
    anonymous = client_of("anonymous")
    page = anonymous.get("/indicators/P0/?region=19&period=2025").content.decode()
    assert "5.5" in page and "7.25" not in page
    assert anonymous.get(f"/indicators/P0/?region={kec}").status_code == 404
    signed = client_of("coordinator").get("/indicators/P0/?region=19&period=2025")
    assert "7.25" in signed.content.decode()  # drafts are shown to the signed-in, marked
    panel = anonymous.get("/indicators/region/19.05/").content.decode()
    assert "7.25" not in panel and "7,25" not in panel
    table = anonymous.get("/indicators/P0/table.xlsx?region=19&period=2025")
    book = load_workbook(io.BytesIO(b"".join(table.streaming_content)))
    cells = [c for row in book.active.iter_rows(values_only=True) for c in row]
    assert 5.5 in cells and 7.25 not in cells
    assert client_of("coordinator").get(f"/indicators/P0/?region={KAB}").status_code == 200


@pytest.mark.django_db
def test_small_registry_counts_are_hidden_from_the_public(world, client_of):
    village = Region.objects.filter(parent_id=kecamatan_codes()[0]).first().code
    for i in range(3):
        Person.objects.create(name=f"X{i}", sex="P", village_code=village, nik=f"{i:016d}")
    compute.recompute(today=timezone.localdate())
    row = Value.objects.get(indicator__code="PENDUDUK", region_code=KAB, disaggregation="")
    assert row.value == 3
    public = client_of("anonymous").get("/indicators/PENDUDUK/?region=19").content.decode()
    assert "hidden" in public
    assert selectors.suppressed(world["coordinator"], row) is False


@pytest.mark.django_db
def test_the_indicator_page_ranks_children_with_trend_target_and_charts(world, client_of):
    p0 = Indicator.objects.get(code="P0")
    kabs = list(Region.objects.filter(parent_id="19").order_by("code")
                .values_list("code", flat=True))[:4]
    _values(p0, dict(zip(kabs, [D("5"), D("4"), D("6"), D("4")], strict=True)), "2024",
            lower=D("3.5"), upper=D("7.5"))
    _values(p0, dict(zip(kabs, [D("3"), D("4.5"), D("6"), D("4.5")], strict=True)), "2025",
            lower=D("2.5"), upper=D("7"))
    Target.objects.create(indicator=p0, region_code=kabs[0], period="2029", target=D("2.5"),
                          baseline=D("5"), baseline_period="2024")
    rows = selectors.children(world["admin"], p0, "19", "2025")
    # Ties share a rank (and sort by name); in 2024 two shared the first place.
    assert {r.code: (r.rank, r.previous_rank) for r in rows} == {
        kabs[0]: (1, 3), kabs[1]: (2, 1), kabs[3]: (2, 1), kabs[2]: (4, 4)}
    assert rows[0].code == kabs[0] and rows[-1].code == kabs[2]
    assert rows[0].trend.direction == ranking.DOWN and rows[0].trend.better
    client = client_of("admin")
    page = client.get(f"/indicators/P0/?region={kabs[0]}&period=2025").content.decode()
    assert "<svg" in page and "chart-band" in page and "1 of 4" in page
    panel = selectors.panel(world["admin"], kabs[0])
    p0_row = next(r for r in panel if r.indicator.code == "P0")
    assert (p0_row.rank, p0_row.of, p0_row.judged.status) == (1, 4, ranking.ON_TRACK)
    assert client.get(f"/indicators/region/{kabs[0]}/").status_code == 200
    api = client.get("/api/v1/indicators/P0/values?region=19&period=2025").json()
    assert api[0]["region_code"] == kabs[0] and [r["rank"] for r in api] == [1, 2, 2, 4]


@pytest.mark.django_db
def test_a_change_to_persons_marks_and_recounts_only_its_village(world, client_of):
    kec = kecamatan_codes()[0]
    a, b = Region.objects.filter(parent_id=kec).order_by("code")[:2]
    people = [Person.objects.create(name=f"A{i}", sex="L", village_code=a.code,
                                    nik=f"19{i:014d}") for i in range(4)]
    Person.objects.create(name="B0", sex="P", village_code=b.code)
    compute.recompute(today=timezone.localdate())
    nik = Indicator.objects.get(code="NIK_PCT")
    before_b = Value.objects.get(indicator=nik, region_code=b.code, disaggregation="")
    registry_services.person_record_status(actor=world["admin"], person=people[0], status=2,
                                           on_date=datetime.date(2026, 1, 5))
    assert list(Stale.objects.values_list("village_code", "source")) == [(a.code, "registry")]
    assert selectors.pending(KAB)
    services.recompute_pending()
    assert not selectors.pending(KAB)
    assert Value.objects.get(indicator=nik, region_code=b.code,
                             disaggregation="").computed_at == before_b.computed_at
    kab_cell = Value.objects.get(indicator=nik, region_code=KAB, disaggregation="")
    assert (kab_cell.numerator, kab_cell.denominator) == (3, 4)
    page = client_of("admin").get(f"/indicators/NIK_PCT/?region={kec}").content.decode()
    assert "3 of 3" in page  # village a: 3 living persons, all with a NIK


@pytest.mark.django_db
def test_the_api_enters_a_value_and_says_what_is_wrong(world, client_of):
    client = client_of("coordinator")
    ok = client.post("/api/v1/indicators/TPT/values", {"region": KAB, "period": "2025",
                                                       "value": "4,25"},
                     content_type="application/json")
    assert ok.status_code == 201 and ok.json()["status"] == "draft"
    assert D(ok.json()["value"]) == D("4.25")
    bad = client.post("/api/v1/indicators/TPT/values", {"region": KAB, "period": "2025",
                                                        "value": "425"},
                      content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "value"


@pytest.mark.django_db
def test_catalogue_edits_raise_the_definition_version(world):
    p0 = Indicator.objects.get(code="P0")
    services.indicator_update(actor=world["admin"], indicator=p0, unit="persen")
    assert Indicator.objects.get(code="P0").version == 1
    services.indicator_update(actor=world["admin"], indicator=p0, formula="Baru")
    assert Indicator.objects.get(code="P0").version == 2
    with pytest.raises(SinergiError) as caught:
        services.indicator_update(actor=world["admin"], indicator=p0, disaggregations="nope")
    assert caught.value.field == "disaggregations"
    with pytest.raises(AccessDenied):
        services.indicator_update(actor=world["officer"], indicator=p0, unit="x")


@pytest.mark.django_db
def test_the_job_runner_recounts_what_a_change_marked(world):
    """The recount is a job of the runner, queued once for a burst of changes
    in two kabupaten, and each kabupaten gets its own numbers."""
    from sinergi.core import jobs
    from sinergi.core.models import Job

    inside = Region.objects.filter(parent_id=kecamatan_codes()[0]).first().code
    outside = Region.objects.filter(code__startswith=OUTSIDE_KAB + ".", level=4).first().code
    for i, village in enumerate([inside, inside, outside]):
        Person.objects.create(name=f"J{i}", sex="L", village_code=village)
    from sinergi.core import changes

    changes.changed(changes.REGISTRY, [inside])
    changes.changed(changes.REGISTRY, [outside])
    queued = Job.objects.filter(kind=services.JOB_KIND, status=Job.PENDING)
    assert queued.count() == 1 and queued.get().run_after > timezone.now()
    queued.update(run_after=timezone.now())  # the clock moves past the delay
    assert jobs.run_pending() == 1
    counted = dict(Value.objects.filter(indicator__code="PENDUDUK", disaggregation="",
                                        region_code__in=[KAB, OUTSIDE_KAB, "18", "19"])
                   .values_list("region_code", "value"))
    assert counted == {KAB: 2, "19": 2, OUTSIDE_KAB: 1, "18": 1}
    assert not Stale.objects.exists()


def test_ranks_tie_on_the_shown_decimals():
    values = {"a": D("99.9712"), "b": D("99.9688"), "c": D("98.1")}
    assert ranking.rank(values, "higher") == {"a": 1, "b": 2, "c": 3}
    assert ranking.rank(values, "higher", decimals=1) == {"a": 1, "b": 1, "c": 3}


def test_a_target_past_due_by_the_calendar_is_behind():
    kw = {"target": D("4.0"), "target_period": "2025", "baseline": D("6.0"),
          "baseline_period": "2022", "direction": "lower"}
    assert ranking.judge(actual=D("4.6"), actual_period="2023", **kw).status == \
        ranking.ON_TRACK
    assert ranking.judge(actual=D("4.6"), actual_period="2023", today=2027.2,
                         **kw).status == ranking.BEHIND


def test_many_marked_villages_are_recounted_through_few_ranges():
    villages = [f"19.{k:02d}.{c:02d}.{2000 + v}" for k in range(1, 4) for c in range(1, 11)
                for v in range(1, 41)]
    roots = compute.stale_roots(villages)
    assert len(roots) <= 100
    assert all(any(v.startswith(r + ".") or v == r for r in roots) for v in villages)
    assert compute.stale_roots(villages[:5]) == sorted(villages[:5])


@pytest.mark.django_db
def test_a_recount_of_more_than_a_thousand_marked_villages_runs(world):
    """SQLite allows an expression a thousand terms deep: 1,200 marks are
    recounted through their kecamatan, and every mark is cleared."""
    villages = list(Region.objects.filter(level=4, code__regex=r"^(18|19)\.")
                    .values_list("code", flat=True)[:1200])
    assert len(villages) == 1200
    Person.objects.create(name="M", sex="P", village_code=villages[-1])
    from sinergi.core import changes

    changes.changed(changes.REGISTRY, villages)
    assert services.recompute_pending() == 1200
    assert not Stale.objects.exists()
    assert Value.objects.get(indicator__code="PENDUDUK", region_code=villages[-1],
                             disaggregation="").value == 1


@pytest.mark.django_db
def test_the_daily_recount_is_asked_once_and_only_for_this_year(world):
    village = Region.objects.filter(parent_id=kecamatan_codes()[0]).first().code
    Person.objects.create(name="D", sex="L", village_code=village)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    compute.recompute(today=yesterday)  # counted yesterday (a year ago on 1 January)
    Value.objects.filter(origin="computed").update(
        computed_at=timezone.now() - datetime.timedelta(days=1))
    asked = services.request_daily_recompute()
    assert asked == (1 if yesterday.year == timezone.localdate().year else 0)
    assert services.request_daily_recompute() == 0  # waiting for its recount already
    services.recompute_pending()
    assert services.request_daily_recompute() == 0


@pytest.mark.django_db
def test_saving_a_villages_facts_unchanged_keeps_them_verified(world):
    operator = world["operator"]
    village = operator.region_id
    services.facts_set(actor=operator, village_code=village, year="2026",
                       facts={"F_PUSKESSOS": "1", "F_POSYANDU": "2"})
    Value.objects.filter(region_code=village).update(status="verified")
    assert services.facts_set(actor=operator, village_code=village, year="2026",
                              facts={"F_PUSKESSOS": "1", "F_POSYANDU": "3"}) == 1
    statuses = dict(Value.objects.filter(region_code=village, period="2026")
                    .values_list("indicator__code", "status"))
    assert statuses == {"F_PUSKESSOS": "verified", "F_POSYANDU": "draft"}
    services.facts_set(actor=operator, village_code=village, year="2026",
                       facts={"F_POSYANDU": ""})
    from sinergi.core.models import AuditLog

    removed = AuditLog.objects.filter(action="indicator.value").latest("id")
    assert removed.after.get("removed") and removed.before["value"] == "3.0000"


@pytest.mark.django_db
def test_imported_counts_sum_upwards(world):
    poor = Indicator.objects.get(code="MISKIN")
    kabs = list(Region.objects.filter(parent_id="19", retired_in="").order_by("code")
                .values_list("code", flat=True))
    services.values_write(actor=world["admin"], indicator=poor, source_note="BPS",
                          rows=[{"region_code": k, "period": "2025", "value": D("10.25")}
                                for k in kabs])
    province = Value.objects.get(indicator=poor, region_code="19", period="2025")
    assert province.origin == "rollup" and province.value == D("10.25") * len(kabs)


@pytest.mark.django_db
def test_the_public_finds_no_hidden_count_in_the_trend_or_the_breakdowns(world, client_of):
    village = Region.objects.filter(parent_id=kecamatan_codes()[0]).first().code
    for i in range(12):
        Person.objects.create(name=f"S{i}", sex="P" if i < 9 else "L", village_code=village)
    compute.recompute(today=timezone.localdate())
    signed = selectors.breakdown(world["admin"], Indicator.objects.get(code="PENDUDUK"), KAB,
                                 str(timezone.localdate().year))
    assert any("sex" in str(k) for k in signed)
    public = selectors.breakdown(AnonymousUser(), Indicator.objects.get(code="PENDUDUK"), KAB,
                                 str(timezone.localdate().year))
    # 3 men is a small cell: the whole sex breakdown is withheld from the public.
    assert not any("sex" in str(k) for k in public)
    page = client_of("anonymous").get(
        f"/indicators/PENDUDUK/?region={KAB}&disaggregation=sex:L").content.decode()
    assert "hidden" in page
    assert ">3<" not in page and "2026: 3" not in page


@pytest.mark.django_db
def test_an_indicator_code_is_letters_digits_and_dashes(world):
    with pytest.raises(SinergiError) as caught:
        services.indicator_create(actor=world["admin"], code="P0/KAB", name_id="x",
                                  kind="percent", source="bps")
    assert caught.value.field == "code"
    with pytest.raises(SinergiError) as caught:
        services.indicator_create(actor=world["admin"], code="X1", name_id="x",
                                  kind="percent", source="bps", valid_min=D("5"),
                                  valid_max=D("1"))
    assert caught.value.field == "valid_min"


@pytest.mark.django_db
def test_an_enrollment_change_marks_its_village_and_its_familys_village_now(world):
    from sinergi.programs import services as program_services
    from sinergi.programs.models import Enrollment, Program
    from sinergi.registry.models import Household

    a, b = Region.objects.filter(parent_id=kecamatan_codes()[0]).order_by("code")[:2]
    family = Household.objects.create(kk_number="1904010101010001", village_code=b.code,
                                      desil=2)
    program = Program.objects.create(owner_agency=agency("Dinsos"), code="T-MOVE", name="T",
                                     year_start=2025, unit="household", benefit_type="cash")
    # Enrolled while the family lived in village a; it has moved to b since.
    enrollment = Enrollment.objects.create(program=program, year=2026, household=family,
                                           village_code=a.code, status="proposed")
    program_services.enrollment_transition(actor=world["admin"], enrollment=enrollment,
                                           status="verified")
    assert set(Stale.objects.filter(source="programs").values_list("village_code", flat=True)) \
        == {a.code, b.code}
