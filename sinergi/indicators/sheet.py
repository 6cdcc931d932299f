"""External indicator values in the table layout BPS publishes: regions as
rows, periods as columns (the import, and the same layout for export); and
village facts from a table of villages.

A BPS table often carries a title row or two above its header, a header cell
such as "Kabupaten/Kota" over the region names, years written as numbers or
text ("2024*)" marks a preliminary figure), numbers with a decimal comma,
"-" or "…" where there is no figure, and a last row for the province. The
import reads such a sheet as it is:

- the header row is the first row with a period of the indicator's
  frequency in a cell after its first one (2025, 2025.0, "2025", "2025-S1");
- the region column is the first column left of the periods holding
  something (a "No" numbering column is passed over); each of its cells is a
  region code (19.04) or a province or kabupaten/kota name, matched without
  regard to case, spaces and the prefixes "Kabupaten", "Kab.", "Provinsi"
  ("Bangka" is the kabupaten; "Kota Bangka" would be the kota; a name matched
  by no kabupaten may be a kota's: "Pangkalpinang");
- a cell under a period is a figure, or empty, "-", "–", "—", "…", "..."
  for no figure; a row without any figure (a note, "Sumber: BPS") is passed
  over.

Numbers typed as text follow the rule of the commitment import
(meetings/transfer.py), because "1.500" is one thousand five hundred in
Indonesia and one and a half in English: one decimal mark, comma or dot
("12,48"); thousands separators only where the reading is certain
("1.234.567", "1.234,5"); one mark followed by exactly three digits
("1.500") is refused as ambiguous unless the whole part is zero ("0,125").

The import is all or nothing: every row is checked (region, scope, number,
plausibility, duplicates) and only a file without a single problem is
written, in one transaction, through ``services.values_write``.

Village facts of one year are imported from a table of villages
(``facts_import``), as a kecamatan or kabupaten collects them: a village
code (19.04.01.2001) or name in the first column, matched among the current
villages of the actor's scope (a name two of them share asks for the code);
one column per fact, headed by its code (F_PUSKESSOS) or its Indonesian or
English name, without regard to case and punctuation; other columns ("No",
"Kecamatan") are passed over. A yes/no fact is answered ya/tidak, yes/no,
y/t, 1/0 or TRUE/FALSE, a count by a whole number of 0 or more; an empty
cell leaves that fact of that village as it is. All or nothing again, each
village written through ``services.facts_write``, checked as the facts form is.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from sinergi.accounts import access
from sinergi.core.audit import audit_record
from sinergi.core.errors import NotInScope, SinergiError
from sinergi.imports import readers
from sinergi.regions import codes as region_codes
from sinergi.regions.models import Region

from . import periods, quality, services
from .models import MONTH, VILLAGE, YESNO, Indicator, Value

MAX_ROWS = 2000  # every kab/kota of Indonesia (514) several times over
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Rows read from a sheet at most: a sheet longer than this is refused unread.
READ_ROWS = 2 * MAX_ROWS
# The header is looked for among this many non-blank rows at the top.
HEADER_SEARCH_ROWS = 20
# What BPS tables write where there is no figure.
NO_FIGURE = {"", "-", "–", "—", "…", "..."}
# The export's own columns before the periods.
CODE_HEADER, NAME_HEADER = "Kode", "Wilayah"


Problem = readers.Problem


class ImportResult(readers.CheckedFile):
    """What an import did: with any ``problems`` nothing was written;
    otherwise ``created`` values. ``warnings`` never block."""


# --- cells ---------------------------------------------------------------------------------

def _no_figure(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in NO_FIGURE)


_MARKS = re.compile(r"\s*\*+\)?$")  # "2024*)", "2025**": a preliminary figure


def _period(value, frequency: str) -> str | None:
    """The period a header cell names, or None."""
    if isinstance(value, datetime.date) and frequency == MONTH:
        return f"{value.year}-{value.month:02d}"  # Excel took "2025-03" for a date
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    return periods.normalize(_MARKS.sub("", readers.shown(value)), frequency)


def number(value) -> Decimal:
    """A figure of a cell (the number rule of imports.readers.cells)."""
    return readers.number(value, "value", places=4)


# --- reading the file ----------------------------------------------------------------------

def _upload_name(upload) -> str:
    name = re.sub(r"[^\w.\- ]+", "_", str(getattr(upload, "name", "") or "file"))
    return name.rsplit("/", 1)[-1][-120:] or "file"


def _file_problem(result: ImportResult, message: str, row: int | None = None) -> ImportResult:
    result.problems.append(Problem(row=row, column="", value="", message=message))
    return result


def _header_index(rows: list[tuple[int, list]], is_header: Callable[[list], bool]) -> int | None:
    """The header row: the first of the top non-blank rows ``is_header`` takes."""
    filled = [i for i, (_n, cells) in enumerate(rows) if not all(map(readers.blank, cells))]
    for i in filled[:HEADER_SEARCH_ROWS]:
        if is_header(rows[i][1]):
            return i
    return None


def _table(upload, name: str, *, empty: str, is_header: Callable[[list], bool],
           no_header: Callable[[str], str]) -> tuple[readers.Sheet, int, list]:
    """The first sheet with a header row (``is_header``), that row's index
    and the non-blank rows below it; SinergiError for the file (too large,
    empty, no header row, too many rows). ``empty`` is the message for an
    empty file; ``no_header`` makes the one for a file without a header row
    from where it was looked for."""
    sheets = readers.read_sheets(
        upload, name, max_bytes=MAX_UPLOAD_BYTES, max_rows=READ_ROWS, skip_titles=True,
        too_large=_("File '%(file)s' is larger than %(mb)d MB; a table of indicator values is "
                    "much smaller. Check that it is the right file, or keep only the table's "
                    "sheet."), empty=empty)
    for sheet in sheets:
        header_at = _header_index(sheet.rows, is_header)
        if header_at is not None:
            break
    else:
        raise SinergiError(no_header(_("any sheet") if len(sheets) > 1 else _("the table")))
    if sheet.longer:
        raise SinergiError(
            _("File '%(file)s' has more than %(n)d rows; at most %(max)d rows can be "
              "imported at once. Split the file and upload the parts one by one.")
            % {"file": name, "n": READ_ROWS, "max": MAX_ROWS})
    body = [(n, cells) for n, cells in sheet.rows[header_at + 1:]
            if not all(map(readers.blank, cells))]
    if len(body) > MAX_ROWS:
        raise SinergiError(
            _("File '%(file)s' has %(n)d rows below the header; at most %(max)d can be "
              "imported at once. Split the file and upload the parts one by one.")
            % {"file": name, "n": len(body), "max": MAX_ROWS})
    return sheet, header_at, body


def _cell(cells: list, index: int):
    return cells[index] if index < len(cells) else None


def _headers(cells: list) -> list[str]:
    """The header row as written (a column's letter where its header is empty)."""
    return [readers.shown(h) or readers.column_letter(i) for i, h in enumerate(cells)]


def _label_column(header_cells: list, first: int, body,
                  words: tuple[str, ...] = ()) -> int | None:
    """The column naming each row's region: of the columns left of ``first``
    holding something, the first whose header has one of ``words`` in it,
    else the first, passing over a "No" numbering column; None when there
    is none."""
    headers = _headers(header_cells)
    labels = [i for i in range(first) if not readers.blank(header_cells[i])
              or any(not readers.blank(_cell(cells, i)) for _n, cells in body)]
    if not labels:
        return None
    named = [i for i in labels if any(w in _key(headers[i]) for w in words)]
    if named:
        return named[0]
    if len(labels) > 1 and headers[labels[0]].strip(" .").casefold() in ("no", "nomor"):
        return labels[1]
    return labels[0]


def _columns_once(found: dict[int, object], headers: list[str], header_row: int,
                  what: Callable[[object], str], result: ImportResult) -> None:
    """A header problem for each column of ``found`` (index -> what it holds)
    repeating an earlier one's; ``what`` names what both hold."""
    first_of: dict[object, int] = {}
    for i, held in found.items():
        if held in first_of:
            result.problems.append(Problem(
                row=header_row, column=headers[i], value=headers[i],
                message=_("Columns '%(a)s' and '%(b)s' are both %(what)s; keep one of them and "
                          "delete the other.")
                % {"a": headers[first_of[held]], "b": headers[i], "what": what(held)}))
        else:
            first_of[held] = i


def _unread(headers: list[str], body, after: int, read) -> list[str]:
    """Headers of the columns right of ``after`` holding something that are not ``read``."""
    width = max((len(cells) for _n, cells in body), default=0)
    return [headers[i] if i < len(headers) else readers.column_letter(i)
            for i in range(after + 1, width) if i not in read
            and any(not readers.blank(_cell(cells, i)) for _n, cells in body)]


def _formula(sheet: readers.Sheet, row: int, index: int, column: str) -> Problem | None:
    """A problem for a formula cell (Sinergi reads values only)."""
    if (row, index) not in sheet.formulas:
        return None
    return Problem(row=row, column=column, value=sheet.formulas[(row, index)][:200],
                   message=_("This cell holds a formula; Sinergi reads values only. Copy the "
                             "cells and paste them as values (Paste Special > Values)."))


def _in_column_order(found: list[Problem], headers: list[str]) -> list[Problem]:
    order = {column: i for i, column in reversed(list(enumerate(headers)))}
    return sorted(found, key=lambda p: order.get(p.column, len(order)))


def _save(result: ImportResult, write: Callable[[], int]) -> ImportResult:
    """Run ``write`` (which returns how many it wrote) in one transaction;
    a refusal on the way is a problem of the file and nothing is written."""
    try:
        with transaction.atomic():
            result.created = write()
    except SinergiError as exc:
        return _file_problem(result, exc.message)
    except NotInScope as exc:
        return _file_problem(result, str(exc) or _("A region of the file is outside your area."))
    return result


# --- regions -------------------------------------------------------------------------------

_PREFIX = re.compile(r"^(provinsi|prov|kabupaten|kab|kota)\b\.?\s*(.+)$")
_ADMINISTRATIVE = re.compile(r"^(administrasi|adm)\b\.?\s*")
_KIND_OF_PREFIX = {"provinsi": region_codes.PROVINSI, "prov": region_codes.PROVINSI,
                   "kabupaten": region_codes.KABUPATEN, "kab": region_codes.KABUPATEN,
                   "kota": region_codes.KOTA}
# Short forms BPS writes, as Kemendagri spells them.
_SHORT_FORMS = [(re.compile(r"\bkep\b\.?"), "kepulauan"), (re.compile(r"^dki\b"),
                "daerah khusus ibukota"), (re.compile(r"^di\b"), "daerah istimewa")]


def _key(text) -> str:
    """``text`` without regard to case, spaces and punctuation."""
    return re.sub(r"[\W_]+", "", str(text).casefold())


def _squash(text: str) -> str:
    for pattern, full in _SHORT_FORMS:
        text = pattern.sub(full, text)
    return _key(text)


def _name_key(name: str) -> tuple[str | None, str, str]:
    """(kind named by a prefix or None, key of the name without it, key of
    the whole name): "Kab. Bangka" -> ("kabupaten", "bangka", "kabbangka")."""
    text = " ".join(str(name).split()).casefold()
    m = _PREFIX.match(text)
    if m is None:
        return None, _squash(text), _squash(text)
    return _KIND_OF_PREFIX[m.group(1)], _squash(_ADMINISTRATIVE.sub("", m.group(2))), \
        _squash(text)


def _region_text(value) -> str:
    """Excel turns "19.04" into the number 19.04 (and "19.10" into 19.1)
    unless the cell is Text; a kabupaten code has two digits."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return readers.shown(value)


def _outside(actor, shown: str) -> SinergiError:
    region = getattr(actor, "region", None)
    area = str(region) if region is not None else "—"
    return SinergiError(_("'%(v)s' is outside your area (%(area)s): you can import values "
                          "only for %(area)s and the regions within it. Delete this row, "
                          "or ask a coordinator of that region to import it.")
                        % {"v": shown, "area": area}, field="region")


class _Regions:
    """Province and kabupaten/kota cells of one file -> region codes, and
    whether the actor may enter values for each (asked once per region)."""

    def __init__(self, actor, indicator: Indicator):
        self.actor, self.indicator = actor, indicator
        self.by_key: dict[str, list[Region]] = {}
        for region in Region.objects.filter(level__lte=2, retired_in="").order_by("code"):
            _kind, key, _whole = _name_key(region.name)
            self.by_key.setdefault(key, []).append(region)
        self.entered: dict[str, Exception | None] = {}

    def visible(self, regions: list[Region]) -> list[Region]:
        return [r for r in regions if access.code_visible(self.actor, r.code)]

    def outside(self, shown: str) -> SinergiError:
        return _outside(self.actor, shown)

    def resolve(self, value) -> Region:
        """The province or kabupaten/kota a cell names; SinergiError saying
        what to write instead."""
        shown = _region_text(value)
        if region_codes.CODE_RE.match(shown):
            return self._by_code(shown)
        kind, key, whole = _name_key(shown)
        found = self.by_key.get(key, [])
        if kind is not None:
            found = [r for r in found if r.kind == kind] or self.by_key.get(whole, [])
        else:
            # Without a prefix a name is the province's or the kabupaten's,
            # as BPS writes them; a kota's only when nothing else has it.
            found = [r for r in found if r.kind != region_codes.KOTA] or found
        if len(found) > 1:
            seen = self.visible(found)
            if not seen:
                raise self.outside(shown)
            own = [r for r in seen if access.in_scope(self.actor, r.code)]
            found = own if len(own) == 1 else seen
        if len(found) == 1:
            return found[0]
        if found:
            raise SinergiError(
                _("'%(v)s' matches several regions: %(found)s. Write the code of the one you "
                  "mean instead of the name, e.g. %(code)s.")
                % {"v": shown, "found": "; ".join(str(r) for r in found),
                   "code": found[0].code}, field="region")
        raise self._unknown(shown, key)

    def _by_code(self, code: str) -> Region:
        if not access.code_visible(self.actor, code):
            raise self.outside(code)
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise SinergiError(_("There is no province or kabupaten/kota with code %(code)s. "
                                 "Check the code, or write the region's name instead.")
                               % {"code": code}, field="region")
        if region.level > 2:
            raise SinergiError(_("%(region)s is a kecamatan or a village; this table holds "
                                 "provinces and kabupaten/kota. Write the code of a province "
                                 "(e.g. 19) or a kabupaten/kota (e.g. 19.04).")
                               % {"region": region}, field="region")
        if region.retired_in:
            raise SinergiError(_("%(region)s was retired in edition %(edition)s; write the "
                                 "code of the region that replaced it.")
                               % {"region": region, "edition": region.retired_in},
                               field="region")
        return region

    def _unknown(self, shown: str, key: str) -> SinergiError:
        names = {k: regions[0] for k, regions in self.by_key.items()
                 if self.visible(regions)}
        close = [str(names[k]) for k in difflib.get_close_matches(key, list(names), n=3,
                                                                   cutoff=0.75)]
        if close:
            return SinergiError(_("'%(v)s' is not a province or kabupaten/kota Sinergi knows. "
                                  "Did you mean %(close)s? Write the name as in the Kemendagri "
                                  "list, or the region code.")
                                % {"v": shown, "close": " or ".join(close)}, field="region")
        return SinergiError(_("'%(v)s' is not a province or kabupaten/kota Sinergi knows. "
                              "Write the name as in the Kemendagri list (e.g. 'Bangka Tengah' "
                              "or 'Kota Pangkal Pinang') or the region code (e.g. 19.04).")
                            % {"v": shown}, field="region")

    def check_enter(self, code: str) -> Exception | None:
        """Why the actor may not enter the indicator for ``code`` (None: may)."""
        if code not in self.entered:
            try:
                services.check_enter(self.actor, self.indicator, code)
                self.entered[code] = None
            except (SinergiError, NotInScope) as exc:
                self.entered[code] = exc
        return self.entered[code]


# --- the import ----------------------------------------------------------------------------

@dataclass
class _Layout:
    header_row: int
    region_column: int
    headers: list[str]
    periods: dict[int, str]  # column index -> period


def _layout(sheet: readers.Sheet, header_at: int, frequency: str, body,
            result: ImportResult) -> _Layout | None:
    """Where the regions and the periods are; problems of the header row."""
    header_row, header_cells = sheet.rows[header_at]
    headers = _headers(header_cells)
    found = {i: _period(h, frequency) for i, h in enumerate(header_cells) if i}
    found = {i: p for i, p in found.items() if p}
    first = min(found)
    region_column = _label_column(header_cells, first, body)
    if region_column is None:
        result.problems.append(Problem(
            row=header_row, column=headers[first], value=headers[first],
            message=_("There is no column of regions left of the first period (%(p)s). Put the "
                      "province or kabupaten/kota names (or codes) in the column before the "
                      "periods.") % {"p": headers[first]}))
        return None
    _columns_once(found, headers, header_row, lambda p: _("the period %(p)s") % {"p": p},
                  result)
    unread = _unread(headers, body, first, found)
    if unread:
        result.warnings.append(
            _("Columns that are not periods of this indicator were not read: %(columns)s. "
              "Periods are written like %(example)s.")
            % {"columns": ", ".join(unread), "example": periods.EXAMPLES.get(frequency, "2025")})
    return _Layout(header_row, region_column, headers, found)


def values_import(*, actor, indicator: Indicator, upload, source_note: str = "") -> ImportResult:
    """Write the values of an uploaded .xlsx or .csv table in the BPS layout
    (regions as rows, periods as columns) for ``indicator``: all of them as
    drafts, or none when any cell has a problem (listed in the result)."""
    name = _upload_name(upload)
    result = ImportResult(file_name=name)
    try:
        # Whether the actor may enter this indicator at all (role, agency):
        # one answer for the file, not one per row.
        services.check_indicator_enter(actor, indicator)
    except SinergiError as exc:
        return _file_problem(result, exc.message)
    regions = _Regions(actor, indicator)
    frequency = indicator.frequency
    example = periods.EXAMPLES.get(frequency, "2025")
    try:
        sheet, header_at, body = _table(
            upload, name,
            empty=_("File '%(file)s' is empty. Upload the table with the regions as rows and "
                    "the periods as columns."),
            is_header=lambda cells: any(_period(cell, frequency) for cell in cells[1:]),
            no_header=lambda where: _(
                "File '%(file)s' has no header row with periods of %(code)s: none of the first "
                "%(n)d rows of %(where)s holds a period like %(example)s after its first cell. "
                "Put the region names in the first column and the periods (e.g. %(example)s) "
                "in the header row above the figures, then upload it again.")
            % {"file": name, "code": indicator.code, "n": HEADER_SEARCH_ROWS, "where": where,
               "example": example})
    except SinergiError as exc:
        return _file_problem(result, exc.message)
    layout = _layout(sheet, header_at, frequency, body, result)
    if layout is None or result.problems:
        return result

    rows, refused = _check_rows(layout, sheet, body, regions, result.problems)
    if refused:
        # The actor may not enter this indicator at all: that, not each row.
        result.problems = refused
        return result
    if not result.problems and not rows:
        return _file_problem(
            result, _("File '%(file)s' has no figures below its header row (row %(row)d). Write "
                      "the figures under the periods and upload it again.")
            % {"file": name, "row": layout.header_row}, row=layout.header_row)
    if result.problems:
        return result

    def write() -> int:
        created = services.values_write(actor=actor, indicator=indicator, rows=rows,
                                        source_note=" ".join(source_note.split())[:200])
        audit_record(actor=actor, action="indicator.import", obj=indicator,
                     after={"file": name, "values": created})
        return created

    return _save(result, write)


def _check_rows(layout: _Layout, sheet: readers.Sheet, body, regions: _Regions,
                problems: list[Problem]) -> tuple[list[dict], list[Problem]]:
    """The values of the body rows, each checked; problems of rows are
    appended to ``problems``, those of the whole file (the actor may not
    enter this indicator) returned."""
    rows: list[dict] = []
    refused: dict[str, Problem] = {}
    first_row: dict[tuple[str, str], int] = {}
    region_header = layout.headers[layout.region_column]
    indicator = regions.indicator
    for n, cells in body:
        found: list[Problem] = []
        figures = [(i, period, _cell(cells, i)) for i, period in layout.periods.items()
                   if not _no_figure(_cell(cells, i))]
        if not figures:
            continue  # a note, the source line, or a region without figures
        raw_region = _cell(cells, layout.region_column)
        region = None
        if readers.blank(raw_region):
            found.append(Problem(row=n, column=region_header, value="", message=_(
                "This row has figures but no region. Write the province or kabupaten/kota "
                "name or code in column '%(column)s', or delete the row.")
                % {"column": region_header}))
        else:
            try:
                region = regions.resolve(raw_region)
            except SinergiError as exc:
                found.append(Problem(row=n, column=region_header,
                                     value=_region_text(raw_region), message=exc.message))
        values: list[tuple[str, Decimal]] = []
        for i, period, raw in figures:
            column = layout.headers[i]
            formula = _formula(sheet, n, i, column)
            if formula is not None:
                found.append(formula)
                continue
            try:
                value = number(raw)
            except SinergiError as exc:
                found.append(Problem(row=n, column=column, value=readers.shown(raw),
                                     message=exc.message))
                continue
            for _field, message in quality.problems(indicator, value=value, numerator=None,
                                                    denominator=None):
                found.append(Problem(row=n, column=column, value=readers.shown(raw),
                                     message=message))
            values.append((period, value))
        if region is not None:
            denied = regions.check_enter(region.code)
            if isinstance(denied, NotInScope):
                found.append(Problem(row=n, column=region_header,
                                     value=_region_text(raw_region),
                                     message=regions.outside(_region_text(raw_region)).message))
            elif denied is not None:
                refused.setdefault(denied.message, Problem(row=None, column="", value="",
                                                           message=denied.message))
            repeated = sorted({(first_row[(region.code, p)], p) for p, _v in values
                               if (region.code, p) in first_row})
            if repeated:
                found.append(Problem(
                    row=n, column=region_header, value=_region_text(raw_region),
                    message=_("%(region)s is already in row %(first)d (for %(periods)s). Keep "
                              "one row per region: delete this row or merge the two.")
                    % {"region": region, "first": repeated[0][0],
                       "periods": ", ".join(p for _r, p in repeated)}))
            for period, _value in values:
                first_row.setdefault((region.code, period), n)
            if not found:
                rows.extend({"region_code": region.code, "period": period, "value": value}
                            for period, value in values)
        problems.extend(_in_column_order(found, layout.headers))
    return rows, list(refused.values())


# --- village facts -------------------------------------------------------------------------

# A yes/no fact's answers ("t" is tidak; BENAR/SALAH are TRUE/FALSE in an
# Indonesian Excel's CSV).
_YES = {"ya", "yes", "y", "1", "true", "benar"}
_NO = {"tidak", "no", "t", "0", "false", "salah"}
# Headers of the column of villages among other label columns (No, Kecamatan).
_VILLAGE_WORDS = ("desa", "kelurahan", "village", "pekon", "kampung", "nagari", "gampong")
_VILLAGE_PREFIX = re.compile(r"^(desa|ds|kelurahan|kel)\b\.?\s*(.+)$")
_TOTALS = {"jumlah", "total", "jumlahtotal", "subtotal", "grandtotal"}


@dataclass
class _FactLayout:
    header_row: int
    village_column: int
    headers: list[str]
    facts: dict[int, Indicator]  # column index -> fact


def _village_text(value) -> str:
    """A village cell as written; Excel turns 1904012003 typed without dots
    into a number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return readers.float_text(float(value))
    return readers.shown(value)


class _Villages:
    """Village cells of one file -> codes of the current villages in the
    actor's scope (by code, or by name without regard to case, spaces,
    punctuation and a "Desa"/"Kelurahan" prefix)."""

    def __init__(self, actor):
        self.actor = actor
        found = Region.objects.filter(level=4, retired_in="")
        root = access.scope_root(actor)
        if root:
            found = found.filter(region_codes.village_in_q("code", root))
        self.names: dict[str, str] = {}
        self.by_key: dict[str, list[str]] = {}
        for code, name in found.order_by("code").values_list("code", "name"):
            self.names[code] = name
            self.by_key.setdefault(_key(name), []).append(code)

    def resolve(self, value) -> str:
        """The code of the village a cell names; SinergiError saying what to
        write instead."""
        shown = _village_text(value)
        if re.fullmatch(r"\d{10}", shown):
            shown = f"{shown[:2]}.{shown[2:4]}.{shown[4:6]}.{shown[6:]}"
        if region_codes.CODE_RE.match(shown):
            return self._by_code(shown)
        prefixed = _VILLAGE_PREFIX.match(shown.casefold())
        found = self.by_key.get(_key(shown)) or \
            (self.by_key.get(_key(prefixed.group(2)), []) if prefixed else [])
        if len(found) > 1:
            raise SinergiError(
                _("'%(v)s' matches several villages in your area: %(found)s. Write the code of "
                  "the one you mean instead of the name, e.g. %(code)s.")
                % {"v": shown, "found": "; ".join(f"{c} {self.names[c]}" for c in found),
                   "code": found[0]}, field="village")
        if found:
            return found[0]
        raise self._unknown(shown, prefixed.group(2) if prefixed else shown)

    def _by_code(self, code: str) -> str:
        if code in self.names:
            return code
        if not access.in_scope(self.actor, code):
            raise _outside(self.actor, code)
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise SinergiError(_("There is no village with code %(code)s. Check the code, or "
                                 "write the village's name instead.") % {"code": code},
                               field="village")
        if region.level != 4:
            raise SinergiError(_("%(region)s is not a village: write the code of a desa or "
                                 "kelurahan (e.g. 19.04.01.2001) or its name.")
                               % {"region": region}, field="village")
        raise SinergiError(_("%(region)s was retired in edition %(edition)s; write the code "
                             "of the village that replaced it.")
                           % {"region": region, "edition": region.retired_in}, field="village")

    def _unknown(self, shown: str, name: str) -> SinergiError:
        if Region.objects.filter(level=4, retired_in="", name__iexact=name.strip()).exists():
            return _outside(self.actor, shown)
        close = difflib.get_close_matches(_key(name), list(self.by_key), n=3, cutoff=0.75)
        if close:
            return SinergiError(
                _("'%(v)s' is not a village in your area. Did you mean %(close)s? Write the "
                  "name as in the Kemendagri list, or the village code.")
                % {"v": shown, "close": " or ".join(
                    f"{self.names[c]} ({c})" for key in close for c in self.by_key[key])},
                field="village")
        return SinergiError(_("'%(v)s' is not a village in your area. Write the village code "
                              "(e.g. 19.04.01.2001) or its name as in the Kemendagri list.")
                            % {"v": shown}, field="village")


def _answer(indicator: Indicator, raw) -> Decimal:
    """A fact's answer in a cell: 1 or 0 for a yes/no fact, a whole number
    of 0 or more for a count; SinergiError saying what to write instead."""
    shown = readers.shown(raw)
    if indicator.kind == YESNO:
        if shown.casefold() in _YES | _NO:
            return Decimal(1 if shown.casefold() in _YES else 0)
        raise SinergiError(_("'%(v)s' is not an answer to '%(fact)s': write ya or tidak (or "
                             "yes or no, 1 or 0), or leave the cell empty when it is not "
                             "known.") % {"v": shown[:40], "fact": indicator.name},
                           field=indicator.code)
    whole = _("'%(fact)s' is a count: write a whole number, 0 or more (e.g. 3; 0 when there "
              "is none), or leave the cell empty when it is not known.") % {
        "fact": indicator.name}
    if isinstance(raw, bool) or not re.search(r"\d", shown):
        raise SinergiError(whole, field=indicator.code)
    count = readers.number(raw, indicator.code)
    if count < 0 or count != count.to_integral_value():
        raise SinergiError(whole, field=indicator.code)
    return count


def _village_facts() -> dict[str, Indicator]:
    """The active village facts by the key of their code and of their names."""
    found: dict[str, Indicator] = {}
    for indicator in Indicator.objects.filter(source=VILLAGE, is_active=True):
        for text in (indicator.code, indicator.name_id, indicator.name_en):
            if text:
                found.setdefault(_key(text), indicator)
    return found


def _fact_layout(sheet: readers.Sheet, header_at: int, facts: dict[str, Indicator], body,
                 result: ImportResult) -> _FactLayout | None:
    """Where the villages and the facts are; problems of the header row."""
    header_row, header_cells = sheet.rows[header_at]
    headers = _headers(header_cells)
    found = {i: facts[_key(h)] for i, h in enumerate(headers)
             if not readers.blank(header_cells[i]) and _key(h) in facts}
    first = min(found)
    village_column = _label_column(header_cells, first, body, _VILLAGE_WORDS)
    if village_column is None:
        result.problems.append(Problem(
            row=header_row, column=headers[first], value=headers[first],
            message=_("There is no column of villages left of the first fact (%(f)s). Put the "
                      "village codes or names in the first column and the facts in the columns "
                      "after it.") % {"f": headers[first]}))
        return None
    _columns_once(found, headers, header_row, lambda fact: _("the fact %(code)s") % {
        "code": fact.code}, result)
    unread = _unread(headers, body, first, found)
    if unread:
        result.warnings.append(
            _("Columns that are not village facts were not read: %(columns)s. Head each fact's "
              "column with its code (e.g. F_PUSKESSOS) or its name.")
            % {"columns": ", ".join(unread)})
    return _FactLayout(header_row, village_column, headers, found)


def _fact_rows(layout: _FactLayout, sheet: readers.Sheet, body, villages: _Villages,
               result: ImportResult) -> dict[str, dict[str, Decimal]]:
    """The answers of the body rows by village code ({fact code: answer}),
    each checked; problems and warnings go to ``result``."""
    answers: dict[str, dict[str, Decimal]] = {}
    first_row: dict[str, int] = {}
    village_header = layout.headers[layout.village_column]
    for n, cells in body:
        filled = [(i, fact, _cell(cells, i)) for i, fact in layout.facts.items()
                  if not readers.blank(_cell(cells, i))]
        if not filled:
            continue  # a note, or a village without answers
        total = [readers.shown(c) for c in cells[:min(layout.facts)]
                 if _key(readers.shown(c)) in _TOTALS]
        if total:
            result.warnings.append(
                _("Row %(row)d ('%(v)s') was passed over: Sinergi sums the villages itself.")
                % {"row": n, "v": total[0]})
            continue
        raw_village = _cell(cells, layout.village_column)
        shown = _village_text(raw_village)
        found: list[Problem] = []
        code = None
        if readers.blank(raw_village):
            found.append(Problem(row=n, column=village_header, value="", message=_(
                "This row has answers but no village. Write the village code or name in column "
                "'%(column)s', or delete the row.") % {"column": village_header}))
        else:
            try:
                code = villages.resolve(raw_village)
            except SinergiError as exc:
                found.append(Problem(row=n, column=village_header, value=shown,
                                     message=exc.message))
        row: dict[str, Decimal] = {}
        for i, fact, raw in filled:
            column = layout.headers[i]
            formula = _formula(sheet, n, i, column)
            if formula is not None:
                found.append(formula)
                continue
            try:
                row[fact.code] = _answer(fact, raw)
            except SinergiError as exc:
                found.append(Problem(row=n, column=column, value=readers.shown(raw),
                                     message=exc.message))
        if code is not None and code in first_row:
            found.append(Problem(
                row=n, column=village_header, value=shown,
                message=_("%(village)s is already in row %(first)d. Keep one row per village: "
                          "delete this row or merge the two.")
                % {"village": f"{code} {villages.names[code]}", "first": first_row[code]}))
        elif code is not None:
            first_row[code] = n
            if not found:
                answers[code] = row
        result.problems.extend(_in_column_order(found, layout.headers))
    return answers


def facts_import(*, actor, year, upload) -> ImportResult:
    """Write the village facts of ``year`` in an uploaded .xlsx or .csv
    table (villages as rows, by code or name, in the first column; one
    column per fact, headed by its code or name): every answer, as
    drafts (``services.facts_write``, checked as the facts form is), or none when any
    cell has a problem (listed in the result). An empty cell leaves that
    fact of that village as it is. ``created`` counts the answers."""
    name = _upload_name(upload)
    result = ImportResult(file_name=name)
    try:
        access.check_capability(actor, "villagefact.enter")
    except SinergiError as exc:
        return _file_problem(result, exc.message)
    period = periods.normalize(year, "year")
    if period is None:
        return _file_problem(result, periods.problem(year, "year"))
    facts = _village_facts()
    codes = ", ".join(sorted({fact.code for fact in facts.values()})) or "—"
    try:
        sheet, header_at, body = _table(
            upload, name,
            empty=_("File '%(file)s' is empty. Upload the table with the villages as rows and "
                    "the facts as columns."),
            is_header=lambda cells: any(_key(readers.shown(cell)) in facts for cell in cells
                                        if not readers.blank(cell)),
            no_header=lambda where: _(
                "File '%(file)s' has no header row naming a village fact: none of the first "
                "%(n)d rows of %(where)s holds a fact's code or name (%(codes)s). Put the "
                "village codes or names in the first column and one column per fact, headed by "
                "its code or name, then upload it again.")
            % {"file": name, "n": HEADER_SEARCH_ROWS, "where": where, "codes": codes})
    except SinergiError as exc:
        return _file_problem(result, exc.message)
    layout = _fact_layout(sheet, header_at, facts, body, result)
    if layout is None or result.problems:
        return result
    answers = _fact_rows(layout, sheet, body, _Villages(actor), result)
    if not result.problems and not answers:
        return _file_problem(
            result, _("File '%(file)s' has no answers below its header row (row %(row)d). "
                      "Write the villages' answers under the facts and upload it again.")
            % {"file": name, "row": layout.header_row}, row=layout.header_row)
    if result.problems:
        return result

    def write() -> int:
        written = services.facts_write(actor=actor, year=period, answers=answers)
        audit_record(actor=actor, action="indicator.import", obj=layout.facts[min(layout.facts)],
                     after={"file": name, "villages": len(answers), "answers": written,
                            "year": period})
        return written

    return _save(result, write)


# --- the export ----------------------------------------------------------------------------

def bps_rows(indicator: Indicator, values: Iterable[Value]) -> tuple[list[str], list[list]]:
    """``indicator``'s values in the BPS layout: headers ["Kode", "Wilayah",
    periods oldest first] and one row per region in code order (its code,
    its name, then its value per period or None). Values of other
    indicators and of disaggregations are left out. Write it with the code
    column as text (``text_columns={0}``) so 19.10 stays 19.10;
    ``values_import`` reads it back."""
    cells: dict[str, dict[str, Decimal | None]] = {}
    for value in values:
        if value.disaggregation or value.indicator_id != indicator.pk:
            continue
        cells.setdefault(value.region_code, {})[value.period] = value.value
    columns = sorted({p for by_period in cells.values() for p in by_period},
                     key=lambda p: (periods.position(p), p))
    names = dict(Region.objects.filter(code__in=sorted(cells)).values_list("code", "name"))
    rows = [[code, names.get(code, ""), *(cells[code].get(p) for p in columns)]
            for code in sorted(cells)]
    return [CODE_HEADER, NAME_HEADER, *columns], rows

