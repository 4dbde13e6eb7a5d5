"""Numbered styles (AMA, Vancouver): each study heading shows its reference number, so a reader can tie
the study to the list, and a citation's superscript follows its word without the space written before
"[@key]" (issue 14 item 3)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tablet_press.build import print_html
from tablet_press.bundle import markdown
from tablet_press.bundle.folder import Bundle, load_bundle
from tablet_press.bundle.model import Reference, ReferenceStyle
from tablet_press.bundle.project import Project, load_project
from tablet_press.refs.engine import Bibliography
from tablet_press.render.email import email_html, email_text
from tablet_press.render.email_markdown import EmailRenderer
from tablet_press.render.view import IssueView, issue_view

from conftest import FIXTURES, ROOT, SAMPLE, copy_project


def view_of(root: Path, slug: str) -> tuple[Bundle, Project, IssueView]:
    project = load_project(root)
    bundle, problems = load_bundle(root / "issues" / slug, root)
    assert bundle is not None, problems
    return bundle, project, issue_view(bundle, project)


def test_study_headings_show_their_reference_number_in_a_numbered_style(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "p", bundles=())
    shutil.copytree(FIXTURES / "good" / "figures", root / "issues" / "figures")  # AMA
    bundle, project, view = view_of(root, "figures")
    numbers = {ref.anchor: n for n, ref in enumerate(view.references, start=1)}
    study = view.literature[0].studies[0]
    assert (study.number, numbers["ref-younger2009"]) == (1, 1)
    assert '<p class="study-cite"><span class="study-number">[1]</span> <a href=' in print_html(
        bundle, project, view
    )
    assert "\n[1] Pain Med. 2009 May-Jun;10(4):663-72.\n" in email_text(view, project)
    assert (
        '">[1] <a href="https://doi.org/10.1111/j.1526-4637.2009.00613.x"'
        in email_html(view, bundle, project)[0]
    )


def test_author_date_study_headings_have_no_number() -> None:
    _, _, view = view_of(ROOT, SAMPLE)  # APA
    assert {study.number for group in view.literature for study in group.studies} == {None}


def ref(key: str) -> Reference:
    return Reference.model_validate(
        {
            "id": key,
            "author": ["Fictional, A."],
            "title": "A trial",
            "container-title": "J Fict Stud",
            "container-title-short": "J Fict Stud",
            "issued": "2020",
            "page": "1-9",
        }
    )


@pytest.mark.parametrize(
    ("style", "written", "page", "email"),
    [
        (
            "ama",
            "Less nausea [@a].",
            'Less nausea<sup><a href="#ref-a">1</a></sup>.',
            "Less nausea<sup>1</sup>.",
        ),
        (
            "vancouver",
            "Less *nausea*\n[@a; @b]",
            'Less <em>nausea</em><sup><a href="#ref-a">1</a>,<a href="#ref-b">2</a></sup>',
            "Less <em>nausea</em><sup>1,2</sup>",
        ),
        (
            "apa",
            "Less nausea [@a].",
            'Less nausea (<a href="#ref-a">Fictional, 2020a</a>).',
            "Less nausea (Fictional, 2020a).",
        ),
    ],
)
def test_a_space_before_a_citation_does_not_survive_into_a_superscript(
    style: ReferenceStyle, written: str, page: str, email: str
) -> None:
    bib = Bibliography([ref("a"), ref("b")], style, ["a", "b"])
    html = markdown.renderer(bib.cite_html, {})
    mail = EmailRenderer(bib.cite_unlinked, {}, None)  # type: ignore[arg-type]  # no images here
    html.tight_citations = mail.tight_citations = bib.numbered
    assert html.render(written, inline=True) == page
    assert mail.render(written, inline=True) == email
