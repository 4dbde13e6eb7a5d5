"""Shared fixtures: a throw-away copy of the project, and a way to run the real CLI."""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from functools import partial
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


PROBE = "/__probe__.html"


class _ProbeServer(http.server.SimpleHTTPRequestHandler):
    """Serves a folder, plus the probe page from memory; the page POSTs what it found to /__report__."""

    probe = ""
    reports: list[str]
    done: threading.Event

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path != PROBE:
            return super().do_GET()
        body = self.probe.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.reports.append(self.rfile.read(length).decode())
        self.send_response(204)
        self.end_headers()
        self.done.set()


def chromium_probe(folder: Path, script: str, timeout: float = 90) -> str:
    """Serve `folder` over HTTP, open a page running `script` (a module that calls `report(text)`) in
    headless Chromium, and return the text it reports. Chromium runs until the report arrives or
    `timeout` real seconds pass, so a loaded machine makes it slower, never wrong (unlike
    --virtual-time-budget, which a busy machine can run out)."""
    done = threading.Event()
    reports: list[str] = []
    page = (
        "<!DOCTYPE html><html lang=en><head><title>probe</title></head><body><script type=module>\n"
        "const report = text => fetch('/__report__', {method: 'POST', body: String(text)});\n"
        "try {\n" + script + "\n} catch (error) { report('ERROR ' + error); }\n</script></body></html>"
    )
    handler = type("Probe", (_ProbeServer,), {"probe": page, "reports": reports, "done": done})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}{PROBE}"
    try:
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
            browser = subprocess.Popen(
                [*CHROMIUM, f"--user-data-dir={profile}", url],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: the renderers go with it
            )
            try:
                reported = done.wait(timeout)
            finally:
                os.killpg(browser.pid, signal.SIGKILL)
                browser.wait()
    finally:
        server.shutdown()
        server.server_close()
    assert reported, f"Chromium reported nothing within {timeout} s from {url}"
    assert not reports[0].startswith("ERROR "), reports[0]
    return reports[0]


def search_in_chromium(site: Path, word: str) -> list[str]:
    """The URLs the archive's search gives for `word`, asked in headless Chromium of every year's
    Pagefind index merged into one, as the site's search box does."""
    years = sorted(folder.name for folder in (site / "pagefind").iterdir() if folder.is_dir())
    script = (
        f"const pagefind = await import('/pagefind/{years[0]}/pagefind.js');\n"
        + "".join(f"await pagefind.mergeIndex('/pagefind/{year}/');\n" for year in years[1:])
        + f"const found = await pagefind.search({word!r});\n"
        "report((await Promise.all(found.results.map(r => r.data().then(d => d.url)))).join(' '));"
    )
    return chromium_probe(site, script).split()
