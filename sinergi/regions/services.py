"""Writes to the region hierarchy: loading a Kepmendagri edition."""

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction
from django.utils.translation import gettext as _

from sinergi.core.audit import audit_record
from sinergi.core.bulk import analyze, bulk_insert
from sinergi.core.errors import DataFileError

from . import codes
from .models import Region, RegionEdition

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_EDITION = "Kepmendagri 300.2.2-2138/2025"
DEFAULT_FILE = DATA_DIR / "kepmendagri-300.2.2-2138-2025.csv.gz"
DEFAULT_SOURCE = "idn-area-data 4.0.1 (ODbL), Kepmendagri 300.2.2-2138/2025"


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


def regions_load(
    *,
    actor=None,
    path: Path = DEFAULT_FILE,
    edition: str = DEFAULT_EDITION,
    source: str = DEFAULT_SOURCE,
) -> LoadResult:
    """Load an edition of the hierarchy, idempotently, in one transaction.

    New codes are added, changed names are updated, codes the edition no
    longer lists are marked retired (never deleted: records elsewhere still
    point at them), and a retired code that comes back is restored. Loading
    the same edition twice changes nothing.
    """
    incoming = read_region_file(Path(path))
    table = connection.ops.quote_name(Region._meta.db_table)
    with transaction.atomic():
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
        if result.changed or created:
            record.source = source
            record.added, record.renamed = result.added, result.renamed
            record.retired, record.total = result.retired, result.total
            record.save()
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
    return result
