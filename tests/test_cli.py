"""CLI wiring: exit codes, exact messages, JSON output, `tablet new`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from conftest import ROOT, SAMPLE


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
    assert "warning: [unused-reference] reference 'brown2009' is neither cited" in result.stdout


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
    assert again.stderr == "error: issues/2025-08-methadone already exists\nFAILED: nothing was written\n"
    assert {p: p.read_bytes() for p in bundle.iterdir()} == before
    assert [p.name for p in (project / "issues").iterdir() if p.name.startswith(".")] == []


def test_new_refuses_unsafe_names(project: Path, run: Callable[..., Result]) -> None:
    for slug in ("con", "Upper", "trailing-", "a b"):
        result = run("new", slug, cwd=project)
        assert result.exit_code == 1, slug
        assert not (project / "issues" / slug).exists()
    shutil.rmtree(project / "issues")
    assert run("new", "first", cwd=project).exit_code == 0


# ---------------------------------------------------------------- the CLI from anywhere in the project


def _second_issue(project: Path) -> Path:
    """A second issue with an error, so that 'which issues were checked' shows in the output."""
    other = project / "issues" / "2025-08-methadone"
    shutil.copytree(project / "issues" / SAMPLE, other)
    issue = other / "issue.yaml"
    issue.write_text(
        issue.read_text().replace("number: 1 ", "number: 2 ").replace("[low-dose-naltrexone,", "[nope,")
    )
    return other


def test_validate_takes_the_issue_you_are_in_in_any_form(project: Path, run: Callable[..., Result]) -> None:
    _second_issue(project)
    sample = project / "issues" / SAMPLE
    for args, cwd in [
        ((), sample),  # no PATH: the issue you are in, not every issue
        ((".",), sample),  # was: '' is not a valid issue folder name
        (("issue.yaml",), sample),  # a file of the issue names the issue
        ((str(sample),), project / "issues"),  # absolute
        ((f"../issues/{SAMPLE}",), project / "templates"),  # relative, from elsewhere in the project
    ]:
        result = run("validate", *args, cwd=cwd)
        assert (result.exit_code, result.stderr) == (0, "ok: 0 error(s), 24 warning(s) in 1 issue(s)\n"), args
    result = run("validate", cwd=project / "issues")  # outside any issue: every issue
    assert result.stderr == "FAILED: 1 error(s), 48 warning(s) in 2 issue(s)\n"
    assert run("validate", ".", cwd=project).stderr == result.stderr  # the project root: every issue


def test_build_writes_to_the_projects_dist_from_anywhere(project: Path, run: Callable[..., Result]) -> None:
    _second_issue(project)  # broken, but not built: you are in the sample
    (project / "docs").mkdir()
    result = run("build", f"../issues/{SAMPLE}/background.md", cwd=project / "docs")
    assert result.exit_code == 0, result.output
    assert f"wrote dist/{SAMPLE}/{SAMPLE}.pdf" in result.stdout.splitlines()  # as problems show paths
    assert (project / "dist" / SAMPLE / f"{SAMPLE}.eml").is_file() and not (
        project / "docs" / "dist"
    ).exists()
    result = run("build", cwd=project / "issues" / SAMPLE)  # was: refused, output folder inside issues/
    assert result.exit_code == 0, result.output
    assert f"wrote dist/{SAMPLE}/{SAMPLE}.txt" in result.stdout.splitlines()
    assert not (project / "issues" / SAMPLE / "dist").exists()


def test_every_refusal_ends_saying_nothing_was_written(project: Path, run: Callable[..., Result]) -> None:
    result = run("build", "--strict", cwd=project)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "FAILED: 24 warning(s), which --strict counts as errors; nothing was written"
    )
    assert not (project / "dist").exists()
    _second_issue(project)
    result = run("build", cwd=project)
    assert (
        "issues/2025-08-methadone/issue.yaml:6:10: error: unknown topic 'nope' "
        "(add it to topics: in tablet.yaml) [topics[0]]" in result.stdout
    )
    assert result.stderr.splitlines()[-1] == "FAILED: 1 error(s), 48 warning(s); nothing was written"
    assert not (project / "dist").exists()
    result = run("publish", cwd=project)
    assert (result.exit_code, result.stderr) == (
        1,
        "error: name the issue to publish (tablet publish SLUG), or run this inside its folder\n"
        "FAILED: nothing was written\n",
    )
    result = run("refs", "import", "nowhere.bib", "--issue", f"issues/{SAMPLE}", cwd=project)
    assert (result.exit_code, result.stdout) == (1, "nowhere.bib:1:1: error: no such file\n")
    assert result.stderr == "FAILED: 1 error(s), 0 warning(s); nothing was written\n"
    result = run("refs", "import", "templates", "--issue", f"issues/{SAMPLE}", cwd=project)
    assert result.stdout == "templates:1:1: error: is a folder, not a file\n"


def test_publish_takes_a_slug_or_a_path(project: Path, run: Callable[..., Result]) -> None:
    from tablet_press.bundle.project import load_project

    loaded = load_project(project)
    issue = project / "issues" / SAMPLE
    assert loaded.issue_named(SAMPLE, project) == issue
    assert loaded.issue_named(".", issue) == issue
    assert loaded.issue_named("issue.yaml", issue) == issue
    assert loaded.issue_named(SAMPLE, project / "issues") == issue


def test_output_piped_into_a_reader_that_stops_early_ends_quietly(project: Path) -> None:
    """`tablet validate | head -1`: the reader closes the pipe long before the last warning; tablet
    stops with exit 1 and says nothing more (no "internal error", no Python complaint)."""
    background = project / "issues" / SAMPLE / "background.md"
    background.write_text("".join(f"Take {i}mg at night.\n\n" for i in range(3000)), encoding="utf-8")
    run = subprocess.Popen(
        [sys.executable, "-m", "tablet_press", "validate"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert run.stdout is not None and run.stderr is not None
    first = run.stdout.readline()
    run.stdout.close()  # what `head -1` does after its line
    stderr = run.stderr.read().decode()
    assert run.wait(timeout=120) == 1
    assert b"warning" in first
    assert "internal error" not in stderr and "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
