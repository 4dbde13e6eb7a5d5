"""Every word reaches every output, for any bundle (issue 14 item 5): every sentence, bullet, table cell,
figure caption and reference field of the source (derived from the loaded bundle: nothinglost.py) is
in the PDF's text (pdftotext), the email HTML's visible text (lxml) and the .txt: 100% of each.

Each bundle of issues/ and tests/fixtures/good/ is built once for this module through the library's
build, and its three outputs are checked against the same expectations. The seed's exact fragments
stay in test_pdf.py and test_email.py (the seed is the acceptance test); this file proves the general
case, and that the check fails when something is lost.
"""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tablet_press.bundle.folder import Bundle, load_bundle
from tablet_press.bundle.project import Project, load_project
from tablet_press.render.email import email_text
from tablet_press.render.view import issue_view

from conftest import FIXTURES, ROOT, SAMPLE, copy_project, needs_tool
from nothinglost import (
    Expected,
    check,
    email_text_content,
    expectations,
    flatten,
    inline_pieces,
    printed_family_names,
    sentences,
    text_table_columns,
)

# Every bundle there is: the sample issues and the good fixtures, as (folder, slug).
BUNDLES = [
    *(("issues", p.parent.name) for p in sorted((ROOT / "issues").glob("*/issue.yaml"))),
    *(("good", p.parent.name) for p in sorted((FIXTURES / "good").glob("*/issue.yaml"))),
]
OUTPUTS = ("pdf", "email", "txt")


@dataclass(frozen=True)
class Built:
    bundle: Bundle
    project: Project
    expected: list[Expected]
    texts: dict[str, str]  # output -> its text as a reader gets it


_FURNITURE = re.compile(r"Page \d+ of \d+|The Tablet · Issue \d+ · \w+ \d+, \d{4}")


def pdf_text(pdf: Path) -> str:
    """The PDF's text in drawing order, without the page furniture that falls inside a sentence running
    on to the next page ("Page 1 of 5", the running head), and without list markers: WeasyPrint draws
    them after a page's text, so -raw prints a bullet alone on a line where the text it drew last stands."""
    raw = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    lines = (line.replace("\f", "").strip() for line in raw.split("\n"))
    return "\n".join(line for line in lines if line not in ("•", "◦", "▪") and not _FURNITURE.match(line))


def sent_html(eml: bytes) -> str:
    message = email.message_from_bytes(eml, policy=email.policy.default)
    body = message.get_body(("html",))
    assert body is not None
    return str(body.get_content())


def txt_text(txt: str) -> str:
    """The .txt as read: its lines, and its aligned tables column by column."""
    return f"{txt}\n\n{text_table_columns(txt)}"


def build_one(root: Path, folder: str, slug: str) -> Built:
    from tablet_press.build import build

    root = copy_project(root, bundles=())
    shutil.copytree(
        (ROOT / "issues" if folder == "issues" else FIXTURES / "good") / slug, root / "issues" / slug
    )
    project = load_project(root)
    bundle, problems = load_bundle(root / "issues" / slug, root)
    assert bundle is not None, [p.format() for p in problems]
    build(project, [root / "issues" / slug], root / "dist", strict=False)
    out = root / "dist" / slug
    texts = {
        "pdf": pdf_text(out / f"{slug}.pdf") if shutil.which("pdftotext") else "",
        "email": email_text_content(sent_html((out / f"{slug}.eml").read_bytes())),
        "txt": txt_text((out / f"{slug}.txt").read_text(encoding="utf-8")),
    }
    return Built(bundle, project, expectations(bundle, project), texts)


@pytest.fixture(scope="module", params=BUNDLES, ids=[f"{f}/{s}" for f, s in BUNDLES])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Built:
    folder, slug = request.param
    return build_one(tmp_path_factory.mktemp("lost") / "project", folder, slug)


# ---------------------------------------------------------------------------------- 100% everywhere


@needs_tool("pdftotext")
def test_every_fragment_of_the_bundle_is_in_the_pdf(built: Built) -> None:
    checked = check("pdf", built.texts["pdf"], built.expected)
    assert checked.missing == (), checked.report()


def test_every_fragment_of_the_bundle_is_in_the_email_html(built: Built) -> None:
    checked = check("email", built.texts["email"], built.expected)
    assert checked.missing == (), checked.report()


def test_every_fragment_of_the_bundle_is_in_the_plain_text(built: Built) -> None:
    checked = check("txt", built.texts["txt"], built.expected)
    assert checked.missing == (), checked.report()


def test_the_expectations_cover_each_kind_of_source(built: Built) -> None:
    """Not a vacuous 100%: prose, issue.yaml fields and every reference each give expectations."""
    where = [e.where for e in built.expected]
    assert any("/background.md:" in w for w in where)
    assert any(w.endswith("/issue.yaml: title") for w in where)
    for ref in built.bundle.references:
        prefix = f"references.yaml: {ref.id}."
        fields = {w.removeprefix(prefix) for w in where if w.startswith(prefix)}
        if ref.unstructured:  # an entry as written: its text, and what identifies it if it has any
            assert "text" in fields, (ref.id, fields)
            wanted = {"DOI"} if ref.DOI else {k for k in ("PMID", "URL") if getattr(ref, k)}
            assert wanted <= fields, (ref.id, fields)
            continue
        assert {"title", "author.0"} <= fields, (ref.id, fields)
        assert fields & {"DOI", "PMID", "URL"}, ref.id  # every reference can be found by the reader


# ---------------------------------------------------------------------------------- the check can fail


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_one(tmp_path_factory.mktemp("sample") / "project", "issues", "2025-08-olanzapine")


def test_a_sentence_deleted_from_one_output_is_reported_with_where_it_comes_from(sample: Built) -> None:
    prose = next(e for e in sample.expected if "/background.md:" in e.where and len(e.fragment) > 40)
    assert flatten(prose.fragment) in flatten(sample.texts["txt"])
    lost = flatten(sample.texts["txt"]).replace(flatten(prose.fragment), "")
    checked = check("txt", lost, sample.expected)
    assert checked.missing == (prose,)
    assert checked.coverage == (len(sample.expected) - 1) / len(sample.expected)
    line = int(prose.where.rsplit(":", 1)[1])
    source = (ROOT / "issues" / "2025-08-olanzapine" / "background.md").read_text(encoding="utf-8")
    assert prose.fragment.split()[0] in source.splitlines()[line - 1]  # the line it starts on
    assert f"missing issues/2025-08-olanzapine/background.md:{line}: {prose.fragment!r}" in checked.report()


def test_a_reference_field_lost_from_the_list_is_reported(sample: Built) -> None:
    doi = next(e for e in sample.expected if e.where.endswith(".DOI"))
    text = sample.texts["email"].replace(doi.fragment, "")
    assert check("email", text, sample.expected).missing == (doi,)
    pmid = next(e for e in sample.expected if e.where.endswith(".PMID"))  # the PMID-only reference
    text = sample.texts["email"].replace(pmid.fragment, "0")
    assert check("email", text, sample.expected).missing == (pmid,)


def test_a_field_printed_only_outside_the_reference_list_does_not_count(sample: Built) -> None:
    text = sample.texts["txt"]
    cut = text.lower().rfind("references")
    year = next(e for e in sample.expected if e.where.endswith(".issued"))
    body, refs = text[:cut], text[cut:]
    checked = check("txt", f"{body} {year.fragment} {refs.replace(year.fragment, '')}", sample.expected)
    assert year in checked.missing


def test_a_template_that_drops_the_pearls_is_caught(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    parts = root / "templates" / "email" / "_parts.txt.j2"
    source = parts.read_text(encoding="utf-8")
    dropped = '{% for pearl in issue.pearls %}\n{{ wrap(pearl.text, "- ") }}\n{% endfor %}\n'
    assert dropped in source
    parts.write_text(source.replace(dropped, ""), encoding="utf-8")
    project = load_project(root)
    bundle, _ = load_bundle(root / "issues" / SAMPLE, root)
    assert bundle is not None
    expected = expectations(bundle, project)
    checked = check("txt", txt_text(email_text(issue_view(bundle, project), project)), expected)
    lost = {re.sub(r".*\((\w+).*", r"\1", e.where) for e in checked.missing}
    assert lost == {"pearls"} and len(checked.missing) >= len(bundle.issue.pearls), checked.report()
    assert checked.coverage < 1


# ---------------------------------------------------------------------------------- the derivation


def test_inline_text_is_cut_where_the_outputs_print_their_own() -> None:
    from tablet_press.bundle import markdown

    inline = markdown.parse_inline("A *b* [c](https://x.org) d [@k]. E `f` ![g](x.png) h\ni")[0]
    assert inline_pieces(inline.children or []) == ["A b c", " d ", ". E f ", " h i"]
    assert sentences("One. Two? Three; four") == ["One.", "Two?", "Three;", "four"]
    assert sentences(". ") == []


def test_family_names_follow_the_styles_et_al_rule() -> None:
    eight = [f"Name{i}, A." for i in range(8)]
    assert [n for _, n in printed_family_names(eight, "ama")] == ["Name0", "Name1", "Name2"]
    assert len(printed_family_names(eight, "vancouver")) == 6
    assert len(printed_family_names(eight, "apa")) == 8
    assert [n for _, n in printed_family_names(["Lowry, M.", "et al."], "apa")] == ["Lowry"]
    assert printed_family_names(["World Health Organization"], "ama") == [(0, "World Health Organization")]


def test_the_comparison_forgives_only_typesetting() -> None:
    assert flatten("the ﬁrst “dose”\u00a0is  low-\ndose") == 'the first "dose" is low-dose'
    assert flatten("Titra\u00adtion") == "titration"
    assert flatten("a\nb") != flatten("ab")


def test_text_tables_are_read_column_by_column() -> None:
    from tablet_press.bundle.texttable import text_table

    table = text_table(["Drug", "Dose"], [["olanzapine orally", "2.5 mg at bedtime in frail patients " * 3]])
    assert "2.5 mg at bedtime in frail patients " * 2 in text_table_columns(table) + " "
