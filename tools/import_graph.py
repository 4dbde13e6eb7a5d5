"""The package's import graph, read from the source (ast), drawn into docs/import-graph.md as a mermaid
diagram of its layers, and checked: no module imports a higher layer, no cycle, and every import kept
inside a function (lazy, for start-up time) says why in a comment: on its line, the line above, or once
for the whole module in a line starting `# Lazy imports:`.

    python tools/import_graph.py           # rewrite docs/import-graph.md
    python tools/import_graph.py --check   # exit 1 and say what is wrong (tests/test_architecture.py)
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "tablet_press"
DOC = ROOT / "docs" / "import-graph.md"

# Lower layers never import higher ones; a layer may import its own layer and any below it.
LAYERS: dict[str, int] = {
    "errors": 0,
    "inputrules": 0,
    "bundle": 1,
    "checks": 2,
    "refs": 2,
    "render": 3,
    "build": 4,
    "site": 5,
    "preview": 5,
    "guide": 5,
    "importer": 5,
    "mail": 5,
    "cli": 6,
    "__main__": 7,
    "__init__": 0,
}


@dataclass(frozen=True)
class Import:
    source: str  # "render.email"
    target: str  # "checks.email_rules"
    line: int
    lazy: bool  # inside a function
    commented: bool  # a comment on its line or the line above says why


def modules() -> dict[str, Path]:
    found = {}
    for file in sorted(PACKAGE.rglob("*.py")):
        parts = file.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)
        if name.split(".")[0] not in LAYERS:
            raise SystemExit(
                f"{file.relative_to(ROOT)}: not in a layer; add it to LAYERS in tools/import_graph.py"
            )
        found[name] = file
    return found


def _type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(name: str, file: Path, known: set[str]) -> list[Import]:
    lines = file.read_text(encoding="utf-8").splitlines()
    out: list[Import] = []
    module_wide = any(line.startswith("# Lazy imports:") for line in lines)  # one reason for the module

    def target(module: str) -> str | None:
        module = module.removeprefix("tablet_press").lstrip(".")
        while module and module not in known:
            module = module.rpartition(".")[0]
        return module or None

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                continue  # for the type checker only: never runs
            inner = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            names: list[str] = []
            if isinstance(child, ast.ImportFrom) and (child.module or "").startswith("tablet_press"):
                base = child.module or ""
                names = [
                    f"{base}.{a.name}" if f"{base}.{a.name}".removeprefix("tablet_press.") in known else base
                    for a in child.names
                ]
            elif isinstance(child, ast.Import):
                names = [a.name for a in child.names if a.name.startswith("tablet_press")]
            for imported in names:
                module = target(imported)
                if module and module != name:
                    row = child.lineno - 1
                    said = module_wide or "#" in lines[row] or lines[row - 1].strip().startswith("#")
                    out.append(Import(name, module, child.lineno, lazy, said))
            visit(child, inner)

    visit(ast.parse("\n".join(lines)), False)
    return out


def layer(module: str) -> int:
    return LAYERS[module.split(".")[0]]


def problems(found: list[Import]) -> list[str]:
    out = []
    for i in found:
        where = f"src/tablet_press/{i.source.replace('.', '/')}.py:{i.line}"
        if layer(i.target) > layer(i.source):
            out.append(
                f"{where}: {i.source} (layer {layer(i.source)}) imports {i.target} (layer {layer(i.target)})"
            )
        if i.lazy and not i.commented:
            out.append(f"{where}: an import inside a function needs a comment saying why it is lazy")
    graph: dict[str, set[str]] = {}
    for i in found:
        graph.setdefault(i.source, set()).add(i.target)
    out += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append([*sorted(group), sorted(group)[0]])

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return groups


def diagram(found: list[Import]) -> str:
    """Mermaid flowchart of the subpackages (and top-level modules), lower layers at the bottom."""
    edges = sorted({(i.source.split(".")[0], i.target.split(".")[0]) for i in found} - {("", "")})
    edges = [(a, b) for a, b in edges if a != b and a not in ("__main__", "__init__")]
    rows = ["flowchart BT"]
    for name in sorted({n for e in edges for n in e}, key=lambda n: (LAYERS[n], n)):
        rows.append(f'  {name}["{name} · layer {LAYERS[name]}"]')
    rows += [f"  {a} --> {b}" for a, b in edges]
    return "\n".join(rows)


def dot_source(found: list[Import]) -> str:
    """The same graph for Graphviz, layers as ranks from the bottom up."""
    edges = sorted({(i.source.split(".")[0], i.target.split(".")[0]) for i in found})
    edges = [(a, b) for a, b in edges if a != b and a not in ("__main__", "__init__")]
    names = sorted({n for e in edges for n in e}, key=lambda n: (LAYERS[n], n))
    rows = ["digraph imports {", "  rankdir=BT; node [shape=box, fontname=Helvetica];"]
    for layer in sorted({LAYERS[n] for n in names}):
        same = " ".join(f'"{n}"' for n in names if LAYERS[n] == layer)
        rows.append(f"  {{ rank=same; {same} }}")
    rows += [f'  "{a}" -> "{b}";' for a, b in edges]
    return "\n".join([*rows, "}"]) + "\n"


def document(found: list[Import]) -> str:
    return (
        "# Import graph\n\n"
        "Generated by `python tools/import_graph.py` from the source; `tests/test_architecture.py` fails\n"
        "while it is stale, when a module imports a higher layer, or on any import cycle. An arrow reads\n"
        '"imports"; lower layers sit below and never import upwards. See architecture.md for each\n'
        "subpackage's job. The same graph drawn by Graphviz: [import-graph.svg](import-graph.svg).\n\n"
        f"```mermaid\n{diagram(found)}\n```\n"
    )


def main() -> int:
    known = modules()
    found = [i for name, file in known.items() for i in imports(name, file, set(known))]
    wrong = problems(found)
    text = document(found)
    if "--check" in sys.argv:
        if DOC.read_text(encoding="utf-8") != text if DOC.exists() else True:
            wrong.append("docs/import-graph.md is stale: run python tools/import_graph.py")
        print("\n".join(wrong) or "import graph: layered, no cycle, current")
        return 1 if wrong else 0
    DOC.write_text(text, encoding="utf-8")
    if shutil.which("dot"):  # the picture, where Graphviz is installed (apt-get install graphviz)
        svg = subprocess.run(
            ["dot", "-Tsvg"], input=dot_source(found), capture_output=True, text=True, check=True
        )
        (DOC.parent / "import-graph.svg").write_text(svg.stdout, encoding="utf-8")
    print("\n".join(wrong) or f"wrote {DOC.relative_to(ROOT)}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
