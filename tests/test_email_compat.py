"""The email's compatibility report (issue 17, part 1 item 8): Can I email's data for Gmail, Outlook
(Windows) and Apple Mail; a feature one of them lacks that changes the layout fails `tablet build`,
a cosmetic one is listed by `tablet build --verbose`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tablet_press.build import build
from tablet_press.bundle.project import load_project
from tablet_press.checks import email_compat
from tablet_press.checks.email_compat import (
    ACCEPTED,
    ADVICE,
    AT_RULE_FEATURES,
    ATTRIBUTE_FEATURES,
    CLIENTS,
    DATA,
    DISPLAY_FEATURES,
    FUNCTION_FEATURES,
    IMAGE_FEATURES,
    KEYWORD_FEATURES,
    LAYOUT,
    MEDIA_FEATURES,
    PROPERTY_FEATURES,
    TAG_FEATURES,
    compatibility,
    support,
    uses,
)
from tablet_press.checks.validate import validate
from tablet_press.errors import BuildError
from tablet_press.render.email import email_html
from tablet_press.render.view import issue_view

from conftest import ROOT, SAMPLE

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>t</title>{head}</head>
<body><div class="preheader" style="display: none; max-height: 0; overflow: hidden">p</div>
<table role="presentation" width="100%"><tr><td class="cell" style="{style}">text</td></tr></table>
</body></html>
"""


def report(
    style: str = "", head: str = "", images: tuple[tuple[str, str], ...] = ()
) -> email_compat.Compatibility:
    return compatibility(PAGE.format(style=style, head=head), images)


def features(style: str = "", head: str = "") -> set[str]:
    return {use.feature for use in uses(PAGE.format(style=style, head=head))}


# ---------------------------------------------------------------- the data


def test_the_vendored_data_loads_says_where_it_came_from_and_covers_the_three_clients() -> None:
    loaded = email_compat.data()
    source = loaded["source"]
    assert source["package"] == "caniemail" and source["licence"] == "MIT" and source["version"]
    assert str(loaded["api_version"]).startswith("1.")
    folder = DATA.parent
    assert "MIT License" in (folder / "LICENSE").read_text(encoding="utf-8")
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert f"**{source['version']}**" in readme and loaded["last_update_date"][:10] in readme
    assert [client.name for client in CLIENTS] == ["Gmail", "Outlook (Windows)", "Apple Mail"]
    for client in CLIENTS:  # every platform of every client has data for the features we lean on
        for slug in ("css-display-flex", "css-margin", "css-width", "html-table", "css-at-media"):
            assert set(support(slug, client)) == set(client.platforms), (slug, client)
    assert support("css-display-flex", CLIENTS[1])["windows"][1] == "n"


def test_every_feature_the_tables_name_is_in_the_data() -> None:
    """A misspelt slug, or one a data update renamed, would silently check nothing."""
    known = {feature["slug"] for feature in email_compat.data()["data"]}
    named = (
        set(LAYOUT)
        | {slug for slug, _ in ACCEPTED}
        | set(ADVICE)
        | {
            *PROPERTY_FEATURES.values(),
            *DISPLAY_FEATURES.values(),
            *FUNCTION_FEATURES.values(),
            *KEYWORD_FEATURES.values(),
            *MEDIA_FEATURES.values(),
            *AT_RULE_FEATURES.values(),
            *TAG_FEATURES.values(),
            *ATTRIBUTE_FEATURES.values(),
            *IMAGE_FEATURES.values(),
        }
    )
    assert named - known == set()
    assert {family for _, family in ACCEPTED} <= {client.family for client in CLIENTS}


def test_the_data_ships_in_the_wheel() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"checks/data/caniemail/*"' in pyproject
    assert json.loads(DATA.read_text(encoding="utf-8"))["data"]


# ---------------------------------------------------------------- finding features by parsing


def test_text_transform_is_not_transform() -> None:
    found = features("text-transform: uppercase")
    assert "css-text-transform" in found and "css-transform" not in found
    assert report("text-transform: uppercase").errors == []
    assert "css-transform" in features("transform: rotate(2deg)")
    assert any(e.startswith("transform is not supported in Gmail") for e in report("transform: none").errors)


@pytest.mark.parametrize(
    ("style", "feature"),
    [
        ("margin-top: 4px", "css-margin"),
        ("border-bottom-color: red", "css-border"),
        ("left: 0", "css-left-right-top-bottom"),
        ("display: inline-flex", "css-display-flex"),
        ("display: block", "css-display"),
        ("width: calc(100% - 2px)", "css-unit-calc"),
        ("width: 50vw", "css-unit-vw"),
        ("color: rgb(0, 0, 0)", "css-rgb"),
        ("color: red !important", "css-important"),
        ("font-family: system-ui, sans-serif", "css-sytem-ui"),
    ],
)
def test_properties_values_and_units_map_to_their_features(style: str, feature: str) -> None:
    assert feature in features(style)


def test_client_specific_properties_are_not_looked_up() -> None:
    assert features("mso-line-height-rule: exactly; -webkit-text-size-adjust: 100%") == features()


def test_selectors_at_rules_and_elements_are_found() -> None:
    head = (
        "<style>a:hover { color: red; } .a > .b { color: red; }\n"
        "@media (prefers-color-scheme: dark) { .cell { color: #fff !important; } }</style>"
    )
    found = features(head=head)
    assert {"css-pseudo-class-hover", "css-selector-child", "css-at-media-prefers-color-scheme"} <= found
    assert {"html-style", "html-table", "html-width", "html-doctype"} <= found


# ---------------------------------------------------------------- the classification


@pytest.mark.parametrize(
    ("style", "feature", "client"),
    [
        ("display: flex", "display:flex", "Outlook (Windows)"),
        ("position: absolute", "position", "Gmail"),
        ("min-width: 200px", "min-width property", "Outlook (Windows)"),
        ("box-sizing: border-box", "box-sizing", "Outlook (Windows)"),
        ("background-image: url(https://example.org/a.png)", "background-image", "Outlook (Windows)"),
    ],
)
def test_a_layout_feature_a_client_lacks_is_an_error_naming_feature_client_and_place(
    style: str, feature: str, client: str
) -> None:
    errors = report(style).errors
    assert any(
        e.startswith(f"{feature} is not supported in {client}") and '<td class="cell">' in e for e in errors
    ), errors


def test_a_cosmetic_feature_a_client_lacks_is_a_note() -> None:
    found = report("text-shadow: 1px 1px #000; border-radius: 4px")
    assert found.errors == []
    assert any(n.startswith("cosmetic: text-shadow is not supported in Gmail") for n in found.notes)
    assert any(
        n.startswith("cosmetic: border-radius is not supported in Outlook (Windows)") for n in found.notes
    )


def test_a_partly_supported_feature_is_a_note_with_caniemails_notes() -> None:
    notes = report("margin: 0 auto").notes
    assert any(n.startswith("partial: margin is partly supported in Outlook (Windows)") and "`auto`" in n
               for n in notes), notes  # fmt: skip


def test_accepted_features_are_notes_with_their_reason_and_only_where_accepted() -> None:
    found = report()  # the preheader's max-height and overflow, which Outlook ignores (mso-hide hides it)
    assert found.errors == []
    assert any(n.startswith("accepted: max-height property") and "mso-hide" in n for n in found.notes)
    errors = report("max-height: 20px").errors  # elsewhere, max-height is layout Outlook ignores
    assert any(e.startswith("max-height property is not supported in Outlook (Windows)") for e in errors)


def test_an_at_rule_changes_the_layout_when_a_declaration_inside_it_does() -> None:
    responsive = (
        "<style>@media only screen and (max-width: 480px) { .cell { padding: 0 !important; } }</style>"
    )
    dark = "<style>@media (prefers-color-scheme: dark) { .cell { color: #fff !important; } }</style>"
    assert report(head=responsive).errors == []  # accepted: an enhancement on a fluid base layout
    assert any(
        n.startswith("accepted: @media is not supported in Outlook") for n in report(head=responsive).notes
    )
    assert any(n.startswith("cosmetic: @media is not supported in Outlook") for n in report(head=dark).notes)


def test_an_image_format_outlook_cannot_show_is_an_error() -> None:
    errors = report(images=(("webp", "assets/chart.webp"),)).errors
    assert any("Outlook (Windows)" in e and "assets/chart.webp" in e and "PNG or JPEG" in e for e in errors)
    assert report(images=(("png", "assets/chart.png"),)).errors == []


# ---------------------------------------------------------------- the samples and the build


@pytest.mark.parametrize("slug", [SAMPLE, "2025-08-olanzapine"])
def test_the_sample_issues_emails_have_no_compatibility_error(slug: str) -> None:
    project = load_project(ROOT)
    bundle = next(b for b in validate(project, None).bundles if b.slug == slug)
    notes: list[str] = []
    email_html(issue_view(bundle, project), bundle, project, notes)  # raises BuildError on an error
    assert any(n.startswith("cosmetic: @media (prefers-color-scheme)") for n in notes)


def _with_email_css(project: Path, rule: str) -> None:
    stylesheet = project / "styles" / "email.css"
    light, marker, rest = stylesheet.read_text(encoding="utf-8").partition("/* ------")
    stylesheet.write_text(f"{light}{rule}\n{marker}{rest}", encoding="utf-8")


def test_a_layout_feature_in_the_projects_stylesheet_fails_tablet_build(
    project: Path, run: Callable[..., Result]
) -> None:
    _with_email_css(project, ".kicker { min-width: 320px; }")  # no house rule refuses it: only the data
    result = run("build", cwd=project)
    assert result.exit_code == 1
    assert "min-width property is not supported in Outlook (Windows)" in result.output
    assert "'min-width: 320px' in <p class=\"kicker\">" in result.output
    assert "nothing was written" in result.output and not (project / "dist").exists()
    with pytest.raises(BuildError, match=r"display:flex is not supported in Outlook \(Windows\)"):
        _with_email_css(project, ".topic { display: flex; }")
        build(load_project(project), None, project / "dist")


def test_a_cosmetic_feature_is_listed_by_build_verbose_and_is_no_error(
    project: Path, run: Callable[..., Result]
) -> None:
    _with_email_css(project, ".topic { text-shadow: 1px 1px #cccccc; }")
    quiet = run("build", cwd=project)
    assert quiet.exit_code == 0, quiet.output
    assert "text-shadow" not in quiet.output
    loud = run("build", "--verbose", cwd=project)
    assert loud.exit_code == 0, loud.output
    lines = loud.stdout.splitlines()
    heading = next(
        i for i, line in enumerate(lines) if line.startswith(f"issues/{SAMPLE}: the email in Gmail")
    )
    assert "Can I email's data of" in lines[heading]
    assert any(
        line.startswith("  cosmetic: text-shadow is not supported in Gmail") and 'class="topic"' in line
        for line in lines[heading:]
    ), loud.stdout
    assert "error:" not in loud.output and "error(s)" not in loud.output


def test_a_preformatted_block_reaches_the_email_as_lines_outlook_can_wrap(project: Path) -> None:
    """A <pre> would need white-space: pre-wrap, which Outlook for Windows lacks: a long line would
    widen the email there. An indented block (easily typed by accident) is a paragraph of lines."""
    background = project / "issues" / SAMPLE / "background.md"
    block = "\n\n    dose = 4.5 mg at night " + "x" * 120 + "\n        then <weekly> & review\n"
    background.write_text(background.read_text(encoding="utf-8") + block, encoding="utf-8")
    loaded = load_project(project)
    bundle = next(b for b in validate(loaded, None).bundles if b.slug == SAMPLE)
    notes: list[str] = []
    html, _ = email_html(issue_view(bundle, loaded), bundle, loaded, notes)  # no compatibility error
    assert "<pre" not in html and not any("white-space" in note for note in notes)
    assert "dose = 4.5 mg at night x" in html
    assert "<br>\n&nbsp;&nbsp;&nbsp;&nbsp;then &lt;weekly&gt; &amp; review</p>" in html
