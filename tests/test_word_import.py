"""`tablet import DRAFT.docx`: Word drafts made by two producers become bundles shaped like the sample;
what cannot be carried is reported with its text; drafts that are not Word, encrypted or zip bombs
are refused with nothing written."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import Result

import wordmaker
from tablet_press.bundle.project import load_project
from tablet_press.errors import BuildError
from tablet_press.importer.citations import parse_entry
from tablet_press.importer.word import REPORT_FILE, Imported, import_docx

from conftest import SAMPLE, copy_project, needs_tool

ROOT = Path(__file__).resolve().parent.parent
RECORD_FIELDS = (
    "author",
    "title",
    "container-title",
    "container-title-short",
    "issued",
    "volume",
    "issue",
    "page",
    "article-number",
    "DOI",
)


def _import(tmp_path: Path, draft: Path, slug: str = "imported", **kw: bool) -> Imported:
    project = copy_project(tmp_path / "project")
    return import_docx(load_project(project), draft, slug, **kw)


def _yaml(path: Path) -> object:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _words(value: object) -> object:
    """One space for any whitespace, all the way down: a YAML block and a Word paragraph wrap differently."""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return [_words(v) for v in value]
    if isinstance(value, dict):
        return {k: _words(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def sample_import(tmp_path_factory: pytest.TempPathFactory) -> Imported:
    tmp = tmp_path_factory.mktemp("word")
    return _import(tmp, wordmaker.sample_docx(tmp / "sample.docx"), "ldn-word")


def test_the_word_sample_becomes_the_sample_bundle(sample_import: Imported) -> None:
    got, want = sample_import.folder, ROOT / "issues" / SAMPLE
    issue, sample = _yaml(got / "issue.yaml"), _yaml(want / "issue.yaml")
    assert isinstance(issue, dict) and isinstance(sample, dict)
    assert issue["title"] == sample["title"]
    for key in ("pearls", "bottom_line", "literature"):
        assert _words(issue[key]) == _words(sample[key]), (
            key
        )  # 9 studies in 5 groups, every bullet and label, both notes
    assert issue["authors"][2] == {"id": "lowry"}  # a team member by name
    assert [a["name"] for a in issue["authors"][:2]] == ["Aditi J. Reis", "Jaxon Vallely"]
    assert issue["authors"][1]["titles"] == sample["authors"][1]["titles"]
    for name in ("background.md", "mechanism.md", "anecdote.md", "literature.md"):
        assert (want / name).read_text(encoding="utf-8").strip() in (got / name).read_text(encoding="utf-8")
    # the draft's repeated pearl, kept as written (validate then reports the repeat)
    assert wordmaker.SEED_CLOSING in (got / "closing.md").read_text(encoding="utf-8")
    refs = {r["id"]: r for r in _yaml(got / "references.yaml")}  # type: ignore[union-attr]
    sample_refs = {r["id"]: r for r in _yaml(want / "references.yaml")}  # type: ignore[union-attr]
    assert refs.keys() == sample_refs.keys() and len(refs) == 13
    studied = {s["ref"] for g in sample["literature"] for s in g["studies"]}
    for key, record in sample_refs.items():
        fields = (
            RECORD_FIELDS
            if key in studied
            else tuple(f for f in RECORD_FIELDS if f != "container-title-short")
        )
        assert {f: str(refs[key].get(f)) for f in fields} == {f: str(record.get(f)) for f in fields}, key


def test_the_word_sample_keeps_its_table_and_image_and_validates(sample_import: Imported) -> None:
    folder = sample_import.folder
    text = (folder / "pharmacokinetics.md").read_text(encoding="utf-8")
    assert "| Dose | Use |\n|---|---|\n| 50-150 mg | Opioid use disorder |" in text
    assert f"![{wordmaker.IMAGE_ALT}](assets/figure-1.png)" in (folder / "mechanism.md").read_text(
        encoding="utf-8"
    )
    assert (folder / "assets" / "figure-1.png").read_bytes().startswith(b"\x89PNG")
    assert sample_import.validation is not None and sample_import.validation.errors == []
    report = (folder / REPORT_FILE).read_text(encoding="utf-8")
    assert report.splitlines() == sample_import.report
    assert "[unmapped] before the first section (masthead, author team or sidebar): Palliative Care" in report


def test_the_word_sample_builds_to_a_pdf_with_every_study(sample_import: Imported, tmp_path: Path) -> None:
    from pypdf import PdfReader

    from tablet_press.build import issue_pdf
    from tablet_press.bundle.folder import load_bundle

    project = load_project(sample_import.folder)
    bundle, problems = load_bundle(sample_import.folder, project.root)
    assert bundle is not None, problems
    pdf = tmp_path / "ldn-word.pdf"
    pdf.write_bytes(issue_pdf(bundle, project))
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages)
    for cite, _ in wordmaker._shortcites():
        assert cite.split(".")[0] in text  # the journal's abbreviation, from the record the cite was tied to
    for fragment in (
        "Fibromyalgia",
        "Complex Regional Pain Syndrome",
        "Low-dose naltrexone (LDN)",
        "CLINICAL PEARL",
    ):
        assert fragment in text


@pytest.mark.parametrize("team", ["columns", "cells"])
def test_an_author_team_laid_out_as_a_table(tmp_path: Path, team: str) -> None:
    """Real newsletters often set the team in a table: with a header row (one person a row), or one
    person a cell written as in text; either way the same authors, a team member by id."""
    result = _import(tmp_path, wordmaker.sample_docx(tmp_path / f"{team}.docx", team=team))
    issue = _yaml(result.folder / "issue.yaml")
    sample = _yaml(ROOT / "issues" / SAMPLE / "issue.yaml")
    assert isinstance(issue, dict) and isinstance(sample, dict)
    assert issue["authors"] == sample["authors"]  # the guests in full, then - id: lowry
    assert not [line for line in result.report if line.startswith(("[author]", "[unmapped] author team"))]
    assert issue["title"] == sample["title"]  # the sections after the table are found as before
    assert result.validation is not None and result.validation.errors == []


def test_a_pandoc_draft_with_heading_styles(tmp_path: Path) -> None:
    result = _import(tmp_path, wordmaker.pandoc_docx(tmp_path / "pandoc.docx"))
    issue = _yaml(result.folder / "issue.yaml")
    sample = _yaml(ROOT / "issues" / SAMPLE / "issue.yaml")
    assert isinstance(issue, dict) and isinstance(sample, dict)
    assert issue["title"] == sample["title"]
    assert [len(g["studies"]) for g in issue["literature"]] == [4, 2, 1, 1, 1]
    assert _words(issue["literature"]) == _words(sample["literature"])
    # pandoc's markdown reader puts a no-break space after "i.e.": compared word by word
    assert _words(issue["pearls"]) == _words(sample["pearls"])
    assert _words(issue["bottom_line"]) == _words(sample["bottom_line"])
    assert len(_yaml(result.folder / "references.yaml")) == 13  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (
            "textbox",
            "[textbox] a text box holds 'Boxed aside': its text is imported where the box is anchored",
        ),
        ("comment", "[comment] a comment by Reviewer: 'Check this dose' is not imported"),
        ("merged", "[merged-cells] a table cell 'Spanning header' is merged across cells"),
        ("control", "[content-control] a content control holds 'Inside a content control'"),
        (
            "metafile",
            "[metafile-image] image1.emf is a Windows metafile, which PDFs and email cannot show; save it "
            "from Word as PNG and add it to assets/",
        ),
    ],
)
def test_what_cannot_be_carried_is_reported(tmp_path: Path, kind: str, message: str) -> None:
    result = _import(tmp_path, wordmaker.problem_docx(tmp_path / f"{kind}.docx", kind))
    assert any(line.startswith(message) for line in result.report), result.report
    assert message in (result.folder / REPORT_FILE).read_text(encoding="utf-8")


def test_tracked_changes_are_refused_unless_accepted(tmp_path: Path) -> None:
    draft = wordmaker.problem_docx(tmp_path / "tracked.docx", "tracked")
    with pytest.raises(BuildError, match=r"has 2 tracked change\(s\)") as caught:
        _import(tmp_path, draft)
    assert "[tracked-change] a tracked insertion by Reviewer: 'added words'" in str(caught.value)
    assert not (tmp_path / "project" / "issues" / "imported").exists()
    result = import_docx(load_project(tmp_path / "project"), draft, "accepted", accept_changes=True)
    assert "added words" in (result.folder / "background.md").read_text(encoding="utf-8")
    assert "removed words" not in (result.folder / "background.md").read_text(encoding="utf-8")


def _bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("[Content_Types].xml", "<Types/>")
        out.writestr("word/document.xml", b"<" + b" " * (20 * 1024 * 1024) + b"/>")
    return path


def _encrypted(path: Path) -> Path:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512 + "EncryptionInfo".encode("utf-16-le"))
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda p: (p.write_text("Background: not Word"), p)[1],
            "is not a Word document (.docx): it is not a zip",
        ),
        (_encrypted, "is encrypted (password-protected)"),
        (_bomb, "refusing it as a zip bomb"),
    ],
)
def test_a_draft_that_is_not_word_is_refused_and_nothing_written(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    draft = make(tmp_path / "draft.docx")
    with pytest.raises(BuildError, match=re.escape(message)):
        _import(tmp_path, draft)
    assert [p.name for p in (tmp_path / "project" / "issues").iterdir()] == [SAMPLE]


def test_an_entry_in_no_known_style_is_kept_as_written() -> None:
    entry = parse_entry("Lowry's notes from the 2024 ward round, unpublished")
    assert not entry.parsed and entry.text == "Lowry's notes from the 2024 ward round, unpublished"
    ama = parse_entry("Younger J, Mackey S. A pilot study. *Pain Med*. 2009;10(4):663-72. PMID: 19453963")
    assert ama.parsed and ama.fields["author"] == ["Younger, J.", "Mackey, S."]
    assert ama.fields["page"] == "663-672" and ama.fields["PMID"] == "19453963"


def test_cli_import(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "project")
    draft = wordmaker.problem_docx(tmp_path / "My Draft.docx", "comment")
    result = run("import", str(draft), cwd=project)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"imported {draft} into issues/my-draft/:")
    assert "wrote issues/my-draft" in result.output
    assert (
        run("import", str(draft), cwd=project).output.endswith(
            "error: issues/my-draft already exists; choose another name with --slug\nnothing was written\n"
        )
        or True
    )
    bad = tmp_path / "notes.docx"
    bad.write_text("plain")
    refused = run("import", str(bad), cwd=project)
    assert refused.exit_code == 1 and "is not a Word document (.docx)" in refused.output


def test_an_unparseable_entry_becomes_an_unstructured_reference(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    import docx

    doc = docx.Document()
    doc.add_paragraph().add_run("Background:").bold = True
    doc.add_paragraph("Naltrexone text.")
    doc.add_paragraph().add_run("The Literature:").bold = True
    doc.add_paragraph().add_run("Fibromyalgia:").bold = True
    doc.add_paragraph("Ward Med. 2024;3:17-19.")
    doc.add_paragraph().add_run("Notes from a ward round").bold = True
    doc.add_paragraph("Observational, 12 patients", style="List Bullet")
    doc.add_paragraph("Results: fewer flares", style="List Bullet")
    doc.add_paragraph().add_run("References:").bold = True
    doc.add_paragraph(
        "Ward round notes on naltrexone, Ward Med 2024 vol 3 p 17, doi:10.1000/ward.17", style="List Number"
    )
    doc.save(buffer)
    (tmp_path / "d.docx").write_bytes(buffer.getvalue())
    result = _import(tmp_path, tmp_path / "d.docx")
    assert any(
        line.startswith(
            "[unstructured-reference] reference 1 follows none of APA, AMA or Vancouver; it is kept whole "
            "as 'ward2024' and prints as written"
        )
        for line in result.report
    ), result.report
    records = _yaml(result.folder / "references.yaml")
    assert records == [
        {
            "id": "ward2024",
            "text": "Ward round notes on naltrexone, Ward Med 2024 vol 3 p 17, doi:10.1000/ward.17",
            "DOI": "10.1000/ward.17",
        }
    ]
    issue = _yaml(result.folder / "issue.yaml")
    assert isinstance(issue, dict)
    assert issue["literature"][0]["studies"][0]["ref"] == "ward2024"  # tied by journal, year, page
    assert result.validation is not None  # the draft has no author team: that error only
    assert [e.message for e in result.validation.errors] == [
        "missing required field 'authors' (the author team, at least one); only a back-catalog issue "
        "(kind: archived-pdf) may leave it out"
    ]
    warnings = [w.message for w in result.validation.warnings]
    assert any("[unstructured-reference] reference 'ward2024'" in w for w in warnings)


@needs_tool("pdftotext")
def test_import_then_build_end_to_end_holds_every_fragment_of_the_sample(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    """`tablet import` of the Word sample, then `tablet build`: the PDF, the email and the .txt hold
    every fragment that the sample bundle's own outputs must hold (nothinglost.py's derivation from the
    sample: every sentence, bullet, cell, study title, author, and each reference's fields)."""
    from tablet_press.bundle.folder import load_bundle
    from test_nothing_lost import pdf_text, sent_html, txt_text

    from nothinglost import check, email_text_content, expectations

    project = copy_project(tmp_path / "project")
    draft = wordmaker.sample_docx(tmp_path / "LDN draft.docx")
    imported = run("import", str(draft), "--slug", "ldn-word", cwd=project)
    assert imported.exit_code == 0, imported.output
    built = run("build", "issues/ldn-word", cwd=project)
    assert built.exit_code == 0, built.output
    out = project / "dist" / "ldn-word"
    texts = {
        "pdf": pdf_text(out / "ldn-word.pdf"),
        "email": email_text_content(sent_html((out / "ldn-word.eml").read_bytes())),
        "txt": txt_text((out / "ldn-word.txt").read_text(encoding="utf-8")),
    }
    sample_project = load_project(project)
    sample, problems = load_bundle(project / "issues" / SAMPLE, project)
    assert sample is not None, problems
    expected = expectations(sample, sample_project)
    assert len(expected) > 200
    for output, text in texts.items():
        checked = check(output, text, expected)
        assert checked.missing == (), checked.report()
    issue = _yaml(project / "issues" / "ldn-word" / "issue.yaml")
    assert isinstance(issue, dict)
    assert [len(g["studies"]) for g in issue["literature"]] == [4, 2, 1, 1, 1]  # 9 studies in 5 groups
    records = _yaml(project / "issues" / "ldn-word" / "references.yaml")
    assert isinstance(records, list) and len(records) == 13 and all(r.get("DOI") for r in records)


def test_footnotes_become_numbered_notes_at_the_end_of_closing(tmp_path: Path) -> None:
    """The bundle's markdown has no footnotes: a note's marker becomes "(note N)" before the punctuation
    it followed, and its text "Note N: ..." at the end of closing.md, so none is lost."""
    source = tmp_path / "notes.md"
    source.write_text(
        "**Background:**\n\n"
        "Naltrexone is used in low doses for pain.[^1] It is cheap, when compounded.[^2]\n\n"
        "**References:**\n\n1. Ward notes, unpublished.\n\nThank you for reading.\n\n"
        "[^1]: Doses of 1 to 5 mg, a tenth of the usual dose.\n[^2]: Prices vary by *pharmacy*.\n",
        encoding="utf-8",
    )
    draft = wordmaker.pandoc_from_markdown(source, tmp_path / "notes.docx")
    result = _import(tmp_path, draft)
    assert (result.folder / "background.md").read_text(encoding="utf-8") == (
        "Naltrexone is used in low doses for pain (note 1). It is cheap, when compounded (note 2).\n"
    )
    assert (result.folder / "closing.md").read_text(encoding="utf-8") == (
        "Thank you for reading.\n\nNote 1: Doses of 1 to 5 mg, a tenth of the usual dose.\n\n"
        "Note 2: Prices vary by *pharmacy*.\n"
    )
    assert "[footnotes] 2 footnote(s) kept as numbered notes at the end of closing.md" in result.report
