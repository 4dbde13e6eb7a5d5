"""The strict YAML loader: values stay as typed, positions are right, dangerous YAML is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tablet_press.bundle.loader import load_yaml


def load(tmp_path: Path, text: str | bytes) -> tuple[object, list[str]]:
    file = tmp_path / "x.yaml"
    file.write_bytes(text.encode() if isinstance(text, str) else text)
    located, problems = load_yaml(file, "x.yaml")
    return (located.data if located else None), [p.format() for p in problems]


@pytest.mark.parametrize(
    "typed", ["NO", "off", "yes", "01234", "1:2", "1.10", "0x1F", "1e3", ".5", "2025-07-01"]
)
def test_text_values_are_never_coerced(tmp_path: Path, typed: str) -> None:
    data, problems = load(tmp_path, f"value: {typed}\n")
    assert problems == []
    assert data == {"value": typed}


def test_null_forms_become_none_but_quoted_null_is_text(tmp_path: Path) -> None:
    data, _ = load(tmp_path, "a:\nb: ~\nc: null\nd: 'null'\n")
    assert data == {"a": None, "b": None, "c": None, "d": "null"}


def test_positions_are_remembered_for_keys_and_values(tmp_path: Path) -> None:
    file = tmp_path / "x.yaml"
    file.write_text("top:\n  list:\n    - first\n    - {k: v}\n")
    located, _ = load_yaml(file, "x.yaml")
    assert located is not None
    assert located.values[("top", "list", 1, "k")].line == 4
    assert located.values[("top", "list", 1, "k")].col == 11
    assert located.keys[("top", "list")].line == 2


def test_bom_and_crlf_files_load_with_correct_lines(tmp_path: Path) -> None:
    file = tmp_path / "x.yaml"
    file.write_bytes(b"\xef\xbb\xbfa: 1\r\nb: [x\r\n")
    located, problems = load_yaml(file, "x.yaml")
    assert located is None
    assert problems[0].line == 3  # the unclosed flow sequence, counted in CRLF lines
    file.write_bytes(b"\xef\xbb\xbfa: 1\r\nb: two\r\n")
    located, problems = load_yaml(file, "x.yaml")
    assert problems == [] and located is not None
    assert located.data == {"a": "1", "b": "two"}
    assert located.values[("b",)].line == 2


def test_alias_bomb_is_refused_before_expansion(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8)
    )
    data, problems = load(tmp_path, bomb)
    assert data is None
    assert problems == ["x.yaml:1:4: error: YAML anchors (&name) are not allowed; write the value out"]


def test_merge_keys_are_just_unknown_keys(tmp_path: Path) -> None:
    data, problems = load(tmp_path, "a: {x: 1}\nb:\n  <<: {y: 2}\n")
    assert problems == []
    assert data == {"a": {"x": "1"}, "b": {"<<": {"y": "2"}}}


def test_control_characters_in_raw_text_are_refused(tmp_path: Path) -> None:
    data, problems = load(tmp_path, "title: bell\x07\n")
    assert data is None
    assert problems[0].startswith("x.yaml:1:12: error: character '\\x07' is not allowed")


def test_empty_file_is_an_empty_mapping(tmp_path: Path) -> None:
    data, problems = load(tmp_path, "# only a comment\n")
    assert data == {} and problems == []


@pytest.mark.parametrize(
    "yaml_text",
    [
        "a: >-\n  first line\n  second line [@x]\n",  # folded: one line of text
        "a: >-\n  one\n\n  two [@x]\n",  # folded: a blank line is a line break
        "a: |\n  one\n  two [@x]\n",  # literal: lines kept
        "a: plain text\n  continued [@x]\n",  # a plain scalar over two lines
        'a: "quoted [@x]"\n',
        "a:\n  - >-\n    item text that goes\n    on [@x] here\n",
    ],
)
def test_text_positions_inside_scalars(tmp_path: Path, yaml_text: str) -> None:
    """The '@' of a citation inside a YAML value is placed on the '@' in the file."""
    file = tmp_path / "x.yaml"
    file.write_text(yaml_text)
    located, _ = load_yaml(file, "x.yaml")
    assert located is not None
    path: tuple[str | int, ...] = ("a", 0) if isinstance(located.data["a"], list) else ("a",)
    value = located.data["a"][0] if len(path) == 2 else located.data["a"]
    lines = value.split("\n")
    line = next(n for n, text in enumerate(lines, 1) if "@" in text)
    mark = located.text_position(path, line, lines[line - 1].index("@") + 1)
    source = yaml_text.split("\n")
    expected_line = next(n for n, text in enumerate(source, 1) if "@" in text)
    assert (mark.line, mark.col) == (expected_line, source[expected_line - 1].index("@") + 1)
