"""Keeping the coverage rollup in step with the data.

Anything that changes what coverage counts calls ``refresh_requested`` in
its own transaction; the request is worked off by ``refresh_pending`` —
in a thread of the serving process right after the commit (when background
threads are on, as in ``sinergi serve``) and by ``sinergi worker`` — so a
province's minute-long recomputation never runs inside a user's request.
"""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from . import selectors
from .models import CoverageCell, RefreshRequest

log = logging.getLogger(__name__)
_running = threading.Lock()


def refresh_requested(*, region_code: str, year: int) -> None:
    """Note that the coverage of ``region_code``'s province in ``year`` is stale."""
    if not region_code:
        return
    RefreshRequest.objects.update_or_create(region_code=region_code[:2], year=int(year),
                                            defaults={"requested_at": timezone.now()})
    if settings.IMPORT_RUN_IN_THREAD:
        transaction.on_commit(_start_thread)


def pending(region_code: str, year: int) -> bool:
    return RefreshRequest.objects.filter(region_code=region_code[:2], year=year).exists()


def refresh_pending(*, limit: int = 10) -> int:
    """Recompute what was requested, oldest first; a request that arrives
    during a recomputation stays for the next round. Returns how many ran."""
    done = 0
    for request in RefreshRequest.objects.order_by("requested_at")[:limit]:
        seen = request.requested_at
        selectors.refresh(region=request.region_code, year=request.year)
        RefreshRequest.objects.filter(pk=request.pk, requested_at=seen).delete()
        done += 1
    return done


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


def _start_thread() -> None:
    def work():
        if not _running.acquire(blocking=False):
            return  # one recomputation at a time per process; the next round picks it up
        close_old_connections()
        try:
            refresh_pending()
        except Exception:  # a failed refresh leaves the request for the worker
            log.exception("coverage refresh failed")
        finally:
            _running.release()
            close_old_connections()
    threading.Thread(target=work, name="coverage-refresh", daemon=True).start()
