"""The one outline of an issue: its parts in print order, their headings, the file or field holding each,
and the facts a study may carry. The view, the templates (through the view), the lint's reading order,
citation numbering, the scaffold and the guide all derive from it: adding a part is one entry here
plus its template block."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tablet_press.bundle import markdown
from tablet_press.bundle.loader import Located, Mark, Path_, dotted
from tablet_press.errors import Problem, Severity

if TYPE_CHECKING:
    from tablet_press.bundle.folder import Bundle
    from tablet_press.bundle.model import Study


CE = "ce"  # the field of issue.yaml that holds the continuing-education block (both CE parts)


@dataclass(frozen=True)
class Source:
    """Where a part's text comes from: a markdown file of the bundle, or a field of issue.yaml."""

    name: str  # a file of the bundle ("background.md", "references.yaml"), or a field of issue.yaml
    about: str  # what it holds, for the scaffold, the guide and "unknown file" hints

    @property
    def prose(self) -> str | None:
        """The prose part's name ("background") when this source is a markdown file."""
        return self.name.removesuffix(".md") if self.name.endswith(".md") else None


@dataclass(frozen=True)
class Part:
    key: str  # the template block that lays it out (every output has one per key)
    heading: str  # printed over the part; "" prints none
    sources: tuple[Source, ...]  # in print order


OUTLINE: tuple[Part, ...] = (
    # A CE activity's learning objectives open the issue (what the reader will be able to do); the rest
    # of its block (accreditation, UANs, dates, credit, disclosures) closes it: `ce:` in issue.yaml.
    Part("objectives", "Learning Objectives", (Source(CE, "Continuing education: the learning objectives"),)),
    Part("background", "Background", (Source("background.md", "Background"),)),
    Part("mechanism", "Mechanism of Action", (Source("mechanism.md", "Mechanism of Action"),)),
    Part(
        "pharmacokinetics",
        "Pharmacokinetics & Safety",
        (Source("pharmacokinetics.md", "Pharmacokinetics & Safety"),),
    ),
    Part(
        "pearls",
        "Clinical Pearls",
        (
            Source("pearls", "Clinical pearls, one per bullet"),
            Source("anecdote.md", "From our team (after the clinical pearls)"),
        ),
    ),
    Part(
        "literature",
        "The Literature",
        (
            Source("literature.md", "The Literature: introduction before the studies"),
            Source("literature", "Studies grouped by indication"),
        ),
    ),
    Part("bottom_line", "Bottom Line", (Source("bottom_line", "The bottom line, one point per bullet"),)),
    Part("references", "References", (Source("references.yaml", "Every reference, once"),)),
    Part("closing", "", (Source("closing.md", "After the references (e.g. a closing callout)"),)),
    Part(
        "ce", "Continuing Education", (Source(CE, "Continuing education: the activity, credit, disclosures"),)
    ),
)

# Prose files, in print order, with what each holds; background.md is the one every issue needs.
PROSE_PARTS: dict[str, str] = {s.prose: s.about for p in OUTLINE for s in p.sources if s.prose}
REQUIRED_PROSE = ("background",)

# What a study may state besides its summary bullets, in print order, with the label printed before it:
# the order a reader of trials expects (design, methods, outcomes, results), whatever order the
# fields were written in.
PARTICIPANTS = "Participants"  # the label of `n`, printed as "n=40"
DESIGN = "Design"
STUDY_FACTS: tuple[tuple[str, str], ...] = (
    ("design", DESIGN),
    ("population", "Population"),
    ("intervention", "Intervention and dose"),
    ("duration", "Duration"),
    ("methods", "Methods"),
    ("outcomes", "Outcomes"),
    ("results", "Results"),
)


def position(name: str) -> tuple[int, int]:
    """Where a source (a file name like "anecdote.md", or a field of issue.yaml) is printed: (part, source).
    The title comes first; anything the outline does not hold comes last."""
    if name == "title":
        return (-1, 0)
    for i, part in enumerate(OUTLINE):
        for j, source in enumerate(part.sources):
            if source.name == name:
                return (i, j)
    return (len(OUTLINE), 0)


def study_bullets(study: Study) -> Iterator[tuple[str, str, str]]:
    """A study's bullets in print order as (field, label, markdown): the summary as written, then facts.
    The summary's first bullet is the study's design when labelled facts follow it and no `design`
    says otherwise, so it carries the "Design" label; a summary alone stays as written."""
    facts = study.n is not None or any(getattr(study, name) for name, _ in STUDY_FACTS)
    for i, text in enumerate(study.summary):
        yield f"summary.{i}", DESIGN if i == 0 and facts and not study.design else "", text
    if study.n is not None:
        yield "n", PARTICIPANTS, f"n={study.n}"
    for name, label in STUDY_FACTS:
        value = getattr(study, name)
        if value:
            yield name, label, value


@dataclass(frozen=True)
class MarkdownText:
    """A markdown text of the bundle and how to place a position inside it in its file."""

    text: str
    file: str
    field: str
    source: Located | None = None
    path: Path_ = ()

    def at(self, found: markdown.Found) -> Mark:
        if self.source is None:
            return Mark(found.line, found.col)
        return self.source.text_position(self.path, found.line, found.col)

    def problem(
        self, found: markdown.Found, message: str, hint: str = "", severity: Severity = "error"
    ) -> Problem:
        mark = self.at(found)
        return Problem(self.file, mark.line, mark.col, message, self.field, severity, hint)


@dataclass(frozen=True)
class Summarised:
    """A study's reference, at the place in the reading order where the study is printed."""

    ref: str


def reading_order(bundle: Bundle) -> Iterator[MarkdownText | Summarised]:
    """Every markdown text of a bundle (prose files and markdown fields of issue.yaml) in print order,
    with each study's reference where the study stands."""
    src = bundle.issue_source
    issue = bundle.issue

    def text(path: Path_, value: str | None) -> Iterator[MarkdownText]:
        if value:
            yield MarkdownText(value, src.file, dotted(path), src, path)

    for part in OUTLINE:
        for source in part.sources:
            if source.prose is not None:
                prose = bundle.prose.get(source.prose)
                if prose is not None:
                    yield MarkdownText(prose.text, prose.file, "")
            elif source.name in ("pearls", "bottom_line"):
                for i, value in enumerate(getattr(issue, source.name)):
                    yield from text((source.name, i), value)
            elif source.name == "literature":
                for g, group in enumerate(issue.literature):
                    for s, study in enumerate(group.studies):
                        yield Summarised(study.ref)
                        for name, _, value in study_bullets(study):
                            if name != "n":
                                key = tuple(int(k) if k.isdigit() else k for k in name.split("."))
                                yield from text(("literature", g, "studies", s, *key), value)
                    yield from text(("literature", g, "note"), group.note)


def markdown_texts(bundle: Bundle) -> Iterator[MarkdownText]:
    """Every markdown text of a bundle, in print order."""
    return (item for item in reading_order(bundle) if isinstance(item, MarkdownText))


def citation_order(bundle: Bundle) -> list[str]:
    """Reference ids in the order the issue first cites or summarises them, as printed."""
    order: list[str] = []
    for item in reading_order(bundle):
        if isinstance(item, Summarised):
            order.append(item.ref)
        else:
            order.extend(found.value for found in markdown.scan(item.text).citations)
    return list(dict.fromkeys(order))
