"""Broken bundles on disk (tests/fixtures/broken/*) each give exactly the expected messages and exit 1.

Each fixture folder holds the files that differ from tests/fixtures/good/minimal/ (a REMOVE file lists
files to delete) and expected.txt, the exact lines `tablet validate` must print.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from conftest import FIXTURES, copy_project

BROKEN = sorted(p.name for p in (FIXTURES / "broken").iterdir())


def make_bundle(project: Path, name: str) -> Path:
    bundle = project / "issues" / name
    shutil.copytree(FIXTURES / "good" / "minimal", bundle)
    for file in (FIXTURES / "broken" / name).iterdir():
        if file.name == "REMOVE":
            for gone in file.read_text().split():
                (bundle / gone).unlink()
        elif file.name != "expected.txt":
            shutil.copy(file, bundle / file.name)
    return bundle


def test_there_are_at_least_15_broken_bundles() -> None:
    assert len(BROKEN) >= 15


def test_the_minimal_bundle_is_valid(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "p", bundles=())
    shutil.copytree(FIXTURES / "good" / "minimal", project / "issues" / "minimal")
    result = run("validate", "issues/minimal", cwd=project)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


@pytest.mark.parametrize("name", BROKEN)
def test_broken_bundle(name: str, tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "p", bundles=())
    make_bundle(project, name)
    result = run("validate", f"issues/{name}", cwd=project)
    expected = (FIXTURES / "broken" / name / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert result.stdout.splitlines() == expected
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.startswith("FAILED: ")
