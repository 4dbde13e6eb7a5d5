"""Reads one issue bundle (issues/<slug>/) from disk into typed parts, keeping source positions."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from tablet_press.bundle.loader import Located, load_yaml, read_text
from tablet_press.bundle.model import ARCHIVED_PDF, Issue, Reference, References
from tablet_press.bundle.outline import PROSE_PARTS, REQUIRED_PROSE
from tablet_press.bundle.safefile import link_refused
from tablet_press.bundle.schema import parse, parse_partial
from tablet_press.errors import Problem, did_you_mean, display_path

ISSUE_FILE = "issue.yaml"
REFERENCES_FILE = "references.yaml"
ASSETS_DIR = "assets"
PUBLISHED_DIR = "published"  # written by `tablet publish` only: the outputs as sent, and their hashes
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}


@dataclass(frozen=True)
class Prose:
    part: str
    file: str  # as shown to the user
    text: str


@dataclass(frozen=True)
class Bundle:
    """One loaded issue: the model objects plus what is needed to point at their sources."""

    slug: str
    path: Path
    issue: Issue
    references: tuple[Reference, ...]
    prose: dict[str, Prose]
    issue_source: Located
    references_source: Located | None

    def reference(self, key: str) -> Reference | None:
        return next((r for r in self.references if r.id == key), None)


def slug_problem(slug: str, shown: str) -> Problem | None:
    """Slugs must be safe as folder and file names on Linux, macOS and Windows, and in URLs."""
    if not _SLUG.match(slug):
        return Problem(
            shown,
            1,
            1,
            f"'{slug}' is not a valid issue folder name",
            hint="use lower-case letters, digits and single dashes, e.g. 2025-07-low-dose-naltrexone",
        )
    if slug.split("-")[0] in _RESERVED or slug in _RESERVED:
        return Problem(shown, 1, 1, f"'{slug}' is a reserved name on Windows; choose another folder name")
    return None


@dataclass
class Parts:
    """What could be read of a bundle, even when some of it is broken, so that every check that
    can still run does (a prose file's citations are checked even if issue.yaml does not parse)."""

    path: Path
    problems: list[Problem]
    issue: Issue | None = None
    issue_source: Located | None = None
    references: tuple[Reference, ...] = ()
    references_source: Located | None = None
    prose: dict[str, Prose] | None = None
    # Every id written in references.yaml, even of entries with errors: a citation of an entry that
    # is there but broken is not "missing" (the entry's own error says what to fix).
    # Every id written in references.yaml, even in entries with errors; None when it could not be read.
    reference_ids: tuple[str, ...] | None = ()

    def bundle(self) -> Bundle | None:
        if self.issue is None or self.issue_source is None or self.prose is None:
            return None
        if any(p.severity == "error" for p in self.problems):
            return None
        return Bundle(
            self.path.name,
            self.path,
            self.issue,
            self.references,
            self.prose,
            self.issue_source,
            self.references_source,
        )

    def partial(self) -> Bundle | None:
        """The bundle as far as it parsed, for the cross-checks of its good parts when `bundle()` is
        None: issue.yaml's valid top-level fields (schema.parse_partial), the references that parsed
        (none when references.yaml has errors) and the prose files that read. None when issue.yaml is
        missing or is not YAML at all. Never rendered: only validation sees it."""
        if self.issue_source is None:
            return None
        issue = self.issue if self.issue is not None else parse_partial(Issue, self.issue_source)
        if issue is None:
            return None
        return Bundle(
            self.path.name,
            self.path,
            issue,
            self.references,
            self.prose or {},
            self.issue_source,
            self.references_source,
        )


def _archived_pdf(parts: Parts) -> bool:
    """Whether issue.yaml says kind: archived-pdf, read from the YAML itself so that a schema error
    elsewhere in the file does not bring back the prose files' requirements."""
    data = parts.issue_source.data if parts.issue_source is not None else None
    return isinstance(data, dict) and data.get("kind") == ARCHIVED_PDF


def load_bundle(path: Path, root: Path) -> tuple[Bundle | None, list[Problem]]:
    """Load every file of a bundle; the bundle is None when any error was found."""
    parts = read_parts(path, root)
    return parts.bundle(), parts.problems


def read_parts(path: Path, root: Path) -> Parts:
    """Read every file of a bundle, gathering all problems."""
    shown = display_path(path, root)
    parts = Parts(path, [])
    problems = parts.problems
    if path.is_symlink():  # every file would be refused; say it once, of the folder
        refused = link_refused(path.name, folder=True)
        problems.append(Problem(shown, 1, 1, refused.message, hint=refused.hint))
        return parts
    if not path.is_dir():
        problems.append(Problem(shown, 1, 1, "not an issue folder (expected a folder with issue.yaml)"))
        return parts
    bad_slug = slug_problem(path.name, shown)
    if bad_slug:
        problems.append(bad_slug)

    issue_path = path / ISSUE_FILE
    if not os.path.lexists(issue_path):  # a link is there, to be refused by name, not "missing"
        problems.append(
            Problem(shown, 1, 1, f"missing {ISSUE_FILE}", hint="start a new issue with 'tablet new SLUG'")
        )
    else:
        parts.issue_source, found = load_yaml(issue_path, display_path(issue_path, root), within=path)
        problems += found
        if parts.issue_source is not None:
            parts.issue, found = parse(Issue, parts.issue_source)
            problems += found

    ref_path = path / REFERENCES_FILE
    if os.path.lexists(ref_path):
        source, found = load_yaml(ref_path, display_path(ref_path, root), within=path)
        problems += found
        parts.reference_ids = None
        if source is not None:
            source.root = "references"
            if source.data is None or source.data == {}:
                source.data = []
            parsed, found = parse(References, source, wrap="references")
            entries = source.data if isinstance(source.data, list) else []
            parts.reference_ids = tuple(
                e["id"] for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)
            )
            problems += found
            parts.references = tuple(parsed.references) if parsed else ()
            parts.references_source = source

    prose: dict[str, Prose] = {}
    for file in sorted(path.iterdir()):
        name = file.name
        if name.startswith(".") or name in (ISSUE_FILE, REFERENCES_FILE, ASSETS_DIR, PUBLISHED_DIR):
            continue
        if file.suffix == ".md" and file.stem in PROSE_PARTS:
            text, found = read_text(file, display_path(file, root), within=path)
            problems += found
            if text is not None:
                prose[file.stem] = Prose(file.stem, display_path(file, root), text)
        elif file.suffix in (".md", ".yaml", ".yml"):
            known = [f"{p}.md" for p in PROSE_PARTS] + [ISSUE_FILE, REFERENCES_FILE]
            problems.append(
                Problem(
                    display_path(file, root),
                    1,
                    1,
                    f"unknown file '{name}' in the issue folder",
                    hint=did_you_mean(name, known) or f"expected one of: {', '.join(known)}",
                )
            )
    if _archived_pdf(parts):  # a back-catalog issue: its text is the original PDF
        for name in [*(f"{p}.md" for p in sorted(prose)), REFERENCES_FILE, ASSETS_DIR]:
            if os.path.lexists(path / name):
                message = (
                    f"'{name}' in a back-catalog issue (kind: archived-pdf): its text is the original PDF "
                    f"in {PUBLISHED_DIR}/, so it holds only issue.yaml"
                )
                problems.append(
                    Problem(display_path(path / name, root), 1, 1, message, hint=f"remove {name}")
                )
        parts.prose = {}
        return parts
    for part in REQUIRED_PROSE:
        if part not in prose and not os.path.lexists(path / f"{part}.md"):
            problems.append(Problem(shown, 1, 1, f"missing {part}.md ({PROSE_PARTS[part]})"))
    parts.prose = prose
    return parts
