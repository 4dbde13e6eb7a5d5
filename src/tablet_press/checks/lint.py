"""Runs the house-style checks (doses.py: doses, units, ISMP; style.py: the other rules) over every text
of a bundle in print order and turns what they find into warnings, each naming its rule and a fix.

A finding is silenced on purpose, one field or one block at a time, by a YAML comment `# tablet: ignore[rule]`
on (or directly above) the first line of a field of issue.yaml (or of a record of references.yaml: see
ignored(), which validate.py's named warnings go through), or in markdown by a line
`[//]: # (tablet: ignore[rule])` just above the paragraph, list or callout: a link reference
definition, which markdown never prints (an HTML comment would be raw HTML, which is refused). Either
may give its reason after the brackets; an ignore that is not well-formed is itself a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from tablet_press.bundle import markdown
from tablet_press.bundle.folder import Bundle
from tablet_press.bundle.loader import Located, Path_, dotted
from tablet_press.bundle.outline import MarkdownText, markdown_texts, position
from tablet_press.bundle.project import Project
from tablet_press.checks import doses, style
from tablet_press.checks.rules import (
    ANY_IGNORE_MD,
    ANY_IGNORE_YAML,
    IGNORE_MD,
    IGNORE_YAML,
    RULES,
    Check,
    Finding,
    Text,
    locate,
)
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
    said = [p for ignore in ignores.values() for p in ignore.problems] + _reference_ignores(bundle)
    return problems + list(dict.fromkeys(said))


def ignored(source: Located, path: Path_, rule: str) -> bool:
    """Whether an ignore comment on the first line of the value at `path` of a YAML file, or on the
    comment lines right above it, names `rule` (for warnings outside lint: a study's heading, a record
    of references.yaml; lint() reports the comments' own problems)."""
    return rule in _yaml_ignores(source, path, "")[0]


def _reference_ignores(bundle: Bundle) -> list[Problem]:
    """The problems of the ignore comments of references.yaml, which cover one record each."""
    src = bundle.references_source
    if src is None or not isinstance(src.data, list):
        return []
    return [p for i in range(len(src.data)) for p in _yaml_ignores(src, (i,), dotted((src.root, i)))[1]]


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


def _yaml_ignores(source: Located, path: Path_, field: str) -> tuple[set[str], list[Problem]]:
    """The rules named by the ignore comments of the value at `path` (its first line, then the comment
    lines right above it), and what is wrong with those comments."""
    rules: set[str] = set()
    problems: list[Problem] = []
    number = first = source.mark(path).line
    while number >= 1 and (number == first or source.lines[number - 1].lstrip().startswith("#")):
        line = source.lines[number - 1]
        for m in ANY_IGNORE_YAML.finditer(line):
            well = IGNORE_YAML.match(line, m.start(1))
            if well is not None:
                rules |= _rules(well[1], problems, source.file, number, well.start(1) + 1, field)
            else:
                problems.append(
                    _malformed(line[m.start(1) :], "#", source.file, number, m.start(1) + 1, field)
                )
        number -= 1
    return rules, problems


def _malformed(ignore: str, form: str, file: str, line: int, col: int, field: str) -> Problem:
    """An ignore that is not well-formed: it silences nothing, and says so."""
    rest = ignore.split("ignore", 1)[1].lstrip()
    if not rest.startswith("["):
        why = "this ignore names no check in brackets, so it silences nothing"
    elif "]" not in rest:
        why = "this ignore's '[' is not closed, so it silences nothing"
    else:  # markdown: a reason in ( ) ends the link definition early, and the line is printed
        why = "this ignore's reason holds '(' or ')', so it silences nothing and the line would be printed"
    example = "[//]: # (tablet: ignore[dose-spacing] the trial's own words)"
    hint = f"write {'# tablet: ignore[dose-spacing] the reason' if form == '#' else example}"
    return _problem(file, line, col, why, field, hint)


def _rules(names: str, problems: list[Problem], file: str, line: int, col: int, field: str) -> set[str]:
    rules = {name.strip() for name in names.split(",") if name.strip()}
    if not rules:
        hint = "name the check that the warning shows in brackets, e.g. ignore[dose-spacing]"
        problems.append(_problem(file, line, col, "this ignore names no check", field, hint))
    for name in sorted(rules - set(RULES)):
        hint = did_you_mean(name, RULES) or f"rules: {', '.join(RULES)}"
        problems.append(_problem(file, line, col, f"unknown rule '{name}'", field, hint))
    return rules


def _problem(file: str, line: int, col: int, message: str, field: str, hint: str) -> Problem:
    return Problem(file, line, col, f"[ignore] {message}", field, "warning", hint)


class _Ignores:
    """The ignore comments of one text: a YAML one covers the whole field, a markdown one the next block."""

    def __init__(self, text: Text) -> None:
        self.problems: list[Problem] = []
        self.field: set[str] = set()
        self.blocks: list[tuple[set[str], int, int]] = []
        md = text.md
        if md.source is not None:
            self.field, self.problems = _yaml_ignores(md.source, md.path, md.field)
        if not text.prose:
            return
        tokens = markdown.parse(md.text)
        printed = {n for t in tokens if t.type == "paragraph_open" and t.map for n in range(*t.map)}
        for any_ in ANY_IGNORE_MD.finditer(md.text):
            m = IGNORE_MD.match(md.text, any_.start())
            start = any_.start() + any_[0].index("tablet")
            if m is None:
                line, col = locate(md, start)
                self.problems.append(
                    _malformed(md.text[start : any_.end()], "[//]", md.file, line, col, md.field)
                )
                continue
            line, col = locate(md, m.start(1))
            end = re.search(r"\n[ \t]*\n", md.text[m.end() :] + "\n\n")
            rules = _rules(m[1], self.problems, md.file, line, col, md.field)
            self.blocks.append((rules, m.end(), m.end() + (end.start() if end else 0)))
            if md.text.count("\n", 0, m.start()) in printed:
                why = "put a blank line above it; in issue.yaml use a '# tablet: ignore[rule]' comment"
                self.problems.append(
                    _problem(md.file, line, col, "this ignore line would be printed", md.field, why)
                )

    def covers(self, found: Finding) -> bool:
        return found.rule in self.field or any(
            found.rule in rules and start <= found.at < end for rules, start, end in self.blocks
        )
