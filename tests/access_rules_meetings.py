"""Access rules of the meeting and commitment endpoints, merged into the matrix.

Same persona order as tests/test_access_matrix.py: anonymous, admin,
coordinator, officer (DP3ACSKB of 19.04), operator (a village of 19.04),
leader (19), outsider (coordinator of 18.06).
"""

import datetime

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from sinergi.agencies.models import Agency
from sinergi.meetings.models import (
    Attachment,
    BriefJob,
    Commitment,
    Evidence,
    Meeting,
    ProgressUpdate,
)

from .conftest import KAB, expect


def kab_meeting(world) -> Meeting:
    meeting, _ = Meeting.objects.get_or_create(
        title="Probe rakor", region_id=KAB,
        defaults={"kind": "rakor", "starts_on": datetime.date(2026, 3, 2)})
    return meeting


def _commitment(world, number: int, owner: str) -> Commitment:
    commitment, _ = Commitment.objects.get_or_create(
        meeting=kab_meeting(world), number=number,
        defaults={"text": f"Probe commitment {number}", "region_id": KAB,
                  "owner_agency": Agency.objects.get(region_id=KAB, short_name=owner)})
    return commitment


def own_commitment(world) -> int:
    """Owned by the officer's agency."""
    return _commitment(world, 1, "DP3ACSKB").pk


def other_commitment(world) -> int:
    """Owned by another agency, with the officer's neither owner nor supporter."""
    return _commitment(world, 2, "Dinsos").pk


def attachment(world) -> int:
    meeting = kab_meeting(world)
    found = meeting.attachments.first()
    if found is None:
        found = Attachment(meeting=meeting, title="notulen", size=5)
        found.file.save("notulen.txt", ContentFile(b"hello"), save=True)
    return found.pk


def evidence(world) -> int:
    commitment = Commitment.objects.get(pk=own_commitment(world))
    update = ProgressUpdate.objects.filter(commitment=commitment).first() or \
        ProgressUpdate.objects.create(commitment=commitment, date=datetime.date(2026, 4, 1),
                                      narrative="probe")
    found = update.evidence.first()
    if found is None:
        found = Evidence(update=update, name="foto.txt", size=5)
        found.file.save("foto.txt", ContentFile(b"hello"), save=True)
    return found.pk


def brief(world, scope_root: str) -> int:
    """A brief of the kabupaten's meeting made by a user whose scope is
    ``scope_root``: only users of exactly that scope may open it."""
    job, _ = BriefJob.objects.get_or_create(meeting=kab_meeting(world), scope_root=scope_root)
    return job.pk


def minutes_file(_world):
    return {"f-title": "scan", "f-file": SimpleUploadedFile("scan.pdf", b"%PDF-1.4 probe")}


M = "/meetings"
MANAGE = expect(302, 302, 302, 403, 403, 403, 404)  # POST forms of the meeting page
MANAGE_PAGE = expect(302, 200, 200, 403, 403, 403, 404)
SEE = expect(302, 200, 200, 200, 200, 200, 404)

RULES = {
    "meetings:list": [("get", lambda w: f"{M}/", None, expect(302, 200, 200, 200, 200, 200,
                                                               200))],
    "meetings:create": [("get", lambda w: f"{M}/new/", None,
                         expect(302, 200, 200, 403, 403, 403, 200))],
    "meetings:detail": [("get", lambda w: f"{M}/{kab_meeting(w).pk}/", None, SEE)],
    "meetings:edit": [("get", lambda w: f"{M}/{kab_meeting(w).pk}/edit/", None, MANAGE_PAGE)],
    "meetings:participant_add": [("post", lambda w: f"{M}/{kab_meeting(w).pk}/participants/",
                                  {"p-name": "Probe", "p-invited": "on"}, MANAGE)],
    "meetings:agenda_add": [("post", lambda w: f"{M}/{kab_meeting(w).pk}/agenda/",
                             {"a-title": "Probe topic"}, MANAGE)],
    "meetings:issue_add": [("post", lambda w: f"{M}/{kab_meeting(w).pk}/issues/",
                            {"i-category": "poverty", "i-description": "probe"}, MANAGE)],
    "meetings:attachment_add": [("post", lambda w: f"{M}/{kab_meeting(w).pk}/attachments/",
                                 minutes_file, MANAGE)],
    # Rights are checked before the entry is looked up: a missing one is a 404
    # only for those who may manage the meeting.
    "meetings:part_remove": [("post", lambda w: f"{M}/{kab_meeting(w).pk}/remove/issue/0/",
                              {}, expect(302, 404, 404, 403, 403, 403, 404))],
    "meetings:attachment": [("get", lambda w: f"{M}/{kab_meeting(w).pk}/attachments/"
                             f"{attachment(w)}/", None, SEE)],
    "meetings:commitment_create": [("get", lambda w: f"{M}/{kab_meeting(w).pk}/commitments/"
                                    "new/", None, MANAGE_PAGE)],
    "meetings:commitment_import": [("post", lambda w: f"{M}/{kab_meeting(w).pk}/commitments/"
                                    "import/", {}, MANAGE)],
    "meetings:meeting_brief": [("get", lambda w: f"{M}/{kab_meeting(w).pk}/brief/", None,
                                SEE)],
    "meetings:board": [("get", lambda w: f"{M}/commitments/", None,
                        expect(302, 200, 200, 200, 200, 200, 200))],
    "meetings:board_export": [("get", lambda w: f"{M}/commitments/export.xlsx", None,
                               expect(302, 200, 200, 200, 200, 200, 200))],
    "meetings:commitment_template": [("get", lambda w: f"{M}/commitments/template.xlsx", None,
                                      expect(302, 200, 200, 403, 403, 403, 200))],
    "meetings:commitment": [("get", lambda w: f"{M}/commitments/{own_commitment(w)}/", None,
                             SEE)],
    "meetings:commitment_edit": [("get", lambda w: f"{M}/commitments/{own_commitment(w)}/"
                                  "edit/", None, MANAGE_PAGE)],
    "meetings:progress_add": [
        ("post", lambda w: f"{M}/commitments/{own_commitment(w)}/progress/",
         {"kind": "progress", "narrative": "probe"}, expect(302, 302, 302, 302, 403, 403, 404)),
        ("post", lambda w: f"{M}/commitments/{other_commitment(w)}/progress/",
         {"kind": "progress", "narrative": "probe"}, expect(302, 302, 302, 403, 403, 403, 404)),
    ],
    "meetings:evidence": [("get", lambda w: f"{M}/evidence/{evidence(w)}/", None, SEE)],
    # Asking for a PDF is a write (a job, a file): every role but the
    # read-only leader, for a meeting it sees.
    "meetings:brief_generate": [("post", lambda w: f"{M}/briefs/",
                                 lambda w: {"meeting": kab_meeting(w).pk},
                                 expect(302, 302, 302, 302, 302, 403, 404)),
                                ("post", lambda w: f"{M}/briefs/", {"region": KAB},
                                 expect(302, 302, 302, 302, 404, 403, 404))],
    # A brief holds what its maker's scope sees: it opens (202 while being
    # made) for users of that same scope only, a 404 for everyone else.
    "meetings:brief_download": [
        ("get", lambda w: f"{M}/briefs/{brief(w, KAB)}/", None,
         expect(302, 404, 202, 202, 404, 404, 404)),
        ("get", lambda w: f"{M}/briefs/{brief(w, '19')}/", None,
         expect(302, 202, 404, 404, 404, 202, 404)),
    ],
    # The PDF part of the brief page, asked again while the PDF is made:
    # the same readers as the PDF itself.
    "meetings:brief_status": [
        ("get", lambda w: f"{M}/briefs/{brief(w, KAB)}/status/", None,
         expect(302, 404, 200, 200, 404, 404, 404)),
        ("get", lambda w: f"{M}/briefs/{brief(w, '19')}/status/", None,
         expect(302, 200, 404, 404, 404, 200, 404)),
    ],
    "meetings:region_brief": [("get", lambda w: f"{M}/regions/{KAB}/brief/", None,
                               expect(302, 200, 200, 200, 404, 200, 404))],
    "GET /api/v1/meetings": [("get", lambda w: "/api/v1/meetings", None,
                              expect(401, 200, 200, 200, 200, 200, 200))],
    "POST /api/v1/meetings": [("post", lambda w: "/api/v1/meetings",
                               {"kind": "rakor", "title": "Probe API", "starts_on": "2026-05-01",
                                "region": KAB}, expect(401, 201, 201, 403, 403, 403, 404))],
    "GET /api/v1/meetings/{meeting_id}": [("get", lambda w: f"/api/v1/meetings/"
                                           f"{kab_meeting(w).pk}", None,
                                           expect(401, 200, 200, 200, 200, 200, 404))],
    "PATCH /api/v1/meetings/{meeting_id}": [("patch", lambda w: f"/api/v1/meetings/"
                                             f"{kab_meeting(w).pk}", {"place": "Koba"},
                                             expect(401, 200, 200, 403, 403, 403, 404))],
    # Access is decided before the body: agency 0 is then refused as a value
    # (400); tests/test_meetings.py creates commitments through the API.
    "POST /api/v1/meetings/{meeting_id}/commitments": [
        ("post", lambda w: f"/api/v1/meetings/{kab_meeting(w).pk}/commitments",
         {"text": "Probe via API", "owner_agency": 0},
         expect(401, 400, 400, 403, 403, 403, 404))],
    "GET /api/v1/commitments": [("get", lambda w: "/api/v1/commitments", None,
                                 expect(401, 200, 200, 200, 200, 200, 200))],
    "GET /api/v1/commitments/{commitment_id}": [
        ("get", lambda w: f"/api/v1/commitments/{own_commitment(w)}", None,
         expect(401, 200, 200, 200, 200, 200, 404))],
    "PATCH /api/v1/commitments/{commitment_id}": [
        ("patch", lambda w: f"/api/v1/commitments/{own_commitment(w)}", {"unit": "desa"},
         expect(401, 200, 200, 403, 403, 403, 404))],
    "POST /api/v1/commitments/{commitment_id}/progress": [
        ("post", lambda w: f"/api/v1/commitments/{own_commitment(w)}/progress",
         {"narrative": "probe"}, expect(401, 201, 201, 201, 403, 403, 404)),
        ("post", lambda w: f"/api/v1/commitments/{other_commitment(w)}/progress",
         {"narrative": "probe"}, expect(401, 201, 201, 403, 403, 403, 404)),
    ],
}
