"""The email edition of the sample issue: the HTML's rules (checked on the sample and on crafted bad
HTML), the plain text, the .eml, and the build wiring. Chromium renderings: test_email_render.py."""

from __future__ import annotations

import dataclasses
import email
import email.message
import email.policy
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tablet_press.build import build, outputs
from tablet_press.bundle.project import Project, load_project
from tablet_press.checks.email_rules import MAX_HTML_BYTES, problems
from tablet_press.checks.validate import validate
from tablet_press.errors import BuildError, ValidationFailed
from tablet_press.render import email as tablet_email
from tablet_press.render.email import email_html, email_text, wrap
from tablet_press.render.palette import MIN_CONTRAST, contrast, css_values
from tablet_press.render.view import IssueView, first_sentence, issue_view, subject_topic

from conftest import ROOT, SAMPLE, copy_project
from seedtext import missing_prose, normalise


@dataclass(frozen=True)
class Sample:
    project: Project
    view: IssueView
    files: dict[str, bytes]

    @property
    def html(self) -> str:
        """The email HTML as sent: the .eml's (the standalone <slug>.html shows files, not cid: parts)."""
        return sent_html(self.eml)

    @property
    def text(self) -> str:
        return self.files[f"{SAMPLE}.txt"].decode()

    @property
    def eml(self) -> bytes:
        return self.files[f"{SAMPLE}.eml"]


def sent_html(eml: bytes) -> str:
    message = email.message_from_bytes(eml, policy=email.policy.default)
    return str(message.get_body(("html",)).get_content()).replace("\r\n", "\n")  # type: ignore[union-attr]


def load(root: Path) -> tuple[Project, Any]:
    project = load_project(root)
    report = validate(project, None)
    assert not report.failed(False), [p.format() for p in report.problems]  # warnings are the seed's
    return project, next(b for b in report.bundles if b.slug == SAMPLE)


@pytest.fixture(scope="module")
def sample() -> Sample:
    project, bundle = load(ROOT)
    return Sample(project, issue_view(bundle, project), outputs(bundle, project))


def parse(html: str) -> Any:
    import lxml.html

    return lxml.html.document_fromstring(html)


def visible_text(html: str) -> str:
    """What a reader sees: the body's text without the hidden preheader, blocks kept apart."""
    document = parse(html)
    for hidden in document.xpath("//head | //*[contains(@class, 'preheader')]"):
        hidden.drop_tree()
    for element in document.iter():
        if isinstance(element.tag, str) and element.tag in {"p", "div", "li", "td", "h1", "h2", "h3", "br"}:
            element.tail = " " + (element.tail or "")
            element.text = " " + (element.text or "")
    return str(document.text_content())


def declarations(element: Any) -> dict[str, str]:
    style = element.get("style", "")
    return {k.strip().lower(): v.strip() for k, _, v in (d.partition(":") for d in style.split(";")) if v}


# ---------------------------------------------------------------- the build writes all of it


def test_the_build_writes_html_text_and_eml_next_to_the_pdf(sample: Sample) -> None:
    assert sorted(sample.files) == sorted(f"{SAMPLE}.{kind}" for kind in ("eml", "html", "pdf", "txt"))


# ---------------------------------------------------------------- 1. size


def test_the_sample_fits_under_gmails_clipping_limit(sample: Sample) -> None:
    assert len(sample.html.encode()) <= MAX_HTML_BYTES


def test_an_oversized_email_fails_the_build_and_says_by_how_much(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    background = root / "issues" / SAMPLE / "background.md"
    paragraph = background.read_text(encoding="utf-8").strip()
    background.write_text("\n\n".join([paragraph] * 80) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(BuildError) as caught:
        build(load_project(root), None, out)
    message = str(caught.value)
    found = re.search(r"the email HTML is ([\d,]+) bytes, ([\d,]+) over the limit of 102,000", message)
    assert found, message
    size, over = (int(n.replace(",", "")) for n in found.groups())
    assert size - over == MAX_HTML_BYTES and over > 0
    assert not any(out.rglob("*.*"))  # nothing written: the PDF waits for the email


# ---------------------------------------------------------------- 2. document head


def test_head_declares_doctype_charset_viewport_title_and_language(sample: Sample) -> None:
    assert sample.html.startswith("<!DOCTYPE html>")
    document = parse(sample.html)
    assert document.get("lang") == sample.project.config.newsletter.language == "en-US"
    assert document.xpath("//head/meta[@charset='utf-8']")
    assert document.xpath("//head/meta[@name='viewport']/@content") == ["width=device-width, initial-scale=1"]
    assert document.findtext(".//title") == f"The Tablet, issue 1: {sample.view.title}"


# ---------------------------------------------------------------- 3. layout


def test_layout_is_tables_in_a_fluid_600px_container_with_outlook_ghost_tables(sample: Sample) -> None:
    document = parse(sample.html)
    tables = document.xpath("//table")
    assert tables and all(t.get("role") == "presentation" for t in tables)
    container = document.xpath("//table[contains(@class, 'container')]")[0]
    assert container.get("width") == "100%" and declarations(container)["max-width"] == "600px"
    outlook = "".join(c.text for c in document.xpath("//comment()") if c.text.startswith("[if mso]"))
    assert '<table role="presentation" align="center" width="600"' in outlook


def test_one_column_the_title_full_width_the_team_after_the_article(sample: Sample) -> None:
    """Issue 17: no side column, so nothing lands between Background and Mechanism on a phone and the
    title is never squeezed on a desktop; the authors' names and roles under the title."""
    document = parse(sample.html)
    assert not document.xpath("//*[contains(@class, 'column')]")
    rows = [td.get("class", "") for td in document.xpath("//table[@class='container']/tbody/tr/td")]
    assert rows.index("headline") < rows.index("section") and rows[-2:] == ["section team", "footer"]
    (headline,) = document.xpath("//td[@class='headline']")
    bylines = [normalise(p.text_content()) for p in headline.xpath(".//p[@class='byline']")]
    assert bylines == [
        "Guest Authors: Aditi J. Reis, MD; Jaxon Vallely, DO",
        "Clinical Pharmacy Specialist: Maria Felton Lowry, PharmD, BCPS, BCGP",
    ]
    assert "Assistant Professor" not in headline.text_content()  # titles and contacts come later


# ---------------------------------------------------------------- 4. inlined CSS, enhancements kept


def test_the_light_look_is_inlined_and_only_enhancements_stay_in_style(sample: Sample) -> None:
    import tinycss2  # type: ignore[import-untyped]

    document = parse(sample.html)
    for element in document.xpath("//body//p | //body//li | //h1 | //h2 | //h3"):
        style = declarations(element)
        assert "font-family" in style and "color" in style, element.text_content()[:40]
    (style_block,) = document.xpath("//style")
    rules = tinycss2.parse_stylesheet(style_block.text, skip_comments=True, skip_whitespace=True)
    assert rules and all(r.type != "error" for r in rules)
    for rule in rules:
        if rule.type == "qualified-rule":
            assert ":" in tinycss2.serialize(rule.prelude)  # :root, :hover
        else:
            assert rule.lower_at_keyword == "media"


# ---------------------------------------------------------------- 5. the rules, on the sample and on bad HTML


def test_the_sample_follows_every_rule(sample: Sample) -> None:
    assert problems(sample.html) == []
    assert not re.search(r"<svg|<script|javascript:|\son\w+=", sample.html, re.I)


def _sub(pattern: str, replacement: str) -> Callable[[str], str]:
    def change(html: str) -> str:
        changed, count = re.subn(pattern, replacement, html, count=1, flags=re.S)
        assert count == 1, pattern
        return changed

    return change


BODY_END = r"</body>"
STYLE_END = r"(</style>\s*</head>)"  # the enhancements block, not Outlook's in its comment
BAD: list[tuple[str, Callable[[str], str], str]] = [
    ("script", _sub(BODY_END, "<script>alert(1)</script></body>"), "<script> is not allowed"),
    ("form", _sub(BODY_END, '<form action="https://x.org/"></form></body>'), "<form> is not allowed"),
    ("iframe", _sub(BODY_END, '<iframe src="https://x.org/"></iframe></body>'), "<iframe> is not allowed"),
    ("object", _sub(BODY_END, '<object data="https://x.org/a"></object></body>'), "<object> is not"),
    ("embed", _sub(BODY_END, '<embed src="https://x.org/a"></body>'), "<embed> is not allowed"),
    ("svg", _sub(BODY_END, '<svg width="9"><circle r="4"/></svg></body>'), "<svg> is not allowed"),
    ("event handler", _sub(r'<p class="kicker"', '<p onclick="go()" class="kicker"'), "event handler"),
    ("javascript link", _sub(r'href="tel:[^"]*"', 'href="javascript:go()"'), "javascript: URL"),
    ("relative link", _sub(r'href="tel:[^"]*"', 'href="issue.html"'), "is relative"),
    ("data image", _sub(r'src="cid:[^"]*"', 'src="data:image/png;base64,AA"'), "must be https: or cid:"),
    ("http image", _sub(r'src="cid:[^"]*"', 'src="http://x.org/logo.png"'), "must be https: or cid:"),
    ("relative image", _sub(r'src="cid:[^"]*"', 'src="logo.png"'), "is relative"),
    ("image without alt", _sub(r'(<img[^>]*?) alt="[^"]*"', r"\1"), "has no alt"),
    ("image without width", _sub(r'(<img[^>]*?) width="\d+"', r"\1"), "has no width"),
    ("flex", _sub(r"display: block", "display: flex"), "no flex, grid, position or float"),
    ("grid", _sub(r"display: block", "display: grid"), "no flex, grid, position or float"),
    ("float", _sub(r'(<p class="kicker" style=")', r"\1float: left;"), "'float: left'"),
    ("position", _sub(r'(<p class="kicker" style=")', r"\1position: absolute;"), "'position: absolute'"),
    ("font stack", _sub(r"Arial, sans-serif;", "Arial;"), "does not end in a generic family"),
    ("too wide", _sub(r"max-width: 600px", "max-width: 640px"), "wider than 600px"),
    ("no doctype", _sub(r"<!DOCTYPE html>", ""), "<!DOCTYPE html>"),
    ("no lang", _sub(r'<html lang="en-US"', "<html"), "no lang attribute"),
    ("no charset", _sub(r'<meta charset="utf-8">', ""), 'no <meta charset="utf-8">'),
    ("no viewport", _sub(r'<meta name="viewport"[^>]*>', ""), "no viewport"),
    ("no title", _sub(r"<title>.*?</title>", "<title></title>"), "no <title>"),
    ("no dark mode", _sub(r'<meta name="color-scheme"[^>]*>', ""), "dark mode is not declared"),
    ("preheader not first", _sub(r"(<body[^>]*>)", r"\1<p>Hello</p>"), "first element of <body>"),
    ("preheader shown", _sub(r"display: none;", ""), "hidden preheader"),
    ("layout table", _sub(r'(<table class="container") role="presentation"', r"\1"), "lacks role"),
    (
        "outlook table",
        _sub(r'<!--\[if mso\]><table role="presentation"', "<!--[if mso]><table"),
        "Outlook-only",
    ),
    ("style error", _sub(STYLE_END, r".x:hover { color red; }\1"), "CSS error"),
    ("style inlinable", _sub(STYLE_END, r".x { color: red; }\1"), "can be inlined"),
    ("too big", _sub(BODY_END, "<!--" + "x" * 60_000 + "--></body>"), "over the limit of 102,000"),
]


@pytest.mark.parametrize(("change", "expected"), [(c, e) for _, c, e in BAD], ids=[n for n, _, _ in BAD])
def test_bad_html_is_refused_with_a_reason(
    sample: Sample, change: Callable[[str], str], expected: str
) -> None:
    found = problems(change(sample.html))
    assert any(expected in message for message in found), found


# ---------------------------------------------------------------- 6. preheader


def test_the_preheader_is_the_hidden_first_element_with_the_bottom_lines_first_sentence(
    sample: Sample,
) -> None:
    body = parse(sample.html).find("body")
    first = next(iter(body))
    assert "preheader" in first.get("class") and declarations(first)["display"] == "none"
    expected = (
        "While existing studies of LDN focus on non-palliative populations, many of the target "
        "symptoms—neuropathic pain, fatigue, sleep disturbance, and inflammation—are highly relevant to "
        "palliative care."
    )
    assert sample.view.preheader == expected and first.text.startswith(expected)
    assert sample.view.title not in first.text  # the subject already shows the topic


@pytest.mark.parametrize(
    ("slug", "subject", "preheader"),
    [
        (SAMPLE, "Low-dose naltrexone for pain | The Tablet #1", "While existing studies of LDN"),
        (
            "2025-08-olanzapine",
            "Olanzapine for nausea and vomiting | The Tablet #2",
            "Olanzapine is now a standard part of four-drug prophylaxis",
        ),
    ],
)
def test_the_subject_leads_with_the_topic_and_the_preheader_never_repeats_it(
    slug: str, subject: str, preheader: str
) -> None:
    project = load_project(ROOT)
    bundle = next(b for b in validate(project, None).bundles if b.slug == slug)
    view = issue_view(bundle, project)
    assert view.subject == subject and len(subject.split(" | ")[0]) <= 40
    assert view.preheader.startswith(preheader) and view.preheader.endswith(".")
    assert view.preheader.count(". ") == 0  # one sentence
    assert subject.split(" | ")[0].casefold() not in view.preheader.casefold()


@pytest.mark.parametrize(
    ("subject", "title", "expected"),
    [
        (
            None,
            "The Newest Kid on the Block: Naltrexone’s Surprising Role in Analgesia",
            "Naltrexone’s Surprising Role in Analgesia",
        ),
        (None, "Ketamine in refractory pain", "Ketamine in refractory pain"),
        ("LDN for pain", "Anything: at all", "LDN for pain"),
    ],
)
def test_without_subject_the_title_after_its_colon_leads(
    subject: str | None, title: str, expected: str
) -> None:
    assert subject_topic(subject, title) == expected


def test_a_subject_longer_than_40_characters_is_refused_where_it_stands(
    tmp_path: Path, run: Callable[..., Any]
) -> None:
    root = copy_project(tmp_path / "project")
    issue = root / "issues" / SAMPLE / "issue.yaml"
    issue.write_text(
        issue.read_text().replace("subject: Low-dose naltrexone for pain", "subject: " + "x" * 41)
    )
    result = run("validate", cwd=root)
    assert result.exit_code == 1
    assert f"issues/{SAMPLE}/issue.yaml:155:10: error:" in result.stdout and "40" in result.stdout


def test_first_sentence_skips_abbreviations() -> None:
    assert (
        first_sentence("Doses (i.e. 3 mg) vary, e.g. 4.5 mg. Then more.")
        == "Doses (i.e. 3 mg) vary, e.g. 4.5 mg."
    )
    assert first_sentence("No full stop here") == "No full stop here"


# ---------------------------------------------------------------- 7. dark mode and contrast


def test_dark_mode_is_declared(sample: Sample) -> None:
    document = parse(sample.html)
    for name in ("color-scheme", "supported-color-schemes"):
        assert document.xpath(f"//meta[@name='{name}']/@content") == ["light dark"]
    assert "@media (prefers-color-scheme: dark)" in document.xpath("//style")[0].text


LIGHT_TEXT, LIGHT_GROUND = ("text", "primary", "muted", "link"), ("surface", "page", "sidebar", "callout")
DARK_TEXT = ("dark-text", "dark-heading", "dark-link", "dark-muted")
DARK_GROUND = ("dark-page", "dark-surface", "dark-sidebar", "dark-callout")


def _poor_pairs(values: dict[str, str]) -> list[tuple[str, str, float]]:
    pairs = [(f, g) for f in LIGHT_TEXT for g in LIGHT_GROUND]
    pairs += [(f, g) for f in DARK_TEXT for g in DARK_GROUND]
    return [(f, g, contrast(values[f], values[g])) for f, g in pairs if contrast(values[f], values[g]) < 4.5]


def test_every_text_colour_is_legible_on_every_background_in_both_modes(sample: Sample) -> None:
    assert _poor_pairs(css_values(sample.project.config)) == []


def test_pale_brand_colours_are_darkened_until_legible(sample: Sample) -> None:
    config = sample.project.config
    pale = config.brand.colours.model_copy(
        update={"accent": "#7fd4dc", "muted": "#b0b0b0", "primary": "#8aa6d6", "text": "#999999"}
    )
    brand = config.brand.model_copy(update={"colours": pale})
    values = css_values(config.model_copy(update={"brand": brand}))
    assert contrast(pale.accent, "#ffffff") < MIN_CONTRAST  # the brand colour alone would fail
    assert _poor_pairs(values) == []


def test_inlined_text_colours_contrast_with_their_inlined_backgrounds(sample: Sample) -> None:
    document = parse(sample.html)
    checked = 0
    for element in document.xpath("//body//*[contains(@style, 'color')]"):
        if "preheader" in element.get("class", "") or not element.text_content().strip():
            continue
        colour = declarations(element).get("color")
        if colour is None:
            continue
        ground = next(
            declarations(e)["background-color"]
            for e in [element, *element.iterancestors()]
            if "background-color" in declarations(e)
        )
        assert contrast(colour, ground) >= MIN_CONTRAST, (element.text_content()[:40], colour, ground)
        checked += 1
    assert checked > 100


# ---------------------------------------------------------------- 8. images and the logo


def test_every_image_has_alt_width_and_an_absolute_source(sample: Sample) -> None:
    images = parse(sample.html).xpath("//img")
    assert images
    for image in images:
        # The logo's alt is empty on purpose (the name is text beside it); every figure's says what it shows.
        assert (image.get("alt") == "") == ("logo" in image.get("class", "").split())
        assert image.get("width", "").isdigit()
        assert image.get("src").startswith(("https:", "cid:"))


def test_the_logo_is_an_inline_png_part_with_empty_alt_beside_the_live_name(sample: Sample) -> None:
    document = parse(sample.html)
    (logo,) = document.xpath("//img[contains(@class, 'logo')]")
    assert logo.get("alt") == ""  # images blocked or read aloud: the name is said once, by the text
    assert normalise(document.xpath("//p[@class='newsletter-name']")[0].text_content()) == "The Tablet"
    assert declarations(logo)["max-width"] == "96px"  # a blocked logo never widens the masthead
    message = email.message_from_bytes(sample.eml, policy=email.policy.default)
    (part,) = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert logo.get("src") == "cid:" + part["Content-ID"].strip("<>")
    assert part.get_content() == (ROOT / "brand" / "logo.png").read_bytes()


def test_the_logo_png_was_made_from_the_current_svg() -> None:
    svg = (ROOT / "brand" / "logo.svg").read_bytes()
    with Image.open(ROOT / "brand" / "logo.png") as png:
        assert png.text["Source"] == f"brand/logo.svg sha256:{hashlib.sha256(svg).hexdigest()}", (
            "brand/logo.svg changed: run python tests/test_email_render.py logo"
        )
        assert png.size == (240, 96)  # twice the SVG's 120 x 48
        # Its own white plate, for clients that invert colours in dark mode (the corners stay clear).
        assert png.getpixel((120, 2))[:3] == (255, 255, 255) and png.getpixel((120, 2))[3] == 255
        assert png.getpixel((0, 0))[3] == 0


def test_a_missing_logo_png_fails_the_build_with_a_reason(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    (root / "brand" / "logo.png").unlink()
    project, bundle = load(root)
    with pytest.raises(BuildError, match=r"brand/logo\.png is missing: email clients do not show SVG"):
        email_html(issue_view(bundle, project), bundle, project)


def test_issue_images_travel_inside_the_eml(tmp_path: Path) -> None:
    from tablet_press.render.email import email_outputs

    root = copy_project(tmp_path / "project")
    bundle_dir = root / "issues" / SAMPLE
    (bundle_dir / "assets").mkdir()
    Image.new("RGB", (800, 400), "#1d3c6e").save(bundle_dir / "assets" / "figure.png")
    background = bundle_dir / "background.md"
    background.write_text(background.read_text() + "\n![A blue figure](assets/figure.png)\n")
    project, bundle = load(root)
    files = email_outputs(bundle, project, b"%PDF-1.7 stand-in")
    (figure,) = parse(sent_html(files[f"{SAMPLE}.eml"])).xpath("//img[@alt='A blue figure']")
    assert (figure.get("src"), figure.get("width"), figure.get("height")) == (
        f"cid:image1@{SAMPLE}.tablet",
        "552",
        "276",
    )
    message = email.message_from_bytes(files[f"{SAMPLE}.eml"], policy=email.policy.default)
    ids = [p["Content-ID"] for p in message.walk() if p.get_content_maintype() == "image"]
    assert ids == [f"<logo@{SAMPLE}.tablet>", f"<image1@{SAMPLE}.tablet>"]


# ---------------------------------------------------------------- 9. web links with a base URL


def test_no_web_links_without_a_base_url(sample: Sample) -> None:
    assert sample.project.config.newsletter.base_url is None
    assert "View the PDF" not in sample.html and "View the PDF" not in sample.text


def test_a_base_url_adds_links_to_the_web_version_and_the_pdf(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    config = root / "tablet.yaml"
    config.write_text(
        config.read_text().replace(
            "  # base_url: https://example.org/the-tablet", "  base_url: https://example.org/the-tablet"
        )
    )
    project, bundle = load(root)
    view = issue_view(bundle, project)
    html, _ = email_html(view, bundle, project)
    text = email_text(view, project)
    folder = f"https://example.org/the-tablet/2025/{SAMPLE}/"  # the archive's permalink
    links = parse(html).xpath("//a[@href]")
    assert {a.text_content(): a.get("href") for a in links[:2]} == {
        "Read this issue online": folder,
        "View the PDF": f"{folder}{SAMPLE}.pdf",
    }
    assert f"View the PDF: {folder}{SAMPLE}.pdf" in text and f"Read this issue online: {folder}" in text


# ---------------------------------------------------------------- 10. the plain text


def test_the_text_has_title_headings_whole_references_and_study_cites(sample: Sample) -> None:
    """What the layout and the citation engine print; every sentence, bullet and reference field of
    the source, for every bundle: test_nothing_lost.py."""
    text, view = normalise(sample.text), sample.view
    assert normalise(f"TODAY’S TOPIC: {view.title}") in text
    headings = [normalise(h.text_content()) for h in parse(sample.html).xpath("//h1 | //h2 | //h3")]
    assert len(headings) > 10 and [h for h in headings if h.rstrip(":") not in text] == []
    for reference in view.references:
        assert normalise(reference.entry.text) in text
    for group in view.literature:
        for study in group.studies:
            assert normalise(study.title) in text and normalise(study.cite) in text


def test_the_text_is_wrapped_at_78_columns(sample: Sample) -> None:
    long_lines = [line for line in sample.text.splitlines() if len(line) > 78]
    # A line may overrun only when it is one unbreakable word (a long address).
    assert [line for line in long_lines if len(line.split()) > 1] == []
    assert "<" not in sample.text and "&amp;" not in sample.text


def test_wrap_hangs_list_items_and_never_breaks_a_word() -> None:
    address = "https://doi.org/" + "x" * 80
    wrapped = wrap(f"- {'word ' * 30}\n{address} tail", "1. ")
    lines = wrapped.splitlines()
    assert lines[0].startswith("1. - word") and all(line.startswith("     word") for line in lines[1:-2])
    assert "   " + address in lines and lines[-1] == "   tail"


def test_the_text_comes_from_the_view_model_not_the_html(sample: Sample, tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    (root / "templates" / "email.html.j2").unlink()  # no email HTML at all: the text does not need it
    project, bundle = load(root)
    assert email_text(issue_view(bundle, project), project) == sample.text


# ---------------------------------------------------------------- nothing of the seed lost


def test_every_seed_sentence_is_in_the_email_html(sample: Sample) -> None:
    assert missing_prose(visible_text(sample.html)) == []


def test_every_seed_sentence_is_in_the_plain_text(sample: Sample) -> None:
    assert missing_prose(sample.text) == []


# ---------------------------------------------------------------- the .eml


def test_the_eml_parses_back_into_text_html_and_the_pdf(sample: Sample) -> None:
    message = email.message_from_bytes(sample.eml, policy=email.policy.default)
    assert message.get_content_type() == "multipart/mixed"
    alternative = message.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "multipart/related"]
    # Parts travel with CRLF line ends, as SMTP wants; the content is otherwise the same.
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == sample.text
    sent = message.get_body(("html",)).get_content().replace("\r\n", "\n")
    # The standalone <slug>.html is the same email with the logo (and images) as files beside it.
    standalone = sample.files[f"{SAMPLE}.html"].decode()
    assert standalone == sent.replace(f'src="cid:logo@{SAMPLE}.tablet"', 'src="logo.png"')
    (attachment,) = message.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "The-Tablet-01-2025-07-01-low-dose-naltrexone.pdf"
    assert attachment.get_content() == sample.files[f"{SAMPLE}.pdf"]


def test_the_eml_is_a_draft_from_the_newsletter_with_fixed_date_and_id(sample: Sample) -> None:
    message = email.message_from_bytes(sample.eml, policy=email.policy.default)
    assert message["X-Unsent"] == "1"
    assert message["Subject"] == "Low-dose naltrexone for pain | The Tablet #1"
    assert message["From"].addresses[0].addr_spec == "lowrymf@upmc.edu"
    assert message["From"].addresses[0].display_name == "Maria Felton Lowry, PharmD"
    assert message["Date"] == "Tue, 01 Jul 2025 12:00:00 +0000"
    assert re.fullmatch(rf"<{SAMPLE}\.1\.[0-9a-f]{{20}}@upmc\.edu>", message["Message-ID"])
    assert message["Content-Language"] == "en-US"
    assert b"\r\n" in sample.eml and max(len(line) for line in sample.eml.split(b"\r\n")) <= 998


# ---------------------------------------------------------------- no header can be injected

# CVE-2024-6923: Python before 3.11.10 decodes this while folding the Subject and writes its CR/LF raw.
INJECTED = "=?utf-8?q?Hi=0D=0ABcc:_evil@attacker.example?="
COMPOSED = ["From", "Subject", "Date", "Message-ID", "X-Unsent", "MIME-Version", "Content-Type"]
COMPOSED.append("Content-Language")


def _eml(sample: Sample, title: str) -> bytes:
    """The .eml of the sample with `title` as its subject, past validation (which refuses these)."""
    view = dataclasses.replace(sample.view, title=title, subject=title)
    return tablet_email.eml(view, sample.project, "<p>x</p>\n", "x\n", [], b"%PDF-1.7")


def test_the_eml_has_exactly_the_headers_composed(sample: Sample) -> None:
    message = email.message_from_bytes(sample.eml, policy=email.policy.default)
    assert list(message.keys()) == COMPOSED


@pytest.mark.parametrize(
    ("title", "problem"),
    [
        (INJECTED, "must not contain '=?' (mail programs decode '=?...?=' as an encoded word)"),
        ("Hi\r\nBcc: evil@attacker.example", "must be one line: it contains the line break '\\r'"),
        ("Hi\u2028Bcc: evil@attacker.example", "must be one line: it contains the line break '\\u2028'"),
    ],
    ids=["encoded-word", "crlf", "line-separator"],
)
def test_the_eml_writer_refuses_a_header_value_that_validation_would_refuse(
    sample: Sample, title: str, problem: str
) -> None:
    with pytest.raises(BuildError) as failure:
        _eml(sample, title)
    assert str(failure.value).startswith(
        f"issues/{SAMPLE}: cannot write the Subject header of the .eml: this goes into an email header, "
        f"so it {problem}"
    )


def test_the_eml_never_carries_a_header_that_was_not_composed(
    sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the value check switched off, the check of the written .eml still holds: on a Python with
    CVE-2024-6923 it refuses the .eml; on a fixed one the Subject stays one header."""
    monkeypatch.setattr(tablet_email, "header_problem", lambda _: None, raising=False)
    try:
        data = _eml(sample, INJECTED)
    except BuildError as exc:
        assert str(exc) == (
            f"issues/{SAMPLE}: the .eml would carry headers nobody composed (bcc); nothing was written "
            "(a bug in tablet-press or in Python's email package)"
        )
    else:
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert list(message.keys()) == COMPOSED and "Bcc" not in message


def test_the_header_check_finds_a_line_nobody_composed(sample: Sample) -> None:
    message = email.message.EmailMessage()
    message["Subject"] = "Hi"
    message.set_content("x\n")
    data = message.as_bytes(policy=email.policy.SMTP)
    tablet_email.check_headers(message, data, "x")  # what was composed passes
    for forged, what in (
        (b"Bcc: evil@attacker.example\r\n", "carry headers nobody composed (bcc)"),
        (b"\r\n", "lose headers"),
    ):
        with pytest.raises(BuildError) as failure:
            tablet_email.check_headers(
                message, data.replace(b"Subject: Hi\r\n", b"Subject: Hi\r\n" + forged), "x"
            )
        assert str(failure.value) == (
            f"issues/x: the .eml would {what}; nothing was written "
            "(a bug in tablet-press or in Python's email package)"
        )


def test_header_fields_of_tablet_yaml_are_refused_where_they_stand(
    tmp_path: Path, run: Callable[..., Any]
) -> None:
    root = copy_project(tmp_path / "project")
    config = root / "tablet.yaml"
    config.write_text(
        config.read_text()
        .replace("  name: The Tablet\n", '  name: "The Tablet\\nBcc: evil@attacker.example"\n', 1)
        .replace("    name: Maria Felton Lowry, PharmD\n", f'    name: "Maria {INJECTED}"\n')
        .replace("    email: lowrymf@upmc.edu\n", '    email: "=?utf-8?q?x?=@upmc.edu"\n')
    )
    result = run("validate", cwd=root)
    assert result.exit_code == 1
    header = "error: this goes into an email header, so it must"
    encoded = f"{header} not contain '=?' (mail programs decode '=?...?=' as an encoded word)"
    assert result.stdout.splitlines()[:3] == [
        f"tablet.yaml:4:9: {header} be one line: it contains the line break '\\n' "
        "(a folded block needs '>-', not '>' or '|') [newsletter.name]",
        f"tablet.yaml:10:11: {encoded} [newsletter.sender.name]",
        f"tablet.yaml:11:12: {encoded} [newsletter.sender.email]",
    ]


# ---------------------------------------------------------------- issue 17: footer and List-Unsubscribe


def _with_config(tmp_path: Path, lines: str) -> tuple[Project, Any]:
    root = copy_project(tmp_path / "project")
    config = root / "tablet.yaml"
    anchor = "  # base_url: https://example.org/the-tablet"
    config.write_text(config.read_text().replace(anchor, lines + "\n" + anchor, 1))
    return load(root)


@pytest.mark.parametrize(
    ("urls", "header", "post"),
    [
        (["mailto:leave@example.org"], "<mailto:leave@example.org>", None),
        (
            ["mailto:leave@example.org", "https://example.org/u?id=1"],
            "<mailto:leave@example.org>, <https://example.org/u?id=1>",
            "List-Unsubscribe=One-Click",
        ),
    ],
    ids=["mailto", "mailto-and-https"],
)
def test_list_unsubscribe_becomes_headers_and_a_footer_link(
    tmp_path: Path, urls: list[str], header: str, post: str | None
) -> None:
    from tablet_press.render.email import email_outputs

    project, bundle = _with_config(tmp_path, f"  list_unsubscribe: [{', '.join(urls)}]")
    files = email_outputs(bundle, project, b"%PDF-1.7 stand-in")
    message = email.message_from_bytes(files[f"{SAMPLE}.eml"], policy=email.policy.default)
    assert message["List-Unsubscribe"] == header
    assert message["List-Unsubscribe-Post"] == post
    expected = [
        *COMPOSED[:5],
        "List-Unsubscribe",
        *(["List-Unsubscribe-Post"] if post else []),
        *COMPOSED[5:],
    ]
    assert list(message.keys()) == expected  # the read-back check allowed exactly these
    footer = parse(sent_html(files[f"{SAMPLE}.eml"])).xpath("//td[@class='footer-rule']")[0]
    (link,) = [a for a in footer.xpath(".//a") if a.text_content() == "Unsubscribe"]
    assert link.get("href") == urls[-1]  # the https: one when there is one
    assert f"Unsubscribe: {urls[-1]}" in files[f"{SAMPLE}.txt"].decode()


@pytest.mark.parametrize(
    "url",
    ["https://example.org/a>,<https://evil.example", "mailto:a@b.org?subject=x y", "http://example.org/u"],
)
def test_an_unsubscribe_url_that_could_break_its_header_is_refused(tmp_path: Path, url: str) -> None:
    root = copy_project(tmp_path / "project")
    config = root / "tablet.yaml"
    anchor = "  # base_url: https://example.org/the-tablet"
    config.write_text(config.read_text().replace(anchor, f'  list_unsubscribe: ["{url}"]\n{anchor}', 1))
    with pytest.raises(ValidationFailed) as failure:
        load_project(root)
    assert "tablet.yaml:12:22: error:" in str(failure.value)
    assert str(failure.value).endswith("[newsletter.list_unsubscribe[0]]")


def test_the_footer_says_who_sends_it_why_and_how_to_reply(sample: Sample) -> None:
    footer = normalise(parse(sample.html).xpath("//td[@class='footer-rule']")[0].text_content())
    assert (
        "The Tablet is sent by Maria Felton Lowry, PharmD, UPMC Palliative and Supportive Institute."
        in footer
    )
    assert "You receive it because you are on its distribution list." in footer
    assert "Reply to this email or write to lowrymf@upmc.edu." in footer
    assert "Unsubscribe" not in footer and "Read this issue online" not in footer  # neither configured
    text = normalise(sample.text)
    assert "Reply to this email or write to lowrymf@upmc.edu." in text


def test_a_reason_and_base_url_reach_the_footer(tmp_path: Path) -> None:
    project, bundle = _with_config(
        tmp_path, "  reason: You receive it as a member of the team.\n  base_url: https://example.org/t"
    )
    view = issue_view(bundle, project)
    html, _ = email_html(view, bundle, project)
    footer = parse(html).xpath("//td[@class='footer-rule']")[0]
    assert "You receive it as a member of the team." in footer.text_content()
    assert [a.get("href") for a in footer.xpath(".//a") if a.text_content() == "Read this issue online"] == [
        f"https://example.org/t/2025/{SAMPLE}/"
    ]


def test_the_text_reads_article_first_names_near_the_top_and_the_team_after(sample: Sample) -> None:
    text = sample.text
    names = text.index("Guest Authors: Aditi J. Reis, MD; Jaxon Vallely, DO")
    background, mechanism = text.index("Background\n====="), text.index("Mechanism of Action\n=====")
    team = text.index("Palliative Care · Author Team")
    assert names < background < mechanism < text.index("References\n=====") < team
    assert text.index("Pediatric Palliative Care Physician") > team  # titles only in the full team
    assert text.index("Cell: 412-627-8473") > team


def test_the_attached_pdf_is_named_for_a_downloads_folder(sample: Sample) -> None:
    assert tablet_email.pdf_attachment_name(sample.view, sample.project) == (
        "The-Tablet-01-2025-07-01-low-dose-naltrexone.pdf"
    )
