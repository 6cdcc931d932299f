"""Ranks, trends and targets: the judgements a rakor reads off a number.

Pure functions over values, so a ranking of 514 kab/kota costs one indexed
read and a sort, and every rule here is tested without a database.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

from . import periods
from .models import LOWER

UP, STABLE, DOWN = "naik", "stabil", "turun"
TREND_LABELS = {UP: _("rising"), STABLE: _("stable"), DOWN: _("falling")}

MET, ON_TRACK, BEHIND, UNKNOWN = "met", "on_track", "behind", "unknown"
TARGET_LABELS = {MET: _("achieved"), ON_TRACK: _("on track"), BEHIND: _("behind"),
                 UNKNOWN: _("not yet judged")}

# A change smaller than this share of the earlier value reads as stable.
STABLE_SHARE = Decimal("0.01")


def rank(values: dict[str, Decimal | None], direction: str,
         decimals: int | None = None) -> dict[str, int]:
    """Competition ranks ("1, 2, 2, 4") of the regions with a value, best
    first by the indicator's direction; regions without a value get none.
    With ``decimals``, values equal as shown share their rank."""
    step = Decimal(1).scaleb(-decimals) if decimals is not None else None
    present = [(code, v.quantize(step, ROUND_HALF_UP) if step is not None else v)
               for code, v in values.items() if v is not None]
    present.sort(key=lambda item: (item[1] if direction == LOWER else -item[1], item[0]))
    out: dict[str, int] = {}
    previous, position = None, 0
    for index, (code, value) in enumerate(present, start=1):
        if value != previous:
            position, previous = index, value
        out[code] = position
    return out


@dataclass(frozen=True)
class Trend:
    direction: str  # naik / stabil / turun
    change: Decimal | None
    better: bool | None  # whether the move is for the better (None: stable or unknown)

    @property
    def label(self) -> str:
        return str(TREND_LABELS[self.direction])


def trend(previous: Decimal | None, current: Decimal | None, direction: str,
          decimals: int = 1) -> Trend | None:
    """naik / stabil / turun between two values: stable when the change is
    under 1 % of the earlier value or invisible at the shown precision."""
    if previous is None or current is None:
        return None
    change = current - previous
    shown = Decimal(1).scaleb(-decimals) / 2
    if abs(change) < shown or (previous and abs(change) < abs(previous) * STABLE_SHARE):
        return Trend(STABLE, change, None)
    rising = change > 0
    return Trend(UP if rising else DOWN, change, rising != (direction == LOWER))


@dataclass(frozen=True)
class Judgement:
    status: str
    gap: Decimal | None  # actual - target, in the indicator's unit
    expected: Decimal | None  # where the value should be by now on a straight path

    @property
    def label(self) -> str:
        return str(TARGET_LABELS[self.status])

    @property
    def shortfall(self) -> Decimal | None:
        """How far the value still is from the target (None when reached)."""
        return None if self.gap is None or self.status == MET else abs(self.gap)


def _meets(value: Decimal, goal: Decimal, direction: str) -> bool:
    return value <= goal if direction == LOWER else value >= goal


def judge(*, actual: Decimal | None, actual_period: str | None, target: Decimal,
          target_period: str, baseline: Decimal | None, baseline_period: str,
          direction: str, today: float | None = None) -> Judgement:
    """Target vs actual: achieved when the value meets the target; else on
    track when it is at least where a straight path from the baseline to the
    target would be by the end of the actual's period; else behind (and
    behind when the target's period has passed, by the figure or by today).
    Without a baseline a target not yet due cannot be judged."""
    if actual is None or actual_period is None:
        return Judgement(UNKNOWN, None, None)
    gap = actual - target
    if _meets(actual, target, direction):
        return Judgement(MET, gap, None)
    now = periods.end_position(actual_period)
    due = periods.end_position(target_period)
    if now >= due or (today is not None and today >= due):
        # Due, by the latest figure or by the calendar (``today`` as a year
        # fraction), and not met.
        return Judgement(BEHIND, gap, target)
    if baseline is None or not baseline_period:
        return Judgement(UNKNOWN, gap, None)
    start = periods.end_position(baseline_period)
    if due <= start:
        return Judgement(UNKNOWN, gap, None)
    share = Decimal(str(max(0.0, min(1.0, (now - start) / (due - start)))))
    expected = baseline + (target - baseline) * share
    status = ON_TRACK if _meets(actual, expected, direction) else BEHIND
    return Judgement(status, gap, expected.quantize(Decimal("0.0001")))
