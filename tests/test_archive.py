"""The archive: index order, permalinks, topics, feed, thumbnails, search, incremental rebuilds,
publishing that freezes what was sent, corrections and verify."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest
from click.testing import Result
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

from tablet_press.bundle.project import load_project
from tablet_press.site.archive import archive

from conftest import FIXTURES, SAMPLE, chromium_probe, copy_project, needs_tool

# (slug, number, date, title, topics, author entry): generated issues next to the sample.
GENERATED = [
    (
        "2024-11-methadone",
        2,
        "2024-11-05",
        "Methadone in palliative care",
        "[methadone, opioids, chronic-pain]",
        "  - id: lowry",
    ),
    (
        "2025-09-ketamine",
        3,
        "2025-09-15",
        "Ketamine for refractory pain",
        "[ketamine, neuropathic-pain]",
        "  - role: guest\n    name: Ada Guest\n    credentials: [MD]",
    ),
    ("2026-02-dyspnea", 4, "2026-02-01", "Opioids for dyspnea", "[dyspnea, opioids]", "  - id: lowry"),
]


def make_project(root: Path) -> Path:
    project = copy_project(root)
    minimal = (FIXTURES / "good" / "minimal" / "issue.yaml").read_text()
    for slug, number, when, title, topics, author in GENERATED:
        bundle = project / "issues" / slug
        shutil.copytree(FIXTURES / "good" / "minimal", bundle)
        text = (
            minimal.replace("number: 7", f"number: {number}")
            .replace("date: 2025-09-01", f"date: {when}")
            .replace("title: A minimal issue", f"title: {title}")
            .replace("topics: [naltrexone]", f"topics: {topics}")
            .replace("  - id: lowry", author)
        )
        (bundle / "issue.yaml").write_text(text)
    return project


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = make_project(tmp_path_factory.mktemp("archive") / "project")
    report = archive(load_project(project), project / "site", jobs=2)
    assert report.failed == {} and len(report.built) == 4 and report.pages_written
    return project / "site"


def test_index_lists_every_issue_newest_first_with_links(site: Path) -> None:
    index = (site / "index.html").read_text()
    titles = re.findall(r'class="entry-title"><a href="([^"]+)">([^<]+)<', index)
    assert [t for _, t in titles] == [
        "Opioids for dyspnea",
        "Ketamine for refractory pain",
        "The Newest Kid on the Block: Naltrexone’s Surprising Role in Analgesia",
        "Methadone in palliative care",
    ]
    assert titles[2][0] == "2025/low-dose-naltrexone/index.html"
    for href in re.findall(r'href="(\d{4}/[^"]+)"', index):
        assert (site / href).is_file(), href
    assert "Aditi J. Reis; Jaxon Vallely; Maria Felton Lowry" in index
    assert "Traditionally used for opioid use disorder" in index  # the one-line summary


def test_permalinks_are_year_and_slug_with_a_citation(site: Path) -> None:
    page = (site / "2025" / SAMPLE / "index.html").read_text()
    assert (
        "Reis AJ, Vallely J, Lowry MF. The Newest Kid on the Block: Naltrexone’s Surprising Role in "
        "Analgesia. The Tablet. 2025 Jul 1;(Issue 1)." in page
    )
    for name in (f"{SAMPLE}.pdf", f"{SAMPLE}.html", f"{SAMPLE}.txt"):
        assert (site / "2025" / SAMPLE / name).is_file()
    # The PDF once per issue: the .eml (which attaches it again) is for sending, not for the site.
    assert not list(site.rglob("*.eml"))
    assert (site / "2024" / "2024-11-methadone" / "index.html").is_file()


def test_thumbnails_are_the_first_page(site: Path) -> None:
    from PIL import Image

    for folder in ("2025/low-dose-naltrexone", "2026/2026-02-dyspnea"):
        with Image.open(site / folder / "thumbnail.png") as image:
            assert image.format == "PNG"
            width, height = image.size
            assert 150 < width < 260 and abs(height / width - 11 / 8.5) < 0.02  # a US Letter page
            assert image.convert("L").getextrema()[0] < 100  # there is ink on it


def test_topic_pages(site: Path) -> None:
    fibro = (site / "topics" / "fibromyalgia.html").read_text()
    assert "Naltrexone’s Surprising Role" in fibro and "Methadone" not in fibro
    opioids = (site / "topics" / "opioids.html").read_text()
    assert opioids.index("Opioids for dyspnea") < opioids.index("Methadone in palliative care")
    topics = (site / "topics" / "index.html").read_text()
    assert "<h2>Drugs</h2>" in topics and "<h2>Indications</h2>" in topics
    assert 'href="opioids.html">Opioids</a> <span class="count">(2)</span>' in topics


def test_feed_parses_without_errors(site: Path) -> None:
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "The Tablet"
    assert feed.entries[0].title == "Issue 4: Opioids for dyspnea"
    sample = next(e for e in feed.entries if "Naltrexone" in e.title)
    assert sample.link.endswith("2025/low-dose-naltrexone/index.html")
    assert sample.published.startswith("2025-07-01")
    assert {t.term for t in sample.tags} >= {"fibromyalgia", "naltrexone"}


def test_feed_summary_is_the_bottom_line_and_enclosures_have_their_length(site: Path) -> None:
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    sample = next(e for e in feed.entries if "Naltrexone" in e.title)
    assert sample.summary.startswith("While existing studies of LDN focus on non-palliative populations")
    assert (
        "tolerability of LDN, with a rather benign adverse effect profile. Onset 2-4 weeks" in sample.summary
    )
    enclosure = next(link for link in sample.links if link.rel == "enclosure")
    assert int(enclosure.length) == (site / "2025" / SAMPLE / f"{SAMPLE}.pdf").stat().st_size


def test_the_brand_fonts_are_served_as_woff2_subsets(site: Path) -> None:
    css = (site / "fonts" / "fonts.css").read_text()
    files = re.findall(r'url\("([^"]+)"\)', css)
    assert (
        len(files) == 9
        and 'font-family: "Tablet Web Sans Pro"' in css
        and 'font-family: "Tablet Web Serif Pro"' in css
    )
    index = (site / "index.html").read_text()
    assert '--body-font: "Tablet Web Sans Pro";' in index
    for name in files:
        data = (site / "fonts" / name).read_bytes()
        assert data[:4] == b"wOF2" and len(data) < 80_000, name  # a subset, compressed with brotli
        # A subset is a Modified Version under the OFL: it must not carry Adobe's Reserved Font Name.
        font = TTFont(io.BytesIO(data))
        names = [record.toUnicode() for record in font["name"].names if record.nameID in (1, 4, 6, 16)]
        assert names and not any("Source" in n for n in names), (name, names)
        assert "Open Font License" in font["name"].getDebugName(13), name
        assert "Source" not in name
    licence = (site / "fonts" / "TabletWebSansPro-LICENSE.txt").read_text()
    assert "SIL Open Font License" in licence and "Reserved Font Name 'Source'" in licence
    assert 'href="fonts/fonts.css"' in (site / "index.html").read_text()


def test_old_issues_are_labelled_archived_and_links_are_absolute_with_base_url(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    config = (project / "tablet.yaml").read_text()
    config = config.replace(
        "  # base_url: https://example.org/the-tablet", "  base_url: https://example.org/the-tablet"
    )
    (project / "tablet.yaml").write_text(config.replace("archived_after_years: 3", "archived_after_years: 1"))
    site = project / "site"
    first = archive(load_project(project), site, jobs=2, day=dt.date(2026, 6, 30))  # the sample: 2025-07-01
    assert first.built == [SAMPLE]
    assert "Archived" not in (site / "index.html").read_text()
    assert "Archived" not in (site / "2025" / SAMPLE / "index.html").read_text()

    feed = (site / "feed.xml").read_text()
    links = re.findall(r'href="([^"]*)"', feed)
    assert links and all(link.startswith("https://example.org/the-tablet/") for link in links), links

    later = archive(load_project(project), site, jobs=2, day=dt.date(2026, 7, 2))
    assert later.built == [SAMPLE] and later.pages_written  # its label changed: its page is made again
    assert '<span class="archived-label">Archived</span>' in (site / "index.html").read_text()
    page = (site / "2025" / SAMPLE / "index.html").read_text()
    assert '<p class="archived" role="note"><strong>Archived.</strong>' in page
    same_day = archive(load_project(project), site, jobs=2, day=dt.date(2026, 7, 2))
    assert same_day.built == [] and not same_day.pages_written


PAGEFIND = "const pagefind = await import('/pagefind/2025/pagefind.js');\n"  # the index of 2025's issues


@needs_tool("chromium")
@pytest.mark.parametrize("word", ["naltrexone", "fibromyalgia"])
def test_search_finds_the_sample_in_chromium(word: str, site: Path) -> None:
    script = (
        f"{PAGEFIND}const found = await pagefind.search('{word}');\n"
        "report((await Promise.all(found.results.map(r => r.data().then(d => d.url)))).join(' '));"
    )
    assert "/2025/low-dose-naltrexone/" in chromium_probe(site, script)


@needs_tool("chromium")
def test_search_gives_sub_results_per_section_with_deep_links(site: Path) -> None:
    """Each part's heading has an id, so a result lists the sections that hold the word, each a link
    such as .../#bottom-line, titled with the heading."""
    script = (
        f"{PAGEFIND}const found = await pagefind.search('tolerability');\n"
        "const data = await Promise.all(found.results.map(r => r.data()));\n"
        "report(JSON.stringify(data.flatMap(d => d.sub_results.map(s => [s.url, s.title]))));"
    )
    subs = json.loads(chromium_probe(site, script))
    assert ["/2025/low-dose-naltrexone/#bottom-line", "Bottom Line"] in subs, subs


def search_box(site: Path, query: str) -> str:
    """What the index page's own search box shows for `query` (through its ?q= parameter, in a frame)
    once its status line is filled in: the status, a newline, the results' HTML."""
    script = f"""
const frame = document.createElement('iframe');
frame.src = '/index.html?q={query}';
document.body.append(frame);
const shown = () => frame.contentDocument && frame.contentDocument.getElementById('search-status');
while (!(shown() && shown().textContent.trim())) await new Promise(r => setTimeout(r, 100));
report(shown().textContent + '\\n' + frame.contentDocument.getElementById('search-results').innerHTML);
"""
    return chromium_probe(site, script)


@needs_tool("chromium")
def test_search_box_shows_results_titled_by_issue_with_excerpts_from_the_article(site: Path) -> None:
    found = search_box(site, "fibromyalgia")
    assert re.match(r"\d+ issues? found for “fibromyalgia”\n", found), found[:300]
    title = '<h2 class="result-title"><a href="/2025/low-dose-naltrexone/">The Newest Kid on the Block'
    assert title in found
    assert "<mark>fibromyalgia" in found.lower() and "TODAY" not in found.upper()
    # The index comes in parts, one per year, merged into one search: issues of 2024-2026 are found.
    found = search_box(site, "paragraph")
    assert found.startswith("3 issues found"), found
    for folder in ("2024/2024-11-methadone", "2025/2025-09-ketamine", "2026/2026-02-dyspnea"):
        assert f'href="/{folder}/"' in found
    index = (site / "index.html").read_text()
    assert '<label for="search-input">Search the archive</label>' in index


def test_search_indexes_the_article_not_the_author_team(site: Path) -> None:
    """The author team, masthead and disclaimer are the same in every issue: not searched, so that
    excerpts come from the article and a team member's name does not find every issue."""
    pages = {}
    for fragment in (site / "pagefind").glob("*/fragment/*"):
        data = gzip.decompress(fragment.read_bytes())
        page = json.loads(data[data.index(b"{") :])
        pages[page["url"]] = page
    sample = pages[f"/2025/{SAMPLE}/"]
    assert sample["meta"]["title"] == "The Newest Kid on the Block: Naltrexone’s Surprising Role in Analgesia"
    assert sample["meta"]["issue"] == "Issue 1"
    assert "Traditionally used for opioid use disorder" in sample["content"]
    for page in pages.values():
        for text in ("Vallely", "Pittsburgh", "Author Team", "educational newsletter", "TODAY"):
            assert text not in page["content"], (page["url"], text)


def test_nothing_changed_renders_nothing_and_one_change_rebuilds_one(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    loaded = load_project(project)
    first = archive(loaded, project / "site", jobs=2)
    assert sorted(first.built) == sorted([SAMPLE, *(g[0] for g in GENERATED)])
    index_before = (project / "site" / "index.html").stat().st_mtime_ns

    again = archive(loaded, project / "site", jobs=2)
    assert again.built == [] and len(again.reused) == 4 and not again.pages_written
    assert again.summary() == "archive: 0 built, 4 reused, 0 failed; index pages unchanged"
    assert (project / "site" / "index.html").stat().st_mtime_ns == index_before

    ketamine = project / "issues" / "2025-09-ketamine" / "background.md"
    ketamine.write_text("A changed background.\n")
    third = archive(loaded, project / "site", jobs=2)
    assert third.built == ["2025-09-ketamine"] and len(third.reused) == 3 and third.pages_written
    assert "A changed background." in (project / "site" / "index.html").read_text()

    (project / "styles" / "print.css").write_text(
        (project / "styles" / "print.css").read_text() + "\n/* x */\n"
    )
    assert len(archive(load_project(project), project / "site").built) == 4  # a style change rebuilds all


def _stamps(site: Path) -> dict[str, tuple[int, int]]:
    """Each file of the site with its inode and mtime: an atomic write changes both."""
    return {
        f.relative_to(site).as_posix(): (f.stat().st_ino, f.stat().st_mtime_ns)
        for f in site.rglob("*")
        if f.is_file()
    }


def _digests(site: Path) -> dict[str, str]:
    return {
        f.relative_to(site).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in site.rglob("*")
        if f.is_file()
    }


def test_one_changed_issue_rewrites_only_what_shows_it_and_equals_a_full_build(tmp_path: Path) -> None:
    """Each run a process of its own (the cache on disk is all that links them): a changed title
    rewrites the issue's files, the index, its topics' pages, the feed and its year's search index,
    and nothing else; the site is then byte for byte what a build from nothing makes. A template
    change rebuilds everything."""
    project = make_project(tmp_path / "project")
    site = project / "site"

    def archive_in_a_process(where: Path) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "tablet_press", "archive"], cwd=where, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stderr.strip().splitlines()[-1]

    assert archive_in_a_process(project).startswith("archive: 4 built, 0 reused")
    before = _stamps(site)
    issue = project / "issues" / "2025-09-ketamine" / "issue.yaml"
    issue.write_text(issue.read_text().replace("Ketamine for refractory pain", "Ketamine for cancer pain"))
    assert archive_in_a_process(project) == "archive: 1 built, 3 reused, 0 failed; index pages rewritten"
    after = _stamps(site)
    rewritten = {name for name in after if before.get(name) != after[name]}
    issue_files = {name for name in rewritten if name.startswith("2025/2025-09-ketamine/")}
    assert {"2025/2025-09-ketamine/index.html", "2025/2025-09-ketamine/2025-09-ketamine.pdf"} <= issue_files
    search = {name for name in rewritten if name.startswith("pagefind/")}
    assert search and all(name.startswith("pagefind/2025/") for name in search)
    assert rewritten - issue_files - search == {
        "index.html",
        "topics/ketamine.html",
        "topics/neuropathic-pain.html",
        "feed.xml",
    }
    outside_2025 = {n for n in before if not n.startswith("pagefind/2025/")}
    assert {n for n in after if not n.startswith("pagefind/2025/")} == outside_2025  # nothing more, or less

    scratch = tmp_path / "scratch"
    shutil.copytree(project, scratch, ignore=shutil.ignore_patterns("site", ".tablet"))
    archive_in_a_process(scratch)
    assert _digests(site) == _digests(scratch / "site")

    template = project / "templates" / "site" / "base.html.j2"
    template.write_text(template.read_text() + "\n")
    assert archive_in_a_process(project).startswith("archive: 4 built, 0 reused")
    rebuilt = _stamps(site)
    assert all(rebuilt[name] != after[name] for name in after if name.endswith("index.html"))


def test_a_broken_issue_is_reported_and_the_others_build(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = make_project(tmp_path / "project")
    (project / "issues" / "2025-09-ketamine" / "background.md").write_text("Cites [@nobody].\n")
    result = run("archive", cwd=project)
    assert result.exit_code == 1
    assert "issues/2025-09-ketamine/background.md:1:8: error: citation [@nobody]" in result.stdout
    assert result.stderr.strip().endswith("archive: 3 built, 0 reused, 1 failed; index pages rewritten")
    assert "Ketamine" not in (project / "site" / "index.html").read_text()
    assert (project / "site" / "2025" / SAMPLE / "index.html").is_file()


def test_publish_freezes_what_was_sent(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "project")
    result = run("publish", SAMPLE, "--date", "2025-07-01", cwd=project)
    assert result.exit_code == 0, result.output
    frozen = project / "issues" / SAMPLE / "published"
    sent_pdf = (frozen / f"{SAMPLE}.pdf").read_bytes()
    assert run("publish", SAMPLE, cwd=project).exit_code == 1  # only once
    assert run("verify", cwd=project).exit_code == 0
    assert run("validate", cwd=project).exit_code == 0

    # A template change: the archive still serves the PDF as sent.
    css = project / "styles" / "print.css"
    css.write_text(css.read_text().replace("font-size: 10pt;", "font-size: 11pt;"))
    assert run("archive", cwd=project).exit_code == 0
    assert (project / "site" / "2025" / SAMPLE / f"{SAMPLE}.pdf").read_bytes() == sent_pdf

    # Editing the sources of a published issue fails validation, explaining corrections.
    background = project / "issues" / SAMPLE / "background.md"
    background.write_text(background.read_text().replace("4 hours", "4 h"))
    mechanism = project / "issues" / SAMPLE / "pharmacokinetics.md"
    mechanism.write_text(mechanism.read_text().replace("4 hours", "4 to 10 hours"))
    result = run("validate", cwd=project)
    assert result.exit_code == 1
    assert (
        f"issues/{SAMPLE}/pharmacokinetics.md:1:1: error: this issue was published on 2025-07-01 and "
        "pharmacokinetics.md changed since (a published issue changes only with a correction: add an entry "
        "under corrections: in issue.yaml"
    ) in result.stdout

    # A dated correction makes the change legitimate and shows on the page and in the feed.
    issue = project / "issues" / SAMPLE / "issue.yaml"
    issue.write_text(
        issue.read_text() + "corrections:\n  - date: 2025-07-08\n"
        "    text: The half-life of naltrexone is about 4 hours, and up to 13 hours for its metabolite.\n"
    )
    # ... once it is recorded: until then validate says how.
    result = run("validate", cwd=project)
    assert result.exit_code == 1
    line = issue.read_text().splitlines().index("corrections:") + 2
    assert [ln for ln in result.stdout.splitlines(keepends=True) if ": error: " in ln] == [
        f"issues/{SAMPLE}/issue.yaml:{line}:5: error: the correction of 2025-07-08 is not recorded yet; "
        "pharmacokinetics.md changed since the publication on 2025-07-01 (run 'tablet publish "
        "low-dose-naltrexone --correction' to record it; the sources as they are then become what later "
        "edits are checked against) [corrections[0]]\n"
    ]
    result = run("publish", SAMPLE, "--correction", cwd=project)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"recorded the correction of 2025-07-08 to issues/{SAMPLE} in publications.json: later edits are "
        "checked against the sources as they are now; commit it\n"
    )
    assert run("validate", cwd=project).exit_code == 0
    result = run("verify", cwd=project)
    assert result.exit_code == 0
    assert result.stdout == (
        f"issues/{SAMPLE}: published on 2025-07-01\n"
        f"issues/{SAMPLE}: the correction of 2025-07-08 changed pharmacokinetics.md\n"
    )
    assert run("archive", cwd=project).exit_code == 0
    page = (project / "site" / "2025" / SAMPLE / "index.html").read_text()
    assert "2025-07-08</time>: The half-life of naltrexone is about 4 hours" in page
    feed = feedparser.parse((project / "site" / "feed.xml").read_bytes())
    assert "Correction (2025-07-08): The half-life" in feed.entries[0].summary
    assert feed.entries[0].updated.startswith("2025-07-08")
    assert (project / "site" / "2025" / SAMPLE / f"{SAMPLE}.pdf").read_bytes() == sent_pdf


def test_verify_detects_a_changed_output(tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "project")
    assert run("publish", SAMPLE, "--date", "2025-07-01", cwd=project).exit_code == 0
    sent = project / "issues" / SAMPLE / "published" / f"{SAMPLE}.txt"
    sent.write_text(sent.read_text() + "tampered\n")
    result = run("verify", cwd=project)
    assert result.exit_code == 1
    assert (
        f"issues/{SAMPLE}/published/{SAMPLE}.txt:1:1: error: a published output differs from what was sent"
        in result.stdout
    )


def test_archive_pages_work_from_file_urls(site: Path) -> None:
    for page in [site / "index.html", *site.glob("topics/*.html"), *site.glob("*/*/index.html")]:
        html = page.read_text()
        for href in re.findall(r'(?:href|src)="([^"#:]+)"', html):
            if href.startswith("pagefind/"):
                continue  # made by Pagefind; present after indexing
            target = (page.parent / href).resolve()
            assert target.is_file(), f"{page.relative_to(site)} links to missing {href}"
    assert os.path.isdir(site / "pagefind")


def test_ce_issues_are_marked_with_their_expiry_and_expire_on_the_build_day(tmp_path: Path) -> None:
    """The index marks a CE issue with its expiry; on a build day after it (SOURCE_DATE_EPOCH's, or
    `day`), the issue page and the index say it expired, and the page is made again that day."""
    project = copy_project(tmp_path / "project", ())
    shutil.copytree(FIXTURES / "good" / "ce", project / "issues" / "ce")
    site = project / "site"
    first = archive(load_project(project), site, jobs=1, day=dt.date(2028, 11, 3))  # its last day
    assert first.built == ["ce"]
    index = (site / "index.html").read_text()
    assert 'CE credit</span> until <time datetime="2028-11-03">November 3, 2028</time>' in index
    page = (site / "2025" / "ce" / "index.html").read_text()
    assert "CE expired" not in page and "Expired." not in page
    assert "Peer reviewed by Samuel Okafor, PharmD, BCPS." in page  # in the citation block
    assert "ACPE UAN, pharmacy technicians" in page and "0999-0000-25-018-H01-T" in page

    later = archive(load_project(project), site, jobs=1, day=dt.date(2028, 11, 4))
    assert later.built == ["ce"]  # its label changed: its page is made again
    index = (site / "index.html").read_text()
    assert '<span class="archived-label">expired</span> <time datetime="2028-11-03">' in index
    page = (site / "2025" / "ce" / "index.html").read_text()
    assert "<strong>CE expired.</strong> The continuing-education activity of this issue expired on" in page
    assert '<p class="ce-expired" role="note"><strong>Expired.</strong>' in page
    same_day = archive(load_project(project), site, jobs=1, day=dt.date(2028, 11, 4))
    assert same_day.built == []
