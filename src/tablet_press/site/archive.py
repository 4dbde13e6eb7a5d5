"""`tablet archive`: every issue as a static site (index, issue pages, topics, feed, search), rebuilt
incrementally (content hashes in a cache file) and in parallel across cores.

The cache is tablet's own bookkeeping, not part of the site: it lives in the project's `.tablet/`
folder (one file per output folder), so that everything in `site/` is meant to be served.

An issue's files are rebuilt only when its sources, the templates, styles, brand, tablet.yaml or the
tool's version change. Published issues serve their frozen outputs, never a re-render. One broken
issue is reported and does not stop the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tablet_press import __version__
from tablet_press.bundle import look
from tablet_press.bundle.atomic import check_output_folder, write_files
from tablet_press.bundle.ledger import read_ledger
from tablet_press.bundle.model import FontFamily
from tablet_press.bundle.project import Project
from tablet_press.bundle.safefile import bundle_entries, read_for_hash
from tablet_press.errors import BuildError, Problem
from tablet_press.render import fonts

# Lazy imports: nothing heavy at import time, since a rebuild with nothing changed only hashes files and
# reads the cache; the pipeline (validation, views, WeasyPrint) loads when an issue is rebuilt.
if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from tablet_press.bundle.folder import Bundle
    from tablet_press.render.pdf import Typeset
    from tablet_press.render.view import IssueView
    from tablet_press.site.pages import Entry

CACHE_DIR = ".tablet"  # at the project root: tablet's own files, never published, never committed
OLD_CACHE = ".tablet-cache.json"  # where versions before 0.x kept the cache: inside the site
THUMBNAIL_SCALE = 0.32  # points -> pixels: a US Letter page becomes about 196 x 253 px
FONTS = "fonts"  # the site's folder of WOFF2 fonts and their fonts.css
SEARCH = "pagefind"  # the site's folder of search indexes, one per year (see `_Search`)
# The site's layout; a new one rebuilds every site once. 2: no .eml in the site (the PDF once per
# issue: docs/decisions.md), the search index in parts per year, each page rendered only when changed.
SITE_FORMAT = 2
# Pagefind's files that the site never loads (its own UIs): left out, ~0.4 MB per part of the index.
UNUSED_SEARCH_FILES = re.compile(r"pagefind-(?:component-|modular-)?ui\.(?:css|js)|pagefind-highlight\.js")


@dataclass
class ArchiveReport:
    """What an archive run did, and every problem as data (as `validate` reports them), so that the
    CLI can print them as text or JSON: each failed issue's errors, and the warnings of the issues
    built (WeasyPrint's among them), which do not stop the archive."""

    built: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: dict[str, list[Problem]] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    pages_written: bool = False

    @property
    def problems(self) -> list[Problem]:
        """Every problem, sorted by file and line, each once."""
        return sorted({p for found in self.failed.values() for p in found} | set(self.warnings))

    def summary(self) -> str:
        pages = "index pages rewritten" if self.pages_written else "index pages unchanged"
        return (
            f"archive: {len(self.built)} built, {len(self.reused)} reused, {len(self.failed)} failed; {pages}"
        )


def _hash_files(digest: Any, folder: Path) -> None:
    for file in sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []:
        digest.update(file.relative_to(folder).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")


def shared_key(project: Project) -> str:
    """What every issue's outputs depend on besides its own bundle."""
    digest = hashlib.sha256(f"tablet-press {__version__} site {SITE_FORMAT}\0".encode())
    digest.update((project.root / "tablet.yaml").read_bytes())
    for kind in look.KINDS:  # the project's own files and the defaults they fall back to
        for folder in look.folders(project, kind):
            digest.update(f"{kind}\0".encode())
            _hash_files(digest, folder)
    return digest.hexdigest()


def issue_key(shared: str, bundle_dir: Path, record: str = "") -> str:
    """What one issue's outputs depend on: the shared key, its files as safefile reads them (never
    through a link) and its publication record (so that publishing or recording a correction rebuilds it)."""
    digest = hashlib.sha256(shared.encode())
    digest.update(record.encode() + b"\0")
    for relative in bundle_entries(bundle_dir):
        digest.update(relative.as_posix().encode() + b"\0" + read_for_hash(bundle_dir, relative) + b"\0")
    return digest.hexdigest()


def cache_file(project: Project, out: Path) -> Path:
    """The cache of the site in `out`: in the project's .tablet/ folder, named after the output folder."""
    name = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:16]
    return project.root / CACHE_DIR / f"archive-{name}.json"


def thumbnail(pdf: bytes) -> bytes:
    """A PNG of the PDF's first page, rendered with PDFium."""
    import io

    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=THUMBNAIL_SCALE).to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        return out.getvalue()
    finally:
        document.close()


def _load_cache(file: Path) -> dict[str, Any]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if isinstance(data, dict) and (data.get("tool"), data.get("format")) == (__version__, SITE_FORMAT):
            return data
        return {}
    except (OSError, ValueError):
        return {}


def _entry_json(e: Entry) -> dict[str, Any]:
    """An index entry as the cache keeps it, so that unchanged issues are listed without reading them."""
    return {
        "slug": e.slug,
        "number": e.number,
        "date": e.date.isoformat(),
        "date_text": e.date_text,
        "title": e.title,
        "authors": list(e.authors),
        "topics": [[t.id, t.label, t.kind] for t in e.topics],
        "summary": e.summary,
        "corrections": [[c.date.isoformat(), c.text] for c in e.corrections],
        "published": e.published.isoformat() if e.published else None,
        "folder": e.folder,
        "citation": e.citation,
        "bottom_line": e.bottom_line,
        "archived": e.archived,
        "pdf_bytes": e.pdf_bytes,
        "ce_expires": e.ce_expires.isoformat() if e.ce_expires else None,
        "expired": e.expired,
        "reviewers": list(e.reviewers),
        "back_catalog": e.back_catalog,
    }


def _cached_entry(data: Any) -> Entry | None:
    """The entry kept by an earlier run, or None if it cannot be read (then the issue is rebuilt)."""
    from tablet_press.bundle.model import Correction
    from tablet_press.site.pages import Entry, Topic

    try:
        return Entry(
            slug=data["slug"],
            number=data["number"],
            date=date.fromisoformat(data["date"]),
            date_text=data["date_text"],
            title=data["title"],
            authors=tuple(data["authors"]),
            topics=tuple(Topic(*t) for t in data["topics"]),
            summary=data["summary"],
            # Values an earlier run validated, from sources that are unchanged (same key).
            corrections=tuple(
                Correction.model_construct(date=date.fromisoformat(d), text=t) for d, t in data["corrections"]
            ),
            published=date.fromisoformat(data["published"]) if data["published"] else None,
            folder=data["folder"],
            citation=data["citation"],
            bottom_line=data["bottom_line"],
            archived=data["archived"],
            pdf_bytes=data["pdf_bytes"],
            ce_expires=date.fromisoformat(data["ce_expires"]) if data["ce_expires"] else None,
            expired=data["expired"],
            reviewers=tuple(data["reviewers"]),
            back_catalog=bool(data.get("back_catalog", False)),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _fold(slug: str) -> str:
    return unicodedata.normalize("NFKC", slug).casefold()


def _clash(bundle: Bundle, numbers: dict[int, str], folded: dict[str, str]) -> list[Problem]:
    """validate's checks between issues, against the issues already accepted: unchanged issues are not
    read again, so their numbers and folder names come from the cache. The newcomer is the one blamed."""
    other = numbers.get(bundle.issue.number)
    if other is not None:
        message = f"issue number {bundle.issue.number} is also used by '{other}'"
        return [bundle.issue_source.problem(("number",), message)]
    other = folded.get(_fold(bundle.slug))
    if other is not None:
        message = f"folder name '{bundle.slug}' collides with '{other}' on case-insensitive systems"
        return [bundle.issue_source.problem((), message)]
    return []


def today() -> date:
    """The day of the build: SOURCE_DATE_EPOCH's when set (reproducible builds), else the clock's."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC).date()
    return date.today()


def archived_before(project: Project, day: date) -> date | None:
    """Issues dated before this day are labelled "Archived" (None: tablet.yaml archives none)."""
    years = project.config.archive.archived_after_years
    if years is None:
        return None
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February, in a year that has none
        return day.replace(year=day.year - years, day=28)


def _labelled_as_before(known: dict[str, Any], cutoff: date | None, day: date) -> bool:
    """Whether a cached issue's "Archived" and CE "Expired" labels are still right on this day (else its
    page is redone)."""
    try:
        archived = cutoff is not None and date.fromisoformat(known["entry"]["date"]) < cutoff
        expires = known["entry"]["ce_expires"]
        expired = expires is not None and date.fromisoformat(expires) < day
        return bool(known["entry"]["archived"]) == archived and bool(known["entry"]["expired"]) == expired
    except (KeyError, TypeError, ValueError):
        return False


def _pages_key(shared: str, keys: dict[str, str], listed: list[str]) -> str:
    return hashlib.sha256(json.dumps([shared, [(s, keys[s]) for s in sorted(listed)]]).encode()).hexdigest()


def archive(
    project: Project,
    out: Path,
    *,
    jobs: int | None = None,
    progress: Callable[[str, str], None] = lambda slug, status: None,
    day: date | None = None,
) -> ArchiveReport:
    """Build the site in `out`; returns what was built, reused and failed.

    Only issues whose key (the hash of their files and of what all issues share) changed are read,
    validated and built; an unchanged issue is listed from its cached entry. So a rebuild with nothing
    changed hashes files and stops, and one changed issue costs one build and the index pages.
    An issue that has grown old enough to be labelled "Archived" on `day` (default: `today()`), or
    whose CE activity has expired by then, counts as changed.
    An output folder that is a symbolic link, a file or inside issues/ is refused before anything."""
    check_output_folder(out, issues=project.issues_dir, root=project.root)
    cache_path = cache_file(project, out)
    cache = _load_cache(cache_path)
    cache["out"] = str(out.resolve())
    cache_before = json.dumps(cache, indent=2)
    known: dict[str, dict[str, Any]] = cache.get("issues", {})
    shared = shared_key(project)
    day = day or today()
    cutoff = archived_before(project, day)
    records = read_ledger(project.root)[0].records
    keys = {
        folder.name: issue_key(
            shared, folder, json.dumps(records[folder.name].as_json()) if folder.name in records else ""
        )
        for folder in project.bundle_dirs()
    }
    for slug in list(known):
        if slug not in keys:
            del known[slug]
    unchanged = [
        slug
        for slug, key in keys.items()
        if known.get(slug, {}).get("key") == key
        and (out / str(known[slug].get("folder")) / "index.html").is_file()
        and _labelled_as_before(known[slug], cutoff, day)
    ]
    report = ArchiveReport(reused=list(unchanged))
    if (
        len(unchanged) < len(keys)
        or cache.get("pages") != _pages_key(shared, keys, unchanged)
        or not (out / "index.html").exists()
    ):
        files: dict[str, str] = cache.setdefault("files", {})
        search: dict[str, str] = cache.setdefault("search", {})
        _Run(project, out, known, keys, report, progress, cutoff, day, shared, files, search).build(jobs)
    else:
        for slug in unchanged:
            progress(slug, "reused")
    pages_key = _pages_key(shared, keys, report.built + report.reused)
    cache_text = json.dumps(
        {
            "tool": __version__,
            "format": SITE_FORMAT,
            "out": str(out.resolve()),
            "issues": known,
            "pages": pages_key,
            "files": cache.get("files", {}),
            "search": cache.get("search", {}),
        },
        indent=2,
    )
    if cache_text != cache_before:  # nothing changed: nothing is written
        write_files(cache_path.parent, {cache_path.name: cache_text.encode()}, root=project.root)
    old = out / OLD_CACHE
    if old.is_file() and not old.is_symlink():  # an earlier version's cache, published by mistake
        old.unlink()
    return report


@dataclass
class _Issue:
    """A changed issue, validated, on its way through the build."""

    bundle: Bundle
    folder: Path
    view: IssueView | None  # None for a back-catalog issue: no view, its page comes from its PDF
    files: dict[str, bytes] | None = None  # the outputs as sent, if the issue was published; else
    pdf: Future[Typeset] | None = None  # its PDF, being made by a worker (None: made when finished)


@dataclass
class _Run:
    """One archive run that has work to do: issues to build, or only the index pages to rewrite."""

    project: Project
    out: Path
    known: dict[str, dict[str, Any]]  # the cache's record of built issues, updated as they build
    keys: dict[str, str]
    report: ArchiveReport
    progress: Callable[[str, str], None]
    cutoff: date | None  # issues dated before it are labelled "Archived"
    day: date  # the day of the build: a CE activity that expired before it is labelled "Expired"
    shared: str  # shared_key: what every page depends on besides its own context
    files: dict[str, str]  # the cache's record of the site's pages: path -> key of what it was made from
    search: dict[str, str]  # the cache's record of the search index's parts: year -> key of its pages
    entries: dict[str, Entry] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)  # an issue page's sha256, for changed issues
    digests: dict[str, str] = field(default_factory=dict)  # each listed entry's _entry_digest

    def build(self, jobs: int | None) -> None:
        """Validate and build the changed issues, rewrite the pages and the search index.

        Work overlaps: workers typeset the PDFs, each handed over as soon as its issue is valid, while
        this process makes the web pages, the index pages, Pagefind's index (which reads only the issue
        pages, written first), the emails and the thumbnails. An issue that fails after its page was
        written leaves the index pages, which are made again."""
        from tablet_press.render.pdf import pdf_workers  # light: the workers fork before the rest is imported

        cores = jobs or os.cpu_count() or 1
        changed = len(self.keys) - len(self.report.reused)
        # Even one changed issue gets a worker if there is a second core: it imports WeasyPrint and
        # typesets while this process validates, writes the pages and runs Pagefind.
        with pdf_workers(min(cores, changed) if cores > 1 else 0) as pool:
            for slug in list(self.report.reused):
                cached = _cached_entry(self.known[slug].get("entry"))
                if cached is None:  # unreadable: built again
                    self.report.reused.remove(slug)
                else:
                    self.entries[slug] = cached
                    known = self.known[slug]
                    self.digests[slug] = known.get("digest") or _entry_digest(known["entry"])
                    self.progress(slug, "reused")
            todo = [s for s in self.keys if s not in self.entries]
            issues = {slug: issue for slug in todo if (issue := self._accept(slug, pool))}
            search = self._write_pages()
            import pypdfium2  # noqa: F401  (for the thumbnails: imported while the first PDF is made)

            try:
                for slug, issue in issues.items():
                    self._finish(slug, issue)
                    search.poll()
            except BaseException:
                search.kill()
                raise
            search.wait()
        failed = [slug for slug in issues if slug in self.report.failed]
        for slug in failed:  # its page is written, its outputs are not: it leaves the site's pages
            (issues[slug].folder / "index.html").unlink(missing_ok=True)
        if failed:
            self._write_pages().wait()
        self._write_feed()  # last: its enclosures give each PDF's size

    def _accept(self, slug: str, pool: ProcessPoolExecutor | None) -> _Issue | None:
        """Validate one changed issue, write its web page and start its PDF; None if it is broken."""
        from tablet_press.build import pdf_job, print_html
        from tablet_press.checks.publication import frozen_outputs
        from tablet_press.checks.validate import validate
        from tablet_press.errors import ValidationFailed
        from tablet_press.render.view import issue_view, render
        from tablet_press.site.pages import entry

        project = self.project
        checked = validate(project, [project.issues_dir / slug])
        problems = checked.errors
        if not problems and not checked.bundles:
            problems = [Problem(f"issues/{slug}", 0, 0, "could not be loaded")]
        if not problems:
            accepted = [e for s, e in self.entries.items() if s != slug]
            numbers = {e.number: e.slug for e in accepted}
            problems = _clash(checked.bundles[0], numbers, {_fold(e.slug): e.slug for e in accepted})
        if problems:
            self.report.failed[slug] = problems
            self.progress(slug, "failed")
            return None
        bundle = checked.bundles[0]
        self.report.warnings += checked.warnings
        try:  # published: the files as sent, checked against the record, never a re-render
            frozen = frozen_outputs(bundle, project)
        except ValidationFailed as exc:
            self.report.failed[slug] = list(exc.problems)
            self.progress(slug, "failed")
            return None
        if bundle.issue.archived_pdf:  # the back catalog: a page made from the PDF as sent
            return self._accept_archived(bundle, frozen or {})
        self.entries[slug] = page_entry = entry(bundle, project, self.cutoff, self.day)
        self.digests[slug] = _entry_digest(_entry_json(page_entry))
        old_folder = self.known.get(slug, {}).get("folder")
        if old_folder and old_folder != page_entry.folder:
            shutil.rmtree(self.out / old_folder, ignore_errors=True)  # the issue moved (its date changed)
        view = issue_view(bundle, project)  # once, for the web page, the PDF and the email
        page = render(
            "site/issue.html.j2", view, project, entry=page_entry, root="../../", config=project.config
        )
        folder = self.out / page_entry.folder
        page_bytes = page.encode()
        self.pages[slug] = hashlib.sha256(page_bytes).hexdigest()  # what the search index reads
        write_files(folder, {"index.html": page_bytes}, within=self.out, root=project.root)
        if frozen is not None:
            return _Issue(bundle, folder, view, files=dict(frozen))
        if pool is None:
            return _Issue(bundle, folder, view)
        return _Issue(
            bundle,
            folder,
            view,
            pdf=pool.submit(pdf_job(bundle, project, print_html(bundle, project, view))),
        )

    def _accept_archived(self, bundle: Bundle, frozen: dict[str, bytes]) -> _Issue | None:
        """A back-catalog issue's page (site/backcatalog.py), with its PDF and thumbnail to write."""
        from tablet_press.site.backcatalog import archived_page

        slug = bundle.slug
        try:
            page_entry, page, files = archived_page(bundle, self.project, frozen[f"{slug}.pdf"], self.cutoff)
        except BuildError as exc:
            self.report.failed[slug] = [Problem(f"issues/{slug}", 0, 0, str(exc))]
            self.progress(slug, "failed")
            return None
        self.entries[slug] = page_entry
        self.digests[slug] = _entry_digest(_entry_json(page_entry))
        old_folder = self.known.get(slug, {}).get("folder")
        if old_folder and old_folder != page_entry.folder:
            shutil.rmtree(self.out / old_folder, ignore_errors=True)
        folder = self.out / page_entry.folder
        page_bytes = page.encode()
        self.pages[slug] = hashlib.sha256(page_bytes).hexdigest()  # what the search index reads
        write_files(folder, {"index.html": page_bytes}, within=self.out, root=self.project.root)
        return _Issue(bundle, folder, None, files=files)

    def _finish(self, slug: str, issue: _Issue) -> None:
        """Wait for the issue's PDF (making its email meanwhile), then write its outputs and thumbnail."""
        from tablet_press.build import outputs, write_issue
        from tablet_press.render.email import linked_files

        problems: list[Problem] = []
        try:
            files = issue.files
            if files is None:
                files = outputs(issue.bundle, self.project, issue.view, issue.pdf, self.report.warnings)
            if "thumbnail.png" not in files:  # a back-catalog issue brings its own
                files["thumbnail.png"] = thumbnail(files[f"{slug}.pdf"])
            # The site keeps the PDF once: its .eml (the PDF again, attached) is for sending, from
            # dist/ or published/, not for the web (docs/decisions.md).
            files.pop(f"{slug}.eml", None)
            (issue.folder / f"{slug}.eml").unlink(missing_ok=True)  # left by an earlier version
            self.entries[slug] = replace(self.entries[slug], pdf_bytes=len(files[f"{slug}.pdf"]))
            # The page and the email show the issue's images (assets/...) and the logo from beside them.
            linked = linked_files(self.project, issue.view) if issue.view is not None else {}
            write_issue(issue.folder, files, linked, within=self.out, root=self.project.root)
        except BuildError as exc:
            problems = [Problem(f"issues/{slug}", 0, 0, str(exc))]
        except Exception as exc:  # a bug: report it against this issue and go on with the others
            message = f"internal error: {type(exc).__name__}: {exc} (please report this bug)"
            problems = [Problem(f"issues/{slug}", 0, 0, message)]
        if problems:
            self.report.failed[slug] = problems
        else:
            self.report.built.append(slug)
            entry = self.entries[slug]
            self.known[slug] = {
                "key": self.keys[slug],
                "folder": entry.folder,
                "entry": _entry_json(entry),
                "page": self.pages[slug],
                "digest": self.digests[slug],
            }
        self.progress(slug, "failed" if problems else "built")

    def _listed(self) -> list[Entry]:
        return [self.entries[s] for s in sorted(self.entries) if s not in self.report.failed]

    def _write_pages(self) -> _Search:
        """The pages about all listed issues and the shared files, each only if what it is made from
        changed (or it is missing); starts Pagefind over the parts of the search index whose pages changed."""
        from tablet_press.site.pages import page_specs, render_page

        listed = self._listed()
        # The PDF's size is known only once it is made, after these pages: the feed alone shows it.
        specs = page_specs(self.project, [replace(e, pdf_bytes=0) for e in listed])
        keys = {path: _page_key(self.shared, *spec, self.digests) for path, spec in specs.items()}
        files = {
            path: render_page(self.project, name, **context).encode()
            for path, (name, context) in specs.items()
            if self.files.get(path) != keys[path] or not (self.out / path).is_file()
        }
        shared = {
            "site.css": look.find(self.project, "styles", "site.css").read_bytes(),
            "logo.svg": look.find(self.project, "brand", self.project.config.brand.logo).read_bytes(),
            **self._fonts(),
        }
        files.update({name: data for name, data in shared.items() if not _holds(self.out / name, data)})
        for name, data in files.items():
            write_files(
                (self.out / name).parent, {Path(name).name: data}, within=self.out, root=self.project.root
            )
        for gone in set(self.files) - set(keys):  # a topic no issue uses any more
            if re.fullmatch(r"topics/[^/.][^/]*\.html", gone):
                (self.out / gone).unlink(missing_ok=True)
            del self.files[gone]
        self.files.update(keys)
        self.report.pages_written = True
        return _Search(self.out, self._search_parts(listed), self.search)

    def _search_parts(self, listed: list[Entry]) -> dict[str, str]:
        """The parts of the search index (one per year) whose issue pages changed: year -> key."""
        from importlib.metadata import version

        from tablet_press.site.pages import search_shards

        tool = f"pagefind {version('pagefind_bin')} {NOT_SEARCHED}"
        parts = {year: [tool] for year in search_shards(listed)}
        for e in listed:
            page = self.pages.get(e.slug) or self.known.get(e.slug, {}).get("page", "")
            parts[e.folder.split("/", 1)[0]].append(f"{e.folder} {page}")
        keys = {year: hashlib.sha256("\n".join(lines).encode()).hexdigest() for year, lines in parts.items()}
        index = self.out / SEARCH
        for gone in [p for p in index.iterdir() if p.name not in keys] if index.is_dir() else []:
            # a year no issue has any more, or an earlier version's single index
            shutil.rmtree(gone) if gone.is_dir() and not gone.is_symlink() else gone.unlink()
            self.search.pop(gone.name, None)
        for year in [y for y in self.search if y not in keys]:
            del self.search[year]
        return {
            year: key
            for year, key in keys.items()
            if self.search.get(year) != key or not (index / year / "pagefind.js").is_file()
        }

    def _write_feed(self) -> None:
        from tablet_press.site.pages import feed_context, render_page

        context = feed_context(self._listed())
        key = _page_key(self.shared, "site/feed.xml.j2", context, self.digests, sizes=True)
        if self.files.get("feed.xml") == key and (self.out / "feed.xml").is_file():
            return
        data = render_page(self.project, "site/feed.xml.j2", **context).encode()
        write_files(self.out, {"feed.xml": data}, root=self.project.root)
        self.files["feed.xml"] = key

    def _fonts(self) -> dict[str, bytes]:
        """The brand fonts as WOFF2 subsets and their @font-face rules, as paths in the site -> bytes.
        A font already in the site (its name holds a digest of its source) is not made again."""
        brand = self.project.config.brand.fonts
        families = [brand.body, brand.headings]
        files = {f"{FONTS}/fonts.css": fonts.web_font_css(families).encode()}
        for family in dict.fromkeys(families):
            # The OFL asks that its text travel with the fonts (and their Modified Versions).
            licence = f"{FONTS}/{fonts.web_font_family(family).replace(' ', '')}-LICENSE.txt"
            files[licence] = (fonts.font_dir(family) / "LICENSE.txt").read_bytes()
            for face in fonts.FAMILIES[family][1]:
                name = fonts.web_font_name(family, face)
                if not (self.out / FONTS / name).is_file():
                    files[f"{FONTS}/{name}"] = web_font_cached(family, face)
        return files


def web_font_cached(family: FontFamily, face: fonts.Face) -> bytes:
    """A WOFF2 subset from the user's cache (XDG_CACHE_HOME), made and kept there on first use: making
    the nine faces takes seconds, and every site on the machine serves the same files."""
    name = fonts.web_font_name(family, face)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tablet-press" / FONTS
    with suppress(OSError):
        return (cache / name).read_bytes()
    data = fonts.web_font(family, face)
    with suppress(OSError, BuildError):  # a cache that cannot be written only costs time
        write_files(cache, {name: data})
    return data


# Parts of an issue page that are the same in every issue: indexed, they would make every issue a
# result for a team member's name and give excerpts from the author team instead of the article. The
# shared body (_issue_body.html.j2) is also the PDF's, so they are named here, not marked in it.
NOT_SEARCHED = (".sidebar", ".masthead", ".disclaimer", ".kicker")


def search_index(out: Path, year: str) -> subprocess.Popen[bytes]:
    """Start indexing one year's issue pages for offline full-text search with Pagefind (its binary
    ships on PyPI) into pagefind/<year>/; `_Search` runs them and waits."""
    import pagefind_bin

    search = subprocess.Popen(
        # Only issue pages carry data-pagefind-body, so only they are indexed; naming them spares
        # Pagefind parsing every email .html beside them (a third of its time, same index).
        [
            str(pagefind_bin.get_executable()),
            *("--site", str(out), "--glob", f"{year}/*/index.html", "--quiet"),
            *("--output-path", str(out / SEARCH / year)),
            *(arg for selector in NOT_SEARCHED for arg in ("--exclude-selectors", selector)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if hasattr(os, "setpriority"):  # it runs beside the PDFs the archive waits for: those go first
        with suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, search.pid, 10)
    return search


class _Search:
    """The search index, one part per year of issues (pagefind/<year>/), which the index page's
    search merges (Pagefind's mergeIndex). Pagefind cannot add pages to an index it made; in parts, a
    changed issue re-indexes its year's issues alone, so the cost does not grow with the archive. The
    parts to make run one after another, beside the PDFs; `done` (the cache's record) learns each
    part's key once it is made, so a part that failed is made again next time."""

    def __init__(self, out: Path, todo: dict[str, str], done: dict[str, str]) -> None:
        self.out, self.todo, self.done = out, dict(todo), done
        self.running: tuple[str, subprocess.Popen[bytes]] | None = None
        self._next()

    def _next(self) -> None:
        self.running = None
        if self.todo:
            year = next(iter(self.todo))
            folder = self.out / SEARCH / year
            if folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder)  # Pagefind adds files, never removes the last run's
            self.running = (year, search_index(self.out, year))

    def _finished(self, year: str, search: subprocess.Popen[bytes]) -> None:
        _wait(search)
        for file in (self.out / SEARCH / year).iterdir():
            if UNUSED_SEARCH_FILES.fullmatch(file.name):
                file.unlink()
        self.done[year] = self.todo.pop(year)
        self._next()

    def poll(self) -> None:
        """Start the next part if the last one has finished."""
        while self.running is not None and self.running[1].poll() is not None:
            self._finished(*self.running)

    def wait(self) -> None:
        while self.running is not None:
            self._finished(*self.running)

    def kill(self) -> None:
        if self.running is not None:
            self.running[1].kill()
            self.running[1].wait()
            self.running = None


def _wait(search: subprocess.Popen[bytes]) -> None:
    try:
        stdout, stderr = search.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        search.kill()
        search.communicate()
        raise BuildError("the search index could not be built: Pagefind took longer than 5 minutes") from None
    if search.returncode != 0:
        message = (stderr or stdout).decode(errors="replace").strip()
        raise BuildError(f"the search index could not be built: {message}")


def _entry_digest(data: dict[str, Any]) -> str:
    """An entry as the index and topic pages show it (all but the PDF's size), hashed."""
    shown = {k: v for k, v in data.items() if k != "pdf_bytes"}
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()


def _page_key(
    shared: str, template: str, context: dict[str, Any], digests: dict[str, str], *, sizes: bool = False
) -> str:
    """What a site page is made from: the shared key (templates, styles, tablet.yaml, the tool), its
    template and its context as data, each listed entry as its digest (`digests`, by slug: made once
    when the issue is built, then kept in the cache), so that hashing a page costs little however many
    issues it lists. `sizes`: the feed, the only page showing the PDF's size."""
    from tablet_press.site.pages import Entry, Topic

    def plain(value: Any) -> Any:
        if isinstance(value, Entry):
            size = f" {value.pdf_bytes}" if sizes else ""
            return f"{digests[value.slug]}{size}"
        if isinstance(value, Topic):
            return [value.id, value.label, value.kind]
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(f"a page's context holds {type(value).__name__}, which its key cannot include")

    text = json.dumps([shared, template, context], default=plain, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _holds(path: Path, data: bytes) -> bool:
    """Whether the file already holds these bytes (then it is not written again)."""
    try:
        return not path.is_symlink() and path.read_bytes() == data
    except OSError:
        return False
