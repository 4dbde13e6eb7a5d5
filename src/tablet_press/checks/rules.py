"""The house-style rules' catalogue and what every check works with: a text of the issue in print
order (with what is not prose masked), a finding, and how to place an offset in its file.

The checks themselves live in doses.py and style.py; lint.py runs them and applies ignore comments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tablet_press.bundle import markdown
from tablet_press.bundle.folder import Bundle
from tablet_press.bundle.outline import MarkdownText
from tablet_press.bundle.project import Project

# An ignore names its checks in brackets and may give its reason after them, on the same line. In
# markdown the reason must not hold ( or ): a link definition's title cannot, and the line would print.
IGNORE_MD = re.compile(r"^ {0,3}\[//\]: *# *\( *tablet: *ignore\[([^\]\n]*)\][^()\n]*\) *$", re.M)
# Whatever means to be an ignore, well-formed or not (one that is not well-formed is an [ignore] warning);
# in YAML, a comment's ignore is well-formed when IGNORE_YAML matches where ANY_IGNORE_YAML found it.
ANY_IGNORE_MD = re.compile(r"^ {0,3}\[//\]:[^\n]*?\btablet: *ignore\b[^\n]*$", re.M)
ANY_IGNORE_YAML = re.compile(r"(?:^|\s)#[^\n]*?\b(tablet: *ignore)\b")
IGNORE_YAML = re.compile(r"tablet: *ignore\[([^\]\n]*)\]")
_MASKS = [
    re.compile(r"`[^`\n]*`"),
    re.compile(r"\[@[^\]]*\]"),
    re.compile(r"\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)"),
    re.compile(r"<[A-Za-z][A-Za-z0-9+.-]*:[^>\s]*>"),
    re.compile(r"^ *:::.*$", re.M),
    ANY_IGNORE_MD,
]


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
    "comment-in-text": Rule(
        "A '#' after text in issue.yaml starts a comment: the rest of the line is not printed.",
        "- Take 4.5 mg #bid",
        '- "Take 4.5 mg #bid"',
    ),
    "unused-reference": Rule(
        "A reference in references.yaml that the issue neither cites nor summarises.",
        "- id: brown2009",
        "[@brown2009]",
    ),
    "study-heading": Rule(
        "A study's title: in issue.yaml unlike the title of its paper in references.yaml.",
        "title: LDN in MS",
        "the paper's title",
    ),
    "missing-pages": Rule(
        "A journal article in references.yaml with neither pages nor an article number.",
        "volume: 10",
        "page: 663-672",
    ),
    "unstructured-reference": Rule(
        "A reference kept as written (text:), not as fields: it prints as it is in every style, "
        "but nothing of it can be checked.",
        "text: Smith J. Notes on LDN. 2019.",
        "author:, title:, issued: ...",
    ),
    "journal-abbreviation": Rule(
        "A journal article in references.yaml without the NLM abbreviation of its journal: the "
        "study heading and the AMA/Vancouver list would print the full name.",
        "container-title: Pain Medicine",
        "container-title-short: Pain Med",
    ),
    "ignore": Rule(
        "An ignore that is malformed, names no rule, or would be printed.", "[dose-spaces]", "[dose-spacing]"
    ),
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
    # Where to report it when that is outside the text itself (a YAML comment after the value).
    place: tuple[int, int] | None = None


Check = Callable[[list[Text], Bundle, Project], Iterator[Finding]]


def locate(md: MarkdownText, offset: int) -> tuple[int, int]:
    """The file line and column of `offset` in a text (a prose file, or a scalar of issue.yaml)."""
    line = md.text.count("\n", 0, offset) + 1
    mark = md.at(markdown.Found("", "", line, offset - md.text.rfind("\n", 0, offset)))
    return mark.line, mark.col


def offset_of(text: str, line: int, col: int) -> int:
    """(line, col) in a text, as markdown.scan gives them -> offset."""
    return sum(len(row) + 1 for row in text.split("\n")[: line - 1]) + col - 1
