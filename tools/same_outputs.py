"""Do two versions of tablet-press make the same bytes? Builds every issue of issues/ and every good test
fixture with the working tree and with REV (default HEAD), each in its own process, and compares each output.

    python tools/same_outputs.py [REV]     # exit 0 when every output is byte-identical

Kept for refactorings, which must not change what a reader gets: run it before committing one. A PDF
whose bytes differ is also compared as a reader sees it (pdftotext -layout, pdftoppm pages): a change of
whitespace in the print HTML changes the PDF's identifier, which is seeded from the HTML, and nothing else.
"""

from __future__ import annotations

import email
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_FILES = ("tablet.yaml", "templates", "styles", "brand", "issues")


def project_from(tree: Path, dest: Path) -> Path:
    """A throw-away project made of `tree`'s own files, with its good fixtures added as issues."""
    dest.mkdir(parents=True)
    for name in PROJECT_FILES:
        source = tree / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("published"))
        elif source.exists():
            shutil.copy(source, dest / name)
    for fixture in sorted((tree / "tests" / "fixtures" / "good").glob("*/issue.yaml")):
        slug = f"fixture-{fixture.parent.name}"
        if not (dest / "issues" / slug).exists():
            shutil.copytree(fixture.parent, dest / "issues" / slug)
    return dest


def build(tree: Path, work: Path) -> Path:
    project = project_from(tree, work / "project")
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    subprocess.run(
        [sys.executable, "-m", "tablet_press", "build", "--out", str(work / "dist")],
        cwd=project,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return work / "dist"


def pages(pdf: Path) -> list[bytes]:
    """What a reader sees of a PDF: its text as laid out, and each page drawn at 50 dpi."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), f"{tmp}/p"], check=True)
        return [text, *(png.read_bytes() for png in sorted(Path(tmp).glob("*.png")))]


def eml_parts(eml: Path, tmp: Path) -> list[bytes]:
    """An .eml's parts as sent; its attached PDF as a reader sees it."""
    message = email.message_from_bytes(eml.read_bytes())
    out: list[bytes] = []
    for part in message.walk():
        data = part.get_payload(decode=True)
        if isinstance(data, bytes) and part.get_content_type() == "application/pdf":
            (tmp / "attached.pdf").write_bytes(data)
            out += pages(tmp / "attached.pdf")
        elif isinstance(data, bytes):
            out.append(data)
    return out


def same_to_a_reader(a: Path, b: Path) -> bool:
    if a.suffix == ".pdf":
        return pages(a) == pages(b)
    if a.suffix == ".eml":
        with tempfile.TemporaryDirectory() as tmp:
            return eml_parts(a, Path(tmp)) == eml_parts(b, Path(tmp))
    return False


def compare(a: Path, b: Path) -> list[str]:
    names = sorted(
        {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
        | {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    )
    differ = []
    for n in names:
        if (a / n).is_file() and (b / n).is_file() and filecmp.cmp(a / n, b / n, shallow=False):
            continue
        if (a / n).is_file() and (b / n).is_file() and same_to_a_reader(a / n, b / n):
            differ.append(f"{n} (bytes only: the same text and pages)")
        else:
            differ.append(str(n))
    return differ


@contextmanager
def checkout(rev: str, where: Path) -> Iterator[Path]:
    """REV checked out in a temporary git worktree at `where`, removed afterwards."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(where), rev], check=True)
    try:
        yield where
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(where)], check=True)


def main() -> int:
    rev = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    with tempfile.TemporaryDirectory() as tmp, checkout(rev, Path(tmp) / "old") as old_tree:
        old = build(old_tree, Path(tmp) / "a")
        new = build(ROOT, Path(tmp) / "b")
        differ = compare(old, new)
        count = len([p for p in new.rglob("*") if p.is_file()])
    for name in differ:
        print(f"differs: {name}")
    real = [d for d in differ if "(bytes only" not in d]
    print(
        f"{count - len(differ)} of {count} outputs byte-identical, "
        f"{len(real)} differ to a reader (against {rev})"
    )
    return 1 if real else 0


if __name__ == "__main__":
    sys.exit(main())
