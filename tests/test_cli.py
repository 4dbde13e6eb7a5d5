"""CLI wiring: exit codes, exact messages, JSON output, `tablet new`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from conftest import SAMPLE


def test_usage_error_exits_2(project: Path, run: Callable[..., Result]) -> None:
    result = run("validate", "--format", "xml", cwd=project)
    assert result.exit_code == 2


def test_validate_json_format(project: Path, run: Callable[..., Result]) -> None:
    (project / "issues" / SAMPLE / "issue.yaml").write_text(
        (project / "issues" / SAMPLE / "issue.yaml").read_text().replace("number: 1 ", "number: one ")
    )
    result = run("validate", "--format", "json", cwd=project)
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    errors = [p for p in problems if p["severity"] == "error"]
    assert errors == [
        {
            "file": f"issues/{SAMPLE}/issue.yaml",
            "line": 3,
            "col": 9,
            "message": "'one' is not a whole number",
            "field": "number",
            "severity": "error",
            "hint": "",
        }
    ]


def test_strict_turns_warnings_into_failure(project: Path, run: Callable[..., Result]) -> None:
    assert run("validate", cwd=project).exit_code == 0
    result = run("validate", "--strict", cwd=project)
    assert result.exit_code == 1
    assert "warning: reference 'brown2009' is neither cited nor summarised" in result.stdout


def test_outside_a_project(tmp_path: Path, run: Callable[..., Result]) -> None:
    result = run("validate", cwd=tmp_path)
    assert result.exit_code == 1
    assert "no tablet.yaml found here or in any parent folder" in result.stdout


def test_new_creates_a_valid_bundle_and_never_overwrites(project: Path, run: Callable[..., Result]) -> None:
    result = run("new", "2025-08-methadone", cwd=project)
    assert result.exit_code == 0, result.output
    bundle = project / "issues" / "2025-08-methadone"
    text = (bundle / "issue.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../../schema/issue.schema.json")
    assert "number: 2\n" in text and "- id: lowry" in text
    assert run("validate", "issues/2025-08-methadone", cwd=project).exit_code == 0

    (bundle / "background.md").write_text("My own words.\n")
    before = {p: p.read_bytes() for p in bundle.iterdir()}
    again = run("new", "2025-08-methadone", cwd=project)
    assert again.exit_code == 1
    assert again.stderr == "error: issues/2025-08-methadone already exists; nothing was changed\n"
    assert {p: p.read_bytes() for p in bundle.iterdir()} == before
    assert [p.name for p in (project / "issues").iterdir() if p.name.startswith(".")] == []


def test_new_refuses_unsafe_names(project: Path, run: Callable[..., Result]) -> None:
    for slug in ("con", "Upper", "trailing-", "a b"):
        result = run("new", slug, cwd=project)
        assert result.exit_code == 1, slug
        assert not (project / "issues" / slug).exists()
    shutil.rmtree(project / "issues")
    assert run("new", "first", cwd=project).exit_code == 0
