"""Byte-reproducible outputs as a user meets them: two builds in separate processes, at least a second
apart, from project copies in different folders, give identical files, with HarfBuzz's font subsetter
and without it (WeasyPrint's fontTools fallback, which dates each font unless SOURCE_DATE_EPOCH is set).
The copies have a PNG logo and an issue with images (WeasyPrint names a raster image in the PDF by its
URL, which once held the project's folder). Builds within one process prove nothing here: the clock and
the process's state are shared."""

from __future__ import annotations

import calendar
import io
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pypdf
import pytest
from click.testing import Result
from fontTools.misc.timeTools import epoch_diff
from fontTools.ttLib import TTFont

import tablet_press
from tablet_press.render import pdf
from tablet_press.render.fonts import font_dirs

from conftest import FIXTURES, SAMPLE, copy_project

SRC = Path(tablet_press.__file__).resolve().parents[1]  # the tablet_press under test, in the subprocess too
ISSUE_DATE = date(2025, 7, 1)  # the sample's date: the fonts' modified date on the fontTools path
# WeasyPrint decides per font (weasyprint/pdf/fonts.py) from this module global: set to None, it
# believes HarfBuzz's subsetter is missing and subsets with fontTools, as on a machine without it.
FORCE_FONTTOOLS = (
    "import sys, weasyprint.pdf.fonts as fonts\n"
    "fonts.harfbuzz_subset = None\n"
    "from tablet_press.cli import main\n"
    "sys.argv = ['tablet', *sys.argv[1:]]\n"
    "main()\n"
)
PATHS = ("harfbuzz", "fonttools")
ISSUES = (SAMPLE, "figures")  # the sample, and a fixture with two images in its assets/


def _start(project: Path, path: str) -> subprocess.Popen[str]:
    """`tablet build --out out-<path>` in a fresh process (the fontTools path forced if asked)."""
    command = ["-m", "tablet_press"] if path == "harfbuzz" else ["-c", FORCE_FONTTOOLS]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    env.pop("SOURCE_DATE_EPOCH", None)  # the build must not rely on the caller setting it
    return subprocess.Popen(
        [sys.executable, *command, "build", "--out", f"out-{path}"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _files(folder: Path) -> dict[str, bytes]:
    """Every file of an issue's output folder (the images beside the standalone email included)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _copy(dest: Path) -> Path:
    """A project with the sample and the figures fixture, and a raster logo (brand/logo.png)."""
    project = copy_project(dest)
    shutil.copytree(FIXTURES / "good" / "figures", project / "issues" / "figures")
    config = project / "tablet.yaml"
    text = config.read_text(encoding="utf-8")
    assert "logo: logo.svg" in text and (project / "brand" / "logo.png").is_file()
    config.write_text(text.replace("logo: logo.svg", "logo: logo.png"), encoding="utf-8")
    return project


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each path built twice, in separate processes, more than a second apart, from two project copies
    in different folders: {path: (first files, second files, first stderr)}, files {slug: {name: bytes}}."""
    first, second = (_copy(tmp_path_factory.mktemp(name) / "project") for name in ("one", "two"))
    found: dict[str, Any] = {}
    stderr: dict[str, str] = {}
    for project in (first, second):
        running = {path: _start(project, path) for path in PATHS}  # both paths at once, to save time
        for path, process in running.items():
            out, err = process.communicate(timeout=300)
            assert process.returncode == 0, out + err
            stderr.setdefault(path, err)
            built = {slug: _files(project / f"out-{path}" / slug) for slug in ISSUES}
            found.setdefault(path, []).append(built)
        if project is first:
            time.sleep(1.1)  # fontTools stamps whole seconds: the second builds see another second
    return {path: (*found[path], stderr[path]) for path in PATHS}


@pytest.mark.parametrize("slug", ISSUES)
@pytest.mark.parametrize("path", PATHS)
def test_two_builds_in_separate_processes_give_identical_bytes(
    builds: dict[str, Any], path: str, slug: str
) -> None:
    one, two = builds[path][0][slug], builds[path][1][slug]
    assert {f"{slug}.{kind}" for kind in ("eml", "html", "pdf", "txt")} | {"logo.png"} <= set(one)
    assert sorted(one) == sorted(two)
    assert {name: one[name] == two[name] for name in one} == dict.fromkeys(one, True)


def test_the_images_and_the_logo_are_in_the_pdf(builds: dict[str, Any]) -> None:
    """Raster images really are drawn (else the test above proves little): the logo on each page, the
    two figures too in the figures fixture, each a distinct image XObject."""
    for slug, images in ((SAMPLE, 1), ("figures", 3)):
        reader = pypdf.PdfReader(io.BytesIO(builds["harfbuzz"][0][slug][f"{slug}.pdf"]))
        names = set()
        for page in reader.pages:
            names |= set(page["/Resources"].get("/XObject", {}))
        assert len(names) == images, (slug, names)


def _font_dates(data: bytes) -> set[int]:
    """The modified date (seconds since 1970) in the head table of every font embedded in a PDF."""
    dates = set()
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            for descendant in font.get_object().get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                stream = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
                face = TTFont(io.BytesIO(stream.get_object().get_data()), lazy=True)
                dates.add(face["head"].modified + epoch_diff)
    return dates


def test_the_fonttools_path_really_ran_and_dates_the_fonts_from_the_issue(builds: dict[str, Any]) -> None:
    harfbuzz = builds["harfbuzz"][0][SAMPLE][f"{SAMPLE}.pdf"]
    fonttools = builds["fonttools"][0][SAMPLE][f"{SAMPLE}.pdf"]
    assert harfbuzz != fonttools  # a different subsetter ran, so the forcing worked
    assert _font_dates(fonttools) == {calendar.timegm(ISSUE_DATE.timetuple())}


def test_the_missing_subsetter_is_noticed_once_and_says_how_to_install_it(builds: dict[str, Any]) -> None:
    assert builds["fonttools"][2].count(pdf.SUBSETTER_NOTICE) == 1
    assert "apt-get install libharfbuzz-subset0" in pdf.SUBSETTER_NOTICE
    assert (pdf.SUBSETTER_NOTICE in builds["harfbuzz"][2]) == pdf.faster_subsetter_missing()


def test_the_notice_does_not_fail_a_strict_build(
    tmp_path: Path, run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It is about the machine, not the issue: --strict (warnings are errors) still builds."""
    project = copy_project(tmp_path / "p", bundles=())
    shutil.copytree(FIXTURES / "good" / "minimal", project / "issues" / "minimal")
    monkeypatch.setattr(pdf, "faster_subsetter_missing", lambda: True)
    result = run("build", "--strict", cwd=project)
    assert result.exit_code == 0, result.output
    assert result.stderr == f"building minimal ...\n{pdf.SUBSETTER_NOTICE}\n"


def test_the_probe_agrees_with_weasyprint() -> None:
    """Without WeasyPrint loaded, the notice's test finds the libraries WeasyPrint's own test finds."""
    from weasyprint.text import ffi

    found = bool(ffi.harfbuzz_subset) and bool(ffi.harfbuzz.hb_version_atleast(4, 1, 0))
    assert pdf._harfbuzz_subset_found() == found
    assert pdf.faster_subsetter_missing() == (not found)


@pytest.mark.parametrize("before", [None, "86400"])
def test_source_date_epoch_is_set_for_the_render_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, before: str | None
) -> None:
    if before is None:
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    else:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", before)
    html = "<html lang='en'><head><title>t</title></head><body><p>x</p></body></html>"
    allowed = [tmp_path, *font_dirs()]
    pdf.write_pdf(html, base_url=tmp_path, allowed=allowed, fonts=["Source Sans Pro"], what="t")
    assert os.environ.get("SOURCE_DATE_EPOCH") == before
