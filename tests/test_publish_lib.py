"""Publishing as a library (site/publish.py): publish() freezes a bundle, then check_published (validate's
part), verify and frozen_outputs hold it to the record; record_correction makes a new baseline; and
tampering with the outputs, the manifest, the folder or the sources is found. The PDF is a stand-in
(bytes only: nothing here reads it); the email is made for real, since verify checks its rules."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from tablet_press.bundle.folder import Bundle, load_bundle
from tablet_press.bundle.ledger import sha256
from tablet_press.bundle.project import Project, load_project
from tablet_press.checks.publication import (
    check_published,
    frozen_outputs,
    parse_manifest,
    published_on,
    source_hashes,
    verify,
)
from tablet_press.checks.validate import validate
from tablet_press.errors import BuildError, ValidationFailed
from tablet_press.render.email import email_outputs
from tablet_press.site.publish import publish, record_correction

from conftest import FIXTURES, copy_project

PDF = b"%PDF-1.7\n% a stand-in: publish stores bytes and never reads them\n"
ON = date(2025, 9, 1)
SLUG = "minimal"


@dataclass
class Issue:
    """A project with issues/minimal/ and the outputs a build would have made of it."""

    project: Project
    path: Path
    outputs: dict[str, bytes]

    def bundle(self) -> Bundle:
        """The bundle as it is on disk now (reloaded: publish's checks read the loaded sources)."""
        bundle, problems = load_bundle(self.path, self.project.root)
        assert bundle is not None, [p.format() for p in problems]
        return bundle

    def problems(self, *, recording: bool = False) -> list[str]:
        return [p.format() for p in check_published(self.bundle(), self.project, recording=recording)]

    def correct(self, when: str, text: str = "Fixed the background.") -> None:
        issue = self.path / "issue.yaml"
        body = issue.read_text()
        if "corrections:" not in body:
            body += "corrections:\n"
        issue.write_text(body + f"  - date: {when}\n    text: {text}\n")


def minimal_project(root: Path) -> tuple[Project, Path]:
    copy_project(root, ())
    shutil.copytree(FIXTURES / "good" / "minimal", root / "issues" / SLUG)
    return load_project(root), root / "issues" / SLUG


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The minimal issue's outputs, made once: the same bytes for every copy of the bundle."""
    project, path = minimal_project(tmp_path_factory.mktemp("outputs"))
    bundle, _ = load_bundle(path, project.root)
    assert bundle is not None
    return {f"{SLUG}.pdf": PDF, **email_outputs(bundle, project, PDF)}


@pytest.fixture
def issue(tmp_path: Path, outputs: dict[str, bytes]) -> Issue:
    project, path = minimal_project(tmp_path / "project")
    return Issue(project, path, dict(outputs))


@pytest.fixture
def published(issue: Issue) -> Issue:
    publish(issue.project, issue.bundle(), issue.outputs, ON)
    return issue


def test_publish_writes_the_outputs_and_a_manifest_of_their_hashes(issue: Issue) -> None:
    manifest = publish(issue.project, issue.bundle(), issue.outputs, ON)
    folder = issue.path / "published"
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json",
        "minimal.eml",
        "minimal.html",
        "minimal.pdf",
        "minimal.txt",
    ]
    assert (folder / "minimal.pdf").read_bytes() == PDF
    assert manifest.published == ON and manifest.corrections == 0
    assert manifest.outputs == {name: sha256(data) for name, data in issue.outputs.items()}
    assert sorted(manifest.sources) == ["background.md", "issue.yaml", "references.yaml"]
    assert manifest.sources["background.md"] == sha256((issue.path / "background.md").read_bytes())
    assert (folder / "manifest.json").read_text() == manifest.as_json()
    assert parse_manifest(manifest.as_json(), SLUG) == (manifest, [])


def test_publish_records_the_issue_in_publications_json(issue: Issue) -> None:
    manifest = publish(issue.project, issue.bundle(), issue.outputs, ON)
    record = json.loads((issue.project.root / "publications.json").read_text())["issues"][SLUG]
    assert record["published"] == "2025-09-01"
    assert record["manifest_sha256"] == sha256(manifest.as_json().encode())
    assert [b["date"] for b in record["baselines"]] == ["2025-09-01"]
    assert record["baselines"][0]["sources"] == manifest.sources
    assert published_on(issue.project, SLUG) == ON
    assert published_on(issue.project, "other") is None


def test_a_fresh_publication_passes_every_check(published: Issue) -> None:
    assert published.problems() == []
    assert validate(published.project).problems == []
    result = verify(published.project, [published.bundle()])
    assert (result.checked, result.history, result.problems) == (
        1,
        ["issues/minimal: published on 2025-09-01"],
        [],
    )
    assert frozen_outputs(published.bundle(), published.project) == published.outputs


def test_an_unpublished_issue_has_no_frozen_outputs_and_nothing_to_verify(issue: Issue) -> None:
    assert frozen_outputs(issue.bundle(), issue.project) is None
    assert verify(issue.project, [issue.bundle()]).checked == 0
    assert issue.problems() == []


def test_publishing_twice_is_refused(published: Issue) -> None:
    with pytest.raises(BuildError) as refused:
        publish(published.project, published.bundle(), published.outputs, date(2025, 9, 2))
    assert str(refused.value) == (
        "issues/minimal was already published on 2025-09-01; corrections go under corrections: in "
        "issue.yaml, then run 'tablet publish minimal --correction'"
    )


def test_a_published_folder_nobody_recorded_is_refused_and_reported(issue: Issue) -> None:
    (issue.path / "published").mkdir()
    (issue.path / "published" / "manifest.json").write_text("{}")
    with pytest.raises(BuildError, match=r"published/ exists, but publications\.json has no record of it"):
        publish(issue.project, issue.bundle(), issue.outputs, ON)
    assert issue.problems() == [
        "issues/minimal/published/manifest.json:1:1: error: this issue has a published/ folder, but "
        "publications.json has no record of publishing it (only 'tablet publish' writes published/: remove "
        "the folder; if the issue was published, restore publications.json from version control)",
        "issues/minimal/published/manifest.json:1:1: error: the publication record is damaged: "
        '"(the file)" does not hold what tablet publish writes: missing "corrections", "outputs", '
        '"published", "sources"',
    ]


def test_corrections_are_not_part_of_issue_yaml_hash(issue: Issue) -> None:
    before = source_hashes(issue.bundle())
    issue.correct("2025-09-03")
    assert source_hashes(issue.bundle()) == before


# ---------------------------------------------------------------- changes after publication


def test_an_edit_without_a_correction_is_an_error(published: Issue) -> None:
    (published.path / "background.md").write_text("A changed paragraph.\n")
    assert published.problems() == [
        "issues/minimal/background.md:1:1: error: this issue was published on 2025-09-01 and background.md "
        "changed since (a published issue changes only with a correction: add an entry under corrections: "
        "in issue.yaml with today's date and what was corrected, then run 'tablet publish minimal "
        "--correction'; the PDF and email as sent stay as they were)"
    ]
    assert validate(published.project).failed()


def test_a_correction_not_yet_recorded_is_an_error_except_while_recording(published: Issue) -> None:
    (published.path / "background.md").write_text("A changed paragraph.\n")
    published.correct("2025-09-03")
    assert published.problems() == [
        "issues/minimal/issue.yaml:19:5: error: the correction of 2025-09-03 is not recorded yet; "
        "background.md changed since the publication on 2025-09-01 (run 'tablet publish minimal "
        "--correction' to record it; the sources as they are then become what later edits are checked "
        "against) [corrections[0]]"
    ]
    assert published.problems(recording=True) == []


def test_record_correction_makes_the_sources_the_new_baseline(published: Issue) -> None:
    (published.path / "background.md").write_text("A changed paragraph.\n")
    published.correct("2025-09-03")
    baseline = record_correction(published.project, published.bundle())
    assert (baseline.date, baseline.corrections) == (date(2025, 9, 3), 1)
    assert baseline.sources["background.md"] == sha256(b"A changed paragraph.\n")
    assert published.problems() == []
    result = verify(published.project, [published.bundle()])
    assert result.history == [
        "issues/minimal: published on 2025-09-01",
        "issues/minimal: the correction of 2025-09-03 changed background.md",
    ]
    assert result.problems == []
    # The outputs as sent stay as they were.
    assert frozen_outputs(published.bundle(), published.project) == published.outputs


def test_an_edit_after_a_recorded_correction_needs_its_own(published: Issue) -> None:
    published.correct("2025-09-03")
    record_correction(published.project, published.bundle())
    (published.path / "background.md").write_text("Changed again, by hand.\n")
    assert published.problems() == [
        "issues/minimal/background.md:1:1: error: this issue was published on 2025-09-01 and background.md "
        "changed since the correction of 2025-09-03 was recorded (a published issue changes only with a "
        "correction: add an entry under corrections: in issue.yaml with today's date and what was corrected, "
        "then run 'tablet publish minimal --correction'; the PDF and email as sent stay as they were)"
    ]


def test_record_correction_needs_a_new_correction_and_a_publication(issue: Issue) -> None:
    with pytest.raises(BuildError, match=r"^issues/minimal has not been published; publish it first$"):
        record_correction(issue.project, issue.bundle())
    publish(issue.project, issue.bundle(), issue.outputs, ON)
    with pytest.raises(BuildError, match=r"^issues/minimal has no new correction to record"):
        record_correction(issue.project, issue.bundle())


def test_a_correction_cannot_predate_the_publication(published: Issue) -> None:
    published.correct("2025-08-30")
    assert published.problems(recording=True) == [
        "issues/minimal/issue.yaml:19:11: error: a correction cannot predate the publication on 2025-09-01 "
        "[corrections[0].date]"
    ]


def test_a_recorded_correction_cannot_be_rewritten(published: Issue) -> None:
    published.correct("2025-09-03", "Fixed the dose.")
    record_correction(published.project, published.bundle())
    issue = published.path / "issue.yaml"
    issue.write_text(issue.read_text().replace("Fixed the dose.", "Nothing changed."))
    assert published.problems() == [
        "issues/minimal/issue.yaml:19:3: error: the corrections recorded up to 2025-09-03 were changed or "
        "removed (a recorded correction stays as it was; add a new dated entry below it instead) "
        "[corrections]"
    ]


# ---------------------------------------------------------------- tampering


def test_a_changed_output_is_found_by_verify_and_refused_by_frozen_outputs(published: Issue) -> None:
    (published.path / "published" / "minimal.txt").write_bytes(b"tampered")
    expected = (
        "issues/minimal/published/minimal.txt:1:1: error: a published output differs from what was sent"
    )
    assert [p.format() for p in verify(published.project, [published.bundle()]).problems] == [expected]
    with pytest.raises(ValidationFailed) as refused:
        frozen_outputs(published.bundle(), published.project)
    assert [p.format() for p in refused.value.problems] == [expected]
    assert published.problems() == []  # validate does not read the outputs, only the manifest


def test_a_missing_output_is_found(published: Issue) -> None:
    (published.path / "published" / "minimal.eml").unlink()
    assert [p.format() for p in verify(published.project, [published.bundle()]).problems] == [
        "issues/minimal/published/minimal.eml:1:1: error: a published output is missing"
    ]


def test_an_output_replaced_by_a_symlink_is_not_read(published: Issue) -> None:
    output = published.path / "published" / "minimal.txt"
    output.unlink()
    output.symlink_to("/etc/passwd")
    problems = verify(published.project, [published.bundle()]).problems
    assert [(p.file, p.message.split(":")[0]) for p in problems] == [
        ("issues/minimal/published/minimal.txt", "a published output cannot be read")
    ]


def test_an_edited_manifest_is_found_by_validate(published: Issue) -> None:
    manifest = published.path / "published" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"corrections": 0', '"corrections": 1'))
    assert published.problems() == [
        "issues/minimal/published/manifest.json:1:1: error: the manifest does not match the record in "
        "publications.json of the publication on 2025-09-01 (only 'tablet publish' writes published/; "
        "restore it from version control)"
    ]


def test_a_removed_published_folder_is_found(published: Issue) -> None:
    shutil.rmtree(published.path / "published")
    problems = published.problems()
    assert len(problems) == 1
    assert problems[0].startswith("publications.json:")
    assert problems[0].endswith(
        "error: issues/minimal was published on 2025-09-01 but issues/minimal/published/ is missing "
        "(restore it from version control)"
    )


def test_verify_reports_a_published_issue_that_is_gone(published: Issue) -> None:
    result = verify(published.project, [])
    assert result.checked == 0
    assert [p.message for p in result.problems] == [
        "issues/minimal was published on 2025-09-01 but could not be checked"
    ]
