"""Publishing freezes an issue: `tablet publish` stores the outputs as sent, with the sha256 of every
source and output, in issues/<slug>/published/; validate and `tablet verify` then hold the issue to them.

A published issue may change only with a dated entry under `corrections:` in issue.yaml. The
corrections themselves are left out of the sources' hash, so adding one never counts as a change.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tablet_press.bundle.folder import ISSUE_FILE, PUBLISHED_DIR, Bundle
from tablet_press.bundle.project import Project
from tablet_press.errors import BuildError, Problem, display_path

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Manifest:
    published: date
    sources: dict[str, str]  # file (relative to the bundle) -> sha256
    outputs: dict[str, str]  # file in published/ -> sha256
    corrections: int  # how many corrections issue.yaml had when this was recorded

    def as_json(self) -> str:
        return (
            json.dumps(
                {
                    "published": self.published.isoformat(),
                    "sources": self.sources,
                    "outputs": self.outputs,
                    "corrections": self.corrections,
                },
                indent=2,
            )
            + "\n"
        )


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def source_hashes(bundle: Bundle) -> dict[str, str]:
    """sha256 of every source file of the bundle; issue.yaml is hashed as data without corrections."""
    hashes = {}
    for file in sorted(p for p in bundle.path.rglob("*") if p.is_file()):
        relative = file.relative_to(bundle.path)
        if relative.parts[0] == PUBLISHED_DIR or relative.name.startswith("."):
            continue
        if relative.as_posix() == ISSUE_FILE:
            data = {k: v for k, v in bundle.issue_source.data.items() if k != "corrections"}
            hashes[ISSUE_FILE] = _sha(json.dumps(data, sort_keys=True, ensure_ascii=False).encode())
        else:
            hashes[relative.as_posix()] = _sha(file.read_bytes())
    return hashes


def read_manifest(bundle_dir: Path) -> Manifest | None:
    file = bundle_dir / PUBLISHED_DIR / MANIFEST
    if not file.exists():
        return None
    raw: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    return Manifest(date.fromisoformat(raw["published"]), raw["sources"], raw["outputs"], raw["corrections"])


def check_published(bundle: Bundle, project: Project) -> list[Problem]:
    """Problems with a published bundle: sources changed without a correction, misdated corrections."""
    shown = display_path(bundle.path, project.root)
    try:
        manifest = read_manifest(bundle.path)
    except (ValueError, KeyError, TypeError) as exc:
        return [
            Problem(f"{shown}/{PUBLISHED_DIR}/{MANIFEST}", 1, 1, f"the publication record is damaged ({exc})")
        ]
    if manifest is None:
        return []
    problems = []
    for i, correction in enumerate(bundle.issue.corrections):
        if correction.date < manifest.published:
            problems.append(
                bundle.issue_source.problem(
                    ("corrections", i, "date"),
                    f"a correction cannot predate the publication on {manifest.published.isoformat()}",
                )
            )
    current = source_hashes(bundle)
    changed = sorted(
        f for f in set(current) | set(manifest.sources) if current.get(f) != manifest.sources.get(f)
    )
    if changed and len(bundle.issue.corrections) <= manifest.corrections:
        first = changed[0] if changed[0] in current else ISSUE_FILE
        problems.append(
            Problem(
                f"{shown}/{first}",
                1,
                1,
                f"this issue was published on {manifest.published.isoformat()} and "
                f"{', '.join(changed)} changed since",
                hint="a published issue changes only with a correction: add an entry under corrections: in "
                "issue.yaml with today's date and what was corrected; the PDF and email as sent stay as "
                "they were",
            )
        )
    return problems


def publish(project: Project, bundle: Bundle, outputs: dict[str, bytes], when: date) -> Manifest:
    """Freeze `bundle` with its `outputs`: refuses if it was published already."""
    from tablet_press.build import write_atomically

    folder = bundle.path / PUBLISHED_DIR
    if folder.exists():
        manifest = read_manifest(bundle.path)
        on = f" on {manifest.published.isoformat()}" if manifest else ""
        raise BuildError(
            f"issues/{bundle.slug} was already published{on}; corrections go under corrections: in issue.yaml"
        )
    manifest = Manifest(
        when, source_hashes(bundle), {n: _sha(d) for n, d in outputs.items()}, len(bundle.issue.corrections)
    )
    write_atomically(folder, {**outputs, MANIFEST: manifest.as_json().encode()})
    return manifest


def frozen_outputs(bundle_dir: Path) -> dict[str, bytes] | None:
    """The outputs as sent, for the archive; None when the issue is not published."""
    manifest = read_manifest(bundle_dir)
    if manifest is None:
        return None
    return {name: (bundle_dir / PUBLISHED_DIR / name).read_bytes() for name in manifest.outputs}


def verify(project: Project, bundles: list[Bundle]) -> tuple[int, list[Problem]]:
    """Check every published issue: outputs byte-identical to the record, sources unchanged or corrected."""
    problems: list[Problem] = []
    count = 0
    for bundle in bundles:
        manifest = read_manifest(bundle.path)
        if manifest is None:
            continue
        count += 1
        shown = display_path(bundle.path / PUBLISHED_DIR, project.root)
        for name, digest in manifest.outputs.items():
            file = bundle.path / PUBLISHED_DIR / name
            if not file.is_file():
                problems.append(Problem(f"{shown}/{name}", 1, 1, "a published output is missing"))
            elif _sha(file.read_bytes()) != digest:
                problems.append(
                    Problem(f"{shown}/{name}", 1, 1, "a published output differs from what was sent")
                )
        problems += check_published(bundle, project)
    return count, problems
