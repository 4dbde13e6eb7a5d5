"""The markdown layer on its own (bundle/markdown.py): what scan() finds and where, the page's HTML,
the plain text, callouts, citations, images, raw HTML escaped and link schemes refused. The email's own
markup is tested in test_email_markdown.py."""

from __future__ import annotations

import pytest

from tablet_press.bundle import markdown
from tablet_press.bundle.markdown import Found

LABELS = {"pearl": "CLINICAL PEARL", "caution": "CAUTION"}


def cite(keys: list[str]) -> str:
    """A stand-in for the citation engine: the keys, so a test sees which were passed and in what order."""
    return "<" + "|".join(keys) + ">"


def html(text: str, *, inline: bool = False) -> str:
    return markdown.renderer(cite, LABELS).render(text, inline=inline)


def plain(text: str, *, inline: bool = False) -> str:
    return markdown.text_renderer(cite, LABELS).render(text, inline=inline)


# ---------------------------------------------------------------- scan: facts with positions


def test_scan_finds_each_cited_key_at_its_at_sign() -> None:
    facts = markdown.scan("First line.\n\nSee [@k1] and\nalso [@k2; @k3].\n")
    assert facts.citations == (
        Found("citation", "k1", 3, 6),
        Found("citation", "k2", 4, 7),
        Found("citation", "k3", 4, 12),
    )


def test_scan_accepts_citation_groups_with_or_without_spaces() -> None:
    assert [f.value for f in markdown.scan("a [@a;@b; @c] b").citations] == ["a", "b", "c"]


@pytest.mark.parametrize(
    "text",
    [
        "\\[@a] escaped",
        "`[@a]` in code",
        "[@a, p. 3] with a locator",
        "an email@example.org address",
    ],
)
def test_text_that_only_looks_like_a_citation_is_not_one(text: str) -> None:
    assert markdown.scan(text).citations == ()


def test_scan_finds_callouts_images_and_links_with_their_lines() -> None:
    text = "Intro.\n\n::: pearl\nStart low.\n:::\n\n![chart](assets/chart.png)\n\nSee [the label](https://example.org/x).\n"
    facts = markdown.scan(text)
    assert facts.callouts == (Found("callout", "pearl", 3, 1),)
    assert facts.images == (Found("image", "assets/chart.png", 7, 10),)
    assert facts.links == (Found("link", "https://example.org/x", 9, 17),)
    assert facts.raw_html == () and facts.too_deep == ()


def test_scan_reports_raw_html_inline_and_block() -> None:
    facts = markdown.scan("a <b>bold</b> c\n\n<div>x</div>\n")
    assert facts.raw_html == (
        Found("html", "<b>", 1, 3),
        Found("html", "</b>", 1, 10),
        Found("html", "<div>x</div>", 3, 1),
    )


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("[x](javascript:alert(1))", Found("link", "javascript:alert(1)", 1, 5)),
        ("[x](JavaScript:alert(1))", Found("link", "JavaScript:alert(1)", 1, 5)),
        ("[x](<javascript:alert(1)>)", Found("link", "javascript:alert(1)", 1, 6)),
        ("[x](jav&#x61;script:alert(1))", Found("link", "jav&#x61;script:alert(1)", 1, 5)),
        ("![x](data:image/png;base64,AAAA)", Found("image", "data:image/png;base64,AAAA", 1, 6)),
    ],
)
def test_links_markdown_it_refuses_are_still_reported_from_the_source(text: str, found: Found) -> None:
    facts = markdown.scan(text)
    assert (*facts.links, *facts.images) == (found,)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("<file:///etc/passwd>", Found("link", "file:///etc/passwd", 1, 2)),
        ("[x][1]\n\n[1]: file:///etc/passwd", Found("link", "file:///etc/passwd", 3, 6)),
    ],
)
def test_file_links_are_kept_as_links_so_that_validation_reports_them(text: str, found: Found) -> None:
    assert markdown.scan(text).links == (found,)


def test_nesting_past_the_limit_is_reported_once() -> None:
    deep = "x\n\n" + "> " * (markdown.MAX_NESTING + 5) + "deep\n"
    assert markdown.scan(deep).too_deep == (Found("nesting", str(markdown.MAX_NESTING), 1, 1),)
    assert markdown.scan("> " * 5 + "shallow\n").too_deep == ()


# ---------------------------------------------------------------- the page's HTML


def test_citations_are_rendered_by_the_engine_with_every_key_in_order() -> None:
    assert html("Hello [@b; @a] world") == "<p>Hello <b|a> world</p>\n"
    assert html("Hello [@b; @a] world", inline=True) == "Hello <b|a> world"


def test_a_callout_is_an_aside_with_its_label_from_tablet_yaml() -> None:
    assert html("::: pearl\nStart low.\n:::\n") == (
        '<aside class="callout callout-pearl" role="note"><p class="callout-label">CLINICAL PEARL:</p>\n'
        "<p>Start low.</p>\n</aside>\n"
    )


def test_a_callout_kind_without_a_label_is_shown_in_capitals() -> None:
    assert '<p class="callout-label">NOTE:</p>' in html("::: note\nx\n:::\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a <b>bold</b> c", "<p>a &lt;b&gt;bold&lt;/b&gt; c</p>\n"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("<div>x</div>\n", "&lt;div&gt;x&lt;/div&gt;\n"),
        ("text <!-- c --> more", "<p>text &lt;!-- c --&gt; more</p>\n"),
    ],
)
def test_raw_html_is_escaped_never_passed_through(text: str, expected: str) -> None:
    assert html(text) == expected


@pytest.mark.parametrize(
    "text", ["[x](javascript:alert(1))", "[x](<javascript:alert(1)>)", "[x](jav&#x61;script:alert(1))"]
)
def test_a_refused_link_scheme_stays_text_and_never_becomes_a_link(text: str) -> None:
    out = html(text)
    assert "<a " not in out and "href" not in out


def test_refused_image_sources_never_become_images() -> None:
    assert html("![x](data:image/png;base64,AAAA)") == "<p>![x](data:image/png;base64,AAAA)</p>\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[site](https://ex.org)", '<a href="https://ex.org">site</a>'),
        ("[site](http://ex.org)", '<a href="http://ex.org">site</a>'),
        ("[me](mailto:a@b.org)", '<a href="mailto:a@b.org">me</a>'),
        ("[call](tel:+14125551234)", '<a href="tel:+14125551234">call</a>'),
    ],
)
def test_allowed_schemes_become_links(text: str, expected: str) -> None:
    assert html(text, inline=True) == expected


def test_an_image_alone_with_a_title_is_a_numbered_figure() -> None:
    """The title is the caption, the description the alt text (its markup dropped); an image inside a
    sentence stays an image."""
    assert html('![a *chart*](assets/x.png "Doses")') == (
        '<figure class="figure"><img src="assets/x.png" alt="a chart"><figcaption>'
        '<span class="figure-number">Figure 1.</span> Doses</figcaption></figure>\n'
    )
    assert '<img src="assets/x.png" alt="a chart" title="Doses" />' in html(
        'See ![a *chart*](assets/x.png "Doses") here.'
    )


def test_tables_and_strikethrough_are_enabled() -> None:
    out = html("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~\n")
    assert '<table class="data">' in out and "<th>a</th>" in out and "<td>1</td>" in out
    assert "<s>old</s>" in out


# ---------------------------------------------------------------- plain text


def test_plain_text_paragraphs_lists_and_callouts() -> None:
    text = "Intro [@a].\n\n- one\n- two\n  - nested\n\n::: caution\nCheck **renal** function.\n:::\n"
    assert plain(text) == "Intro <a>.\n\n- one\n- two\n  - nested\n\nCAUTION: Check renal function."


def test_plain_text_links_show_their_address_once() -> None:
    assert plain("[site](https://ex.org)", inline=True) == "site (https://ex.org)"
    assert plain("[https://ex.org](https://ex.org)", inline=True) == "https://ex.org"
    assert plain("Write to [a@b.org](mailto:a@b.org)", inline=True) == "Write to a@b.org"


def test_plain_text_keeps_hard_breaks_and_an_image_as_its_description() -> None:
    assert plain("x  \ny") == "x\ny"
    assert plain("![chart](assets/x.png)") == "[chart]"


def test_plain_text_numbers_an_ordered_list() -> None:
    assert plain("1. first\n2. second\n3. third") == "1. first\n2. second\n3. third"


def test_plain_text_image_description_matches_the_html_alt() -> None:
    assert plain("![a *chart*](assets/x.png)") == "[a chart]"
