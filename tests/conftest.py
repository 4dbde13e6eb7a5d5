"""Shared fixtures: a throw-away copy of the project, and a way to run the real CLI."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = "low-dose-naltrexone"
sys.path.insert(0, str(Path(__file__).parent))


def copy_project(dest: Path, bundles: tuple[str, ...] = (SAMPLE,)) -> Path:
    """A project folder like the repo's: tablet.yaml, brand, templates, styles and some bundles."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "tablet.yaml", dest / "tablet.yaml")
    for folder in ("brand", "templates", "styles", "schema"):
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, dest / folder)
    (dest / "issues").mkdir(exist_ok=True)
    for slug in bundles:
        shutil.copytree(ROOT / "issues" / slug, dest / "issues" / slug)
    return dest


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run `tablet ARGS...` in-process from a folder, as a user would type it."""

    def invoke(*args: str, cwd: Path) -> Result:
        from tablet_press.cli import cli

        monkeypatch.chdir(cwd)
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return invoke


# Headless Chromium as it runs here: as root, on a closed network (without the networking flags it stalls).
CHROMIUM = [
    "chromium",
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def needs_tool(name: str) -> pytest.MarkDecorator:
    """Skip locally when a Debian tool is missing; in CI (CI set) it must be there, so never skip."""
    missing = shutil.which(name) is None
    if missing and os.environ.get("CI"):
        raise RuntimeError(f"{name} is required in CI; .ci/run installs it")
    return pytest.mark.skipif(missing, reason=f"{name} is not installed (CI installs it)")


def search_in_chromium(served: str, site: Path, word: str, tmp_path: Path) -> list[str]:
    """The URLs the archive's Pagefind index gives for `word`, asked in headless Chromium through a
    probe page served with the site (as tests/test_archive.py's search test does)."""
    import re
    import subprocess

    probe = site / f"probe-{word}.html"
    probe.write_text(
        "<!DOCTYPE html><html><head><title>waiting</title></head><body><pre id=out></pre>"
        "<script type=module>\n"
        "const pagefind = await import('/pagefind/pagefind.js');\n"
        f"const found = await pagefind.search('{word}');\n"
        "const urls = await Promise.all(found.results.map(r => r.data().then(d => d.url)));\n"
        "document.getElementById('out').textContent = 'FOUND ' + urls.join(' ');\n"
        "</script></body></html>"
    )
    dom = ""
    try:
        for attempt in range(3):  # a loaded 2-core machine can outrun Chromium's time budget; try again
            dom = subprocess.run(
                [
                    *CHROMIUM,
                    f"--user-data-dir={tmp_path / f'search-{word}-{attempt}'}",
                    "--virtual-time-budget=30000",
                    "--dump-dom",
                    f"{served}/probe-{word}.html",
                ],
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
            found = re.search(r'<pre id="out">FOUND ([^<]*)</pre>', dom)
            if found:
                return found.group(1).split()
    finally:
        probe.unlink()
    raise AssertionError(dom[-2000:])
