"""The back catalog (issue 18 part 2): a past issue's PDF comes in as it was sent, is recorded like any
published issue, validates, passes verify, and appears in the archive with its thumbnail and its text
searchable; a folder of past issues comes in with a summary; unusable PDFs write nothing."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import weasyprint
from click.testing import Result
from pypdf import PdfReader, PdfWriter

from tablet_press.bundle.project import load_project
from tablet_press.site.archive import archive

from conftest import SAMPLE, copy_project, needs_tool, search_in_chromium

WORD = "quillifraxine"  # made up: it occurs in the past issue's PDF and nowhere else
SLUG = "2019-03-opioid-rotation"


def past_pdf(title: str, word: str = WORD, pages: int = 2) -> bytes:
    """A past issue's PDF, made the way the team's old ones were: a masthead, a title, two columns."""
    body = "".join(
        f"<h2>Part {i}</h2><p>Rotating opioids is considered when pain persists despite titration. "
        f"{word if i == 2 else 'Equianalgesic tables guide the first dose'} is mentioned here.</p>"
        + "<p>Reduce the calculated dose by a quarter to a half for incomplete cross-tolerance.</p>"
        * 12
        for i in range(1, 2 + 2 * pages)
    )
    html = (
        f"<style>@page {{ size: letter }}</style><p><b>THE TABLET</b> · March 2019</p><h1>{title}</h1>"
        f"<div style='columns: 2'>{body}</div>"
    )
    return bytes(weasyprint.HTML(string=html).write_pdf())


def importing(project: Path, pdf: Path, *extra: str) -> tuple[str, ...]:
    return ("import", str(pdf), "--number", "0", "--date", "2019-03-04", "--title", "Opioid rotation", *extra)


def snapshot(project: Path) -> dict[str, bytes]:
    return {
        p.relative_to(project).as_posix(): p.read_bytes()
        for p in sorted(project.rglob("*"))
        if p.is_file() and "dist" not in p.parts
    }


def test_a_past_pdf_comes_in_as_sent_validates_and_passes_verify(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = copy_project(tmp_path / "project")
    pdf = tmp_path / "rotation.pdf"
    pdf.write_bytes(past_pdf("Opioid rotation"))
    result = run(*importing(project, pdf, "--topic", "opioids", "--author", "lowry"), cwd=project)
    assert result.exit_code == 0, result.output
    assert f'-> issues/{SLUG}/: issue 0, 2019-03-04, "Opioid rotation", 4 page(s)' in result.output
    bundle = project / "issues" / SLUG
    assert sorted(p.name for p in bundle.rglob("*")) == [
        f"{SLUG}.pdf",
        "issue.yaml",
        "manifest.json",
        "published",
    ]
    issue = (bundle / "issue.yaml").read_text()
    assert "kind: archived-pdf\nnumber: 0\ndate: '2019-03-04'\ntitle: Opioid rotation\n" in issue
    assert "- {id: lowry}" in issue
    assert (bundle / "published" / f"{SLUG}.pdf").read_bytes() == pdf.read_bytes()
    ledger = json.loads((project / "publications.json").read_text())["issues"][SLUG]
    manifest = (bundle / "published" / "manifest.json").read_bytes()
    assert ledger["published"] == "2019-03-04"
    assert ledger["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()
    assert json.loads(manifest)["outputs"] == {f"{SLUG}.pdf": hashlib.sha256(pdf.read_bytes()).hexdigest()}

    assert run("validate", cwd=project).exit_code == 0
    verified = run("verify", cwd=project)
    assert verified.exit_code == 0, verified.output
    assert f"issues/{SLUG}: published on 2019-03-04" in verified.output
    built = run("build", f"issues/{SLUG}", cwd=project)
    assert built.exit_code == 0
    assert f"issues/{SLUG} is a back-catalog issue: nothing to build" in built.output
    assert not (project / "dist" / SLUG).exists()
    sent = run("send", SLUG, "--dry-run", cwd=project)
    assert sent.exit_code == 1 and f"issues/{SLUG} is a back-catalog issue" in sent.output

    # Forged: the PDF in published/ swapped for another. verify and validate's record check catch it.
    (bundle / "published" / f"{SLUG}.pdf").write_bytes(past_pdf("Opioid rotation, forged"))
    forged = run("verify", cwd=project)
    assert forged.exit_code == 1
    assert (
        f"issues/{SLUG}/published/{SLUG}.pdf:1:1: error: a published output differs from what was sent"
        in (forged.output)
    )

    # The same number again is refused, naming the issue that has it; nothing is written.
    before = snapshot(project)
    again = run(*importing(project, pdf, "--slug", "again"), cwd=project)
    assert again.exit_code == 1
    assert f"issue number 0 is already issues/{SLUG}" in again.output
    assert snapshot(project) == before


def test_metadata_that_does_not_validate_leaves_nothing_behind(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = copy_project(tmp_path / "project")
    pdf = tmp_path / "rotation.pdf"
    pdf.write_bytes(past_pdf("Opioid rotation"))
    before = snapshot(project)
    result = run(*importing(project, pdf, "--topic", "opiods"), cwd=project)
    assert result.exit_code == 1
    assert f"issues/{SLUG}/issue.yaml:8:10: error: unknown topic 'opiods'" in result.output, result.output
    assert "did you mean 'opioids'" in result.output
    assert snapshot(project) == before  # neither the folder nor a record in publications.json


@pytest.mark.parametrize("case", ["not-a-pdf", "broken", "encrypted", "too-many-pages"])
def test_an_unusable_pdf_gets_a_clear_error_and_writes_nothing(
    case: str, tmp_path: Path, run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_project(tmp_path / "project")
    pdf = tmp_path / "past.pdf"
    good = past_pdf("Opioid rotation")
    if case == "not-a-pdf":
        pdf.write_bytes(b"PK\x03\x04 this is a zip, not a PDF")
    elif case == "broken":
        pdf.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n%%EOF\n")
    elif case == "encrypted":
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(good)))
        writer.encrypt("secret")
        out = io.BytesIO()
        writer.write(out)
        pdf.write_bytes(out.getvalue())
    else:
        monkeypatch.setattr("tablet_press.bundle.original.MAX_PAGES", 2)
        pdf.write_bytes(good)
    before = snapshot(project)
    result = run(*importing(project, pdf), cwd=project)
    assert result.exit_code == 1
    expected = (
        f"error: {pdf}: "
        + {
            "not-a-pdf": "it is not a PDF (it does not start with %PDF-)",
            "broken": "it is not a PDF PDFium can read",
            "encrypted": "it is encrypted",
            "too-many-pages": "it has 4 pages; an issue's PDF may have at most 2",
        }[case]
    )
    assert expected in result.output, result.output
    assert "Traceback" not in result.output
    assert result.output.rstrip().endswith("FAILED: nothing was written")
    assert snapshot(project) == before


def test_a_folder_of_past_issues_comes_in_with_a_summary(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "project")
    folder = tmp_path / "back-catalog"
    folder.mkdir()
    (folder / "5-2018-06-01-methadone-basics.pdf").write_bytes(past_pdf("Methadone basics", "methadonia"))
    (folder / "6-2018-07-01-ketamine.pdf").write_bytes(b"%PDF-1.4\nnothing else\n")  # unreadable
    (folder / "scan.pdf").write_bytes(past_pdf("Constipation", "laxatia"))  # no number or date anywhere
    (folder / "december.pdf").write_bytes(past_pdf("Dyspnea", "dyspnoia"))  # from its sidecar
    (folder / "december.yaml").write_text("number: 8\ndate: 2018-12-03\ntitle: Dyspnea\ntopics: [dyspnea]\n")
    (folder / "README.txt").write_text("the old issues\n")
    result = run("import", str(folder), cwd=project)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    start = lines.index("came in: 2 issue(s)")
    assert lines[start + 1].startswith(
        f"  {folder}/5-2018-06-01-methadone-basics.pdf -> issues/2018-06-methadone-basics/: issue 5, "
        '2018-06-01, "Methadone basics", 4 page(s)'
    )
    assert lines[start + 2].startswith(
        f'  {folder}/december.pdf -> issues/2018-12-dyspnea/: issue 8, 2018-12-03, "Dyspnea"'
    )
    rest = lines[start + 3 :]
    assert rest[:2] == ["ignored (not a .pdf, .docx or sidecar .yaml): README.txt", "needs attention: 2"]
    assert rest[2].startswith(f"  {folder}/6-2018-07-01-ketamine.pdf: it is not a PDF PDFium can read (")
    assert rest[2].endswith("(unreadable; nothing imported)")
    assert rest[3:] == [
        f"  {folder}/scan.pdf: no number, date, title; write them in scan.yaml beside it (number: N, "
        "date: YYYY-MM-DD, title: ...) or name the file NUMBER-YYYY-MM-DD-title.pdf",
    ]
    assert (project / "issues" / "2018-06-methadone-basics" / "published").is_dir()
    assert not list((project / "issues").glob("*ketamine*"))
    assert run("verify", cwd=project).exit_code == 0

    again = run("import", str(folder), cwd=project)  # the same folder again: nothing twice
    assert "came in: 0 issue(s)" in again.output
    assert "already in the archive (the same PDF): 2" in again.output
    assert again.exit_code == 1  # the two files that need attention still do


def test_a_back_catalog_issue_holds_only_its_metadata(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "project")
    pdf = tmp_path / "rotation.pdf"
    pdf.write_bytes(past_pdf("Opioid rotation"))
    assert run(*importing(project, pdf), cwd=project).exit_code == 0
    bundle = project / "issues" / SLUG
    text = (bundle / "issue.yaml").read_text()
    (bundle / "issue.yaml").write_text(text + "pearls: [Rotate early]\n")
    (bundle / "background.md").write_text("Prose.\n")
    result = run("validate", f"issues/{SLUG}", cwd=project)
    assert result.exit_code == 1
    assert (
        "a back-catalog issue (kind: archived-pdf) is its original PDF, so it has no 'pearls'"
        in result.output
    )
    assert f"issues/{SLUG}/background.md:1:1: error: 'background.md' in a back-catalog issue" in result.output

    plain = project / "issues" / "unrecorded"
    plain.mkdir()
    (plain / "issue.yaml").write_text("kind: archived-pdf\nnumber: 9\ndate: 2018-01-01\ntitle: Lost\n")
    result = run("validate", "issues/unrecorded", cwd=project)
    assert (
        "issues/unrecorded/issue.yaml:1:7: error: a back-catalog issue (kind: archived-pdf) is its original"
        in result.output
    ), result.output

    sample = project / "issues" / SAMPLE / "issue.yaml"
    lines = sample.read_text().split("\nauthors:\n")
    rest = lines[1].split("\n")
    while rest and rest[0].startswith((" ", "-")):
        rest.pop(0)
    sample.write_text(lines[0] + "\n" + "\n".join(rest))
    result = run("validate", f"issues/{SAMPLE}", cwd=project)
    assert "error: missing required field 'authors' (the author team, at least one)" in result.output


# ---------------------------------------------------------------- the archive


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tablet_press.bundle.project import load_project as load
    from tablet_press.importer.backcatalog import PastIssue, import_pdf

    root = tmp_path_factory.mktemp("backcatalog")
    project = copy_project(root / "project")
    pdf = root / "rotation.pdf"
    pdf.write_bytes(past_pdf("Opioid rotation"))
    import datetime as dt

    import_pdf(load(project), pdf, PastIssue(0, dt.date(2019, 3, 4), "Opioid rotation", topics=["opioids"]))
    report = archive(load_project(project), project / "site", jobs=2)
    assert report.failed == {} and sorted(report.built) == sorted([SAMPLE, SLUG])
    return project / "site"


def test_the_archive_lists_old_and_new_issues_in_one_index_with_thumbnails(site: Path) -> None:
    index = (site / "index.html").read_text()
    assert index.index("2025/low-dose-naltrexone/index.html") < index.index(
        f"2019/{SLUG}/index.html"
    )  # newest first
    assert f'<img src="2019/{SLUG}/thumbnail.png" alt=""' in index
    assert "the issue as sent, from the back catalog" in index
    thumb = (site / "2019" / SLUG / "thumbnail.png").read_bytes()
    assert thumb[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(thumb[16:20], "big"), int.from_bytes(thumb[20:24], "big")
    assert (width, height) == (196, 254)  # US Letter at the archive's thumbnail scale
    page = (site / "2019" / SLUG / "index.html").read_text()
    assert '<h1 class="topic">Opioid rotation</h1>' in page
    assert f'<a href="{SLUG}.pdf">The issue as sent (PDF, 4 pages,' in page
    assert '<img src="thumbnail.png" alt="First page of issue 0 (PDF)" width="196" height="254">' in page
    assert "The text of the original PDF" in page
    assert WORD in page.split("data-pagefind-body")[1]
    assert (site / "2019" / SLUG / f"{SLUG}.pdf").read_bytes()[:5] == b"%PDF-"
    assert not (site / "2019" / SLUG / f"{SLUG}.html").exists()


@needs_tool("chromium")
def test_a_word_only_in_the_past_pdf_is_found_by_the_archives_search(site: Path) -> None:
    assert search_in_chromium(site, WORD) == [f"/2019/{SLUG}/"]


def test_reading_a_pdf_is_bounded_in_time() -> None:
    from tablet_press.bundle.original import UnreadablePdf, read_original

    with pytest.raises(UnreadablePdf, match=r"reading it took longer than 0\.001 seconds; it may be damaged"):
        read_original(past_pdf("Opioid rotation"), seconds=0.001)


def test_a_folder_with_one_number_twice_imports_neither(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "project")
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "5-2018-06-01-methadone.pdf").write_bytes(past_pdf("Methadone", "methadonia"))
    (folder / "5-2018-07-01-ketamine.pdf").write_bytes(past_pdf("Ketamine", "ketamia"))
    result = run("import", str(folder), cwd=project)
    assert result.exit_code == 1
    assert (
        f"  {folder}/5-2018-06-01-methadone.pdf: issue number 5 is also given to 5-2018-07-01-ketamine.pdf"
        in (result.output)
    )
    assert "came in: 0 issue(s)" in result.output
    assert not (project / "publications.json").exists()


@needs_tool("pandoc")
def test_a_past_word_file_comes_in_as_a_draft_not_as_sent(tmp_path: Path, run: Callable[..., Result]) -> None:
    from wordmaker import sample_docx

    project = copy_project(tmp_path / "project")
    docx = sample_docx(tmp_path / "old.docx")
    result = run(
        "import", str(docx), "--number", "7", "--date", "2020-02-03", "--slug", "2020-02-ldn", cwd=project
    )
    assert result.exit_code == 0, result.output
    assert "not recorded as published: check it, then 'tablet publish 2020-02-ldn --date 2020-02-03'" in (
        result.output
    )
    issue = (project / "issues" / "2020-02-ldn" / "issue.yaml").read_text()
    assert "\nnumber: 7\n" in issue and '\ndate: "2020-02-03"\n' in issue
    assert "kind:" not in issue and "The Newest Kid on the Block" in issue  # the draft's own title
    assert not (project / "publications.json").exists()
