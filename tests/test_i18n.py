"""The Indonesian catalogue: complete, compiled, faithful, and used.

Sinergi's source strings are English and LANGUAGE_CODE is "id", so an
untranslated or stale entry shows English to the people the software is
for. These tests read sinergi/locale/id/LC_MESSAGES/django.po with a small
parser of their own (no gettext tools needed), check the committed .mo
against it, and check both languages reach the pages and the API. Only the
coverage check (every marked string is in the .po) needs xgettext, and it
skips with a reason when gettext is not installed.

To update the catalogue after changing strings::

    cd sinergi && django-admin makemessages -l id --ignore='migrations/*'
    # translate the new entries, remove any "fuzzy" flag, then
    msgfmt --check -o locale/id/LC_MESSAGES/django.mo locale/id/LC_MESSAGES/django.po
"""

import gettext
import io
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command

import sinergi

PACKAGE_DIR = Path(sinergi.__file__).resolve().parent
MESSAGES_DIR = PACKAGE_DIR / "locale" / "id" / "LC_MESSAGES"
PO_FILE = MESSAGES_DIR / "django.po"
MO_FILE = MESSAGES_DIR / "django.mo"

AUTH_MESSAGE = "Sign in, or send an API token as 'Authorization: Bearer <token>'."


# --- a small .po reader ------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    line: int = 0

    @property
    def key(self) -> tuple:
        return (self.msgctxt, self.msgid, self.msgid_plural)

    def __str__(self) -> str:
        context = f" (context {self.msgctxt!r})" if self.msgctxt is not None else ""
        return f"django.po line {self.line}: {self.msgid!r}{context}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b",
            "f": "\f", "v": "\v"}


def _unquote(text: str, where: int) -> str:
    text = text.strip()
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"django.po line {where}: expected a quoted string, got {text!r}")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text[1:-1])


def parse_po(text: str) -> list[Entry]:
    """Entries of a .po file, header (msgid "") included, in file order.

    Handles comments, flags, msgctxt, plurals (msgstr[N]), strings split
    over several lines and obsolete (#~) entries.
    """
    entries: list[Entry] = []
    entry = Entry()
    part: tuple | None = None  # the keyword continuation lines extend
    seen_msgstr = False

    def flush():
        nonlocal entry, part, seen_msgstr
        if part is not None:
            entries.append(entry)
        entry, part, seen_msgstr = Entry(), None, False

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            flush()
            continue
        if line.startswith("#"):
            if seen_msgstr:  # a new entry without a blank line before it
                flush()
            if line.startswith("#,"):
                entry.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if line.startswith('"'):
            if part is None:
                raise ValueError(f"django.po line {number}: a string outside any keyword")
            value = _unquote(line, number)
            if part[0] == "msgstr":
                entry.msgstr[part[1]] += value
            else:
                setattr(entry, part[0], getattr(entry, part[0]) + value)
            continue
        keyword, _space, rest = line.partition(" ")
        if keyword in {"msgctxt", "msgid"} and seen_msgstr:
            flush()
        if part is None:
            entry.line = number
        entry.obsolete = entry.obsolete or obsolete
        value = _unquote(rest, number)
        if keyword in {"msgctxt", "msgid", "msgid_plural"}:
            setattr(entry, keyword, value)
            part = (keyword,)
        elif (m := re.fullmatch(r"msgstr(?:\[(\d+)\])?", keyword)) is not None:
            index = int(m.group(1) or 0)
            entry.msgstr[index] = value
            part = ("msgstr", index)
            seen_msgstr = True
        else:
            raise ValueError(f"django.po line {number}: unknown keyword {keyword!r}")
    flush()
    return entries


def catalogue(path: Path = PO_FILE) -> tuple[Entry, list[Entry]]:
    """The header entry and the live (not obsolete) entries of a .po file."""
    entries = [e for e in parse_po(path.read_text(encoding="utf-8")) if not e.obsolete]
    headers = [e for e in entries if e.msgid == "" and e.msgctxt is None]
    assert len(headers) == 1, f"{path} must have exactly one header entry"
    return headers[0], [e for e in entries if e is not headers[0]]


def header_fields(header: Entry) -> dict[str, str]:
    lines = header.msgstr.get(0, "").splitlines()
    return {k.strip().lower(): v.strip() for k, _c, v in (ln.partition(":") for ln in lines)}


# --- the catalogue itself ----------------------------------------------------


def test_the_po_parser_reads_multiline_plural_and_obsolete_entries():
    sample = '\n'.join([
        'msgid ""', 'msgstr ""', '"Language: id\\n"', "",
        "#, fuzzy, python-format",
        'msgid ""', '"Two \\"lines\\" "', '"joined %(n)d"', 'msgstr "Dua %(n)d"',
        'msgctxt "menu"', 'msgid "One"', 'msgid_plural "Many"',
        'msgstr[0] "Satu"', 'msgstr[1] ""', '"Banyak"', "",
        '#~ msgid "Gone"', '#~ msgstr "Hilang"',
    ])
    header, joined, plural, gone = parse_po(sample)
    assert header_fields(header) == {"language": "id"}
    assert joined.msgid == 'Two "lines" joined %(n)d' and joined.msgstr == {0: "Dua %(n)d"}
    assert joined.flags == {"fuzzy", "python-format"}
    assert plural.key == ("menu", "One", "Many") and plural.msgstr == {0: "Satu", 1: "Banyak"}
    assert gone.obsolete and not plural.obsolete


def test_every_entry_is_translated_and_none_is_fuzzy():
    header, entries = catalogue()
    fields = header_fields(header)
    assert "fuzzy" not in header.flags, "the django.po header is marked fuzzy"
    assert fields.get("language") == "id"
    assert fields.get("content-type") == "text/plain; charset=UTF-8"
    assert fields.get("plural-forms", "").replace(" ", "") == "nplurals=1;plural=0;", (
        "Indonesian has one plural form: Plural-Forms: nplurals=1; plural=0;"
    )
    assert len(entries) > 100, "django.po looks truncated"
    assert len({e.key for e in entries}) == len(entries), "django.po has duplicate entries"
    fuzzy = [str(e) for e in entries if "fuzzy" in e.flags]
    assert not fuzzy, "review these and remove the fuzzy flag:\n" + "\n".join(fuzzy)
    empty = [str(e) for e in entries
             if not e.msgstr or any(not s.strip() for s in e.msgstr.values())
             or (e.msgid_plural is not None and sorted(e.msgstr) != [0])]
    assert not empty, "translate these into Bahasa Indonesia:\n" + "\n".join(empty)


_PLACEHOLDER = re.compile(r"%%|%(?:\(\w+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa]")
_HTML = re.compile(r"</?[A-Za-z][^>]*>|&#?\w+;")


def _placeholders(text: str) -> set[str]:
    return {p for p in _PLACEHOLDER.findall(text) if p != "%%"}


def test_translations_keep_every_placeholder_and_html_tag():
    _header, entries = catalogue()
    wrong = []
    for e in entries:
        for index, text in e.msgstr.items():
            source = e.msgid if index == 0 or e.msgid_plural is None else e.msgid_plural
            if e.msgid_plural is not None:
                # The one Indonesian form covers both English forms.
                want = _placeholders(e.msgid) | _placeholders(e.msgid_plural)
            else:
                want = _placeholders(source)
            if _placeholders(text) != want:
                wrong.append(f"{e}: placeholders {sorted(_placeholders(text))} "
                             f"should be {sorted(want)}")
            if sorted(_HTML.findall(text)) != sorted(_HTML.findall(source)):
                wrong.append(f"{e}: HTML {_HTML.findall(text)} should be {_HTML.findall(source)}")
    assert not wrong, "\n".join(wrong)


def test_the_compiled_mo_matches_the_po():
    assert MO_FILE.exists(), (
        f"{MO_FILE} is missing; run msgfmt --check -o {MO_FILE} {PO_FILE}"
    )
    header, entries = catalogue()
    with open(MO_FILE, "rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = []
    for e in entries:
        if e.msgid_plural is not None:
            for n in (1, 2, 5):
                got = (mo.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n) if e.msgctxt
                       else mo.ngettext(e.msgid, e.msgid_plural, n))
                if got != e.msgstr[mo.plural(n)]:
                    stale.append(f"{e}: the .mo gives {got!r} for n={n}")
            continue
        got = mo.pgettext(e.msgctxt, e.msgid) if e.msgctxt is not None else mo.gettext(e.msgid)
        if got != e.msgstr[0]:
            stale.append(f"{e}: the .mo gives {got!r}, the .po {e.msgstr[0]!r}")
    # And nothing in the .mo that the .po no longer has.
    po_keys = {""}
    for e in entries:
        msgid = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        po_keys.update({msgid} if e.msgid_plural is None else {(msgid, i) for i in e.msgstr})
    extra = [repr(k) for k in mo._catalog if k not in po_keys]
    assert mo.info().get("plural-forms") == header_fields(header).get("plural-forms")
    assert not stale and not extra, (
        f"{MO_FILE.name} is out of date; run msgfmt --check -o {MO_FILE} {PO_FILE}\n"
        + "\n".join(stale + [f"only in the .mo: {k}" for k in extra])
    )


def test_every_string_marked_for_translation_is_in_the_po(tmp_path, settings, monkeypatch):
    if shutil.which("xgettext") is None or shutil.which("msguniq") is None:
        pytest.skip("gettext tools (xgettext, msguniq) are not installed; "
                    "install gettext to check django.po against the code")
    # makemessages on a copy, so the committed catalogue is neither read nor touched.
    copy = tmp_path / "sinergi"
    shutil.copytree(PACKAGE_DIR, copy,
                    ignore=shutil.ignore_patterns("locale", "__pycache__", "*.gz", "*.csv"))
    (copy / "locale").mkdir()
    settings.LOCALE_PATHS = [str(copy / "locale")]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["id"], ignore_patterns=["migrations/*"],
                 verbosity=0, stdout=io.StringIO(), stderr=io.StringIO())
    fresh = copy / "locale" / "id" / "LC_MESSAGES" / "django.po"
    _header, marked = catalogue(fresh)
    _header, committed = catalogue()
    marked_keys = {e.key: e for e in marked}
    committed_keys = {e.key for e in committed}
    missing = [f"{marked_keys[k].msgid!r}" for k in marked_keys if k not in committed_keys]
    unused = [str(e) for e in committed if e.key not in marked_keys]
    assert not missing and not unused, (
        "django.po is out of step with the code; run "
        "`cd sinergi && django-admin makemessages -l id --ignore='migrations/*'`, "
        "translate, then msgfmt.\n"
        + "\n".join([f"not in django.po: {m}" for m in missing]
                    + [f"no longer in the code: {u}" for u in unused])
    )


# --- both languages reach people ---------------------------------------------


def _translation_of(msgid: str) -> str:
    _header, entries = catalogue()
    return next(e.msgstr[0] for e in entries if e.msgid == msgid and e.msgctxt is None)


def _browser_without_language(client):
    """The client as a browser that states no language (conftest asks for English)."""
    client.defaults.pop("HTTP_ACCEPT_LANGUAGE", None)
    return client


def test_the_sign_in_page_speaks_indonesian_and_english(client_of):
    client = client_of("anonymous")
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert '<html lang="id">' in html
    assert "Masuk" in html and "Sign in" not in html

    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert switched.status_code == 302
    # The choice sticks (a cookie), whatever the browser asks for.
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert '<html lang="en">' in html
    assert "Sign in" in html and "Masuk" not in html


def test_the_default_language_is_indonesian(client_of):
    client = _browser_without_language(client_of("anonymous"))
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="id">' in html and "Masuk ke Sinergi" in html


def test_api_errors_follow_the_language(client_of):
    client = _browser_without_language(client_of("anonymous"))
    indonesian = client.get("/api/v1/regions")
    assert indonesian.status_code == 401
    assert indonesian.json()["detail"] == _translation_of(AUTH_MESSAGE) != AUTH_MESSAGE

    english = client.get("/api/v1/regions", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 401
    assert english.json()["detail"] == AUTH_MESSAGE
