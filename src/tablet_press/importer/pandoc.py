"""The draft through pandoc's docx reader (its JSON AST), and pandoc's blocks and inlines as the
bundle's markdown: bold, italics, links, lists, pipe tables, images (to assets/, with their alt text)
and footnotes (as numbered notes, since the bundle's markdown has none)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tablet_press.errors import BuildError

Node = dict[str, Any]
TIMEOUT = 120  # seconds for pandoc on one draft
_ESCAPE = re.compile(r"([\\*_`\[\]<])")
IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".svg")


def read_docx(path: Path, media: Path) -> tuple[list[Node], dict[str, Any]]:
    """pandoc's blocks and metadata of the draft; images are extracted under `media`."""
    pandoc = shutil.which("pandoc")
    if pandoc is None:
        raise BuildError(
            "tablet import needs pandoc: install it (apt install pandoc, or brew install pandoc)"
        )
    try:
        done = subprocess.run(
            [
                pandoc,
                "--from=docx",
                "--to=json",
                "--track-changes=accept",
                f"--extract-media={media}",
                str(path),
            ],
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BuildError(
            f"pandoc took more than {TIMEOUT} s to read the draft; is it a real Word file?"
        ) from None
    if done.returncode != 0:
        raise BuildError(f"pandoc could not read the draft: {done.stderr.decode(errors='replace').strip()}")
    ast = json.loads(done.stdout)
    return list(ast["blocks"]), dict(ast.get("meta", {}))


@dataclass
class Markdown:
    """Turns pandoc nodes into markdown; collects the images to copy and the footnotes met."""

    media: Path
    images: dict[str, bytes] = field(default_factory=dict)  # assets/ name -> bytes
    skipped: list[str] = field(default_factory=list)  # what could not be carried, with its text
    notes: list[str] = field(default_factory=list)  # footnote texts, numbered from 1 in order

    def plain(self, inlines: list[Node]) -> str:
        """The text of inlines, no markup."""
        return _plain(inlines).strip()

    def inlines(self, nodes: list[Node]) -> str:
        out = ""
        for node in nodes:
            piece = self._inline(node)
            if node["t"] == "Note" and out[-1:] in (".", ",", ";", ":", "!", "?"):
                out = out[:-1] + piece + out[-1]  # "pain (note 1)." rather than "pain. (note 1)"
            else:
                out += piece
        return out.strip()

    def _inline(self, node: Node) -> str:
        kind, c = node["t"], node.get("c", [])
        if kind == "Str":
            return _ESCAPE.sub(r"\\\1", str(c))
        if kind in ("Space", "SoftBreak", "LineBreak"):
            return " "
        if kind == "Emph":
            return _wrap("*", self.inlines(c))
        if kind == "Strong":
            return _wrap("**", self.inlines(c))
        if kind in ("Underline", "SmallCaps", "Strikeout", "Superscript", "Subscript"):
            return "".join(self._inline(n) for n in c)
        if kind in ("Span", "Cite"):
            return (
                "".join(self._inline(n) for n in c[1] if kind == "Span")
                if kind == "Span"
                else "".join(self._inline(n) for n in c[1])
            )
        if kind == "Quoted":
            left, right = ("“", "”") if c[0]["t"] == "DoubleQuote" else ("‘", "’")
            return left + "".join(self._inline(n) for n in c[1]) + right
        if kind == "Code":
            return f"`{c[1]}`"
        if kind == "Math":
            return _ESCAPE.sub(r"\\\1", c[1])
        if kind == "Link":
            text, url = self.inlines(c[1]), c[2][0]
            return text if url in ("", "#") or url.startswith("#") else f"[{text or url}]({url})"
        if kind == "Image":
            return self._image(c)
        if kind == "Note":
            self.notes.append(" ".join(self.block(b) for b in c))
            return f" (note {len(self.notes)})"
        if kind == "RawInline":
            self.skipped.append(f"raw {c[0]} text '{c[1]}'")
            return ""
        self.skipped.append(f"an inline {kind}")
        return ""

    def _image(self, c: list[Any]) -> str:
        alt = self.plain(c[1])
        source = Path(c[2][0])
        if source.suffix.lower() not in IMAGE_TYPES or not source.is_file():
            self.skipped.append(f"image {source.name} ({alt or 'no alt text'}): not a PNG, JPEG, GIF or SVG")
            return ""
        name = f"figure-{len(self.images) + 1}{source.suffix.lower()}"
        self.images[name] = source.read_bytes()
        if not alt:
            self.skipped.append(f"image {name} has no alt text in Word; write one in the markdown")
        return f"![{alt}](assets/{name})"

    def block(self, node: Node, indent: str = "") -> str:
        kind, c = node["t"], node.get("c", [])
        if kind in ("Para", "Plain"):
            return self.inlines(c)
        if kind == "Header":
            return "**" + self.inlines(c[2]) + "**"
        if kind == "BulletList":
            return "\n".join(self._item("- ", item, indent) for item in c)
        if kind == "OrderedList":
            return "\n".join(self._item(f"{i}. ", item, indent) for i, item in enumerate(c[1], c[0][0]))
        if kind == "Table":
            return self.table(node)
        if kind == "BlockQuote":
            return "\n".join("> " + line for b in c for line in self.block(b).splitlines())
        if kind == "Div":
            return "\n\n".join(self.block(b, indent) for b in c[1])
        if kind == "LineBlock":
            return "\n".join(self.inlines(line) for line in c)
        if kind == "HorizontalRule":
            return "---"
        if kind == "CodeBlock":
            return "```\n" + str(c[1]) + "\n```"
        self.skipped.append(f"a {kind} block")
        return ""

    def _item(self, marker: str, blocks: list[Node], indent: str) -> str:
        inner = indent + " " * len(marker)
        parts = [self.block(b, inner) for b in blocks]
        text = f"\n{inner}".join(p.replace("\n", "\n" + inner) for p in parts if p)
        return indent + marker + text

    def rows(self, node: Node) -> list[list[str]]:
        """A table's rows of cell markdown: the head's rows first, then each body's."""
        _, _, _, head, bodies, foot = node["c"]
        rows: list[list[Any]] = list(head[1])
        for body in bodies:
            rows += body[2] + body[3]
        rows += foot[1]
        return [
            [" ".join(self.block(b) for b in cell[4]).replace("|", "\\|") for cell in row[1]] for row in rows
        ]

    def table(self, node: Node) -> str:
        rows = self.rows(node)
        if not rows:
            return ""
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(lines)


def _wrap(mark: str, text: str) -> str:
    return f"{mark}{text}{mark}" if text else ""


def _plain(nodes: list[Node]) -> str:
    out = []
    for node in nodes:
        kind, c = node["t"], node.get("c", [])
        if kind == "Str":
            out.append(str(c))
        elif kind in ("Space", "SoftBreak"):
            out.append(" ")
        elif kind == "LineBreak":
            out.append("\n")
        elif kind in ("Emph", "Strong", "Underline", "SmallCaps", "Strikeout", "Superscript", "Subscript"):
            out.append(_plain(c))
        elif kind in ("Span", "Cite", "Link", "Quoted"):
            out.append(_plain(c[1]))
        elif kind in ("Code", "Math"):
            out.append(str(c[1]))
    return "".join(out)


def lines(nodes: list[Node]) -> list[list[Node]]:
    """Inlines split at line breaks (Shift+Enter in Word)."""
    out: list[list[Node]] = [[]]
    for node in nodes:
        if node["t"] == "LineBreak":
            out.append([])
        else:
            out[-1].append(node)
    return [line for line in out if _plain(line).strip()]


def strong_lead(nodes: list[Node]) -> tuple[str, list[Node]]:
    """The bold text a paragraph opens with ("Background:"), and the inlines after it."""
    i = 0
    lead = []
    while i < len(nodes) and nodes[i]["t"] in ("Strong", "Space"):
        if nodes[i]["t"] == "Strong":
            lead.append(_plain(nodes[i]["c"]))
        else:
            lead.append(" ")
        i += 1
    return "".join(lead).strip(), nodes[i:]
