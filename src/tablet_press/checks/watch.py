"""`tablet validate --watch`: one resident process that checks the issues again on every save.

An editor (or a person at a terminal) gets the problems in tens of milliseconds after a save instead of
a cold `tablet validate` each time (about a quarter of a second, most of it Python importing pydantic,
PyYAML and markdown-it): the imports are paid once, and markdown already parsed is kept (checks only
read). Saves are noticed by polling each watched file's size, time and inode every POLL_SECONDS: no
thread, no extra dependency, and it works on network folders; a poll of one issue's files takes well
under a millisecond. Watched: the issues checked (every file in their folders, added or removed ones
too) and the project's own files that validation reads (tablet.yaml, publications.json).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tablet_press.bundle.ledger import LEDGER_FILE
from tablet_press.bundle.project import CONFIG_NAME, find_root, load_project
from tablet_press.checks.validate import validate
from tablet_press.errors import Problem, ValidationFailed

POLL_SECONDS = 0.05

Stamp = dict[str, tuple[int, int, int]]  # path -> (mtime_ns, size, inode)


@dataclass(frozen=True)
class Check:
    """One round of checks: every problem found, the issues checked and how long it took."""

    problems: list[Problem]
    issues: int
    seconds: float

    @property
    def errors(self) -> int:
        return sum(p.severity == "error" for p in self.problems)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors

    def failed(self, strict: bool) -> bool:
        return bool(self.errors or (strict and self.warnings))


def check(start: Path, paths: Sequence[Path], cwd: Path) -> Check:
    """Load the project and validate the issues `paths` name (as `tablet validate PATH...` does)."""
    began = time.perf_counter()
    try:
        project = load_project(start)
    except ValidationFailed as exc:  # tablet.yaml is being edited: say what is wrong, keep watching
        return Check(list(exc.problems), 0, time.perf_counter() - began)
    targets = project.targets(paths, cwd)
    report = validate(project, targets)
    issues = len(report.bundles) if not report.errors else len(targets or project.bundle_dirs())
    return Check(list(report.problems), issues, time.perf_counter() - began)


def _stamp(root: Path, folders: list[Path]) -> Stamp:
    """Size, time and inode of every file validation may read (an editor saving by renaming a new file
    over the old one changes the inode even within one clock tick)."""
    seen: Stamp = {}

    def note(path: str) -> None:
        try:
            info = os.stat(path)
        except OSError:
            return
        seen[path] = (info.st_mtime_ns, info.st_size, info.st_ino)

    for name in (CONFIG_NAME, LEDGER_FILE):
        note(os.path.join(root, name))
    for folder in folders:
        for here, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            note(here)
            for name in files:
                if not name.startswith(".") and not name.endswith(("~", ".swp", ".tmp")):
                    note(os.path.join(here, name))
    return seen


def rechecks(
    start: Path, paths: Sequence[Path], cwd: Path, stopping: Callable[[], bool] = lambda: False
) -> Iterator[Check]:
    """A check now, then one after every save, until `stopping()` says so (or the caller stops
    iterating). Raises ValidationFailed at once when there is no project here at all."""
    root = find_root(start)
    if root is None:
        load_project(start)  # raises with the usual message
    assert root is not None
    chosen = [Path(cwd, p) for p in paths] or [cwd]  # no PATH: the issue you are in, else every one

    def folders() -> list[Path]:
        issues = root / "issues"
        inside = [p for p in chosen if issues.resolve() in p.resolve().parents]
        if chosen and len(inside) == len(chosen):  # the issues named: their own folders
            return [issues / p.resolve().relative_to(issues.resolve()).parts[0] for p in inside]
        return [issues]

    before = _stamp(root, folders())
    yield check(start, paths, cwd)
    while not stopping():
        time.sleep(POLL_SECONDS)
        now = _stamp(root, folders())
        if now != before:
            before = now
            yield check(start, paths, cwd)
