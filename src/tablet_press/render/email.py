"""The email edition of an issue: inlined, checked email HTML, its plain-text twin and a ready-to-send .eml.

The HTML is rendered by templates/email.html.j2 from the view model, whose texts come ready as email
HTML (callouts as tables, citations unlinked, issue images as inline cid: parts: email_markdown.py),
then inlined with css-inline and checked by checks/email_rules.py; any problem fails the build. The
plain text is rendered from the same view model, never scraped from the HTML.

The HTML is written twice: inside the .eml, where its images are parts named by cid:, and as the
standalone `<slug>.html` (opened from dist/ or the archive's "Email" link), where a browser cannot
follow cid: and the same images are files beside it (`logo.png`, `assets/...`: `linked_files`). The
second is the first with the src of each of those images, our own cid: URLs, pointed at its file.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tablet_press.bundle import look
from tablet_press.bundle.folder import Bundle
from tablet_press.bundle.project import Project
from tablet_press.checks.email_compat import compatibility
from tablet_press.checks.email_rules import problems
from tablet_press.errors import BuildError
from tablet_press.inputrules import header_problem
from tablet_press.render.email_markdown import InlineImage, image_info
from tablet_press.render.palette import css_values
from tablet_press.render.view import IssueView, issue_view, render

if TYPE_CHECKING:
    from email.message import EmailMessage, Message

TEXT_WIDTH = 78
LOGO_WIDTH = 96  # CSS pixels; the PNG holds more, for sharp high-density screens
LOGO_FILE = "logo.png"  # beside the standalone HTML; an issue's own images are all under assets/
_LIST_ITEM = re.compile(r"^\s*(?:- |\d+\. )")
_UNSAFE_URL = re.compile(r"[\s<>,\"]")  # would break out of List-Unsubscribe's <...>, <...>


@dataclass(frozen=True)
class Links:
    web: str
    pdf: str


@dataclass(frozen=True)
class Footer:
    reason: str  # why the reader gets the email
    unsubscribe: str | None  # the link the footer shows: the https: one when there is one


def footer(project: Project) -> Footer:
    config = project.config.newsletter
    reason = config.reason or "You receive it because you are on its distribution list."
    urls = list_unsubscribe(project)
    shown = next((u for u in urls if u.startswith("https:")), urls[0] if urls else None)
    return Footer(reason, shown)


@dataclass(frozen=True)
class EmailEdition:
    """An issue's email before its PDF exists: the .eml, which attaches the PDF, comes last."""

    view: IssueView
    html: str  # as sent, images by cid:
    text: str
    images: list[InlineImage]
    # The compatibility report's notes (checks/email_compat.py): what `tablet build --verbose` lists.
    notes: list[str] = field(default_factory=list)

    def files(self, project: Project, pdf: bytes) -> dict[str, bytes]:
        """The standalone email body, plain text and .eml (with `pdf` attached), keyed by file name."""
        slug = self.view.slug
        return {
            f"{slug}.html": standalone_html(self.html, self.images).encode(),
            f"{slug}.txt": self.text.encode(),
            f"{slug}.eml": eml(self.view, project, self.html, self.text, self.images, pdf),
        }


def standalone_html(html: str, images: list[InlineImage]) -> str:
    """The email HTML for a browser: each image's src="cid:..." (ours, made by email_html) points at
    its file beside the HTML instead (linked_files writes them)."""
    for image in images:
        html = html.replace(f'src="{image.src}"', f'src="{image.file_src}"')
    return html


def linked_files(project: Project, view: IssueView) -> dict[str, bytes]:
    """The files the standalone email HTML and the issue's web page link to, by path relative to
    them: the logo's PNG and the issue's images (`assets/...`, as in the bundle)."""
    logo = logo_image(project, view.slug)
    return {image.path: image.data for image in [logo, *view.email_images]}


def email_edition(bundle: Bundle, project: Project, view: IssueView) -> EmailEdition:
    """The checked email HTML with its images, and the plain text; raises BuildError."""
    notes: list[str] = []
    html, images = email_html(view, bundle, project, notes)
    return EmailEdition(view, html, email_text(view, project), images, notes)


def email_outputs(
    bundle: Bundle, project: Project, pdf: bytes, view: IssueView | None = None
) -> dict[str, bytes]:
    """The issue's email body, plain text and .eml (with `pdf` attached), keyed by file name."""
    view = view if view is not None else issue_view(bundle, project)
    return email_edition(bundle, project, view).files(project, pdf)


def issue_links(project: Project, view: IssueView) -> Links | None:
    """Where the published issue lives, when tablet.yaml has a base_url: the archive's permalink
    <base_url>/<year>/<slug>/ (see archive.py), with the PDF beside the page."""
    base = project.config.newsletter.base_url
    if base is None:
        return None
    folder = f"{base.rstrip('/')}/{view.date.year}/{quote(view.slug)}/"
    return Links(web=folder, pdf=f"{folder}{quote(view.slug)}.pdf")


def email_html(
    view: IssueView, bundle: Bundle, project: Project, notes: list[str] | None = None
) -> tuple[str, list[InlineImage]]:
    """The checked email HTML and the images it shows by cid: (the logo first); raises BuildError.

    Checked twice: against the email rules, and against what Gmail, Outlook for Windows and Apple Mail
    support (checks/email_compat.py), where a feature missing in one of them that changes the layout
    is an error too; the rest of that report goes to `notes`, when given."""
    import css_inline

    logo = logo_image(project, bundle.slug)
    html = render(
        "email.html.j2", view, project, logo=logo, links=issue_links(project, view), footer=footer(project)
    )
    inline_css, enhancements = stylesheet(project)
    inliner = css_inline.CSSInliner(
        load_remote_stylesheets=False, keep_style_tags=False, extra_css=inline_css
    )
    html = inliner.inline(html).rstrip("\n") + "\n"  # a text file ends in a newline, as in the .eml
    # After inlining: css-inline would drop this block, and its rules must not be inlined anyway.
    html = html.replace("</head>", f"<style>\n{enhancements}\n</style>\n</head>", 1)
    images = [logo, *view.email_images]
    report = compatibility(html, [(image.subtype, image.path) for image in images])
    found = problems(html) + report.errors
    if notes is not None:
        notes += report.notes
    if found:
        raise BuildError(
            f"issues/{bundle.slug}: the email HTML breaks the email rules:\n  " + "\n  ".join(found)
        )
    return html, images


def logo_image(project: Project, slug: str) -> InlineImage:
    """The brand logo as a PNG: email clients show no SVG, so an SVG logo needs a PNG twin beside it
    (brand/logo.png, made from brand/logo.svg; tests/test_email_render.py checks it is current)."""
    logo = look.find(project, "brand", project.config.brand.logo)
    png = logo.with_suffix(".png")
    if not png.is_file():
        raise BuildError(
            f"brand/{png.name} is missing: email clients do not show SVG, so the email needs a PNG of "
            f"brand/{logo.name} beside it (see the README's Email section)"
        )
    data = png.read_bytes()
    subtype, (width, height) = image_info(data, f"brand/{png.name}")
    if subtype != "png":
        raise BuildError(f"brand/{png.name} is not a PNG image")
    height = round(height * LOGO_WIDTH / width)
    return InlineImage(f"logo@{slug}.tablet", data, "png", LOGO_WIDTH, height, LOGO_FILE)


def stylesheet(project: Project) -> tuple[str, str]:
    """styles/email.css with the brand's values filled in, split into (rules to inline, rules that
    stay in <style>: at-rules and selectors with pseudo-classes, which no style attribute can hold)."""
    source = look.find(project, "styles", "email.css").read_text(encoding="utf-8")
    return _split_stylesheet(source, tuple(css_values(project.config).items()))


@cache  # the same for every issue of a project, and the archive builds many in one process
def _split_stylesheet(source: str, brand: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    import tinycss2  # type: ignore[import-untyped]

    values = dict(brand)

    def fill(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise BuildError(f"styles/email.css: unknown variable --{match.group(1)}")
        return values[match.group(1)]

    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = re.sub(r"var\(--([a-z0-9-]+)\)", fill, source)
    inline: list[str] = []
    kept: list[str] = []
    for rule in tinycss2.parse_stylesheet(source, skip_comments=True, skip_whitespace=True):
        if rule.type == "error":
            raise BuildError(f"styles/email.css:{rule.source_line}: {rule.message}")
        text = re.sub(r"\s+", " ", tinycss2.serialize([rule]))
        selector = tinycss2.serialize(getattr(rule, "prelude", []))
        (kept if rule.type == "at-rule" or ":" in selector else inline).append(text)
    return "\n".join(inline), "\n".join(kept)


def wrap(text: str, prefix: str = "") -> str:
    """Plain text wrapped at 78 columns: `prefix` ("1. ") opens the first line and indents the rest,
    list items hang under their bullet. Words are never split, so a long address may overrun."""
    indent = " " * len(prefix)
    lines = []
    for number, line in enumerate(text.split("\n")):
        if not line.strip():
            lines.append("")
            continue
        item = _LIST_ITEM.match(line)
        lines.append(
            textwrap.fill(
                line,
                TEXT_WIDTH,
                initial_indent=prefix if number == 0 else indent,
                subsequent_indent=indent + " " * (item.end() if item else 0),
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines)


def email_text(view: IssueView, project: Project) -> str:
    """The plain-text part, from the view model's text twins."""
    text = render(
        "email.txt.j2", view, project, wrap=wrap, links=issue_links(project, view), footer=footer(project)
    )
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def eml(
    view: IssueView, project: Project, html: str, text: str, images: list[InlineImage], pdf: bytes
) -> bytes:
    """A draft (X-Unsent: 1) that a mail client opens ready to send: text and HTML alternatives, the
    HTML's images related to it, the PDF attached. Byte-reproducible: the date comes from the issue,
    the Message-ID and MIME boundaries from its content, nothing from the clock or a random source."""
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.policy import SMTP
    from email.utils import format_datetime

    config = project.config.newsletter
    subject = view.subject
    unsubscribe = list_unsubscribe(project)
    # Validation refuses these in every field they come from; checked again where they become headers.
    for name, value in (
        ("From", config.sender.name),
        ("From", config.sender.email),
        ("Subject", subject),
        *(("List-Unsubscribe", url) for url in unsubscribe),
    ):
        problem = header_problem(value) or (
            "must not contain a space, '<', '>' or ','"
            if name == "List-Unsubscribe" and _UNSAFE_URL.search(value)
            else None
        )
        if problem:
            raise BuildError(f"issues/{view.slug}: cannot write the {name} header of the .eml: {problem}")
    digest = hashlib.sha256(b"\0".join([html.encode(), text.encode(), pdf])).hexdigest()[:20]
    message = EmailMessage()
    message["From"] = Address(config.sender.name, addr_spec=config.sender.email)
    message["Subject"] = subject
    # Noon UTC: the issue's calendar day everywhere from Hawaii to India.
    message["Date"] = format_datetime(datetime.combine(view.date, time(12, 0), tzinfo=UTC))
    message["Message-ID"] = f"<{view.slug}.{view.number}.{digest}@{config.sender.email.split('@')[1]}>"
    message["X-Unsent"] = "1"  # Outlook and others open the file as a draft, ready to address and send
    if unsubscribe:
        message["List-Unsubscribe"] = ", ".join(f"<{url}>" for url in unsubscribe)
        if any(url.startswith("https:") for url in unsubscribe):  # RFC 8058: one click, no confirmation page
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    html_part: Any = message.get_payload()[1]  # type: ignore[index]
    for image in images:
        html_part.add_related(
            image.data,
            "image",
            image.subtype,
            cid=f"<{image.cid}>",
            disposition="inline",
            filename=f"{image.cid.split('@')[0]}.{image.subtype}",
        )
    message.add_attachment(pdf, "application", "pdf", filename=pdf_attachment_name(view, project))
    message["Content-Language"] = config.language  # after set_content, which drops Content-* headers
    for number, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_{digest}_{number}")  # "=_" never occurs in quoted-printable or base64
    data = message.as_bytes(policy=SMTP)
    check_headers(message, data, view.slug)
    return data


def list_unsubscribe(project: Project) -> list[str]:
    """The List-Unsubscribe addresses of tablet.yaml (a mailto: and/or an https: URL), or []."""
    return list(project.config.newsletter.list_unsubscribe or [])


def pdf_attachment_name(view: IssueView, project: Project) -> str:
    """The attached PDF's name, one that still says what it is in a Downloads folder:
    The-Tablet-01-2025-07-01-low-dose-naltrexone.pdf (newsletter, issue number, date, slug)."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", project.config.newsletter.name).strip("-") or "issue"
    return f"{name}-{view.number:02d}-{view.date.isoformat()}-{view.slug}.pdf"


def check_headers(message: EmailMessage, data: bytes, slug: str) -> None:
    """Raise BuildError unless `data`, read back, has exactly the headers composed in `message`, part
    by part. Defence in depth: the email package itself has written header lines nobody composed
    (CVE-2024-6923, an encoded word's CR/LF written raw), so the .eml is never trusted to match."""
    from email import message_from_bytes
    from email.policy import SMTP

    def names(parts: Iterator[Message]) -> list[list[str]]:
        return [[name.lower() for name in part] for part in parts]

    composed, written = names(message.walk()), names(message_from_bytes(data, policy=SMTP).walk())
    if written != composed:
        unexpected = sorted(set().union(*written) - set().union(*composed))
        what = f"carry headers nobody composed ({', '.join(unexpected)})" if unexpected else "lose headers"
        raise BuildError(
            f"issues/{slug}: the .eml would {what}; nothing was written "
            "(a bug in tablet-press or in Python's email package)"
        )
