"""A draft's blocks mapped onto the outline of an issue (bundle/outline.py): the author team and the
title before the first section, each section by its Word heading or its bold label line, Clinical
Pearls bullets and the anecdote, the literature's groups and study blocks, the bottom line, the
reference list and the closing text. Whatever fits nowhere is kept, with its text, as unmapped."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tablet_press.bundle.model import Config
from tablet_press.bundle.outline import CE, OUTLINE, STUDY_FACTS
from tablet_press.importer.citations import ShortCite, parse_shortcite
from tablet_press.importer.pandoc import Markdown, Node, lines, strong_lead

TITLE, AUTHORS = "title", "authors"
CONTACT = {"cell": "cell", "mobile": "cell", "office": "office", "phone": "office", "email": "email"}


def normal(text: str) -> str:
    text = text.replace("’", "'").replace("&", "and").casefold().strip().rstrip(":").strip()
    return " ".join(text.split())


def _labels() -> dict[str, str]:
    """Section labels as a draft may write them -> the outline part (or title/authors) they open."""
    out = {"today's topic": TITLE, "todays topic": TITLE, "topic": TITLE, "author team": AUTHORS}
    for part in OUTLINE:
        # The CE parts come from `ce:` of issue.yaml, never from a draft's prose: a "Learning
        # Objectives" heading in Word is no part of its own (its text stays with the part before).
        if part.heading and part.sources[0].name != CE:
            name = normal(part.heading)
            for form in (name, name.removeprefix("the "), name.split(" and ")[0]):
                out[form] = part.key
    return out


LABELS = _labels()
FACT_LABELS = {normal(label): name for name, label in STUDY_FACTS}


@dataclass
class Study:
    cite: ShortCite | None
    cite_text: str
    title: str | None = None
    summary: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)


@dataclass
class Group:
    indication: str
    studies: list[Study] = field(default_factory=list)
    note: list[str] = field(default_factory=list)


@dataclass
class Draft:
    """The draft, part by part, as markdown; `unmapped` holds everything that found no place."""

    title: str | None = None
    authors: list[dict[str, Any]] = field(default_factory=list)
    prose: dict[str, list[str]] = field(default_factory=dict)
    pearls: list[str] = field(default_factory=list)
    bottom_line: list[str] = field(default_factory=list)
    literature: list[Group] = field(default_factory=list)
    entries: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


_AUTHOR_COLUMNS = {
    "name": "name",
    "author": "name",
    "credentials": "credentials",
    "degrees": "credentials",
    "title": "titles",
    "titles": "titles",
    "position": "titles",
    "affiliation": "titles",
    "title and affiliation": "titles",
    "role": "role",
    "cell": "cell",
    "mobile": "cell",
    "office": "office",
    "phone": "office",
    "contact": "email",
    "email": "email",
    "e-mail": "email",
}


def _cells(table: Node) -> list[list[list[Node]]]:
    """A pandoc table's rows of cells, each cell its blocks: the head's rows, each body's, the foot's."""
    _, _, _, head, bodies, foot = table["c"]
    rows: list[Any] = list(head[1])
    for body in bodies:
        rows += body[2] + body[3]
    rows += foot[1]
    return [[cell[4] for cell in row[1]] for row in rows]


def _inlines(blocks: list[Node]) -> list[Node]:
    out: list[Node] = []
    for block in blocks:
        if block["t"] in ("Para", "Plain"):
            out += block["c"]
    return out


def _flat(blocks: list[Node]) -> list[Node]:
    out: list[Node] = []
    for block in blocks:
        out += _flat(block["c"][1]) if block["t"] == "Div" else [block]
    return out


class Mapper:
    def __init__(self, config: Config, md: Markdown) -> None:
        self.config = config
        self.md = md
        self.draft = Draft()
        self.part: str = AUTHORS
        self.role: str | None = None
        self.callouts = {normal(label): kind for kind, label in config.callouts.items()}
        self.roles: dict[str, str] = {}
        for key, label in config.roles.items():
            for form in (label,) if isinstance(label, str) else (label.one, label.many):
                self.roles[normal(form)] = key

    def run(self, blocks: list[Node], meta: dict[str, Any]) -> Draft:
        if "title" in meta:
            self.draft.title = (
                self.md.plain(meta["title"]["c"]) if meta["title"]["t"] == "MetaInlines" else None
            )
        for block in _flat(blocks):
            self._block(block)
        return self.draft

    # ------------------------------------------------------------------ sections

    def _heading(self, block: Node) -> tuple[str, str, list[Node]] | None:
        """(part, label as written, inlines after the label) when the block opens a section."""
        if block["t"] == "Header":
            text = self.md.plain(block["c"][2])
            return (LABELS[normal(text)], text, []) if normal(text) in LABELS else None
        if block["t"] != "Para":
            return None
        lead, rest = strong_lead(block["c"])
        if lead and normal(lead) in LABELS and (lead.endswith(":") or not rest):
            return LABELS[normal(lead)], lead, rest
        text = self.md.plain(block["c"])
        if text.endswith(":") and normal(text) in LABELS:
            return LABELS[normal(text)], text, []
        return None

    def _block(self, block: Node) -> None:
        heading = self._heading(block)
        if heading is not None:
            self.part, _, rest = heading
            if rest:
                self._block({"t": "Para", "c": rest})
            return
        if self.part == AUTHORS:
            self._author_block(block)
        elif self.part == TITLE:
            if self.draft.title is None and block["t"] in ("Para", "Plain", "Header"):
                inlines = block["c"][2] if block["t"] == "Header" else block["c"]
                self.draft.title = " ".join(self.md.plain(inlines).split())
            else:
                self._unmapped("after the title", block)
        elif self.part == "pearls":
            if block["t"] == "BulletList" and not self.draft.pearls:
                self.draft.pearls = [self._item(item) for item in block["c"]]
            else:
                self._prose("anecdote", block)
        elif self.part == "literature":
            self._literature(block)
        elif self.part == "bottom_line":
            if block["t"] in ("BulletList", "OrderedList") and not self.draft.bottom_line:
                items = block["c"] if block["t"] == "BulletList" else block["c"][1]
                self.draft.bottom_line = [self._item(item) for item in items]
            else:
                self._unmapped("Bottom Line (not a bullet)", block)
        elif self.part == "references":
            self._references(block)
        elif self.part == "closing":
            self._prose("closing", block)
        else:
            self._prose(self.part, block)

    def _item(self, blocks: list[Node]) -> str:
        return " ".join(self.md.block(b) for b in blocks).strip()

    def _unmapped(self, where: str, block: Node) -> None:
        text = self.md.block(block)
        if text.strip():
            self.draft.unmapped.append(f"{where}: {text}")

    def _callout(self, block: Node) -> str | None:
        if block["t"] != "Para":
            return None
        lead, rest = strong_lead(block["c"])
        text = self.md.plain(block["c"])
        label = next(
            (lb for lb in self.callouts if normal(text).startswith(lb + ":") or normal(lead) == lb), None
        )
        if label is None or (normal(lead) != label and ":" not in text):
            return None
        body = (
            self.md.inlines(rest)
            if normal(lead) == label
            else re.sub(r"^\**[^:]*:\**\s*", "", self.md.inlines(block["c"]))
        )
        return f"::: {self.callouts[label]}\n{body}\n:::"

    def _prose(self, name: str, block: Node) -> None:
        text = self._callout(block) or self.md.block(block)
        if text.strip():
            self.draft.prose.setdefault(name, []).append(text)

    # ------------------------------------------------------------------ the author team

    def _author_block(self, block: Node) -> None:
        if block["t"] == "Table":
            self._author_table(block)
            return
        if block["t"] == "Plain":  # a table cell's paragraph
            block = {"t": "Para", "c": block["c"]}
        if block["t"] != "Para":
            self._unmapped("author team", block)
            return
        text = self.md.plain(block["c"])
        if normal(text) in self.roles:
            self.role = self.roles[normal(text)]
            return
        lead, rest = strong_lead(block["c"])
        key = normal(lead)
        if key in CONTACT and self.draft.authors and rest != []:
            contact = self.draft.authors[-1].setdefault("contact", {})
            contact[CONTACT[key]] = self.md.plain(rest).strip()
            return
        if lead and not lead.endswith(":"):
            people = lines(block["c"])
            bold = [self.md.plain(line) for line in people if strong_lead(line)[1] == []]
            while len(bold) > 1 and not bold[0].rstrip().endswith(","):
                bold.pop()
            name_line = " ".join(bold)
            parts = [p.strip() for p in name_line.split(",") if p.strip()]
            person: dict[str, Any] = {"name": parts[0], "credentials": parts[1:], "titles": []}
            person["titles"] = [self.md.plain(line) for line in people[len(bold) :]]
            if self.role:
                person["role"] = self.role
            self.draft.authors.append(person)
            return
        self._unmapped("before the first section (masthead, author team or sidebar)", block)

    def _author_table(self, block: Node) -> None:
        """The author team laid out as a table: with a header row naming its columns (Name,
        Credentials, Title, Affiliation, Role, Cell, Office, Phone, Email), one person a row; else
        each cell read in turn as the team is written in text (a role line, the bold name line, title
        lines, "Email:" lines), so one person a cell, or one a row across cells, both come in."""
        rows = _cells(block)
        columns = (
            [_AUTHOR_COLUMNS.get(normal(self.md.plain(_inlines(cell)))) for cell in rows[0]] if rows else []
        )
        if rows and "name" in columns:
            for row in rows[1:]:
                self._author_row(dict(zip(columns, row, strict=False)))
            return
        for row in rows:
            for cell in row:
                for inner in cell:
                    self._author_block(inner)

    def _author_row(self, row: dict[str | None, list[Node]]) -> None:
        def cell_lines(column: str) -> list[str]:
            found = []
            for inner in row.get(column, []):
                if inner["t"] in ("Para", "Plain"):
                    found += [self.md.plain(line).strip() for line in lines(inner["c"])]
            return [line for line in found if line]

        name = " ".join(cell_lines("name"))
        if not name:
            return
        parts = [p.strip() for p in name.split(",") if p.strip()]
        credentials = parts[1:] + [
            c.strip() for c in ",".join(cell_lines("credentials")).split(",") if c.strip()
        ]
        person: dict[str, Any] = {
            "name": parts[0],
            "credentials": credentials,
            "titles": cell_lines("titles"),
        }
        role = " ".join(cell_lines("role"))
        if normal(role) in self.roles:
            person["role"] = self.roles[normal(role)]
        elif self.role:
            person["role"] = self.role
        contact = {}
        for column in ("cell", "office", "email"):
            for line in cell_lines(column):
                label, colon, value = line.partition(":")
                guess = "email" if "@" in line else column if column != "email" else "office"
                key = CONTACT.get(normal(label)) if colon else guess
                if key:
                    contact[key] = (value if colon else line).strip()
        if contact:
            person["contact"] = contact
        self.draft.authors.append(person)

    # ------------------------------------------------------------------ the literature

    def _literature(self, block: Node) -> None:
        groups = self.draft.literature
        text = (
            self.md.plain(block["c"][2] if block["t"] == "Header" else block["c"])
            if block["t"] in ("Header", "Para", "Plain")
            else ""
        )
        lead, rest = strong_lead(block["c"]) if block["t"] == "Para" else ("", [])
        cite = parse_shortcite(text) if block["t"] in ("Para", "Plain") else None
        if block["t"] == "Header" or (lead and not rest and lead.endswith(":")):
            groups.append(Group(text.rstrip(":").strip()))
        elif cite is not None and groups:
            groups[-1].studies.append(Study(cite, text))
        elif (
            lead
            and not rest
            and groups
            and groups[-1].studies
            and groups[-1].studies[-1].title is None
            and not groups[-1].studies[-1].summary
        ):
            groups[-1].studies[-1].title = text
        elif block["t"] == "BulletList" and groups and groups[-1].studies and not groups[-1].note:
            study = groups[-1].studies[-1]
            for item in block["c"]:
                self._study_bullet(study, self._item(item))
        elif groups:
            note = self._callout(block) or self.md.block(block)
            if note.strip():
                groups[-1].note.append(note)
        else:
            self._prose("literature", block)

    def _study_bullet(self, study: Study, bullet: str) -> None:
        match = re.match(r"^\**([A-Za-z ]+):\**\s*(.*)$", bullet, flags=re.S)
        if match and normal(match[1]) in FACT_LABELS and FACT_LABELS[normal(match[1])] not in study.facts:
            study.facts[FACT_LABELS[normal(match[1])]] = match[2].strip()
        else:
            study.summary.append(bullet)

    # ------------------------------------------------------------------ references

    def _references(self, block: Node) -> None:
        if block["t"] in ("OrderedList", "BulletList") and not self.draft.entries:
            items = block["c"][1] if block["t"] == "OrderedList" else block["c"]
            self.draft.entries = [self._item(item) for item in items]
            return
        text = self.md.block(block)
        numbered = re.match(r"^\d+[.)]\s+(.+)$", text, flags=re.S)
        if numbered and not self.draft.prose.get("closing"):
            self.draft.entries.append(numbered[1])
        elif self.draft.entries:
            self._prose("closing", block)
        else:
            self._unmapped("References (before the list)", block)
