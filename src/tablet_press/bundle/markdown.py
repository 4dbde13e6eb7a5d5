"""Markdown -> safe HTML, with callouts (`::: pearl`), citations (`[@key]`), numbered figures and
tables; and the facts (citations, callouts, images, figures, links, raw HTML) that validation checks,
each with its line and column.

A figure is an image alone in its paragraph with a caption as its title:
`![what it shows](assets/chart.png "Mean pain score by week")`. The alt text describes the image for
who cannot see it; the caption is printed under it as "Figure 1. Mean pain score by week", numbered in
reading order (the renderers are told the number of each text's first figure).

Raw HTML never passes through: validation reports it, and the renderer escapes it anyway.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, cast

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.container import container_plugin

from tablet_press.bundle.texttable import text_table

CITE_KEY = r"[A-Za-z0-9][A-Za-z0-9_.:-]*"
_CITATION = re.compile(rf"\[(@{CITE_KEY}(?:\s*;\s*@{CITE_KEY})*)\]")
ALLOWED_SCHEMES = ("https:", "http:", "mailto:", "tel:")
# A link or image destination in the source: <anything> or a run with one level of balanced brackets.
_DESTINATION = re.compile(
    r"(?P<bang>!?)\[[^\]]*\]\(\s*(?:<(?P<angle>[^>\n]*)>|(?P<bare>(?:[^()\s]|\([^()\s]*\))+))"
)
# markdown-it's own limit; content nested deeper is dropped by it, so deeper input is refused.
MAX_NESTING = 20

Cite = Callable[[list[str]], str]


@dataclass(frozen=True)
class Found:
    """Something in a markdown text, where it stands (1-based, relative to the text)."""

    kind: str  # citation | callout | image | figure | link | html | nesting
    value: str
    line: int
    col: int


@dataclass(frozen=True)
class Facts:
    citations: tuple[Found, ...]
    callouts: tuple[Found, ...]
    images: tuple[Found, ...]
    figures: tuple[Found, ...]  # value: the caption
    links: tuple[Found, ...]
    raw_html: tuple[Found, ...]
    too_deep: tuple[Found, ...]


def _citation_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "[":
        return False
    match = _CITATION.match(state.src, state.pos)
    if not match:
        return False
    if not silent:
        token = state.push("citation", "", 0)
        token.meta = {"keys": [k.strip().lstrip("@") for k in match.group(1).split(";")]}
        token.content = match.group(0)
    state.pos = match.end()
    return True


def _figure_rule(state: StateCore) -> None:
    """A paragraph holding one image with a title, and nothing else, becomes a figure: its paragraph
    tokens turn into figure_open / figure_close, carrying the caption (the title) in meta."""
    tokens = state.tokens
    for i in range(len(tokens) - 2):
        opening, inline, closing = tokens[i : i + 3]
        if opening.type != "paragraph_open" or opening.hidden or inline.type != "inline":
            continue
        children = [c for c in inline.children or [] if not (c.type == "text" and not c.content.strip())]
        if len(children) != 1 or children[0].type != "image":
            continue
        caption = str(children[0].attrs.get("title") or "").strip()
        if caption:
            opening.type, closing.type = "figure_open", "figure_close"
            opening.tag = closing.tag = "figure"
            opening.meta = closing.meta = {"caption": caption}


def _validate_link(url: str) -> bool:
    """Allow-list of link schemes; relative URLs (bundle assets) are checked by validation."""
    lowered = re.sub(r"[\x00-\x20]", "", html.unescape(url)).lower()
    if ":" not in lowered.split("/")[0]:
        return True
    return lowered.startswith(ALLOWED_SCHEMES) or lowered.startswith("file:")  # file: reported, never fetched


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING})
    md.enable(["table", "strikethrough"])
    md.use(container_plugin, name="callout", validate=lambda params, *a: bool(params.strip()))
    md.inline.ruler.before("link", "citation", _citation_rule)
    md.core.ruler.push("figure", _figure_rule)
    md.validateLink = _validate_link  # type: ignore[method-assign]
    md.add_render_rule("citation", _render_citation)
    md.add_render_rule("text", _render_text)
    md.add_render_rule("softbreak", _render_softbreak)
    md.add_render_rule("html_inline", _render_html)
    md.add_render_rule("html_block", _render_html)
    md.add_render_rule("container_callout_open", _render_callout_open)
    md.add_render_rule("container_callout_close", _render_callout_close)
    md.add_render_rule("image", _render_image)
    md.add_render_rule("figure_open", _render_figure_open)
    md.add_render_rule("figure_close", _render_figure_close)
    md.add_render_rule("table_open", _render_table_open)
    md.add_render_rule("code_block", _render_code_block)
    md.add_render_rule("fence", _render_code_block)
    return md


# A build reads each text several times (validation, house style, citation order, HTML, plain text):
# it is parsed once. Tokens can be changed (markdown-it's image rule sets an image's alt attribute
# while rendering), so each caller gets its own copy, made in about a third of a parse's time.
def parse(text: str) -> tuple[Token, ...]:
    return _copied(_parsed(text))


def parse_inline(text: str) -> tuple[Token, ...]:
    return _copied(_parsed_inline(text))


@lru_cache(maxsize=4096)
def _parsed(text: str) -> tuple[Token, ...]:
    return tuple(_parser().parse(text))


@lru_cache(maxsize=4096)
def _parsed_inline(text: str) -> tuple[Token, ...]:
    return tuple(_parser().parseInline(text))


def _copied(tokens: Sequence[Token]) -> tuple[Token, ...]:
    """The tokens with their own attrs, meta and children: nothing a caller changes reaches the memo."""
    return tuple(
        token.copy(
            attrs=dict(token.attrs),
            meta=dict(token.meta),
            map=list(token.map) if token.map is not None else None,
            children=list(_copied(token.children)) if token.children is not None else None,
        )
        for token in tokens
    )


def _walk(tokens: Sequence[Token]) -> list[tuple[Token, int]]:
    """Every token with the 0-based source line it starts on (inline children inherit)."""
    out: list[tuple[Token, int]] = []
    for token in tokens:
        line = token.map[0] if token.map else 0
        out.append((token, line))
        for child in token.children or []:
            out.append((child, line))
    return out


@lru_cache(maxsize=4096)
def scan(text: str) -> Facts:
    """Citations, callouts, images, links and raw HTML of a markdown text, with positions."""
    found: dict[str, list[Found]] = {name: [] for name in Facts.__dataclass_fields__}
    lines = text.split("\n")

    def locate(needle: str, start: int) -> tuple[int, int]:
        for number in range(start, len(lines)):
            col = lines[number].find(needle)
            if col >= 0:
                return number + 1, col + 1
        return start + 1, 1

    tokens = parse(text)
    for token, line in _walk(tokens):
        if token.type == "citation":
            for key in token.meta["keys"]:
                found["citations"].append(Found("citation", key, *locate("@" + key, line)))
        elif token.type == "container_callout_open":
            kind = token.info.strip().split()[0]
            found["callouts"].append(Found("callout", kind, line + 1, 1))
        elif token.type == "figure_open":
            found["figures"].append(Found("figure", token.meta["caption"], line + 1, 1))
        elif token.type == "image":
            src = str(token.attrs.get("src", ""))
            found["images"].append(Found("image", src, *locate(src, line)))
        elif token.type == "link_open":
            href = str(token.attrs.get("href", ""))
            found["links"].append(Found("link", href, *locate(href, line)))
        elif token.type in ("html_inline", "html_block"):
            found["raw_html"].append(
                Found("html", token.content.strip(), *locate(token.content.strip()[:20], line))
            )
    # Links and images markdown-it refused (javascript:, data:, ...) stay as text; report them from
    # the source so the author learns why.
    for number, source in enumerate(lines):
        for match in _DESTINATION.finditer(source):
            url = match.group("angle") if match.group("angle") is not None else match.group("bare")
            if not _validate_link(url):
                kind = "image" if match.group("bang") else "link"
                column = match.start("angle" if match.group("angle") else "bare") + 1
                found["images" if kind == "image" else "links"].append(Found(kind, url, number + 1, column))
    if _too_deep(tokens):
        found["too_deep"].append(Found("nesting", str(MAX_NESTING), 1, 1))
    return Facts(**{name: tuple(items) for name, items in found.items()})


def _too_deep(tokens: Sequence[Token]) -> bool:
    return any(t.level >= MAX_NESTING - 1 for t in tokens)


class HtmlRenderer:
    """Turns the token stream into HTML: escaped raw HTML, callout boxes, citations via `cite`,
    numbered figures (`figures`: a text -> the number of its first figure; else 1).

    The page's HTML (print and web). Where an output needs other markup for the same text (the email:
    tables for callouts, images by cid:), a subclass overrides callout_open, callout_close, image,
    figure_open, figure_close, table_open and code_block, so that every output is made from the tokens,
    never by rewriting another output's HTML."""

    # Citations are superscripts (numbered styles): the space before "[@key]" is dropped, "text¹".
    tight_citations = False

    def __init__(
        self, cite: Cite, callout_labels: dict[str, str], figures: Mapping[str, int] | None = None
    ) -> None:
        self.cite = cite
        self.labels = callout_labels
        self.figures = figures or {}

    def render(self, text: str, *, inline: bool = False) -> str:
        md = _parser()
        tokens = parse_inline(text) if inline else parse(text)
        env = {"renderer": self, "figure": self.figures.get(text, 1), "in_figure": False}
        return str(md.renderer.render(tokens, md.options, env))

    def callout_open(self, kind: str, label: str) -> str:
        """The start of a callout box, with its label; both arguments are raw text, to be escaped."""
        return (
            f'<aside class="callout callout-{html.escape(kind)}" role="note">'
            f'<p class="callout-label">{html.escape(label)}:</p>\n'
        )

    def callout_close(self) -> str:
        return "</aside>\n"

    def image(self, src: str, alt: str, title: str | None) -> str | None:
        """An image's HTML (src as markdown-it normalised it; alt and title raw), or None for
        markdown-it's own <img src alt title>."""
        return None

    def figure_open(self, number: int) -> str:
        return '<figure class="figure">'

    def figure_close(self, number: int, caption: str) -> str:
        """The caption (raw text, to be escaped) under the figure's image."""
        return (
            f'<figcaption><span class="figure-number">Figure {number}.</span> '
            f"{escapeHtml(caption)}</figcaption></figure>\n"
        )

    def table_open(self) -> str:
        return '<table class="data">\n'

    def code_block(self, text: str) -> str | None:
        """A preformatted block's HTML (its raw text), or None for markdown-it's own <pre><code>."""
        return None


def _render_citation(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    return str(env["renderer"].cite(tokens[idx].meta["keys"]))


def _before_tight_citation(tokens: Sequence[Token], idx: int, env: dict[str, Any]) -> bool:
    following = tokens[idx + 1] if idx + 1 < len(tokens) else None
    return (
        following is not None
        and following.type == "citation"
        and getattr(env.get("renderer"), "tight_citations", False)
    )


def _render_text(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    content = tokens[idx].content
    if _before_tight_citation(tokens, idx, env):
        content = content.rstrip(" \t")
    return escapeHtml(content)


def _render_softbreak(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    return "" if _before_tight_citation(tokens, idx, env) else "\n"


def _render_html(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    return html.escape(tokens[idx].content)


def _render_callout_open(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    kind = tokens[idx].info.strip().split()[0]
    out: HtmlRenderer = env["renderer"]
    return out.callout_open(kind, out.labels.get(kind, kind.upper()))


def _render_callout_close(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    return str(env["renderer"].callout_close())


def _render_image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    token = tokens[idx]
    # A figure's title is its caption, printed under it: not repeated as a tooltip.
    title = None if env["in_figure"] else token.attrs.get("title")
    src, alt = str(token.attrs.get("src", "")), self.renderInlineAsText(token.children or [], options, env)
    shown = env["renderer"].image(src, alt, None if title is None else str(title))
    if shown is not None:
        return str(shown)
    if env["in_figure"]:
        return f'<img src="{escapeHtml(src)}" alt="{escapeHtml(alt)}">'
    return str(self.image(tokens, idx, options, env))


def _render_figure_open(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    env["in_figure"] = True
    return str(env["renderer"].figure_open(env["figure"]))


def _render_figure_close(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    env["in_figure"] = False
    env["figure"] += 1
    return str(env["renderer"].figure_close(env["figure"] - 1, tokens[idx].meta["caption"]))


def _render_table_open(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    return str(env["renderer"].table_open())


def _render_code_block(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    made = env["renderer"].code_block(tokens[idx].content)
    if made is None:  # markdown-it's own rule, still a method of its renderer
        return str(getattr(self, tokens[idx].type)(tokens, idx, options, env))
    return str(made)


def renderer(
    cite: Cite, callout_labels: dict[str, str], figures: Mapping[str, int] | None = None
) -> HtmlRenderer:
    return HtmlRenderer(cite, callout_labels, figures)


class _TextRenderer:
    """The same token stream as plain text: paragraphs, '- ' bullets, 'LABEL: text' callouts,
    links as 'text (address)', figures as '[Figure 1: caption]', tables as text tables (texttable.py).
    Wrapping of the rest is left to the plain-text template."""

    def __init__(
        self, cite: Cite, callout_labels: dict[str, str], figures: Mapping[str, int] | None = None
    ) -> None:
        self.cite = cite
        self.labels = callout_labels
        self.figures = figures or {}

    def render(self, text: str, *, inline: bool = False) -> str:
        if inline:
            return self._inline(parse_inline(text)[0].children or [])
        blocks: list[tuple[str, bool]] = []
        prefix: list[str] = []  # the marker of the current item at each list level ("- ", "2. ")
        numbers: list[int | None] = []  # each level's next number, None in a bullet list
        label = ""
        figure = self.figures.get(text, 1)
        caption: str | None = None
        rows: list[list[str]] | None = None  # the table being read, header row first
        for token in parse(text):
            if token.type == "figure_open":
                caption = token.meta["caption"]
            elif token.type == "figure_close":
                figure, caption = figure + 1, None
            elif token.type == "table_open":
                rows = []
            elif token.type == "tr_open" and rows is not None:
                rows.append([])
            elif token.type == "inline" and rows is not None:
                rows[-1].append(self._inline(token.children or []))
            elif token.type == "table_close" and rows is not None:
                blocks.append((text_table(rows[0], rows[1:]), False))
                rows = None
            elif token.type == "inline" and caption is not None:
                blocks.append((label + f"[Figure {figure}: {caption}]", False))
                label = ""
            elif token.type == "container_callout_open":
                kind = token.info.strip().split()[0]
                label = self.labels.get(kind, kind.upper()) + ": "
            elif token.type == "bullet_list_open":
                prefix.append("- ")
                numbers.append(None)
            elif token.type == "ordered_list_open":
                prefix.append("")
                numbers.append(int(token.attrs.get("start", 1)))
            elif token.type == "list_item_open" and numbers and numbers[-1] is not None:
                prefix[-1] = f"{numbers[-1]}. "  # numbered from the list's start, as the HTML's <ol>
                numbers[-1] += 1
            elif token.type in ("bullet_list_close", "ordered_list_close"):
                prefix.pop()
                numbers.pop()
            elif token.type == "inline":
                lead = ("  " * (len(prefix) - 1) + prefix[-1]) if prefix else ""
                blocks.append((lead + label + self._inline(token.children or []), bool(prefix)))
                label = ""
            elif token.type in ("code_block", "fence", "html_block"):
                blocks.append((token.content.rstrip("\n"), False))
        out = ""
        for i, (block, in_list) in enumerate(blocks):
            if i:
                out += "\n" if in_list and blocks[i - 1][1] else "\n\n"
            out += block
        return out

    def _inline(self, tokens: Sequence[Token]) -> str:
        out: list[str] = []
        links: list[tuple[int, str]] = []
        for token in tokens:
            if token.type in ("text", "code_inline", "html_inline"):
                out.append(token.content)
            elif token.type in ("softbreak", "hardbreak"):
                out.append(" " if token.type == "softbreak" else "\n")
            elif token.type == "citation":
                out.append(self.cite(token.meta["keys"]))
            elif token.type == "link_open":
                links.append((len(out), str(token.attrs.get("href", ""))))
            elif token.type == "link_close" and links:
                start, href = links.pop()
                text = "".join(out[start:])
                del out[start:]
                shown = href.removeprefix("mailto:").removeprefix("tel:")
                out.append(text if shown in text else f"{text} ({href})")
            elif token.type == "image":
                # The description as the HTML's alt has it: markup stripped (CommonMark's rule).
                md = _parser()
                html_renderer = cast(RendererHTML, md.renderer)
                alt = html_renderer.renderInlineAsText(token.children or [], md.options, {})
                out.append(f"[{' '.join(alt.split()) or 'image'}]")
        return "".join(out)


def text_renderer(
    cite: Cite, callout_labels: dict[str, str], figures: Mapping[str, int] | None = None
) -> _TextRenderer:
    return _TextRenderer(cite, callout_labels, figures)
