"""Writes to the region hierarchy: loading a Kepmendagri edition."""

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from sinergi.core.audit import audit_record
from sinergi.core.bulk import analyze, bulk_insert
from sinergi.core.errors import DataFileError

from . import codes, selectors
from .models import Region, RegionEdition

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_EDITION = "Kepmendagri 300.2.2-2138/2025"
DEFAULT_FILE = DATA_DIR / "kepmendagri-300.2.2-2138-2025.csv.gz"
DEFAULT_SOURCE = "idn-area-data 4.0.1 (ODbL), Kepmendagri 300.2.2-2138/2025"

NAME_MAX = Region._meta.get_field("name").max_length
EDITION_MAX = RegionEdition._meta.get_field("name").max_length
SOURCE_MAX = RegionEdition._meta.get_field("source").max_length
# A load may retire at most this share of the current regions without
# allow_mass_retire: a cut-off or one-province file must not retire the
# rest of the country by accident.
MASS_RETIRE_SHARE = 0.10
# Key of the PostgreSQL advisory lock that makes concurrent loads queue.
LOAD_LOCK_KEY = 0x5E6E_0001


@dataclass(frozen=True)
class LoadResult:
    edition: str
    total: int
    added: int
    renamed: int
    retired: int
    restored: int

    @property
    def changed(self) -> bool:
        return bool(self.added or self.renamed or self.retired or self.restored)


def read_region_file(path: Path) -> dict[str, str]:
    """code -> name from a ``code,name`` CSV (plain or gzip'd), validated whole.

    Every code must be well formed and its parent must be in the same file,
    so a loaded edition is always a complete tree.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            reader = csv.reader(text)
            header = next(reader, None)
            if header is None or [h.strip().lower() for h in header[:2]] != ["code", "name"]:
                raise DataFileError(
                    _("%(file)s: the first row must be the header 'code,name'.")
                    % {"file": path.name}
                )
            regions: dict[str, str] = {}
            for line_no, row in enumerate(reader, start=2):
                if not row or not any(cell.strip() for cell in row):
                    continue
                if len(row) < 2 or not row[1].strip():
                    raise DataFileError(
                        _("%(file)s row %(row)d: a code and a name are both needed.")
                        % {"file": path.name, "row": line_no}
                    )
                code, name = row[0].strip(), " ".join(row[1].split())
                if len(name) > NAME_MAX:
                    raise DataFileError(
                        _("%(file)s row %(row)d, column name: the name has %(n)d characters, "
                          "at most %(max)d are allowed; shorten it.")
                        % {"file": path.name, "row": line_no, "n": len(name), "max": NAME_MAX}
                    )
                problem = codes.code_problem(code)
                if problem:
                    raise DataFileError(
                        _("%(file)s row %(row)d, column code: %(problem)s")
                        % {"file": path.name, "row": line_no, "problem": problem}
                    )
                if code in regions:
                    raise DataFileError(
                        _("%(file)s row %(row)d: code %(code)s appears twice.")
                        % {"file": path.name, "row": line_no, "code": code}
                    )
                regions[code] = name
    except (OSError, UnicodeDecodeError, csv.Error, EOFError, gzip.BadGzipFile) as exc:
        raise DataFileError(
            _("%(file)s cannot be read as a UTF-8 CSV file (%(error)s).")
            % {"file": path.name, "error": exc}
        ) from exc
    for code in regions:
        parent = codes.code_parent(code)
        if parent is not None and parent not in regions:
            raise DataFileError(
                _("%(file)s: region %(code)s has no parent %(parent)s in the file.")
                % {"file": path.name, "code": code, "parent": parent}
            )
    if not regions:
        raise DataFileError(_("%(file)s holds no regions.") % {"file": path.name})
    return regions


def _check_edition_fields(edition: str, source: str) -> None:
    if not edition or not edition.strip():
        raise DataFileError(_("Give the edition a name, e.g. 'Kepmendagri 300.2.2-2138/2025'."))
    if len(edition) > EDITION_MAX:
        raise DataFileError(
            _("The edition name has %(n)d characters, at most %(max)d are allowed; "
              "shorten it (--edition).") % {"n": len(edition), "max": EDITION_MAX}
        )
    if len(source) > SOURCE_MAX:
        raise DataFileError(
            _("The source has %(n)d characters, at most %(max)d are allowed; "
              "shorten it (--source).") % {"n": len(source), "max": SOURCE_MAX}
        )


def _lock_loads() -> None:
    """Make a second load wait for the first instead of failing half-way.

    On PostgreSQL two loads would both read the table, then both insert the
    same new codes; a transaction-level advisory lock (released at commit or
    rollback) queues them. SQLite's IMMEDIATE transactions already take the
    write lock when the transaction starts.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [LOAD_LOCK_KEY])


def _active_by_level() -> dict[str, int]:
    counts = (
        Region.objects.filter(retired_in="").values_list("level").annotate(n=Count("code"))
        .order_by()
    )
    return {str(level): n for level, n in counts}


def regions_load(
    *,
    actor=None,
    path: Path = DEFAULT_FILE,
    edition: str = DEFAULT_EDITION,
    source: str = DEFAULT_SOURCE,
    allow_mass_retire: bool = False,
) -> LoadResult:
    """Load an edition of the hierarchy, idempotently, in one transaction.

    New codes are added, changed names are updated, codes the edition no
    longer lists are marked retired (never deleted: records elsewhere still
    point at them), and a retired code that comes back is restored. Loading
    the same edition twice changes nothing.

    A load that would retire more than a tenth of the current regions is
    refused unless ``allow_mass_retire`` (a partial file looks exactly like
    an edition that abolished the rest of the country).
    """
    _check_edition_fields(edition, source)
    incoming = read_region_file(Path(path))
    table = connection.ops.quote_name(Region._meta.db_table)
    with transaction.atomic():
        _lock_loads()
        existing = {
            code: (name, retired_in)
            for code, name, retired_in in Region.objects.values_list(
                "code", "name", "retired_in"
            ).iterator(chunk_size=20000)
        }
        to_add = [
            (
                code,
                name,
                codes.code_kind(code),
                codes.code_level(code),
                codes.code_parent(code),
                edition,
                "",
            )
            for code, name in incoming.items()
            if code not in existing
        ]
        renamed = [
            (name, edition, code)
            for code, name in incoming.items()
            if code in existing and existing[code][0] != name
        ]
        restored = [
            (edition, code)
            for code in incoming
            if code in existing and existing[code][1]
        ]
        retired = [
            (edition, code)
            for code, (_name, retired_in) in existing.items()
            if code not in incoming and not retired_in
        ]
        active = sum(1 for _name, retired_in in existing.values() if not retired_in)
        if len(retired) > MASS_RETIRE_SHARE * active and not allow_mass_retire:
            raise DataFileError(
                _("%(file)s would retire %(n)d of the %(active)d current regions (more than "
                  "%(share)d%%): it looks like a partial file. Check that it holds the whole "
                  "edition; if it really does, load it again with --allow-retire-many "
                  "(allow_mass_retire=True).")
                % {"file": Path(path).name, "n": len(retired), "active": active,
                   "share": round(MASS_RETIRE_SHARE * 100)}
            )
        if to_add:
            bulk_insert(
                Region._meta.db_table,
                ["code", "name", "kind", "level", "parent_id", "edition", "retired_in"],
                to_add,
            )
        with connection.cursor() as cur:
            if renamed:
                cur.executemany(
                    f"UPDATE {table} SET name = %s, edition = %s WHERE code = %s",  # noqa: S608
                    renamed,
                )
            if restored:
                cur.executemany(
                    f"UPDATE {table} SET retired_in = '', edition = %s WHERE code = %s",  # noqa: S608
                    restored,
                )
            if retired:
                cur.executemany(
                    f"UPDATE {table} SET retired_in = %s WHERE code = %s",  # noqa: S608
                    retired,
                )
        if to_add or retired:
            analyze(Region._meta.db_table)
        result = LoadResult(
            edition=edition,
            total=len(incoming),
            added=len(to_add),
            renamed=len(renamed),
            retired=len(retired),
            restored=len(restored),
        )
        record, created = RegionEdition.objects.get_or_create(
            name=edition, defaults={"source": source}
        )
        changed = result.changed or created
        if changed:
            record.source = source
            record.added, record.renamed = result.added, result.renamed
            record.retired, record.total = result.retired, result.total
        if changed or not record.active_by_level:
            # Counted once here, in the load's transaction, so page views never count.
            record.active_by_level = _active_by_level()
            record.save()
        if changed:
            audit_record(
                actor=actor,
                action="regions.load",
                obj=record,
                after={
                    "edition": edition,
                    "total": result.total,
                    "added": result.added,
                    "renamed": result.renamed,
                    "retired": result.retired,
                    "restored": result.restored,
                },
            )
        transaction.on_commit(selectors.forget_names)
    return result
