"""Every output of the sample issue and of the good fixtures, against the expected files in tests/golden/.

A refactoring must leave the outputs as they were, byte for byte; a change to any of them must be meant.
The HTML and text are stored whole, for a readable diff; the .pdf and .eml as sha256 digests.
After a deliberate change, look at the new outputs, then: python tests/test_golden.py update
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from tablet_press.build import outputs
from tablet_press.bundle.project import load_project
from tablet_press.checks.validate import validate

from conftest import FIXTURES, ROOT, SAMPLE, copy_project

GOLDEN = Path(__file__).parent / "golden"
FIXTURE_BUNDLES = ("minimal", "figures", "dosing", "ce", "unstructured")


def build_all(dest: Path) -> dict[str, dict[str, bytes]]:
    """Every output of the sample and of the good fixtures, built in a project copy at `dest`."""
    root = copy_project(dest, (SAMPLE,))
    for name in FIXTURE_BUNDLES:
        shutil.copytree(FIXTURES / "good" / name, root / "issues" / name)
    project = load_project(root)
    report = validate(project, None)
    assert not report.errors, [p.format() for p in report.errors]
    return {bundle.slug: outputs(bundle, project) for bundle in report.bundles}


def expected_digests(built: dict[str, dict[str, bytes]]) -> dict[str, dict[str, str]]:
    return {
        slug: {
            name: hashlib.sha256(data).hexdigest()
            for name, data in sorted(files.items())
            if name.endswith((".pdf", ".eml"))
        }
        for slug, files in sorted(built.items())
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    return build_all(tmp_path_factory.mktemp("golden") / "project")


@pytest.mark.parametrize("slug", [SAMPLE, *FIXTURE_BUNDLES])
@pytest.mark.parametrize("kind", ["html", "txt"])
def test_the_email_html_and_text_are_as_expected(
    built: dict[str, dict[str, bytes]], slug: str, kind: str
) -> None:
    name = f"{slug}.{kind}"
    assert built[slug][name].decode() == (GOLDEN / slug / name).read_text(encoding="utf-8"), (
        f"{name} changed: if that is meant, run python tests/test_golden.py update"
    )


def test_the_pdf_and_eml_are_as_expected(built: dict[str, dict[str, bytes]]) -> None:
    stored = json.loads((GOLDEN / "digests.json").read_text(encoding="utf-8"))
    assert expected_digests(built) == stored, "run python tests/test_golden.py update if the change is meant"


def test_the_golden_files_cover_every_good_fixture() -> None:
    good = {p.name for p in (FIXTURES / "good").iterdir() if p.is_dir()}
    assert good == set(FIXTURE_BUNDLES)


def _update() -> None:
    with tempfile.TemporaryDirectory() as temp:
        built = build_all(Path(temp) / "project")
    for slug, files in built.items():
        (GOLDEN / slug).mkdir(parents=True, exist_ok=True)
        for kind in ("html", "txt"):
            (GOLDEN / slug / f"{slug}.{kind}").write_bytes(files[f"{slug}.{kind}"])
    digests = json.dumps(expected_digests(built), indent=2) + "\n"
    (GOLDEN / "digests.json").write_text(digests, encoding="utf-8")
    print(f"wrote {GOLDEN.relative_to(ROOT)}/")


if __name__ == "__main__":
    if sys.argv[1:] != ["update"]:
        sys.exit("usage: python tests/test_golden.py update")
    _update()
