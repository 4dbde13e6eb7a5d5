"""What makes a cold `tablet build` start faster must never change what it makes, nor fail it:
WeasyPrint's libraries opened by their sonames (with the stock search as the fallback), and the
compiled templates kept in the user's cache folder (a damaged cache is only a miss)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLE

LINUX = pytest.mark.skipif(sys.platform != "linux", reason="sonames are opened first on Linux only")


def _python(code: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# Counts the searches ctypes.util.find_library makes while WeasyPrint is imported, and names the
# libraries the process opened (from /proc/self/maps).
PROBE = """
import ctypes.util, sys
from tablet_press.render import pdf
searched = []
stock = ctypes.util.find_library
def counting(name):
    searched.append(name)
    return stock(name)
ctypes.util.find_library = counting
{change}
pdf._load_weasyprint()
ctypes.util.find_library = stock
maps = open("/proc/self/maps").read()
libs = sorted({{l.rsplit("/", 1)[-1] for l in maps.splitlines() if any(
    k in l for k in ("gobject-2", "pango-1", "pangoft2", "harfbuzz", "fontconfig"))}})
print(len(searched), *libs)
"""


@LINUX
def test_weasyprint_is_imported_without_searching_for_its_libraries() -> None:
    searches, *opened = _python(PROBE.format(change="")).split()
    assert searches == "0"
    assert any(lib.startswith("libpango-1.0.so") for lib in opened), opened


@LINUX
def test_a_soname_that_does_not_open_falls_back_to_the_stock_search() -> None:
    """As on a system whose Pango has another soname: WeasyPrint's own list of names is searched the
    stock way (find_library), and the same libraries are opened."""
    _, *expected = _python(PROBE.format(change="")).split()
    change = 'pdf._SONAMES["libpango-1.0-0"] = ("libpango-1.0.so.99", False)'
    searches, *opened = _python(PROBE.format(change=change)).split()
    assert int(searches) >= 1  # the stock way, for Pango alone
    assert opened == expected


def test_templates_are_compiled_once_and_a_damaged_cache_is_only_a_miss(tmp_path: Path) -> None:
    from tablet_press.bundle.project import load_project
    from tablet_press.render.view import TemplateCache, environment

    project = load_project(ROOT)
    cache_home = tmp_path / "cache"
    build = f"""
import sys
from pathlib import Path
from tablet_press.build import build
from tablet_press.bundle.project import load_project
project = load_project(Path({str(ROOT)!r}))
build(project, [project.issues_dir / {SAMPLE!r}], Path(sys.argv[1]))
"""

    def built(out: str) -> bytes:
        subprocess.run(
            [sys.executable, "-c", build, str(tmp_path / out)],
            env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "XDG_CACHE_HOME": str(cache_home)},
            check=True,
            capture_output=True,
            timeout=300,
        )
        folder = tmp_path / out / SAMPLE
        return b"".join((folder / f"{SAMPLE}.{kind}").read_bytes() for kind in ("pdf", "html", "txt", "eml"))

    first = built("a")
    (folder,) = (cache_home / "tablet-press").glob("templates-*")
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    entries = sorted(folder.glob("*.jinja"))
    assert entries and all(oct(e.stat().st_mode & 0o777) == "0o600" for e in entries)
    assert built("b") == first  # from the cache
    for entry in entries:  # damaged: truncated, or garbage
        entry.write_bytes(entry.read_bytes()[: len(entry.read_bytes()) // 2])
    entries[0].write_bytes(b"\x00garbage")
    assert built("c") == first
    environment.cache_clear()
    os.environ["XDG_CACHE_HOME"] = str(cache_home)
    try:
        env = environment((project.root / "templates",))
        assert isinstance(env.bytecode_cache, TemplateCache)
        folder.chmod(0o755)  # someone opened it up: closed again, or not used
        assert TemplateCache.for_environment(env) is not None
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
    finally:
        del os.environ["XDG_CACHE_HOME"]
        environment.cache_clear()


def test_no_usable_cache_folder_means_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tablet_press.render.view import TemplateCache, environment

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # tablet-press/ cannot be made under a file
    environment.cache_clear()
    try:
        env = environment((ROOT / "templates",))
        assert env.bytecode_cache is None
        assert env.get_template("print.html.j2") is not None  # compiled as without a cache
        assert TemplateCache.for_environment(env) is None
    finally:
        environment.cache_clear()
