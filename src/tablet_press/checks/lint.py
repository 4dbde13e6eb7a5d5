"""The lint framework: an issue's texts in print order, the rules' catalogue, findings and their places.

`lint()` runs the checks of lint_doses.py (doses, units, ISMP) and lint_text.py (the other house-style
rules) over every text of a bundle and turns what they find into warnings, each naming its rule and a fix.
A finding is silenced on purpose, one field or one block at a time, by a YAML comment `# tablet: ignore[rule]`
on (or directly above) the first line of a field of issue.yaml, or in markdown by a line
`[//]: # (tablet: ignore[rule])` just above the paragraph, list or callout: a link reference
definition, which markdown never prints (an HTML comment would be raw HTML, which is refused).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tablet_press.bundle import markdown
from tablet_press.bundle.folder import Bundle
from tablet_press.bundle.loader import Path_, dotted
from tablet_press.bundle.project import Project
from tablet_press.checks.validate import MarkdownText, markdown_texts
from tablet_press.errors import Problem, did_you_mean


@dataclass(frozen=True)
class Rule:
    summary: str  # what it looks for, in one line for the pharmacist (docs/guide.md shows these)
    bad: str
    good: str


# Every rule a check may report and an ignore comment may name (docs/guide.md lists them in this order).
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


def checks() -> list[Check]:
    """Every check, in the order lint() runs them (and so reports what they find)."""
    # Imported here, not above: the rule modules build on this module's Text and Finding.
    from tablet_press.checks import doses as lint_doses
    from tablet_press.checks import style as lint_text

    return [
        lint_doses.doses,
        lint_doses.ismp_words,
        lint_text.placeholders,
        lint_text.links,
        lint_text.callouts,
        lint_text.abbreviations,
        lint_text.sample_sizes,
        lint_text.off_label,
    ]


def lint(bundle: Bundle, project: Project) -> list[Problem]:
    """Every house-style warning of one bundle, less those silenced by an ignore comment."""
    texts = _texts(bundle)
    ignores = {id(text): _Ignores(text) for text in texts}
    seen: set[tuple[int, int, str]] = set()
    problems: list[Problem] = []
    for check in checks():
        for found in check(texts, bundle, project):
            key = (id(found.text), found.at, found.rule)  # one unit can break two rules, not one twice
            if key not in seen and not ignores[id(found.text)].covers(found):
                seen.add(key)
                md = found.text.md
                line, col = locate(md, found.at)
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
            yield Text(MarkdownText(value, src.file, dotted(path), src, path), False)
        items = (
            value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
        )
        for key, item in items:
            yield from walk(item, (*path, key))

    return sorted([*texts, *walk(src.data, ())], key=_order)


def locate(md: MarkdownText, offset: int) -> tuple[int, int]:
    """The file line and column of `offset` in a text (a prose file, or a scalar of issue.yaml)."""
    line = md.text.count("\n", 0, offset) + 1
    mark = md.at(markdown.Found("", "", line, offset - md.text.rfind("\n", 0, offset)))
    return mark.line, mark.col


def offset_of(text: str, line: int, col: int) -> int:
    """(line, col) in a text, as markdown.scan gives them -> offset."""
    return sum(len(row) + 1 for row in text.split("\n")[: line - 1]) + col - 1


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
            where = locate(md, m.start(1))
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
