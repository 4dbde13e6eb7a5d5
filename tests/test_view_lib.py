"""The view model (render/view.py) as a library: issue_view's fields for a small issue made in
tmp_path: parts in the outline's order, author groups, study bullets and their labels, references
numbered by first citation, the off-label notice and the email's preheader. No template is rendered."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from tablet_press.bundle.outline import OUTLINE, STUDY_FACTS
from tablet_press.bundle.project import load_project
from tablet_press.checks.validate import validate
from tablet_press.render.view import OFF_LABEL_NOTICE, IssueView, first_sentence, issue_view, tel_uri

from conftest import FIXTURES, copy_project

ISSUE = """\
number: 3
date: 2025-09-05
title: Ketamine at the bedside
topics: [ketamine, chronic-pain]
off_label: true
reference_style: ama
authors:
  - id: lowry
  - name: Aditi J. Reis
    role: guest
    credentials: [MD]
    titles: [Palliative Care Fellow]
  - name: Jaxon Vallely
    role: guest
    credentials: [DO]
pearls:
  - Start low [@beta2020]
literature:
  - indication: Neuropathic pain
    studies:
      - ref: alpha2019
        summary:
          - First bullet
          - Second bullet
        results: It helped.
        design: Randomized
        n: 40
        duration: 8 weeks
        population: Adults
        intervention: 0.5 mg/kg
        outcomes: Pain scores
        methods: Blinded
    note: A note on the studies.
bottom_line:
  - Titrate *slowly*
  - Use with care [@gamma2021]
"""


def reference(key: str, family: str, year: int) -> str:
    return (
        f'- id: {key}\n  author: ["{family}, A."]\n  title: "Study {key}"\n'
        "  container-title: Journal\n  container-title-short: J\n"
        f"  issued: {year}\n  page: 1-10\n"
    )


def view_of(bundle: Path) -> IssueView:
    project = load_project(bundle.parent.parent)
    report = validate(project, [bundle])
    assert [p.format() for p in report.problems] == []
    return issue_view(report.bundles[0], project)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project without issues, for the fixtures below to add theirs to."""
    return copy_project(tmp_path / "project", ())


@pytest.fixture
def rich(root: Path) -> Path:
    """An issue with every kind of part: three authors in two roles, a study with every fact, three
    references cited in a different order from their alphabetical one."""
    bundle = root / "issues" / "rich"
    bundle.mkdir()
    (bundle / "issue.yaml").write_text(ISSUE)
    (bundle / "references.yaml").write_text(
        reference("gamma2021", "Zed", 2021)
        + reference("alpha2019", "Moon", 2019)
        + reference("beta2020", "Abel", 2020)
    )
    (bundle / "background.md").write_text("Background cites [@gamma2021].\n")
    (bundle / "mechanism.md").write_text("How it works.\n")
    (bundle / "closing.md").write_text("::: note\nThanks.\n:::\n")
    return bundle


@pytest.fixture
def minimal(root: Path) -> Path:
    shutil.copytree(FIXTURES / "good" / "minimal", root / "issues" / "minimal")
    return root / "issues" / "minimal"


def test_parts_follow_the_outline_and_skip_what_the_issue_lacks(rich: Path) -> None:
    view = view_of(rich)
    assert [(p.key, p.heading) for p in view.parts] == [
        ("background", "Background"),
        ("mechanism", "Mechanism of Action"),
        ("pearls", "Clinical Pearls"),
        ("literature", "The Literature"),
        ("bottom_line", "Bottom Line"),
        ("references", "References"),
        ("closing", ""),
    ]
    order = [part.key for part in OUTLINE]
    assert [p.key for p in view.parts] == sorted((p.key for p in view.parts), key=order.index)


def test_a_part_is_there_when_any_of_its_sources_is(minimal: Path) -> None:
    issue = minimal / "issue.yaml"
    issue.write_text(issue.read_text().replace("pearls:\n  - Start low and go slow\n", ""))
    assert "pearls" not in [p.key for p in view_of(minimal).parts]
    (minimal / "anecdote.md").write_text("From our team.\n")
    assert [p.key for p in view_of(minimal).parts] == [
        "background",
        "pearls",
        "literature",
        "bottom_line",
        "references",
    ]


def test_prose_parts_are_rendered_for_every_output(rich: Path) -> None:
    closing = view_of(rich).prose["closing"]
    assert closing.text == "NOTE: Thanks."
    assert closing.html.startswith('<aside class="callout callout-note" role="note">')
    assert closing.email.startswith('<table role="presentation" class="callout callout-note"')


def test_authors_are_grouped_by_role_in_the_order_the_issue_names_them(rich: Path) -> None:
    view = view_of(rich)
    groups = [(g.label, [p.name for p in g.people]) for g in view.author_groups]
    assert groups == [
        ("Clinical Pharmacy Specialist", ["Maria Felton Lowry, PharmD, BCPS, BCGP"]),
        ("Guest Authors", ["Aditi J. Reis, MD", "Jaxon Vallely, DO"]),
    ]
    assert view.author_names == (
        "Maria Felton Lowry, PharmD, BCPS, BCGP",
        "Aditi J. Reis, MD",
        "Jaxon Vallely, DO",
    )


def test_a_team_member_brings_titles_and_contact_a_guest_their_own(rich: Path) -> None:
    lowry = view_of(rich).author_groups[0].people[0]
    reis = view_of(rich).author_groups[1].people[0]
    assert lowry.titles[0] == "Assistant Professor" and len(lowry.titles) == 5
    assert lowry.contact is not None and lowry.contact.cell == "412-627-8473"
    assert (reis.titles, reis.contact) == (("Palliative Care Fellow",), None)


def test_study_bullets_summary_first_then_facts_in_outline_order(rich: Path) -> None:
    study = view_of(rich).literature[0].studies[0]
    assert [(b.label, b.body.text) for b in study.bullets] == [
        ("", "First bullet"),
        ("", "Second bullet"),
        ("Participants", "n=40"),
        ("Design", "Randomized"),
        ("Population", "Adults"),
        ("Intervention and dose", "0.5 mg/kg"),
        ("Duration", "8 weeks"),
        ("Methods", "Blinded"),
        ("Outcomes", "Pain scores"),
        ("Results", "It helped."),
    ]
    assert [label for _, label in STUDY_FACTS] == [b.label for b in study.bullets[3:]]


def test_a_study_shows_its_reference_title_cite_and_link(minimal: Path) -> None:
    group = view_of(minimal).literature[0]
    study = group.studies[0]
    assert group.indication == "Fibromyalgia" and group.note is None
    assert study.title == "Fibromyalgia symptoms are reduced by low-dose naltrexone: a pilot study"
    assert study.cite == "Pain Med. 2009 May-Jun;10(4):663-72."
    assert study.url == "https://doi.org/10.1111/j.1526-4637.2009.00613.x"
    assert [(b.label, b.body.text) for b in study.bullets] == [
        ("Design", "Single-blind, crossover trial"),  # the summary's first bullet, before labelled facts
        ("Results", "Fewer symptoms."),
    ]


def test_a_group_note_is_block_markdown(rich: Path) -> None:
    note = view_of(rich).literature[0].note
    assert note is not None and note.html == "<p>A note on the studies.</p>\n"


def test_numbered_references_follow_the_first_citation_in_reading_order(rich: Path) -> None:
    view = view_of(rich)
    # background cites gamma, the pearls beta, the study is alpha: not the file's order, not A-Z.
    assert [r.anchor for r in view.references] == ["ref-gamma2021", "ref-beta2020", "ref-alpha2019"]
    assert view.numbered_references is True
    assert view.pearls[0].text == "Start low [2]"
    assert view.pearls[0].html == 'Start low<sup><a href="#ref-beta2020">2</a></sup>'
    assert view.pearls[0].email == "Start low<sup>2</sup>"
    assert view.bottom_line[1].text == "Use with care [1]"


def test_apa_references_are_alphabetical_and_cited_by_author_and_year(minimal: Path) -> None:
    view = view_of(minimal)
    assert [r.entry.text for r in view.references] == [
        "Younger, J., & Mackey, S. (2009). Fibromyalgia symptoms are reduced by low-dose naltrexone: a pilot "
        "study. Pain Medicine (Malden, Mass.), 10(4), 663–672. https://doi.org/10.1111/j.1526-4637.2009.00613.x"
    ]
    assert view.bottom_line[0].html == (
        'A point worth making (<a href="#ref-younger2009">Younger &amp; Mackey, 2009</a>)'
    )


def test_off_label_notice_only_when_the_issue_says_so(rich: Path, minimal: Path) -> None:
    assert view_of(rich).off_label_notice == OFF_LABEL_NOTICE
    assert OFF_LABEL_NOTICE.startswith("This issue discusses off-label use")
    assert view_of(minimal).off_label_notice is None


def test_the_preheader_is_the_first_bottom_lines_first_sentence_never_the_title(
    rich: Path, minimal: Path
) -> None:
    assert view_of(rich).preheader == "Titrate slowly"
    issue = minimal / "issue.yaml"
    issue.write_text(issue.read_text().replace("bottom_line:\n  - A point worth making [@younger2009]\n", ""))
    view = view_of(minimal)  # no bottom line: the first text's first sentence
    assert view.preheader and view.title not in view.preheader
    assert view.preheader == first_sentence(next(iter(view.prose.values())).text)


def test_the_subject_leads_with_the_topic_then_the_newsletter_and_number(rich: Path) -> None:
    assert view_of(rich).subject == "Ketamine at the bedside | The Tablet #3"


def test_masthead_fields(rich: Path) -> None:
    view = view_of(rich)
    assert (view.slug, view.number, view.title) == ("rich", 3, "Ketamine at the bedside")
    assert view.date == date(2025, 9, 5)
    assert view.date_text == "September 5, 2025"
    assert view.keywords == ("Ketamine", "Chronic pain")
    assert view.kicker == "TODAY’S TOPIC"
    assert view.email_images == ()


@pytest.mark.parametrize(
    ("number", "uri"),
    [
        ("412-627-8473", "tel:+14126278473"),
        ("(412) 627 8473", "tel:+14126278473"),
        ("+44 20 7946 0958", "tel:+442079460958"),
        ("627-8473", "tel:6278473"),
    ],
)
def test_tel_uri(number: str, uri: str) -> None:
    assert tel_uri(number) == uri
