"""The email edition of an issue: inlined, checked email HTML, its plain-text twin and a ready-to-send .eml.

The HTML is rendered from the view model, made email-safe (callouts become tables, in-page citation
links become text, issue images become inline cid: parts), inlined with css-inline and then checked
by emailrules.problems; any problem fails the build. The plain text is rendered from the same
view model, never scraped from the HTML.
"""

from __future__ import annotations

import hashlib
import io
import re
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, time
from functools import cache
from typing import Any
from urllib.parse import quote, unquote

from tablet_press.bundle import look
from tablet_press.bundle.folder import ASSETS_DIR, Bundle
from tablet_press.bundle.project import Project
from tablet_press.checks.email_rules import problems
from tablet_press.errors import BuildError
from tablet_press.render.palette import css_values
from tablet_press.render.view import IssueView, issue_view, render

TEXT_WIDTH = 78
LOGO_WIDTH = 96  # CSS pixels; the PNG holds more, for sharp high-density screens
CONTENT_WIDTH = 552  # the 600px container less its side padding: the widest an issue image is shown
_LIST_ITEM = re.compile(r"^\s*(?:- |\d+\. )")


@dataclass(frozen=True)
class InlineImage:
    """An image sent inside the .eml (multipart/related) and shown through its cid: URL."""

    cid: str
    data: bytes
    subtype: str
    width: int
    height: int

    @property
    def src(self) -> str:
        return f"cid:{self.cid}"


@dataclass(frozen=True)
class Links:
    web: str
    pdf: str


@dataclass(frozen=True)
class EmailEdition:
    """An issue's email before its PDF exists: the .eml, which attaches the PDF, comes last."""

    view: IssueView
    html: str
    text: str
    images: list[InlineImage]

    def files(self, project: Project, pdf: bytes) -> dict[str, bytes]:
        """The email body, plain text and .eml (with `pdf` attached), keyed by file name."""
        slug = self.view.slug
        return {
            f"{slug}.html": self.html.encode(),
            f"{slug}.txt": self.text.encode(),
            f"{slug}.eml": eml(self.view, project, self.html, self.text, self.images, pdf),
        }


def email_edition(bundle: Bundle, project: Project, view: IssueView) -> EmailEdition:
    """The checked email HTML with its images, and the plain text; raises BuildError."""
    html, images = email_html(view, bundle, project)
    return EmailEdition(view, html, email_text(view, project), images)


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


def email_html(view: IssueView, bundle: Bundle, project: Project) -> tuple[str, list[InlineImage]]:
    """The checked email HTML and the images it shows by cid: (the logo first); raises BuildError."""
    import css_inline

    logo = logo_image(project, bundle.slug)
    html = render("email.html.j2", view, project, logo=logo, links=issue_links(project, view))
    html = _email_safe(html)
    html, images = _embed_images(html, bundle)
    inline_css, enhancements = stylesheet(project)
    inliner = css_inline.CSSInliner(
        load_remote_stylesheets=False, keep_style_tags=False, extra_css=inline_css
    )
    html = inliner.inline(html).rstrip("\n") + "\n"  # a text file ends in a newline, as in the .eml
    # After inlining: css-inline would drop this block, and its rules must not be inlined anyway.
    html = html.replace("</head>", f"<style>\n{enhancements}\n</style>\n</head>", 1)
    found = problems(html)
    if found:
        raise BuildError(
            f"issues/{bundle.slug}: the email HTML breaks the email rules:\n  " + "\n  ".join(found)
        )
    return html, [logo, *images]


def _email_safe(html: str) -> str:
    """What markdown makes for the page, remade for mail clients: Outlook on Windows draws no box
    around an <aside>, and Gmail drops in-page (#) links, so callouts become one-cell tables and
    citation links plain text. markdown.py escapes raw HTML, so these tags can only be its own."""
    html = re.sub(
        r'<aside class="callout ([^"]*)" role="note">',
        r'<table role="presentation" class="callout \1" width="100%" cellpadding="0" cellspacing="0"'
        r' border="0"><tr><td class="callout-body" role="note">',
        html,
    )
    html = html.replace("</aside>", "</td></tr></table>")
    return re.sub(r'<a href="#[^"]*">(.*?)</a>', r"\1", html, flags=re.S)


def _embed_images(html: str, bundle: Bundle) -> tuple[str, list[InlineImage]]:
    """Issue images (assets/...) as inline parts: an email cannot reach files next to it."""
    images: dict[str, InlineImage] = {}

    def embed(match: re.Match[str]) -> str:
        src = unquote(match.group(1))
        if src not in images:
            images[src] = _asset_image(bundle, src, f"image{len(images) + 1}@{bundle.slug}.tablet")
        image = images[src]
        return f'<img class="figure" src="{image.src}" width="{image.width}" height="{image.height}"'

    html = re.sub(r'<img src="(?!https:|cid:)([^"]*)"', embed, html)
    return html, list(images.values())


def _asset_image(bundle: Bundle, src: str, cid: str) -> InlineImage:
    assets = (bundle.path / ASSETS_DIR).resolve()
    path = (bundle.path / src).resolve()
    if assets not in path.parents or not path.is_file():  # validation refuses these; never trust it here
        raise BuildError(f"issues/{bundle.slug}: image '{src}' is not a file in {ASSETS_DIR}/")
    data = path.read_bytes()
    subtype, (width, height) = _image_info(data, src)
    shown = min(width, CONTENT_WIDTH)
    return InlineImage(cid, data, subtype, shown, round(height * shown / width))


def _image_info(data: bytes, name: str) -> tuple[str, tuple[int, int]]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, size = (image.format or "").lower(), image.size
    except UnidentifiedImageError:
        raise BuildError(f"{name} is not a readable image") from None
    if kind not in ("png", "jpeg", "gif", "webp"):
        raise BuildError(f"{name} is a {kind or 'unknown'} image; email takes PNG, JPEG, GIF or WebP")
    return kind, size


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
    subtype, (width, height) = _image_info(data, f"brand/{png.name}")
    if subtype != "png":
        raise BuildError(f"brand/{png.name} is not a PNG image")
    return InlineImage(f"logo@{slug}.tablet", data, "png", LOGO_WIDTH, round(height * LOGO_WIDTH / width))


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
    text = render("email.txt.j2", view, project, wrap=wrap, links=issue_links(project, view))
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
    digest = hashlib.sha256(b"\0".join([html.encode(), text.encode(), pdf])).hexdigest()[:20]
    message = EmailMessage()
    message["From"] = Address(config.sender.name, addr_spec=config.sender.email)
    message["Subject"] = f"{config.name}, issue {view.number}: {view.title}"
    # Noon UTC: the issue's calendar day everywhere from Hawaii to India.
    message["Date"] = format_datetime(datetime.combine(view.date, time(12, 0), tzinfo=UTC))
    message["Message-ID"] = f"<{view.slug}.{view.number}.{digest}@{config.sender.email.split('@')[1]}>"
    message["X-Unsent"] = "1"  # Outlook and others open the file as a draft, ready to address and send
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
    message.add_attachment(pdf, "application", "pdf", filename=f"{view.slug}.pdf")
    message["Content-Language"] = config.language  # after set_content, which drops Content-* headers
    for number, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_{digest}_{number}")  # "=_" never occurs in quoted-printable or base64
    return message.as_bytes(policy=SMTP)
