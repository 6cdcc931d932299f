"""Keeping the coverage rollup in step with the data.

Anything that changes what coverage counts calls ``refresh_requested`` in
its own transaction; it records the request and queues a job of kind
``convergence.refresh`` (one waiting at a time), which ``refresh_pending``
works off in ``sinergi worker`` — so a province's minute-long
recomputation never runs inside a user's request.
"""

import logging

from django.utils import timezone

from sinergi.core import jobs

from . import selectors
from .models import CoverageCell, RefreshRequest

log = logging.getLogger(__name__)
JOB_KIND = "convergence.refresh"
# A recomputation waits this long after the first change that asks for it,
# so a burst of changes (an afternoon of enrollments) is counted by one run
# instead of holding the write lane (and SQLite's write lock) back to back.
REFRESH_DELAY_SECONDS = 30


def refresh_requested(*, region_code: str, year: int) -> None:
    """Note that the coverage of ``region_code``'s province in ``year`` is stale."""
    if not region_code:
        return
    RefreshRequest.objects.update_or_create(region_code=region_code[:2], year=int(year),
                                            defaults={"requested_at": timezone.now()})
    jobs.enqueue(JOB_KIND, once=True, delay=REFRESH_DELAY_SECONDS)


def pending(region_code: str, year: int) -> bool:
    return RefreshRequest.objects.filter(region_code=region_code[:2], year=year).exists()


def refresh_pending(*, limit: int = 10, context: jobs.Context | None = None) -> int:
    """Recompute what was requested, oldest first; a request that arrives
    during a recomputation stays for the next round. Returns how many ran."""
    done = 0
    for request in RefreshRequest.objects.order_by("requested_at")[:limit]:
        seen = request.requested_at
        selectors.refresh(region=request.region_code, year=request.year)
        RefreshRequest.objects.filter(pk=request.pk, requested_at=seen).delete()
        done += 1
        if context is not None:
            context.beat()
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
