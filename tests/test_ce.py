"""The continuing-education block (issue 19 part 1): the passing side of each rule at its edge (the
failing side is a broken fixture each: tests/fixtures/broken/ce-*), the defaults of tablet.yaml, the
off-label statement made from the issue, reviewed_by, and the block in the email and the .txt.

Each test edits tests/fixtures/good/ce (a full CE block: both audiences, two UANs, a planner, a peer
reviewer, off-label use) in a fresh project copy and validates it through the library."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bundle_edits import edit, run, shown
from tablet_press.bundle.project import load_project
from tablet_press.checks.ce import UAN, years_after
from tablet_press.render.view import issue_view

from conftest import FIXTURES, copy_project


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    project = copy_project(tmp_path / "project", ())
    shutil.copytree(FIXTURES / "good" / "ce", project / "issues" / "ce")
    return project / "issues" / "ce"


def test_the_full_ce_fixture_is_valid(bundle: Path) -> None:
    assert shown(run(bundle)) == []


@pytest.mark.parametrize(
    "uan",
    ["0999-0000-25-017-H01-P", "0999-9999-25-017-L05-P", "0001-0000-09-999-B08-P"],
)
def test_well_formed_uans_pass(bundle: Path, uan: str) -> None:
    edit(bundle / "issue.yaml", "0999-0000-25-017-H01-P", uan)
    assert shown(run(bundle)) == []


@pytest.mark.parametrize(
    "uan", ["0999-0000-25-017-H01", "0999000025017H01P", "0999-0000-25-017-H1-P", "0999-0000-25-017-h01-p"]
)
def test_the_uan_pattern_refuses_near_misses(uan: str) -> None:
    assert UAN.match(uan) is None


@pytest.mark.parametrize("hours", ['"1"', "2", "1.25", "0.5", '"0.05"'])
def test_positive_hours_with_at_most_two_decimals_pass(bundle: Path, hours: str) -> None:
    edit(bundle / "issue.yaml", 'hours: "1.25"', f"hours: {hours}")
    assert shown(run(bundle)) == []


def test_hours_are_printed_as_written(bundle: Path) -> None:
    """YAML never re-types a value: 1.10 stays 1.10 (a float would print 1.1)."""
    edit(bundle / "issue.yaml", 'hours: "1.25"', "hours: 1.10")
    report = run(bundle)
    view = issue_view(report.bundles[0], load_project(bundle.parent.parent))
    assert view.ce is not None
    assert [f.value for f in view.ce.facts if f.label == "Contact hours"] == ["1.10 (0.11 CEU)"]


def test_release_on_the_issue_date_and_expiry_three_years_later_pass(bundle: Path) -> None:
    # the fixture: released on the issue's date, expiring on the same day three years later
    text = (bundle / "issue.yaml").read_text()
    assert "date: 2025-11-03" in text and "release: 2025-11-03" in text and "expires: 2028-11-03" in text
    assert shown(run(bundle)) == []


def test_three_years_after_29_february_is_28_february() -> None:
    from datetime import date

    assert years_after(date(2028, 2, 29), 3) == date(2031, 2, 28)


def test_defaults_come_from_tablet_yaml(bundle: Path) -> None:
    project = bundle.parent.parent
    edit(bundle / "issue.yaml", "  provider: Example College of Pharmacy\n", "")
    text = (bundle / "issue.yaml").read_text()
    start = text.index("  claim: >-")
    end = text.index("  objectives:")
    (bundle / "issue.yaml").write_text(text[:start] + text[end:])
    with (project / "tablet.yaml").open("a") as config:
        config.write("ce:\n  provider: Shared Provider College\n  claim: Claim it on the shared portal.\n")
    report = run(bundle)
    assert shown(report) == []
    view = issue_view(report.bundles[0], load_project(project))
    assert view.ce is not None
    assert view.ce.accreditation.startswith(
        "Shared Provider College is accredited by the Accreditation Council"
    )
    assert view.ce.claim == "Claim it on the shared portal."


def test_the_off_label_statement_is_made_from_the_drug_topics(bundle: Path) -> None:
    report = run(bundle)
    view = issue_view(report.bundles[0], load_project(bundle.parent.parent))
    assert view.ce is not None
    assert view.ce.off_label == (
        "This activity discusses off-label use of low-dose naltrexone (LDN): uses, doses or routes that "
        "the US Food and Drug Administration has not approved."
    )


def test_a_written_off_label_statement_is_printed_as_written(bundle: Path) -> None:
    edit(
        bundle / "issue.yaml",
        "  planners:",
        "  off_label_statement: Naltrexone is discussed below 50 mg, an off-label dose.\n  planners:",
    )
    report = run(bundle)
    assert shown(report) == []
    view = issue_view(report.bundles[0], load_project(bundle.parent.parent))
    assert (
        view.ce is not None and view.ce.off_label == "Naltrexone is discussed below 50 mg, an off-label dose."
    )


def test_no_off_label_statement_without_off_label_use(bundle: Path) -> None:
    edit(bundle / "issue.yaml", "off_label: true", "off_label: false")
    report = run(bundle)
    view = issue_view(report.bundles[0], load_project(bundle.parent.parent))
    assert view.ce is not None and view.ce.off_label is None


def test_a_person_with_two_roles_discloses_once(bundle: Path) -> None:
    """The author who also peer-reviews is one line, with both roles; one disclosure covers both."""
    edit(bundle / "issue.yaml", "reviewed_by:\n", "reviewed_by:\n  - id: lowry\n")
    report = run(bundle)
    assert shown(report) == []
    view = issue_view(report.bundles[0], load_project(bundle.parent.parent))
    assert view.ce is not None
    lines = [(d.name, d.roles, d.relationships) for d in view.ce.disclosures]
    assert lines[0] == ("Maria Felton Lowry, PharmD, BCPS, BCGP", "author and peer reviewer", ())
    assert len(lines) == 4


def test_reviewers_from_the_team_by_id(bundle: Path) -> None:
    edit(bundle / "issue.yaml", "reviewed_by:\n", "reviewed_by:\n  - id: lowry\n")
    report = run(bundle)
    view = issue_view(report.bundles[0], load_project(bundle.parent.parent))
    assert [p.name for p in view.reviewers] == [
        "Maria Felton Lowry, PharmD, BCPS, BCGP",
        "Samuel Okafor, PharmD, BCPS",
    ]


def test_relationships_none_is_case_insensitive(bundle: Path) -> None:
    edit(bundle / "issue.yaml", "relationships: none", "relationships: None")
    assert shown(run(bundle)) == []


def test_a_schema_error_in_ce_does_not_hide_the_other_checks(bundle: Path) -> None:
    """`ce:` with a type error is dropped whole; the rest of the issue is still checked."""
    edit(bundle / "issue.yaml", "activity_type: knowledge", "activity_type: knowlege")
    edit(bundle / "issue.yaml", "topics: [low-dose-naltrexone]", "topics: [low-dose-naltrexon]")
    messages = shown(run(bundle))
    assert any("'knowlege' is not one of: knowledge, application, practice" in m for m in messages)
    assert any("unknown topic 'low-dose-naltrexon'" in m for m in messages)
