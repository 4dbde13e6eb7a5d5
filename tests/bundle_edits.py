"""Helpers for tests that edit a copied bundle and validate it through the library."""

from __future__ import annotations

from pathlib import Path

from tablet_press.bundle.project import load_project
from tablet_press.checks.validate import Report, validate


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert old in text, f"{old!r} is not in {file.name}"
    file.write_text(text.replace(old, new, 1))


def run(bundle: Path) -> Report:
    return validate(load_project(bundle.parent.parent))


def shown(report: Report) -> list[str]:
    return [p.format() for p in report.problems]
