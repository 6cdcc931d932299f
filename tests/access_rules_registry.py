"""Access rules of the registry and import endpoints, merged into the matrix.

Kept beside tests/test_access_matrix.py, whose RULES this extends; the
same persona order: anonymous, admin, coordinator, officer, operator,
leader, outsider.
"""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile

from sinergi.imports.models import ImportJob
from sinergi.registry.models import Household, Person

from .conftest import KAB, expect

OTHER_VILLAGE_KK = "1904021203150001"


def kab_family(world) -> Household:
    """A family in a village of 19.04 that is not the operator's village."""
    from sinergi.regions.models import Region

    village = (Region.objects.filter(code__startswith=KAB + ".02.", level=4)
               .order_by("code").first().code)
    hh, _ = Household.objects.get_or_create(kk_number=OTHER_VILLAGE_KK,
                                            defaults={"village_code": village})
    Person.objects.get_or_create(
        nik="1904025403900001",
        defaults={"name": "Probe Person", "sex": "P", "household": hh, "shdk": 1,
                  "village_code": village, "birth_date": datetime.date(1990, 3, 14)})
    return hh


def kab_person(world) -> int:
    return Person.objects.get(nik="1904025403900001", household=kab_family(world)).id


def coordinator_export(world) -> int:
    """A background persons export the 19.04 coordinator asked for (still waiting)."""
    from sinergi.registry.models import ExportJob

    job, _ = ExportJob.objects.get_or_create(created_by=world["coordinator"], region_code=KAB,
                                             defaults={"rows_total": 10})
    return job.id


def kab_job(world) -> int:
    job, _ = ImportJob.objects.get_or_create(
        file_name="probe.csv", defaults={"region_code": KAB, "file_path": "/nonexistent",
                                         "status": "done"})
    return job.id


def upload(_world):
    return {"file": SimpleUploadedFile("probe.csv", b"NIK,Nama\n"), "format": "auto"}


RULES = {
    "registry:search": [("get", lambda w: "/registry/?q=probe", None,
                         expect(302, 200, 200, 200, 200, 200, 200))],
    "registry:export": [("get", lambda w: f"/registry/export.xlsx?region={KAB}", None,
                         expect(302, 200, 200, 200, 200, 403, 404))],
    # A background export is its asker's alone (it holds full NIKs): everyone
    # else, an administrator too, is told it does not exist; a role that may
    # not export is refused. Its file, not written yet, leads back to it.
    "registry:export_job": [("get", lambda w: f"/registry/exports/{coordinator_export(w)}/",
                             None, expect(302, 404, 200, 404, 404, 403, 404))],
    "registry:export_file": [("get", lambda w: f"/registry/exports/{coordinator_export(w)}/"
                              "penduduk.xlsx", None, expect(302, 404, 302, 404, 404, 403, 404))],
    "registry:person": [("get", lambda w: f"/registry/persons/{kab_person(w)}/", None,
                         expect(302, 200, 200, 200, 404, 200, 404))],
    "registry:reveal": [("post", lambda w: f"/registry/persons/{kab_person(w)}/reveal/", {},
                         expect(302, 200, 200, 200, 404, 403, 404))],
    "registry:person_event": [
        ("post", lambda w: f"/registry/persons/{kab_person(w)}/event/",
         {"kind": "status", "status": "9", "date": "bad"},
         expect(302, 302, 302, 302, 404, 403, 404)),
    ],
    "registry:household_event": [
        ("post", lambda w: f"/registry/families/{kab_family(w).id}/event/",
         {"kind": "change_kk", "kk_number": "1"},
         expect(302, 302, 302, 302, 404, 403, 404)),
    ],
    "registry:household": [("get", lambda w: f"/registry/families/{kab_family(w).id}/", None,
                            expect(302, 200, 200, 200, 404, 200, 404))],
    "imports:list": [("get", lambda w: "/imports/", None,
                      expect(302, 200, 200, 403, 200, 403, 200))],
    "imports:template": [("get", lambda w: "/imports/template.xlsx", None,
                          expect(302, 200, 200, 200, 200, 200, 200))],
    "imports:detail": [("get", lambda w: f"/imports/{kab_job(w)}/", None,
                        expect(302, 200, 200, 403, 404, 403, 404))],
    "imports:report": [("get", lambda w: f"/imports/{kab_job(w)}/report.xlsx", None,
                        expect(302, 200, 200, 403, 404, 403, 404))],
    "imports:apply": [("post", lambda w: f"/imports/{kab_job(w)}/apply/", {},
                       expect(302, 302, 302, 403, 404, 403, 404))],
    "imports:cancel": [("post", lambda w: f"/imports/{kab_job(w)}/cancel/", {},
                        expect(302, 302, 302, 403, 404, 403, 404))],
    "GET /api/v1/persons": [("get", lambda w: "/api/v1/persons?q=probe", None,
                             expect(401, 200, 200, 200, 200, 200, 200))],
    "GET /api/v1/persons/{person_id}": [
        ("get", lambda w: f"/api/v1/persons/{kab_person(w)}", None,
         expect(401, 200, 200, 200, 404, 200, 404)),
        ("get", lambda w: f"/api/v1/persons/{kab_person(w)}?reveal=true", None,
         expect(401, 200, 200, 200, 404, 403, 404)),
    ],
    "GET /api/v1/families/{family_id}": [
        ("get", lambda w: f"/api/v1/families/{kab_family(w).id}", None,
         expect(401, 200, 200, 200, 404, 200, 404)),
    ],
    "POST /api/v1/imports": [("post", lambda w: "/api/v1/imports", upload,
                              expect(401, 202, 202, 403, 202, 403, 202))],
    "GET /api/v1/imports/{job_id}": [("get", lambda w: f"/api/v1/imports/{kab_job(w)}", None,
                                      expect(401, 200, 200, 403, 404, 403, 404))],
}
