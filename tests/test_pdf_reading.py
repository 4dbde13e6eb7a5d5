"""Both sample PDFs as a reader meets them: lines of a readable length (read from `pdftotext -layout`),
and a tag tree that assistive technology can follow (read with pikepdf): the checks that stand in for
veraPDF, which is not obtainable here (README, "Accessibility")."""

from __future__ import annotations

import itertools
import re
import statistics
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest

from tablet_press.build import outputs
from tablet_press.bundle.project import load_project
from tablet_press.checks.validate import validate

from conftest import SAMPLE, copy_project, needs_tool

SAMPLES = (SAMPLE, "2025-08-olanzapine")
TITLE = "The Newest Kid on the Block: Naltrexone’s Surprising Role in Analgesia"
OLANZAPINE = "Beyond Psychosis: Olanzapine for Nausea and Vomiting in Palliative Care"
HEADING = re.compile(r"^/H([1-6])$")


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each sample issue's PDF, built once for this module."""
    root = copy_project(tmp_path_factory.mktemp("reading") / "project", SAMPLES)
    project = load_project(root)
    report = validate(project, None)
    assert not report.errors, [p.format() for p in report.errors]
    built = {}
    for bundle in report.bundles:
        pdf = root / f"{bundle.slug}.pdf"
        pdf.write_bytes(outputs(bundle, project)[f"{bundle.slug}.pdf"])
        built[bundle.slug] = pdf
    assert set(built) == set(SAMPLES)
    return built


# ---------------------------------------------------------------- measure


def body_lines(pdf: Path) -> list[str]:
    """The lines of running text as laid out: pdftotext -layout prints columns side by side, so each
    printed line is split where three or more spaces part two columns; pieces under 45 characters
    (headings, labels, the author team's narrow column, running heads) are not body lines."""
    layout = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pieces = (piece for line in layout.splitlines() for piece in re.split(r" {3,}", line.strip()))
    return [piece for piece in pieces if len(piece) >= 45]


@needs_tool("pdftotext")
@pytest.mark.parametrize("slug", SAMPLES)
def test_body_lines_run_60_to_90_characters(pdfs: dict[str, Path], slug: str) -> None:
    lines = body_lines(pdfs[slug])
    assert len(lines) > 100
    median = statistics.median(len(line) for line in lines)
    assert 60 <= median <= 90, f"median body line is {median} characters"
    too_long = [line for line in lines if len(line) > 100]
    assert too_long == [], too_long[:5]


# ---------------------------------------------------------------- tag tree


def elements(
    node: object, ancestors: tuple[str, ...] = ()
) -> Iterator[tuple[pikepdf.Dictionary, tuple[str, ...]]]:
    """Every structure element in reading order, with the tags of the elements around it."""
    if isinstance(node, pikepdf.Array):
        for kid in node:
            yield from elements(kid, ancestors)
    elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
        yield node, ancestors
        if "/K" in node:
            yield from elements(node.K, (*ancestors, str(node.S)))


def tree(pdf: pikepdf.Pdf) -> list[tuple[pikepdf.Dictionary, tuple[str, ...]]]:
    return list(elements(pdf.Root.StructTreeRoot.K))


@pytest.mark.parametrize("slug", SAMPLES)
def test_tag_tree_headings_one_h1_never_nested_never_skipping(pdfs: dict[str, Path], slug: str) -> None:
    with pikepdf.open(pdfs[slug]) as pdf:
        levels = []
        for element, ancestors in tree(pdf):
            found = HEADING.match(str(element.S))
            if found:
                nested = [tag for tag in ancestors if HEADING.match(tag)]
                assert nested == [], f"a {element.S} inside a {nested[-1]}"
                levels.append(int(found.group(1)))
        assert levels.count(1) == 1, levels
        assert levels[0] == 1, levels
        for before, level in itertools.pairwise(levels):
            assert level <= before + 1, f"H{before} followed by H{level}: {levels}"


@pytest.mark.parametrize("slug", SAMPLES)
def test_tag_tree_figures_tables_language_and_links(pdfs: dict[str, Path], slug: str) -> None:
    with pikepdf.open(pdfs[slug]) as pdf:
        assert str(pdf.Root.get("/Lang", "")) == "en-US"
        found = tree(pdf)
        for element, _ in found:
            if element.S == "/Figure":
                assert str(element.get("/Alt", "")).strip(), "a Figure without Alt"
            if element.S == "/Table":
                cells = [str(e.S) for e, ancestors in found if "/Table" in ancestors]
                assert "/TH" in cells, "a Table without header cells"
        links = [
            annot
            for page in pdf.pages
            for annot in page.get("/Annots", [])
            if annot.get("/Subtype") == "/Link"
        ]
        assert links
        for link in links:
            assert str(link.get("/Contents", "")).strip(), link


def test_the_logo_is_an_artifact_beside_the_newsletter_name(pdfs: dict[str, Path]) -> None:
    """The only Figures are the issue's own (the olanzapine chart): the logo repeats the name beside it."""
    with pikepdf.open(pdfs[SAMPLE]) as pdf:
        assert [e for e, _ in tree(pdf) if e.S == "/Figure"] == []


@pytest.mark.parametrize("slug", SAMPLES)
def test_the_first_bookmark_is_the_title_alone(pdfs: dict[str, Path], slug: str) -> None:
    with pikepdf.open(pdfs[slug]) as pdf, pdf.open_outline() as outline:
        first = outline.root[0].title
    assert not first.upper().startswith("TODAY"), first
    assert first.replace("\u00a0", " ") == {SAMPLE: TITLE, "2025-08-olanzapine": OLANZAPINE}[slug]
