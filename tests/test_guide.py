"""docs/guide.md: its field reference and list of checks are generated and current; the editor and git
integration it describes (.vscode/settings.json, .pre-commit-hooks.yaml) is in place."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from tablet_press import guide
from tablet_press.bundle.schema import SCHEMAS
from tablet_press.checks.rules import RULES

from conftest import ROOT

GUIDE = ROOT / "docs" / "guide.md"


def test_the_generated_parts_are_current() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert guide.updated(text) == text, "docs/guide.md is stale: run python -m tablet_press.guide"


def _fields(model: type[BaseModel]) -> set[str]:
    """Every field name of a model and of the models inside it, as written in YAML."""
    names: set[str] = set()
    todo, seen = [model], set()
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            for name, info in current.model_fields.items():
                names.add(info.alias or name)
                todo += _models(info.annotation)
    return names


def _models(annotation: object) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found += _models(arg)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found.append(annotation)
    return found


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_every_field_of_every_file_is_in_the_guide(kind: str) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    fields = _fields(SCHEMAS[kind]) - ({"references"} if kind == "references" else set())  # a bare list
    assert fields
    assert [f for f in sorted(fields) if f"| `{f}` |" not in text] == []


def test_every_check_is_explained() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert [rule for rule in RULES if f"| `{rule}` |" not in text] == []


def test_the_guide_walks_through_every_step() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for command in ("tablet new", "tablet preview", "tablet validate", "tablet refs import", "tablet build"):
        assert command in text
    assert "tablet publish" in text and "corrections:" in text and "sha256" in text
    assert "# tablet: ignore[" in text and "[//]: # (tablet: ignore[" in text


def test_the_generator_rewrites_a_stale_guide_and_checks_it(tmp_path: Path) -> None:
    copy = tmp_path / "guide.md"
    shutil.copy(GUIDE, copy)
    stale = copy.read_text(encoding="utf-8").replace("| `off_label` |", "| `offlabel` |")
    copy.write_text(stale, encoding="utf-8")
    assert guide.main(["--check", str(copy)]) == 1
    assert copy.read_text(encoding="utf-8") == stale  # --check writes nothing
    assert guide.main([str(copy)]) == 0
    assert guide.main(["--check", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == GUIDE.read_text(encoding="utf-8")


def test_a_guide_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="markers"):
        guide.updated("# A guide\n")


def test_vscode_maps_each_schema_to_its_files() -> None:
    settings = json.loads((ROOT / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    mapping = settings["yaml.schemas"]
    assert mapping == {
        "./schema/issue.schema.json": "issues/*/issue.yaml",
        "./schema/references.schema.json": "issues/*/references.yaml",
        "./schema/tablet.schema.json": "tablet.yaml",
    }
    assert all((ROOT / schema).is_file() for schema in mapping)


def test_pre_commit_hook_validates_when_an_issue_or_tablet_yaml_changes() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {k: hook[k] for k in ("id", "entry", "language", "pass_filenames")} == {
        "id": "tablet-validate",
        "entry": "tablet validate",
        "language": "python",
        "pass_filenames": False,
    }
    files = re.compile(hook["files"])
    assert files.search("issues/2025-08-methadone/background.md") and files.search("tablet.yaml")
    assert not files.search("src/tablet_press/cli.py") and not files.search("docs/issues.md")
