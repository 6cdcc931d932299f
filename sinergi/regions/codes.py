"""Kemendagri region codes: format, kind and level rules, subtree filters.

A code is ``PP.KK.CC.XDDD`` (Permendagri 58/2021): province (2 digits),
kabupaten/kota (2; kabupaten 01-69, kota 71-99), kecamatan (2) and
desa/kelurahan (4; the first digit 1 = kelurahan, 2 = desa, 3 = desa adat).
The code alone says the level, the kind and the parent, and a subtree is a
code prefix, so no recursion is ever needed.
"""

import re

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

CODE_RE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")

PROVINSI = "provinsi"
KABUPATEN = "kabupaten"
KOTA = "kota"
KECAMATAN = "kecamatan"
KELURAHAN = "kelurahan"
DESA = "desa"
DESA_ADAT = "desa_adat"

KIND_CHOICES = [
    (PROVINSI, _("Province")),
    (KABUPATEN, _("Regency (kabupaten)")),
    (KOTA, _("City (kota)")),
    (KECAMATAN, _("District (kecamatan)")),
    (KELURAHAN, _("Kelurahan")),
    (DESA, _("Village (desa)")),
    (DESA_ADAT, _("Customary village (desa adat)")),
]

LEVEL_CHOICES = [
    (1, _("Province")),
    (2, _("Regency/city")),
    (3, _("District")),
    (4, _("Village")),
]

# Length of a code at each level: 19, 19.04, 19.04.01, 19.04.01.2001.
LEVEL_LENGTH = {1: 2, 2: 5, 3: 8, 4: 13}


def code_problem(code: str) -> str | None:
    """Why ``code`` is not a well-formed region code, or None when it is."""
    if not isinstance(code, str) or not CODE_RE.match(code):
        return str(
            _("'%(code)s' is not a region code; write it as 19, 19.04, 19.04.01 or 19.04.01.2001.")
            % {"code": code}
        )
    parts = code.split(".")
    if parts[0] == "00":
        return str(_("Province code 00 does not exist."))
    if len(parts) >= 2 and not (1 <= int(parts[1]) <= 69 or 71 <= int(parts[1]) <= 99):
        return str(
            _("Regency/city number %(n)s is outside 01-69 (kabupaten) and 71-99 (kota).")
            % {"n": parts[1]}
        )
    if len(parts) >= 3 and parts[2] == "00":
        return str(_("District number 00 does not exist."))
    if len(parts) == 4 and parts[3][0] not in "123":
        return str(
            _("A village number starts with 1 (kelurahan), 2 (desa) or 3 (desa adat), not %(d)s.")
            % {"d": parts[3][0]}
        )
    return None


def validate_code_format(code: str) -> None:
    problem = code_problem(code)
    if problem:
        raise ValidationError(problem, code="region_code")


def code_level(code: str) -> int:
    return code.count(".") + 1


def code_kind(code: str) -> str:
    """The kind of region a well-formed code names, by the code rules alone."""
    parts = code.split(".")
    if len(parts) == 1:
        return PROVINSI
    if len(parts) == 2:
        return KOTA if int(parts[1]) >= 71 else KABUPATEN
    if len(parts) == 3:
        return KECAMATAN
    return {"1": KELURAHAN, "2": DESA, "3": DESA_ADAT}[parts[3][0]]


def code_parent(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


def code_ancestors(code: str) -> list[str]:
    """Codes above ``code``, top first: 19.04.01 -> [19, 19.04]."""
    parts = code.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def code_in_subtree(code: str, root: str) -> bool:
    return code == root or code.startswith(root + ".")


def subtree_q(field: str, root: str, *, include_root: bool = True) -> Q:
    """A filter for rows whose ``field`` holds a code inside ``root``'s subtree.

    The descendants are a range on the code index: on SQLite the range
    ``'19.04.' <= code < '19.04/'`` ('/' follows '.' in ASCII) uses the plain
    B-tree, while SQLite's LIKE is case-insensitive and skips it. On
    PostgreSQL the range would follow the database collation, which need not
    be byte order, so LIKE 'prefix%' is used with the varchar_pattern_ops
    index that Django adds to every indexed CharField.

    For a foreign key to Region, name the code through the relation
    (``region__code``): Django compares the key column itself, with no join,
    and allows text lookups on it.
    """
    if include_root and code_level(root) == 4:
        # A village is a leaf: its subtree is itself, one equality on the index.
        return Q(**{field: root})
    if connection.vendor == "sqlite":
        q = Q(**{f"{field}__gte": root + ".", f"{field}__lt": root + "/"})
    else:
        q = Q(**{f"{field}__startswith": root + "."})
    if include_root:
        q |= Q(**{field: root})
    return q


def village_in_q(field: str, root: str) -> Q:
    """A filter for rows whose ``field`` always holds a village code (persons,
    families, groups, enrollments) inside ``root``'s subtree.

    Such a field never equals a non-village root, so the filter is the plain
    range without ``OR field = root``: SQLite then reads one index range
    instead of merging two (about a third faster on a province).
    """
    return subtree_q(field, root, include_root=code_level(root) == 4)


def region_code_problem(code: str, *, levels: tuple[int, ...] | None = None) -> str | None:
    """Why ``code`` cannot be used as a region here: format, level, existence.

    One definition for forms, the API, the CLI and imports. A retired code
    (from an older edition) is refused for new records, with its edition
    named so the user can pick the successor.
    """
    problem = code_problem(code)
    if problem:
        return problem
    if levels is not None and code_level(code) not in levels:
        names = dict(LEVEL_CHOICES)
        return str(
            _("Code %(code)s is at level '%(level)s', which is not allowed here; "
              "use a code at level: %(expected)s.")
            % {
                "code": code,
                "level": names[code_level(code)],
                "expected": ", ".join(str(names[lvl]) for lvl in levels),
            }
        )
    from .models import Region

    region = Region.objects.filter(code=code).only("retired_in").first()
    if region is None:
        return str(
            _("Region %(code)s does not exist in the loaded Kepmendagri edition; check the code.")
            % {"code": code}
        )
    if region.retired_in:
        return str(
            _("Region %(code)s was retired in %(edition)s; use its current code.")
            % {"code": code, "edition": region.retired_in}
        )
    return None


def validate_region_code(code: str, *, levels: tuple[int, ...] | None = None) -> None:
    problem = region_code_problem(code, levels=levels)
    if problem:
        raise ValidationError(problem, code="region_code")
