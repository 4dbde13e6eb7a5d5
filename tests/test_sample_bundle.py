"""The sample bundle is the seed issue, every word of it, and it validates cleanly."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

from tablet_press.bundle.loader import load_yaml

from conftest import ROOT, SAMPLE
from seedtext import normalise, seed_lines, words

LABEL_PREFIX = ("Outcomes: ", "Methods: ", "Results: ", "CLINICAL PEARL: ")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def bundle_text() -> str:
    """Every string the pharmacist wrote: YAML values of the bundle and tablet.yaml, and the markdown."""
    texts = []
    for file in [ROOT / "tablet.yaml", *sorted((ROOT / "issues" / SAMPLE).glob("*.yaml"))]:
        located, problems = load_yaml(file, file.name)
        assert located is not None and not problems
        texts += _strings(located.data)
    texts += [f.read_text(encoding="utf-8") for f in sorted((ROOT / "issues" / SAMPLE).glob("*.md"))]
    return "\n".join(texts)


def test_every_prose_sentence_of_the_seed_is_in_the_bundle() -> None:
    text = normalise(bundle_text())
    missing = []
    for line in seed_lines()["prose"]:
        for prefix in LABEL_PREFIX:  # labels the layout prints ("Outcomes:") come from the template
            line = line.removeprefix(prefix)
        if normalise(line) not in text:
            missing.append(line)
    assert missing == []


def test_every_word_of_the_sidebar_and_references_is_in_the_bundle() -> None:
    have = words(bundle_text())
    lines = seed_lines()
    needed = set()
    for line in lines["sidebar"] + lines["references"]:
        needed |= words(line.replace("https://doi.org/", ""))
    # Words the layout prints itself: contact labels and the link prefix.
    assert needed - have - {"Cell", "Office", "Email"} == set()


def test_sample_validates_with_only_the_seeds_real_warnings(
    project: Path, run: Callable[..., Result]
) -> None:
    result = run("validate", cwd=project)
    assert result.exit_code == 0, result.output
    assert "error" not in result.stdout
    assert result.stderr.strip().startswith("ok: 0 error(s)")


def test_validate_never_imports_weasyprint() -> None:
    """Nor the citation engine, the email inliner, or the retraction index (sqlite3) of a project that
    names no Retraction Watch CSV: what a plain `tablet validate` does not use, it does not import."""
    code = (
        "import sys, runpy; sys.argv = ['tablet', 'validate'];\n"
        "try:\n    runpy.run_module('tablet_press', run_name='__main__')\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "unused = ('weasyprint', 'citeproc', 'css_inline', 'sqlite3')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in unused))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_help_never_imports_weasyprint() -> None:
    code = (
        "import sys; from tablet_press.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('weasyprint' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
