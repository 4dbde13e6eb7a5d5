"""The back catalog: `tablet import PAST.pdf --number N --date YYYY-MM-DD --title ...` adds a past issue
to the archive as it was sent, and `tablet import FOLDER/` adds every past issue in a folder.

A past issue's PDF becomes a bundle `issues/<slug>/` holding only issue.yaml (`kind: archived-pdf`, the
metadata) and `published/<slug>.pdf`, the original, recorded in publications.json by `tablet publish`'s
own code (site/publish.py: the manifest pins the PDF's sha256, the record pins the manifest), so that
`tablet verify` holds it to what was sent like any published issue. The PDF is read first
(bundle/original.py: bounded, in a child process); a PDF that cannot be read writes nothing, and an
issue whose metadata does not validate is taken out again (folder and record).

A Word file of a past issue comes in as a draft (importer/word.py) with its number, date and title set,
and is *not* recorded as published: what was sent is the PDF made from it then, and freezing a new
typesetting would claim otherwise. Check it, then `tablet publish SLUG --date D`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from tablet_press.bundle.atomic import write_files
from tablet_press.bundle.folder import ISSUE_FILE, PUBLISHED_DIR, load_bundle, slug_problem
from tablet_press.bundle.ledger import LEDGER_FILE, read_ledger, sha256
from tablet_press.bundle.loader import load_yaml
from tablet_press.bundle.model import ARCHIVED_PDF
from tablet_press.bundle.original import MAX_PDF_BYTES, OriginalPdf, UnreadablePdf, read_original
from tablet_press.bundle.project import Project
from tablet_press.checks.publication import MANIFEST, parse_manifest
from tablet_press.checks.validate import validate
from tablet_press.errors import BuildError, Problem, ValidationFailed, display_path
from tablet_press.importer.word import import_docx
from tablet_press.site.publish import publish

PDF, DOCX = ".pdf", ".docx"
SIDECAR_KEYS = ("number", "date", "title", "slug", "authors", "topics", "summary")
# 012-2019-03-04-opioid-rotation.pdf, issue-12_2019-03-04 Opioid rotation.pdf, 2019-03-04-012-....pdf
_NAMED = (
    re.compile(
        r"^(?:issue[-_ ]*)?(?P<number>\d{1,4})[-_ ]+(?P<date>\d{4}-\d{2}-\d{2})(?:[-_ ]+(?P<title>.+))?$",
        re.I,
    ),
    re.compile(
        r"^(?P<date>\d{4}-\d{2}-\d{2})[-_ ]+(?:issue[-_ ]*)?(?P<number>\d{1,4})(?:[-_ ]+(?P<title>.+))?$",
        re.I,
    ),
)


@dataclass
class PastIssue:
    """A past issue's metadata, from the command line, a sidecar or the file name."""

    number: int | None = None
    date: date | None = None
    title: str | None = None
    slug: str | None = None
    authors: list[str] = field(default_factory=list)  # team ids or guests' names
    topics: list[str] = field(default_factory=list)
    summary: str | None = None
    notes: list[str] = field(default_factory=list)  # where a value came from, when it was guessed

    def merged(self, other: PastIssue) -> PastIssue:
        """This metadata, with what it leaves out taken from `other`."""
        return PastIssue(
            self.number if self.number is not None else other.number,
            self.date or other.date,
            self.title or other.title,
            self.slug or other.slug,
            self.authors or other.authors,
            self.topics or other.topics,
            self.summary or other.summary,
            [*self.notes, *other.notes],
        )


@dataclass
class Came:
    """One past issue imported: its folder and what to say about it."""

    folder: Path
    lines: list[str]
    published: bool  # recorded as sent (a PDF); a Word draft is not


def slugify(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def default_slug(meta: PastIssue) -> str:
    words = slugify(meta.title or "")[:60].rstrip("-")
    stem = f"{meta.date:%Y-%m}" if meta.date else "past-issue"
    return f"{stem}-{words}" if words else f"{stem}-issue-{meta.number}"


def from_file_name(path: Path) -> PastIssue:
    """Number, date and title written in the file name (see _NAMED); nothing when it has none. A Word
    draft's title is its own ("Today's topic"), so a .docx's file name gives no title."""
    for pattern in _NAMED:
        found = pattern.match(path.stem)
        if found:
            try:
                when = date.fromisoformat(found["date"])
            except ValueError:
                return PastIssue(notes=[f"'{found['date']}' in the file name is not a real date"])
            title = " ".join(re.sub(r"[-_]+", " ", found["title"] or "").split()) or None
            if path.suffix.lower() == DOCX:
                title = None
            return PastIssue(int(found["number"]), when, title[:1].upper() + title[1:] if title else None)
    return PastIssue()


def from_sidecar(path: Path, root: Path) -> tuple[PastIssue, list[Problem]]:
    """The metadata in a sidecar YAML file (`<name>.yaml` beside the document), strictly read."""
    shown = display_path(path, root)
    located, problems = load_yaml(path, shown)
    if located is None:
        return PastIssue(), problems
    data = located.data
    if not isinstance(data, dict):
        return PastIssue(), [located.problem((), "expected a mapping: number, date, title, ...")]
    meta = PastIssue()
    for key, value in data.items():
        if key not in SIDECAR_KEYS:
            problems.append(
                located.problem(
                    (key,), f"unknown field '{key}'; expected {', '.join(SIDECAR_KEYS)}", key=True
                )
            )
        elif key == "number":
            if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
                meta.number = int(value)
            else:
                problems.append(located.problem((key,), f"'{value}' is not a whole number"))
        elif key == "date":
            try:
                meta.date = (
                    date.fromisoformat(str(value)) if re.fullmatch(r"\d{4}-\d\d-\d\d", str(value)) else None
                )
            except ValueError:
                meta.date = None
            if meta.date is None:
                problems.append(located.problem((key,), f"'{value}' is not a date; write it as YYYY-MM-DD"))
        elif key in ("authors", "topics"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(located.problem((key,), f"'{key}' must be a list of text"))
            else:
                setattr(meta, key, list(value))
        elif not isinstance(value, str):
            problems.append(located.problem((key,), f"'{key}' must be text"))
        else:
            setattr(meta, key, value)
    return meta, problems


def _authors(project: Project, names: list[str], notes: list[str]) -> list[dict[str, Any]]:
    """Each author as a team member when the name is a team id or a member's name, else a guest
    (with the role `guest` when tablet.yaml has it, else its first role)."""
    team, roles = project.config.team, project.config.roles
    by_name = {person.name.casefold(): key for key, person in team.items()}
    guest_role = "guest" if "guest" in roles else next(iter(roles), None)
    entries: list[dict[str, Any]] = []
    for name in names:
        written = " ".join(name.split())
        key = name if name in team else by_name.get(written.casefold())
        if key:
            entries.append({"id": key})
        else:
            entries.append({"role": guest_role, "name": written} if guest_role else {"name": written})
            notes.append(f"{written} is not in tablet.yaml's team: added as a guest ({guest_role})")
    return entries


def _issue_yaml(project: Project, meta: PastIssue, source: str) -> str:
    data: dict[str, Any] = {
        "kind": ARCHIVED_PDF,
        "number": meta.number,
        "date": meta.date.isoformat() if meta.date else None,
        "title": meta.title,
        "topics": meta.topics,
    }
    if meta.authors:
        data["authors"] = _authors(project, meta.authors, meta.notes)
    if meta.summary:
        data["summary"] = meta.summary
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None)
    return (
        "# yaml-language-server: $schema=../../schema/issue.schema.json\n"
        f"# A past issue of the back catalog, imported by `tablet import` from {os.path.basename(source)}\n"
        f"# Its text is the PDF as sent: {PUBLISHED_DIR}/<slug>.pdf, recorded in {LEDGER_FILE}.\n" + body
    )


def _missing(meta: PastIssue) -> list[str]:
    return [
        name
        for name, value in (("number", meta.number), ("date", meta.date), ("title", meta.title))
        if value is None
    ]


def existing_numbers(project: Project) -> dict[int, str]:
    """Issue number -> slug of every issue that loads."""
    numbers = {}
    for folder in project.bundle_dirs():
        bundle, _ = load_bundle(folder, project.root)
        if bundle is not None:
            numbers[bundle.issue.number] = bundle.slug
    return numbers


def read_pdf(project: Project, source: Path) -> tuple[bytes, OriginalPdf]:
    """The PDF's bytes and what PDFium read of it; BuildError `file: message` when it cannot be used."""
    shown = display_path(source, project.root)
    try:
        if not source.is_file():
            raise BuildError(f"{shown}: no such file")
        if source.stat().st_size > MAX_PDF_BYTES:
            raise BuildError(f"{shown}: it is larger than {MAX_PDF_BYTES // 2**20} MB")
        data = source.read_bytes()
    except OSError as exc:
        raise BuildError(f"{shown}: cannot be read ({exc.strerror})") from None
    try:
        return data, read_original(data)
    except UnreadablePdf as exc:
        raise BuildError(f"{shown}: {exc}") from None


def import_pdf(
    project: Project,
    source: Path,
    meta: PastIssue,
    *,
    read: tuple[bytes, OriginalPdf] | None = None,
    numbers: dict[int, str] | None = None,
) -> Came:
    """Add the past issue in the PDF `source` to the archive as it was sent. Nothing is written when
    the PDF cannot be read or the metadata is incomplete or clashes; an issue that does not validate
    is taken out again."""
    shown = display_path(source, project.root)
    data, original = read if read is not None else read_pdf(project, source)
    notes = meta.notes
    if meta.title is None and original.title:
        meta.title = original.title
        notes.append("title from the PDF's metadata: check it")
    if missing := _missing(meta):
        raise BuildError(f"{shown}: no {', '.join(missing)}; give --{' --'.join(missing)}")
    assert meta.number is not None and meta.date is not None
    slug = meta.slug or default_slug(meta)
    problem = slug_problem(slug, f"issues/{slug}")
    if problem:
        raise ValidationFailed([problem])
    target = project.issues_dir / slug
    if os.path.lexists(target):
        raise BuildError(f"issues/{slug} already exists; choose another name with --slug")
    numbers = existing_numbers(project) if numbers is None else numbers
    if meta.number in numbers:
        raise BuildError(f"{shown}: issue number {meta.number} is already issues/{numbers[meta.number]}")
    ledger_path = project.root / LEDGER_FILE
    ledger_before = ledger_path.read_bytes() if ledger_path.is_file() else None
    write_files(
        target,
        {ISSUE_FILE: _issue_yaml(project, meta, source.name).encode()},
        within=project.issues_dir,
        root=project.root,
    )
    try:
        bundle, problems = load_bundle(target, project.root)
        if bundle is None:
            raise ValidationFailed(problems)
        publish(project, bundle, {f"{slug}.pdf": data}, meta.date)
        report = validate(project, [target])
        if report.errors:
            raise ValidationFailed(report.problems)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        if read_ledger(project.root)[0].records.get(slug) is not None:  # publish recorded it: undo
            if ledger_before is None:
                ledger_path.unlink(missing_ok=True)
            else:
                write_files(project.root, {LEDGER_FILE: ledger_before}, root=project.root)
        raise
    numbers[meta.number] = slug
    line = (
        f'{shown} -> issues/{slug}/: issue {meta.number}, {meta.date.isoformat()}, "{meta.title}", '
        f"{original.pages} page(s), {len(original.text.split())} words of text for search; "
        f"recorded as published (sha256 {sha256(data)[:12]}...)"
    )
    return Came(target, [line, *(f"  note: {n}" for n in notes)], published=True)


def import_past_docx(
    project: Project, source: Path, meta: PastIssue, *, accept_changes: bool = False
) -> Came:
    """A Word file of a past issue: imported as a draft with its number, date and title set; not
    recorded as published (see the module's docstring)."""
    result = import_docx(
        project,
        source,
        meta.slug or (default_slug(meta) if meta.title else None),
        accept_changes=accept_changes,
    )
    issue = result.folder / ISSUE_FILE
    text = issue.read_text(encoding="utf-8")
    for key, value in (
        ("number", meta.number),
        ("date", meta.date and meta.date.isoformat()),
        ("title", meta.title),
    ):
        if value is not None:  # JSON's text of a number or a string is YAML's too
            line = f"{key}: {json.dumps(value)}"
            text = re.sub(rf"(?m)^{key}: .*$", line.replace("\\", "\\\\"), text, count=1)
    write_files(result.folder, {ISSUE_FILE: text.encode()}, within=project.issues_dir, root=project.root)
    report = validate(project, [result.folder])
    slug = result.folder.name
    when = meta.date.isoformat() if meta.date else "YYYY-MM-DD"
    counts = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
    lines = [
        f"{display_path(source, project.root)} -> issues/{slug}/: a Word draft ({counts}; see its "
        "import-report.txt); not recorded as published: check it, then "
        f"'tablet publish {slug} --date {when}'",
    ]
    return Came(result.folder, lines, published=False)


# ---------------------------------------------------------------- a whole folder


@dataclass
class FolderReport:
    came: list[Came] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)  # "file: what to do"
    already: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"came in: {len(self.came)} issue(s)"]
        out += [f"  {line}" for came in self.came for line in came.lines]
        if self.already:
            out.append(f"already in the archive (the same PDF): {len(self.already)}")
            out += [f"  {name}" for name in self.already]
        if self.ignored:
            out.append(f"ignored (not a .pdf, .docx or sidecar .yaml): {', '.join(self.ignored)}")
        out.append(
            f"needs attention: {len(self.attention)}" if self.attention else "needs attention: nothing"
        )
        out += [f"  {line}" for line in self.attention]
        return out


def _same_pdf(project: Project, slug: str, data: bytes) -> bool:
    """Whether issues/<slug> is a back-catalog issue of exactly these bytes (a folder imported again)."""
    try:
        manifest, _ = parse_manifest(
            (project.issues_dir / slug / PUBLISHED_DIR / MANIFEST).read_text(), slug, True
        )
    except (OSError, ValueError):
        return False
    return manifest is not None and manifest.outputs.get(f"{slug}.pdf") == sha256(data)


def import_folder(
    project: Project,
    folder: Path,
    *,
    accept_changes: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> FolderReport:
    """Import every .pdf and .docx in `folder` (not its subfolders), each on its own: what can come in
    does, and the rest is listed with what to do (see the guide). Metadata per file: its sidecar
    `<name>.yaml`, else its file name, the title else from the PDF."""
    report = FolderReport()
    shown_folder = display_path(folder, project.root)
    if not folder.is_dir():
        raise BuildError(f"{shown_folder}: not a folder")
    files = sorted(
        (p for p in folder.iterdir() if not p.name.startswith(".")), key=lambda p: p.name.casefold()
    )
    documents = [p for p in files if p.suffix.lower() in (PDF, DOCX) and p.is_file() and not p.is_symlink()]
    stems = {p.stem for p in documents}
    for path in files:
        if path in documents:
            continue
        if path.suffix.lower() in (".yaml", ".yml") and path.stem in stems:
            continue
        if path.suffix.lower() in (".yaml", ".yml"):
            report.attention.append(
                f"{display_path(path, project.root)}: a sidecar without a .pdf or .docx of the same name"
            )
        elif path.suffix.lower() in (PDF, DOCX):
            report.attention.append(
                f"{display_path(path, project.root)}: not a regular file (a link or a folder); skipped"
            )
        else:
            report.ignored.append(path.name)
    if not documents:
        report.attention.append(f"{shown_folder}: no .pdf or .docx file in it")
        return report
    plans: list[tuple[Path, PastIssue, tuple[bytes, OriginalPdf] | None]] = []
    for path in documents:
        shown = display_path(path, project.root)
        progress(shown)
        meta = PastIssue()
        for suffix in (".yaml", ".yml"):
            sidecar = path.with_suffix(suffix)
            if sidecar.is_file():
                meta, problems = from_sidecar(sidecar, project.root)
                if problems:
                    report.attention += [p.format() for p in problems]
                    meta = None  # type: ignore[assignment]
                break
        if meta is None:
            continue
        meta = meta.merged(from_file_name(path))
        read = None
        if path.suffix.lower() == PDF:
            try:
                read = read_pdf(project, path)
            except BuildError as exc:
                report.attention.append(f"{exc} (unreadable; nothing imported)")
                continue
        plans.append((path, meta, read))
    numbers = existing_numbers(project)
    counted: dict[int, list[Path]] = {}
    for path, meta, _ in plans:
        if meta.number is not None:
            counted.setdefault(meta.number, []).append(path)
    for path, meta, read in plans:
        shown = display_path(path, project.root)
        titled = meta.title or read is None or read[1].title  # a Word draft brings its own title
        if meta.number is None or meta.date is None or not titled:
            given = {"number": meta.number is not None, "date": meta.date is not None, "title": titled}
            missing = ", ".join(name for name, ok in given.items() if not ok)
            report.attention.append(
                f"{shown}: no {missing}; write them in {path.stem}.yaml beside it (number: N, "
                "date: YYYY-MM-DD, title: ...) or name the file NUMBER-YYYY-MM-DD-title.pdf"
            )
            continue
        if len(counted[meta.number]) > 1:
            others = ", ".join(p.name for p in counted[meta.number] if p != path)
            report.attention.append(
                f"{shown}: issue number {meta.number} is also given to {others}; nothing imported"
            )
            continue
        if meta.number in numbers:
            slug = numbers[meta.number]
            if read is not None and _same_pdf(project, slug, read[0]):
                report.already.append(f"{shown} is issues/{slug}")
            else:
                report.attention.append(
                    f"{shown}: issue number {meta.number} is already issues/{slug}; nothing imported"
                )
            continue
        try:
            if read is not None:
                report.came.append(import_pdf(project, path, meta, read=read, numbers=numbers))
            else:
                came = import_past_docx(project, path, meta, accept_changes=accept_changes)
                report.came.append(came)
                numbers[meta.number] = came.folder.name
                report.attention.append(
                    f"{shown}: came in as a Word draft, not as sent: check issues/{came.folder.name}, then "
                    f"'tablet publish {came.folder.name} --date {meta.date.isoformat()}'"
                )
        except ValidationFailed as exc:
            report.attention += [f"{shown}: {p.format()}" for p in exc.problems if p.severity == "error"]
        except BuildError as exc:
            message = str(exc)
            report.attention.append(message if message.startswith(shown) else f"{shown}: {message}")
    return report
