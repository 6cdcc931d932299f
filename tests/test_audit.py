"""The audit log: written in the same transaction, scoped when read."""

import pytest
from django.db import transaction

from sinergi.agencies.models import Agency
from sinergi.agencies.services import agency_update
from sinergi.core.audit import audit_record
from sinergi.core.errors import AccessDenied
from sinergi.core.models import AuditLog

from .conftest import KAB, OUTSIDE_KAB


def test_a_rolled_back_change_leaves_no_audit_row(world):
    agency = Agency.objects.get(region_id=KAB, short_name="Distan")
    count = AuditLog.objects.count()

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        agency_update(actor=world["coordinator"], agency=agency, **{"name": "Dinas Tani"})
        raise Boom
    agency.refresh_from_db()
    assert agency.name == "Dinas Pertanian"
    assert AuditLog.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_audit_outside_a_transaction_is_a_programming_error():
    with pytest.raises(RuntimeError):
        audit_record(actor=None, action="x", object_type="y")


def test_a_refused_change_writes_nothing(world):
    agency = Agency.objects.get(region_id="19", short_name="Distan")
    count = AuditLog.objects.count()
    with pytest.raises(AccessDenied):
        agency_update(actor=world["coordinator"], agency=agency, **{"name": "X"})
    assert AuditLog.objects.count() == count


def test_the_audit_page_shows_only_the_administrators_subtree(client_of, world):
    with transaction.atomic():
        for region, name in ((KAB, "Perubahan Bangka Tengah"),
                             (OUTSIDE_KAB, "Perubahan Tanggamus")):
            audit_record(actor=None, action="test.entry", object_type="test",
                         object_repr=name, region_code=region)
    page = client_of("admin").get("/audit/?action=test.entry").content.decode()
    assert "Perubahan Bangka Tengah" in page
    assert "Perubahan Tanggamus" not in page


def test_audit_page_filters_by_region_and_reports_a_bad_code(client_of, world):
    with transaction.atomic():
        audit_record(actor=None, action="test.entry", object_type="test",
                     object_repr="Di Koba", region_code=KAB + ".01")
        audit_record(actor=None, action="test.entry", object_type="test",
                     object_repr="Di Provinsi", region_code="19")
    client = client_of("admin")
    page = client.get(f"/audit/?region={KAB}").content.decode()
    assert "Di Koba" in page and "Di Provinsi" not in page
    bad = client.get("/audit/?region=1904").content.decode()
    assert "19.04" in bad  # the hint shows the right form


def test_admin_changes_are_audited_with_before_and_after(client_of, world):
    agency = Agency.objects.get(region_id=KAB, short_name="Disdik")
    client = client_of("admin")
    response = client.post(f"/admin/agencies/agency/{agency.id}/change/", {
        "name": "Dinas Pendidikan dan Kebudayaan", "short_name": "Disdikbud",
        "level": agency.level, "region": agency.region_id, "sector": agency.sector,
        "is_active": "on",
    })
    assert response.status_code == 302, response.content[:500]
    entry = AuditLog.objects.get(action="agency.update.admin")
    assert entry.before["short_name"] == "Disdik"
    assert entry.after["short_name"] == "Disdikbud"
    assert entry.actor == world["admin"]


def test_audit_page_filters_by_the_account_not_the_name_it_had(client_of, world):
    with transaction.atomic():
        entry = audit_record(actor=world["coordinator"], action="test.entry",
                             object_type="test", object_repr="Oleh koordinator",
                             region_code=KAB)
        audit_record(actor=None, action="test.entry", object_type="test",
                     object_repr="Oleh sistem", region_code=KAB)
    # The label is the name at the time; the account has been renamed since.
    AuditLog.objects.filter(pk=entry.pk).update(actor_label="koordinator-lama")
    client = client_of("admin")
    page = client.get("/audit/?action=test.entry&actor=Coordinator").content.decode()
    assert "Oleh koordinator" in page and "Oleh sistem" not in page


def test_audit_page_with_an_unknown_account_shows_nothing_and_says_so(client_of, world):
    with transaction.atomic():
        audit_record(actor=world["outsider"], action="test.entry", object_type="test",
                     object_repr="Di Tanggamus", region_code=KAB)
    client = client_of("admin")
    for name in ("nobody", "outsider"):  # outsider's account is outside the scope
        page = client.get(f"/audit/?actor={name}").content.decode()
        assert f"No account named &#x27;{name}&#x27; in your scope" in page
        assert "Di Tanggamus" not in page


def test_every_audited_action_has_a_name_for_people():
    """Each action code written in the code (any call's action="...",
    audit_changes(..., "..."), a parameter action="..." by default) is named
    in core.audit.ACTION_LABELS or by a rule of action_label, so no page
    shows a raw code like meeting.create."""
    import ast
    from pathlib import Path

    from sinergi.core.audit import ACTION_LABELS, action_label

    codes = set()
    for path in Path(__file__).resolve().parent.parent.joinpath("sinergi").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            values = []
            if isinstance(node, ast.Call):
                values = [k.value for k in node.keywords if k.arg == "action"]
                if getattr(node.func, "id", "") == "audit_changes" and len(node.args) > 1:
                    values.append(node.args[1])
            elif isinstance(node, ast.arguments):
                values = [d for a, d in zip(node.kwonlyargs, node.kw_defaults, strict=True)
                          if a.arg == "action" and d is not None]
            # (argparse's action="store_true" has no dot; audit actions do)
            codes |= {v.value for v in values
                      if isinstance(v, ast.Constant) and "." in str(v.value)}
    assert len(codes) > 30
    unnamed = sorted(c for c in codes if action_label(c) == c)
    assert not unnamed, f"add these to core.audit.ACTION_LABELS: {unnamed}"
    assert set(ACTION_LABELS) <= codes, (
        f"labels of actions nobody writes: {sorted(set(ACTION_LABELS) - codes)}")
    assert action_label("agency.update.admin") == "Agency changed (in the admin)"
    assert action_label("person.verivali.move") == "Import review applied (move)"


def test_the_audit_page_names_actions_and_shows_changes_field_by_field(client_of, world):
    agency = Agency.objects.get(region_id=KAB, short_name="Disdik")
    agency_update(actor=world["coordinator"], agency=agency, name="Dinas Pendidikan Baru")
    page = client_of("admin").get("/audit/?action=agency.update").content.decode()
    assert "Agency changed" in page
    assert "<dt><code>name</code></dt>" in page and "<del>" in page
    assert "Dinas Pendidikan Baru" in page
