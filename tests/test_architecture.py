"""The layers of the package (docs/architecture.md): no module imports a higher layer, no import cycle,
every import kept inside a function says why, and docs/import-graph.md is the graph of the code as it is."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_the_import_graph_is_layered_acyclic_and_documented() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "import_graph.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "import graph: layered, no cycle, current\n"


def test_an_upward_import_is_caught() -> None:
    """The check itself can fail: a lower layer importing a higher one is reported with its place."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import import_graph
    finally:
        sys.path.remove(str(ROOT / "tools"))
    upward = import_graph.Import("bundle.folder", "render.view", 7, lazy=False, commented=False)
    lazy = import_graph.Import("build", "render.pdf", 9, lazy=True, commented=False)
    cycle = [
        import_graph.Import("checks.lint", "checks.rules", 1, False, False),
        import_graph.Import("checks.rules", "checks.lint", 2, False, False),
    ]
    assert import_graph.problems([upward, lazy, *cycle]) == [
        "src/tablet_press/bundle/folder.py:7: bundle.folder (layer 1) imports render.view (layer 3)",
        "src/tablet_press/build.py:9: an import inside a function needs a comment saying why it is lazy",
        "import cycle: checks.lint -> checks.rules -> checks.lint",
    ]
