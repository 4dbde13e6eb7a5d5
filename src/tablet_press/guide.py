"""The generated parts of docs/guide.md: the field reference (from the JSON Schema of each file, which
comes from model.py) and the house-style checks (from lint.RULES), between marker comments.

`python -m tablet_press.guide` rewrites them in place; `--check` only says whether they are current.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from tablet_press.bundle.outline import OUTLINE
from tablet_press.bundle.project import find_root
from tablet_press.bundle.schema import json_schema
from tablet_press.checks.doses import ISMP
from tablet_press.checks.rules import RULES

GUIDE = Path("docs") / "guide.md"  # in the project (this repository is one)
FILES = (
    ("issue.yaml", "issue", "one per issue: its structured parts"),
    ("references.yaml", "references", "one per issue: a list of references, each with these fields"),
    ("tablet.yaml", "tablet", "one for the newsletter, shared by every issue"),
)
# What the patterns of model.py mean, in words; an unknown pattern is shown as written.
PATTERNS = {
    "^[A-Za-z0-9][A-Za-z0-9_.:-]*$": "a short name (letters, digits, - _ . :)",
    "^#[0-9A-Fa-f]{6}$": "a colour, #RRGGBB",
    "^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}$": "an email address",
    "^\\+?[0-9][0-9 ().-]{5,}[0-9]$": "a phone number",
    "^https://[^\\s/$.?#][^\\s]*$": "a web address starting https://",
    "^[a-z]{2}(-[A-Z]{2})?$": "a language tag, e.g. en-US",
    "^[A-Za-z0-9_./-]+\\.(svg|png)$": "a file name ending .svg or .png",
    "^[A-Za-z][A-Za-z0-9]*$": "an abbreviation, e.g. FDA",
    "^[A-Za-z]?\\d+[A-Za-z]?([-–][A-Za-z]?\\d+[A-Za-z]?)?$": "a page or page range, e.g. 663-672",
}


def _words(node: dict[str, Any]) -> str:
    """A JSON Schema node as a pharmacist would say it: 'a list of texts', 'true or false'."""
    if "anyOf" in node:
        return " or ".join(_words(n) for n in node["anyOf"] if n.get("type") != "null")
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        return f"fields of [{_title(name)}](#{_anchor(name)})"
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    kind = node.get("type")
    if kind == "array":
        return f"a list of: {_words(node['items'])}"
    if kind == "object":
        keys, values = next(iter(node.get("patternProperties", {".": {}}).items()))
        return f"`name: value` lines; name: {PATTERNS.get(keys, 'text')}; value: {_words(values)}"
    if kind == "integer":
        return "a whole number"
    if kind == "boolean":
        return "true or false"
    if node.get("format") == "date":
        return "a date, YYYY-MM-DD"
    if "pattern" in node:
        return PATTERNS.get(node["pattern"], f"text matching `{node['pattern']}`")
    return "text"


def _title(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).capitalize()


def _anchor(name: str) -> str:
    return _title(name).lower().replace(" ", "-")


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _table(schema: dict[str, Any]) -> list[str]:
    rows = ["| field | required | what to write | what it is |", "|---|---|---|---|"]
    required = set(schema.get("required", []))
    for name, node in schema.get("properties", {}).items():
        default = node.get("default")
        need = "yes" if name in required else (f"no (default `{json.dumps(default)}`)" if default else "no")
        rows.append(f"| `{name}` | {need} | {_cell(_words(node))} | {_cell(node.get('description', ''))} |")
    return rows


def field_reference() -> str:
    """Every field of every file, one table per part, from the JSON Schemas that `tablet schema` prints."""
    schemas = {kind: json.loads(json_schema(kind)) for _, kind, _ in FILES}
    used: dict[str, list[str]] = {}  # part -> the files it is used in, in order
    for file, kind, _ in FILES:
        for name in schemas[kind].get("$defs", {}):
            used.setdefault(name, []).append(file)
    out: list[str] = []
    for file, kind, what in FILES:
        schema = schemas[kind]
        top = schema["$defs"]["Reference"] if kind == "references" else schema
        out += [f"### {file}", "", f"{file}: {what}.", "", *_table(top), ""]
        for name, part in schema.get("$defs", {}).items():
            if part is top or used[name][0] != file:
                continue
            about = f"{part['description']} " if "description" in part else ""
            out += [f'#### {_title(name)} <a id="{_anchor(name)}"></a>', ""]
            out += [f"{about}Used in {' and '.join(used[name])}.", "", *_table(part), ""]
    return "\n".join(out).rstrip() + "\n"


def checks_reference() -> str:
    """The house-style checks (name, what each looks for, an example and its fix), then ISMP's list."""
    rows = ["| check | what it looks for | instead of | write |", "|---|---|---|---|"]
    for name, rule in RULES.items():
        rows.append(f"| `{name}` | {_cell(rule.summary)} | `{rule.bad}` | `{rule.good}` |")
    rows += ["", "The error-prone abbreviations of ISMP that `ismp-abbreviation` finds:", ""]
    rows += ["| abbreviation | why it is unsafe | write instead |", "|---|---|---|"]
    rows += [f"| {_cell(shown)} | {_cell(why)} | {_cell(fix)} |" for shown, _, why, fix in ISMP]
    return "\n".join(rows) + "\n"


def parts_reference() -> str:
    """The parts of an issue in print order, with where each part's text comes from (bundle/outline.py)."""
    rows = ["| part | printed under | written in |", "|---|---|---|"]
    for number, part in enumerate(OUTLINE, start=1):
        where = [f"`{s.name}`" if "." in s.name else f"`{s.name}:` in `issue.yaml`" for s in part.sources]
        rows.append(f"| {number} | {part.heading or '(no heading)'} | {', then '.join(where)} |")
    return "\n".join(rows) + "\n"


def updated(text: str) -> str:
    """The guide with its generated blocks rewritten (the text between each pair of markers)."""
    blocks = (("parts", parts_reference()), ("fields", field_reference()), ("checks", checks_reference()))
    for block, content in blocks:
        begin, end = f"<!-- {block}:begin", f"<!-- {block}:end -->"
        match = re.search(rf"({re.escape(begin)}[^\n]*-->\n).*?(?={re.escape(end)})", text, re.S)
        if match is None:
            raise ValueError(f"docs/guide.md has no '{begin} ... -->' ... '{end}' markers")
        text = text[: match.start()] + match.group(1) + "\n" + content + "\n" + text[match.end() :]
    return text


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [a for a in argv if a != "--check"]
    root = find_root(Path.cwd())
    if not paths and root is None:
        print("no tablet.yaml here or above: name the guide, e.g. python -m tablet_press.guide docs/guide.md")
        return 2
    path = Path(paths[0]) if paths else (root or Path.cwd()) / GUIDE
    text = path.read_text(encoding="utf-8")
    new = updated(text)
    if check:
        print(f"{path} is {'current' if new == text else 'stale: run python -m tablet_press.guide'}")
        return int(new != text)
    path.write_text(new, encoding="utf-8")
    print(f"{'rewrote' if new != text else 'already current:'} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
