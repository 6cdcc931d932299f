"""Every request's database work is bounded in time.

A page or API call that would read the whole province for minutes holds a
server thread (and on SQLite, readers slow the one writer) while its user
has long given up. So every request gets a deadline
(``settings.REQUEST_TIME_LIMIT`` seconds; ``EXPORT_TIME_LIMIT`` for views
marked with ``time_limit``):

- SQLite: a progress handler on the request's connection, called every few
  thousand virtual-machine steps, interrupts the running statement once the
  deadline has passed (the Datasette habit);
- PostgreSQL: ``statement_timeout`` for each statement of the request, and
  no new statement starts after the deadline.

The request then answers 503 with "too heavy: narrow the region or the
rule"; an interrupted statement inside a transaction rolls it back, so
nothing is half-written. Background jobs run in other processes, without
limits.
"""

import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, connection
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.shortcuts import render
from django.utils.translation import gettext as _

# How many SQLite virtual-machine steps between two looks at the clock: a
# look costs a Python call, a step a few nanoseconds.
_SQLITE_STEPS = 20_000

_state = threading.local()


class RequestTooHeavy(Exception):
    """The request's database work went past its time limit. Not a
    SinergiError: nothing the user typed is wrong, so it answers 503 (pages
    and API), never a form error; views that show results in place (htmx
    previews) catch it to show the message there."""

    def __init__(self, seconds: float):
        self.message = str(_(
            "This request is too heavy to answer within %(s)s seconds. Narrow it — a smaller "
            "region, more filters or a simpler rule — and try again; for a whole province, "
            "ask for an Excel export or a report.") % {"s": f"{seconds:g}"})
        super().__init__(self.message)
        self.seconds = seconds


def time_limit(seconds_setting: str) -> Callable:
    """Mark a view whose limit is another setting (Excel exports)."""
    def mark(view):
        view.time_limit_setting = seconds_setting
        return view
    return mark


def _deadline() -> float | None:
    return getattr(_state, "deadline", None)


def _sqlite_progress() -> int:
    deadline = _deadline()
    return 1 if deadline is not None and time.monotonic() > deadline else 0


# Transaction control always runs: a savepoint rolled back after the
# deadline undoes the request's writes, so it must not be refused itself.
_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")


def _check_deadline(execute, sql, params, many, context):
    deadline = _deadline()
    if deadline is not None and time.monotonic() > deadline \
            and not sql.lstrip()[:10].upper().startswith(_CONTROL):
        raise RequestTooHeavy(_state.seconds)
    return execute(sql, params, many, context)


def _start(seconds: float) -> None:
    _state.seconds = seconds
    _state.deadline = time.monotonic() + seconds
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        connection.connection.set_progress_handler(_sqlite_progress, _SQLITE_STEPS)
    elif connection.vendor == "postgresql":
        # The setting stays on a kept connection: set it only when it changes
        # (a round trip per request otherwise).
        ms = str(max(1, int(seconds * 1000)))
        if getattr(connection, "sinergi_statement_timeout", None) != ms:
            with connection.cursor() as cur:
                cur.execute("SELECT set_config('statement_timeout', %s, false)", [ms])
            connection.sinergi_statement_timeout = ms


@receiver(connection_created)
def _forget_timeout(sender, connection, **kwargs):
    """A new connection has the server's default statement_timeout."""
    connection.sinergi_statement_timeout = None


def _stop() -> None:
    _state.deadline = None
    if connection.connection is None:
        return
    if connection.vendor == "sqlite":
        connection.connection.set_progress_handler(None, _SQLITE_STEPS)
    # PostgreSQL keeps the setting on the connection; the next request sets
    # its own, and web processes run nothing else.


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` is a statement stopped by the request's deadline."""
    if isinstance(exc, RequestTooHeavy):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if isinstance(cause, sqlite3.OperationalError):
        return str(cause) == "interrupted"
    return type(cause).__name__ == "QueryCanceled"


def too_heavy_for(exc: BaseException) -> RequestTooHeavy:
    return exc if isinstance(exc, RequestTooHeavy) else RequestTooHeavy(
        getattr(_state, "seconds", settings.REQUEST_TIME_LIMIT))


@contextmanager
def bounded():
    """Turn a statement stopped by the deadline into ``RequestTooHeavy``, so
    a view that shows SinergiError messages in place (an htmx preview) shows
    this one too."""
    try:
        yield
    except OperationalError as exc:
        if is_timeout(exc):
            raise too_heavy_for(exc) from exc
        raise


class TimeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _applies(request):
            return self.get_response(request)
        _start(settings.REQUEST_TIME_LIMIT)
        try:
            with connection.execute_wrapper(_check_deadline):
                return self.get_response(request)
        finally:
            _stop()

    def process_view(self, request, view_func, view_args, view_kwargs):
        name = getattr(view_func, "time_limit_setting", None)
        if name and _deadline() is not None:
            _start(getattr(settings, name))
        return None

    def process_exception(self, request, exception):
        if not is_timeout(exception):
            return None
        error = too_heavy_for(exception)
        return render(request, "503.html", {"message": error.message}, status=503)


def _applies(request) -> bool:
    return not request.path.startswith(settings.STATIC_URL)
