"""The fence around citeproc-py (refs/citeproc_fixes.py) and the caches that must not share mutable
objects: an upgrade that changes what a fix relies on fails here, naming the fix."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import version

import pytest

from tablet_press.bundle import markdown
from tablet_press.bundle.model import Reference
from tablet_press.refs import citeproc_fixes
from tablet_press.refs.engine import Citations, bibliography

from conftest import ROOT


def ref(key: str, **fields: object) -> Reference:
    record: dict[str, object] = {
        "id": key,
        "type": "article-journal",
        "title": "A pilot study",
        "author": ["Younger, J."],
        "issued": "2009",
        "container-title": "Pain Medicine",
    }
    record.update(fields)
    return Reference.model_validate(record)


def test_citeproc_internals_are_what_the_fixes_were_written_for() -> None:
    changed = citeproc_fixes.changed_internals()
    assert not changed, "citeproc-py changed under our fixes:\n" + "\n".join(changed)


def test_a_changed_internal_names_the_fix_that_relies_on_it(monkeypatch: pytest.MonkeyPatch) -> None:
    where = "citeproc.source.json:CiteProcJSON.parse_string"
    monkeypatch.setitem(citeproc_fixes.FINGERPRINTS, where, "0" * 16)
    (message,) = citeproc_fixes.changed_internals()
    assert message.startswith(
        f"citeproc-py fix 'source-text-words': {where} is not the code it was written for"
    )


def test_every_touched_function_has_a_fingerprint_and_every_fingerprint_a_fix() -> None:
    touched = {where for patch in citeproc_fixes.PATCHES for where in patch.touches}
    assert touched == set(citeproc_fixes.FINGERPRINTS)
    assert all(patch.reason for patch in citeproc_fixes.PATCHES)


def test_the_installed_citeproc_is_in_the_supported_range_pinned_in_pyproject() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [d for d in pyproject["project"]["dependencies"] if re.match(r"citeproc-py\b(?!-)", d)]
    assert pins == [f"citeproc-py{citeproc_fixes.SUPPORTED}"]
    installed = tuple(int(n) for n in version("citeproc-py").split(".")[:2])
    assert (0, 11) <= installed < (0, 12)


def test_the_fixes_are_applied_once_and_only_by_apply() -> None:
    """Importing the engine patches nothing; apply() patches once, however often it is called."""
    code = (
        "import citeproc.model as m; before = m.CitationStylesElement.xpath_search;"
        "import tablet_press.refs.engine;"
        "assert m.CitationStylesElement.xpath_search is before;"
        "from tablet_press.refs import citeproc_fixes as f;"
        "f.apply(); patched = m.CitationStylesElement.xpath_search;"
        "assert patched is not before and patched._tablet_original is before;"
        "f.apply(); assert m.CitationStylesElement.xpath_search is patched; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "ok"


def test_a_build_keeps_no_citation_engine_between_builds() -> None:
    """Without a Citations of its owner, every build makes its own Bibliography: nothing process-wide."""
    refs = [ref("a")]
    assert bibliography(refs, "apa", ["a"]) is not bibliography(refs, "apa", ["a"])
    citations = Citations()
    assert bibliography(refs, "apa", ["a"], citations) is bibliography(refs, "apa", ["a"], citations)
    assert bibliography(refs, "apa", ["a"], Citations()) is not bibliography(refs, "apa", ["a"], citations)


def test_kept_bibliographies_are_bounded() -> None:
    citations = Citations(size=2)
    first = bibliography([ref("a")], "ama", ["a"], citations)
    bibliography([ref("b")], "ama", ["b"], citations)
    bibliography([ref("c")], "ama", ["c"], citations)
    assert bibliography([ref("a")], "ama", ["a"], citations) is not first


def test_parsed_markdown_is_never_shared_between_callers() -> None:
    text = "See ![a *chart*](assets/x.png) and [a link](https://example.org) [@a].\n"
    first = markdown.parse(text)
    inline = next(t for t in first if t.type == "inline")
    assert inline.children is not None
    inline.children[0].content = "changed"
    inline.children[1].attrs["src"] = "elsewhere.png"
    inline.meta["x"] = 1
    again = next(t for t in markdown.parse(text) if t.type == "inline")
    assert again.children is not None
    assert again.children[0].content == "See "
    assert again.children[1].attrs["src"] == "assets/x.png"
    assert "x" not in again.meta
    tokens = markdown.parse_inline("*one*")
    tokens[0].children = None
    assert markdown.parse_inline("*one*")[0].children


def test_every_runtime_dependency_is_imported_by_the_package() -> None:
    """A dependency nothing imports (nh3 was one) is a cost with no use: remove it or use it."""
    import ast
    from importlib.metadata import packages_distributions

    imported: set[str] = set()
    for path in (ROOT / "src" / "tablet_press").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    # Font packages are found by name without importing them (render/fonts.py: find_spec).
    imported |= {"font_source_sans_pro", "font_source_serif_pro"}
    owners = packages_distributions()
    distributions = {dist.lower().replace("_", "-") for name in imported for dist in owners.get(name, [])}
    if "pagefind-bin" in distributions:
        distributions.add("pagefind")  # pagefind[bin] is how the binary's package is declared
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {
        re.split(r"[\[<>=!~ ]", d, maxsplit=1)[0].lower() for d in pyproject["project"]["dependencies"]
    }
    assert declared - distributions == set()
