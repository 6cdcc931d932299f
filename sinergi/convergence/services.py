"""Keeping the coverage rollup in step with the data.

Anything that changes what coverage counts calls ``refresh_requested`` in
its own transaction; it records the request and queues a job of kind
``convergence.refresh`` (one waiting at a time), which ``refresh_pending``
works off in ``sinergi worker`` — so a province's minute-long
recomputation never runs inside a user's request.
"""

import logging
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from sinergi.accounts import access
from sinergi.core import jobs
from sinergi.core.audit import audit_record
from sinergi.regions.codes import code_in_subtree

from . import selectors, sql
from .models import CoverageCell, RefreshRequest

log = logging.getLogger(__name__)
JOB_KIND = "convergence.refresh"
# A recomputation waits this long after the first change that asks for it,
# so a burst of changes (an afternoon of enrollments) is counted by one run
# instead of holding the write lane (and SQLite's write lock) back to back.
REFRESH_DELAY_SECONDS = 60


def refresh_requested(*, region_code: str, year: int) -> None:
    """Note that the coverage of ``region_code`` (a village, a kabupaten, a
    province: the smallest region the change touched) in ``year`` is stale."""
    if not region_code:
        return
    RefreshRequest.objects.update_or_create(region_code=region_code, year=int(year),
                                            defaults={"requested_at": timezone.now()})
    jobs.enqueue(JOB_KIND, once=True, delay=REFRESH_DELAY_SECONDS)


def pending(region_code: str, year: int) -> bool:
    return RefreshRequest.objects.filter(sql.pending_q(region_code), year=year).exists()


# Past this many kabupaten (in a province) or kecamatan (in a kabupaten)
# asking at once, recomputing the region above costs less than the parts.
MERGE_AT = 3


def refresh_roots(codes: set[str], *, counted: bool = True) -> list[str]:
    """The subtrees to recompute for the requested region codes of one
    province: the smallest that hold them all, a kecamatan at the least (a
    village costs nearly as much as its kecamatan: the sums above dominate).
    A province never counted yet (``counted`` False) is recomputed whole,
    since the sums above a part would hold that part only."""
    province = min(codes)[:2]
    kabs = {code[:5] for code in codes}
    if not counted or province in codes or len(kabs) >= MERGE_AT:
        return [province]
    roots = []
    for kab in sorted(kabs):
        inside = {code for code in codes if code_in_subtree(code, kab)}
        kecamatan = {code[:8] for code in inside}
        roots += [kab] if kab in inside or len(kecamatan) >= MERGE_AT else sorted(kecamatan)
    return roots


def refresh_pending(*, limit: int = 10, context: jobs.Context | None = None) -> int:
    """Recompute what was requested, a province and year at a time (oldest
    first), each through the fewest subtrees that hold its requests; a
    request renewed during a recomputation stays for the next round.
    Returns how many (province, year) pairs ran."""
    groups: dict[tuple[str, int], list] = defaultdict(list)
    for request in RefreshRequest.objects.order_by("requested_at"):
        groups[(request.region_code[:2], request.year)].append(request)
    done = 0
    for (province, year), requests in list(groups.items())[:limit]:
        counted = CoverageCell.objects.filter(year=year, level=1, region_code=province).exists()
        for root in refresh_roots({r.region_code for r in requests}, counted=counted):
            selectors.refresh(region=root, year=year)
            if context is not None:
                context.beat()
        for request in requests:
            RefreshRequest.objects.filter(pk=request.pk,
                                          requested_at=request.requested_at).delete()
        done += 1
    return done


def refresh_work(_ref_id: None, context: jobs.Context) -> None:
    """The work of a ``convergence.refresh`` job: the requests waiting when it
    starts, once each. A request renewed meanwhile stays for the next job
    (``refresh_requested`` queued it), so the job ends and other work of its
    lane (an import) gets its turn."""
    refresh_pending(limit=100, context=context)


def request_daily_refresh(today=None) -> int:
    """Ages move with the date: ask again for rollups computed before today."""
    today = today or timezone.localdate()
    stale = (CoverageCell.objects.filter(level=1, as_of__lt=today)
             .values_list("region_code", "year").distinct())
    count = 0
    for code, year in stale:
        refresh_requested(region_code=code, year=year)
        count += 1
    return count


@transaction.atomic
def coverage_refresh_request(*, actor, region_code: str, year: int) -> None:
    """A user's request to recompute a region's coverage now: asked for and
    audited, not done here (a province takes minutes; the worker runs it)."""
    access.check_capability(actor, "program.edit")
    refresh_requested(region_code=region_code, year=year)
    audit_record(actor=actor, action="convergence.refresh",
                 object_type="convergence.coveragecell", region_code=region_code,
                 after={"year": year})


def unserved_export(*, actor, region_code: str, year: int, programs, today):
    """The whole unserved list of a region for an Excel export (personal
    data: audited before it is read out)."""
    access.check_capability(actor, "person.export")
    with transaction.atomic():
        audit_record(actor=actor, action="convergence.unserved_export",
                     object_type="convergence.unserved", region_code=region_code,
                     after={"year": year, "programs": [x.code for x in programs or []]})
    return selectors.unserved_rows(region=region_code, year=year, programs=programs,
                                   today=today)
