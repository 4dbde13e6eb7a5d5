"""A back-catalog issue's page in the archive (kind: archived-pdf): its metadata, a PNG of the first
page of the PDF as sent, a link to that PDF, and its text for the archive's search. The PDF comes from
published/, already checked against publications.json (checks/publication.frozen_outputs); it is read
again here through bundle/original.py, bounded like any untrusted PDF."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from tablet_press.bundle.folder import Bundle
from tablet_press.bundle.original import UnreadablePdf, read_original
from tablet_press.bundle.project import Project
from tablet_press.errors import BuildError
from tablet_press.site.pages import Entry, entry, render_page


def _paragraphs(text: str) -> list[list[str]]:
    """The PDF's text as pages of paragraphs, reflowed: a column's lines run together, and a line much
    shorter than the page's usual line (a heading, a paragraph's last line) ends a paragraph."""
    pages = []
    for page in text.split("\f"):  # bundle/original.py puts a form feed between pages
        lines = [" ".join(line.split()) for line in page.splitlines()]
        lengths = sorted(len(line) for line in lines if line)
        if not lengths:
            continue
        usual = lengths[len(lengths) // 2]
        paragraphs: list[str] = []
        current: list[str] = []
        for line in lines:
            short = len(line) < 0.6 * usual
            if line and short and current and current[-1][-1] in ".!?:":  # a heading after a paragraph
                paragraphs.append(" ".join(current))
                current = []
            if line:
                current.append(line)
            if current and (not line or short):
                paragraphs.append(" ".join(current))
                current = []
        if current:
            paragraphs.append(" ".join(current))
        pages.append(paragraphs)
    return pages


def archived_page(
    bundle: Bundle, project: Project, pdf: bytes, cutoff: date | None
) -> tuple[Entry, str, dict[str, bytes]]:
    """The issue's archive entry, its page and the files beside the page (the PDF, its thumbnail)."""
    try:
        original = read_original(pdf)
    except UnreadablePdf as exc:
        raise BuildError(f"issues/{bundle.slug}/published/{bundle.slug}.pdf: {exc}") from None
    listed = entry(bundle, project, cutoff)
    pages = f"{original.pages} page{'' if original.pages == 1 else 's'}"
    summary = listed.summary or f"The issue as it was sent: a PDF of {pages}."
    listed = replace(listed, summary=summary, back_catalog=True, pdf_bytes=len(pdf))
    width = 196
    height = round(width * 11 / 8.5)
    try:  # the PNG's own size, for the img's height (PNG header: width and height at bytes 16-24)
        w, h = (
            int.from_bytes(original.thumbnail[16:20], "big"),
            int.from_bytes(original.thumbnail[20:24], "big"),
        )
        height = round(width * h / w) if w else height
    except (ValueError, ZeroDivisionError):
        pass
    size = f"{len(pdf) / 2**20:.1f} MB" if len(pdf) >= 2**20 else f"{max(1, round(len(pdf) / 1024))} KB"
    page = render_page(
        project,
        "site/archived.html.j2",
        entry=listed,
        root="../../",
        pages=original.pages,
        size=size,
        thumb_height=height,
        text_pages=_paragraphs(original.text),
    )
    return listed, page, {f"{bundle.slug}.pdf": pdf, "thumbnail.png": original.thumbnail}
