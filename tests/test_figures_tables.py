"""Figures and tables in every output (issue 14, items 1 and 2), proven on tests/fixtures/good/dosing:
a 900 px figure with a caption and a dosing table of 4 columns and 6 rows with long cells.

The PDF is read as a reader meets it (pdftotext, the image's resolution as placed, ink past the
margin), the email as a phone draws it (headless Chromium, with the images and without), the archive
as a web server serves it (the image files beside the page).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tablet_press.bundle import markdown
from tablet_press.bundle.texttable import TEXT_WIDTH, text_table

from conftest import FIXTURES, copy_project, needs_tool

SLUG = "dosing"
CAPTION = "Mean pain score by week of titration, naltrexone and placebo"
ALT = "Bar chart of pain scores falling from week 0 to week 10"
DPI = 150  # print.css: image-resolution
PAGE_WIDTH_IN, RIGHT_MARGIN_IN = 8.5, 0.65  # US Letter, print.css @page


def table_rows() -> list[list[str]]:
    """The fixture's table as written in background.md: the header row, then each row's cells."""
    text = (FIXTURES / "good" / SLUG / "background.md").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.startswith("|") and "---" not in line]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("figures") / "project", bundles=())
    shutil.copytree(FIXTURES / "good" / SLUG, root / "issues" / SLUG)
    return root


@pytest.fixture(scope="module")
def dist(project: Path) -> Path:
    from tablet_press.build import build
    from tablet_press.bundle.project import load_project

    out = project / "dist"
    build(load_project(project), [project / "issues" / SLUG], out, strict=True)
    return out / SLUG


def words(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------- PDF


@needs_tool("pdftotext")
def test_pdf_prints_the_numbered_caption(dist: Path) -> None:
    """Every table cell and caption of every bundle, in every output: test_nothing_lost.py."""
    text = subprocess.run(
        ["pdftotext", str(dist / f"{SLUG}.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert f"Figure 1. {CAPTION}" in words(text)


@needs_tool("pdfimages")
def test_pdf_figure_fits_the_column_at_print_resolution(dist: Path) -> None:
    listing = subprocess.run(
        ["pdfimages", "-list", str(dist / f"{SLUG}.pdf")], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split() for line in listing.splitlines()[2:]]
    figure = next(r for r in rows if r[3] == "900")  # page num type width height ... x-ppi y-ppi
    x_ppi = int(figure[12])
    assert x_ppi >= DPI - 1  # never enlarged past 150 dpi: 900 px is at most 6 in wide
    assert 900 / x_ppi <= PAGE_WIDTH_IN - 2 * RIGHT_MARGIN_IN  # within the text column


@needs_tool("pdftoppm")
def test_pdf_has_no_ink_past_the_right_margin(dist: Path, tmp_path: Path) -> None:
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", str(dist / f"{SLUG}.pdf"), str(tmp_path / "p")], check=True
    )
    pages = sorted(tmp_path.glob("p-*.png"))
    assert pages
    for page in pages:
        with Image.open(page) as image:
            grey = image.convert("L")
            edge = round((PAGE_WIDTH_IN - RIGHT_MARGIN_IN) * 50) + 2
            beyond = grey.crop((edge, 0, grey.width, grey.height))
            assert beyond.getextrema()[0] > 240, f"ink past the right margin on {page.name}"


def test_pdf_tags_the_figure_with_its_caption_and_the_table_by_cells(dist: Path) -> None:
    from pypdf import PdfReader

    roles: list[str] = []

    def walk(node: Any) -> None:
        node = node.get_object()
        if isinstance(node, list):
            for kid in node:
                walk(kid)
            return
        if not hasattr(node, "get"):
            return
        if "/S" in node:
            roles.append(str(node["/S"]))
            if node["/S"] == "/Figure" and "/Alt" in node:
                roles.append("alt:" + str(node["/Alt"]))
        if "/K" in node:
            walk(node["/K"])

    walk(PdfReader(dist / f"{SLUG}.pdf").trailer["/Root"]["/StructTreeRoot"])
    assert {"/Table", "/TR", "/TH", "/TD", "/Caption", "/Figure"} <= set(roles)
    assert any(r.startswith("alt:" + ALT) for r in roles)


# -------------------------------------------------------------------------------------- plain text


def test_text_shows_the_table_row_by_row_and_the_figure_by_its_caption(dist: Path) -> None:
    text = (dist / f"{SLUG}.txt").read_text(encoding="utf-8")
    header, *rows = table_rows()
    for row in rows:  # too wide for aligned columns: one block of `column: value` lines per row
        block = "\n".join(f"{name}: {value}" for name, value in zip(header, row, strict=True))
        assert words(block) in words(text)
        assert f"\n{header[0]}: {row[0]}\n{header[1]}: {row[1]}\n" in text
    assert f"[Figure 1: {CAPTION}]" in text
    assert max(len(line) for line in text.splitlines() if "http" not in line) <= TEXT_WIDTH


def test_text_table_aligns_columns_when_they_fit_and_wraps_cells_inside_them() -> None:
    header = ["Drug", "Dose", "Notes"]
    rows = [["Naltrexone", "1.5 mg", "At bedtime"], ["Morphine", "2.5 mg", "Every four hours " * 6]]
    table = text_table(header, rows)
    lines = table.splitlines()
    assert lines[0].split() == header and set(lines[1].replace(" ", "")) == {"-"}
    notes = lines[0].index("Notes")
    assert all(len(line) <= TEXT_WIDTH for line in lines)
    assert lines[3].index("Every") == notes and lines[4].startswith(" " * notes)  # wrapped in its column
    assert lines[2].index("1.5 mg") == lines[0].index("Dose")


def test_text_table_goes_row_by_row_when_columns_would_be_too_narrow() -> None:
    header = [f"Long column {n}" for n in range(8)]
    table = text_table(header, [[f"value {n}" for n in range(8)]] * 2)
    assert table.split("\n\n")[0].splitlines() == [f"Long column {n}: value {n}" for n in range(8)]


# ------------------------------------------------------------------------------------ markdown syntax


def test_only_an_image_alone_with_a_title_is_a_numbered_figure() -> None:
    text = (
        '![a](assets/a.png "First caption")\n\nText ![b](assets/b.png "inline, not a figure")\n\n'
        '![c](assets/c.png)\n\n![d](assets/d.png "Second caption")\n'
    )
    assert [f.value for f in markdown.scan(text).figures] == ["First caption", "Second caption"]
    html = markdown.renderer(lambda keys: "", {}, {text: 3}).render(text)
    assert '<figure class="figure"><img src="assets/a.png" alt="a"><figcaption>' in html
    assert '<span class="figure-number">Figure 3.</span> First caption' in html
    assert '<span class="figure-number">Figure 4.</span> Second caption' in html
    assert 'title="inline, not a figure"' in html and html.count("<figure") == 2
    plain = markdown.text_renderer(lambda keys: "", {}, {text: 3}).render(text)
    assert "[Figure 3: First caption]" in plain and "[Figure 4: Second caption]" in plain


def test_figures_are_numbered_in_reading_order_across_the_issue(project: Path, tmp_path: Path) -> None:
    from tablet_press.bundle.project import load_project
    from tablet_press.checks.validate import validate
    from tablet_press.render.view import issue_view

    issue = project / "issues" / SLUG
    mechanism = issue / "mechanism.md"
    mechanism.write_text('![A second chart](assets/titration.png "Printed after background")\n')
    try:
        loaded = load_project(project)
        bundle = validate(loaded, [issue]).bundles[0]
        view = issue_view(bundle, loaded)
    finally:
        mechanism.unlink()
    assert "Figure 1.</span> " + CAPTION in view.prose["background"].html
    assert "Figure 2.</span> Printed after background" in view.prose["mechanism"].html
    assert "[Figure 2: Printed after background]" in view.prose["mechanism"].text
    assert "Figure 2.</strong> Printed after background" in view.prose["mechanism"].email


# ------------------------------------------------------------------------------------------- email


def test_email_styles_every_cell_in_the_brand_font_with_left_headers(dist: Path) -> None:
    import lxml.html

    eml = (dist / f"{SLUG}.eml").read_bytes()
    from email import message_from_bytes
    from email.policy import SMTP

    message = message_from_bytes(eml, policy=SMTP)
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    document = lxml.html.document_fromstring(html)
    cells = document.xpath("//table[contains(@class, 'data')]//*[self::th or self::td]")
    assert len(cells) == sum(len(r) for r in table_rows())
    for cell in cells:
        style = cell.get("style", "")
        assert "font-family" in style and "padding" in style and "border" in style, style
    for th in document.xpath("//table[contains(@class, 'data')]//th"):
        assert "text-align: left" in th.get("style")
    assert f"Figure 1.</strong> {CAPTION}" in html
    assert 'src="cid:image1@' in html


def test_standalone_email_shows_the_images_from_files_beside_it(dist: Path) -> None:
    html = (dist / f"{SLUG}.html").read_text(encoding="utf-8")
    assert "cid:" not in html
    sources = re.findall(r'<img [^>]*src="([^"]+)"', html)
    assert sources == ["logo.png", "assets/titration.png"]
    for src in sources:
        assert (dist / src).is_file()
    assert (dist / "assets" / "titration.png").read_bytes() == (
        FIXTURES / "good" / SLUG / "assets" / "titration.png"
    ).read_bytes()


MEASURE = """<script>window.addEventListener("load", function () {
  var out = document.createElement("pre"); out.id = "measured";
  var img = document.querySelector("img.figure");
  out.textContent = JSON.stringify({viewport: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth, figureLoaded: img.naturalWidth > 0,
    figureWidth: img.getBoundingClientRect().width,
    tableWidth: document.querySelector("table.data").getBoundingClientRect().width});
  document.body.appendChild(out);
});</script>"""


@pytest.fixture(scope="module")
def phones(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The standalone email at 320, 375 and 600 px: beside its images, and with them missing."""
    pytest.importorskip("lxml")
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (CI installs it)")
    from test_email_render import show

    page = (dist / f"{SLUG}.html").read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>")
    missing = tmp_path_factory.mktemp("no-images")
    jobs = {
        f"{kind}-{width}": (dist if kind == "shown" else missing, width)
        for kind in ("shown", "missing")
        for width in (320, 375, 600)
    }

    def run(name: str) -> Any:
        folder, width = jobs[name]
        return show(page, folder / f"frame-{name}.html", width, 1200)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(jobs, pool.map(run, jobs), strict=True))


@pytest.mark.parametrize("width", [320, 375, 600])
@pytest.mark.parametrize("kind", ["shown", "missing"])
def test_email_never_scrolls_sideways_with_a_table_and_a_figure(
    phones: dict[str, Any], kind: str, width: int
) -> None:
    page = phones[f"{kind}-{width}"]
    assert page["viewport"] == width
    assert page["figureLoaded"] == (kind == "shown")  # the images really were there, or really missing
    assert page["scrollWidth"] <= width
    assert page["tableWidth"] <= width and page["figureWidth"] <= width


# ----------------------------------------------------------------------------------------- archive


@pytest.fixture(scope="module")
def site(project: Path) -> Iterator[Path]:
    from tablet_press.bundle.project import load_project
    from tablet_press.site.archive import archive

    report = archive(load_project(project), project / "site", jobs=1)
    assert report.built == [SLUG], report.problems
    yield project / "site"


def test_archive_copies_the_images_the_issue_page_and_email_show(site: Path) -> None:
    folder = site / "2025" / SLUG
    page = (folder / "index.html").read_text(encoding="utf-8")
    sources = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert "assets/titration.png" in sources
    for src in sources:
        assert (folder / src).resolve().is_file(), src
    email = (folder / f"{SLUG}.html").read_text(encoding="utf-8")
    for src in re.findall(r'<img [^>]*src="([^"]+)"', email):
        assert (folder / src).is_file(), src
    assert "<figcaption>" in page and '<table class="data">' in page


def test_archive_cache_key_changes_with_the_image(project: Path) -> None:
    from tablet_press.site.archive import issue_key

    image = project / "issues" / SLUG / "assets" / "titration.png"
    before = issue_key("shared", image.parent.parent)
    original = image.read_bytes()
    try:
        with Image.open(image) as picture:
            picture.putpixel((10, 10), 1)
            picture.save(image)
        assert issue_key("shared", image.parent.parent) != before
    finally:
        image.write_bytes(original)
