"""Runs the house-style checks (doses.py: doses, units, ISMP; style.py: the other rules) over every text
of a bundle in print order and turns what they find into warnings, each naming its rule and a fix.

A finding is silenced on purpose, one field or one block at a time, by a YAML comment `# tablet: ignore[rule]`
on (or directly above) the first line of a field of issue.yaml, or in markdown by a line
`[//]: # (tablet: ignore[rule])` just above the paragraph, list or callout: a link reference
definition, which markdown never prints (an HTML comment would be raw HTML, which is refused).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from tablet_press.bundle import markdown
from tablet_press.bundle.folder import Bundle
from tablet_press.bundle.loader import Path_, dotted
from tablet_press.bundle.outline import MarkdownText, markdown_texts, position
from tablet_press.bundle.project import Project
from tablet_press.checks import doses, style
from tablet_press.checks.rules import IGNORE_MD, IGNORE_YAML, RULES, Check, Finding, Text, locate
from tablet_press.errors import Problem, did_you_mean


def checks() -> list[Check]:
    """Every check, in the order lint() runs them (and so reports what they find)."""
    return [
        doses.doses,
        doses.ismp_words,
        style.placeholders,
        style.links,
        style.callouts,
        style.abbreviations,
        style.sample_sizes,
        style.off_label,
        style.comments_in_text,
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
                line, col = found.place or locate(md, found.at)
                message = f"[{found.rule}] {found.message}"
                problems.append(Problem(md.file, line, col, message, md.field, "warning", found.hint))
    # Items of a flow list share their line, and so a comment on it: say each problem once.
    return problems + list(dict.fromkeys(p for ignore in ignores.values() for p in ignore.problems))


# ---------------------------------------------------------------- texts and where they are

_NOT_TEXT = {"number", "date", "topics", "off_label", "reference_style", "ref", "id", "role", "contact"}


def _order(text: Text) -> tuple[int, ...]:
    """Where a text is printed (bundle/outline.py): the title, then each part's sources in turn, a
    literature group's studies before its note; fields the outline does not hold come last."""
    path = text.md.path
    if not path:
        return position(PurePosixPath(text.md.file).name)
    head = position(str(path[0]))
    if path[0] == "literature" and len(path) > 2:
        return (*head, int(path[1]), int(path[2] == "note"))
    return head


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
                for m in IGNORE_YAML.finditer(md.source.lines[number - 1]):
                    self.field |= self._rules(m[1], md, number, m.start(1) + 1)
                number -= 1
        if not text.prose:
            return
        tokens = markdown.parse(md.text)
        printed = {n for t in tokens if t.type == "paragraph_open" and t.map for n in range(*t.map)}
        for m in IGNORE_MD.finditer(md.text):
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
