"""WeasyPrint's warnings are Problems: located in the stylesheet, counted by --strict, carried back from
worker processes, reported by the archive (also as JSON); its one piece of noise is left out."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tablet_press.build import pdf_job, print_html
from tablet_press.bundle.project import load_project
from tablet_press.checks.validate import validate
from tablet_press.errors import Problem
from tablet_press.render import weasylog
from tablet_press.render.pdf import pdf_workers

from conftest import FIXTURES, copy_project

TYPO = "styles/print.css:6:3: warning: [weasyprint] Ignored `colr: red`: unknown property."


def _project(root: Path, issues: int = 2) -> Path:
    """Issues without a single validation warning, and a CSS typo on line 6 of styles/print.css."""
    project = copy_project(root, bundles=())
    minimal = (FIXTURES / "good" / "minimal" / "issue.yaml").read_text()
    for n in range(issues):
        shutil.copytree(FIXTURES / "good" / "minimal", project / "issues" / f"issue-{n}")
        text = minimal.replace("number: 7", f"number: {7 + n}")
        (project / "issues" / f"issue-{n}" / "issue.yaml").write_text(text)
    css = project / "styles" / "print.css"
    lines = css.read_text().splitlines(keepends=True)
    assert lines[3].startswith("@page {")
    lines.insert(5, "  colr: red;\n")
    css.write_text("".join(lines))
    return project


def test_strict_build_refuses_a_css_typo_and_writes_nothing(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = _project(tmp_path / "project")
    result = run("build", "--strict", cwd=project)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [TYPO]  # two issues, one stylesheet: said once
    assert not (project / "dist").exists()


def test_a_build_reports_the_css_typo_and_writes(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = _project(tmp_path / "project")
    result = run("build", cwd=project)
    assert result.exit_code == 0
    assert result.stdout.splitlines().count(TYPO) == 1  # once, though both issues use the stylesheet
    assert (project / "dist" / "issue-1" / "issue-1.pdf").is_file()


def test_the_warnings_travel_back_from_a_worker_process(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path / "project", issues=1))
    bundle = validate(project).bundles[0]
    with pdf_workers(1) as pool:
        assert pool is not None
        made = pool.submit(pdf_job(bundle, project, print_html(bundle, project))).result()
    assert made.pdf.startswith(b"%PDF")
    assert [p.format() for p in made.problems] == [TYPO]


def test_the_archive_reports_problems_as_json(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = _project(tmp_path / "project")
    (project / "issues" / "issue-1" / "background.md").write_text("Cites [@nobody].\n")
    result = run("archive", "--format", "json", cwd=project)
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {
            "file": "issues/issue-1/background.md",
            "line": 1,
            "col": 8,
            "message": "citation [@nobody] has no entry in references.yaml",
            "field": "",
            "severity": "error",
            "hint": "",
        },
        {
            "file": "styles/print.css",
            "line": 6,
            "col": 3,
            "message": "[weasyprint] Ignored `colr: red`: unknown property.",
            "field": "",
            "severity": "warning",
            "hint": "",
        },
    ]
    assert result.stderr.strip().endswith("archive: 1 built, 0 reused, 1 failed; index pages rewritten")


@pytest.mark.parametrize(
    ("message", "sheet", "shown"),
    [
        (
            "Ignored `margin: x` at 12:3, invalid value.",
            Path("/p/styles/print.css"),
            "styles/print.css:12:3: warning: [weasyprint] Ignored `margin: x`: invalid value.",
        ),
        (
            "Anchor defined twice: 'x'",
            None,
            "issues/a: warning: [weasyprint] Anchor defined twice: 'x'",
        ),
    ],
)
def test_a_warning_is_located_in_its_stylesheet_else_at_the_issue(
    message: str, sheet: Path | None, shown: str
) -> None:
    assert weasylog.locate(message, sheet, "issues/a", Path("/p")).format() == shown


def test_the_harfbuzz_notice_is_noise_and_documented() -> None:
    notice = 'Using fontTools instead of HarfBuzz-Subset for font "Source Sans Pro". This will be ...'
    assert weasylog.is_noise(notice)
    assert not weasylog.is_noise("Ignored `colr: red` at 6:3, unknown property.")
    assert isinstance(weasylog.locate("x", None, "issues/a", None), Problem)
