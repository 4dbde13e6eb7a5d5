"""Markdown -> safe HTML, with callouts (`::: pearl`) and citations (`[@key]`); and the facts
(citations, callouts, images, links, raw HTML) that validation checks, each with its line and column.

Raw HTML never passes through: validation reports it, and the renderer escapes it anyway.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.container import container_plugin

CITE_KEY = r"[A-Za-z0-9][A-Za-z0-9_.:-]*"
_CITATION = re.compile(rf"\[(@{CITE_KEY}(?:\s*;\s*@{CITE_KEY})*)\]")
ALLOWED_SCHEMES = ("https:", "http:", "mailto:", "tel:")
# markdown-it's own limit; content nested deeper is dropped by it, so deeper input is refused.
MAX_NESTING = 20

Cite = Callable[[list[str]], str]


@dataclass(frozen=True)
class Found:
    """Something in a markdown text, where it stands (1-based, relative to the text)."""

    kind: str  # citation | callout | image | link | html | nesting
    value: str
    line: int
    col: int


@dataclass
class Facts:
    citations: list[Found] = field(default_factory=list)
    callouts: list[Found] = field(default_factory=list)
    images: list[Found] = field(default_factory=list)
    links: list[Found] = field(default_factory=list)
    raw_html: list[Found] = field(default_factory=list)
    too_deep: list[Found] = field(default_factory=list)


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
    md.validateLink = _validate_link  # type: ignore[method-assign]
    md.add_render_rule("citation", _render_citation)
    md.add_render_rule("html_inline", _render_html)
    md.add_render_rule("html_block", _render_html)
    md.add_render_rule("container_callout_open", _render_callout_open)
    md.add_render_rule("container_callout_close", _render_callout_close)
    return md


def parse(text: str) -> list[Token]:
    return _parser().parse(text)


def _walk(tokens: Sequence[Token]) -> list[tuple[Token, int]]:
    """Every token with the 0-based source line it starts on (inline children inherit)."""
    out: list[tuple[Token, int]] = []
    for token in tokens:
        line = token.map[0] if token.map else 0
        out.append((token, line))
        for child in token.children or []:
            out.append((child, line))
    return out


def scan(text: str) -> Facts:
    """Citations, callouts, images, links and raw HTML of a markdown text, with positions."""
    facts = Facts()
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
                facts.citations.append(Found("citation", key, *locate("@" + key, line)))
        elif token.type == "container_callout_open":
            kind = token.info.strip().split()[0]
            facts.callouts.append(Found("callout", kind, line + 1, 1))
        elif token.type == "image":
            src = str(token.attrs.get("src", ""))
            facts.images.append(Found("image", src, *locate(src, line)))
        elif token.type == "link_open":
            href = str(token.attrs.get("href", ""))
            facts.links.append(Found("link", href, *locate(href, line)))
        elif token.type in ("html_inline", "html_block"):
            facts.raw_html.append(
                Found("html", token.content.strip(), *locate(token.content.strip()[:20], line))
            )
    # Links markdown-it refused (javascript:, data:, ...) stay as text; report them from the source.
    for number, source in enumerate(lines):
        for match in re.finditer(r"\]\(\s*<?([^)\s>]+)", source):
            if not _validate_link(match.group(1)):
                facts.links.append(Found("link", match.group(1), number + 1, match.start(1) + 1))
    if _too_deep(tokens):
        facts.too_deep.append(Found("nesting", str(MAX_NESTING), 1, 1))
    return facts


def _too_deep(tokens: Sequence[Token]) -> bool:
    return any(t.level >= MAX_NESTING - 1 for t in tokens)


class _Renderer:
    """Turns the token stream into HTML: escaped raw HTML, callout boxes, citations via `cite`."""

    def __init__(self, cite: Cite, callout_labels: dict[str, str]) -> None:
        self.cite = cite
        self.labels = callout_labels

    def render(self, text: str, *, inline: bool = False) -> str:
        md = _parser()
        tokens = md.parseInline(text) if inline else md.parse(text)
        return str(md.renderer.render(tokens, md.options, {"renderer": self}))


def _render_citation(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    return str(env["renderer"].cite(tokens[idx].meta["keys"]))


def _render_html(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    return html.escape(tokens[idx].content)


def _render_callout_open(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    kind = tokens[idx].info.strip().split()[0]
    label = env["renderer"].labels.get(kind, kind.upper())
    return (
        f'<aside class="callout callout-{html.escape(kind)}" role="note">'
        f'<p class="callout-label">{html.escape(label)}:</p>\n'
    )


def _render_callout_close(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    return "</aside>\n"


def renderer(cite: Cite, callout_labels: dict[str, str]) -> _Renderer:
    return _Renderer(cite, callout_labels)
