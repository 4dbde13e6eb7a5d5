"""The printed issue: every word, running heads, links, metadata, accessibility (reproducibility:
test_reproducible.py), and a URL fetcher that serves nothing outside the allowed folders."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest
from click.testing import Result

from tablet_press.errors import BuildError
from tablet_press.render.pdf import write_pdf

from conftest import SAMPLE, needs_tool
from seedtext import missing_prose, normalise, seed_lines

SECTIONS = [
    "Background",
    "Mechanism of Action",
    "Pharmacokinetics & Safety",
    "Clinical Pearls",
    "The Literature",
    "Bottom Line",
    "References",
]
STUDY_DOIS = [
    "10.1111/j.1526-4637.2009.00613.x",
    "10.1002/art.37734",
    "10.1097/PR9.0000000000001080",
    "10.1016/S2665-9913(23)00278-3",
    "10.1002/ana.22006",
    "10.1177/1352458510366857",
    "10.1007/s10620-011-1653-7",
    "10.1007/s11481-013-9451-y",
    "10.3390/medsci6040082",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample, built once for this module through the real CLI, from inside a project copy."""
    from click.testing import CliRunner

    from tablet_press.cli import cli

    from conftest import copy_project

    project = copy_project(tmp_path_factory.mktemp("built") / "project")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        result = CliRunner().invoke(cli, ["build"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return project / "dist" / SAMPLE / f"{SAMPLE}.pdf"


def pdf_text(pdf: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-raw", "-enc", "UTF-8"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@needs_tool("pdftotext")
def test_every_sentence_of_the_seed_is_in_the_pdf(built: Path) -> None:
    text = pdf_text(built)
    assert missing_prose(text) == []
    flat = normalise(text).casefold()  # labels may be set in capitals ("AUTHOR TEAM")
    for label in seed_lines()["labels"]:
        assert label.rstrip(":").casefold() in flat, label


@needs_tool("pdftotext")
def test_running_head_and_page_numbers_on_every_later_page(built: Path) -> None:
    pages = len(pypdf.PdfReader(built).pages)
    for page in range(1, pages + 1):
        text = normalise(pdf_text(built, page))
        assert f"Page {page} of {pages}" in text
        if page > 1:
            assert "The Tablet · Issue 1 · July 1, 2025" in text


def _links(pdf: Path) -> list[str]:
    uris = []
    for page in pypdf.PdfReader(pdf).pages:
        for annot in page.get("/Annots", []) or []:
            action = annot.get_object().get("/A")
            if action and "/URI" in action:
                uris.append(str(action["/URI"]))
    return uris


def test_every_study_links_to_its_doi_and_contacts_are_live(built: Path) -> None:
    links = _links(built)
    for doi in STUDY_DOIS:
        assert f"https://doi.org/{doi}" in links, doi
    assert "mailto:lowrymf@upmc.edu" in links
    assert "tel:+14126278473" in links and "tel:+14128642899" in links


def test_metadata_comes_from_the_issue(built: Path) -> None:
    reader = pypdf.PdfReader(built)
    info = reader.metadata
    assert info is not None
    assert info.title == "The Newest Kid on the Block: Naltrexone’s Surprising Role in Analgesia"
    assert info.author == "Aditi J. Reis, MD, Jaxon Vallely, DO, Maria Felton Lowry, PharmD, BCPS, BCGP"
    assert info.subject is not None and info.subject.startswith("The Tablet, issue 1, July 1, 2025")
    assert "Low-dose naltrexone (LDN)" in str(info["/Keywords"])
    assert str(info["/CreationDate"]).startswith("D:20250701")
    assert str(info["/ModDate"]).startswith("D:20250701")
    assert str(reader.trailer["/Root"]["/Lang"]) == "en-US"


def test_pdf_ua_tagged_with_outline(built: Path) -> None:
    reader = pypdf.PdfReader(built)
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a pypdf BooleanObject)
    assert "/StructTreeRoot" in root
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfuaid:part[^0-9]*1", xmp), "PDF/UA-1 identifier missing"

    def titles(items: list[object]) -> list[str]:
        out: list[str] = []
        for item in items:
            out += titles(item) if isinstance(item, list) else [str(item.title)]  # type: ignore[attr-defined]
        return out

    outline = titles(reader.outline)
    for section in SECTIONS:
        assert section in outline, section
    assert "Fibromyalgia" in outline


def test_page_count_is_within_range(built: Path) -> None:
    assert 3 <= len(pypdf.PdfReader(built).pages) <= 6


def test_fonts_are_the_brands_embedded_and_subset(built: Path) -> None:
    fonts = set()
    for page in pypdf.PdfReader(built).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = (
                font.get("/FontDescriptor") or font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            )
            descriptor = descriptor.get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
            fonts.add(str(font["/BaseFont"]))
    assert all(re.match(r"^/[A-Z]{6}\+", f) for f in fonts), fonts
    assert {"-".join(f.split("+")[1].split("-")[:3]) for f in fonts} == {
        "Source-Sans-Pro",
        "Source-Serif-Pro",
    }


def test_hostile_images_fail_the_build_naming_each(project: Path, run: Callable[..., Result]) -> None:
    bundle = project / "issues" / SAMPLE
    (bundle / "anecdote.md").write_text(
        "Look: ![x](file:///etc/passwd)\n\n![y](../../tablet.yaml)\n\n![z](https://example.org/pixel.png)\n"
    )
    result = run("build", cwd=project)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert (
        f"issues/{SAMPLE}/anecdote.md:1:12: error: image 'file:///etc/passwd' is not a file of this issue"
        " (only images in assets/ are allowed)" in lines[0]
    )
    assert any(
        "3:6: error: image '../../tablet.yaml' points outside the issue folder" in line for line in lines
    )
    assert any(
        "5:6: error: image 'https://example.org/pixel.png' is not a file of this issue" in line
        for line in lines
    )
    assert not (project / "dist").exists()


def _fetch_html(img: str) -> str:
    return (
        f'<html lang="en"><head><title>t</title></head><body><p>x</p><img src="{img}" alt="a"></body></html>'
    )


def test_the_fetcher_refuses_everything_outside_the_allowed_folders(tmp_path: Path) -> None:
    allowed = tmp_path / "assets"
    allowed.mkdir()
    (tmp_path / "secret.png").write_bytes(b"not allowed")
    (allowed / "link.png").symlink_to(tmp_path / "secret.png")
    for src, reason in [
        ("file:///etc/passwd", "'/etc/passwd' is outside"),
        ("../secret.png", "secret.png' is outside"),
        ("link.png", "secret.png') is outside"),  # a symlink leading out
        ("https://example.org/x.png", "is not a local file of the issue"),
        ("data:image/png;base64,AAAA", "is not a local file of the issue"),
        ("/dev/zero", "is outside"),
    ]:
        with pytest.raises(BuildError, match=re.escape(reason)):
            write_pdf(
                _fetch_html(src), base_url=allowed, allowed=[allowed], fonts=["Source Sans Pro"], what="t"
            )


def test_mounted_urls_map_to_the_real_files_and_pass_the_same_checks(tmp_path: Path) -> None:
    """The print HTML names files under fixed URLs (file:///tablet/<name>/, so that the PDF does not
    depend on the project's folder); the fetcher serves the real file behind one, refuses what it would
    refuse by its real path, and names the real path when it refuses."""
    from tablet_press.render.pdf import Mounts, Refused, make_fetcher

    issue, look = tmp_path / "issue", tmp_path / "look"
    (issue / "assets").mkdir(parents=True)
    look.mkdir()
    (issue / "assets" / "a.png").write_bytes(b"png")
    (look / "print.css").write_text("p {}")
    (issue / "secret.txt").write_text("not an asset")
    (issue / "assets" / "link.png").symlink_to(look / "print.css")  # allowed target, but a link
    mounts = Mounts((("issue", issue), ("look", look)))
    assert mounts.url(issue) == "file:///tablet/issue/"
    assert mounts.url(look / "print.css") == "file:///tablet/look/print.css"
    assert mounts.url(tmp_path / "elsewhere x.png") == (tmp_path / "elsewhere x.png").as_uri()
    fetcher = make_fetcher([issue / "assets", look], issue, mounts)
    assert fetcher.fetch("file:///tablet/issue/assets/a.png").read() == b"png"
    assert fetcher.fetch("file:///tablet/look/print.css").read() == b"p {}"
    for url, reason in [
        ("file:///tablet/issue/secret.txt", f"'{issue}/secret.txt' is outside"),
        ("file:///tablet/issue/assets/%2e%2e/secret.txt", "secret.txt' is outside"),
        ("file:///tablet/look/%2e%2e/issue/secret.txt", "secret.txt' is outside"),
        ("file:///tablet/issue/assets/link.png", f"'{issue}/assets/link.png'"),  # read link-free
        ("file:///tablet/issue/assets/missing.png", f"'{issue}/assets/missing.png' does not exist"),
        ("file:///tablet/other/x.png", "'/tablet/other/x.png' is outside"),
    ]:
        with pytest.raises(Refused) as caught:
            fetcher.fetch(url)
        assert reason in str(caught.value), url


def test_a_fifo_inside_the_allowed_folder_is_refused(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(BuildError, match="is not a regular file"):
        write_pdf(
            _fetch_html("pipe.png"),
            base_url=tmp_path,
            allowed=[tmp_path],
            fonts=["Source Sans Pro"],
            what="t",
        )


def test_a_failed_build_leaves_the_previous_pdf_untouched(project: Path, run: Callable[..., Result]) -> None:
    assert run("build", cwd=project).exit_code == 0
    out = project / "dist" / SAMPLE
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (project / "issues" / SAMPLE / "background.md").write_text("Broken [@nobody].\n")
    assert run("build", cwd=project).exit_code == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_no_temp_files_after_a_failure_while_writing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from tablet_press.bundle import atomic

    calls = []

    def failing_replace(src: str, dst: str) -> None:
        calls.append(dst)
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    target = project / "out"
    with pytest.raises(BuildError, match="cannot write into out: disk full"):
        atomic.write_files(target, {"a.pdf": b"1", "b.html": b"2"}, root=project)
    assert calls and list(target.iterdir()) == []


def test_symlinked_output_folder_is_refused(project: Path, tmp_path: Path) -> None:
    from tablet_press.bundle import atomic

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / "dist").symlink_to(elsewhere)
    with pytest.raises(BuildError, match="symbolic link"):
        atomic.write_files(project / "dist", {"a.pdf": b"1"})
    assert list(elsewhere.iterdir()) == []


def test_every_image_in_the_print_html_has_alt_text(project: Path) -> None:
    from lxml import html as lxml_html

    from tablet_press.build import print_html
    from tablet_press.bundle.project import load_project
    from tablet_press.checks.validate import validate

    loaded = load_project(project)
    bundle = validate(loaded).bundles[0]
    tree = lxml_html.fromstring(print_html(bundle, loaded))
    images = tree.findall(".//img")
    # The logo is an artifact (alt="", drawn by print.css as the masthead's background): the
    # newsletter's name is printed beside it. Every other image says what it shows.
    logo = [img for img in images if img.get("class") == "logo"]
    assert [img.get("alt") for img in logo] == [""]
    assert images and all(img.get("alt") for img in images if img not in logo)
    headings = [int(h.tag[1]) for h in tree.iter("h1", "h2", "h3", "h4")]
    assert all(b - a <= 1 for a, b in itertools.pairwise(headings)), headings


def test_weasyprint_logs_nothing_for_the_sample(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    from tablet_press.build import issue_pdf
    from tablet_press.bundle.project import load_project
    from tablet_press.checks.validate import validate

    loaded = load_project(project)
    with caplog.at_level("WARNING", logger="weasyprint"):
        issue_pdf(validate(loaded).bundles[0], loaded)
    assert [r.getMessage() for r in caplog.records] == []


def test_the_page_images_render(built: Path, tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed (CI installs it)")
    subprocess.run(["pdftoppm", "-png", "-r", "30", str(built), str(tmp_path / "p")], check=True)
    assert len(list(tmp_path.glob("p-*.png"))) == len(pypdf.PdfReader(built).pages)
