"""The publication record (publications.json) and where outputs land: a bundle cannot forge a
publication, every change after publication needs its own recorded correction, and outputs are written
only where they belong, with the permissions the umask gives (issue 13, items 1, 5 and 6)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

import tablet_press

from conftest import FIXTURES, SAMPLE, copy_project

CASES = Path(__file__).parent / "hostile" / "cases"
PACKAGE = Path(tablet_press.__file__).parent  # the copy under test (PYTHONPATH may point at another)


def _without_warnings(output: str) -> str:
    """What a command printed, less the house-style warnings the archive also reports for each issue."""
    return "".join(line for line in output.splitlines(keepends=True) if ": warning: " not in line)


def _published(tmp_path: Path, run: Callable[..., Result]) -> Path:
    project = copy_project(tmp_path / "project")
    result = run("publish", SAMPLE, "--date", "2025-07-01", cwd=project)
    assert result.exit_code == 0, result.output
    return project


def _correct(project: Path, run: Callable[..., Result], old: str, new: str, when: str) -> None:
    """Edit background.md, add a dated correction and record it, as the guide says."""
    background = project / "issues" / SAMPLE / "background.md"
    background.write_text(background.read_text().replace(old, new))
    issue = project / "issues" / SAMPLE / "issue.yaml"
    text = issue.read_text()
    if "corrections:" not in text:
        text += "corrections:\n"
    issue.write_text(text + f"  - date: {when}\n    text: The usual dose is {new}.\n")
    result = run("publish", SAMPLE, "--correction", cwd=project)
    assert result.exit_code == 0, result.output


def _errors(result: Result) -> list[str]:
    return [line for line in result.stdout.splitlines() if ": error: " in line]


# ---------------------------------------------------------------- corrections re-baseline


def test_an_edit_after_a_recorded_correction_needs_its_own(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = _published(tmp_path, run)
    _correct(project, run, "(1-5mg)", "(1-4.5mg)", "2025-07-08")
    assert run("validate", cwd=project).exit_code == 0
    # A tenfold dose change, by hand, after the correction: today's code let it pass.
    background = project / "issues" / SAMPLE / "background.md"
    background.write_text(background.read_text().replace("(1-4.5mg)", "(10-45mg)"))
    expected = (
        f"issues/{SAMPLE}/background.md:1:1: error: this issue was published on 2025-07-01 and background.md "
        "changed since the correction of 2025-07-08 was recorded (a published issue changes only with a "
        "correction: add an entry under corrections: in issue.yaml with today's date and what was "
        f"corrected, then run 'tablet publish {SAMPLE} --correction'; the PDF and email as sent stay as they "
        "were)"
    )
    result = run("validate", cwd=project)
    assert result.exit_code == 1
    assert _errors(result) == [expected]
    result = run("verify", cwd=project)
    assert result.exit_code == 1
    assert result.stdout == (
        f"issues/{SAMPLE}: published on 2025-07-01\n"
        f"issues/{SAMPLE}: the correction of 2025-07-08 changed background.md\n"
        f"{expected}\n"
    )
    assert result.stderr == "FAILED: 1 published issue(s) checked\n"
    # A second correction, recorded, makes it legitimate again; verify lists both.
    background.write_text(background.read_text().replace("(10-45mg)", "(1-4.5mg)"))
    _correct(project, run, "(1-4.5mg)", "(1.5-4.5mg)", "2025-07-15")
    result = run("verify", cwd=project)
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.splitlines()[-1]
        == f"issues/{SAMPLE}: the correction of 2025-07-15 changed background.md"
    )


def test_a_recorded_correction_cannot_be_rewritten(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = _published(tmp_path, run)
    _correct(project, run, "(1-5mg)", "(1-4.5mg)", "2025-07-08")
    issue = project / "issues" / SAMPLE / "issue.yaml"
    issue.write_text(issue.read_text().replace("The usual dose is (1-4.5mg).", "Nothing changed."))
    line = issue.read_text().splitlines().index("corrections:") + 2
    result = run("validate", cwd=project)
    assert result.exit_code == 1
    assert _errors(result) == [
        f"issues/{SAMPLE}/issue.yaml:{line}:3: error: the corrections recorded up to 2025-07-08 were changed "
        "or removed (a recorded correction stays as it was; add a new dated entry below it instead) "
        "[corrections]"
    ]


def test_a_correction_needs_something_to_record(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = _published(tmp_path, run)
    result = run("publish", SAMPLE, "--correction", cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: issues/{SAMPLE} has no new correction to record: add an entry under corrections: in "
        "issue.yaml with today's date and what was corrected, then run this again\n"
        "FAILED: nothing was written\n"
    )


# ---------------------------------------------------------------- published/ must match the record


def _hostile(project: Path, case: str) -> Path:
    """The hostile case's bundle (tests/hostile/cases/), beside the sample, as a contributor sends it."""
    bundle = project / "issues" / "hostile"
    shutil.copytree(FIXTURES / "good" / "minimal", bundle)
    for file in (CASES / case).rglob("*"):
        if file.is_file() and file.name != "expect.txt":
            target = bundle / file.relative_to(CASES / case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, target)
    if case == "published-forged-symlink":
        (bundle / "published" / "hostile.txt").symlink_to("/etc/passwd")
    return bundle


@pytest.mark.parametrize(
    "case",
    [
        "published-forged-symlink",
        "published-forged-traversal",
        "published-forged-script",
        "published-damaged-fields",
    ],
)
def test_the_archive_never_serves_a_forged_publication(
    case: str, tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = copy_project(tmp_path / "project")
    _hostile(project, case)
    result = run("archive", cwd=project)
    assert result.exit_code == 1
    assert _without_warnings(result.stdout) == (CASES / case / "expect.txt").read_text()
    site = project / "site"
    assert (site / "2025" / SAMPLE / "index.html").is_file()  # the others are built
    assert not (site / "2025" / "hostile").exists()
    assert not (project / "tmp").exists() and not (tmp_path / "tmp").exists()
    for file in site.rglob("*"):
        if file.is_file():
            assert b"root:x:0:0" not in file.read_bytes(), file
            assert b"attacker.example" not in file.read_bytes(), file


def _record_by_hand(project: Path, slug: str) -> None:
    """A record that matches the bundle's manifest, as if a reviewer had let one through: the files
    it pins are still checked before anything is copied."""
    manifest = (project / "issues" / slug / "published" / "manifest.json").read_bytes()
    ledger = project / "publications.json"
    data = json.loads(ledger.read_text()) if ledger.exists() else {"about": "", "issues": {}}
    baseline = json.loads(manifest)
    corrections = json.dumps([], ensure_ascii=False).encode()
    import hashlib

    data["issues"][slug] = {
        "published": baseline["published"],
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
        "baselines": [
            {
                "date": baseline["published"],
                "corrections": 0,
                "corrections_sha256": hashlib.sha256(corrections).hexdigest(),
                "sources": baseline["sources"],
            }
        ],
    }
    ledger.write_text(json.dumps(data, indent=2))


def test_a_recorded_output_that_became_a_symlink_is_not_copied(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = _published(tmp_path, run)
    sent = project / "issues" / SAMPLE / "published" / f"{SAMPLE}.txt"
    sent.unlink()
    sent.symlink_to("/etc/passwd")
    result = run("archive", cwd=project)
    assert result.exit_code == 1
    assert _without_warnings(result.stdout) == (
        f"issues/{SAMPLE}/published/{SAMPLE}.txt:1:1: error: a published output cannot be read: "
        f"'published/{SAMPLE}.txt' is a symbolic link; tablet never follows links in an issue folder "
        "(copy the real file in its place)\n"
    )
    assert not (project / "site" / "2025" / SAMPLE).exists()


def test_the_email_as_sent_is_checked_by_the_email_rules_again(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = _published(tmp_path, run)
    folder = project / "issues" / SAMPLE / "published"
    html = (folder / f"{SAMPLE}.html").read_text().replace("</body>", "<script>alert(1)</script></body>")
    (folder / f"{SAMPLE}.html").write_text(html)
    manifest = json.loads((folder / "manifest.json").read_text())
    import hashlib

    manifest["outputs"][f"{SAMPLE}.html"] = hashlib.sha256(html.encode()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    _record_by_hand(project, SAMPLE)
    result = run("archive", cwd=project)
    assert result.exit_code == 1
    assert _without_warnings(result.stdout) == (
        f"issues/{SAMPLE}/published/{SAMPLE}.html:1:1: error: the email as sent breaks the email rules: "
        "<script> is not allowed in email\n"
    )
    assert not (project / "site" / "2025" / SAMPLE).exists()


def test_a_manifest_edited_after_publication_is_refused(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = _published(tmp_path, run)
    manifest = project / "issues" / SAMPLE / "published" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["corrections"] = -1
    manifest.write_text(json.dumps(data, indent=2) + "\n")
    line = manifest.read_text().splitlines().index('  "corrections": -1') + 1
    result = run("validate", cwd=project)
    assert result.exit_code == 1
    assert _errors(result) == [
        f"issues/{SAMPLE}/published/manifest.json:1:1: error: the manifest does not match the record in "
        "publications.json of the publication on 2025-07-01 (only 'tablet publish' writes published/; "
        "restore it from version control)",
        f"issues/{SAMPLE}/published/manifest.json:{line}:3: error: the publication record is damaged: "
        '"corrections" must be a whole number, 0 or more, not -1',
    ]


def test_refs_import_into_a_published_issue_says_it_is_frozen(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = _published(tmp_path, run)
    references = project / "issues" / SAMPLE / "references.yaml"
    before = references.read_bytes()
    source = next((FIXTURES / "refs").glob("*.bib"))
    result = run("refs", "import", str(source), "--issue", f"issues/{SAMPLE}", cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: issues/{SAMPLE} was published on 2025-07-01 and is frozen: its sources are what was sent, "
        "so nothing was imported. To change a published issue, edit its files by hand, add a dated entry "
        f"under corrections: in issue.yaml and run 'tablet publish {SAMPLE} --correction'\n"
        "FAILED: nothing was written\n"
    )
    assert references.read_bytes() == before


# ---------------------------------------------------------------- where outputs land


def test_a_symlinked_build_out_is_refused_before_anything(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / "out").symlink_to(elsewhere)
    result = run("build", "--out", "out", cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: the output folder out is a symbolic link; refusing to write through it\n"
        "FAILED: nothing was written\n"
    )
    assert list(elsewhere.iterdir()) == []


def test_a_symlinked_archive_out_is_refused_before_anything(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = copy_project(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / "site").symlink_to(elsewhere)
    result = run("archive", cwd=project)
    assert result.exit_code == 1
    assert result.stderr == "error: the output folder site is a symbolic link; refusing to write through it\n"
    assert list(elsewhere.iterdir()) == []


def test_an_archive_out_inside_issues_is_refused(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "project")
    result = run("archive", "--out", f"issues/{SAMPLE}/site", cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: the output folder issues/{SAMPLE}/site is inside issues/; outputs never go into bundles\n"
    )
    assert not (project / "issues" / SAMPLE / "site").exists()


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (
            "tablet.yaml",
            "error: the output folder tablet.yaml is a file, not a folder; choose another --out\n",
        ),
        (
            "/proc/tablet-out",
            f"error: cannot create the folder /proc/tablet-out/{SAMPLE}: No such file or directory\n",
        ),
    ],
)
def test_an_impossible_build_out_is_a_plain_error(
    out: str, message: str, tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = copy_project(tmp_path / "project")
    result = run("build", "--out", out, cwd=project)
    assert result.exit_code == 1
    assert result.stderr.endswith(message + "FAILED: nothing was written\n")
    assert "internal error" not in result.output


def test_a_folder_where_an_output_should_be_is_a_plain_error(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = copy_project(tmp_path / "project")
    (project / "dist" / SAMPLE / f"{SAMPLE}.pdf").mkdir(parents=True)
    result = run("build", cwd=project)
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"error: dist/{SAMPLE}/{SAMPLE}.pdf is a folder where a file should be written; move it away\n"
        "FAILED: nothing was written\n"
    )
    assert sorted(p.name for p in (project / "dist" / SAMPLE).iterdir()) == [f"{SAMPLE}.pdf"]


def test_a_symlinked_output_file_is_refused_before_any_file_is_replaced(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = copy_project(tmp_path / "project")
    assert run("build", cwd=project).exit_code == 0
    out = project / "dist" / SAMPLE
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.suffix != ".eml"}
    (out / f"{SAMPLE}.eml").unlink()
    (out / f"{SAMPLE}.eml").symlink_to(tmp_path / "victim")
    background = project / "issues" / SAMPLE / "background.md"
    background.write_text(background.read_text().replace("Traditionally", "Classically"))
    result = run("build", cwd=project)
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"error: dist/{SAMPLE}/{SAMPLE}.eml is a symbolic link; refusing to write through it\n"
        "FAILED: nothing was written\n"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.suffix != ".eml"} == before
    assert not (tmp_path / "victim").exists()


def test_the_archive_cache_is_not_published(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "project")
    assert run("archive", cwd=project).exit_code == 0
    assert not (project / "site" / ".tablet-cache.json").exists()
    assert [p.name.startswith("archive-") for p in (project / ".tablet").iterdir()] == [True]


def test_outputs_have_the_permissions_the_umask_gives(tmp_path: Path) -> None:
    """As a web server sees them after `cp -a`: built in a separate process under umask 022."""
    project = copy_project(tmp_path / "project")
    script = (
        "import os, sys; os.umask(0o022); from tablet_press.cli import cli; "
        "cli(sys.argv[1:], prog_name='tablet')"
    )
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    for args in (["build"], ["archive"], ["new", "2025-08-methadone"], ["publish", SAMPLE]):
        done = subprocess.run(
            [sys.executable, "-c", script, *args], cwd=project, env=env, capture_output=True
        )
        assert done.returncode == 0, (args, done.stderr.decode())
    written = [
        project / "dist",
        project / "site",
        project / "issues" / "2025-08-methadone",
        project / "issues" / SAMPLE / "published",
        project / "publications.json",
    ]
    for top in written:
        for path in [top, *top.rglob("*")] if top.is_dir() else [top]:
            mode = stat.S_IMODE(path.lstat().st_mode)
            assert mode == (0o755 if path.is_dir() else 0o644), f"{path.relative_to(project)}: {oct(mode)}"


def test_one_atomic_writer() -> None:
    """Every write that replaces a file goes through atomic.write_files (design: one definition per fact)."""
    found = []
    for module in sorted(PACKAGE.glob("*.py")):
        text = module.read_text()
        for call in ("os.replace(", "mkstemp(", "mkdtemp("):
            if call in text and module.name != "atomic.py":
                found.append(f"{module.name}: {call}")
    assert found == []
