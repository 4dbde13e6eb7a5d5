"""Holding a published issue to its record: validate, `tablet verify` and the archive trust a bundle's
published/ folder only as far as the project's publications.json (bundle/ledger.py) vouches for it.
`tablet publish` (site/publish.py) writes both.

A `published/` folder is trusted only when its manifest matches the record (a bundle is untrusted and
could ship its own). Only the fixed output names are ever read from it, each as a regular file opened
without following links, each checked against its sha256 before anything uses it, and the email HTML is
checked by the email rules again. After publication every change to the sources needs its own dated
entry under `corrections:`, recorded with `tablet publish SLUG --correction`, which makes the sources as
they are then the baseline that later edits are compared with. The corrections themselves are left out
of issue.yaml's source hash; a baseline pins them separately, so a recorded one cannot be rewritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from tablet_press.bundle.folder import ISSUE_FILE, PUBLISHED_DIR, Bundle
from tablet_press.bundle.ledger import (
    LEDGER_FILE,
    Damaged,
    Record,
    corrections_digest,
    count_field,
    damage,
    date_field,
    digest_field,
    object_field,
    read_ledger,
    sha256,
    sources_field,
    where,
)
from tablet_press.bundle.project import Project
from tablet_press.bundle.safefile import UnsafeFile, bundle_entries, read_bundle_file, read_for_hash
from tablet_press.checks import email_rules
from tablet_press.checks.retractions import since_publication
from tablet_press.errors import Problem, ValidationFailed, display_path

T = TypeVar("T")
MANIFEST = "manifest.json"
OUTPUT_KINDS = ("pdf", "html", "txt", "eml")  # what `tablet build` writes; nothing else is ever read
MAX_OUTPUT_BYTES = 200 * 1024 * 1024  # far above any issue, far below what would exhaust memory


def output_names(slug: str, archived_pdf: bool = False) -> list[str]:
    """The files published/ holds: what `tablet build` writes, or, for a back-catalog issue, the
    original PDF alone (as `tablet import PAST.pdf` recorded it)."""
    return [f"{slug}.pdf"] if archived_pdf else [f"{slug}.{kind}" for kind in OUTPUT_KINDS]


@dataclass(frozen=True)
class Manifest:
    published: date
    sources: dict[str, str]  # file (relative to the bundle) -> sha256
    outputs: dict[str, str]  # file in published/ -> sha256
    corrections: int  # how many corrections issue.yaml had when this was recorded

    def as_json(self) -> str:
        data = {
            "published": self.published.isoformat(),
            "sources": self.sources,
            "outputs": self.outputs,
            "corrections": self.corrections,
        }
        return json.dumps(data, indent=2) + "\n"


def parse_manifest(text: str, slug: str, archived_pdf: bool = False) -> tuple[Manifest | None, list[Damaged]]:
    """A manifest's fields, checked as strictly as tablet writes them: the manifest, or every field
    that is wrong. A file that is not a JSON object of the four fields raises Damaged or a JSON error."""
    raw = object_field(json.loads(text), "(the file)", {"published", "sources", "outputs", "corrections"})
    wrong: list[Damaged] = []

    def checked(check: Callable[[Any, str], T], key: str) -> T | None:
        try:
            return check(raw[key], key)
        except Damaged as exc:
            wrong.append(exc)
            return None

    published = checked(date_field, "published")
    sources = checked(sources_field, "sources")
    outputs = checked(lambda value, key: _outputs_field(value, key, slug, archived_pdf), "outputs")
    corrections = checked(count_field, "corrections")
    if published is None or sources is None or outputs is None or corrections is None:
        return None, wrong
    return Manifest(published, sources, outputs, corrections), []


def _outputs_field(value: Any, key: str, slug: str, archived_pdf: bool) -> dict[str, str]:
    """Exactly the fixed output names, each with a sha256: no other name is ever read or written."""
    outputs = object_field(value, key)
    expected = output_names(slug, archived_pdf)
    for name in outputs:
        if name not in expected:
            raise Damaged(
                f'"{key}" names {json.dumps(name)}, which is not a file tablet publish writes '
                f"({', '.join(expected)})",
                key,
            )
    if missing := [name for name in expected if name not in outputs]:
        raise Damaged(f'"{key}" does not list {", ".join(missing)}', key)
    return {name: digest_field(digest, key) for name, digest in outputs.items()}


def source_hashes(bundle: Bundle) -> dict[str, str]:
    """sha256 of every source file of the bundle; issue.yaml is hashed as data without corrections."""
    hashes = {}
    for relative in bundle_entries(bundle.path):
        if relative.parts[0] == PUBLISHED_DIR or relative.name.startswith("."):
            continue
        if relative.as_posix() == ISSUE_FILE:
            data = {k: v for k, v in bundle.issue_source.data.items() if k != "corrections"}
            hashes[ISSUE_FILE] = sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode())
        else:
            hashes[relative.as_posix()] = sha256(read_for_hash(bundle.path, relative))
    return hashes


def dated_corrections(bundle: Bundle) -> list[tuple[date, str]]:
    return [(c.date, c.text) for c in bundle.issue.corrections]


def _read_published(bundle: Bundle, name: str) -> bytes:
    """A file of published/, through no link, only if it is a regular file (safefile)."""
    return read_bundle_file(bundle.path, f"{PUBLISHED_DIR}/{name}", MAX_OUTPUT_BYTES)


@dataclass
class _Inspection:
    """What is known of one bundle's publication, and every problem with it."""

    record: Record | None = None
    manifest: Manifest | None = None
    outputs: dict[str, bytes] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _inspect(bundle: Bundle, project: Project, *, outputs: bool, recording: bool = False) -> _Inspection:
    """Hold a bundle's `published/` folder to the project's record, and its sources to the baseline.

    `outputs`: also read and check the frozen outputs (verify, the archive). `recording`: a correction
    is being recorded, so corrections not recorded yet are expected."""
    ledger, ledger_problems = read_ledger(project.root)
    folder = bundle.path / PUBLISHED_DIR
    found = _Inspection(ledger.records.get(bundle.slug))
    shown = f"{display_path(bundle.path, project.root)}/{PUBLISHED_DIR}"
    if not os.path.lexists(folder):
        if found.record is not None:
            line, col = ledger.line_of(bundle.slug)
            message = (
                f"issues/{bundle.slug} was published on {found.record.published} but {shown}/ is missing"
            )
            found.problems.append(
                Problem(LEDGER_FILE, line, col, message, hint="restore it from version control")
            )
        elif bundle.issue.archived_pdf:
            message = (
                f"a back-catalog issue (kind: archived-pdf) is its original PDF, but {shown}/ is missing "
                f"and {LEDGER_FILE} has no record of it"
            )
            hint = "add past issues with 'tablet import PAST.pdf --number N --date YYYY-MM-DD --title ...'"
            found.problems.append(bundle.issue_source.problem(("kind",), message, hint=hint))
    else:
        found.problems += ledger_problems
        _check_manifest(found, bundle, folder, shown)
        if outputs and found.manifest is not None and not found.problems:
            _read_outputs(found, bundle, folder, shown)
    if found.record is not None:
        found.problems += _source_problems(bundle, found.record, recording, project.root)
    return found


def _check_manifest(found: _Inspection, bundle: Bundle, folder: Path, shown: str) -> None:
    """Trust the manifest only if it is a regular file matching the record, with strict fields."""
    where_manifest = f"{shown}/{MANIFEST}"
    hint = "only 'tablet publish' writes published/"
    try:
        data = _read_published(bundle, MANIFEST)
    except UnsafeFile as exc:
        message = f"the publication record cannot be read: {exc.message}"
        found.problems.append(Problem(where_manifest, 1, 1, message, hint=exc.hint or hint))
        return
    record = found.record
    if record is None:
        message = f"this issue has a published/ folder, but {LEDGER_FILE} has no record of publishing it"
        hint += f": remove the folder; if the issue was published, restore {LEDGER_FILE} from version control"
        found.problems.append(Problem(where_manifest, 1, 1, message, hint=hint))
    elif sha256(data) != record.manifest_sha256:
        on = record.published
        message = f"the manifest does not match the record in {LEDGER_FILE} of the publication on {on}"
        found.problems.append(
            Problem(where_manifest, 1, 1, message, hint=hint + "; restore it from version control")
        )
    text = data.decode("utf-8", errors="replace")
    damaged = "the publication record is damaged"
    try:
        found.manifest, wrong = parse_manifest(text, bundle.slug, bundle.issue.archived_pdf)
    except (Damaged, json.JSONDecodeError, RecursionError) as exc:
        line, col, reason = damage(text, exc)
        found.problems.append(Problem(where_manifest, line, col, f"{damaged}: {reason}"))
        return
    for field_error in wrong:
        line, col = where(text, field_error.key)
        found.problems.append(Problem(where_manifest, line, col, f"{damaged}: {field_error}"))


def _read_outputs(found: _Inspection, bundle: Bundle, folder: Path, shown: str) -> None:
    """The fixed outputs as sent, each a regular file whose sha256 is the recorded one."""
    assert found.manifest is not None
    for name in output_names(bundle.slug, bundle.issue.archived_pdf):
        try:
            data = _read_published(bundle, name)
        except UnsafeFile as exc:
            if not os.path.lexists(folder / name):
                found.problems.append(Problem(f"{shown}/{name}", 1, 1, "a published output is missing"))
                continue
            message = f"a published output cannot be read: {exc.message}"
            found.problems.append(Problem(f"{shown}/{name}", 1, 1, message, hint=exc.hint))
            continue
        if sha256(data) != found.manifest.outputs[name]:
            found.problems.append(
                Problem(f"{shown}/{name}", 1, 1, "a published output differs from what was sent")
            )
            continue
        if name.endswith(".html"):
            html = data.decode("utf-8", errors="replace")
            for breach in email_rules.problems(html, files_beside=True):  # the standalone copy
                message = f"the email as sent breaks the email rules: {breach}"
                found.problems.append(Problem(f"{shown}/{name}", 1, 1, message))
        found.outputs[name] = data


def _source_problems(bundle: Bundle, record: Record, recording: bool, root: Path) -> list[Problem]:
    """Sources against the latest baseline: every change needs a correction, recorded."""
    problems = []
    latest = record.baselines[-1]
    corrections = dated_corrections(bundle)
    src = bundle.issue_source
    for i, (when, _) in enumerate(corrections):
        floor = record.published if i < latest.corrections else latest.date
        if when < floor:
            after = "the publication" if floor == record.published else "the last recorded correction"
            message = f"a correction cannot predate {after} on {floor.isoformat()}"
            problems.append(src.problem(("corrections", i, "date"), message))
    recorded = corrections[: latest.corrections]
    if len(recorded) < latest.corrections or corrections_digest(recorded) != latest.corrections_sha256:
        message = f"the corrections recorded up to {latest.date} were changed or removed"
        hint = "a recorded correction stays as it was; add a new dated entry below it instead"
        problems.append(src.problem(("corrections",), message, hint=hint))
    current = source_hashes(bundle)
    changed = sorted(f for f in set(current) | set(latest.sources) if current.get(f) != latest.sources.get(f))
    if len(record.baselines) == 1:
        since, since_when = "since", f"since the publication on {record.published}"
    else:
        since = since_when = f"since the correction of {latest.date} was recorded"
    pending = corrections[latest.corrections :]
    if pending and not recording:
        what = f"; {', '.join(changed)} changed {since_when}" if changed else ""
        for i, (when, _) in enumerate(pending, start=latest.corrections):
            problems.append(
                src.problem(
                    ("corrections", i),
                    f"the correction of {when} is not recorded yet{what}",
                    hint=f"run 'tablet publish {bundle.slug} --correction' to record it; the sources as they "
                    "are then become what later edits are checked against",
                )
            )
    elif changed and not pending:
        first = changed[0] if changed[0] in current else ISSUE_FILE
        problems.append(
            Problem(
                f"{display_path(bundle.path, root)}/{first}",
                1,
                1,
                f"this issue was published on {record.published} and {', '.join(changed)} changed {since}",
                hint="a published issue changes only with a correction: add an entry under corrections: in "
                "issue.yaml with today's date and what was corrected, then run "
                f"'tablet publish {bundle.slug} --correction'; the PDF and email as sent stay as they were",
            )
        )
    return problems


def check_published(bundle: Bundle, project: Project, *, recording: bool = False) -> list[Problem]:
    """validate's part: published/ matches the record, sources unchanged since the last baseline."""
    return _inspect(bundle, project, outputs=False, recording=recording).problems


def published_on(project: Project, slug: str) -> date | None:
    """When the issue was published, from the project's record (never from the bundle)."""
    record = read_ledger(project.root)[0].records.get(slug)
    return record.published if record else None


def frozen_outputs(bundle: Bundle, project: Project) -> dict[str, bytes] | None:
    """The outputs as sent, checked, for the archive; None when the issue is not published. Raises
    ValidationFailed with every problem when the folder does not hold what was recorded."""
    found = _inspect(bundle, project, outputs=True)
    if found.problems:
        raise ValidationFailed(found.problems)
    return found.outputs if found.record is not None else None


@dataclass
class Verified:
    """What `tablet verify` found: how many published issues, their corrections' history, problems."""

    checked: int = 0
    history: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def verify(project: Project, bundles: list[Bundle]) -> Verified:
    """Check every published issue: outputs byte-identical to the record and fit to serve, sources
    unchanged since the last recorded correction, no cited paper retracted since the retraction check
    it recorded (checks/retractions.py); and say which sources each correction changed."""
    ledger, problems = read_ledger(project.root)
    report = Verified(problems=list(problems))
    loaded = {bundle.slug for bundle in bundles}
    for slug, record in sorted(ledger.records.items()):
        if slug not in loaded:
            line, col = ledger.line_of(slug)
            message = f"issues/{slug} was published on {record.published} but could not be checked"
            hint = "it is missing or does not load; run 'tablet validate'"
            report.problems.append(Problem(LEDGER_FILE, line, col, message, hint=hint))
    for bundle in bundles:
        if bundle.slug not in ledger.records and not os.path.lexists(bundle.path / PUBLISHED_DIR):
            continue
        report.checked += 1
        found = _inspect(bundle, project, outputs=True)
        report.problems += [p for p in found.problems if p not in report.problems]
        if found.record is not None:
            report.history += _history(bundle.slug, found.record)
            lines, retracted = since_publication(bundle, project, found.record)
            report.history += lines
            report.problems += [p for p in retracted if p not in report.problems]
    report.problems.sort()
    return report


def _history(slug: str, record: Record) -> list[str]:
    """One line per recorded correction: which sources it changed."""
    lines = [f"issues/{slug}: published on {record.published}"]
    for before, after in zip(record.baselines, record.baselines[1:], strict=False):
        files = sorted(
            f
            for f in set(before.sources) | set(after.sources)
            if before.sources.get(f) != after.sources.get(f)
        )
        lines.append(
            f"issues/{slug}: the correction of {after.date} changed {', '.join(files) or 'no source'}"
        )
    return lines
