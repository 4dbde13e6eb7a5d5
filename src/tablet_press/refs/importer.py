"""Importing references: raw records from refformats -> clean records appended to a bundle's
references.yaml, skipping works that are already there (same DOI, or PMID when there is no DOI).

`read_records` (refformats) turns a BibTeX, CSL-JSON or RIS file into raw records, each with its line;
`_record` then cleans every record the same way, so one paper gives one record whatever format it came
in. Nothing is written unless every record is usable, and references.yaml is replaced atomically.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tablet_press.bundle.atomic import write_files
from tablet_press.bundle.folder import ISSUE_FILE, REFERENCES_FILE
from tablet_press.bundle.ledger import read_ledger
from tablet_press.bundle.loader import dotted, load_yaml, read_text
from tablet_press.bundle.model import ID_PATTERN, MORE_AUTHORS, UNDATED_TYPES, Reference, References
from tablet_press.bundle.project import Project
from tablet_press.bundle.schema import parse
from tablet_press.errors import BuildError, Problem, ValidationFailed, display_path
from tablet_press.inputrules import CONTROL_HINT, control_character
from tablet_press.refs.formats import MONTHS, Raw, read_records, squash

HEADER = "# yaml-language-server: $schema=../../schema/references.schema.json\n"
FIELD_ORDER = [
    info.alias or name for name, info in Reference.model_fields.items()
]  # as the schema lists them
LINE_WIDTH = 110


@dataclass
class ImportResult:
    """What an import did: the records added, and a line for each record skipped as a duplicate."""

    target: str
    added: list[Reference] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # what a record lost, or a key not kept

    def report(self) -> list[str]:
        lines = [p.format() for p in self.warnings]
        lines += [f"added '{ref.id}': {ref.heading}" for ref in self.added] + self.skipped
        lines.append(f"{self.target}: {len(self.added)} added, {len(self.skipped)} skipped as duplicates")
        return lines


def import_file(project: Project, source: Path, issue: Path | None, cwd: Path) -> ImportResult:
    """Read `source` (BibTeX, CSL-JSON or RIS) and append its new records to the bundle's
    references.yaml (the bundle `issue`, else the one `cwd` is in); all problems at once, or nothing."""
    bundle = _bundle_dir(project, issue, cwd)
    _refuse_frozen(project, bundle)
    shown = display_path(source, project.root)
    text, problems = read_text(source, shown)
    if text is None:
        raise ValidationFailed(problems)
    raws = read_records(text, shown, source.suffix.lower())
    target = bundle / REFERENCES_FILE
    shown_target = display_path(target, project.root)
    existing, original = _existing(target, shown_target)
    result = ImportResult(shown_target)
    taken = {ref.id.lower() for ref in existing}
    known = {key: ref.id for ref in existing for key in _identities(ref)}
    problems = []
    for raw in raws:
        notes: list[str] = []
        try:
            ref = _record(raw, taken, notes)
        except ValueError as exc:
            problems.append(Problem(shown, raw.line, 1, str(exc)))
            continue
        same = next((known[key] for key in _identities(ref) if key in known), None)
        if same is not None:
            by = f"DOI {ref.DOI}" if ref.DOI else f"PMID {ref.PMID}"
            result.skipped.append(
                f"skipped {shown}:{raw.line}: {by} is already in {shown_target} as '{same}'"
            )
            continue
        result.warnings += [Problem(shown, raw.line, 1, note, severity="warning") for note in notes]
        taken.add(ref.id.lower())
        known.update(dict.fromkeys(_identities(ref), ref.id))
        result.added.append(ref)
    if problems:
        raise ValidationFailed(problems)
    if result.added:
        _write(target, _appended(original, result.added), result.added, shown_target)
    return result


def _refuse_frozen(project: Project, bundle: Path) -> None:
    """A published issue is frozen: its references are part of what was sent, so an import would be
    an unrecorded change. Say so, and how a published issue is changed, before reading anything."""
    record = read_ledger(project.root)[0].records.get(bundle.name)
    if record is not None:
        raise BuildError(
            f"issues/{bundle.name} was published on {record.published} and is frozen: its sources are "
            "what was sent, so nothing was imported. To change a published issue, edit its files by "
            "hand, add a dated entry under corrections: in issue.yaml and run "
            f"'tablet publish {bundle.name} --correction'"
        )


def _bundle_dir(project: Project, issue: Path | None, cwd: Path) -> Path:
    if issue is None:
        here = cwd.resolve()
        issues = project.issues_dir.resolve()
        if here == issues or issues not in here.parents:
            raise BuildError("run this inside an issue folder (issues/<slug>/) or name one with --issue")
        issue = issues / here.relative_to(issues).parts[0]
    if not (issue / ISSUE_FILE).is_file():
        raise BuildError(
            f"{display_path(issue, project.root)} is not an issue folder (it has no {ISSUE_FILE})"
        )
    return issue


def _existing(target: Path, shown: str) -> tuple[list[Reference], str]:
    if not os.path.lexists(target):  # a link is there to be refused, not replaced
        return [], HEADER
    parsed, problems = _load(target, shown)
    if parsed is None or problems:
        raise ValidationFailed(problems)  # never append to a file that does not validate
    text, problems = read_text(target, shown, within=target.parent)  # as load_yaml read it
    if text is None:
        raise ValidationFailed(problems)
    lines = text.split("\n")
    body = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not parsed.references:  # e.g. the scaffold's "[]": keep the comments, drop the empty list
        text = "".join(line + "\n" for line in lines if line.lstrip().startswith("#")) or HEADER
    elif not body[0].startswith("- "):
        raise BuildError(f"{shown} is not a block list ('- id: ...' entries); cannot append to it")
    return parsed.references, text


def _load(path: Path, shown: str) -> tuple[References | None, list[Problem]]:
    """A bundle's references.yaml (`path`), read through no link."""
    located, problems = load_yaml(path, shown, within=path.parent)
    if located is None:
        return None, problems
    located.root, located.data = "references", located.data or []
    parsed, more = parse(References, located, wrap="references")
    return parsed, problems + more


def _identities(ref: Reference) -> list[str]:
    """What makes two records the same work: the DOI (case-insensitive), or the PMID."""
    return [key for key in (ref.DOI and f"doi:{ref.DOI.lower()}", ref.PMID and f"pmid:{ref.PMID}") if key]


# ---------------------------------------------------------------- raw record -> clean Reference


_TEXT_FIELDS: tuple[str, ...] = (
    "title",
    "container-title",
    "container-title-short",
    "volume",
    "issue",
    "PMID",
)
_TEXT_FIELDS += ("edition", "collection-title", "genre", "publisher", "publisher-place")


def _record(raw: Raw, taken: set[str], notes: list[str]) -> Reference:
    """A raw record, cleaned the same way whatever its format; ValueError says what is wrong, and
    `notes` gets a warning for what the record loses on the way."""
    if raw.error:
        raise ValueError(raw.error)
    _refuse_control_characters(raw)
    f = {k: v for k, v in raw.fields.items() if v not in (None, "", [])}
    data: dict[str, Any] = {"type": f.get("type", "article-journal")}
    data["author"] = _names(f.get("author", []))
    data["editor"] = _names(f.get("editor", [])) or None
    for key in _TEXT_FIELDS:
        if key in f:
            data[key] = squash(f[key])
    if "DOI" in f:
        data["DOI"] = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", squash(f["DOI"]), flags=re.I)
    dropped = list(raw.dropped)
    if "URL" in f and not ("DOI" in data or "PMID" in data):  # a DOI or PMID is the better link
        data["URL"] = squash(f["URL"])
    elif "URL" in f:
        dropped.append("its URL (the " + ("DOI" if "DOI" in data else "PMID") + " is its link)")
    if "accessed" in f and "URL" in data:
        data["accessed"] = squash(f["accessed"])[:10]  # a time of day after the date says no more
    elif "accessed" in f:
        dropped.append("its accessed date (it has no URL)")
    page, number = squash(f.get("page", "")), squash(f.get("article-number", ""))
    if re.fullmatch(r"e\d+", page) and not number:  # a lone e-locator is an article number, not a page
        page, number = "", page
    data["page"] = re.sub(r"\s*(--?|–)\s*", "-", page) or None
    data["article-number"] = number or None
    data["issued"] = squash(f.get("issued", "")) or _issued(f.get("year"), f.get("month"), f.get("day"))
    if not data["author"]:
        raise ValueError("record has no authors")
    if not data["issued"] and not (data["type"] in UNDATED_TYPES and data.get("accessed")):
        raise ValueError("record has no year of publication")
    data["issued"] = data["issued"] or None
    year = (data["issued"] or data.get("accessed") or "")[:4]
    own = raw.key if re.fullmatch(ID_PATTERN, raw.key) else None  # citations made with it then work
    data["id"] = own if own and own.lower() not in taken else _new_id(data["author"][0], year, taken)
    if own and own != data["id"]:
        notes.append(f"the key '{own}' is already the id of another reference; imported as '{data['id']}'")
    if dropped:
        notes.append(f"'{data['id']}' was imported without {', '.join(dropped)}")
    label = f"the record of {data['author'][0]} ({year})"
    if not data.get("title"):
        raise ValueError(f"{label} has no title")
    try:
        return Reference.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = dotted(tuple(error["loc"]))
        if error["type"] == "missing":
            raise ValueError(f"{label} has no {where}") from None
        message = error["ctx"].get("error", error["msg"]) if "ctx" in error else error["msg"]
        raise ValueError(f"{label}: {where} {error['input']!r}: {message}") from None


def _refuse_control_characters(raw: Raw) -> None:
    """The loader's rule (inputrules.CONTROL) for values as read: a reference file's text passed it, but
    a CSL-JSON escape (\\u202e) decodes to a character the file's text did not show."""
    for name, value in raw.fields.items():
        for text in value if isinstance(value, list) else [value]:
            char = control_character(str(text)) if text is not None else None
            if char:
                raise ValueError(f"{name} contains the control character {char!r} ({CONTROL_HINT})")


def _issued(year: Any, month: Any = None, day: Any = None) -> str:
    """year, month ('5', 'may', 'May-Jun', 'May--June'), day -> 2009, 2009-05, 2009-05/2009-06."""
    text = squash(year or "")
    months = []
    for word in re.findall(r"[A-Za-z]+|\d+", str(month or "")):
        name = word[:3].lower()
        number = int(word) if word.isdigit() else MONTHS.index(name) + 1 if name in MONTHS else 0
        if not 1 <= number <= 12:
            raise ValueError(f"'{month}' is not a month")
        months.append(number)
    if not text or not months:
        return text
    if len(months) > 1:
        return f"{text}-{months[0]:02d}/{text}-{months[-1]:02d}"
    return f"{text}-{months[0]:02d}" + (f"-{int(day):02d}" if str(day or "").isdigit() else "")


def _names(names: list[Any]) -> list[str]:
    """Names as one line each; a last "others" or "et al." (more authors not listed) is "et al."."""
    out = [squash(name) for name in names]
    if out and out[-1].casefold().rstrip(".") in ("others", "et al", "et. al"):
        out[-1] = MORE_AUTHORS
    return out


def _new_id(first_author: str, year: str, taken: set[str]) -> str:
    """'Due Bruun, K.' + 2024 -> duebruun2024 (then duebruun2024b, ...), like the sample's keys."""
    family = first_author.split(",")[0] if "," in first_author else first_author.split()[0]
    family = family.lower()
    for letter, plain in (("ø", "o"), ("æ", "ae"), ("œ", "oe"), ("ß", "ss"), ("ł", "l"), ("đ", "d")):
        family = family.replace(letter, plain)
    ascii_name = unicodedata.normalize("NFKD", family).encode("ascii", "ignore").decode()
    base = f"{re.sub(r'[^a-z]', '', ascii_name) or 'ref'}{year}"
    for key in (base, *(base + letter for letter in "bcdefghijklmnopqrstuvwxyz")):
        if key not in taken:
            return key
    raise ValueError(f"too many references with the key {base}")


# ---------------------------------------------------------------- YAML out, atomically


def _appended(original: str, added: list[Reference]) -> str:
    text = original if original.endswith("\n") else original + "\n"
    return text + "".join("\n" + _yaml_record(ref) for ref in added)


def _yaml_record(ref: Reference) -> str:
    """One record in the sample's style: a block mapping, quoted numbers, a flow list of authors,
    long titles folded (>-) at the line width."""
    data = ref.model_dump(by_alias=True, exclude_none=True)
    if data["type"] == "article-journal":
        del data["type"]
    lines: list[str] = []
    for key in (k for k in FIELD_ORDER if data.get(k, []) != []):  # no empty list of editors
        lead = f"{'  ' if lines else '- '}{key}: "
        if key in ("author", "editor"):
            lines += _wrap([_quote(a) + "," for a in data[key]], lead + "[", " " * len(lead + "["))
            lines[-1] = lines[-1][:-1] + "]"
        elif len(lead + _scalar(data[key])) > LINE_WIDTH and " " in data[key]:
            lines += [lead + ">-", *_wrap(data[key].split(), "    ", "    ")]
        else:
            lines.append(lead + _scalar(data[key]))
    return "\n".join(lines) + "\n"


def _wrap(words: list[str], first: str, indent: str) -> list[str]:
    lines, current = [], first
    for word in words:
        if current not in (first, indent) and len(current) + 1 + len(word) > LINE_WIDTH:
            lines.append(current)
            current = indent + word
        else:
            current += ("" if current in (first, indent) else " ") + word
    return [*lines, current]


def _scalar(value: str) -> str:
    """Plain when YAML reads it back as the same text, else double-quoted; numbers are quoted."""
    risky = (
        value.isdigit()
        or value in ("~", "null", "Null", "NULL")
        or value[0] in "-?:,[]{}#&*!|>'\"%@`"
        or ": " in value
        or " #" in value
        or value.endswith(":")
    )
    return _quote(value) if risky else value


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _write(target: Path, text: str, added: list[Reference], shown: str) -> None:
    """Write atomically (atomic.write_files), after checking that the staged file loads back."""

    def loads_back(staged: Mapping[str, Path]) -> None:
        parsed, problems = _load(staged[target.name], shown)
        if problems or parsed is None or parsed.references[-len(added) :] != added:
            # our own YAML writer is wrong: never replace a good file with a bad one
            raise RuntimeError(f"the new {shown} does not load back as written: {problems[:1]}")

    write_files(target.parent, {target.name: text.encode()}, check=loads_back)
