"""Disk -> plain data that remembers file:line:col for every key and value.

YAML is read strictly: every scalar stays the text the author typed (no YAML 1.1 guessing that
turns `NO` into False or `01234` into 1234), duplicate keys, anchors, aliases and tags are errors,
one document per file, UTF-8 only. Typing (numbers, dates, booleans) happens in the schema, which
can then say exactly what it expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import BaseConstructor
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

try:
    from yaml._yaml import CParser

    HAVE_LIBYAML = True
except ImportError:  # PyYAML built without libyaml: the pure-Python parser does everything
    HAVE_LIBYAML = False

from tablet_press.bundle.safefile import MAX_TEXT_BYTES, UnsafeFile, read_bundle_file, read_named_file
from tablet_press.errors import Problem
from tablet_press.inputrules import CONTROL as _CONTROL
from tablet_press.inputrules import CONTROL_HINT, MAX_NESTING

Path_ = tuple[str | int, ...]
_NULLS = {"", "~", "null", "Null", "NULL"}


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    col: int  # 1-based


@dataclass
class Located:
    """A loaded YAML file: its data, and where every key and value stands."""

    file: str
    data: Any
    values: dict[Path_, Mark] = field(default_factory=dict)
    keys: dict[Path_, Mark] = field(default_factory=dict)
    # For block scalars (`|`, `>`): the line their text starts on, to place problems inside them.
    text_start: dict[Path_, int] = field(default_factory=dict)
    literal: set[Path_] = field(default_factory=set)  # block scalars written with `|`
    # Where each plain (unquoted, unfolded) scalar ends: a '#' after it on the line starts a comment
    # that silently cut the text short (lint's comment-in-text check looks there).
    plain_end: dict[Path_, Mark] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    root: str = ""  # names a file whose top level is a bare list, for field paths like references[2].id

    def text_position(self, path: Path_, line: int, col: int) -> Mark:
        """Where (line, col) of the text of the scalar at `path` stands in the file.

        A literal block (`|`) keeps its lines. Folded blocks (`>`) and plain or quoted scalars join
        their source lines with spaces and turn each blank source line into a line break, so the
        position is found by walking the source lines the same way."""
        start = self.text_start.get(path)
        if start is not None and path in self.literal:
            source = self.lines[start + line - 2] if start + line - 2 < len(self.lines) else ""
            return Mark(start + line - 1, len(source) - len(source.lstrip(" ")) + col)
        if start is None:
            mark = self.mark(path)
            first = self.lines[mark.line - 1] if mark.line <= len(self.lines) else ""
            quoted = mark.col <= len(first) and first[mark.col - 1] in "'\""
            start, first_col = mark.line, mark.col + int(quoted)
        else:
            first_col = 0  # a block's lines all start after their indentation
        value_line, offset = 1, 0
        for number in range(start, len(self.lines) + 1):
            source = self.lines[number - 1]
            begin = first_col - 1 if number == start and first_col else len(source) - len(source.lstrip(" "))
            text = source[begin:].rstrip()
            if not text:
                value_line, offset = value_line + 1, 0
                continue
            if value_line == line and col - offset <= len(text):
                return Mark(number, begin + col - offset)
            if value_line > line:
                break
            offset += len(text) + 1  # the space that joins this line to the next
        return self.mark(path)

    def mark(self, path: Path_, *, key: bool = False) -> Mark:
        """The closest known position to `path` (walking up to the parent when needed)."""
        table = self.keys if key else self.values
        for cut in range(len(path), -1, -1):
            prefix = path[:cut]
            if prefix in table:
                return table[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return Mark(1, 1)

    def problem(
        self,
        path: Path_,
        message: str,
        *,
        key: bool = False,
        hint: str = "",
        severity: str = "error",
        field: Path_ | None = None,
    ) -> Problem:
        """A problem placed at `path` (or its nearest known parent), naming `field` (default: path)."""
        m = self.mark(path, key=key)
        named = path if field is None else field
        shown = dotted((self.root, *named) if self.root else named)
        return Problem(self.file, m.line, m.col, message, shown, severity, hint)  # type: ignore[arg-type]


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class _StrictComposer(Composer):
    """Refuses anchors, aliases and tags: a newsletter needs none, and they hide bombs and objects.
    Refuses nesting deeper than MAX_NESTING too: PyYAML composes (and _convert converts) by recursion,
    so a thousand `[` would otherwise end in a RecursionError instead of a located error."""

    _depth: int = 0  # collections open around the node being composed

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[attr-defined]  # mixed in from Parser
        if isinstance(event, AliasEvent):
            raise _Refused(event.start_mark, "YAML aliases (*name) are not allowed; write the value out")
        if isinstance(event, ScalarEvent | CollectionStartEvent):
            if event.anchor is not None:
                raise _Refused(event.start_mark, "YAML anchors (&name) are not allowed; write the value out")
            if event.tag not in (None, "!"):
                tag = event.tag.replace("tag:yaml.org,2002:", "!!")
                raise _Refused(
                    event.start_mark,
                    f"YAML tags like '{tag}' are not allowed; put the value in quotes if it is text",
                )
        if not isinstance(event, CollectionStartEvent):
            return super().compose_node(parent, index)
        if self._depth >= MAX_NESTING:
            raise _Refused(
                event.start_mark,
                f"lists and mappings are nested more than {MAX_NESTING} levels deep; no field needs so many",
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Loader(Reader, Scanner, Parser, _StrictComposer, BaseConstructor, BaseResolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _StrictComposer.__init__(self)
        BaseConstructor.__init__(self)
        BaseResolver.__init__(self)


if HAVE_LIBYAML:

    class _FastLoader(_StrictComposer, CParser, BaseConstructor, BaseResolver):
        """The same composer over libyaml's parser, about ten times faster than the pure-Python one."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _StrictComposer.__init__(self)
            BaseConstructor.__init__(self)
            BaseResolver.__init__(self)


def _compose(text: str) -> Node | None:
    """The document's node tree. libyaml reads well-formed text; anything it refuses is read again by
    the pure-Python parser, whose messages and positions every error report uses. The two agree on
    every tree both accept (tests/test_properties.py compares them); libyaml also accepts a few
    tabs between tokens that the pure-Python parser refuses."""
    if HAVE_LIBYAML and not Reader.NON_PRINTABLE.search(text):
        fast = _FastLoader(text)
        try:
            return fast.get_single_node()
        except (yaml.YAMLError, _Refused):
            pass
        finally:
            fast.dispose()
    loader = _Loader(text)  # the reader refuses control characters here, before parsing
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


class _Refused(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        self.mark = mark
        self.message = message


def read_text(path: Path, shown: str, within: Path | None = None) -> tuple[str | None, list[Problem]]:
    """A source file as text: UTF-8 (a BOM is fine), size-limited, else one clear problem.

    `within` is the bundle folder when the file is one of a bundle's: then no link is followed."""
    try:
        if within is None:
            raw = read_named_file(path, MAX_TEXT_BYTES)
        else:
            raw = read_bundle_file(within, path.relative_to(within).as_posix(), MAX_TEXT_BYTES)
    except UnsafeFile as exc:
        return None, [Problem(shown, 1, 1, exc.message, hint=exc.hint)]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, [
            Problem(
                shown,
                line,
                col,
                f"file is not UTF-8 (byte 0x{raw[exc.start]:02x})",
                hint="save it as UTF-8 in your editor",
            )
        ]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    bad = _CONTROL.search(text)
    if bad and not path.suffix.startswith(".y"):  # YAML reports its own, with the field
        head = text[: bad.start()]
        line, col = head.count("\n") + 1, bad.start() - (head.rfind("\n") + 1) + 1
        return None, [
            Problem(
                shown,
                line,
                col,
                f"text contains the control character {bad.group()!r}",
                hint="remove it; it can corrupt terminals and outputs",
            )
        ]
    return text, []


_HINTS = {
    "found character '\\t' that cannot start any token": "indent with spaces, not tabs",
    "mapping values are not allowed here": "a value containing ': ' must be put in quotes",
    "found unexpected end of stream": "a quote was opened but never closed",
}


def load_yaml(path: Path, shown: str, within: Path | None = None) -> tuple[Located | None, list[Problem]]:
    """Load one YAML file strictly. Returns (data, problems); data is None when unusable.

    `within`: the bundle folder, for a bundle's file (see read_text)."""
    text, problems = read_text(path, shown, within)
    if text is None:
        return None, problems
    try:
        node = _compose(text)
    except _Refused as exc:
        return None, [Problem(shown, exc.mark.line + 1, exc.mark.column + 1, exc.message)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML syntax error: {exc.problem or exc.context}"
        if exc.context and exc.problem and "expected a single document" not in exc.context:
            began = exc.context_mark
            at = ""
            if began is not None and mark is not None and began.line != mark.line:
                at = f" that began at line {began.line + 1}, column {began.column + 1}"
            message += f" ({exc.context}{at})"
        if exc.context and "expected a single document" in exc.context:
            message = "only one YAML document is allowed per file (remove the extra '---')"
        hint = next((h for k, h in _HINTS.items() if k in str(exc.problem)), "")
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [Problem(shown, line, col, message, hint=hint)]
    except yaml.YAMLError as exc:  # ReaderError: control characters and the like
        offset: int = getattr(exc, "position", 0)
        before = text[:offset]
        line, col = before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1
        char = chr(getattr(exc, "character", 0))
        return None, [
            Problem(
                shown,
                line,
                col,
                f"character {char!r} is not allowed in YAML",
                hint="remove the invisible control character",
            )
        ]
    located = Located(shown, None, lines=text.split("\n"))
    if node is None:
        located.data = {}
        return located, []
    located.data = _convert(node, (), located, problems)
    return located, problems


def _mark(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def _convert(node: Node, path: Path_, out: Located, problems: list[Problem]) -> Any:
    out.values[path] = _mark(node)
    if isinstance(node, ScalarNode):
        value: str = node.value
        if not node.style and value in _NULLS:  # plain: None from PyYAML, "" from libyaml
            return None
        if not node.style:
            out.plain_end[path] = Mark(node.end_mark.line + 1, node.end_mark.column + 1)
        if node.style in ("|", ">"):
            out.text_start[path] = node.start_mark.line + 2
            if node.style == "|":
                out.literal.add(path)
        _check_control(value, path, out, problems)
        return value
    if isinstance(node, SequenceNode):
        return [_convert(item, (*path, i), out, problems) for i, item in enumerate(node.value)]
    assert isinstance(node, MappingNode)
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            problems.append(Problem(out.file, *_pos(key_node), "a key must be plain text", dotted(path)))
            continue
        key = key_node.value
        if key in result:
            first = out.keys[(*path, key)]
            problems.append(
                Problem(
                    out.file,
                    *_pos(key_node),
                    f"duplicate key '{key}' (first defined on line {first.line})",
                    dotted((*path, key)),
                )
            )
            continue
        out.keys[(*path, key)] = _mark(key_node)
        _check_control(key, (*path, key), out, problems, key=True)
        result[key] = _convert(value_node, (*path, key), out, problems)
    return result


def _check_control(
    text: str, path: Path_, out: Located, problems: list[Problem], *, key: bool = False
) -> None:
    """The control-character rule (inputrules.CONTROL) for one key or value, placed at it."""
    bad = _CONTROL.search(text)
    if bad:
        what = "key" if key else "text"
        message = f"{what} contains the control character {bad.group()!r}"
        problems.append(out.problem(path, message, key=key, hint=CONTROL_HINT))


def _pos(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1
