"""The accessibility gate: axe-core in Chromium on the archive's pages (index, a topic page, both sample
issues, a back-catalog issue's page) at 1280 and 375 px and on the email, with zero serious or critical
violations; and the reading design of the issue page measured in the browser (measure, one main, reading
order on a phone).

axe-core is vendored in tests/vendor/axe-core/ (its licence beside it; tests/vendor/README.md says how to
update it), so the gate runs offline and the same on every machine.
"""

from __future__ import annotations

import html
import http.server
import json
import re
import shutil
import subprocess
import tempfile
import threading
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tablet_press.bundle.project import load_project
from tablet_press.site.archive import archive

from conftest import CHROMIUM, SAMPLE, copy_project, needs_tool

BACK_CATALOG = "2019-03-opioid-rotation"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
OLANZAPINE = "2025-08-olanzapine"
WIDTHS = (1280, 375)
# axe rates these "moderate", but the issue asks for them outright: one main, unique landmarks.
ALWAYS = {
    "landmark-one-main",
    "landmark-no-duplicate-main",
    "landmark-unique",
    "landmark-no-duplicate-banner",
    "landmark-no-duplicate-contentinfo",
    "landmark-main-is-top-level",
    "page-has-heading-one",
    "heading-order",
}
MAX_MEASURE = 80  # characters in a line of prose: "about 75", a proportional font's lines vary

# Each page is loaded in a frame of the width under test (headless Chromium lays out no window narrower
# than 500px); axe is injected into the frame, run, and its findings written into this page's DOM,
# which --dump-dom prints. The same pass measures the issue page's prose lines and the layout's order.
RUNNER = """<!DOCTYPE html><html lang="en"><head><title>axe</title></head><body>
<pre id="out"></pre>
<script>
const targets = %(targets)s;
const axeSource = fetch("/_axe/axe.min.js").then(r => r.text());

function load(frame, url) {
  return new Promise(resolve => { frame.onload = () => resolve(); frame.src = url; });
}

// The longest line of prose, in characters, over the paragraphs and list items of the article.
function measure(doc) {
  let longest = 0, where = "";
  for (const block of doc.querySelectorAll(".issue main p, .issue main li")) {
    if (block.closest("table, .references, figure")) continue;
    const lines = new Map();
    const walker = doc.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    const range = doc.createRange();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.length; i++) {
        range.setStart(node, i); range.setEnd(node, i + 1);
        const box = range.getBoundingClientRect();
        if (box.height === 0) continue;
        const top = Math.round(box.bottom);
        lines.set(top, (lines.get(top) || 0) + 1);
      }
    }
    for (const count of lines.values()) {
      if (count > longest) { longest = count; where = block.textContent.slice(0, 60); }
    }
  }
  return {longest, where};
}

function layout(doc) {
  const box = s => { const e = doc.querySelector(s); return e ? e.getBoundingClientRect() : null; };
  const main = box(".issue main"), team = box(".issue .sidebar");
  const name = box(".site-name"), lines = box(".issue .issue-line");
  return {
    mains: doc.querySelectorAll("main").length,
    team_after_article: main && team ? team.top >= main.bottom : null,
    overflow: doc.documentElement.scrollWidth > doc.documentElement.clientWidth,
  };
}

(async () => {
  const results = [];
  const source = await axeSource;
  for (const [url, width] of targets) {
    const frame = document.createElement("iframe");
    frame.style.cssText = "border:0;display:block;height:900px;width:" + width + "px";
    document.body.appendChild(frame);
    await load(frame, url);
    await new Promise(r => setTimeout(r, 300));  // Pagefind's search box is made after load
    const win = frame.contentWindow, doc = frame.contentDocument;
    win.eval(source);
    const found = await win.axe.run(doc, {resultTypes: ["violations"]});
    results.push({
      url, width,
      violations: found.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " " + n.html.slice(0, 160)),
      })),
      measure: doc.querySelector(".issue main") ? measure(doc) : null,
      layout: layout(doc),
    });
    frame.remove();
  }
  document.getElementById("out").textContent = JSON.stringify(results);
})().catch(e => { document.getElementById("out").textContent = "ERROR " + e; });
</script></body></html>"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import datetime as dt

    from tablet_press.importer.backcatalog import PastIssue, import_pdf
    from test_backcatalog import past_pdf

    project = copy_project(tmp_path_factory.mktemp("a11y") / "project", (SAMPLE, OLANZAPINE))
    pdf = project.parent / "past.pdf"  # a back-catalog issue: its page is made from its PDF
    pdf.write_bytes(past_pdf("Opioid rotation"))
    meta = PastIssue(0, dt.date(2019, 3, 4), "Opioid rotation", slug=BACK_CATALOG, topics=["opioids"])
    import_pdf(load_project(project), pdf, meta)
    report = archive(load_project(project), project / "site", jobs=2)
    assert report.failed == {} and len(report.built) == 3
    return project / "site"


def pages(site: Path) -> list[str]:
    """Every page the gate checks, as paths from the site root."""
    topic = "topics/naltrexone.html"
    assert (site / topic).is_file()
    return [
        "index.html",
        topic,
        f"2025/{SAMPLE}/index.html",
        f"2025/{OLANZAPINE}/index.html",
        f"2025/{SAMPLE}/{SAMPLE}.html",  # the email, as `tablet build` writes it to dist/
        f"2025/{OLANZAPINE}/{OLANZAPINE}.html",
        f"2019/{BACK_CATALOG}/index.html",
    ]


@pytest.fixture(scope="module")
def findings(site: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """axe's violations and the measurements, per (page, width): one Chromium run for all of them."""
    (site / "_axe").mkdir()
    shutil.copy(AXE, site / "_axe" / "axe.min.js")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    targets = [[f"/{page}", width] for page in pages(site) for width in WIDTHS]
    (site / "_axe" / "run.html").write_text(RUNNER % {"targets": json.dumps(targets)}, encoding="utf-8")
    try:
        with tempfile.TemporaryDirectory() as profile:
            done = subprocess.run(
                [
                    *CHROMIUM,
                    f"--user-data-dir={profile}",
                    "--window-size=1400,1000",
                    "--virtual-time-budget=120000",
                    "--dump-dom",
                    f"{base}/_axe/run.html",
                ],
                capture_output=True,
                text=True,
                timeout=120,
            )
    finally:
        server.shutdown()
    out = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, re.S)
    assert out and out.group(1).startswith("["), (done.stdout[-2000:], done.stderr[-2000:])
    return {(r["url"].lstrip("/"), r["width"]): r for r in json.loads(html.unescape(out.group(1)))}


def _report(found: list[dict[str, Any]]) -> str:
    return "\n".join(f"{v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in found)


PAGES = ["index", "topic", SAMPLE, OLANZAPINE, f"email-{SAMPLE}", f"email-{OLANZAPINE}", BACK_CATALOG]


@needs_tool("chromium")
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", PAGES)
def test_axe_finds_no_serious_violation(page: str, width: int, site: Path, findings: Any) -> None:
    path = dict(zip(PAGES, pages(site), strict=True))[page]
    violations = findings[path, width]["violations"]
    email = page.startswith("email")
    bad = [
        v for v in violations if v["impact"] in ("serious", "critical") or (v["id"] in ALWAYS and not email)
    ]
    assert not bad, f"{path} at {width}px:\n{_report(bad)}"


@needs_tool("chromium")
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("slug", [SAMPLE, OLANZAPINE])
def test_issue_page_reads_well(slug: str, width: int, findings: Any) -> None:
    found = findings[f"2025/{slug}/index.html", width]
    assert found["layout"]["mains"] == 1
    assert not found["layout"]["overflow"]
    assert 30 < found["measure"]["longest"] <= MAX_MEASURE, found["measure"]
    if width < 500:  # a phone: the article first, the author team after it
        assert found["layout"]["team_after_article"] is True
