"""Importing references: BibTeX, CSL-JSON and RIS files -> clean records appended to a bundle's
references.yaml, skipping works that are already there (same DOI, or PMID when there is no DOI).

Three small hand-written readers (`_BibTeX`, `_csl_json`, `_ris`) turn a file into raw records of our
field names, each with its line, so that any problem is reported as file:line; `_record` then cleans
every record the same way, so one paper gives one record whatever format it came in. Nothing is
written unless every record is usable, and references.yaml is replaced atomically.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tablet_press.bundle import ISSUE_FILE, REFERENCES_FILE
from tablet_press.errors import BuildError, Problem, ValidationFailed, display_path
from tablet_press.loader import load_yaml, read_text
from tablet_press.model import Reference, References
from tablet_press.project import Project
from tablet_press.schema import parse

HEADER = "# yaml-language-server: $schema=../../schema/references.schema.json\n"
FIELD_ORDER = [
    info.alias or name for name, info in Reference.model_fields.items()
]  # as the schema lists them
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
LINE_WIDTH = 110


@dataclass
class Raw:
    """One record as read from a file, before cleaning: our field names, values as written."""

    line: int
    fields: dict[str, Any] = field(default_factory=dict)
    error: str = ""  # why the record cannot be used, found while reading it


@dataclass
class ImportResult:
    """What an import did: the records added, and a line for each record skipped as a duplicate."""

    target: str
    added: list[Reference] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def report(self) -> list[str]:
        lines = [f"added '{ref.id}': {ref.title}" for ref in self.added] + self.skipped
        lines.append(f"{self.target}: {len(self.added)} added, {len(self.skipped)} skipped as duplicates")
        return lines


def import_file(project: Project, source: Path, issue: Path | None, cwd: Path) -> ImportResult:
    """Read `source` (BibTeX, CSL-JSON or RIS) and append its new records to the bundle's
    references.yaml (the bundle `issue`, else the one `cwd` is in); all problems at once, or nothing."""
    bundle = _bundle_dir(project, issue, cwd)
    shown = display_path(source, project.root)
    text, problems = read_text(source, shown)
    if text is None:
        raise ValidationFailed(problems)
    raws = _read(text, shown, source.suffix.lower())
    target = bundle / REFERENCES_FILE
    shown_target = display_path(target, project.root)
    existing, original = _existing(target, shown_target)
    result = ImportResult(shown_target)
    taken = {ref.id.lower() for ref in existing}
    known = {key: ref.id for ref in existing for key in _identities(ref)}
    problems = []
    for raw in raws:
        try:
            ref = _record(raw, taken)
        except ValueError as exc:
            problems.append(Problem(shown, raw.line, 1, str(exc)))
            continue
        same = next((known[key] for key in _identities(ref) if key in known), None)
        if same is not None:
            by = f"DOI {ref.DOI}" if ref.DOI else f"PMID {ref.PMID}"
            result.skipped.append(
                f"skipped {shown}:{raw.line}: {by} is already in {shown_target} as '{same}'"
            )
            continue
        taken.add(ref.id.lower())
        known.update(dict.fromkeys(_identities(ref), ref.id))
        result.added.append(ref)
    if problems:
        raise ValidationFailed(problems)
    if result.added:
        _write(target, _appended(original, result.added), result.added, shown_target)
    return result


def _bundle_dir(project: Project, issue: Path | None, cwd: Path) -> Path:
    if issue is None:
        here = cwd.resolve()
        issues = project.issues_dir.resolve()
        if here == issues or issues not in here.parents:
            raise BuildError("run this inside an issue folder (issues/<slug>/) or name one with --issue")
        issue = issues / here.relative_to(issues).parts[0]
    if not (issue / ISSUE_FILE).is_file():
        raise BuildError(
            f"{display_path(issue, project.root)} is not an issue folder (it has no {ISSUE_FILE})"
        )
    return issue


def _existing(target: Path, shown: str) -> tuple[list[Reference], str]:
    if not target.exists():
        return [], HEADER
    parsed, problems = _load(target, shown)
    if parsed is None or problems:
        raise ValidationFailed(problems)  # never append to a file that does not validate
    text = target.read_text(encoding="utf-8-sig").replace("\r\n", "\n")  # load_yaml checked it reads
    lines = text.split("\n")
    body = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not parsed.references:  # e.g. the scaffold's "[]": keep the comments, drop the empty list
        text = "".join(line + "\n" for line in lines if line.lstrip().startswith("#")) or HEADER
    elif not body[0].startswith("- "):
        raise BuildError(f"{shown} is not a block list ('- id: ...' entries); cannot append to it")
    return parsed.references, text


def _load(path: Path, shown: str) -> tuple[References | None, list[Problem]]:
    located, problems = load_yaml(path, shown)
    if located is None:
        return None, problems
    located.root, located.data = "references", located.data or []
    parsed, more = parse(References, located, wrap="references")
    return parsed, problems + more


def _identities(ref: Reference) -> list[str]:
    """What makes two records the same work: the DOI (case-insensitive), or the PMID."""
    return [key for key in (ref.DOI and f"doi:{ref.DOI.lower()}", ref.PMID and f"pmid:{ref.PMID}") if key]


# ---------------------------------------------------------------- raw record -> clean Reference


def _record(raw: Raw, taken: set[str]) -> Reference:
    """A raw record, cleaned the same way whatever its format; ValueError says what is wrong."""
    if raw.error:
        raise ValueError(raw.error)
    f = {k: v for k, v in raw.fields.items() if v not in (None, "", [])}
    data: dict[str, Any] = {"type": f.get("type", "article-journal")}
    data["author"] = [_squash(a) for a in f.get("author", [])]
    for key in ("title", "container-title", "container-title-short", "volume", "issue", "PMID"):
        if key in f:
            data[key] = _squash(f[key])
    if "DOI" in f:
        data["DOI"] = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", _squash(f["DOI"]), flags=re.I)
    if "URL" in f and not ("DOI" in data or "PMID" in data):  # a DOI or PMID is the better link
        data["URL"] = _squash(f["URL"])
    page, number = _squash(f.get("page", "")), _squash(f.get("article-number", ""))
    if re.fullmatch(r"e\d+", page) and not number:  # a lone e-locator is an article number, not a page
        page, number = "", page
    data["page"] = re.sub(r"\s*(--?|–)\s*", "-", page) or None
    data["article-number"] = number or None
    data["issued"] = _squash(f.get("issued", "")) or _issued(f.get("year"), f.get("month"), f.get("day"))
    if not data["author"]:
        raise ValueError("record has no authors")
    if not data["issued"]:
        raise ValueError("record has no year of publication")
    data["id"] = _new_id(data["author"][0], data["issued"][:4], taken)
    label = f"the record of {data['author'][0]} ({data['issued'][:4]})"
    try:
        return Reference.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"])
        if error["type"] == "missing":
            raise ValueError(f"{label} has no {where}") from None
        message = error["ctx"].get("error", error["msg"]) if "ctx" in error else error["msg"]
        raise ValueError(f"{label}: {where} {error['input']!r}: {message}") from None


def _squash(text: Any) -> str:
    return " ".join(_CONTROL.sub("", str(text)).split())


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _ris_name(name: str) -> str:
    """'Family, Given' as given; a MEDLINE-style 'Younger JP' (PubMed's RIS) becomes 'Younger, J. P.'."""
    name = _squash(name)
    compact = re.fullmatch(r"(.+?) ([A-Z]{1,4})", name)
    if "," not in name and compact:
        return f"{compact.group(1)}, {' '.join(c + '.' for c in compact.group(2))}"
    return name


def _issued(year: Any, month: Any = None, day: Any = None) -> str:
    """year, month ('5', 'may', 'May-Jun', 'May--June'), day -> 2009, 2009-05, 2009-05/2009-06."""
    text = _squash(year or "")
    months = []
    for word in re.findall(r"[A-Za-z]+|\d+", str(month or "")):
        name = word[:3].lower()
        number = int(word) if word.isdigit() else MONTHS.index(name) + 1 if name in MONTHS else 0
        if not 1 <= number <= 12:
            raise ValueError(f"'{month}' is not a month")
        months.append(number)
    if not text or not months:
        return text
    if len(months) > 1:
        return f"{text}-{months[0]:02d}/{text}-{months[-1]:02d}"
    return f"{text}-{months[0]:02d}" + (f"-{int(day):02d}" if str(day or "").isdigit() else "")


def _new_id(first_author: str, year: str, taken: set[str]) -> str:
    """'Due Bruun, K.' + 2024 -> duebruun2024 (then duebruun2024b, ...), like the sample's keys."""
    family = first_author.split(",")[0] if "," in first_author else first_author.split()[0]
    family = family.lower()
    for letter, plain in (("ø", "o"), ("æ", "ae"), ("œ", "oe"), ("ß", "ss"), ("ł", "l"), ("đ", "d")):
        family = family.replace(letter, plain)
    ascii_name = unicodedata.normalize("NFKD", family).encode("ascii", "ignore").decode()
    base = f"{re.sub(r'[^a-z]', '', ascii_name) or 'ref'}{year}"
    for key in (base, *(base + letter for letter in "bcdefghijklmnopqrstuvwxyz")):
        if key not in taken:
            return key
    raise ValueError(f"too many references with the key {base}")


# ---------------------------------------------------------------- the three readers


def _read(text: str, shown: str, suffix: str) -> list[Raw]:
    start = text.lstrip()[:1]
    if suffix == ".bib" or (suffix not in (".json", ".ris") and start in ("@", "%")):
        return _BibTeX(text, shown).records()
    if suffix == ".json" or (suffix != ".ris" and start in ("[", "{")):
        return _csl_json(text, shown)
    if suffix == ".ris" or re.match(r"\s*TY  -", text):
        return _ris(text, shown)
    raise ValidationFailed([Problem(shown, 1, 1, "not a BibTeX (.bib), CSL-JSON (.json) or RIS (.ris) file")])


def _fail(shown: str, text: str, at: int, message: str) -> ValidationFailed:
    line = text.count("\n", 0, at) + 1
    return ValidationFailed([Problem(shown, line, at - (text.rfind("\n", 0, at) + 1) + 1, message)])


_BIB_TYPES = {"article": "article-journal", "book": "book", "inbook": "chapter", "incollection": "chapter"}
_BIB_TYPES |= {"techreport": "report", "report": "report", "online": "webpage", "electronic": "webpage"}
_BIB_FIELDS = {
    "title": "title",
    "journal": "container-title",
    "journaltitle": "container-title",
    "booktitle": "container-title",
    "shortjournal": "container-title-short",
    "journal-iso": "container-title-short",
    "volume": "volume",
    "number": "issue",
    "pages": "page",
    "eid": "article-number",
    "doi": "DOI",
    "pmid": "PMID",
    "url": "URL",
    "date": "issued",
    "year": "year",
    "month": "month",
    "day": "day",
}


class _BibTeX:
    """A BibTeX/biblatex reader: @string macros, {braced} and "quoted" values, # concatenation."""

    def __init__(self, text: str, shown: str) -> None:
        self.text, self.shown, self.pos = text, shown, 0
        self.macros = {m: m for m in MONTHS}  # month macros stay names; _issued reads them

    def records(self) -> list[Raw]:
        out = []
        while (at := self.text.find("@", self.pos)) >= 0:  # text between entries is a comment
            self.pos = at + 1
            if self.text[self.text.rfind("\n", 0, at) + 1 : at].lstrip().startswith("%"):
                continue  # an @ in a %-comment line (biber's comments), e.g. an email address
            kind = self._word("an entry type after '@'").lower()
            closer = {"{": "}", "(": ")"}.get(self._next())
            if closer is None:
                raise self._fail(self.pos, f"expected '{{' after @{kind}")
            self.pos += 1
            if kind == "comment":
                self.pos = self._braced(self.pos) if closer == "}" else self.text.find(")", self.pos) + 1
            elif kind in ("preamble", "string"):
                name = self._word("a macro name").lower() if kind == "string" else ""
                if kind == "string":
                    self._expect("=")
                self.macros[name] = self._value()
                self._expect(closer)
            else:
                out.append(self._entry(kind, closer, at))
        return out

    def _entry(self, kind: str, closer: str, at: int) -> Raw:
        key = self._word("a citation key", r"[^\s,{}()]+")
        raw, fields = Raw(self.text.count("\n", 0, at) + 1), {}
        while self._next() == ",":
            self.pos += 1
            if self._next() == closer:
                break
            start = self.pos
            name = self._word("a field name").lower()
            self._expect("=")
            if name in fields:
                raise self._fail(start, f"field '{name}' appears twice in entry '{key}'")
            fields[name] = self._value()
        self._expect(closer)
        raw.fields["type"] = _BIB_TYPES.get(kind)
        if raw.fields["type"] is None:
            raw.error = f"@{kind} entries are not supported (use one of: {', '.join(_BIB_TYPES)})"
        for name, value in fields.items():
            if name in _BIB_FIELDS:
                raw.fields[_BIB_FIELDS[name]] = _latex(value)
        if fields.get("eprinttype", "").lower() == "pubmed":
            raw.fields["PMID"] = fields.get("eprint")
        raw.fields["author"] = [_bib_name(n) for n in _split_names(fields.get("author", ""))]
        return raw

    def _value(self) -> str:
        parts = [self._piece()]
        while self._next() == "#":
            self.pos += 1
            parts.append(self._piece())
        return "".join(parts)

    def _piece(self) -> str:
        char = self._next()
        start = self.pos
        if char == "{":
            self.pos = self._braced(self.pos + 1)
            return self.text[start + 1 : self.pos - 1]
        if char == '"':
            depth, i = 0, start + 1
            while i < len(self.text) and (self.text[i] != '"' or depth):
                depth += {"{": 1, "}": -1}.get(self.text[i], 0)
                i += 1
            if i >= len(self.text):
                raise self._fail(start, "unclosed '\"'")
            self.pos = i + 1
            return self.text[start + 1 : i]
        word = self._word("a value", r"[A-Za-z0-9_.:+/-]+")
        if word.isdigit():
            return word
        if word.lower() not in self.macros:
            raise self._fail(
                start, f"unknown macro '{word}' (define it with @string or put the value in braces)"
            )
        return self.macros[word.lower()]

    def _braced(self, i: int) -> int:
        """The position after the brace that closes the one opened just before i."""
        depth, start = 1, i - 1
        while i < len(self.text) and depth:
            depth += {"{": 1, "}": -1}.get(self.text[i], 0)
            i += 1
        if depth:
            raise self._fail(start, "unclosed '{'")
        return i

    def _next(self) -> str:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
        return self.text[self.pos : self.pos + 1]

    def _word(self, what: str, pattern: str = r"[A-Za-z][A-Za-z0-9_:.+-]*") -> str:
        self._next()
        match = re.compile(pattern).match(self.text, self.pos)
        if not match:
            raise self._fail(self.pos, f"expected {what}")
        self.pos = match.end()
        return match.group()

    def _expect(self, char: str) -> None:
        if self._next() != char:
            found = repr(self.text[self.pos]) if self.pos < len(self.text) else "the end of the file"
            raise self._fail(self.pos, f"expected '{char}', found {found}")
        self.pos += 1

    def _fail(self, at: int, message: str) -> ValidationFailed:
        return _fail(self.shown, self.text, at, message)


def _split_names(value: str) -> Iterator[str]:
    depth, start = 0, 0
    for match in re.finditer(r"[{}]|\s+and\s+", value, re.I):
        if match.group() in "{}":
            depth += 1 if match.group() == "{" else -1
        elif depth == 0:
            yield value[start : match.start()]
            start = match.end()
    if value[start:].strip():
        yield value[start:]


def _bib_name(name: str) -> str:
    """'Younger, J.' or 'J. Younger' or 'Ludwig van Beethoven' -> 'Family, Given';
    {World Health Organization} -> an organisation."""
    name = name.strip()
    parts = [p.strip() for p in re.split(r",(?![^{]*})", name)]
    if len(parts) > 1:
        return f"{_latex(parts[0])}, {_latex(parts[-1])}"
    words = re.findall(r"\{[^{}]*\}\S*|\S+", name)
    if len(words) == 1:
        return _latex(words[0])
    von = next((i for i, w in enumerate(words[:-1]) if i and w[:1].islower()), len(words) - 1)
    return f"{_latex(' '.join(words[von:]))}, {_latex(' '.join(words[:von]))}"


_ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304"}
_ACCENTS |= {".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328"}
_ACCENTS |= {"r": "\u030a", "d": "\u0323", "b": "\u0331"}
_ACCENTED = re.compile(r"\s*(?:\{\s*\\?([ij]|\w)\s*\}|\\([ij])\b\s*|(\w))")  # {e}, {\i}, \i or e
_COMMAND = re.compile(r"\\(?:([A-Za-z]+)\s*|(.))", re.S)
_SYMBOLS = {"o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å", "ss": "ß"}
_SYMBOLS |= {"l": "ł", "L": "Ł", "i": "ı", "j": "ȷ", "textendash": "–", "textemdash": "—", "textmu": "µ"}
_SYMBOLS |= {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "kappa": "κ", "mu": "μ"}


def _latex(text: str) -> str:
    """LaTeX as BibTeX holds it -> plain text: accents, escapes, dashes; braces and formatting
    commands (\\emph, \\textit, ...) dropped, keeping their text."""
    out, i = [], 0
    while i < len(text):
        command = _COMMAND.match(text, i)
        if command:  # a control word (\\emph) swallows the spaces after it; a control symbol (\\&) does not
            name, i = command.group(1) or command.group(2), command.end()
            if name in _ACCENTS:
                base = _ACCENTED.match(text, i)
                if base:
                    i = base.end()
                    letter = next(g for g in base.groups() if g)
                    out.append(unicodedata.normalize("NFC", letter + _ACCENTS[name]))
            elif name in _SYMBOLS:
                out.append(_SYMBOLS[name])
            elif not name.isalpha():  # \\& \\% \\{ ...: the character; \\, and \\\\ are spaces
                out.append({",": " ", "\\": " ", "-": "", "/": ""}.get(name, name))
            continue  # any other command (\\emph, \\textit, ...) leaves its argument as text
        for tex, plain in (("---", "—"), ("--", "–"), ("``", "“"), ("''", "”"), ("~", " ")):
            if text.startswith(tex, i):
                out.append(plain)
                i += len(tex)
                break
        else:
            out.append("" if text[i] in "{}$" else text[i])
            i += 1
    return _squash(unicodedata.normalize("NFC", "".join(out)))


def _csl_json(text: str, shown: str) -> list[Raw]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            [Problem(shown, exc.lineno, exc.colno, f"not valid JSON: {exc.msg}")]
        ) from None
    items = data if isinstance(data, list) else [data]
    lines = _json_item_lines(text) if isinstance(data, list) else [1]
    out = []
    for item, line in zip(items, lines if len(lines) == len(items) else [1] * len(items), strict=True):
        raw = Raw(line)
        out.append(raw)
        if not isinstance(item, dict):
            raw.error = "expected a CSL-JSON item ({...})"
            continue
        get = item.get
        try:
            issued = _csl_date(get("issued"))
        except (TypeError, ValueError, IndexError):
            raw.error = f"'issued' is not a CSL-JSON date: {get('issued')!r}"
        raw.fields = {
            "type": get("type"),
            "title": re.sub(r"</?(i|b|sup|sub|sc|span)\b[^>]*>", "", str(get("title", ""))),
            "container-title": get("container-title"),
            "container-title-short": get("container-title-short") or get("journalAbbreviation"),
            "volume": get("volume"),
            "issue": get("issue"),
            "page": get("page"),
            "article-number": get("article-number") or get("number"),
            "DOI": get("DOI"),
            "PMID": get("PMID"),
            "URL": get("URL"),
            "issued": "" if raw.error else issued,
            "author": [_csl_name(n) for n in get("author", []) if isinstance(n, dict)],
        }
    return out


def _csl_name(name: dict[str, Any]) -> str:
    family = " ".join(str(name[k]) for k in ("non-dropping-particle", "family") if name.get(k))
    return (
        f"{family}, {name['given']}"
        if family and name.get("given")
        else family or str(name.get("literal", ""))
    )


def _csl_date(issued: Any) -> str:
    if not isinstance(issued, dict):
        return ""
    if "date-parts" in issued:
        ends = []
        for parts in issued["date-parts"][:2]:
            numbers = [int(p) for p in parts if str(p).strip()]
            ends.append("-".join([str(numbers[0]), *(f"{n:02d}" for n in numbers[1:])]))
        return "/".join(ends)
    return str(issued.get("raw") or issued.get("literal") or "")


def _json_item_lines(text: str) -> list[int]:
    """The line each object of a top-level JSON list starts on (json gives no positions)."""
    lines, depth, line, in_string, escaped = [], 0, 1, False, False
    for char in text:
        line += char == "\n"
        if in_string:
            in_string, escaped = (escaped or char != '"'), (not escaped and char == "\\")
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth == 2 and char == "{":
                lines.append(line)
        elif char in "]}":
            depth -= 1
    return lines


_RIS_TYPES = {"JOUR": "article-journal", "JFULL": "article-journal", "EJOUR": "article-journal"}
_RIS_TYPES |= {"BOOK": "book", "EBOOK": "book", "CHAP": "chapter", "ECHAP": "chapter", "RPRT": "report"}
_RIS_TYPES |= {"ELEC": "webpage", "WEB": "webpage"}
_RIS_FIELDS = {"TI": "title", "T1": "title", "T2": "container-title", "JF": "container-title"}
_RIS_FIELDS |= {"JO": "container-title-short", "JA": "container-title-short", "J2": "container-title-short"}
_RIS_FIELDS |= {"VL": "volume", "IS": "issue", "C7": "article-number", "DO": "DOI", "UR": "URL"}
_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")


def _ris(text: str, shown: str) -> list[Raw]:
    """RIS: 'TY  - JOUR' ... 'ER  - ' records of 'XX  - value' lines."""
    out: list[Raw] = []
    record: dict[str, list[str]] | None = None
    tag = ""
    for number, line in enumerate(text.split("\n"), start=1):
        match = _RIS_TAG.match(line.rstrip())
        if match is None and not line.strip():
            continue
        if match is None:
            if record is None or not tag:
                raise ValidationFailed([Problem(shown, number, 1, "expected an RIS line 'XX  - value'")])
            record[tag][-1] += " " + line.strip()  # a wrapped long value
            continue
        tag, value = match.group(1), (match.group(2) or "").strip()
        if (tag == "TY") != (record is None):
            message = "'TY  - ' must start each record" if record is None else "record has no 'ER  - ' end"
            raise ValidationFailed([Problem(shown, number, 1, message)])
        if tag == "TY":
            record, raw = {}, Raw(number)
            out.append(raw)
            raw.fields["type"] = _RIS_TYPES.get(value)
            if raw.fields["type"] is None:
                raw.error = f"RIS type '{value}' is not supported (use one of: {', '.join(_RIS_TYPES)})"
        elif tag == "ER":
            assert record is not None
            out[-1].fields |= _ris_fields(record)
            record, tag = None, ""
        else:
            assert record is not None
            record.setdefault(tag, []).append(value)
    if record is not None:
        raise ValidationFailed([Problem(shown, out[-1].line, 1, "record has no 'ER  - ' end")])
    return out


def _ris_fields(record: dict[str, list[str]]) -> dict[str, Any]:
    fields: dict[str, Any] = {"author": [_ris_name(a) for a in record.get("AU", []) + record.get("A1", [])]}
    for tag in ("T2", "JO", "JA", "J2", "JF", "TI", "T1", "VL", "IS", "C7", "DO", "UR"):
        if tag in record:
            fields[_RIS_FIELDS[tag]] = record[tag][0]
    start, end = (record.get(tag, [""])[0] for tag in ("SP", "EP"))
    fields["page"] = f"{start}-{end}" if start and end and "-" not in start else start
    date = [*(record.get("DA") or record.get("PY") or record.get("Y1") or [""])[0].split("/"), "", "", ""]
    other = date[3] if re.search("[A-Za-z]", date[3]) else ""  # "2009///May-Jun": RIS's free-text part
    fields |= {"year": date[0], "month": other or date[1], "day": date[2]}
    return fields


# ---------------------------------------------------------------- YAML out, atomically


def _appended(original: str, added: list[Reference]) -> str:
    text = original if original.endswith("\n") else original + "\n"
    return text + "".join("\n" + _yaml_record(ref) for ref in added)


def _yaml_record(ref: Reference) -> str:
    """One record in the sample's style: a block mapping, quoted numbers, a flow list of authors,
    long titles folded (>-) at the line width."""
    data = ref.model_dump(by_alias=True, exclude_none=True)
    if data["type"] == "article-journal":
        del data["type"]
    lines: list[str] = []
    for key in (k for k in FIELD_ORDER if k in data):
        lead = f"{'  ' if lines else '- '}{key}: "
        if key == "author":
            lines += _wrap([_quote(a) + "," for a in data[key]], lead + "[", " " * len(lead + "["))
            lines[-1] = lines[-1][:-1] + "]"
        elif len(lead + _scalar(data[key])) > LINE_WIDTH and " " in data[key]:
            lines += [lead + ">-", *_wrap(data[key].split(), "    ", "    ")]
        else:
            lines.append(lead + _scalar(data[key]))
    return "\n".join(lines) + "\n"


def _wrap(words: list[str], first: str, indent: str) -> list[str]:
    lines, current = [], first
    for word in words:
        if current not in (first, indent) and len(current) + 1 + len(word) > LINE_WIDTH:
            lines.append(current)
            current = indent + word
        else:
            current += ("" if current in (first, indent) else " ") + word
    return [*lines, current]


def _scalar(value: str) -> str:
    """Plain when YAML reads it back as the same text, else double-quoted; numbers are quoted."""
    risky = (
        value.isdigit()
        or value in ("~", "null", "Null", "NULL")
        or value[0] in "-?:,[]{}#&*!|>'\"%@`"
        or ": " in value
        or " #" in value
        or value.endswith(":")
    )
    return _quote(value) if risky else value


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _write(target: Path, text: str, added: list[Reference], shown: str) -> None:
    """Write through a temporary file and os.replace, after checking the new file loads back."""
    fd, name = tempfile.mkstemp(prefix=".references-", suffix=".yaml", dir=target.parent)
    temporary = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        parsed, problems = _load(temporary, shown)
        if problems or parsed is None or parsed.references[-len(added) :] != added:
            # our own YAML writer is wrong: never replace a good file with a bad one
            raise RuntimeError(f"the new {shown} does not load back as written: {problems[:1]}")
        if target.exists():
            temporary.chmod(target.stat().st_mode & 0o777)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
