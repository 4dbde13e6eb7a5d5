"""Loaded YAML -> model objects; schema errors -> Problems a pharmacist can act on; JSON Schema."""

from __future__ import annotations

import json
import re
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from tablet_press.bundle.loader import Located, Path_
from tablet_press.bundle.model import Config, Issue, References
from tablet_press.errors import Problem, did_you_mean

M = TypeVar("M", bound=BaseModel)

SCHEMAS: dict[str, type[BaseModel]] = {"issue": Issue, "tablet": Config, "references": References}


def parse(model: type[M], located: Located, *, wrap: str | None = None) -> tuple[M | None, list[Problem]]:
    """Validate `located.data` against `model`; every problem at once, each at its file:line:col.

    `wrap` names the single field a bare top-level list belongs to (references.yaml is a list).
    """
    data = {wrap: located.data} if wrap else located.data
    if not isinstance(data, dict):
        return None, [located.problem((), "expected a mapping of fields at the top of the file")]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            if wrap:
                loc = loc[1:]
            problems.append(_problem(model, located, loc, error, wrap))
        return None, problems


def parse_partial(model: type[M], located: Located) -> M | None:
    """What of `located.data` is valid, field by top-level field, as a model built without validation.

    Used only after `parse` failed: a schema error in one part of issue.yaml must not hide the
    cross-checks (citations, topics, doses) of the parts that are fine. Each top-level field is validated
    on its own (the models have no validator spanning fields); one that fails takes its default, or
    stays unset when it has none, so a check that reads it must be one that `parse` would also have
    reached. The grain is the top-level field, not the list item: dropping one bad study from a list
    would shift the indices every later problem uses to find its line. None when the top is no mapping.
    """
    data = located.data
    if not isinstance(data, dict):
        return None
    good: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in data:
            continue
        kind = typing.Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        adapter: TypeAdapter[Any] = TypeAdapter(kind)
        try:
            good[name] = adapter.validate_python(data[key])
        except ValidationError:
            continue
    return model.model_construct(**good)


def _problem(model: type[BaseModel], located: Located, loc: Path_, error: Any, wrap: str | None) -> Problem:
    kind = error["type"]
    ctx = error.get("ctx", {})
    value = error.get("input")
    # Pydantic puts validator-level problems of a model on the model itself.
    field = str(loc[-1]) if loc else "the file"
    if kind == "missing":
        return located.problem(loc[:-1], f"missing required field '{field}'", key=True, field=loc)
    if kind == "extra_forbidden":
        hint = did_you_mean(field, _allowed_keys(model, ((wrap,) if wrap else ()) + loc[:-1]))
        return located.problem(loc, f"unknown field '{field}'", key=True, hint=hint)
    if kind in ("literal_error", "enum"):
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = did_you_mean(str(value), choices)
        return located.problem(loc, f"'{value}' is not one of: {', '.join(choices)}", hint=hint)
    if kind == "string_pattern_mismatch":
        return located.problem(
            loc, f"'{value}' is not a valid {_describe(field)}", hint=_PATTERN_HINTS.get(field, "")
        )
    if kind in ("string_type", "list_type", "dict_type", "model_type", "model_attributes_type"):
        wanted = {
            "string_type": "text",
            "list_type": "a list ('- item' lines)",
            "dict_type": "a mapping ('key: value' lines)",
        }.get(kind, "a mapping ('key: value' lines)")
        hint = "put text in quotes" if kind == "string_type" else ""
        return located.problem(loc, f"expected {wanted}, got {_kind_of(value)}", hint=hint)
    if kind == "too_short":
        return located.problem(loc, f"'{field}' must have at least {ctx.get('min_length', 1)} item(s)")
    if kind in ("greater_than_equal", "less_than_equal"):
        return located.problem(loc, f"'{value}' is out of range ({error['msg'].lower()})")
    if kind == "value_error":
        return located.problem(loc, str(ctx.get("error", error["msg"])))
    return located.problem(loc, f"{field}: {error['msg']}")


_PATTERN_HINTS = {
    "email": "write it as name@example.org",
    "cell": "digits, spaces, dashes and brackets, e.g. 412-555-0100",
    "office": "digits, spaces, dashes and brackets, e.g. 412-555-0100",
    "page": "a page range such as 663-672; put e-locators like e1080 in article-number",
    "base_url": "it must start with https://",
    "URL": "it must start with https://",
}


def _describe(field: str) -> str:
    return {
        "cell": "phone number",
        "office": "phone number",
        "email": "email address",
        "base_url": "https address",
        "URL": "https address",
    }.get(field, f"value for '{field}'")


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"'{value}'"


def _allowed_keys(model: type[BaseModel], loc: Path_) -> list[str]:
    """The field names allowed at `loc` inside `model` (aliases as written in YAML)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            current = _unwrap(typing.get_args(current)[-1]) if typing.get_args(current) else current
            continue
        info = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if info is None:
            return []
        current = info.annotation
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    """list[X] / dict[K, X] / X | None / Annotated[X, ...] -> X."""
    while True:
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin in (list, dict, typing.Annotated) or origin is types.UnionType or origin is typing.Union:
            annotation = args[0] if origin is typing.Annotated else args[-1]
            continue
        return annotation


def json_schema(name: str) -> str:
    """The JSON Schema of one file kind (issue, tablet, references), for editors and CI."""
    model = SCHEMAS[name]
    schema = model.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = {"issue": "issue.yaml", "tablet": "tablet.yaml", "references": "references.yaml"}[name]
    if name == "references":
        # references.yaml is a bare list of references.
        schema = {
            "$schema": schema.pop("$schema"),
            "title": schema["title"],
            "$defs": schema.get("$defs", {}),
            "type": "array",
            "items": {"$ref": "#/$defs/Reference"},
        }
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
