"""`tablet import DRAFT.docx`: a Word draft becomes a new issue bundle. The draft is checked and scanned
(package.py), read by pandoc (pandoc.py), mapped onto the outline (sections.py), its references parsed
(citations.py); the bundle is then written in one step (the one atomic writer, into a staging folder
renamed into place), with the import's report beside issue.yaml, and validated like any other."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tablet_press.bundle.atomic import write_files
from tablet_press.bundle.folder import ASSETS_DIR, ISSUE_FILE, REFERENCES_FILE, load_bundle, slug_problem
from tablet_press.bundle.model import AuthorEntry, Config, Reference
from tablet_press.bundle.project import Project
from tablet_press.checks.validate import Report, validate
from tablet_press.errors import BuildError, ValidationFailed, display_path
from tablet_press.importer.citations import enrich, parse_entry, tie
from tablet_press.importer.package import open_draft, scan
from tablet_press.importer.pandoc import Markdown, read_docx
from tablet_press.importer.sections import Draft, Mapper, normal
from tablet_press.refs.importer import HEADER as REFERENCES_HEADER
from tablet_press.refs.importer import _new_id as new_id
from tablet_press.refs.importer import _yaml_record as yaml_record

REPORT_FILE = "import-report.txt"


@dataclass
class Imported:
    """What an import did: the bundle, the report's lines, and the bundle's validation."""

    folder: Path
    report: list[str] = field(default_factory=list)
    validation: Report | None = None


def import_docx(
    project: Project, source: Path, slug: str | None, *, accept_changes: bool = False
) -> Imported:
    """Turn the Word draft `source` into issues/<slug>/ (default: the draft's file name); nothing is
    written when the draft is refused."""
    shown = display_path(source, project.root)
    slug = slug or _slug(source.stem)
    problem = slug_problem(slug, f"issues/{slug}")
    if problem:
        raise ValidationFailed([problem])
    target = project.issues_dir / slug
    if target.exists() or target.is_symlink():
        raise BuildError(f"issues/{slug} already exists; choose another name with --slug")
    with open_draft(source, shown) as archive:
        findings = scan(archive).findings
    refused = [f for f in findings if f.refused]
    if refused and not accept_changes:
        raise BuildError(
            f"{shown} has {len(refused)} tracked change(s); accept or reject them in Word, or run "
            "again with --accept-changes to import the text as if all were accepted:\n  "
            + "\n  ".join(f"[{f.check}] {f.message}" for f in refused)
        )
    with tempfile.TemporaryDirectory(prefix="tablet-import-") as work:
        blocks, meta = read_docx(source, Path(work) / "media")
        md = Markdown(Path(work))
        draft = Mapper(project.config, md).run(blocks, meta)
        report = [f"[{f.check}] {f.message}" for f in findings]
        files, issue_yaml, references = _bundle(project, draft, md, report)
    report += [f"[unconverted] {what}" for what in md.skipped]
    report += [f"[unmapped] {text}" for text in draft.unmapped]
    studies = sum(len(g.studies) for g in draft.literature)
    head = [
        f"imported {shown} into issues/{slug}/: {len(draft.prose)} prose file(s), {len(draft.pearls)} "
        f"pearl(s), {studies} studies in {len(draft.literature)} group(s), {len(draft.bottom_line)} "
        f"bottom-line point(s), {references} reference(s), {len(md.images)} image(s)",
    ]
    lines = head + (report or ["nothing to report: every paragraph found its place"])
    files[ISSUE_FILE] = issue_yaml.encode()
    files[REPORT_FILE] = ("\n".join(lines) + "\n").encode()
    _write(project, target, files, md.images)
    result = Imported(target, lines)
    result.validation = validate(project, [target])
    return result


def _slug(stem: str) -> str:
    plain = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-") or "imported-issue"


def _next_number(project: Project) -> int:
    numbers = [0]
    for folder in project.bundle_dirs():
        bundle, _ = load_bundle(folder, project.root)
        if bundle is not None:
            numbers.append(bundle.issue.number)
    return max(numbers) + 1


def _bundle(
    project: Project, draft: Draft, md: Markdown, report: list[str]
) -> tuple[dict[str, bytes], str, int]:
    """The bundle's files (name -> bytes), issue.yaml's text, and how many records it holds."""
    records = _references(draft, report)
    literature = _literature(draft, records, report)
    written = _records_yaml(records, report)
    issue: dict[str, Any] = {
        "number": _next_number(project),
        "date": date.today().isoformat(),
        "title": draft.title or "TODO: today's topic (the draft has none)",
        "topics": [],
        "off_label": False,
        "authors": _authors(project.config, draft, report),
        "pearls": draft.pearls,
        "literature": literature,
        "bottom_line": draft.bottom_line,
    }
    if draft.title is None:
        report.append(
            '[no-title] the draft has no "Today\'s topic" line or Title: write the title in issue.yaml'
        )
    report.append(
        f"[chosen] number {issue['number']} and date {issue['date']} were chosen by the import; topics are "
        "empty and off_label is false: set them in issue.yaml"
    )
    text = (
        "# yaml-language-server: $schema=../../schema/issue.schema.json\n"
        "# Imported from a Word draft by `tablet import`; see import-report.txt beside this file.\n"
        + yaml.safe_dump(
            {k: v for k, v in issue.items() if v != [] or k in ("topics", "authors")},
            sort_keys=False,
            allow_unicode=True,
            width=110,
        )
    )
    files: dict[str, bytes] = {}
    notes = md.notes
    for name, paragraphs in draft.prose.items():
        files[f"{name}.md"] = ("\n\n".join(paragraphs) + "\n").encode()
    if notes:
        files.setdefault("closing.md", b"")
        extra = "\n\n".join(f"Note {i}: {note}" for i, note in enumerate(notes, 1))
        files["closing.md"] += (b"\n" if files["closing.md"] else b"") + extra.encode() + b"\n"
        report.append(f"[footnotes] {len(notes)} footnote(s) kept as numbered notes at the end of closing.md")
    files[REFERENCES_FILE] = (REFERENCES_HEADER + (written or "[]\n")).encode()
    return files, text, len(records)


def _references(draft: Draft, report: list[str]) -> dict[str, dict[str, Any]]:
    """Each entry of the draft's list as a record: its fields when it follows APA, AMA or Vancouver,
    else the entry kept whole as written (an unstructured reference, `text:`) with its DOI/PMID/URL."""
    records: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    for i, markdown in enumerate(draft.entries, 1):
        entry = parse_entry(markdown)
        if entry.parsed:
            key = new_id(entry.fields["author"][0], str(entry.fields["issued"])[:4], taken)
            records[key] = {"id": key, **entry.fields}
        else:
            year = re.search(r"\b(?:19|20)\d\d\b", entry.text)
            first = re.sub(r"[^\w\s-]", "", entry.text.split(",")[0]) or "ref"
            key = new_id(first, year.group() if year else "", taken)
            ids = {k: v for k, v in entry.fields.items() if k in ("DOI", "PMID", "URL")}
            records[key] = {"id": key, "text": entry.written or entry.text, **ids}
            report.append(
                f"[unstructured-reference] reference {i} follows none of APA, AMA or Vancouver; it is kept "
                f"whole as '{key}' and prints as written (write it out as fields when you can): {entry.text}"
            )
        taken.add(key)
    return records


def _records_yaml(records: dict[str, dict[str, Any]], report: list[str]) -> str:
    """The parsed records in references.yaml's style; a record the schema refuses is reported."""
    out = []
    for key, fields in sorted(records.items()):
        try:
            out.append(yaml_record(Reference.model_validate(fields)))
        except ValidationError as exc:
            problem = exc.errors()[0]
            report.append(f"[reference] {key}: {'.'.join(map(str, problem['loc']))}: {problem['msg']}")
            out.append(
                "".join(f"# {line}\n" for line in yaml.safe_dump([fields], allow_unicode=True).splitlines())
            )
    return "\n".join(out)


def _literature(draft: Draft, records: dict[str, dict[str, Any]], report: list[str]) -> list[dict[str, Any]]:
    groups = []
    for group in draft.literature:
        studies = []
        for study in group.studies:
            key = tie(study.cite, records) if study.cite else None
            if key is None:
                key = "TODO-unmatched"
                report.append(f"[unmatched-study] no reference in the list matches '{study.cite_text}'")
            elif "text" not in records[key]:  # an entry kept as written stays as written
                enrich(records[key], study.cite)  # type: ignore[arg-type]
            out: dict[str, Any] = {"ref": key}
            title = records.get(key, {}).get("title", "")
            if study.title and normal(study.title) != normal(title):
                out["title"] = study.title
            if study.summary:
                out["summary"] = study.summary
            out.update(study.facts)
            studies.append(out)
        entry: dict[str, Any] = {"indication": group.indication, "studies": studies}
        if group.note:
            entry["note"] = "\n\n".join(group.note)
        if not studies:
            report.append(f"[unmapped] the literature group '{group.indication}' has no study")
        groups.append(entry)
    return groups


def _authors(config: Config, draft: Draft, report: list[str]) -> list[dict[str, Any]]:
    out = []
    for person in draft.authors:
        email = person.get("contact", {}).get("email", "").casefold()
        member = next(
            (
                key
                for key, m in config.team.items()
                if normal(m.name) == normal(person["name"])
                or (email and m.contact and m.contact.email == email)
            ),
            None,
        )
        if member is not None:
            entry: dict[str, Any] = {"id": member}
            if person.get("role") and person["role"] != config.team[member].role:
                entry["role"] = person["role"]
        else:
            entry = {k: v for k, v in person.items() if v}
            try:
                AuthorEntry.model_validate(entry)
            except ValidationError as exc:
                report.append(f"[author] {person['name']}: {exc.errors()[0]['msg']}")
        out.append(entry)
    if not out:
        report.append("[author] no author team found before the first section: add authors to issue.yaml")
    return out


def _write(project: Project, target: Path, files: dict[str, bytes], images: dict[str, bytes]) -> None:
    """The bundle, all or nothing: staged next to its place, then renamed into it."""
    project.issues_dir.mkdir(exist_ok=True)
    staging = project.issues_dir / f".import-{target.name}-{secrets.token_hex(6)}"
    staging.mkdir()
    try:
        write_files(staging, files, root=project.root)
        if images:
            write_files(staging / ASSETS_DIR, images, within=staging, root=project.root)
        os.rename(staging, target)  # fails rather than merging if the folder appeared meanwhile
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
