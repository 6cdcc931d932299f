"""Benchmark: making the rakor brief PDF of a meeting.

Scale: a meeting of Bangka Tengah (19.04) with 50 commitments, and one with
500, in a mix of states (late, done, in progress with a measure, not
started, cancelled, one counted live from the registry), on a temporary
SQLite database with the regions of province 19 and its default agencies.

    .venv/bin/python bench/brief.py
    .venv/bin/python bench/brief.py --sizes 50 500 2000 --repeat 5

Prints, per size, the median of the runs for reading the data
(brief_context), rendering (render_pdf) and both, with the pages and bytes
of the PDF. Target: at most 5 s end to end for 50 commitments.
"""

import argparse
import datetime
import gzip
import io
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

KAB = "19.04"


def setup(tmp: str) -> None:
    os.environ["SINERGI_VAR_DIR"] = tmp
    os.environ["SINERGI_DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sinergi.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from sinergi.agencies.services import agency_seed_defaults
    from sinergi.regions.services import DEFAULT_FILE, regions_load

    call_command("migrate", verbosity=0)
    slice_file = Path(tmp) / "regions-19.csv"
    with gzip.open(DEFAULT_FILE, "rt", encoding="utf-8") as src, open(slice_file, "w") as dst:
        for i, line in enumerate(src):
            if i == 0 or line.split(",", 1)[0].split(".")[0] == "19":
                dst.write(line)
    regions_load(actor=None, path=slice_file, edition="bench slice")
    agency_seed_defaults(actor=None, region_code=KAB)


def make_meeting(n: int):
    from django.utils import timezone

    from sinergi.agencies.models import Agency
    from sinergi.meetings.models import (
        AgendaItem,
        Commitment,
        Desk,
        Meeting,
        MeetingIssue,
        Participant,
    )
    from sinergi.regions.models import Region

    today = timezone.localdate()
    agencies = list(Agency.objects.filter(region_id=KAB).order_by("id"))
    village = Region.objects.filter(code__startswith=KAB + ".", level=4).order_by("code").first()
    meeting = Meeting.objects.create(
        kind="rakor_teknis", title=f"Rakor Teknis Bangka Tengah ({n} komitmen)",
        starts_on=today - datetime.timedelta(days=90), region_id=KAB, place="Aula Koba",
        chair="Sekda Bangka Tengah", host_agency=agencies[0])
    for d, name in enumerate(["Layanan Dasar", "Ekonomi Keluarga", "Tata Kelola dan PUG"]):
        desk = Desk.objects.create(meeting=meeting, name=name, position=d)
        for t in range(3):
            AgendaItem.objects.create(meeting=meeting, desk=desk, position=d * 3 + t,
                                      title=f"Topik {d + 1}.{t + 1} {name.lower()}")
    for i, agency in enumerate(agencies):
        Participant.objects.create(meeting=meeting, agency=agency, attended=i % 4 != 0)
    for i in range(8):
        MeetingIssue.objects.create(meeting=meeting, category="violence", region_id=KAB,
                                    description=f"Isu {i + 1}: kasus kekerasan terhadap anak "
                                                "dan perempuan di kecamatan yang dilaporkan.")
    made = []
    for i in range(1, n + 1):
        c = Commitment(meeting=meeting, number=i, region_id=KAB,
                       owner_agency=agencies[i % len(agencies)],
                       text=f"Komitmen {i}: menyelesaikan tindak lanjut hasil rakor dan "
                            "melaporkan capaian per desa kepada Bappeda setiap triwulan.",
                       due_date=today + datetime.timedelta(days=60 + i % 300))
        if i % 5 == 1:
            c.due_date = today - datetime.timedelta(days=10 + i % 200)
        elif i % 5 == 0:
            c.done_on = today - datetime.timedelta(days=1)
        elif i % 5 == 2:
            c.unit, c.baseline, c.target = "desa", Decimal(10), Decimal(50)
            c.value, c.value_date, c.last_update_on = Decimal(10 + i % 40), today, today
        elif i == 4:
            c.cancelled_on, c.cancel_reason = today, "digabung"
        made.append(c)
    made[-2].source, made[-2].region_id, made[-2].target = "registry.persons", village.code, 100
    Commitment.objects.bulk_create(made)
    return meeting


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    setup(tmp.name)
    from django.utils import translation
    from pypdf import PdfReader

    from sinergi.meetings import briefs

    print("database: sqlite")
    with translation.override("id"):
        # Warm up fonts and imports first.
        briefs.render_pdf(briefs.brief_context(scope_root=None, meeting=make_meeting(3)))
        for n in args.sizes:
            meeting = make_meeting(n)
            reads, renders, totals = [], [], []
            pdf = b""
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                context = briefs.brief_context(scope_root=None, meeting=meeting)
                t1 = time.perf_counter()
                pdf = briefs.render_pdf(context)
                t2 = time.perf_counter()
                reads.append(t1 - t0)
                renders.append(t2 - t1)
                totals.append(t2 - t0)
            pages = len(PdfReader(io.BytesIO(pdf)).pages)
            print(f"{n} commitments: brief_context {statistics.median(reads):.3f} s, "
                  f"render_pdf {statistics.median(renders):.3f} s, "
                  f"total {statistics.median(totals):.3f} s (median of {args.repeat}); "
                  f"{pages} pages, {len(pdf) / 1024:.0f} KiB")
    tmp.cleanup()


if __name__ == "__main__":
    main()
