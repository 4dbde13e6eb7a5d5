"""The archive's pages: what the index, topic pages, issue pages and Atom feed show about each issue.

Entries are computed from the validated models alone (no citation engine, no WeasyPrint), so the
index can be rewritten cheaply whenever any issue changes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from tablet_press.bundle.folder import Bundle
from tablet_press.bundle.model import Correction
from tablet_press.bundle.project import Project
from tablet_press.checks.publication import published_on
from tablet_press.render.view import template


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    kind: str


@dataclass(frozen=True)
class Entry:
    """One issue as the archive lists it."""

    slug: str
    number: int
    date: dt.date
    date_text: str
    title: str
    authors: tuple[str, ...]
    topics: tuple[Topic, ...]
    summary: str
    corrections: tuple[Correction, ...]
    published: dt.date | None
    folder: str  # "2025/low-dose-naltrexone/": the permalink, relative to the site root
    citation: str
    bottom_line: str  # its points as plain text: the feed's summary of the issue
    archived: bool = False  # older than tablet.yaml's archive.archived_after_years on the day of the build
    pdf_bytes: int = 0  # the PDF's size, for the feed's enclosure; known once the PDF is made
    ce_expires: dt.date | None = None  # the CE activity's expiration date, for an issue that carries one
    expired: bool = False  # its CE activity expired before the day of the build
    reviewers: tuple[str, ...] = ()  # peer reviewers' names, for the citation block

    @property
    def ce_expires_text(self) -> str:
        day = self.ce_expires
        return f"{day:%B} {day.day}, {day.year}" if day else ""

    back_catalog: bool = False  # a past issue as sent (kind: archived-pdf): a PDF, no email

    @property
    def updated(self) -> dt.date:
        return max([self.published or self.date, *(c.date for c in self.corrections)])


def _plain(markdown_text: str) -> str:
    """Markdown as one line of plain text: no emphasis marks, citations or link targets."""
    plain = re.sub(r"[*_`#>]|\s*\[@[^\]]*\]", "", markdown_text).strip()
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", " ".join(plain.split()))


def _sentence(text: str) -> str:
    """A bullet point as a sentence, so that points run together as prose read as separate ones."""
    return text if not text or text[-1] in ".!?:;" else text + "."


def _first_sentence(markdown_text: str) -> str:
    plain = _plain(markdown_text)
    match = re.match(r"(.+?[.!?])(\s|$)", plain)
    return match.group(1) if match else plain[:200]


def _nlm_name(name: str) -> str:
    """'Maria Felton Lowry' -> 'Lowry MF' (NLM author style)."""
    parts = name.replace(".", " ").split()
    return f"{parts[-1]} {''.join(p[0] for p in parts[:-1])}".strip()


def _author_names(bundle: Bundle, project: Project) -> list[str]:
    names = []
    for author in bundle.issue.authors:
        name = project.config.team[author.id].name if author.id else author.name
        assert name is not None
        names.append(name)
    return names


def _reviewer_names(bundle: Bundle, project: Project) -> list[str]:
    names = []
    for person in bundle.issue.reviewed_by:
        team = project.config.team[person.id] if person.id else None
        name = team.name if team else person.name
        credentials = team.credentials if team else person.credentials
        assert name is not None
        names.append(", ".join([name, *credentials]))
    return names


def citation(bundle: Bundle, project: Project, names: list[str], folder: str) -> str:
    """A suggested citation in NLM style for a newsletter issue."""
    issue, news = bundle.issue, project.config.newsletter
    when = f"{issue.date.year} {issue.date:%b} {issue.date.day}"
    authors = ", ".join(_nlm_name(n) for n in names) or news.name  # a past issue may name no author
    text = f"{authors}. {issue.title.rstrip('.')}. {news.name}. {when};(Issue {issue.number})."
    if news.base_url:
        text += f" Available from: {news.base_url.rstrip('/')}/{folder}"
    return text


def entry(
    bundle: Bundle, project: Project, cutoff: dt.date | None = None, day: dt.date | None = None
) -> Entry:
    """The issue as the archive lists it; labelled "Archived" if dated before `cutoff`, its CE activity
    "Expired" if it expired before `day`, the day of the build (site/archive.py today(): the day of
    SOURCE_DATE_EPOCH when set, so that a reproducible build labels the same; None: never)."""
    issue = bundle.issue
    folder = f"{issue.date.year}/{quote(bundle.slug)}/"
    names = _author_names(bundle, project)
    summary = issue.summary or (
        _first_sentence(bundle.prose["background"].text) if "background" in bundle.prose else ""
    )
    vocabulary = project.config.topics
    return Entry(
        slug=bundle.slug,
        number=issue.number,
        date=issue.date,
        date_text=f"{issue.date:%B} {issue.date.day}, {issue.date.year}",
        title=issue.title,
        authors=tuple(names),
        topics=tuple(Topic(t, vocabulary[t].label, vocabulary[t].kind) for t in issue.topics),
        summary=summary,
        corrections=tuple(issue.corrections),
        published=published_on(project, bundle.slug),
        folder=folder,
        citation=citation(bundle, project, names, folder),
        bottom_line=" ".join(_sentence(_plain(point)) for point in issue.bottom_line),
        archived=cutoff is not None and issue.date < cutoff,
        ce_expires=issue.ce.expires if issue.ce else None,
        expired=issue.ce is not None and day is not None and issue.ce.expires < day,
        reviewers=tuple(_reviewer_names(bundle, project)),
    )


def render_page(project: Project, name: str, **context: Any) -> str:
    return template(project, name).render(config=project.config, **context)


def search_shards(entries: list[Entry]) -> list[str]:
    """The parts of the search index, newest first: one per year of issues (the first part of each
    issue's folder), so that a changed issue re-indexes its year's issues alone (site/archive.py)."""
    return sorted({e.folder.split("/", 1)[0] for e in entries}, reverse=True)


def page_specs(project: Project, entries: list[Entry]) -> dict[str, tuple[str, dict[str, Any]]]:
    """The pages about all issues, unrendered: path -> (template, context). What a page shows is its
    template and its context alone, so the archive re-renders a page only when either changes."""
    newest = sorted(entries, key=lambda e: (e.date, e.number), reverse=True)
    used = {t.id: t for e in newest for t in e.topics}
    kinds = {
        "drug": "Drugs",
        "drug-class": "Drug classes",
        "indication": "Indications",
        "symptom": "Symptoms",
        "topic": "Topics",
    }
    pages: dict[str, tuple[str, dict[str, Any]]] = {
        "index.html": (
            "site/index.html.j2",
            {"entries": newest, "root": "", "shards": search_shards(newest)},
        ),
        "topics/index.html": (
            "site/topics.html.j2",
            {
                "root": "../",
                "kinds": kinds,
                "topics": sorted(used.values(), key=lambda t: t.label.casefold()),
                "counts": {t: sum(t in [x.id for x in e.topics] for e in newest) for t in used},
            },
        ),
    }
    for topic in used.values():
        tagged = [e for e in newest if topic in e.topics]
        pages[f"topics/{topic.id}.html"] = (
            "site/topic.html.j2",
            {"topic": topic, "entries": tagged, "root": "../"},
        )
    return pages


def site_pages(project: Project, entries: list[Entry]) -> dict[str, str]:
    """The pages about all issues: index, topics and one page per topic; path -> text."""
    return {
        path: render_page(project, name, **context)
        for path, (name, context) in page_specs(project, entries).items()
    }


def feed_context(entries: list[Entry]) -> dict[str, Any]:
    newest = sorted(entries, key=lambda e: (e.date, e.number), reverse=True)
    return {"entries": newest, "updated": max((e.updated for e in newest), default=dt.date(2000, 1, 1))}


def feed(project: Project, entries: list[Entry]) -> str:
    """The Atom feed of all issues, newest first: written last, when every PDF's size is known."""
    return render_page(project, "site/feed.xml.j2", **feed_context(entries))
