"""Property-based tests: whatever an author types, tablet never crashes or prints a traceback, and every
word of the prose reaches the outputs, or the build fails with a clear file:line error."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tablet_press.bundle import loader, markdown
from tablet_press.bundle.loader import load_yaml

# Text a pharmacist could type: letters, digits, punctuation, markdown syntax, unusual Unicode.
typed = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=300
)
words = st.lists(st.from_regex(r"[A-Za-z][a-z]{2,9}[0-9]?", fullmatch=True), min_size=1, max_size=12)
MARKUP = ["", "*", "**", "`", "_"]


@settings(max_examples=300, deadline=None)
@given(typed)
def test_yaml_loader_never_raises(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    folder = tmp_path_factory.mktemp("yaml")
    file = folder / "x.yaml"
    file.write_text(text, encoding="utf-8")
    located, problems = load_yaml(file, "x.yaml")
    assert located is not None or problems
    for problem in problems:
        assert problem.line >= 1 and problem.col >= 1


# YAML's structural characters, pieced together: the two parsers must agree on whatever both accept.
yamlish = st.lists(
    st.sampled_from(
        [
            *("a", "µ", ":", ": ", "- ", "-", "\n", "  ", " ", "\t", "#", "'", '"', "|", ">", "[", "]"),
            *("{", "}", ",", "!", "&", "*", "%", "\\", "...", "\n  ", "x: ", "\n- ", "'a'", "|\n  t", "1:2"),
            ">-\n  t",
        ]
    ),
    max_size=14,
).map("".join)


def _tree(parser: type, text: str) -> object:
    def walk(node: object) -> object:
        if node is None:  # an empty document
            return None
        if isinstance(node, yaml.ScalarNode) and not node.value and not node.style:
            return None  # an empty value: libyaml may place it a line later after `---` or `?`
        if isinstance(node, yaml.ScalarNode):
            return node.value, node.style or None, node.start_mark.line, node.start_mark.column
        assert isinstance(node, yaml.CollectionNode)
        pairs = isinstance(node, yaml.MappingNode)
        items = [x for pair in node.value for x in pair] if pairs else node.value
        return type(node).__name__, node.start_mark.line, node.start_mark.column, [walk(x) for x in items]

    reader = parser(text)
    try:
        return walk(reader.get_single_node())
    finally:
        reader.dispose()


@pytest.mark.skipif(not loader.HAVE_LIBYAML, reason="PyYAML was built without libyaml")
@settings(max_examples=1500, deadline=None)
@given(yamlish)
def test_libyaml_reads_every_document_as_the_python_parser_does(text: str) -> None:
    """The loader's fast path (libyaml) must give the tree, values and positions the pure-Python parser
    gives, which every error report uses. Known and accepted: an empty value after `---` or `?` may
    be placed a line apart; libyaml also accepts tabs between tokens
    and a comment right after a block scalar's indicator, which the pure-Python parser refuses."""
    try:
        fast = _tree(loader._FastLoader, text)
    except (yaml.YAMLError, loader._Refused):
        return  # the loader then reads it again with the pure-Python parser
    try:
        slow = _tree(loader._Loader, text)
    except yaml.YAMLError:
        assert "\t" in text or "|#" in text or ">#" in text
        return
    assert fast == slow


@settings(max_examples=300, deadline=None)
@given(typed)
def test_markdown_scan_and_render_never_raise(text: str) -> None:
    markdown.scan(text)
    html = markdown.renderer(lambda keys: "[cite]", {"pearl": "CLINICAL PEARL"}).render(text)
    assert "<script" not in html.lower()
    markdown.text_renderer(lambda keys: "[cite]", {"pearl": "CLINICAL PEARL"}).render(text)


@st.composite
def prose(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Paragraphs, bullets and emphasis made of generated words; returns (markdown, the words)."""
    blocks, all_words = [], []
    for _ in range(draw(st.integers(1, 4))):
        chunk = draw(words)
        all_words += chunk
        mark = draw(st.sampled_from(MARKUP))
        kind = draw(st.sampled_from(["para", "bullets", "quote", "callout"]))
        text = " ".join(chunk)
        if mark and len(chunk) > 1:
            text = f"{mark}{chunk[0]}{mark} " + " ".join(chunk[1:])
        if kind == "bullets":
            text = "\n".join(f"- {w}" for w in chunk)
        elif kind == "quote":
            text = "> " + text
        elif kind == "callout":
            text = f"::: pearl\n{text}\n:::"
        blocks.append(text)
    return "\n\n".join(blocks) + "\n", all_words


@settings(max_examples=100, deadline=None)
@given(prose())
def test_every_word_of_generated_prose_reaches_the_text_rendering(case: tuple[str, list[str]]) -> None:
    text, expected = case
    assert not markdown.scan(text).raw_html
    plain = markdown.text_renderer(lambda keys: "", {"pearl": "CLINICAL PEARL"}).render(text)
    html = markdown.renderer(lambda keys: "", {"pearl": "CLINICAL PEARL"}).render(text)
    for word in expected:
        assert word in plain
        assert word in re.sub(r"<[^>]+>", " ", html)


@settings(max_examples=6, deadline=None)
@given(
    prose(), st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cf")), min_size=1, max_size=80)
)
def test_generated_bundles_build_with_every_word_or_fail_clearly(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, list[str]], title: str
) -> None:
    from click.testing import CliRunner

    from tablet_press.cli import cli

    from conftest import FIXTURES, copy_project

    text, expected = case
    project = copy_project(tmp_path_factory.mktemp("prop") / "p", bundles=())
    bundle = project / "issues" / "generated"
    shutil.copytree(FIXTURES / "good" / "minimal", bundle)
    (bundle / "background.md").write_text(text, encoding="utf-8")
    issue = (bundle / "issue.yaml").read_text()
    quoted = '"' + title.replace("\\", "\\\\").replace('"', '\\"') + '"'
    (bundle / "issue.yaml").write_text(issue.replace("title: A minimal issue", f"title: {quoted}"))

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        result = CliRunner().invoke(cli, ["build"], catch_exceptions=False)
    assert "Traceback" not in result.output and "internal error" not in result.output
    if result.exit_code != 0:
        assert result.exit_code == 1
        assert re.search(r"^issues/generated/\S+:\d+:\d+: error: ", result.stdout, re.M), result.output
        return
    out = project / "dist" / "generated"
    outputs = {}
    if shutil.which("pdftotext"):
        pdf = subprocess.run(
            ["pdftotext", "-raw", str(out / "generated.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        outputs["pdf"] = re.sub(r"-\n", "-", pdf)
    for suffix in ("txt", "html"):
        if (out / f"generated.{suffix}").exists():
            outputs[suffix] = (out / f"generated.{suffix}").read_text(encoding="utf-8")
    for kind, content in outputs.items():
        flat = " ".join(content.split())
        for word in expected:
            assert word in flat, f"{word!r} missing from the {kind}"


@settings(max_examples=100, deadline=None)
@given(typed)
def test_markdown_parsed_once_renders_the_same_every_time(text: str) -> None:
    """Tokens are parsed once and shared; rendering must not change them."""
    html = markdown.renderer(lambda keys: ";".join(keys), {})
    plain = markdown.text_renderer(lambda keys: ";".join(keys), {})
    first = (html.render(text), plain.render(text), html.render(text, inline=True))
    assert (html.render(text), plain.render(text), html.render(text, inline=True)) == first
