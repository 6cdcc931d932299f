"""The language of eligibility rules: tokens, syntax tree and parser.

A program's ``rule`` says who may be enrolled, e.g.
``desil <= 4 and sex == "P" and age >= 18 and not enrolled_in("PKH")``.
Rules are written by agency operators, so the language is deliberately tiny
and safe: a hand-written tokenizer and recursive-descent parser (no ``eval``,
no Python AST) produce a tree that compiles to one Django ``Q`` (lookups,
``Exists`` and count subqueries). Eligibility of a whole province is then one
SQL query, never a loop over rows in Python.

Grammar (keywords ``and or not in true false`` in any letter case)::

    rule       := [ or ]                    empty: everyone is eligible
    or         := and { "or" and }
    and        := unary { "and" unary }
    unary      := "not" unary | primary
    primary    := "(" or ")" | call | condition
    call       := NAME "(" STRING ")"       member_of, enrolled_in, in_region
    condition  := FIELD op value
                | FIELD [ "not" ] "in" "[" value { "," value } [","] "]"
                | FIELD                     a yes/no field alone: FIELD == true
    op         := "==" | "!=" | "<" | "<=" | ">" | ">="
    value      := INTEGER | DECIMAL | STRING | "true" | "false"

INTEGER is ``-?[0-9]+``, DECIMAL ``-?[0-9]+.[0-9]+``, STRING is in double
quotes (``\\"`` and ``\\\\`` escape). ``not`` binds tighter than ``and``,
``and`` tighter than ``or``. A field always stands left of its value.

Every keyword, field and function has a Bahasa Indonesia word too
(INDONESIAN): ``desil <= 4 dan jenis_kelamin == "P" dan bukan penerima("PKH")``
is the rule above.

What the fields and functions mean, and how a rule becomes SQL:
programs/eligibility.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from sinergi.core.errors import SinergiError

MAX_LENGTH = 1000
MAX_DEPTH = 30
MAX_NUMBER = 10**15
MAX_AGE = 150


class RuleError(SinergiError):
    """A rule that cannot be compiled; ``position`` is a 0-based offset."""

    def __init__(self, message: str, *, position: int, rule: str):
        super().__init__(message, field="rule")
        self.position = position
        self.rule = rule

    def pointer(self) -> str:
        """The line of the rule holding the position and a caret under it."""
        start = self.rule.rfind("\n", 0, self.position) + 1
        end = self.rule.find("\n", self.position)
        line = self.rule[start:] if end < 0 else self.rule[start:end]
        pad = "".join("\t" if c == "\t" else " " for c in line[: self.position - start])
        return f"{line}\n{pad}^"


KEYWORDS = {"and", "or", "not", "in", "true", "false"}
# The same rule written in Bahasa Indonesia: each word stands for the English
# keyword, field or function (any letter case); a rule keeps the words its
# author typed, and messages quote them.
INDONESIAN = {
    "dan": "and", "atau": "or", "bukan": "not", "dalam": "in", "ya": "true", "tidak": "false",
    "jenis_kelamin": "sex", "umur": "age", "usia": "age", "pendapatan": "income",
    "penghasilan": "income", "hubungan_keluarga": "shdk", "status_kawin": "marital_status",
    "pendidikan": "education", "pekerjaan": "occupation", "agama": "religion",
    "disabilitas": "disability", "penyandang_disabilitas": "has_disability",
    "jaminan_kesehatan": "health_insurance", "ber_kb": "kb", "metode_kb": "kb_method",
    "punya_akta_lahir": "has_birth_certificate", "punya_kia": "has_kia",
    "punya_ktp_el": "has_ktp_el", "keluarga.desil": "family.desil",
    "keluarga.dtsen": "family.in_dtsen", "dtsen": "in_dtsen",
    "keluarga.jumlah_anggota": "family.size", "jumlah_anggota": "size",
    "jenis": "kind", "tingkat": "level", "anggota": "members",
    "tahun_berdiri": "founded_year", "anggota_kelompok": "member_of",
    "penerima": "enrolled_in", "di_wilayah": "in_region",
}
FUNCTIONS = ("member_of", "enrolled_in", "in_region")
OPERATORS = ("==", "!=", "<", "<=", ">", ">=")
# Operators of other languages, and what to write instead.
FOREIGN = {"=": "==", "=>": ">=", "=<": "<=", "<>": "!=", "&&": "and", "&": "and",
           "||": "or", "|": "or", "!": "not"}


_TOKEN_RE = re.compile(r"""
    (?P<space>\s+)
  | (?P<num>-?[0-9]+(?:\.[0-9]+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>==|!=|<=|>=|<>|=>|=<|&&|\|\||[<>=&|!])
  | (?P<punct>[()\[\],])
  | (?P<str>")
  | (?P<squote>')
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str  # num, str, ident, kw, op, punct, end
    text: str
    pos: int
    value: object = None


def _tokens(rule: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(rule):
        m = _TOKEN_RE.match(rule, pos)
        if not m:
            raise RuleError(_("The character %(char)s at character %(pos)s is not part of the "
                              "rule language; use and, or, not, parentheses and comparisons "
                              "such as desil <= 4.") % {"char": rule[pos], "pos": pos},
                            position=pos, rule=rule)
        kind, text = m.lastgroup, m.group()
        if kind == "num":
            if re.match(r"\.[0-9]", rule[m.end():m.end() + 2]):
                raise RuleError(_("The number at character %(pos)s has separators; write it "
                                  "without dots, e.g. 1500000.") % {"pos": pos},
                                position=pos, rule=rule)
            value = Decimal(text) if "." in text else int(text)
            out.append(Token("num", text, pos, value))
        elif kind == "ident":
            low = text.lower()
            low = INDONESIAN.get(low, low)
            out.append(Token("kw" if low in KEYWORDS else "ident", text, pos, low))
        elif kind == "op":
            if text in FOREIGN:
                raise RuleError(_("%(text)s at character %(pos)s is not an operator here; "
                                  "write %(instead)s instead.")
                                % {"text": text, "pos": pos, "instead": FOREIGN[text]},
                                position=pos, rule=rule)
            out.append(Token("op", text, pos, text))
        elif kind == "punct":
            out.append(Token("punct", text, pos, text))
        elif kind == "str":
            end, chars = pos + 1, []
            while end < len(rule) and rule[end] != '"':
                if rule[end] == "\\" and end + 1 < len(rule):
                    end += 1
                chars.append(rule[end])
                end += 1
            if end >= len(rule):
                raise RuleError(_("The text starting at character %(pos)s has no closing "
                                  "double quote; add \" at its end.") % {"pos": pos},
                                position=pos, rule=rule)
            out.append(Token("str", rule[pos:end + 1], pos, "".join(chars)))
            pos = end + 1
            continue
        elif kind == "squote":
            raise RuleError(_("Text at character %(pos)s is in single quotes; write it in "
                              "double quotes, e.g. sex == \"P\".") % {"pos": pos},
                            position=pos, rule=rule)
        pos = m.end()
    out.append(Token("end", "", len(rule)))
    return out


@dataclass(frozen=True)
class Value:
    value: object  # int, Decimal, str or bool
    pos: int


@dataclass(frozen=True)
class Compare:
    field: str
    field_pos: int
    op: str  # one of OPERATORS, "in" or "not in"
    op_pos: int
    values: tuple[Value, ...]  # one value for OPERATORS; the list for in


@dataclass(frozen=True)
class Flag:
    """A yes/no field standing alone as a condition."""

    field: str
    pos: int


@dataclass(frozen=True)
class Call:
    name: str
    pos: int
    args: tuple[Value, ...]
    end_pos: int


@dataclass(frozen=True)
class Not:
    operand: object
    pos: int


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" / "or"
    items: tuple


class _Parser:
    def __init__(self, rule: str):
        self.rule = rule
        self.toks = _tokens(rule)
        self.i = 0
        self.depth = 0

    def error(self, message: str, pos: int) -> RuleError:
        return RuleError(message, position=pos, rule=self.rule)

    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def next(self) -> Token:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def at(self, kind: str, text: str | None = None, offset: int = 0) -> bool:
        tok = self.toks[min(self.i + offset, len(self.toks) - 1)]
        return tok.kind == kind and (text is None or tok.value == text)

    def parse(self):
        node = self.parse_or()
        if not self.at("end"):
            raise self.unexpected()
        return node

    def unexpected(self) -> RuleError:
        tok = self.tok
        if tok.text == ")":
            return self.error(_("The ) at character %(pos)s has no matching (; remove it.")
                              % {"pos": tok.pos}, tok.pos)
        return self.error(_("%(found)s at character %(pos)s is unexpected here; join "
                            "conditions with \"and\" or \"or\".")
                          % {"found": tok.text[:30], "pos": tok.pos}, tok.pos)

    def parse_or(self):
        items = [self.parse_and()]
        while self.at("kw", "or"):
            self.next()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def parse_and(self):
        items = [self.parse_unary()]
        while self.at("kw", "and"):
            self.next()
            items.append(self.parse_unary())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def deeper(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(_("Too many nested parentheses or nots at character %(pos)s: at "
                               "most %(max)s levels are allowed; remove ones that are not "
                               "needed.") % {"pos": tok.pos, "max": MAX_DEPTH}, tok.pos)

    def parse_unary(self):
        if self.at("kw", "not"):
            tok = self.next()
            self.deeper(tok)
            node = Not(self.parse_unary(), tok.pos)
            self.depth -= 1
            return node
        return self.parse_primary()

    def parse_primary(self):
        tok = self.tok
        if tok.text == "(":
            self.next()
            self.deeper(tok)
            node = self.parse_or()
            if self.at("end"):
                raise self.error(_("The ( at character %(pos)s is never closed; add a ) "
                                   "after its condition.") % {"pos": tok.pos}, tok.pos)
            if not self.at("punct", ")"):
                raise self.unexpected()
            self.next()
            self.depth -= 1
            return node
        if tok.kind == "ident":
            if self.at("punct", "(", 1):
                return self.parse_call()
            if tok.value in FUNCTIONS:
                raise self.error(_("%(name)s at character %(pos)s is a function; write its "
                                   "value in parentheses, e.g. %(example)s.")
                                 % {"name": tok.text, "pos": tok.pos,
                                    "example": EXAMPLES[tok.value]}, tok.pos)
            return self.parse_condition()
        if tok.kind == "end":
            raise self.error(_("The rule ends at character %(pos)s where a condition is "
                               "expected, such as desil <= 4.") % {"pos": tok.pos}, tok.pos)
        if tok.kind in {"num", "str"} or tok.value in {"true", "false"}:
            raise self.error(_("A condition starts with a field, not a value (at character "
                               "%(pos)s); write e.g. age >= 18, not 18 <= age.")
                             % {"pos": tok.pos}, tok.pos)
        if tok.text == ")":
            raise self.error(_("A condition is expected at character %(pos)s, inside the "
                               "parentheses; write one such as desil <= 4.")
                             % {"pos": tok.pos}, tok.pos)
        raise self.error(_("%(found)s at character %(pos)s cannot start a condition; write "
                           "one such as desil <= 4.") % {"found": tok.text, "pos": tok.pos},
                         tok.pos)

    def parse_call(self) -> Call:
        name = self.next()
        opening = self.next()
        args: list[Value] = []
        while not self.at("punct", ")"):
            if self.at("end"):
                raise self.error(_("The ( at character %(pos)s is never closed; add a ) "
                                   "after its condition.") % {"pos": opening.pos}, opening.pos)
            if args:
                if not self.at("punct", ","):
                    raise self.unexpected()
                self.next()
            args.append(self.parse_value(None, call=name))
        close = self.next()
        return Call(name.value, name.pos, tuple(args), close.pos)

    def parse_condition(self):
        field = self.next()
        tok = self.tok
        if tok.kind == "op":
            self.next()
            return Compare(field.value, field.pos, tok.value, tok.pos,
                           (self.parse_value(tok),))
        if tok.value == "in" or (tok.value == "not" and self.at("kw", "in", 1)):
            op = "not in" if tok.value == "not" else "in"
            self.i += 2 if op == "not in" else 1
            return Compare(field.value, field.pos, op, tok.pos, self.parse_list(tok))
        if tok.value == "not":
            raise self.error(_("in is expected at character %(pos)s after not, e.g. desil not "
                               "in [1, 2].") % {"pos": self.toks[self.i + 1].pos},
                             self.toks[self.i + 1].pos)
        return Flag(field.value, field.pos)

    def parse_list(self, op: Token) -> tuple[Value, ...]:
        opening = self.tok
        if opening.text != "[":
            raise self.error(_("A list in square brackets is expected at character %(pos)s, "
                               "e.g. desil in [1, 2, 3].") % {"pos": opening.pos}, opening.pos)
        self.next()
        values: list[Value] = []
        while not self.at("punct", "]"):
            if values:
                if not self.at("punct", ","):
                    raise self.error(_("The list at character %(pos)s is not closed or lacks "
                                       "a comma at character %(at)s; write values separated "
                                       "by commas, e.g. [1, 2, 3].")
                                     % {"pos": opening.pos, "at": self.tok.pos}, self.tok.pos)
                self.next()
                if self.at("punct", "]"):
                    break
            values.append(self.parse_value(op))
        self.next()
        if not values:
            raise self.error(_("The list at character %(pos)s is empty; put at least one value "
                               "in it.") % {"pos": opening.pos}, opening.pos)
        return tuple(values)

    def parse_value(self, op: Token | None, *, call: Token | None = None) -> Value:
        tok = self.tok
        if tok.kind in {"num", "str"} or tok.value in {"true", "false"}:
            self.next()
            value = {"true": True, "false": False}.get(tok.value, tok.value)
            return Value(value, tok.pos)
        if call is not None and call.value in FUNCTIONS:
            raise self.error(_("%(name)s at character %(pos)s takes one value in double "
                               "quotes, e.g. %(example)s.")
                             % {"name": call.text, "pos": tok.pos,
                                "example": EXAMPLES[call.value]}, tok.pos)
        after = op.text if op is not None else "("
        if tok.kind == "end":
            raise self.error(_("The rule ends at character %(pos)s where a value is expected "
                               "after %(op)s: a number, text in double quotes, true or false.")
                             % {"pos": tok.pos, "op": after}, tok.pos)
        if tok.kind == "ident":
            raise self.error(_("%(word)s at character %(pos)s is not a value; write text in "
                               "double quotes (\"%(word)s\"); a field cannot be compared with "
                               "another field.") % {"word": tok.text, "pos": tok.pos}, tok.pos)
        raise self.error(_("A value is expected at character %(pos)s after %(op)s: a number, "
                           "text in double quotes, true or false.")
                         % {"pos": tok.pos, "op": after}, tok.pos)


# A well-formed call of each function, for messages (here and in eligibility.py).
EXAMPLES = {"member_of": 'member_of("UPPKA")', "enrolled_in": 'enrolled_in("PKH")',
            "in_region": 'in_region("19.04")'}


def parse(rule: str):
    """The syntax tree of ``rule`` (None when empty); raises RuleError."""
    if len(rule) > MAX_LENGTH:
        raise RuleError(_("The rule is too long at character %(pos)s: at most %(max)s "
                          "characters are allowed and it has %(n)s; shorten it.")
                        % {"pos": MAX_LENGTH, "max": MAX_LENGTH, "n": len(rule)},
                        position=MAX_LENGTH, rule=rule)
    if not rule.strip():
        return None
    return _Parser(rule).parse()
