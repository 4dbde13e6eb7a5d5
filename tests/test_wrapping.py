"""Nothing the pharmacist wrote is cut off at a margin: a long URL written as text, a 10,000-character
word, a code line and quotes nested as deep as markdown allows wrap in the PDF, the email (also on
320 and 375px phones, which must not scroll sideways) and the plain text.

Without `overflow-wrap`, WeasyPrint draws such text past the page's edge: it is in the file but no
reader sees it, and pdftotext (which reads what is on the page) does not find it either."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from conftest import FIXTURES, copy_project, needs_tool

URL = "https://clinicaltrials.gov/search?term=" + "LowDoseNaltrexone0123456789" * 6  # 200 characters
WORD = "Start" + "naltrexone" * 999 + "End"  # 10,000 characters, no break anywhere
CODE = "taper_" + "0123456789" * 30  # one line of a code block
DEEP = 17  # the deepest quote validate accepts (deeper, markdown-it would drop text: tests/hostile)
QUOTED = "InnermostQuote" + "x" * 120 + "Ends"
PEARL = "PearlWord" + "y" * 300 + "Ends"
LONG = {"url": URL, "word": WORD, "code": CODE, "quote": QUOTED, "pearl": PEARL}


def long_bundle(project: Path) -> Path:
    """The minimal issue, with each long string in its prose and one in a pearl (issue.yaml)."""
    bundle = project / "issues" / "long"
    shutil.copytree(FIXTURES / "good" / "minimal", bundle)
    quotes = "\n".join(">" * level + f" Quote level {level}." for level in range(1, DEEP))
    (bundle / "background.md").write_text(
        f"Registered at {URL} in 2024.\n\n{WORD}\n\n```\n{CODE}\n```\n\n{quotes}\n{'>' * DEEP} {QUOTED}\n",
        encoding="utf-8",
    )
    issue = bundle / "issue.yaml"
    issue.write_text(
        issue.read_text(encoding="utf-8").replace("Start low and go slow", PEARL), encoding="utf-8"
    )
    return bundle


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from click.testing import CliRunner

    from tablet_press.cli import cli

    project = copy_project(tmp_path_factory.mktemp("long") / "p", bundles=())
    long_bundle(project)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        result = CliRunner().invoke(cli, ["build"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return project / "dist" / "long"


def _joined(text: str) -> str:
    """The text with every line break and space removed: a string wrapped anywhere is whole again."""
    return re.sub(r"\s+", "", text.replace("\u00ad", ""))


def _missing(text: str) -> list[str]:
    joined = _joined(text)
    return [name for name, value in LONG.items() if value not in joined]


@needs_tool("pdftotext")
def test_the_pdf_shows_every_long_string_whole(built: Path) -> None:
    text = subprocess.run(
        ["pdftotext", "-raw", str(built / "long.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    # The running head and page number stand between a page's last line and the next page's first, and
    # so does the marker of page 1's list ("At a glance"): WeasyPrint draws list markers after the text.
    furniture = re.compile(r"^(The Tablet · Issue 7 · September 1, 2025|Page \d+ of \d+|•)$", re.M)
    assert _missing(furniture.sub("", text)) == []


def test_the_email_and_plain_text_hold_every_long_string(built: Path) -> None:
    tree = lxml_html.fromstring((built / "long.html").read_text(encoding="utf-8"))
    assert _missing(tree.text_content()) == []
    assert _missing((built / "long.txt").read_text(encoding="utf-8")) == []


@needs_tool("pdftoppm")
def test_no_ink_in_the_pdfs_right_margin(built: Path, tmp_path: Path) -> None:
    """What pdftotext cannot see: nothing is drawn in the right margin (0.65in) of any page."""
    from PIL import Image

    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", str(built / "long.pdf"), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages
    for page in pages:
        with Image.open(page) as image:
            grey = image.convert("L")
            margin = grey.crop((grey.width - int(0.6 * 40), 0, grey.width, grey.height))
            assert margin.getextrema()[0] > 200, f"ink in the right margin of {page.name}"


@needs_tool("chromium")
@pytest.mark.parametrize("width", [320, 375])
def test_the_email_does_not_scroll_sideways_on_phones(built: Path, tmp_path: Path, width: int) -> None:
    from test_email_render import show, variant

    page: Any = show(
        variant((built / "long.html").read_text(encoding="utf-8")), tmp_path / "f.html", width, 900
    )
    assert page["viewport"] == width
    assert page["scrollWidth"] <= width


SITE_MEASURE = """<script>window.addEventListener("load", function () {
  var out = document.createElement("pre"); out.id = "measured";
  out.textContent = JSON.stringify({viewport: window.innerWidth,
                                    scrollWidth: document.documentElement.scrollWidth});
  document.body.appendChild(out);
});</script>"""


@needs_tool("chromium")
def test_the_archive_page_does_not_scroll_sideways_on_a_phone(built: Path) -> None:
    from click.testing import CliRunner

    from tablet_press.cli import cli
    from test_email_render import show

    project = built.parent.parent
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        result = CliRunner().invoke(cli, ["archive"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    page = (project / "site" / "2025" / "long" / "index.html").read_text(encoding="utf-8")
    assert _missing(lxml_html.fromstring(page).text_content()) == []
    # Framed from the page's own folder, so that its relative links (site.css) still resolve.
    frame = project / "site" / "2025" / "long" / "frame.html"
    measured: Any = show(page.replace("</body>", SITE_MEASURE + "</body>"), frame, 375, 900)
    assert measured["viewport"] == 375
    assert measured["scrollWidth"] <= 375
