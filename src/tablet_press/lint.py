"""House-style and clinical checks of an issue's text -> warnings, each naming its rule and a fix.

Doses follow ISMP's list of error-prone abbreviations, symbols and dose designations. A finding is
silenced on purpose, one field or one block at a time, by a YAML comment `# tablet: ignore[rule]` on
(or directly above) the first line of a field of issue.yaml, or in markdown by a line
`[//]: # (tablet: ignore[rule])` just above the paragraph, list or callout: a link reference
definition, which markdown never prints (an HTML comment would be raw HTML, which is refused).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from tablet_press import markdown
from tablet_press.bundle import Bundle
from tablet_press.errors import Problem, did_you_mean
from tablet_press.loader import Path_
from tablet_press.project import Project
from tablet_press.validate import MarkdownText, markdown_texts


@dataclass(frozen=True)
class Rule:
    summary: str  # what it looks for, in one line for the pharmacist (docs/guide.md shows these)
    bad: str
    good: str


RULES = {
    "dose-spacing": Rule("A space between a number and its unit.", "4.5mg", "4.5 mg"),
    "microgram": Rule("Micrograms are mcg: µg is misread as mg.", "2 µg", "2 mcg"),
    "trailing-zero": Rule("No zero after a decimal point: 1.0 mg is misread as 10 mg.", "1.0 mg", "1 mg"),
    "leading-zero": Rule("A zero before a decimal point: .5 mg is misread as 5 mg.", ".5 mg", "0.5 mg"),
    "ismp-abbreviation": Rule(
        "An abbreviation on ISMP's error-prone list (below).", "10 U SC", "10 units subcut"
    ),
    "dose-range": Rule("Dose ranges with the unit once and one dash for all.", "50mg-150mg", "50-150 mg"),
    "repeated-callout": Rule("The same callout printed twice: keep one.", "two equal ::: pearl", "one"),
    "placeholder-link": Rule("A link to a stand-in address.", "[trial](https://example.com)", "the DOI"),
    "placeholder": Rule("TODO, TBD, XXX, FIXME or lorem ipsum left in.", "TODO: first pearl", "the pearl"),
    "undefined-abbreviation": Rule(
        "An abbreviation used before it is defined.", "MS", "multiple sclerosis (MS)"
    ),
    "sample-size": Rule(
        "Sample sizes written one way, as most are (else n=10).", "n=10, N= 30", "n=10, n=30"
    ),
    "off-label": Rule(
        "Off-label use in the text but no off_label: true.", "off-label use", "off_label: true"
    ),
    "ignore": Rule("An ignore that names no rule, or would be printed.", "[dose-spaces]", "[dose-spacing]"),
}


@dataclass(frozen=True)
class Text:
    """A text of the issue, in print order, with what is not prose (code, citations, link addresses,
    callout fences, ignore lines) blanked out of `masked`, so that offsets stay the same."""

    md: MarkdownText
    prose: bool  # printed markdown, not a heading, a name or a title
    masked: str = field(init=False)

    def __post_init__(self) -> None:
        out = list(self.md.text)
        for pattern in _MASKS:
            for match in pattern.finditer(self.md.text):
                for i in range(*match.span()):
                    out[i] = out[i] if out[i] == "\n" else " "
        object.__setattr__(self, "masked", "".join(out))


@dataclass(frozen=True)
class Finding:
    rule: str
    text: Text
    at: int  # offset in the text
    message: str
    hint: str


Check = Callable[[list[Text], Bundle, Project], Iterator[Finding]]


def lint(bundle: Bundle, project: Project) -> list[Problem]:
    """Every house-style warning of one bundle, less those silenced by an ignore comment."""
    texts = _texts(bundle)
    ignores = {id(text): _Ignores(text) for text in texts}
    seen: set[tuple[int, int, str]] = set()
    problems: list[Problem] = []
    for check in CHECKS:
        for found in check(texts, bundle, project):
            key = (id(found.text), found.at, found.rule)  # one unit can break two rules, not one twice
            if key not in seen and not ignores[id(found.text)].covers(found):
                seen.add(key)
                md = found.text.md
                line, col = _locate(md, found.at)
                message = f"[{found.rule}] {found.message}"
                problems.append(Problem(md.file, line, col, message, md.field, "warning", found.hint))
    # Items of a flow list share their line, and so a comment on it: say each problem once.
    return problems + list(dict.fromkeys(p for ignore in ignores.values() for p in ignore.problems))


# ---------------------------------------------------------------- texts and where they are

_PROSE_ORDER = {"background": 0, "mechanism": 1, "pharmacokinetics": 2, "anecdote": 4, "literature": 5}
_NOT_TEXT = {"number", "date", "topics", "off_label", "reference_style", "ref", "id", "role", "contact"}
_IGNORE_MD = re.compile(r"^ {0,3}\[//\]: *# *\( *tablet: *ignore\[([^\]\n]*)\] *\) *$", re.M)
_IGNORE_YAML = re.compile(r"(?:^|\s)#.*?\btablet: *ignore\[([^\]\n]*)\]")
_MASKS = [
    re.compile(r"`[^`\n]*`"),
    re.compile(r"\[@[^\]]*\]"),
    re.compile(r"\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)"),
    re.compile(r"<[A-Za-z][A-Za-z0-9+.-]*:[^>\s]*>"),
    re.compile(r"^ *:::.*$", re.M),
    _IGNORE_MD,
]


def _order(text: Text) -> tuple[int, ...]:
    """Where a text is printed: title; background, mechanism, pharmacokinetics, pearls, anecdote,
    literature (each group's studies, then its note), bottom line, closing; other fields last."""
    path = text.md.path
    if not path:
        return (_PROSE_ORDER.get(PurePosixPath(text.md.file).stem, 9),)
    head = {"title": -1, "pearls": 3, "literature": 6, "bottom_line": 7}.get(str(path[0]), 8)
    return (6, int(path[1]), int(path[2] == "note")) if head == 6 and len(path) > 2 else (head,)


def _texts(bundle: Bundle) -> list[Text]:
    """The markdown texts and every other text field of issue.yaml, sorted (stably) in print order."""
    texts = [Text(md, True) for md in markdown_texts(bundle)]
    covered = {t.md.path for t in texts}
    src = bundle.issue_source

    def walk(value: object, path: Path_) -> Iterator[Text]:
        if path and str(path[-1]) in _NOT_TEXT:
            return
        if isinstance(value, str) and path not in covered:
            yield Text(MarkdownText(value, src.file, ".".join(map(str, path)), src, path), False)
        items = (
            value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
        )
        for key, item in items:
            yield from walk(item, (*path, key))

    return sorted([*texts, *walk(src.data, ())], key=_order)


def _locate(md: MarkdownText, offset: int) -> tuple[int, int]:
    """The file line and column of `offset` in a text (a prose file, or a scalar of issue.yaml)."""
    line = md.text.count("\n", 0, offset) + 1
    mark = md.at(markdown.Found("", "", line, offset - md.text.rfind("\n", 0, offset)))
    return mark.line, mark.col


def _offset(text: str, line: int, col: int) -> int:
    """(line, col) in a text, as markdown.scan gives them -> offset."""
    return sum(len(row) + 1 for row in text.split("\n")[: line - 1]) + col - 1


# ---------------------------------------------------------------- doses and units (ISMP)

_UNIT = r"(?:mcg|mg|µg|μg|ug|ng|g|kg|mL|ml|L|mEq|mmol|units?|IU|U|u|cc)(?:/(?:kg|m2|m²|day|dose|h|hr|min))?"
_NUM = r"(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
_DOSE = re.compile(  # a dose, or a range of doses: 4.5 mg, 1-5mg, 50mg-150mg, 2 to 4 mcg/kg
    rf"(?<![\w.,])(?P<a>{_NUM})(?:(?P<sa>[ \u00a0]?)(?P<ua>{_UNIT}))?"
    rf"(?:(?P<sep>[ \u00a0]?[-–—][ \u00a0]?| to )(?P<b>{_NUM})(?P<sb>[ \u00a0]?)(?P<ub>{_UNIT}))?(?![\w/])"
)
_MICRO = ("µg", "μg", "ug")
_WRONG_UNITS = {
    "IU": "units",
    "U": "units",
    "u": "units",
    "cc": "mL",
    "ml": "mL",
    **dict.fromkeys(_MICRO, "mcg"),
}


def _base(unit: str) -> str:
    return unit.split("/")[0]


def _house(m: re.Match[str]) -> str:
    """The dose as house style writes it: 0.5 not .5, 1 not 1.0, a space, mcg, the unit once."""

    def number(n: str) -> str:
        n = "0" + n if n.startswith(".") else n
        return n.rstrip("0").rstrip(".") if "." in n else n

    def unit(u: str) -> str:
        return _WRONG_UNITS.get(_base(u), _base(u)) + u[len(_base(u)) :]

    if m["b"] is None:
        return f"{number(m['a'])} {unit(m['ua'])}"
    sep = " to " if m["sep"] == " to " else m["sep"].strip()
    if m["ua"] and _base(m["ua"]) != _base(m["ub"]):  # 500 mg-1 g: two units, both needed
        return f"{number(m['a'])} {unit(m['ua'])}{sep}{number(m['b'])} {unit(m['ub'])}"
    return f"{number(m['a'])}{sep}{number(m['b'])} {unit(m['ub'])}"


def _doses(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    first_sep = ""  # the issue's first range sets the dash of every range
    for text in texts:
        for m in _DOSE.finditer(text.masked):
            units = [(m[g], m[s], m.start(g)) for g, s in (("ua", "sa"), ("ub", "sb")) if m[g]]
            if not units:
                continue  # a number, not a dose
            shown, fix = m.group(), f"write {_house(m)}"
            if any(not space and _base(u) not in _WRONG_UNITS for u, space, _ in units):
                why = f"no space between number and unit in '{shown}'"
                yield Finding("dose-spacing", text, m.start(), why, fix)
            for unit, _, at in units:
                if _base(unit) in _MICRO:
                    yield Finding(
                        "microgram", text, at, f"'{_base(unit)}' is misread as mg in '{shown}'", fix
                    )
                elif _base(unit) in _WRONG_UNITS and _base(unit) != "ml":
                    why = f"'{_base(unit)}' is an error-prone abbreviation (ISMP) in '{shown}'"
                    yield Finding("ismp-abbreviation", text, at, why, fix)
            for group in ("a", "b"):
                number, at = m[group] or "", m.start(group)
                if number.startswith("."):
                    why = f"'{number}' without a leading zero is misread as {number[1:]}"
                    yield Finding("leading-zero", text, at, why, fix)
                elif "." in number and number.endswith("0"):
                    why = f"'{number}' has a trailing zero and can be misread as {number.replace('.', '')}"
                    yield Finding("trailing-zero", text, at, why, fix)
            if m["b"] is None:
                continue
            if m["ua"] and _base(m["ua"]) == _base(m["ub"]):
                why = f"the unit is written twice in the range '{shown}'"
                yield Finding("dose-range", text, m.start(), why, f"write the unit once: {_house(m)}")
            sep = m["sep"].strip() or m["sep"]
            first_sep = first_sep or sep
            if sep != first_sep:
                why = f"the range '{shown}' uses '{sep}' where this issue's first range uses '{first_sep}'"
                yield Finding(
                    "dose-range", text, m.start("sep"), why, f"write every range with '{first_sep}'"
                )


# ISMP's list, as much of it as a newsletter can misuse: (as written, pattern, why it is unsafe, instead).
ISMP = [
    ("QD", r"[Qq]\.?[Dd]\.?", "mistaken for QID (four times daily)", "daily"),
    ("QOD", r"[Qq]\.?[Oo]\.?[Dd]\.?", "mistaken for QD or QID", "every other day"),
    ("qhs", r"[Qq]\.?[Hh]\.?[Ss]\.?", "mistaken for every hour", "nightly or at bedtime"),
    ("HS", r"HS|hs|h\.s\.?", "read as half-strength or bedtime", "at bedtime, or half-strength"),
    ("IU", r"IU", "mistaken for IV or 10", "units"),
    ("cc", r"cc", "mistaken for U (units)", "mL"),
    ("SC, SQ, sub q", r"SC|SQ|[Ss]ub ?-?[Qq]", "mistaken for SL or 5 every", "subcut or subcutaneously"),
    ("U, u", "", "mistaken for 0 or 4 (4U read as 40)", "units"),  # found as the unit of a dose
    ("D/C", r"[Dd]/[Cc]", "read as discharge or discontinue", "discharge or discontinue"),
    ("TIW", r"TIW|tiw", "read as three times a week or twice a week", "3 times weekly"),
    ("MSO4, MgSO4", r"MSO4|MS04|MgSO4", "morphine and magnesium sulfate confused", "the drug's full name"),
    ("MS before a dose", r"MS(?=[ \u00a0]?\d)", "read as morphine or magnesium sulfate", "morphine sulfate"),
]
_ISMP = [(re.compile(rf"(?<![\w./-])(?:{p})(?![\w/-])"), why, fix) for _, p, why, fix in ISMP if p]


def _ismp_words(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    for text, (pattern, why, fix) in itertools.product(texts, _ISMP):
        for m in pattern.finditer(text.masked):
            message = f"'{m.group()}' is an error-prone abbreviation (ISMP): {why}"
            yield Finding("ismp-abbreviation", text, m.start(), message, f"write {fix}")


# ---------------------------------------------------------------- placeholders and repeats

_PLACEHOLDER = re.compile(r"(?<![\w.])(?:TODO|TBD|XXX|FIXME|[Ll]orem ipsum)(?!\w)")
_STAND_IN = re.compile(
    r"(?:^|[@./])(?:example\.(?:com|org|net)|localhost|127\.0\.0\.1)(?:$|[/:?#])|TODO|TBD|XXX"
)


def _placeholders(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    for text in texts:
        for m in _PLACEHOLDER.finditer(text.masked):
            yield Finding(
                "placeholder", text, m.start(), f"'{m.group()}' is left in the text", "write the text"
            )


def _links(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    for text in texts:
        for link in markdown.scan(text.md.text).links:
            parts = urlsplit(link.value)
            no_host = parts.scheme in ("http", "https") and not parts.hostname
            if link.value not in ("", "#") and (no_host or _STAND_IN.search(parts.netloc + parts.path)):
                at, why = (
                    _offset(text.md.text, link.line, link.col),
                    f"'{link.value[:60]}' is a stand-in address",
                )
                yield Finding("placeholder-link", text, at, why, "link to the real address")


def _callouts(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    """A callout whose words were printed before, in print order (the later one is reported)."""
    first: dict[str, tuple[Text, int]] = {}
    for text in texts:
        lines = text.md.text.split("\n")
        for token in markdown.parse(text.md.text):
            if token.type == "container_callout_open" and token.map:
                start, end = token.map
                words = " ".join(" ".join(lines[start + 1 : end]).removesuffix(":::").split()).casefold()
                at = _offset(text.md.text, start + 1, lines[start].find(":::") + 1)
                if words in first:
                    other, where = first[words]
                    label = project.config.callouts.get(token.info.split()[0], "callout")
                    why = f"this {label} repeats the one at {other.md.file}:{_locate(other.md, where)[0]}"
                    yield Finding("repeated-callout", text, at, why, "keep one of them")
                first.setdefault(words, (text, at))


# ---------------------------------------------------------------- abbreviations, sample sizes, off-label

_TOKEN = re.compile(r"(?<![\w@/.-])[A-Za-z][A-Za-z0-9]*(?![\w])")
# Capitals for emphasis, Roman numerals, and what the ISMP and placeholder rules already say.
_NOT_ABBREVIATIONS = {"NOT", "NO", "DO", "ONLY", "NEVER", "ALWAYS", "AVOID", "AND", "OR", "BUT", "ALL", "OK"}
_NOT_ABBREVIATIONS |= {"II", "III", "VI", "VII", "VIII", "IX", "XI", "XII", "TODO", "TBD", "XXX", "FIXME"}
_NOT_ABBREVIATIONS |= {"QD", "QOD", "HS", "IU", "SC", "SQ", "TIW", "MSO4", "MgSO4"}
_AMBIGUOUS = {"MS": "; in palliative care MS also reads as morphine sulfate"}
_SMALL_WORDS = {"of", "and", "the", "in", "for", "with", "on", "to", "a"}


def _abbreviation(word: str) -> str | None:
    word = word[:-1] if len(word) > 2 and word.endswith("s") and word[:-1].isupper() else word  # NSAIDs
    upper, lower = sum(c.isupper() for c in word), sum(c.islower() for c in word)
    return word if upper >= 2 and upper > lower and word not in _NOT_ABBREVIATIONS else None


def _defines(abbr: str, before: str, after: str) -> bool:
    """'low-dose naltrexone (LDN)', or 'QOL (quality of life)' when the initials spell it."""
    if re.search(r"\w[ \u00a0]*\([ \u00a0]*$", before):
        return True
    m = re.match(r"[ \u00a0]*\(([^()]*)\)", after)
    words = [w for w in re.split(r"[\s\-–]+", m[1]) if w] if m else []
    letters = "".join(c for c in abbr if c.isalpha()).upper()
    initials = ("".join(w[0] for w in words if w.lower() not in small) for small in (set(), _SMALL_WORDS))
    return bool(words) and any(i.upper().startswith(letters) for i in initials)


def _abbreviations(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    """Abbreviations in printed markdown, in print order: each must be defined before its first use."""
    known, reported = set(project.config.glossary), set[str]()
    for text in (t for t in texts if t.prose):
        for m in _TOKEN.finditer(text.masked):
            abbr = _abbreviation(m.group())
            if abbr is None or abbr in known | reported:
                continue
            if _defines(abbr, text.masked[max(0, m.start() - 8) : m.start()], text.masked[m.end() :][:200]):
                known.add(abbr)
                continue
            reported.add(abbr)
            why = f"'{abbr}' is used before it is defined{_AMBIGUOUS.get(abbr, '')}"
            fix = f"write it out at first use, then ({abbr}); or add it to the glossary in tablet.yaml"
            yield Finding("undefined-abbreviation", text, m.start(), why, fix)


_SAMPLE = re.compile(r"(?<![\w.])([nN])([ \u00a0]*)=([ \u00a0]*)(\d[\d,]*)(?!\w)")


def _sample_sizes(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    """Sample sizes written the way most of the issue writes them; the layout prints `n:` as n=10."""
    found = [(text, m) for text in texts for m in _SAMPLE.finditer(text.masked)]

    def form(m: re.Match[str]) -> str:
        return f"{m[1]}{' ' if m[2] else ''}={' ' if m[3] else ''}"

    votes = {"n=": sum(s.n is not None for g in bundle.issue.literature for s in g.studies)}
    example = {"n=": "n=10"}
    for _, m in found:
        votes[form(m)] = votes.get(form(m), 0) + 1
        example.setdefault(form(m), m.group())
    house = max(votes, key=lambda f: (votes[f], f == "n="))
    for text, m in found:
        if form(m) != house:
            why = (
                f"'{m.group()}' is written differently from the issue's other sample sizes ({example[house]})"
            )
            yield Finding("sample-size", text, m.start(), why, f"write {house}{m[4]}")


_OFF_LABEL = re.compile(r"\boff[- ]?label\b|\bnot FDA[- ]approved\b", re.I)


def _off_label(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    """Off-label use mentioned (first mention) but not flagged, so no output would carry the notice."""
    found = next(((t, m) for t in texts if (m := _OFF_LABEL.search(t.masked))), None)
    if found and not bundle.issue.off_label:
        text, m = found
        why = f"the text speaks of off-label use ('{m.group()}') but issue.yaml does not say off_label: true"
        yield Finding(
            "off-label", text, m.start(), why, "add off_label: true so every output carries the notice"
        )


CHECKS: list[Check] = [_doses, _ismp_words, _placeholders, _links, _callouts, _abbreviations, _sample_sizes]
CHECKS.append(_off_label)


# ---------------------------------------------------------------- ignore comments


class _Ignores:
    """The ignore comments of one text: a YAML one covers the whole field, a markdown one the next block."""

    def __init__(self, text: Text) -> None:
        self.problems: list[Problem] = []
        self.field: set[str] = set()
        self.blocks: list[tuple[set[str], int, int]] = []
        md = text.md
        if md.source is not None:  # the value's first line, then the comment lines right above it
            number = first = md.source.mark(md.path).line
            while number >= 1 and (number == first or md.source.lines[number - 1].lstrip().startswith("#")):
                for m in _IGNORE_YAML.finditer(md.source.lines[number - 1]):
                    self.field |= self._rules(m[1], md, number, m.start(1) + 1)
                number -= 1
        if not text.prose:
            return
        tokens = markdown.parse(md.text)
        printed = {n for t in tokens if t.type == "paragraph_open" and t.map for n in range(*t.map)}
        for m in _IGNORE_MD.finditer(md.text):
            where = _locate(md, m.start(1))
            end = re.search(r"\n[ \t]*\n", md.text[m.end() :] + "\n\n")
            self.blocks.append(
                (self._rules(m[1], md, *where), m.end(), m.end() + (end.start() if end else 0))
            )
            if md.text.count("\n", 0, m.start()) in printed:
                why = "put a blank line above it; in issue.yaml use a '# tablet: ignore[rule]' comment"
                self._warn(md, *where, "this ignore line would be printed", why)

    def _rules(self, names: str, md: MarkdownText, line: int, col: int) -> set[str]:
        rules = {name.strip() for name in names.split(",") if name.strip()}
        for name in sorted(rules - set(RULES)):
            self._warn(
                md,
                line,
                col,
                f"unknown rule '{name}'",
                did_you_mean(name, RULES) or f"rules: {', '.join(RULES)}",
            )
        return rules

    def _warn(self, md: MarkdownText, line: int, col: int, message: str, hint: str) -> None:
        self.problems.append(Problem(md.file, line, col, f"[ignore] {message}", md.field, "warning", hint))

    def covers(self, found: Finding) -> bool:
        return found.rule in self.field or any(
            found.rule in rules and start <= found.at < end for rules, start, end in self.blocks
        )
