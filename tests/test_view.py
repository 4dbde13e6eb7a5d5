"""The view model the outputs share: here, the author team's headings (render/view.py)."""

from __future__ import annotations

from pathlib import Path

from tablet_press.bundle.project import load_project
from tablet_press.checks.validate import validate
from tablet_press.render.view import issue_view

from conftest import SAMPLE, copy_project


def _headings(project: Path) -> list[tuple[str, int]]:
    loaded = load_project(project)
    report = validate(loaded, None)
    assert not report.errors, [p.format() for p in report.errors]
    return [(group.label, len(group.people)) for group in issue_view(report.bundles[0], loaded).author_groups]


def test_a_role_heading_is_singular_over_one_person(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    assert _headings(project) == [("Guest Authors", 2), ("Clinical Pharmacy Specialist", 1)]  # the seed's
    issue = project / "issues" / SAMPLE / "issue.yaml"
    text = issue.read_text(encoding="utf-8")
    second = text[text.index("  - role: guest\n    name: Jaxon") : text.index("  - id: lowry")]
    issue.write_text(text.replace(second, "").replace("  - id: lowry\n", "  - id: lowry\n  - id: lowry\n"))
    assert _headings(project) == [("Guest Author", 1), ("Clinical Pharmacy Specialists", 2)]


def test_a_role_given_one_text_prints_it_for_any_number(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    config = project / "tablet.yaml"
    text = config.read_text(encoding="utf-8")
    forms = "  guest:\n    one: Guest Author\n    many: Guest Authors\n"
    assert forms in text
    config.write_text(text.replace(forms, "  guest: Guest Authors\n"), encoding="utf-8")
    assert _headings(project)[0] == ("Guest Authors", 2)
    issue = project / "issues" / SAMPLE / "issue.yaml"
    text = issue.read_text(encoding="utf-8")
    issue.write_text(
        text[: text.index("  - role: guest\n    name: Jaxon")] + text[text.index("  - id: lowry") :]
    )
    assert _headings(project)[0] == ("Guest Authors", 1)
