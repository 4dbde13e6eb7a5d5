"""Why `refs import` needs no round-tripping YAML writer (docs/decisions.md): it appends records as
text, so an existing references.yaml keeps every byte, comments and layout included."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from conftest import ROOT, SAMPLE, copy_project


def test_import_keeps_every_byte_of_the_existing_file(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "p", bundles=(SAMPLE,))
    target = project / "issues" / SAMPLE / "references.yaml"
    original = (ROOT / "issues" / SAMPLE / "references.yaml").read_text(encoding="utf-8")
    kept = original.replace("- id:", "# checked against PubMed, 2025-07-01\n- id:", 1) + "# the end\n"
    target.write_text(kept, encoding="utf-8")
    source = tmp_path / "new.bib"
    source.write_text(
        "@article{x, title = {A new study}, author = {Doe, J.}, year = 2024}\n", encoding="utf-8"
    )
    result = run("refs", "import", str(source), cwd=project / "issues" / SAMPLE)
    assert result.exit_code == 0, result.output
    written = target.read_text(encoding="utf-8")
    assert written.startswith(kept)
    assert "A new study" in written[len(kept) :]
