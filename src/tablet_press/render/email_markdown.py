"""The pharmacist's markdown as email HTML: callouts as tables, images as inline cid: parts.

Mail clients are not browsers: Outlook on Windows draws no box around an <aside>, Gmail drops in-page
(#) links, and an email cannot reach the files beside it. So the email's fragments are rendered from
the same markdown tokens as the page's, with this module's markup (citations come unlinked from the
citation engine, Bibliography.cite_unlinked), never by rewriting the page's HTML.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote

from markdown_it.common.utils import escapeHtml

from tablet_press.bundle.folder import ASSETS_DIR, Bundle
from tablet_press.bundle.markdown import Cite, HtmlRenderer
from tablet_press.bundle.safefile import MAX_ASSET_BYTES, UnsafeFile, read_bundle_file
from tablet_press.errors import BuildError

CONTENT_WIDTH = 552  # the 600px container less its side padding: the widest an issue image is shown


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
        return InlineImage(cid, data, subtype, shown, round(height * shown / width))


class EmailRenderer(HtmlRenderer):
    """Markdown -> email HTML: a callout is a one-cell table, an image its inline part at the size
    the email shows it (no wider than the column), so that no client needs CSS to lay them out."""

    def __init__(self, cite: Cite, callout_labels: dict[str, str], images: IssueImages) -> None:
        super().__init__(cite, callout_labels)
        self.images = images

    def callout_open(self, kind: str, label: str) -> str:
        return (
            f'<table role="presentation" class="callout callout-{html.escape(kind)}" width="100%"'
            ' cellpadding="0" cellspacing="0" border="0"><tr><td class="callout-body" role="note">'
            f'<p class="callout-label">{html.escape(label)}:</p>\n'
        )

    def callout_close(self) -> str:
        return "</td></tr></table>\n"

    def image(self, src: str, alt: str, title: str | None) -> str:
        shown = self.images(src)
        extra = "" if title is None else f' title="{_attribute(title)}"'
        return (
            f'<img class="figure" src="{shown.src}" width="{shown.width}" height="{shown.height}"'
            f' alt="{_attribute(alt)}"{extra}>'
        )


def _attribute(value: str) -> str:
    """Escaped as markdown-it escapes attributes, so that the email's <img> reads like the page's."""
    return str(escapeHtml(value))
