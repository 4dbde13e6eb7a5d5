"""Contrast in the PDF as WeasyPrint lays it out: every piece of text, in the colour it is drawn in, on
the background it is drawn on (the nearest box behind it that paints one), is at least 4.5:1 (WCAG 2.1
AA), for both sample issues and for a brand whose colours alone would fail. The palette (render/palette.py)
is what makes that hold; this reads what reaches the page, so a stylesheet that sets its own colour is
caught too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tablet_press.build import pdf_job, print_html
from tablet_press.bundle.folder import load_bundle
from tablet_press.bundle.project import Project, load_project
from tablet_press.render import pdf
from tablet_press.render.fonts import font_face_css
from tablet_press.render.palette import MIN_CONTRAST, contrast

from conftest import ROOT, SAMPLE, copy_project

OLANZAPINE = "2025-08-olanzapine"
WHITE = (1.0, 1.0, 1.0)


def laid_out(project: Project, slug: str) -> Any:
    """The issue's pages as WeasyPrint lays them out for its PDF (the same HTML, fetcher and fonts)."""
    from weasyprint import CSS, HTML

    bundle, problems = load_bundle(project.root / "issues" / slug, project.root)
    assert bundle is not None, problems
    job = pdf_job(bundle, project, print_html(bundle, project))
    options = job.keywords
    fetcher = pdf.make_fetcher(options["allowed"], options["base_url"], options["mounts"])
    base = options["mounts"].url(options["base_url"]).rstrip("/") + "/"
    document = HTML(string=job.args[0], base_url=base, url_fetcher=fetcher)
    return document.render(
        stylesheets=[CSS(string=font_face_css(list(options["fonts"])), url_fetcher=fetcher)]
    )


def _over(colour: Any, ground: tuple[float, float, float]) -> tuple[float, float, float]:
    """`colour` (tinycss2's Color) painted over `ground`, as sRGB channels 0 to 1."""
    red, green, blue = colour.to("srgb").coordinates
    alpha = colour.alpha
    return (
        red * alpha + ground[0] * (1 - alpha),
        green * alpha + ground[1] * (1 - alpha),
        blue * alpha + ground[2] * (1 - alpha),
    )


def _hex(channels: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in channels)


def drawn_text(document: Any) -> Iterator[tuple[str, str, str, int]]:
    """(text, colour, background, page number) for every run of text on every page."""
    from weasyprint.formatting_structure import boxes

    def walk(box: Any, ground: tuple[float, float, float], page: int) -> Iterator[tuple[str, str, str, int]]:
        background = box.style["background_color"]
        if background.alpha > 0:
            ground = _over(background, ground)
        if isinstance(box, boxes.TextBox) and box.text.strip() and box.style["visibility"] == "visible":
            yield box.text, _hex(_over(box.style["color"], ground)), _hex(ground), page
        if isinstance(box, boxes.ParentBox):
            for child in box.all_children():
                yield from walk(child, ground, page)

    for number, page in enumerate(document.pages, 1):
        yield from walk(page._page_box, WHITE, number)


def poor_contrast(document: Any) -> list[tuple[str, str, str, int, float]]:
    found = []
    for text, colour, ground, page in drawn_text(document):
        ratio = contrast(colour, ground)
        if ratio < MIN_CONTRAST:
            found.append((text[:40], colour, ground, page, round(ratio, 2)))
    return found


@pytest.mark.parametrize("slug", [SAMPLE, OLANZAPINE])
def test_every_text_in_the_pdf_contrasts_with_what_is_behind_it(slug: str) -> None:
    document = laid_out(load_project(ROOT), slug)
    texts = list(drawn_text(document))
    assert len(texts) > 300 and len({ground for _, _, ground, _ in texts}) >= 3  # white, sidebar, callouts
    assert poor_contrast(document) == []


def test_a_pale_brand_is_made_legible_in_the_pdf(tmp_path: Path) -> None:
    """A brand whose accent, primary and muted colours fail on white: the palette darkens them."""
    root = copy_project(tmp_path / "project")
    config = (root / "tablet.yaml").read_text()
    pale = {"accent": "#7fd4dc", "primary": "#8aa6d6", "muted": "#b0b0b0"}
    for name, value in pale.items():
        start = config.index(f"    {name}: ")
        end = config.index("\n", start)
        config = config[:start] + f'    {name}: "{value}"' + config[end:]
    (root / "tablet.yaml").write_text(config)
    project = load_project(root)
    assert project.config.brand.colours.accent == pale["accent"]
    assert contrast(pale["primary"], "#ffffff") < MIN_CONTRAST  # the brand's colour alone would fail
    assert poor_contrast(laid_out(project, SAMPLE)) == []


def test_a_stylesheet_colour_below_the_minimum_is_found(tmp_path: Path) -> None:
    """The check reads the laid-out page: a project stylesheet that sets a pale grey on the sidebar
    is caught (the test would pass for any PDF otherwise)."""
    root = copy_project(tmp_path / "project")
    with (root / "styles" / "print.css").open("a") as css:
        css.write("\n.sidebar p { color: #9aa0a6; }\n")
    poor = poor_contrast(laid_out(load_project(root), SAMPLE))
    assert poor and {colour for _, colour, _, _, _ in poor} == {"#9aa0a6"}
