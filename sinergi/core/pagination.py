"""Keyset pagination: every list on a request path is bounded and indexed.

A page is ``limit`` rows after a cursor. The cursor is an opaque token of
the last row's sort-key values, so the next page is an index range scan
(``WHERE (a, b, id) > (...)``), not an OFFSET that reads every row before.
One extra row is fetched to know whether there is more.
"""

import base64
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .errors import SinergiError


@dataclass
class Page:
    items: list
    next_cursor: str | None
    limit: int


def encode_cursor(values: list) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        values = None
    if not isinstance(values, list) or len(values) != width:
        raise _cursor_error()
    return values


def _cursor_error() -> SinergiError:
    return SinergiError(
        _("The page cursor is not valid; start again from the first page."), field="cursor"
    )


def cursor_values(model, keys: list[str], values: list) -> list:
    """The decoded cursor values as the key fields' own types, or a 400.

    A cursor is opaque but not secret: anyone can decode, change and send
    it back. A null, a list, a string where a number goes or a NUL byte
    would otherwise reach the database and end in a 500.
    """
    checked = []
    for key, value in zip(keys, values, strict=True):
        if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _cursor_error()
        if isinstance(value, str) and "\x00" in value:
            raise _cursor_error()
        try:
            field = model._meta.get_field(key)
        except FieldDoesNotExist:
            checked.append(value)
            continue
        target = getattr(field, "target_field", field)
        try:
            value = target.to_python(value)
            target.run_validators(value)
        except (ValidationError, TypeError, ValueError, OverflowError):
            raise _cursor_error() from None
        if value is None:
            raise _cursor_error()
        checked.append(value)
    return checked


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return settings.PAGE_SIZE
    if limit < 1 or limit > settings.PAGE_SIZE_MAX:
        raise SinergiError(
            _("limit must be between 1 and %(max)d.") % {"max": settings.PAGE_SIZE_MAX},
            field="limit",
        )
    return limit


def keyset_page(
    qs: QuerySet, keys: list[str], *, cursor: str | None, limit: int | None
) -> Page:
    """One page of ``qs`` ordered ascending by ``keys``.

    ``keys`` are concrete column attnames (``region_id``, not ``region``)
    and the last one is unique, so the order is total.
    """
    limit = clamp_limit(limit)
    qs = qs.order_by(*keys)
    if cursor:
        values = cursor_values(qs.model, keys, decode_cursor(cursor, len(keys)))
        after = Q()
        for i, key in enumerate(keys):
            step = Q(**{f"{key}__gt": values[i]})
            for prev_key, prev_value in zip(keys[:i], values[:i], strict=True):
                step &= Q(**{prev_key: prev_value})
            after |= step
        qs = qs.filter(after)
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, k) for k in keys])
    return Page(items=rows, next_cursor=next_cursor, limit=limit)

