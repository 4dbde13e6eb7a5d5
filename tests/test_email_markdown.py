"""The email's own HTML for the pharmacist's markdown, made from the tokens (render/email_markdown.py):
callouts as tables, citations unlinked, images as sized cid: parts; and the view model that hands
every text to the email template in that form, with its images numbered in reading order."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from tablet_press.bundle.markdown import renderer
from tablet_press.bundle.project import load_project
from tablet_press.checks.validate import validate
from tablet_press.errors import BuildError
from tablet_press.render.email_markdown import EmailRenderer, IssueImages
from tablet_press.render.view import issue_view

from conftest import FIXTURES, copy_project

LABELS = {"pearl": "CLINICAL PEARL"}


class FakeBundle:
    """What IssueImages reads of a bundle: its folder and slug."""

    def __init__(self, path: Path) -> None:
        self.path, self.slug = path, "demo"


def unlinked(keys: list[str]) -> str:
    return "<sup>" + ",".join(keys) + "</sup>"


@pytest.fixture
def images(tmp_path: Path) -> IssueImages:
    (tmp_path / "assets").mkdir()
    Image.new("RGB", (1104, 200)).save(tmp_path / "assets" / "wide chart.png")
    Image.new("RGB", (40, 30)).save(tmp_path / "assets" / "dot.png")
    return IssueImages(FakeBundle(tmp_path))  # type: ignore[arg-type]


def test_a_callout_is_a_one_cell_table_with_its_label(images: IssueImages) -> None:
    text = "::: pearl\nStart *low* [@a].\n:::\n"
    email = EmailRenderer(unlinked, LABELS, images).render(text)
    assert email == (
        '<table role="presentation" class="callout callout-pearl" width="100%" cellpadding="0"'
        ' cellspacing="0" border="0"><tr><td class="callout-body" role="note">'
        '<p class="callout-label">CLINICAL PEARL:</p>\n'
        "<p>Start <em>low</em> <sup>a</sup>.</p>\n"
        "</td></tr></table>\n"
    )
    # The page keeps its <aside>: the two are made from the same tokens, neither from the other.
    page = renderer(unlinked, LABELS).render(text)
    assert page.startswith('<aside class="callout callout-pearl" role="note">') and "<table" not in page


def test_citations_are_whatever_the_email_cite_gives(images: IssueImages) -> None:
    email = EmailRenderer(lambda keys: "(" + "; ".join(keys) + ")", LABELS, images)
    assert email.render("As shown [@a; @b].", inline=True) == "As shown (a; b)."
    assert "href" not in email.render("As shown [@a; @b].")


def test_images_are_inline_parts_sized_for_the_column(images: IssueImages) -> None:
    email = EmailRenderer(unlinked, LABELS, images)
    html = email.render('![A "wide" chart](<assets/wide chart.png> "Pain & sleep")\n\n![dot](assets/dot.png)')
    # Alone in its paragraph with a title: a numbered figure, its title the caption (no tooltip).
    assert html == (
        '<div class="figure-box"><img class="figure" src="cid:image1@demo.tablet" width="552" height="100"'
        ' style="width: 100%; max-width: 552px;" alt="A &quot;wide&quot; chart">'
        '<p class="figure-caption"><strong class="figure-number">Figure 1.</strong>'
        " Pain &amp; sleep</p></div>\n"
        '<p><img class="figure" src="cid:image2@demo.tablet" width="40" height="30"'
        ' style="width: 100%; max-width: 40px;" alt="dot"></p>\n'
    )
    again = email.render("A ![dot again](assets/dot.png) inline", inline=True)
    assert 'src="cid:image2@demo.tablet"' in again  # one part per file, however often it is shown
    assert [(i.cid, i.subtype) for i in images.all()] == [
        ("image1@demo.tablet", "png"),
        ("image2@demo.tablet", "png"),
    ]
    # The page shows the file itself, as markdown-it writes it.
    assert renderer(unlinked, LABELS).render("![dot](assets/dot.png)") == (
        '<p><img src="assets/dot.png" alt="dot" /></p>\n'
    )


def test_an_image_outside_assets_is_refused_even_unvalidated(images: IssueImages, tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes((tmp_path / "assets" / "dot.png").read_bytes())
    with pytest.raises(BuildError, match=r"'assets/\.\./secret\.png' is not a path inside the issue folder"):
        EmailRenderer(unlinked, LABELS, images).render("![x](assets/../secret.png)")
    with pytest.raises(BuildError, match="not a file in assets/"):
        EmailRenderer(unlinked, LABELS, images).render("![x](secret.png)")


def test_the_view_hands_the_email_its_own_html_of_every_text(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project", ())
    shutil.copytree(FIXTURES / "good" / "figures", root / "issues" / "figures")
    project = load_project(root)
    bundle = validate(project, None).bundles[0]
    view = issue_view(bundle, project)
    background = view.prose["background"]
    assert (
        '<aside class="callout' in background.html and '<img src="assets/wide%20fig.png"' in background.html
    )
    assert '<table role="presentation" class="callout callout-pearl"' in background.email
    assert "<aside" not in background.email and 'href="#' not in background.email
    assert '<sup><a href="#ref-younger2009">1</a>' in background.html and "<sup>1,2</sup>" in background.email
    assert view.pearls[0].email.count('src="cid:image2@figures.tablet"') == 1
    # Numbered in reading order: the background's figure first, though the pearl's comes first in issue.yaml.
    assert [(i.cid, i.width, i.height) for i in view.email_images] == [
        ("image1@figures.tablet", 552, 276),
        ("image2@figures.tablet", 100, 50),
    ]
    assert view.references[0].entry.email == view.references[0].entry.html  # links only to the DOI
