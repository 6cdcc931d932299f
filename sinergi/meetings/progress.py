"""How far a commitment has come: its current value (typed in, or counted
live from the data) and the status that follows from it.

Counters are registered here by key; a commitment whose ``source`` names one
shows the count in its region's subtree at the moment it is read, so progress
moves when the data does, with nobody typing it. Apps that own data (the
registry now; groups and programs as they arrive) add counters with
``register``.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sinergi.regions import codes as region_codes

from .models import (
    CANCELLED,
    DONE,
    IN_PROGRESS,
    LATE,
    MANUAL,
    NOT_STARTED,
    STATUS_CHOICES,
    Commitment,
)


@dataclass(frozen=True)
class Counter:
    key: str
    label: object  # lazy translation
    unit: object
    count: Callable[[str, str, datetime.date], int]  # (region code, param, today) -> count
    param_label: object = None  # when set, the counter needs a parameter
    param_check: Callable[[str], object] | None = None  # returns a problem message or None


COUNTERS: dict[str, Counter] = {}


def register(counter: Counter) -> Counter:
    COUNTERS[counter.key] = counter
    return counter


def source_choices() -> list[tuple[str, object]]:
    return [(MANUAL, _("Manual updates")), *((c.key, c.label) for c in COUNTERS.values())]


# --- registry counters ----------------------------------------------------------------

def _persons(region: str, extra: Q) -> int:
    from sinergi.registry import codes
    from sinergi.registry.models import Person

    return Person.objects.filter(region_codes.village_in_q("village_code", region),
                                 Q(life_status=codes.ALIVE) & extra).count()


def _years_ago(today: datetime.date, years: int) -> datetime.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _desil_problem(param: str):
    if not param.isdigit() or not 1 <= int(param) <= 10:
        return _("Give the highest desil to count, a whole number from 1 to 10.")
    return None


def _families(region: str, param: str, today) -> int:
    from sinergi.registry.models import Household

    return Household.objects.filter(region_codes.village_in_q("village_code", region),
                                    is_active=True, desil__lte=int(param)).count()


register(Counter("registry.persons", _("Persons living in the region (registry)"),
                 _("persons"), lambda region, param, today: _persons(region, Q())))
register(Counter("registry.families_desil", _("Families up to a desil (registry)"),
                 _("families"), _families, param_label=_("highest desil"),
                 param_check=_desil_problem))
register(Counter(
    "registry.children_with_birth_certificate",
    _("Children under 18 with a birth certificate (registry)"), _("children"),
    lambda region, param, today: _persons(
        region, Q(birth_date__gt=_years_ago(today, 18), has_birth_certificate=True))))
register(Counter("registry.persons_with_ktp_el", _("Persons with an electronic ID (registry)"),
                 _("persons"),
                 lambda region, param, today: _persons(region, Q(has_ktp_el=True))))
register(Counter("registry.persons_insured", _("Persons with BPJS health insurance (registry)"),
                 _("persons"),
                 lambda region, param, today: _persons(region, Q(health_insurance__in=[2, 3]))))
register(Counter("registry.kb_acceptors", _("Family planning acceptors (registry)"),
                 _("persons"),
                 lambda region, param, today: _persons(region, Q(kb_method__isnull=False))))


def counter_problem(source: str, param: str) -> str | None:
    """What is wrong with a progress source and its parameter, or None."""
    if source == MANUAL:
        return None
    counter = COUNTERS.get(source)
    if counter is None:
        return str(_("Unknown progress source '%(s)s'; choose one from the list.")) % {
            "s": source}
    if counter.param_check is not None:
        problem = counter.param_check(param)
        return str(problem) if problem else None
    return None


# --- values and status -------------------------------------------------------------------

@dataclass
class Progress:
    value: Decimal | None
    as_of: datetime.date | None
    live: bool
    status: str
    percent: int | None  # 0..100 of the way from baseline to target

    @property
    def status_label(self) -> str:
        return str(dict(STATUS_CHOICES)[self.status])


def _reached(c: Commitment, value: Decimal | None) -> bool:
    if value is None or c.target is None:
        return False
    baseline = c.baseline if c.baseline is not None else Decimal(0)
    return value <= c.target if c.target < baseline else value >= c.target


def _percent(c: Commitment, value: Decimal | None) -> int | None:
    if value is None or c.target is None:
        return None
    baseline = c.baseline if c.baseline is not None else Decimal(0)
    if c.target == baseline:
        return 100 if value == c.target else 0
    share = (value - baseline) / (c.target - baseline)
    return max(0, min(100, int(share * 100)))


def derive(c: Commitment, value: Decimal | None, today: datetime.date) -> str:
    """The status from the facts: cancelled, done (marked, or the target
    reached), late (past its due date, not done), in progress (any update, or
    a value moved off the baseline), else not started."""
    if c.cancelled_on:
        return CANCELLED
    if c.done_on or _reached(c, value):
        return DONE
    if c.due_date and c.due_date < today:
        return LATE
    # A missing baseline counts as 0, as in _percent and _reached: a live count
    # of 0 with no baseline has not moved.
    baseline = c.baseline if c.baseline is not None else Decimal(0)
    moved = value is not None and value != baseline
    if c.last_update_on or moved:
        return IN_PROGRESS
    return NOT_STARTED


def _live_counts(keys: set[tuple[str, str, str]], today: datetime.date) -> dict:
    """The live counts of ``keys`` (counter, parameter, region), each made at
    most once per PROGRESS_CACHE_SECONDS (per process): a board viewed by
    every desk of a rakor would otherwise count the province's registry
    again for each view. They are aggregate counts, never personal data."""
    seconds = settings.PROGRESS_CACHE_SECONDS
    names = {key: "progress:" + ":".join((*key, today.isoformat())) for key in keys}
    cached = cache.get_many(list(names.values())) if seconds else {}
    counted, fresh = {}, {}
    for key, name in names.items():
        if name in cached:
            counted[key] = cached[name]
        else:
            counted[key] = fresh[name] = COUNTERS[key[0]].count(key[2], key[1], today)
    if fresh and seconds:
        cache.set_many(fresh, seconds)
    return counted


def progress_of(commitments: Iterable[Commitment],
                today: datetime.date | None = None) -> dict[int, Progress]:
    """Current value and status of each commitment; live counts are made once
    per distinct (counter, parameter, region), however many commitments share it."""
    today = today or timezone.localdate()
    commitments = list(commitments)
    counted = _live_counts({(c.source, c.source_param, c.region_id) for c in commitments
                            if c.is_data_bound and c.source in COUNTERS}, today)
    out = {}
    for c in commitments:
        if c.is_data_bound and c.source in COUNTERS:
            key = (c.source, c.source_param, c.region_id)
            value, as_of, live = Decimal(counted[key]), today, True
        else:
            value, as_of, live = c.value, c.value_date, False
        out[c.pk] = Progress(value=value, as_of=as_of, live=live,
                             status=derive(c, value, today), percent=_percent(c, value))
    return out


@dataclass(frozen=True, slots=True)
class Tracked:
    """A commitment with its progress as read now: a row of the board, the
    home page, the export and the API (whose CommitmentOut reads both).
    Unpacks as ``commitment, progress``. Not a tuple: the API would take a
    tuple returned by an endpoint for (status, body)."""

    commitment: Commitment
    progress: Progress

    def __iter__(self):
        return iter((self.commitment, self.progress))

    def __len__(self) -> int:  # templates unpack what has a length
        return 2


def tracked(commitments: Iterable[Commitment],
            today: datetime.date | None = None) -> list[Tracked]:
    """Each commitment with its progress (progress_of), in the order given."""
    commitments = list(commitments)
    states = progress_of(commitments, today)
    return [Tracked(c, states[c.pk]) for c in commitments]


def tracked_one(commitment: Commitment) -> Tracked:
    return tracked([commitment])[0]


# Sections apps above add to a region's rakor brief (monitoring: did joining
# raise income?): fn(scope_root, region_code) -> {"title", "lines",
# "headers", "rows"} or None. Registered at start-up (an app's ready()),
# here beside the counters because this module loads nothing heavy.
SECTIONS: list = []


def register_section(fn) -> None:
    """Add a section to every region brief (once per function)."""
    if fn not in SECTIONS:
        SECTIONS.append(fn)
