"""`tablet schema` is generated from the model, validates the sample, and schema/ is up to date."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import Result

from conftest import ROOT, SAMPLE


class _JsonLikeLoader(yaml.SafeLoader):
    """YAML as a JSON-Schema-aware editor sees it: numbers are numbers, dates stay strings."""


_JsonLikeLoader.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@pytest.mark.parametrize(
    "kind, file",
    [
        ("issue", f"issues/{SAMPLE}/issue.yaml"),
        ("references", f"issues/{SAMPLE}/references.yaml"),
        ("tablet", "tablet.yaml"),
    ],
)
def test_schema_validates_the_sample(kind: str, file: str, run: Callable[..., Result]) -> None:
    result = run("schema", kind, cwd=ROOT)
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    instance = yaml.load((ROOT / file).read_text(encoding="utf-8"), Loader=_JsonLikeLoader)
    jsonschema.validate(instance, schema, cls=jsonschema.Draft202012Validator)


def test_schema_rejects_an_unknown_key(run: Callable[..., Result]) -> None:
    schema = json.loads(run("schema", "issue", cwd=ROOT).stdout)
    instance = yaml.load((ROOT / "issues" / SAMPLE / "issue.yaml").read_text(), Loader=_JsonLikeLoader)
    instance["titel"] = instance.pop("title")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(instance, schema)


@pytest.mark.parametrize("kind", ["issue", "tablet", "references"])
def test_committed_schema_files_are_current(kind: str, run: Callable[..., Result]) -> None:
    committed = (ROOT / "schema" / f"{kind}.schema.json").read_text(encoding="utf-8")
    assert committed == run("schema", kind, cwd=ROOT).stdout, (
        "run: tablet schema KIND > schema/KIND.schema.json"
    )


def test_yaml_files_point_editors_at_the_schema() -> None:
    for file, schema in [
        (ROOT / "tablet.yaml", "schema/tablet.schema.json"),
        (ROOT / "issues" / SAMPLE / "issue.yaml", "../../schema/issue.schema.json"),
    ]:
        first = file.read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema={schema}"
        assert (file.parent / schema).resolve().is_file()


def test_editor_settings_map_schemas(tmp_path: Path) -> None:
    settings = json.loads((ROOT / ".vscode" / "settings.json").read_text())
    assert "schema/issue.schema.json" in json.dumps(settings["yaml.schemas"])
