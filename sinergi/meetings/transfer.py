"""Commitments from Excel (the columns, the template and the export are in
sheet.py).

The import takes one meeting's
commitments as typed into a spreadsheet (minutes often arrive as Excel):
every row is checked, then either all rows become commitments or none does,
so an operator fixes the file and uploads it again without leaving half of
it behind. Each row goes through ``services.commitment_create``, so the
import accepts exactly what the form and the API accept.

Numbers typed as text follow the one rule of ``imports.readers.cells``
("1.500" is refused as ambiguous); number and date cells of Excel are
taken as they are.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from sinergi.accounts import access
from sinergi.agencies.models import Agency
from sinergi.core import values
from sinergi.core.audit import audit_record
from sinergi.core.errors import AccessDenied, NotInScope, SinergiError
from sinergi.imports import readers
from sinergi.regions import codes as region_codes

from . import selectors, services
from .models import Commitment, Meeting
from .sheet import BY_FIELD, BY_HEADER, BY_KEY, COLUMNS, DATA_SHEET, header_key

MAX_ROWS = 500  # a meeting has dozens; each row is validated and saved in the request
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


Problem = readers.Problem


@dataclass
class ImportResult(readers.CheckedFile):
    """What an import did: with any ``problems`` nothing was saved; otherwise
    ``created`` commitments (in ``commitments``). ``warnings`` never block."""

    commitments: list[Commitment] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "commitments": [c.pk for c in self.commitments]}


class _Rollback(Exception):
    """Raised inside the import's transaction to undo every row."""


def _file_problem(message: str, *, row: int | None = None, column: str = "",
                  value: str = "") -> Problem:
    return Problem(row=row, column=column, value=value, message=message)


def _read(upload, name: str) -> tuple[list[tuple[int, list]], dict[tuple[int, int], str]]:
    """Rows of the file's data sheet (the one named like DATA_SHEET, else the
    first) as (spreadsheet row, cells), and its formula cells."""
    sheets = readers.read_sheets(
        upload, name, max_bytes=MAX_UPLOAD_BYTES, max_rows=MAX_ROWS * 4,
        too_large=_("File '%(file)s' is larger than %(mb)d MB; a file of commitments is much "
                    "smaller. Check that it is the right file."),
        empty=_("File '%(file)s' is empty. Fill in the template and upload it again."))
    sheet = next((s for s in sheets if s.name.strip().casefold() == DATA_SHEET.casefold()),
                 sheets[0])
    return sheet.rows, sheet.formulas


_QUALIFIED = re.compile(r"^(.+?)\s*\(\s*(\d{2}(?:\.\d{2})?)\s*\)$")


class _Agencies:
    """Short name -> agency among those the actor may see: the meeting's
    region's own agencies first, then those of the regions above it nearest
    first, then any other; "Dinkes (19.04)" names the region outright."""

    def __init__(self, actor, meeting: Meeting, names: set[str]):
        self.meeting = meeting
        self.visible = (access.agencies_visible(actor) if actor is not None
                        else Agency.objects.all())
        keys = {self._split(n)[0].lower() for n in names}
        self.by_key: dict[str, list[Agency]] = {}
        for agency in (self.visible.annotate(key=Lower("short_name")).filter(key__in=keys)
                       .select_related("region").order_by("region_id", "short_name")):
            self.by_key.setdefault(agency.short_name.lower(), []).append(agency)
        self.tiers = [meeting.region_id,
                      *reversed(region_codes.code_ancestors(meeting.region_id))]
        self._known: str | None = None

    @staticmethod
    def _split(name: str) -> tuple[str, str | None]:
        m = _QUALIFIED.match(name)
        return (m.group(1).strip(), m.group(2)) if m else (name.strip(), None)

    def resolve(self, name: str, field_name: str) -> Agency:
        short, region = self._split(name)
        found = self.by_key.get(short.lower(), [])
        if region:
            found = [a for a in found if a.region_id == region]
        active = [a for a in found if a.is_active]
        if not active:
            if found:
                raise SinergiError(_("Agency %(a)s is marked inactive; choose an active "
                                     "agency or ask a coordinator to reactivate it.")
                                   % {"a": found[0]}, field=field_name)
            raise SinergiError(_("Agency '%(v)s' is not among the agencies you can see; write "
                                 "its short name as in the agency list, e.g. %(known)s.")
                               % {"v": name, "known": self.known()}, field=field_name)
        if len(active) == 1:
            return active[0]
        for code in self.tiers:
            tier = [a for a in active if a.region_id == code]
            if len(tier) == 1:
                return tier[0]
            if tier:
                active = tier
                break
        raise SinergiError(_("Agency '%(v)s' matches %(found)s; write the one you mean with "
                             "its region code in brackets, e.g. %(example)s.")
                           % {"v": name, "found": ", ".join(map(str, active)),
                              "example": active[0]}, field=field_name)

    def known(self) -> str:
        """Short names of the nearest government's agencies, for a message."""
        if self._known is None:
            names: list[str] = []
            for code in self.tiers:
                names = list(self.visible.filter(region_id=code, is_active=True)
                             .order_by("short_name").values_list("short_name", flat=True))
                if names:
                    break
            self._known = ", ".join(names[:15]) + (", …" if len(names) > 15 else "")
        return self._known or "DP3ACSKB"


def _agenda_index(meeting: Meeting) -> dict[str, int]:
    index: dict[str, int] = {}
    for item in meeting.agenda.order_by("position", "id"):
        index.setdefault(" ".join(item.title.split()).casefold(), item.pk)
    return index


def _agenda(index: dict[str, int], meeting: Meeting, value: str) -> int:
    pk = index.get(" ".join(value.split()).casefold())
    if pk is not None:
        return pk
    titles = list(meeting.agenda.order_by("position", "id").values_list("title", flat=True))
    if not titles:
        raise SinergiError(_("This meeting has no agenda yet; leave the cell empty, or add the "
                             "topic to the meeting's agenda first."), field="agenda_item")
    raise SinergiError(_("'%(v)s' is not a topic of this meeting's agenda; write one of: "
                         "%(topics)s, or leave the cell empty.")
                       % {"v": value[:80], "topics": "; ".join(t[:80] for t in titles[:20])},
                       field="agenda_item")


def _text(value) -> str:
    if readers.blank(value):
        return ""
    if isinstance(value, float | datetime.date | bool):
        return readers.shown(value)
    return str(value).strip()


def _region_text(value) -> str:
    """A region code; Excel turns "19.04" into the number 19.04 (and "19.10"
    into 19.1) unless the cell is Text, and a kabupaten code has two digits."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value)


def _split_agencies(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;\n]", text) if part.strip()]


def commitments_import(*, actor, meeting: Meeting, upload) -> ImportResult:
    """Create the commitments of an uploaded .xlsx or .csv in ``meeting``:
    all of them, or none when any row has a problem (listed in the result).

    ``actor`` must be allowed to change the meeting (AccessDenied otherwise);
    None is the system.
    """
    selectors.check_manage(actor, meeting)
    name = services.upload_name(upload)
    result = ImportResult(file_name=name)
    try:
        rows, formulas = _read(upload, name)
    except SinergiError as exc:
        result.problems.append(_file_problem(exc.message))
        return result

    header_at = _header_index(rows)
    if header_at is None:
        result.problems.append(_file_problem(
            _("File '%(file)s' is empty. Fill in the template and upload it again.")
            % {"file": name}))
        return result
    header_row, header_cells = rows[header_at]
    headers = [" ".join(_text(h).split()) for h in header_cells]
    body = [(n, cells) for n, cells in rows[header_at + 1:] if not all(map(readers.blank, cells))]

    columns = _map_columns(headers, header_row, body, result)
    if result.problems:
        return result
    if not body:
        result.problems.append(_file_problem(
            _("File '%(file)s' has the header row but no commitments; write one commitment a "
              "row below the header and upload it again.") % {"file": name}, row=header_row))
        return result
    if len(body) > MAX_ROWS:
        result.problems.append(_file_problem(
            _("File '%(file)s' has %(n)d commitments; at most %(max)d can be imported at once. "
              "Split the file and upload the parts one by one.")
            % {"file": name, "n": len(body), "max": MAX_ROWS}))
        return result

    names = set()
    for _n, cells in body:
        for key in ("owner", "supporting"):
            if key in columns:
                names.update(_split_agencies(_text(_cell(cells, columns[key]))))
    agencies = _Agencies(actor, meeting, names)
    agenda = _agenda_index(meeting) if "agenda" in columns else {}

    ctx = _Context(actor=actor, meeting=meeting, headers=headers, columns=columns,
                   formulas=formulas, agencies=agencies, agenda=agenda)
    try:
        with transaction.atomic():
            for n, cells in body:
                commitment = _import_row(ctx, n, cells, result.problems)
                if commitment is not None:
                    result.commitments.append(commitment)
            if result.problems:
                raise _Rollback
            audit_record(actor=actor, action="commitment.import", obj=meeting,
                         after={"file": name, "created": len(result.commitments)})
    except _Rollback:
        result.commitments = []
    result.created = len(result.commitments)
    return result


HEADER_SEARCH_ROWS = 10


def _header_index(rows: list[tuple[int, list]]) -> int | None:
    """The header row: among the first non-blank rows the first that names the
    commitment column (minutes often carry a title above the table), else the
    first non-blank row."""
    filled = [i for i, (_n, cells) in enumerate(rows) if not all(map(readers.blank, cells))]
    for i in filled[:HEADER_SEARCH_ROWS]:
        keys = {BY_HEADER.get(header_key(_text(h))) for h in rows[i][1]}
        if BY_KEY["text"] in keys:
            return i
    return filled[0] if filled else None


def _cell(cells: list, index: int):
    return cells[index] if index < len(cells) else None


def _map_columns(headers: list[str], header_row: int, body, result: ImportResult) -> dict:
    """Column key -> index in the row; what cannot be used becomes a problem
    (duplicates, missing required columns) or a warning (the rest)."""
    columns: dict[str, int] = {}
    unknown = []
    for index, header in enumerate(headers):
        if not header:
            if any(not readers.blank(_cell(cells, index)) for _n, cells in body):
                result.warnings.append(
                    _("Column %(letter)s has values but no header; they were ignored.")
                    % {"letter": readers.column_letter(index)})
            continue
        column = BY_HEADER.get(header_key(header))
        if column is None:
            unknown.append(header)
        elif column.key in columns:
            first = headers[columns[column.key]]
            result.problems.append(_file_problem(
                _("Columns '%(a)s' and '%(b)s' both mean '%(name)s'; keep one of them and "
                  "delete the other.") % {"a": first, "b": header, "name": column.header},
                row=header_row, column=header, value=header))
        else:
            columns[column.key] = index
    missing = [c.header for c in COLUMNS if c.required and c.key not in columns]
    if missing:
        result.problems.append(_file_problem(
            _("Required columns are missing: %(missing)s. The header row (row %(row)d) has: "
              "%(found)s. Use the headers of the template.")
            % {"missing": ", ".join(missing), "row": header_row,
               "found": ", ".join(h for h in headers if h) or "—"},
            row=header_row))
    if unknown:
        result.warnings.append(
            _("Columns not known to Sinergi were ignored: %(columns)s. Known columns: "
              "%(known)s.") % {"columns": ", ".join(unknown),
                               "known": ", ".join(c.header for c in COLUMNS)})
    return columns


@dataclass
class _Context:
    """What every row of one import is checked against."""

    actor: object
    meeting: Meeting
    headers: list[str]
    columns: dict[str, int]
    formulas: dict[tuple[int, int], str]
    agencies: _Agencies
    agenda: dict[str, int]
    regions: dict[str, str | SinergiError] = field(default_factory=dict)

    def region(self, value) -> str:
        """The region code of a cell, checked once per distinct code (files
        repeat a handful of codes over many rows)."""
        code = _region_text(value) or self.meeting.region_id
        if code not in self.regions:
            try:
                self.regions[code] = selectors.region_inside(
                    self.actor, code, "region", within=self.meeting.region_id).code
            except SinergiError as exc:
                self.regions[code] = exc
            except NotInScope as exc:  # outside the actor's scope, as everywhere
                self.regions[code] = SinergiError(str(exc), field="region")
        found = self.regions[code]
        if isinstance(found, SinergiError):
            raise SinergiError(found.message, field="region")
        return found


def _import_row(ctx: _Context, n: int, cells: list, problems: list[Problem]) -> Commitment | None:
    """Check one row cell by cell, then create it through the service in a
    savepoint; every problem found is appended to ``problems``."""
    actor, meeting, headers, columns = ctx.actor, ctx.meeting, ctx.headers, ctx.columns
    formulas, agencies, agenda = ctx.formulas, ctx.agencies, ctx.agenda
    found = []

    def problem(key: str, message: str, value=None) -> None:
        column = headers[columns[key]] if key in columns else BY_KEY[key].header
        raw = _cell(cells, columns[key]) if key in columns and value is None else value
        found.append(Problem(row=n, column=column, value=readers.shown(raw), message=message))

    formula_keys = {key for key, index in columns.items()
                    if (n, index) in formulas and key != "no"}
    for key in formula_keys:
        problem(key, _("This cell holds a formula; Sinergi reads values only. Copy the cells "
                       "and paste them as values (Paste Special > Values)."),
                formulas[(n, columns[key])])

    def raw(key: str):
        if key not in columns or key in formula_keys:
            return None
        return _cell(cells, columns[key])

    # The keywords of services.commitment_create, as far as the row gives them.
    fields: dict = {"text": _text(raw("text"))}
    if not fields["text"] and "text" not in formula_keys:
        problem("text", _("The commitment text is empty; write the commitment, or delete "
                          "the row."))

    owner = _text(raw("owner"))
    if owner:
        try:
            fields["owner_agency"] = agencies.resolve(owner, "owner_agency").pk
        except SinergiError as exc:
            problem("owner", exc.message)
    elif "owner" not in formula_keys:
        problem("owner", _("Name the agency that owns the commitment: its short name, e.g. "
                           "DP3ACSKB."))

    if "supporting" in columns:
        supporting = []
        for part in _split_agencies(_text(raw("supporting"))):
            try:
                agency = agencies.resolve(part, "supporting_agencies")
            except SinergiError as exc:
                problem("supporting", exc.message, part)
                continue
            if agency.pk not in supporting and agency.pk != fields.get("owner_agency"):
                supporting.append(agency.pk)
        fields["supporting_agencies"] = supporting

    if "agenda" in columns and _text(raw("agenda")):
        try:
            fields["agenda_item"] = _agenda(agenda, meeting, _text(raw("agenda")))
        except SinergiError as exc:
            problem("agenda", exc.message)

    checks = {
        "region": ctx.region,
        "due": lambda v: values.as_date(v, "due_date"),
        "unit": _text,
        "baseline": lambda v: readers.number(v, "baseline"),
        "target": lambda v: readers.number(v, "target"),
    }
    for key, check in checks.items():
        if key not in columns:
            continue
        try:
            fields[BY_KEY[key].field] = check(raw(key))
        except SinergiError as exc:
            problem(key, exc.message)

    if not found:
        try:
            with transaction.atomic():
                return services.commitment_create(actor=actor, meeting=meeting, **fields)
        except AccessDenied:
            raise
        except SinergiError as exc:
            column = BY_FIELD.get(exc.field)
            if column is not None:
                problem(column.key, exc.message)
            else:
                found.append(Problem(row=n, column="", value="", message=exc.message))
        except NotInScope as exc:
            problem("region", str(exc))
    order = {header: i for i, header in reversed(list(enumerate(headers)))}
    problems.extend(sorted(found, key=lambda p: order.get(p.column, len(headers))))
    return None
