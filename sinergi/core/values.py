"""Turning values typed in forms, sent by the API or read from a file into
clean Python values, or a SinergiError naming the field and what to write.

One definition for every path, so a date or a number is read the same way
in a form, a JSON body and an Excel row.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .errors import SinergiError


def text(value, field: str, limit: int | None, *, required: bool = False) -> str:
    """Trimmed text; with a ``limit``, inner runs of spaces become one."""
    out = "" if value is None else " ".join(str(value).split()) if limit else str(value).strip()
    if required and not out:
        raise SinergiError(_("This field is required; fill it in."), field=field)
    if limit and len(out) > limit:
        raise SinergiError(_("At most %(n)d characters, please shorten it.") % {"n": limit},
                           field=field)
    return out


_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def as_date(value, field: str, *, required: bool = False) -> datetime.date | None:
    """A date from a date, a datetime, ``YYYY-MM-DD`` or ``DD/MM/YYYY``."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    raw = "" if value is None else str(value).strip()
    if not raw:
        if required:
            raise SinergiError(_("A date is required; write it as YYYY-MM-DD or DD/MM/YYYY."),
                               field=field)
        return None
    try:
        m = _DMY.match(raw)
        if m:
            return datetime.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise SinergiError(_("'%(v)s' is not a date; write it as YYYY-MM-DD or DD/MM/YYYY, "
                             "e.g. 31/12/2026.") % {"v": raw[:40]}, field=field) from None


def as_decimal(value, field: str, *, places: int = 2) -> Decimal | None:
    """A number, kept to ``places`` decimals; one comma is read as the
    decimal mark (Indonesian style)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise SinergiError(_("A number is needed here."), field=field)
    raw = str(value).strip().replace(" ", "")
    if raw.count(",") == 1 and "." not in raw:
        raw = raw.replace(",", ".")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise SinergiError(_("'%(v)s' is not a number; write digits only, e.g. 132 or 12.5.")
                           % {"v": str(value)[:40]}, field=field) from None
    if not number.is_finite() or abs(number) >= Decimal("1e12"):
        raise SinergiError(_("'%(v)s' is not a usable number.") % {"v": str(value)[:40]},
                           field=field)
    return number.quantize(Decimal(1).scaleb(-places))


def choice(value, field: str, choices) -> str:
    keys = [k for k, _label in choices]
    key = text(value, field, 40, required=True)
    if key not in keys:
        raise SinergiError(_("Unknown value '%(v)s'; choose one of: %(all)s.")
                           % {"v": key, "all": ", ".join(keys)}, field=field)
    return key


def as_int(value, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SinergiError(_("'%(v)s' is not a whole number.") % {"v": value},
                           field=field) from None


class _Unset:
    """The value of a keyword a caller did not give: an update service
    changes only the fields it is given (None is a value: "empty it")."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET = _Unset()


def given(**fields) -> dict:
    """The keyword arguments a caller gave (those not UNSET)."""
    return {name: value for name, value in fields.items() if value is not UNSET}
