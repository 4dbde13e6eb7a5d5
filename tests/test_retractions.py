"""Retracted and corrected papers caught before an issue goes out (issue 19, part 2): validate's
warnings from the Retraction Watch CSV, build --strict and the preview, the index cached across
processes and rebuilt when the CSV changes, publish keeping the result and verify reporting what was
retracted since, and a clear error for a bad path, a file that is not that CSV, or a truncated one.

The CSV is tests/fixtures/retractions/retraction_watch.csv, in the real file's column layout (see the
README beside it): invented notices about papers the sample issues cite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

import tablet_press
from tablet_press.checks.retraction_index import doi_key, pmid_key

from conftest import FIXTURES, SAMPLE, copy_project

CSV = FIXTURES / "retractions" / "retraction_watch.csv"
OLANZAPINE = "2025-08-olanzapine"
REFS = f"issues/{SAMPLE}/references.yaml"
PACKAGE_SRC = Path(tablet_press.__file__).parent.parent  # the copy under test


def _project(tmp_path: Path, setting: str = "data/retraction_watch.csv", csv: Path | None = CSV) -> Path:
    project = copy_project(tmp_path / "project", (SAMPLE, OLANZAPINE))
    if csv is not None:
        (project / "data").mkdir()
        shutil.copy(csv, project / "data" / "retraction_watch.csv")
    with (project / "tablet.yaml").open("a") as config:
        config.write(f"retractions: {setting}\n")
    return project


def _lines(result: Result, needle: str) -> list[str]:
    return [line for line in result.output.splitlines() if needle in line]


def test_identifiers_are_compared_as_pubmed_and_doi_mean_them() -> None:
    assert (
        doi_key("https://doi.org/10.1002/ANA.22006")
        == doi_key("10.1002/ana.22006")
        == "doi:10.1002/ana.22006"
    )
    assert doi_key("doi: 10.1/X") == doi_key("http://dx.doi.org/10.1/x") == "doi:10.1/x"
    assert doi_key("unavailable") is doi_key("") is doi_key(None) is None
    assert pmid_key("023314603") == pmid_key(" 23314603 ") == "pmid:23314603"
    assert pmid_key("0") is pmid_key("") is pmid_key("12a") is pmid_key("١٢") is None


def test_validate_warns_at_each_cited_paper_with_its_notice(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = _project(tmp_path)
    result = run("validate", cwd=project)
    assert result.exit_code == 0, result.output  # warnings: the issue still validates
    # Retracted, found by a DOI the CSV writes as https://doi.org/ and in capitals.
    assert (
        f"{REFS}:53:8: warning: [retracted] reference 'cree2010' (DOI 10.1002/ana.22006) was retracted on "
        "2024-03-14: Concerns/Issues About Data; Investigation by Journal/Publisher (notice "
        "https://doi.org/10.1002/ana.90001)"
    ) in result.output
    assert _lines(result, "[retracted]")[0].endswith("[references[3].DOI]")
    # A correction, and a retraction reinstated since, are notes of their own kind.
    assert (
        f"{REFS}:105:8: warning: [corrected] reference 'smith2011' (DOI 10.1007/s10620-011-1653-7) has a "
        "correction of 2023-06-02: Error in Results and/or Conclusions" in result.output
    )
    assert (
        "'toljan2018' (DOI 10.3390/medsci6040082) was retracted on 2019-02-01 and reinstated on 2020-05-01"
        in ("".join(_lines(result, "[corrected]")))
    )
    # Found by its PMID alone: the record has no DOI, the CSV's row says "unavailable".
    assert (
        f"issues/{OLANZAPINE}/references.yaml:51:9: warning: [corrected] reference 'navari2013' "
        "(PMID 23314603) has an expression of concern of 2022-11-20"
    ) in result.output
    assert len(_lines(result, "[retracted]")) == 1 and len(_lines(result, "[corrected]")) == 3
    # Malformed rows: warnings at the CSV's line (the first record spans lines 2-3), never fatal.
    malformed = _lines(result, "[retraction-data]")
    assert [line.split(": warning")[0] for line in malformed] == [
        "data/retraction_watch.csv:9:1",
        "data/retraction_watch.csv:10:1",
        "data/retraction_watch.csv:11:1",
    ]
    assert "4 fields where the header has 20" in malformed[0] and "'Retracted?'" in malformed[1]
    assert run("validate", "--strict", cwd=project).exit_code == 1


def test_an_ignore_with_a_reason_silences_one_record(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = _project(tmp_path)
    refs = project / REFS
    text = refs.read_text()
    refs.write_text(
        text.replace(
            "- id: cree2010", "# tablet: ignore[retracted] the issue discusses its retraction\n- id: cree2010"
        )
    )
    result = run("validate", cwd=project)
    assert not _lines(result, "[retracted]") and len(_lines(result, "[corrected]")) == 3, result.output


def test_build_strict_refuses_an_issue_citing_a_retracted_paper(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = _project(tmp_path)
    result = run("build", "--strict", f"issues/{SAMPLE}", cwd=project)
    assert result.exit_code == 1
    assert "[retracted] reference 'cree2010'" in result.output
    assert "nothing was written" in result.output and not (project / "dist").exists()


def test_the_preview_shows_the_warning(tmp_path: Path) -> None:
    import urllib.request

    from tablet_press.preview.server import start_preview

    project = _project(tmp_path)
    running = start_preview(project / "issues" / SAMPLE)
    try:
        with urllib.request.urlopen(running.url, timeout=60) as response:
            shown = response.read().decode()
    finally:
        running.stop()
    assert f"<code>{REFS}:53:8</code> warning: [retracted] reference &#x27;cree2010&#x27;" in shown or (
        f"<code>{REFS}:53:8</code> warning: [retracted] reference 'cree2010'" in shown
    ), shown[:3000]


def _validate_in_a_process(project: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_SRC)}
    done = subprocess.run(
        [sys.executable, "-m", "tablet_press", "validate", f"issues/{SAMPLE}"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout


def test_the_index_is_built_once_and_again_when_the_csv_changes(tmp_path: Path) -> None:
    project = _project(tmp_path)
    first = _validate_in_a_process(project)
    (index,) = (project / ".tablet").glob("retractions-*.sqlite")
    built = index.stat()
    second = _validate_in_a_process(project)
    assert first == second and "[retracted] reference 'cree2010'" in second
    again = index.stat()
    assert (again.st_ino, again.st_mtime_ns) == (built.st_ino, built.st_mtime_ns)  # read, not rebuilt

    csv = project / "data" / "retraction_watch.csv"
    with csv.open("a") as f:  # a new retraction: the file's size and mtime change
        f.write(
            "90011,Trofimovitch case (invented),(HSC) Medicine;,Somewhere;,J,P,US,A,,Case Report;,"
            "8/1/2025 0:00,10.5555/notice.90011,,1/1/2019 0:00,10.1177/1049909119838974,,Retraction,"
            "+Fake Peer Review;,No,\n"
        )
    third = _validate_in_a_process(project)
    assert "[retracted] reference 'trofimovitch2019'" in third and "Fake Peer Review" in third
    assert index.stat().st_ino != built.st_ino  # a new file, renamed into place
    assert list((project / ".tablet").glob("*.tmp")) == []


def test_verify_reports_a_paper_retracted_after_publication(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = _project(tmp_path)
    csv = project / "data" / "retraction_watch.csv"
    full = csv.read_text()
    cree = full.splitlines(keepends=True)[1:3]  # the first record, over two lines
    csv.write_text(full.replace("".join(cree), ""))
    result = run("publish", SAMPLE, "--date", "2025-07-01", cwd=project)
    assert result.exit_code == 0, result.output
    record = (project / "publications.json").read_text()
    assert '"reference": "smith2011"' in record and '"cree2010"' not in record and '"rows": 6' in record

    result = run("verify", cwd=project)
    assert result.exit_code == 0, result.output

    csv.write_text(full)  # the next download has the retraction
    result = run("verify", cwd=project)
    assert result.exit_code == 1
    (line,) = _lines(result, "[retracted]")
    assert line.startswith(
        f"{REFS}:53:8: error: [retracted] issues/{SAMPLE} (published on 2025-07-01; not retracted "
        "when checked on 2025-07-01) cites a paper retracted since: reference 'cree2010'"
    )
    assert "was retracted on 2024-03-14" in line and "https://doi.org/10.1002/ana.90001" in line
    assert "--correction" in line
    assert (
        f"issues/{SAMPLE}: checked for retractions on 2025-07-01 against a copy of 6 records" in result.output
    )


# ---------------------------------------------------------------- errors


def test_a_missing_file_is_an_error_at_the_field(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = _project(tmp_path, "data/retraction-watch.csv")
    result = run("validate", cwd=project)
    assert result.exit_code == 1
    line = len((project / "tablet.yaml").read_text().splitlines())
    assert f"tablet.yaml:{line}:14: error: there is no file data/retraction-watch.csv" in result.output


@pytest.mark.parametrize("setting", ["../retraction_watch.csv", "/tmp/retraction_watch.csv", "data"])
def test_a_path_out_of_the_project_or_a_folder_is_refused(
    setting: str, tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = _project(tmp_path, setting)
    result = run("validate", cwd=project)
    assert result.exit_code == 1 and ": error: " in result.output
    assert _lines(result, "error:")[0].startswith("tablet.yaml:"), result.output


def test_a_file_that_is_not_that_csv_is_named(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = _project(tmp_path)
    (project / "data" / "retraction_watch.csv").write_text("doi,title\n10.1/x,Something\n")
    result = run("validate", cwd=project)
    assert result.exit_code == 1
    assert (
        "data/retraction_watch.csv:1:1: error: this is not the Retraction Watch CSV: it lacks the columns "
        "Record ID, Title, Subject, Institution" in result.output
    )


def test_a_truncated_file_is_named(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = _project(tmp_path)
    csv = project / "data" / "retraction_watch.csv"
    text = csv.read_text()
    csv.write_text(text[: text.index("Another uncited") + 30] + ',"an unterminated note')  # cut mid-download
    result = run("validate", cwd=project)
    assert result.exit_code == 1
    assert (
        "data/retraction_watch.csv:12:1: error: the retraction data ends inside a quoted field: the file is "
        "truncated" in result.output
    )
    assert not list((project / ".tablet").glob("*.sqlite*"))  # a failed build leaves no index


def test_no_setting_no_check(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "project")
    result = run("validate", cwd=project)
    assert "[retracted]" not in result.output and not (project / ".tablet").exists()
