"""Reading reference files: BibTeX, CSL-JSON and RIS text -> raw records, each with its line.

Three small hand-written readers (`_BibTeX`, `_csl_json`, `_ris`) turn a file into raw records of our
field names, values as written, so that any problem can be reported as file:line; cleaning the records
into references is refimport's job. A record that cannot be used carries the reason in `Raw.error`;
text that cannot be read at all raises ValidationFailed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tablet_press.errors import Problem, ValidationFailed
from tablet_press.inputrules import MAX_NESTING

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


@dataclass
class Raw:
    """One record as read from a file, before cleaning: our field names, values as written."""

    line: int
    fields: dict[str, Any] = field(default_factory=dict)
    error: str = ""  # why the record cannot be used, found while reading it
    key: str = ""  # the record's own key (BibTeX key, CSL-JSON id, RIS ID): the reference id if usable
    dropped: list[str] = field(default_factory=list)  # its fields, as the file names them, not kept


def read_records(text: str, shown: str, suffix: str) -> list[Raw]:
    """The raw records of a file, its format told by the suffix, else by how the text starts."""
    start = text.lstrip()[:1]
    if suffix == ".bib" or (suffix not in (".json", ".ris") and start in ("@", "%")):
        return _BibTeX(text, shown).records()
    if suffix == ".json" or (suffix != ".ris" and start in ("[", "{")):
        return _csl_json(text, shown)
    if suffix == ".ris" or re.match(r"\s*TY  -", text):
        return _ris(text, shown)
    raise ValidationFailed([Problem(shown, 1, 1, "not a BibTeX (.bib), CSL-JSON (.json) or RIS (.ris) file")])


def squash(text: Any) -> str:
    """A value as one line of text: whitespace runs made one space. Control characters are not
    dropped here: refimport refuses them (inputrules.CONTROL, the rule the YAML loader applies)."""
    return " ".join(str(text).split())


def _fail(shown: str, text: str, at: int, message: str) -> ValidationFailed:
    line = text.count("\n", 0, at) + 1
    return ValidationFailed([Problem(shown, line, at - (text.rfind("\n", 0, at) + 1) + 1, message)])


# ---------------------------------------------------------------- BibTeX


_BIB_TYPES = {"article": "article-journal", "book": "book", "inbook": "chapter", "incollection": "chapter"}
_BIB_TYPES |= {"techreport": "report", "report": "report", "online": "webpage", "electronic": "webpage"}
_BIB_TYPES |= {"www": "webpage", "misc": "webpage or document", "manual": "document", "booklet": "document"}
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
    "urldate": "accessed",
    "publisher": "publisher",
    "address": "publisher-place",
    "location": "publisher-place",
    "edition": "edition",
    "series": "collection-title",
    "type": "genre",
    "date": "issued",
    "year": "year",
    "month": "month",
    "day": "day",
}


class _BibTeX:
    """A BibTeX/biblatex reader: @string macros, {braced} and "quoted" values, # concatenation."""

    def __init__(self, text: str, shown: str) -> None:
        self.text, self.shown, self.pos = text, shown, 0
        self.macros = {m: m for m in MONTHS}  # month macros stay names; refimport's _issued reads them

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
        raw.key = key
        raw.fields["type"] = _BIB_TYPES.get(kind)
        if raw.fields["type"] is None:
            raw.error = f"@{kind} entries are not supported (use one of: {', '.join(_BIB_TYPES)})"
        _bib_fields(raw, fields)
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


def _bib_fields(raw: Raw, fields: dict[str, str]) -> None:
    """BibTeX fields -> ours; every field that has no place is listed in `raw.dropped`."""
    used = {"author", "editor"}
    for name, value in fields.items():
        if name in _BIB_FIELDS:
            raw.fields[_BIB_FIELDS[name]] = _latex(value)
            used.add(name)
    if fields.get("eprinttype", "").lower() == "pubmed":
        raw.fields["PMID"] = fields.get("eprint")
        used |= {"eprint", "eprinttype"}
    for name in ("institution", "organization"):  # who published a report or a manual
        if name in fields and "publisher" not in raw.fields:
            raw.fields["publisher"] = _latex(fields[name])
            used.add(name)
    url = re.fullmatch(r"\s*\\url\{([^{}]*)\}\s*", fields.get("howpublished", ""))
    if url and "URL" not in raw.fields:  # BibTeX before biblatex: howpublished = {\url{...}}
        raw.fields["URL"] = url.group(1)
        used.add("howpublished")
    elif "howpublished" in fields and not url and "genre" not in raw.fields:  # {Position statement}
        raw.fields["genre"] = _latex(fields["howpublished"])
        used.add("howpublished")
    if raw.fields["type"] == "webpage or document":  # @misc: a page if it has an address
        raw.fields["type"] = "webpage" if "URL" in raw.fields else "document"
    raw.fields["author"] = _bib_names(fields.get("author", ""))
    raw.fields["editor"] = _bib_names(fields.get("editor", ""))
    raw.dropped = [name for name in fields if name not in used]


def _bib_names(value: str) -> list[str]:
    """'A and B and others' -> ['Family, Given', ..., 'et al.']: "others" is BibTeX's et al."""
    names = list(_split_names(value))
    more = bool(names) and names[-1].strip() == "others"
    return [_bib_name(n) for n in names[: -1 if more else None]] + (["et al."] if more else [])


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
    return squash(unicodedata.normalize("NFC", "".join(out)))


# ---------------------------------------------------------------- CSL-JSON


def _csl_json(text: str, shown: str) -> list[Raw]:
    lines = _json_item_lines(text, shown)  # first: it refuses nesting that json.loads would recurse into
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            [Problem(shown, exc.lineno, exc.colno, f"not valid JSON: {exc.msg}")]
        ) from None
    except ValueError:  # the only other ValueError: an integer longer than Python converts (4,300 digits)
        raise ValidationFailed(
            [Problem(shown, 1, 1, "not usable JSON: a number has too many digits")]
        ) from None
    items = data if isinstance(data, list) else [data]
    lines = lines if isinstance(data, list) else [1]
    out = []
    for item, line in zip(items, lines if len(lines) == len(items) else [1] * len(items), strict=True):
        raw = Raw(line)
        out.append(raw)
        if not isinstance(item, dict):
            raw.error = "expected a CSL-JSON item ({...})"
            continue
        get = item.get
        key = get("citation-key") or get("id")
        raw.key = key if isinstance(key, str) else ""
        raw.dropped = [name for name in item if name not in _CSL_READ]
        try:
            issued = _csl_date(get("issued"))
        except (TypeError, ValueError, IndexError, OverflowError):
            raw.error = f"'issued' is not a CSL-JSON date: {get('issued')!r}"
        authors = get("author", [])
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
            "author": _csl_names(authors),
            "editor": _csl_names(get("editor", [])),
            "accessed": _csl_date(get("accessed")),
        }
        for name in ("publisher", "publisher-place", "edition", "collection-title", "genre"):
            raw.fields[name] = get(name)
    return out


_CSL_READ = {"id", "citation-key", "type", "title", "container-title", "container-title-short"}
_CSL_READ |= {"journalAbbreviation", "volume", "issue", "page", "article-number", "number", "DOI", "PMID"}
_CSL_READ |= {"URL", "issued", "author", "editor", "accessed", "publisher", "publisher-place", "edition"}
_CSL_READ |= {"collection-title", "genre"}


def _csl_names(names: Any) -> list[str]:
    if not isinstance(names, list):
        return []
    return [_csl_name(n) for n in names if isinstance(n, dict)]


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
            numbers = [_date_part(p) for p in parts if str(p).strip()]
            ends.append("-".join([str(numbers[0]), *(f"{n:02d}" for n in numbers[1:])]))
        return "/".join(ends)
    return str(issued.get("raw") or issued.get("literal") or "")


def _date_part(part: Any) -> int:
    """A year, month or day as CSL-JSON writes it: a whole number or its digits (never 1e999 or 2009.5)."""
    if isinstance(part, int) and not isinstance(part, bool):
        return part
    if isinstance(part, str) and part.strip().isdigit():
        return int(part)
    raise ValueError(part)


def _json_item_lines(text: str, shown: str) -> list[int]:
    """The line each item of a top-level JSON list starts on, whatever the item is (json gives no
    positions). Refuses nesting deeper than MAX_NESTING where it starts: json.loads recurses and would
    hit Python's limit."""
    lines, depth, line, start, in_string, escaped = [], 0, 1, 0, False, False
    top_list = text.lstrip().startswith("[")
    item_next = False  # in the top-level list, where the next value starts an item
    for at, char in enumerate(text):
        if char == "\n":
            line, start = line + 1, at + 1
        if in_string:
            in_string, escaped = (escaped or char != '"'), (not escaped and char == "\\")
            continue
        if item_next and not char.isspace() and char not in ",]":
            lines.append(line)
            item_next = False
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                message = (
                    f"lists and objects are nested more than {MAX_NESTING} levels deep; CSL-JSON needs a few"
                )
                raise ValidationFailed([Problem(shown, line, at - start + 1, message)])
            item_next = top_list and depth == 1
        elif char in "]}":
            depth -= 1
        elif char == "," and top_list and depth == 1:
            item_next = True
    return lines


# ---------------------------------------------------------------- RIS


_RIS_TYPES = {"JOUR": "article-journal", "JFULL": "article-journal", "EJOUR": "article-journal"}
_RIS_TYPES |= {"BOOK": "book", "EBOOK": "book", "CHAP": "chapter", "ECHAP": "chapter", "RPRT": "report"}
_RIS_TYPES |= {"ELEC": "webpage", "WEB": "webpage"}
# The first tag present gives the field. The RIS specification has JF and JO both for the journal's full
# name and JA, J1, J2 for abbreviations; but EndNote and PubMed write the abbreviation in JO next to a
# full name in T2 or JF, so JO is the abbreviation when the full name is already there.
_RIS_FIELDS = {
    "title": ("TI", "T1"),
    "container-title": ("T2", "JF", "JO", "BT"),
    "container-title-short": ("J2", "JA", "J1", "JO"),
    "volume": ("VL",),
    "issue": ("IS",),
    "article-number": ("C7", "M1"),
    "DOI": ("DO",),
    "URL": ("UR",),
    "publisher": ("PB",),
    "publisher-place": ("CY",),
    "edition": ("ET",),
    "collection-title": ("T3",),
    "genre": ("M3",),
}
_RIS_NAMES = ("AU", "A1", "A2", "ED", "TY", "ER", "ID", "SP", "EP", "DA", "PY", "Y1", "Y2")
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
            out[-1].fields |= _ris_fields(record, out[-1])
            record, tag = None, ""
        else:
            assert record is not None
            record.setdefault(tag, []).append(value)
    if record is not None:
        raise ValidationFailed([Problem(shown, out[-1].line, 1, "record has no 'ER  - ' end")])
    return out


def _ris_fields(record: dict[str, list[str]], raw: Raw) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "author": _ris_names(record.get("AU", []) + record.get("A1", [])),
        "editor": _ris_names(record.get("A2", []) + record.get("ED", [])),
    }
    used = set(_RIS_NAMES)
    for name, tags in _RIS_FIELDS.items():
        for tag in tags:
            if tag in record and not (tag == "JO" and name == "container-title-short" and used & {"JO"}):
                fields[name] = record[tag][0]
                used.add(tag)
                break
    raw.key = record.get("ID", [""])[0]
    accessed = [*record.get("Y2", [""])[0].split("/"), "", ""]
    if accessed[0]:
        fields["accessed"] = "-".join([accessed[0], *(f"{int(n):02d}" for n in accessed[1:3] if n.isdigit())])
    raw.dropped = [tag for tag in record if tag not in used]
    start, end = (record.get(tag, [""])[0] for tag in ("SP", "EP"))
    fields["page"] = f"{start}-{end}" if start and end and "-" not in start else start
    date = [*(record.get("DA") or record.get("PY") or record.get("Y1") or [""])[0].split("/"), "", "", ""]
    other = date[3] if re.search("[A-Za-z]", date[3]) else ""  # "2009///May-Jun": RIS's free-text part
    fields |= {"year": date[0], "month": other or date[1], "day": date[2]}
    return fields


def _ris_names(names: list[str]) -> list[str]:
    """Names; a last 'et al.' or 'others' (more authors not listed) is kept as 'et al.'."""
    more = bool(names) and squash(names[-1]).casefold().rstrip(".") in ("et al", "others")
    return [_ris_name(n) for n in names[: -1 if more else None]] + (["et al."] if more else [])


def _ris_name(name: str) -> str:
    """'Family, Given' as given; a MEDLINE-style 'Younger JP' (PubMed's RIS) becomes 'Younger, J. P.'."""
    name = squash(name)
    compact = re.fullmatch(r"(.+?) ([A-Z]{1,4})", name)
    if "," not in name and compact:
        return f"{compact.group(1)}, {' '.join(c + '.' for c in compact.group(2))}"
    return name
