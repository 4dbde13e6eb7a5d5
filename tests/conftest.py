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
