"""The one job runner: imports, rakor brief PDFs, coverage recomputations,
and every background job kind to come.

An app registers its kinds in its ``jobs.py`` (found the way Django finds
``admin.py``): a function that does the work, a hook that puts the app's
own row (the import, the brief) in the job's final state, and a lane.

The life of a job:

- ``enqueue`` writes a ``core.Job`` row, pending, in the caller's
  transaction: a job exists exactly when the change that asked for it does.
- ``sinergi worker`` (started by ``sinergi serve``) is a supervisor: it
  starts ``sinergi worker --run-job ID`` as a fresh process for the oldest
  pending job whose lane is free (one job per lane at a time: imports and
  recomputations share the "write" lane, so on SQLite they never wait on
  each other's write lock; PDFs run beside them). Web processes never run
  jobs: a fork of a process whose native thread pools (polars) have started
  hangs, and a job must be killable without killing a web worker.
- the child claims the job with a compare-and-swap UPDATE (one winner, on
  any number of hosts), runs the kind's function and ends the job.
- the supervisor watches its children. A child that shows no sign of
  progress for ``JOB_STALL_SECONDS`` (no CPU time used, no progress
  report, no active PostgreSQL query) is killed and its job failed; a job
  whose cancellation was asked is killed and cancelled. Killing is safe:
  every job writes in one transaction, which the database rolls back.
- ``reap`` (run by every supervisor pass) fails the running jobs whose
  process is gone (same host) or whose heartbeat stopped (other hosts).

A failure of the supervisor's own (a database error) is logged and retried
with a growing pause; the loop never ends on one.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from .audit import audit_record
from .bulk import process_alive
from .errors import SinergiError
from .models import Job

log = logging.getLogger(__name__)

PENDING, RUNNING, DONE, FAILED, CANCELLED = (Job.PENDING, Job.RUNNING, Job.DONE, Job.FAILED,
                                             Job.CANCELLED)
ACTIVE = (PENDING, RUNNING)


class JobCancelled(Exception):
    """Raised inside a job at its next progress report once cancellation is asked."""


@dataclass(frozen=True)
class Kind:
    """A kind of background job.

    ``run(ref_id, context)`` does the work; it raises ``SinergiError`` with
    the user's message when the work cannot be done. ``end(ref_id, status,
    message)`` puts the domain row in ``status`` (failed or cancelled) with
    ``message`` if it is not finished yet, and says whether it did: False
    means the work had already committed, so the job counts as done.
    ``cleanup()`` removes what a killed job of this kind may leave on disk.
    """

    name: str
    run: Callable[[int | None, Context], None]
    end: Callable[[int | None, str, str], bool] | None = None
    lane: str = "default"
    cleanup: Callable[[], None] | None = None


@dataclass
class _Periodic:
    every: float
    function: Callable[[], object]
    last: float = 0.0


_KINDS: dict[str, Kind] = {}
_PERIODIC: list[_Periodic] = []
_discovered = False


def register(name: str, *, run, end=None, lane: str = "default", cleanup=None) -> Kind:
    kind = Kind(name=name, run=run, end=end, lane=lane, cleanup=cleanup)
    _KINDS[name] = kind
    return kind


def periodic(every_seconds: float):
    """Register a function the worker calls every ``every_seconds`` (it should
    only enqueue jobs: it runs in the supervisor's loop)."""
    def decorate(function):
        _PERIODIC.append(_Periodic(every=every_seconds, function=function))
        return function
    return decorate


def kinds() -> dict[str, Kind]:
    global _discovered
    if not _discovered:
        autodiscover_modules("jobs")
        _discovered = True
    return _KINDS


def worker_id(pid: int | None = None) -> str:
    return f"{socket.gethostname()}:{pid or os.getpid()}"


def _pid_of(worker: str, host: str) -> int | None:
    """The pid in ``worker`` ("host:pid") when it names a process of ``host``."""
    name, _sep, pid = worker.rpartition(":")
    if name != host or not pid.isdigit():
        return None
    return int(pid)


# --- queue ---------------------------------------------------------------


def enqueue(kind: str, ref_id: int | None = None, *, once: bool = False,
            delay: float = 0, payload: dict | None = None) -> Job:
    """Queue a job of ``kind`` for the domain row ``ref_id``, in the caller's
    transaction. ``once``: reuse a job of the same kind and row still pending
    (its start is not pushed back, so a stream of changes cannot starve it).
    ``delay``: seconds before it may start."""
    if kind not in kinds():
        raise ValueError(f"unknown job kind {kind!r}")
    if once:
        waiting = Job.objects.filter(kind=kind, ref_id=ref_id, status=PENDING).first()
        if waiting is not None:
            return waiting
    run_after = timezone.now() + timezone.timedelta(seconds=delay) if delay else None
    return Job.objects.create(kind=kind, ref_id=ref_id, run_after=run_after,
                              payload=payload or {})


def _due_q() -> Q:
    return Q(run_after__isnull=True) | Q(run_after__lte=timezone.now())


def job_of(kind: str, ref_id: int) -> Job | None:
    """The newest job of a domain row."""
    return Job.objects.filter(kind=kind, ref_id=ref_id).order_by("-id").first()


def claim(job_id: int | None = None, *, kind: str | None = None,
          ref_id: int | None = None) -> Job | None:
    """Take a pending job (the given one, or the oldest) for this process."""
    qs = Job.objects.filter(status=PENDING)
    if job_id is not None:
        qs = qs.filter(pk=job_id)
    if kind is not None:
        qs = qs.filter(kind=kind)
    if ref_id is not None:
        qs = qs.filter(ref_id=ref_id)
    if job_id is None and ref_id is None:  # a job asked for by name runs now
        qs = qs.filter(_due_q())
    candidate = qs.order_by("id").values_list("id", flat=True).first()
    if candidate is None:
        return None
    now = timezone.now()
    # Compare-and-swap: only one process's UPDATE finds the row still pending.
    claimed = Job.objects.filter(pk=candidate, status=PENDING).update(
        status=RUNNING, started_at=now, heartbeat_at=now, worker=worker_id())
    return Job.objects.get(pk=candidate) if claimed else None


# --- running ---------------------------------------------------------------


class Context:
    """What a running job gets: ``beat()`` at each step of progress.

    A beat records the heartbeat and raises ``JobCancelled`` when someone
    asked to cancel the job, so a job run in the asking process (the
    command line) stops at its next step; the worker kills its children
    instead, which also stops a job between steps.
    """

    MIN_INTERVAL = 1.0

    def __init__(self, job: Job):
        self.job_id = job.pk
        self.payload = job.payload
        self._last = 0.0

    def beat(self) -> None:
        now = time.monotonic()
        if now - self._last < self.MIN_INTERVAL:
            return
        self._last = now
        Job.objects.filter(pk=self.job_id).update(heartbeat_at=timezone.now())
        if Job.objects.filter(pk=self.job_id, cancel_requested=True).exists():
            raise JobCancelled


def run(job: Job) -> Job:
    """Run a claimed job in this process to its end."""
    kind = kinds()[job.kind]
    try:
        kind.run(job.ref_id, Context(job))
    except JobCancelled:
        end(job, CANCELLED, _("Cancelled on request. Nothing was written."))
    except SinergiError as exc:
        end(job, FAILED, exc.message)
    except Exception as exc:  # a bug must not leave the job "running" forever
        log.exception("job %s (%s) crashed", job.pk, job.kind)
        end(job, FAILED, _("It stopped because of an internal error (%(e)s). Nothing was "
                           "written. Try again; if it fails again, tell your administrator.")
            % {"e": type(exc).__name__})
    else:
        now = timezone.now()
        Job.objects.filter(pk=job.pk, status=RUNNING).update(
            status=DONE, finished_at=now, heartbeat_at=now)
    job.refresh_from_db()
    return job


def end(job: Job, status: str, message: str) -> str:
    """End an unfinished job as ``status`` (failed or cancelled); the kind's
    hook puts its domain row in the same state. If the domain row had
    already finished (the work committed just before), the job is done.
    Returns the job's final status."""
    kind = kinds().get(job.kind)
    with transaction.atomic():
        changed = kind.end(job.ref_id, status, message) if kind and kind.end else True
        final = status if changed else DONE
        Job.objects.filter(pk=job.pk, status__in=ACTIVE).update(
            status=final, message=message if changed else "", finished_at=timezone.now())
    return final


def cancel(*, actor, job: Job, action: str, obj) -> str:
    """Ask to cancel ``job``: a pending one ends now, a running one is
    stopped by its worker within seconds (its transaction rolled back).
    ``action``/``obj`` name the audit row (the domain's own). Returns the
    status the job has now."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if locked.status not in ACTIVE:
            raise SinergiError(_("This job has already finished; there is nothing to cancel."))
        audit_record(actor=actor, action=action, obj=obj, after={"job_status": locked.status})
        if locked.status == RUNNING:
            Job.objects.filter(pk=job.pk).update(cancel_requested=True)
            return RUNNING
    return end(locked, CANCELLED, _("Cancelled before it started. Nothing was written."))


def run_pending(*, limit: int | None = None) -> int:
    """Run pending jobs one after another in this process (tests, and
    ``sinergi worker --inline``). Returns how many ran."""
    count = 0
    while limit is None or count < limit:
        job = claim()
        if job is None:
            break
        run(job)
        count += 1
    return count


def run_one(job_id: int) -> Job | None:
    """``sinergi worker --run-job ID``: claim that job and run it here."""
    job = claim(job_id)
    return run(job) if job is not None else None


# --- reaping ---------------------------------------------------------------


def reap() -> int:
    """End the running jobs whose process is gone.

    On this host the process id tells; a job of another host is presumed
    dead when its heartbeat is older than three stall periods (its
    supervisor beats for it while it works). The killed process's
    transaction was rolled back by the database; only the job rows still
    say "running".
    """
    host = socket.gethostname()
    stale_before = timezone.now() - timezone.timedelta(seconds=3 * settings.JOB_STALL_SECONDS)
    ended = 0
    for job in Job.objects.filter(status=RUNNING).order_by("id"):
        pid = _pid_of(job.worker, host)
        if pid is not None:
            if process_alive(pid):
                continue
            message = _("It was interrupted (the process running it stopped). Nothing was "
                        "written; start it again.")
        elif job.heartbeat_at is None or job.heartbeat_at < stale_before:
            message = _("Its worker (%(w)s) stopped answering. Nothing was written; start it "
                        "again.") % {"w": job.worker}
        else:
            continue
        end(job, FAILED, message)
        ended += 1
    for kind in kinds().values():
        if kind.cleanup is not None:
            kind.cleanup()
    return ended


# --- the supervisor ----------------------------------------------------------


def _cpu_ticks(pid: int) -> int | None:
    """User + system CPU time of a process, in clock ticks (Linux)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime
    except (OSError, IndexError, ValueError):
        return None


def _app_name(job_id: int) -> str:
    return f"sinergi-job-{job_id}"


def _db_active(job_ids: list[int]) -> set[int]:
    """Jobs whose process has a PostgreSQL query working: a long statement
    uses the server's CPU, not the child's. Waiting for a lock or for the
    client (a COPY whose sender stopped) is no progress."""
    if connection.vendor != "postgresql" or not job_ids:
        return set()
    names = [_app_name(i) for i in job_ids]
    with connection.cursor() as cur:
        cur.execute("SELECT application_name FROM pg_stat_activity WHERE state = 'active' "
                    "AND (wait_event_type IS NULL "
                    "OR wait_event_type IN ('IO', 'LWLock', 'IPC', 'BufferPin')) "
                    "AND application_name = ANY(%s)", [names])
        active = {row[0] for row in cur.fetchall()}
    return {i for i in job_ids if _app_name(i) in active}


@dataclass
class _Child:
    job_id: int
    lane: str
    process: subprocess.Popen
    started: float
    last_progress: float
    cpu: int | None = None
    heartbeat: object = None
    stopping: str = ""  # "", "cancel" or "stall": why it is being killed
    kill_sent: float = 0.0


@dataclass
class Supervisor:
    """``sinergi worker``: start, watch and end the jobs' processes."""

    interval: float = 1.0
    stall_seconds: float = field(default_factory=lambda: float(settings.JOB_STALL_SECONDS))
    children: dict[int, _Child] = field(default_factory=dict)
    out: Callable[[str], None] = print

    def run_forever(self, *, once: bool = False) -> None:
        failures = 0
        stop = []
        previous = signal.signal(signal.SIGTERM, lambda *_args: stop.append(True))
        try:
            while not stop:
                try:
                    busy = self.tick()
                    failures = 0
                except Exception:  # a database error must not end the worker
                    failures += 1
                    log.exception("job worker pass failed (%d in a row)", failures)
                    _drop_connection()
                    time.sleep(min(60.0, self.interval * 2 ** min(failures, 6)))
                    continue
                if once and not busy:
                    return
                time.sleep(self.interval)
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.stop_all()

    def tick(self) -> bool:
        """One pass; True while there is work running or waiting."""
        close_old_connections()
        reap()
        self.watch()
        self.start_waiting()
        self.run_periodic()
        return bool(self.children) or Job.objects.filter(_due_q(), status=PENDING).exists()

    # starting

    def start_waiting(self) -> None:
        registered = kinds()
        busy_lanes = {child.lane for child in self.children.values()}
        # Lanes busy with jobs of other workers (other hosts, the CLI).
        for kind_name in Job.objects.filter(status=RUNNING).values_list("kind", flat=True):
            if kind_name in registered:
                busy_lanes.add(registered[kind_name].lane)
        waiting = Job.objects.filter(_due_q(), status=PENDING).order_by("id").values_list(
            "id", "kind")
        for job_id, kind_name in waiting[:200]:
            kind = registered.get(kind_name)
            if kind is None:
                end(Job.objects.get(pk=job_id), FAILED,
                    _("Unknown kind of job; this version of Sinergi cannot run it."))
                continue
            if kind.lane in busy_lanes or job_id in self.children:
                continue
            self.spawn(job_id, kind.lane)
            busy_lanes.add(kind.lane)

    def spawn(self, job_id: int, lane: str) -> None:
        env = {**os.environ, "PGAPPNAME": _app_name(job_id)}
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "sinergi.cli", "worker", "--run-job", str(job_id)], env=env)
        now = time.monotonic()
        self.children[job_id] = _Child(job_id=job_id, lane=lane, process=process, started=now,
                                       last_progress=now)
        self.out(f"job {job_id}: started (pid {process.pid})")

    # watching

    def watch(self) -> None:
        if not self.children:
            return
        rows = {row["id"]: row for row in Job.objects.filter(pk__in=list(self.children))
                .values("id", "status", "heartbeat_at", "cancel_requested", "kind")}
        db_active = _db_active([i for i, r in rows.items() if r["status"] == RUNNING])
        now = time.monotonic()
        for job_id, child in list(self.children.items()):
            row = rows.get(job_id)
            code = child.process.poll()
            if code is not None:
                self._finished(child, row, code)
                continue
            if row is None:  # the job row was removed: nothing wants the work
                self._kill(child, "gone")
                continue
            cpu = _cpu_ticks(child.process.pid)
            progressed = (cpu is not None and cpu != child.cpu) \
                or row["heartbeat_at"] != child.heartbeat or job_id in db_active
            child.cpu, child.heartbeat = cpu, row["heartbeat_at"]
            if progressed:
                child.last_progress = now
                if connection.vendor == "postgresql" and row["status"] == RUNNING:
                    # Other hosts' reapers read this; on SQLite (one host) the
                    # pid tells, and a write could wait on the job's own lock.
                    # Remembered, so this beat is not taken for the child's.
                    child.heartbeat = timezone.now()
                    Job.objects.filter(pk=job_id, status=RUNNING).update(
                        heartbeat_at=child.heartbeat)
            if child.stopping:
                if now - child.kill_sent > 5:
                    child.process.kill()
                continue
            if row["cancel_requested"]:
                self._kill(child, "cancel")
            elif now - child.last_progress > self.stall_seconds:
                self._kill(child, "stall")

    def _kill(self, child: _Child, why: str) -> None:
        child.stopping = why
        child.kill_sent = time.monotonic()
        # SIGKILL: the job gets no chance to commit half of anything; the
        # database rolls its open transaction back.
        child.process.kill()

    def _finished(self, child: _Child, row: dict | None, code: int) -> None:
        """A child exited: end its job if the child could not."""
        del self.children[child.job_id]
        if row is None:
            return
        job = Job.objects.get(pk=child.job_id)
        if job.status not in ACTIVE:
            self.out(f"job {job.pk}: {job.status}")
            return
        if job.status == PENDING and not child.stopping:
            # The child died before it claimed the job (it may have lost the
            # claim to another worker, which then holds it as running).
            if code != 0:
                end(job, FAILED, _("The process that should run it could not start (exit "
                                   "code %(c)s). Tell your administrator.") % {"c": code})
            return
        if child.stopping == "cancel":
            final = end(job, CANCELLED, _("Cancelled on request. Nothing was written."))
        elif child.stopping == "stall":
            final = end(job, FAILED, _(
                "It stopped making progress for %(s)d seconds and was stopped. Nothing was "
                "written; start it again, and tell your administrator if it happens "
                "again.") % {"s": self.stall_seconds})
        else:
            final = end(job, FAILED, _("It stopped unexpectedly (exit code %(c)s). Nothing "
                                       "was written; start it again.") % {"c": code})
        self.out(f"job {job.pk}: {final}")

    def run_periodic(self) -> None:
        now = time.monotonic()
        for task in _PERIODIC:
            if now - task.last >= task.every:
                task.last = now
                task.function()

    def stop_all(self) -> None:
        """On shutdown: kill the children and end their jobs (rolled back)."""
        for child in list(self.children.values()):
            if child.process.poll() is None:
                child.process.kill()
                child.process.wait(timeout=30)
            try:
                job = Job.objects.get(pk=child.job_id)
                if job.status in ACTIVE:
                    end(job, FAILED, _("It was interrupted because the server stopped. "
                                       "Nothing was written; start it again."))
            except Exception:
                log.exception("could not end job %s on shutdown", child.job_id)
        self.children.clear()


def _drop_connection() -> None:
    try:
        connection.close()
    except Exception:
        log.exception("closing the database connection failed")


# --- the core's own kind ----------------------------------------------------

INDEX_BUILD = "core.index_build"


def _index_build_work(_ref_id: None, context: Context) -> None:
    from .bulk import index_build

    index_build(context.payload["name"], context.payload["definition"])


register(INDEX_BUILD, run=_index_build_work, lane="maintenance")
