"""The archive at scale (issue 20, target 3): one changed issue in archives of growing size.

    python bench/scale.py synth PROJECT      bring PROJECT's site up to date without WeasyPrint (below)

Building a real archive of 1,000 issues means 1,000 PDFs (tens of minutes on a shared machine), and
what one change costs does not depend on the other issues' PDFs, only on the site around them: the
issue pages (which Pagefind reads), the index, topic and feed pages and the cache. So `synth` runs
the real `archive()` (validation, view models, issue pages, index pages, search index, feed, cache)
with the PDF, email and thumbnail of every issue replaced by those of the first one, made once for
real. The runs that are timed are then ordinary `tablet archive` processes on that site, and the
first of them must find nothing to do (bench/run.py checks it): the site and its cache are what
`tablet archive` itself keeps.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from workload import add_issue, archive_project

HERE = Path(__file__).resolve().parent


def synth(root: Path) -> None:
    from tablet_press import build
    from tablet_press.bundle.project import load_project
    from tablet_press.checks.validate import validate
    from tablet_press.site import archive

    project = load_project(root)
    first = sorted(project.bundle_dirs())[0]
    bundle = validate(project, [first]).bundles[0]
    real = build.outputs(bundle, project)
    pdf, html, text = (real[f"{bundle.slug}.{kind}"] for kind in ("pdf", "html", "txt"))
    picture = archive.thumbnail(pdf)

    def outputs(bundle: Any, project: Any, *args: Any, **kwargs: Any) -> dict[str, bytes]:
        slug = bundle.slug
        return {f"{slug}.pdf": pdf, f"{slug}.html": html, f"{slug}.txt": text, f"{slug}.eml": b""}

    build.outputs = outputs  # type: ignore[assignment]
    archive.thumbnail = lambda _: picture
    report = archive.archive(project, root / "site", jobs=1)  # one core: no PDF workers
    if report.failed:
        raise SystemExit(f"synth failed: {report.failed}")
    print(report.summary())


def _archive(project: Path) -> str:
    """`tablet archive` in a fresh process; its summary line."""
    done = subprocess.run(
        [sys.executable, "-m", "tablet_press", "archive"], cwd=project, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"tablet archive failed:\n{done.stdout}\n{done.stderr}")
    return done.stderr.strip().splitlines()[-1]


def _grow(project: Path, issues: int) -> None:
    """Add generated issues up to `issues` (one a week, as workload.archive_project makes them)."""
    import datetime as dt

    have = len(list((project / "issues").iterdir()))
    for i in range(have, issues):
        add_issue(project, f"issue-{i + 1:04d}", i + 1, dt.date(2024, 1, 2) + dt.timedelta(weeks=i))


def _search_seconds(site: Path, glob: str) -> float:
    """Pagefind alone over the issue pages matching `glob`, into a throw-away folder."""
    import pagefind_bin

    from tablet_press.site.archive import NOT_SEARCHED

    out = site.parent / "search-probe"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(
        [
            str(pagefind_bin.get_executable()),
            *("--site", str(site), "--glob", glob, "--quiet", "--output-path", str(out)),
            *(arg for selector in NOT_SEARCHED for arg in ("--exclude-selectors", selector)),
        ],
        check=True,
        capture_output=True,
    )
    elapsed = time.perf_counter() - start
    shutil.rmtree(out, ignore_errors=True)
    return elapsed


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def scale_rows(
    work: Path,
    reps: int,
    sizes: Sequence[int],
    svg: Path,
    row: Callable[..., Any],
    run: Callable[[Sequence[str], Path], float],
    interleaved: Callable[..., list[list[float]]],
) -> tuple[list[Any], list[str]]:
    """Rows T3a-T3c and T5, the table of times by archive size and the picture (written to `svg`).

    At each size: a cold `tablet build` of one issue (B), and, interleaved with it, `tablet archive`
    after appending a sentence to one issue's background.md (its page and PDF change, not what the
    index shows), after changing one issue's title (the index, its topic pages and the feed change
    too), and with nothing changed; a different issue each time."""
    project = archive_project(work / "scale", 0)
    site = project / "site"
    edits = 0
    table: dict[int, dict[str, float]] = {}

    def changed(what: str) -> Callable[[], float]:
        def edit() -> float:
            nonlocal edits
            edits += 1
            bundle = project / "issues" / f"issue-{edits * 37 % size + 1:04d}"
            if what == "text":
                background = bundle / "background.md"
                background.write_text(background.read_text() + f"\nEdited for the benchmark, edit {edits}.\n")
            else:
                issue = bundle / "issue.yaml"
                text = re.sub(
                    r"^title: \"", f'title: "Edit {edits}: ', issue.read_text(), count=1, flags=re.M
                )
                issue.write_text(text)
            return run([sys.executable, "-m", "tablet_press", "archive"], project)

        return edit

    def single() -> float:
        out = work / "scale-single"
        shutil.rmtree(out, ignore_errors=True)
        return run(
            [sys.executable, "-m", "tablet_press", "build", "issues/issue-0001", "--out", str(out)], project
        )

    for size in sizes:
        _grow(project, size)
        subprocess.run(
            [sys.executable, str(HERE / "scale.py"), "synth", str(project)], check=True, capture_output=True
        )
        settled = _archive(project)
        if not settled.startswith(f"archive: 0 built, {size} reused"):
            raise SystemExit(f"the synthesized archive of {size} was not up to date: {settled}")
        nothing = lambda: run([sys.executable, "-m", "tablet_press", "archive"], project)  # noqa: E731
        times = interleaved(reps, single, changed("text"), changed("title"), nothing)
        years = sorted(p.name for p in site.iterdir() if p.name.isdigit())
        table[size] = {
            "single": statistics.median(times[0]),
            "text": statistics.median(times[1]),
            "title": statistics.median(times[2]),
            "nothing": statistics.median(times[3]),
            "search_all": _search_seconds(site, "*/*/index.html"),
            "search_year": _search_seconds(site, f"{years[-2] if len(years) > 1 else years[0]}/*/index.html"),
            "bytes": _size(site) / size,
            "issue_bytes": statistics.mean(_size(f) for f in site.glob("*/issue-*")),
        }
    eml = next((work / "scale-single").rglob("*.eml")).stat().st_size
    small, mid, big = sizes[0], sizes[len(sizes) // 2], sizes[-1]
    t = table
    one = t[mid]["text"] / t[mid]["single"]
    rows = [
        row(
            "T3a",
            f"one issue's text changed, `tablet archive` of {mid} issues, vs a cold `tablet build` of one "
            "issue",
            f"archive {t[mid]['text']:.3f} s",
            f"build {t[mid]['single']:.3f} s",
            one,
            "≤ 1.0",
            one <= 1.0,
        ),
    ]
    for key, what in (("text", "text changed"), ("title", "title changed (its index and topic pages too)")):
        growth = t[big][key] / t[small][key]
        rows.append(
            row(
                f"T3b-{key}",
                f"one issue's {what}: `tablet archive` of {big} vs {small} issues",
                f"{big}: {t[big][key]:.3f} s",
                f"{small}: {t[small][key]:.3f} s",
                growth,
                "≤ 1.1 (flat)",
                growth <= 1.1,
            )
        )
    for size in sizes:
        full = t[size]["single"] * size * FULL_PER_SINGLE
        rows.append(
            row(
                f"T3c-{size}",
                f"nothing changed, `tablet archive` of {size} issues, vs its full build (estimated: "
                f"{size} × a cold build × {FULL_PER_SINGLE}, row 4's ratio)",
                f"rebuild {t[size]['nothing']:.3f} s",
                f"full ~{full:.0f} s",
                t[size]["nothing"] / full,
                "≤ 0.02",
                t[size]["nothing"] / full <= 0.02,
            )
        )
    per_issue = t[big]["bytes"]
    rows.append(
        row(
            "T5",
            f"bytes per issue in the site of {big} issues (all files / issues), vs the same with the .eml "
            f"the site no longer carries ({eml:,} bytes: the PDF again)",
            f"{per_issue / 1000:.0f} kB",
            f"{(per_issue + eml) / 1000:.0f} kB",
            per_issue / (per_issue + eml),
            "PDF once",
            True,
        )
    )
    svg.write_text(picture(table), encoding="utf-8")
    lines = [
        "## The archive at scale (issue 20, targets 3 and 5)",
        "",
        f"![time of `tablet archive` against the number of issues]({svg.name})",
        "",
        "Archives synthesized by `bench/scale.py` (the real archive code; every issue's PDF, email and "
        "thumbnail are copies of the first one's, made for real), then timed as `tablet archive` "
        "processes, interleaved with a cold `tablet build` of one issue. Pagefind alone: over every issue "
        "page as one index (as before this change) and over one year's part (what a change re-indexes).",
        "",
        "| issues | one text change | one title change | nothing changed | cold build of one | "
        "Pagefind, all pages | Pagefind, one year | site bytes per issue | issue folder |",
        "|---|---|---|---|---|---|---|---|---|",
        *(
            f"| {n} | {v['text']:.3f} s | {v['title']:.3f} s | {v['nothing']:.3f} s | {v['single']:.3f} s | "
            f"{v['search_all']:.3f} s | {v['search_year']:.3f} s | {v['bytes'] / 1000:.0f} kB | "
            f"{v['issue_bytes'] / 1000:.0f} kB |"
            for n, v in table.items()
        ),
    ]
    lines += [
        "",
        "What stands in the way, and what would change it:",
        "",
        "- One change (T3a) costs about what a cold build costs, by design: a worker forks, imports "
        "WeasyPrint and makes the issue's PDF (the critical path) while this process validates the issue, "
        "renders its page, rewrites only the pages that show it and re-indexes its year. What is left is "
        "WeasyPrint's cold start, as in row 1; a resident warm process (target 2's question) would take it "
        "off both.",
        "- A title change (T3b-title) re-renders the index and the issue's topic pages, each listing every "
        "issue it shows: Jinja at about 0.15 ms per listed issue per page. The bench's issues all share "
        "the sample's eleven topics, the worst case: twelve pages of N issues each. Proposed: keep each "
        "issue's rendered list item (`_entry.html.j2`, per page depth) with its entry digest and let the "
        "index and topic templates join those, so a page costs a join; a template change, to be made "
        "with the work on the index templates. A text change (the usual edit) leaves those pages alone.",
        f"- Pagefind: over every issue page as one index, as before, {t[big]['search_all']:.2f} s at {big} "
        f"issues; one year's part {t[big]['search_year']:.2f} s, whatever the archive's size.",
        "- A rebuild with nothing changed grows with the archive (it hashes every issue's files), "
        f"{t[big]['nothing']:.2f} s at {big} issues. Trusting unchanged sizes and modification times (as "
        "git does) would make it a stat per file; not done, since a file rewritten with the same size "
        "within the same clock tick would be missed.",
    ]
    (svg.with_suffix(".json")).write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    return rows, lines


FULL_PER_SINGLE = 0.17  # row 4: a full archive costs about this share of as many cold single builds


def picture(table: dict[int, dict[str, float]]) -> str:
    """Time against archive size as an SVG line chart, drawn directly (no plotting library)."""
    width, height, left, bottom, top, right = 700, 360, 60, 40, 20, 210
    sizes = sorted(table)
    series = [
        ("text", "one text change", "#1f5fa8"),
        ("title", "one title change", "#b4462b"),
        ("single", "cold build of one issue", "#555555"),
        ("nothing", "nothing changed", "#2e7d32"),
    ]
    peak = max(v[key] for v in table.values() for key, _, _ in series) * 1.15
    x_max = sizes[-1] * 1.05

    def x(n: float) -> float:
        return left + (width - left - right) * n / x_max

    def y(s: float) -> float:
        return height - bottom - (height - bottom - top) * s / peak

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        "<title>tablet archive: seconds against the number of issues</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" '
        'stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
        f'<text x="{(width - right + left) / 2}" y="{height - 8}" text-anchor="middle">'
        "issues in the archive</text>",
        f'<text x="14" y="{(height - bottom + top) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(height - bottom + top) / 2})">seconds (median)</text>',
    ]
    step = 0.5 if peak < 4 else 1.0
    tick = 0.0
    while tick <= peak:
        parts.append(
            f'<line x1="{left - 4}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" '
            'stroke="#ddd"/>'
            f'<text x="{left - 8}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>'
        )
        tick += step
    for n in sizes:
        parts.append(
            f'<text x="{x(n):.1f}" y="{height - bottom + 16}" text-anchor="middle">{n}</text>'
            f'<line x1="{x(n):.1f}" y1="{height - bottom}" x2="{x(n):.1f}" y2="{height - bottom + 4}" '
            'stroke="black"/>'
        )
    for i, (key, label, colour) in enumerate(series):
        points = " ".join(f"{x(n):.1f},{y(table[n][key]):.1f}" for n in sizes)
        dash = ' stroke-dasharray="5 4"' if key == "single" else ""
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        parts += [
            f'<circle cx="{x(n):.1f}" cy="{y(table[n][key]):.1f}" r="3" fill="{colour}"/>' for n in sizes
        ]
        ly = top + 10 + 20 * i
        parts.append(
            f'<line x1="{width - right + 12}" y1="{ly}" x2="{width - right + 34}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{width - right + 40}" y="{ly + 4}">{label}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    if sys.argv[1:2] != ["synth"] or len(sys.argv) != 3:
        raise SystemExit(__doc__)
    synth(Path(sys.argv[2]))
