"""validate() called as a library (checks/validate.py) on small bundles made in tmp_path from
tests/fixtures/good/minimal: each cross-check with its exact located message, and Report.failed with
and without strict."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from bundle_edits import edit, run, shown
from tablet_press.bundle.project import load_project
from tablet_press.checks.validate import validate

from conftest import FIXTURES, copy_project

HINT_IMAGE = "put the image in the issue's assets/ folder and write ![description](assets/name.png)"


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """issues/minimal/ in a fresh copy of the project, to be edited by the test."""
    project = copy_project(tmp_path / "project", ())
    shutil.copytree(FIXTURES / "good" / "minimal", project / "issues" / "minimal")
    return project / "issues" / "minimal"


def test_the_minimal_bundle_is_valid_and_loaded(bundle: Path) -> None:
    report = run(bundle)
    assert report.problems == []
    assert [b.slug for b in report.bundles] == ["minimal"]
    assert not report.failed() and not report.failed(strict=True)


def test_validate_only_the_paths_given(bundle: Path) -> None:
    shutil.copytree(bundle, bundle.parent / "other")
    edit(bundle.parent / "other" / "issue.yaml", "number: 7", "number: 8")
    project = load_project(bundle.parent.parent)
    assert [b.slug for b in validate(project).bundles] == ["minimal", "other"]
    assert [b.slug for b in validate(project, [bundle]).bundles] == ["minimal"]


def test_unknown_author(bundle: Path) -> None:
    edit(bundle / "issue.yaml", "id: lowry", "id: lowrey")
    assert shown(run(bundle)) == [
        "issues/minimal/issue.yaml:6:9: error: no team member 'lowrey' in tablet.yaml "
        "(did you mean 'lowry'?) [authors[0].id]"
    ]


def test_unknown_role_and_a_guest_without_one(bundle: Path) -> None:
    edit(bundle / "issue.yaml", "  - id: lowry", "  - id: lowry\n    role: pharmacst\n  - name: Guest Person")
    assert shown(run(bundle)) == [
        "issues/minimal/issue.yaml:7:11: error: unknown role 'pharmacst' (did you mean 'pharmacist'?) "
        "[authors[0].role]",
        "issues/minimal/issue.yaml:8:5: error: this author needs a role (add role: with one of guest, "
        "pharmacist) [authors[1]]",
    ]


def test_unknown_topic_but_known_ones_pass(bundle: Path) -> None:
    edit(bundle / "issue.yaml", "[naltrexone]", "[opioids, naltrexon]")
    assert shown(run(bundle)) == [
        "issues/minimal/issue.yaml:4:19: error: unknown topic 'naltrexon' (did you mean 'naltrexone'?) "
        "[topics[1]]"
    ]


def test_a_study_of_an_unknown_reference(bundle: Path) -> None:
    edit(bundle / "issue.yaml", "ref: younger2009", "ref: younger2010")
    assert shown(run(bundle)) == [
        "issues/minimal/issue.yaml:12:14: error: study refers to 'younger2010', which is not in "
        "references.yaml (did you mean 'younger2009'?) [literature[0].studies[0].ref]"
    ]


def test_a_citation_of_an_unknown_reference_in_issue_yaml(bundle: Path) -> None:
    edit(bundle / "issue.yaml", "[@younger2009]", "[@younger2019]")
    assert shown(run(bundle)) == [
        "issues/minimal/issue.yaml:17:27: error: citation [@younger2019] has no entry in references.yaml "
        "(did you mean 'younger2009'?) [bottom_line[0]]"
    ]


def test_a_citation_of_an_unknown_reference_in_a_prose_file(bundle: Path) -> None:
    (bundle / "background.md").write_text("Line one.\n\nAs shown [@smith2020].\n")
    assert shown(run(bundle)) == [
        "issues/minimal/background.md:3:11: error: citation [@smith2020] has no entry in references.yaml"
    ]


def test_duplicate_reference_ids_and_dois(bundle: Path) -> None:
    refs = bundle / "references.yaml"
    refs.write_text(refs.read_text() * 2)
    assert shown(run(bundle)) == [
        "issues/minimal/references.yaml:11:7: error: duplicate reference id 'younger2009' (also reference 1) "
        "[references[1].id]",
        "issues/minimal/references.yaml:20:8: error: duplicate DOI 10.1111/j.1526-4637.2009.00613.x "
        "(also in 'younger2009') [references[1].DOI]",
    ]


def test_a_doi_written_as_a_link_is_malformed(bundle: Path) -> None:
    edit(bundle / "references.yaml", "DOI: 10.1111", "DOI: https://doi.org/10.1111")
    assert shown(run(bundle)) == [
        "issues/minimal/references.yaml:10:8: error: malformed DOI "
        "'https://doi.org/10.1111/j.1526-4637.2009.00613.x' (a DOI starts with 10. and has a slash, e.g. "
        "10.1002/ana.22006; leave out https://doi.org/) [references[0].DOI]"
    ]


def test_two_issues_with_one_number(bundle: Path) -> None:
    shutil.copytree(bundle, bundle.parent / "second")
    report = run(bundle)
    assert shown(report) == [
        "issues/second/issue.yaml:1:9: error: issue number 7 is also used by 'minimal' [number]"
    ]
    assert report.failed()


def test_markdown_problems_in_a_prose_file_each_located(bundle: Path) -> None:
    (bundle / "background.md").write_text(
        "Intro.\n\n::: perl\nx\n:::\n\nA <b>bold</b> [x](javascript:alert(1)) [y](ftp://x.org) [z](#)\n"
    )
    assert shown(run(bundle)) == [
        "issues/minimal/background.md:3:1: error: unknown callout kind 'perl' (did you mean 'pearl'?)",
        "issues/minimal/background.md:7:3: error: raw HTML is not allowed in the text: '<b>' "
        "(use markdown (*italic*, **bold**, lists) instead)",
        "issues/minimal/background.md:7:10: error: raw HTML is not allowed in the text: '</b>' "
        "(use markdown (*italic*, **bold**, lists) instead)",
        "issues/minimal/background.md:7:19: error: link 'javascript:alert(1)' is not allowed "
        "(links must start with https://, http://, mailto: or tel:)",
        "issues/minimal/background.md:7:44: error: link 'ftp://x.org' is not allowed "
        "(links must start with https://, http://, mailto: or tel:)",
        "issues/minimal/background.md:7:61: error: link has no destination (link to the real address)",
    ]


def test_a_file_link_is_refused(bundle: Path) -> None:
    (bundle / "background.md").write_text("See <file:///etc/passwd>.\n")
    assert shown(run(bundle)) == [
        "issues/minimal/background.md:1:6: error: link 'file:///etc/passwd' is not allowed "
        "(links must start with https://, http://, mailto: or tel:)"
    ]


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ("assets/missing.png", "image 'assets/missing.png' does not exist"),
        ("../x.png", "image '../x.png' points outside the issue folder"),
        (
            "https://ex.org/a.png",
            "image 'https://ex.org/a.png' is not a file of this issue (only images in assets/ are allowed)",
        ),
        (
            "assets/a.txt",
            "image 'assets/a.txt' is not a supported image type (.png, .jpg, .jpeg, .gif, .webp)",
        ),
        ("pics/a.png", "image 'pics/a.png' must be inside the issue's assets/ folder"),
    ],
)
def test_an_image_source_that_is_refused(bundle: Path, src: str, message: str) -> None:
    (bundle / "background.md").write_text(f"Text.\n\n![a chart]({src})\n")
    assert shown(run(bundle)) == [f"issues/minimal/background.md:3:12: error: {message} ({HINT_IMAGE})"]


def test_image_files_are_checked_for_what_they_are(bundle: Path) -> None:
    assets = bundle / "assets"
    assets.mkdir()
    Image.new("RGB", (40, 30), "white").save(assets / "ok.png")
    (assets / "fake.png").write_bytes(b"not a png at all")
    (assets / "link.png").symlink_to(assets / "ok.png")
    (assets / "dir.png").mkdir()
    (bundle / "background.md").write_text(
        "![ok](assets/ok.png)\n\n![f](assets/fake.png)\n\n![l](assets/link.png)\n\n![d](assets/dir.png)\n"
    )
    assert shown(run(bundle)) == [
        "issues/minimal/background.md:3:6: error: image 'assets/fake.png' is not a readable image "
        f"(broken or not really a PNG) ({HINT_IMAGE})",
        "issues/minimal/background.md:5:6: error: image 'assets/link.png' is a symbolic link; copy the real "
        f"file into assets/ ({HINT_IMAGE})",
        "issues/minimal/background.md:7:6: error: image 'assets/dir.png' is a folder, not an image file "
        f"({HINT_IMAGE})",
    ]


def test_an_image_over_the_pixel_limit_is_refused(bundle: Path) -> None:
    (bundle / "assets").mkdir()
    Image.new("1", (6000, 5000)).save(bundle / "assets" / "huge.png")
    (bundle / "background.md").write_text("![big](assets/huge.png)\n")
    assert shown(run(bundle)) == [
        "issues/minimal/background.md:1:8: error: image 'assets/huge.png' is 6000 x 5000 pixels; the limit "
        f"is 25,000,000 pixels ({HINT_IMAGE})"
    ]


# ---------------------------------------------------------------- warnings and strict


def test_a_reference_without_pages_is_a_warning_that_fails_only_strict(bundle: Path) -> None:
    edit(bundle / "references.yaml", "  page: 663-672\n", "")
    report = run(bundle)
    assert shown(report) == [
        "issues/minimal/references.yaml:1:7: warning: [missing-pages] reference 'younger2009' has no pages "
        "or article number (add page: or article-number:) [references[0].id]"
    ]
    assert report.errors == [] and len(report.warnings) == 1
    assert report.failed() is False
    assert report.failed(strict=True) is True
    assert [b.slug for b in report.bundles] == ["minimal"]  # a warning never stops the bundle loading


def test_an_unused_reference_is_a_warning(bundle: Path) -> None:
    refs = bundle / "references.yaml"
    text = refs.read_text()
    refs.write_text(
        text + text.replace("younger2009", "other2010").replace("10.1111/j.1526", "10.1000/j.1526")
    )
    report = run(bundle)
    assert shown(report) == [
        "issues/minimal/references.yaml:11:7: warning: [unused-reference] reference 'other2010' is neither "
        "cited nor summarised in this issue (cite it with [@other2010] or remove it if it is not needed) "
        "[references[1].id]"
    ]
    assert (report.failed(), report.failed(strict=True)) == (False, True)


def test_a_differing_study_heading_is_a_warning(bundle: Path) -> None:
    edit(bundle / "issue.yaml", "  - ref: younger2009\n", "  - ref: younger2009\n        title: LDN helps\n")
    assert shown(run(bundle)) == [
        "issues/minimal/issue.yaml:13:16: warning: [study-heading] study heading differs from the title of "
        "'younger2009' in references.yaml: 'Fibromyalgia symptoms are reduced by low-dose naltrexone: a "
        "pilot study' (check which is right; remove title: to print the reference's) "
        "[literature[0].studies[0].title]"
    ]


def test_a_study_heading_differing_only_in_case_and_final_period_is_fine(bundle: Path) -> None:
    title = "FIBROMYALGIA symptoms are reduced by low-dose naltrexone:  a pilot study."
    edit(bundle / "issue.yaml", "  - ref: younger2009\n", f'  - ref: younger2009\n        title: "{title}"\n')
    assert run(bundle).problems == []


def test_problems_come_sorted_by_file_and_line(bundle: Path) -> None:
    edit(bundle / "issue.yaml", "[naltrexone]", "[naltrexon]")
    edit(bundle / "issue.yaml", "id: lowry", "id: nobody")
    (bundle / "background.md").write_text("See [@nope].\n")
    assert [(p.file, p.line) for p in run(bundle).problems] == [
        ("issues/minimal/background.md", 1),
        ("issues/minimal/issue.yaml", 4),
        ("issues/minimal/issue.yaml", 6),
    ]


def test_a_type_error_does_not_hide_the_cross_checks(bundle: Path) -> None:
    edit(bundle / "issue.yaml", "number: 7", "number: seven")
    edit(bundle / "issue.yaml", "[naltrexone]", "[naltrexon]")
    (bundle / "background.md").write_text("See [@nope].\n")
    report = run(bundle)
    assert report.bundles == []
    assert shown(report) == [
        "issues/minimal/background.md:1:6: error: citation [@nope] has no entry in references.yaml",
        "issues/minimal/issue.yaml:1:9: error: 'seven' is not a whole number [number]",
        "issues/minimal/issue.yaml:4:10: error: unknown topic 'naltrexon' (did you mean 'naltrexone'?) "
        "[topics[0]]",
    ]
