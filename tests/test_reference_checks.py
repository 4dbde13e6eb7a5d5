"""Every reference check fails its own small bundle (tests/fixtures/refs/checks/*) with exactly the
expected message at file:line:col; the sample issue gets exactly its four unused-reference warnings."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from conftest import FIXTURES, copy_project

CHECKS = FIXTURES / "refs" / "checks"
ERRORS = [
    "unknown-cited-key",
    "unknown-study-ref",
    "duplicate-id",
    "duplicate-doi",
    "malformed-doi",
    "malformed-pmid",
]
WARNINGS = ["unused-reference", "heading-differs", "missing-locator"]


def test_every_check_has_a_bundle() -> None:
    assert sorted(p.name for p in CHECKS.iterdir()) == sorted(ERRORS + WARNINGS)


def bundle(tmp_path: Path, name: str) -> Path:
    """The minimal good bundle with the fixture's files laid over it."""
    project = copy_project(tmp_path / "p", bundles=())
    target = project / "issues" / name
    shutil.copytree(FIXTURES / "good" / "minimal", target)
    for file in (CHECKS / name).iterdir():
        if file.name != "expected.txt":
            shutil.copy(file, target / file.name)
    return project


@pytest.mark.parametrize("name", ERRORS + WARNINGS)
def test_check_reports_its_problem(name: str, tmp_path: Path, run: Callable[..., Result]) -> None:
    project = bundle(tmp_path, name)
    expected = (CHECKS / name / "expected.txt").read_text(encoding="utf-8").splitlines()
    result = run("validate", f"issues/{name}", cwd=project)
    assert result.stdout.splitlines() == expected
    assert result.exit_code == (1 if name in ERRORS else 0)
    if name in WARNINGS:  # a warning fails the build only with --strict
        assert run("validate", "--strict", f"issues/{name}", cwd=project).exit_code == 1


def test_the_sample_has_exactly_four_unused_references(project: Path, run: Callable[..., Result]) -> None:
    result = run("validate", cwd=project)
    unused = [line for line in result.stdout.splitlines() if "neither cited nor summarised" in line]
    assert [line.split("'")[1] for line in unused] == [
        "brown2009",
        "kim2020",
        "trofimovitch2019",
        "younger2014",
    ]
    assert result.exit_code == 0


def test_a_broken_entry_is_still_there_for_citations_and_the_rest_is_checked(tmp_path: Path) -> None:
    """A schema error in references.yaml and one in issue.yaml hide no cross-check: the broken entry's
    own error is reported, its citations are not called missing, and the topics are still checked."""
    from tablet_press.bundle.project import load_project
    from tablet_press.checks.validate import validate

    project = copy_project(tmp_path / "p", bundles=())
    bundle = project / "issues" / "minimal"
    shutil.copytree(FIXTURES / "good" / "minimal", bundle)
    refs = bundle / "references.yaml"
    refs.write_text(refs.read_text().replace("page: 663-672", "page: [663]"))
    issue = bundle / "issue.yaml"
    issue.write_text(issue.read_text().replace("topics: [naltrexone]", "topics: [naltrexon]"))
    issue.write_text(issue.read_text().replace("title: A minimal issue", "title: [A, list]"))
    report = validate(load_project(project))
    assert [(p.file.split("/")[-1], p.line, p.message) for p in report.problems] == [
        ("issue.yaml", 3, "expected text, got a list"),
        ("issue.yaml", 4, "unknown topic 'naltrexon'"),
        ("references.yaml", 9, "expected text, got a list"),
    ]
    assert report.bundles == []  # nothing with an error is ever built
