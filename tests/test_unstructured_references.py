"""Unstructured references (issue 18): an entry kept as written (`text:` in references.yaml) prints as
written in every style, takes its place in the list (numbered by first citation; in APA sorted by its
text among the authors' names), is cited like any other record, links its DOI/PMID, and draws the
[unstructured-reference] warning, which an ignore comment with a reason silences."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tablet_press.bundle.folder import load_bundle
from tablet_press.bundle.model import Reference
from tablet_press.bundle.project import load_project
from tablet_press.checks.validate import validate
from tablet_press.refs.engine import Bibliography
from test_nothing_lost import pdf_text, sent_html, txt_text

from conftest import FIXTURES, copy_project, needs_tool
from nothinglost import check, email_text_content, expectations

FIXTURE = FIXTURES / "good" / "unstructured"
STRUCTURED = Reference.model_validate(
    {
        "id": "younger2009",
        "author": ["Younger, J.", "Mackey, S."],
        "title": "Fibromyalgia symptoms are reduced by low-dose naltrexone",
        "container-title": "Pain Medicine",
        "issued": "2009",
        "volume": "10",
        "page": "663-672",
    }
)
LOOSE = Reference.model_validate({"id": "ward", "text": "Lowry M. *Ward round* notes, 2024, unpublished."})
AARDVARK = Reference.model_validate(
    {"id": "aa", "text": "Aardvark Society. Position on opioid antagonists. 2019.", "DOI": "10.1000/aa.1"}
)


def _project(tmp_path: Path, style: str) -> Path:
    root = copy_project(tmp_path / "project", bundles=())
    shutil.copytree(FIXTURE, root / "issues" / "unstructured")
    issue = root / "issues" / "unstructured" / "issue.yaml"
    issue.write_text(
        re.sub(r"reference_style: \w+", f"reference_style: {style}", issue.read_text(encoding="utf-8")),
        encoding="utf-8",
    )
    return root


@needs_tool("pdftotext")
@pytest.mark.parametrize("style", ["apa", "ama", "vancouver"])
def test_an_unstructured_reference_prints_as_written_in_every_output_and_style(
    tmp_path: Path, style: str
) -> None:
    from tablet_press.build import build

    root = _project(tmp_path, style)
    project = load_project(root)
    bundle, problems = load_bundle(root / "issues" / "unstructured", root)
    assert bundle is not None, [p.format() for p in problems]
    build(project, [root / "issues" / "unstructured"], root / "dist", strict=False)
    out = root / "dist" / "unstructured"
    texts = {
        "pdf": pdf_text(out / "unstructured.pdf"),
        "email": email_text_content(sent_html((out / "unstructured.eml").read_bytes())),
        "txt": txt_text((out / "unstructured.txt").read_text(encoding="utf-8")),
    }
    expected = expectations(bundle, project)
    texts_expected = [e for e in expected if ".text" in e.where]
    assert len(texts_expected) >= 4  # the derivation holds each entry's text, sentence by sentence
    for output, text in texts.items():
        checked = check(output, text, expected)
        assert checked.missing == (), checked.report()
    html = (out / "unstructured.html").read_text(encoding="utf-8")  # the email's HTML: inline styles
    assert re.search(r'<a href="https://doi.org/10.3390/biomedicines5020016"[^>]*>https://doi', html)
    assert re.search(r'<a href="https://pubmed.ncbi.nlm.nih.gov/12345678/"[^>]*>12345678</a>', html)
    assert re.search(r"<i\b[^>]*>Biomedicines</i>", html)  # markdown italics as written


def test_numbered_styles_number_it_by_first_citation() -> None:
    refs = [STRUCTURED, LOOSE]
    for style in ("ama", "vancouver"):
        bib = Bibliography(refs, style, ["ward", "younger2009"])  # type: ignore[arg-type]
        entries = bib.entries()
        assert [(e.id, e.number) for e in entries] == [("ward", 1), ("younger2009", 2)]
        assert entries[0].text == "Lowry M. Ward round notes, 2024, unpublished."
        assert entries[0].html == "Lowry M. <i>Ward round</i> notes, 2024, unpublished."
        assert bib.cite_text(["younger2009", "ward"]) == "[1,2]"


def test_apa_sorts_it_by_its_text_among_the_authors_names() -> None:
    bib = Bibliography([STRUCTURED, LOOSE, AARDVARK], "apa", ["younger2009"])
    assert [e.id for e in bib.entries()] == ["aa", "ward", "younger2009"]  # Aardvark, Lowry, Younger
    assert bib.cite_text(["ward"]) == "(Lowry M, 2024)"
    assert bib.cite_text(["younger2009", "aa"]) == "(Aardvark Society, 2019; Younger & Mackey, 2009)"
    assert '<a href="#ref-aa">Aardvark Society, 2019</a>' in bib.cite_html(["aa"])
    aa = bib.entries()[0]
    assert aa.html.endswith('<a href="https://doi.org/10.1000/aa.1">https://doi.org/10.1000/aa.1</a>')


def test_validate_warns_with_the_check_name_unless_ignored_with_a_reason(tmp_path: Path) -> None:
    root = _project(tmp_path, "vancouver")
    refs = root / "issues" / "unstructured" / "references.yaml"
    project = load_project(root)
    assert [p.message for p in validate(project, [refs.parent]).warnings] == []  # all three ignored
    refs.write_text(
        refs.read_text(encoding="utf-8").replace(
            "# tablet: ignore[unstructured-reference] an unpublished source has no fields to give\n", ""
        ),
        encoding="utf-8",
    )
    warnings = validate(project, [refs.parent]).warnings
    assert [w.message.split(" is kept")[0] for w in warnings] == [
        "[unstructured-reference] reference 'wardnotes'"
    ]
    assert warnings[0].format().startswith("issues/unstructured/references.yaml:20:9:")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": "x", "text": "As written.", "title": "A title"}, "takes only id, DOI, PMID and URL"),
        ({"id": "x", "title": "A title", "issued": "2020"}, "a reference needs `author`"),
        ({"id": "x", "author": ["Smith, J."], "issued": "2020"}, "a reference needs `title`"),
    ],
)
def test_a_record_is_either_text_or_fields(record: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Reference.model_validate(record)
