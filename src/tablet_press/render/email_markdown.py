"""The pharmacist's markdown as email HTML: callouts as tables, images as inline cid: parts, figures
with their caption, tables of data with every cell styled (styles/email.css, inlined).

Mail clients are not browsers: Outlook on Windows draws no box around an <aside>, Gmail drops in-page
(#) links, and an email cannot reach the files beside it. So the email's fragments are rendered from
the same markdown tokens as the page's, with this module's markup (citations come unlinked from the
citation engine, Bibliography.cite_unlinked), never by rewriting the page's HTML.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import quote, unquote

from markdown_it.common.utils import escapeHtml

from tablet_press.bundle.folder import ASSETS_DIR, Bundle
from tablet_press.bundle.markdown import Cite, HtmlRenderer
from tablet_press.bundle.safefile import MAX_ASSET_BYTES, UnsafeFile, read_bundle_file
from tablet_press.errors import BuildError

CONTENT_WIDTH = 552  # the 600px container less its side padding: the widest an issue image is shown


@dataclass(frozen=True)
class InlineImage:
    """An image sent inside the .eml (multipart/related) and shown through its cid: URL; beside the
    standalone email HTML, the same image is the file `path` (relative to it, as in the bundle)."""

    cid: str
    data: bytes
    subtype: str
    width: int
    height: int
    path: str  # "assets/chart.png"; "logo.png" for the logo

    @property
    def src(self) -> str:
        return f"cid:{self.cid}"

    @property
    def file_src(self) -> str:
        """The relative URL of `path`, for the standalone HTML and the archive."""
        return quote(self.path)


def image_info(data: bytes, name: str) -> tuple[str, tuple[int, int]]:
    """(Pillow's format name, (width, height)) of an image mail clients show; raises BuildError."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, size = (image.format or "").lower(), image.size
    except UnidentifiedImageError:
        raise BuildError(f"{name} is not a readable image") from None
    if kind not in ("png", "jpeg", "gif", "webp"):
        raise BuildError(f"{name} is a {kind or 'unknown'} image; email takes PNG, JPEG, GIF or WebP")
    return kind, size


class IssueImages:
    """The issue's images as the email sends them, numbered in the order they are first asked for
    (the view asks in reading order, so image1 is the first one a reader meets)."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self._images: dict[str, InlineImage] = {}

    def __call__(self, src: str) -> InlineImage:
        """The image at `src` (as markdown-it normalised it, percent-encoded), read once."""
        path = unquote(src)
        if path not in self._images:
            cid = f"image{len(self._images) + 1}@{self.bundle.slug}.tablet"
            self._images[path] = self._read(path, cid)
        return self._images[path]

    def all(self) -> tuple[InlineImage, ...]:
        return tuple(self._images.values())

    def _read(self, src: str, cid: str) -> InlineImage:
        bundle = self.bundle
        relative = PurePosixPath(src)
        if relative.parts[:1] != (ASSETS_DIR,):  # validation refuses these; never trust it here
            raise BuildError(f"issues/{bundle.slug}: image '{src}' is not a file in {ASSETS_DIR}/")
        try:  # through no link: the bundle may have changed since it was validated (the preview)
            data = read_bundle_file(bundle.path, relative, MAX_ASSET_BYTES)
        except UnsafeFile as exc:
            raise BuildError(f"issues/{bundle.slug}: image '{src}' cannot be used: {exc.message}") from None
        subtype, (width, height) = image_info(data, src)
        shown = min(width, CONTENT_WIDTH)
        return InlineImage(cid, data, subtype, shown, round(height * shown / width), relative.as_posix())


class EmailRenderer(HtmlRenderer):
    """Markdown -> email HTML: a callout is a one-cell table, an image its inline part at the size
    the email shows it (no wider than the column), so that no client needs CSS to lay them out; a
    figure a box with its caption, a table of data one with a class that email.css styles cell by cell."""

    def __init__(
        self,
        cite: Cite,
        callout_labels: dict[str, str],
        images: IssueImages,
        figures: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(cite, callout_labels, figures)
        self.images = images

    def callout_open(self, kind: str, label: str) -> str:
        return (
            f'<table role="presentation" class="callout callout-{html.escape(kind)}" width="100%"'
            ' cellpadding="0" cellspacing="0" border="0"><tr><td class="callout-body" role="note">'
            f'<p class="callout-label">{html.escape(label)}:</p>\n'
        )

    def callout_close(self) -> str:
        return "</td></tr></table>\n"

    def figure_open(self, number: int) -> str:
        return '<div class="figure-box">'

    def figure_close(self, number: int, caption: str) -> str:
        return (
            f'<p class="figure-caption"><strong class="figure-number">Figure {number}.</strong> '
            f"{_attribute(caption)}</p></div>\n"
        )

    def table_open(self) -> str:
        # A table of data: no role="presentation" (its <th> say so); the width lets it fill the column
        # where no CSS is read, and email.css lets its cells wrap so that it never widens a phone.
        return '<table class="data" width="100%" cellpadding="0" cellspacing="0" border="0">\n'

    def code_block(self, text: str) -> str:
        # Not a <pre>: Outlook for Windows knows no white-space: pre-wrap, so a long line of a <pre>
        # would widen the email there (checks/email_compat.py refuses it). Each line ends in a <br> and
        # keeps its indentation as no-break spaces, and the block wraps like text in every client.
        lines = []
        for line in text.rstrip("\n").expandtabs(4).split("\n"):
            body = line.lstrip(" ")
            lines.append("&nbsp;" * (len(line) - len(body)) + html.escape(body, quote=False))
        return '<p class="code">' + "<br>\n".join(lines) + "</p>\n"

    def image(self, src: str, alt: str, title: str | None) -> str:
        shown = self.images(src)
        extra = "" if title is None else f' title="{_attribute(title)}"'
        # The width attribute sizes it where CSS is not read (Outlook); the style lets it shrink with
        # the column, also when it is blocked or missing: then it is no longer an image but a box of
        # alt text, whose fixed width would stretch the table cell around it past a phone's screen.
        return (
            f'<img class="figure" src="{shown.src}" width="{shown.width}" height="{shown.height}"'
            f' style="width: 100%; max-width: {shown.width}px;" alt="{_attribute(alt)}"{extra}>'
        )


def _attribute(value: str) -> str:
    """Escaped as markdown-it escapes attributes, so that the email's <img> reads like the page's."""
    return str(escapeHtml(value))
