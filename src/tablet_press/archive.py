"""`tablet archive`: every issue as a static site (index, issue pages, topics, feed, search), rebuilt
incrementally (content hashes in a cache file) and in parallel across cores.

An issue's files are rebuilt only when its sources, the templates, styles, brand, tablet.yaml or the
tool's version change. Published issues serve their frozen outputs, never a re-render. One broken
issue is reported and does not stop the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tablet_press import __version__
from tablet_press.errors import BuildError, ValidationFailed
from tablet_press.project import Project, load_project
from tablet_press.sitepages import entry, site_pages
from tablet_press.validate import validate

CACHE = ".tablet-cache.json"
THUMBNAIL_SCALE = 0.32  # points -> pixels: a US Letter page becomes about 196 x 253 px


@dataclass
class ArchiveReport:
    built: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: dict[str, list[str]] = field(default_factory=dict)
    pages_written: bool = False

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
    digest = hashlib.sha256(f"tablet-press {__version__}\0".encode())
    digest.update((project.root / "tablet.yaml").read_bytes())
    for folder in (project.templates_dir, project.styles_dir, project.brand_dir):
        _hash_files(digest, folder)
    return digest.hexdigest()


def issue_key(shared: str, bundle_dir: Path) -> str:
    digest = hashlib.sha256(shared.encode())
    _hash_files(digest, bundle_dir)
    return digest.hexdigest()


def build_issue(root: str, slug: str, target: str) -> list[str]:
    """Build one issue's folder of the site (in a worker process); returns problems, [] on success."""
    from tablet_press.build import outputs, write_atomically
    from tablet_press.publish import frozen_outputs

    try:
        project = load_project(Path(root))
        report = validate(project, [project.issues_dir / slug])
        if report.errors or not report.bundles:
            return [p.format() for p in report.errors] or [f"issues/{slug}: could not be loaded"]
        bundle = report.bundles[0]
        files = frozen_outputs(bundle.path) or outputs(bundle, project)
        files["index.html"] = _issue_page(project, bundle).encode()
        files["thumbnail.png"] = thumbnail(files[f"{slug}.pdf"])
        write_atomically(Path(target), files)
    except ValidationFailed as exc:
        return [p.format() for p in exc.problems]
    except BuildError as exc:
        return [f"issues/{slug}: {exc}"]
    except Exception as exc:  # a bug: report it against this issue and go on with the others
        return [f"issues/{slug}: internal error: {type(exc).__name__}: {exc} (please report this bug)"]
    return []


def _issue_page(project: Project, bundle: object) -> str:
    from tablet_press.bundle import Bundle
    from tablet_press.render import issue_view, render

    assert isinstance(bundle, Bundle)
    return render(
        "site/issue.html.j2",
        issue_view(bundle, project),
        project,
        entry=entry(bundle, project),
        root="../../",
        config=project.config,
    )


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


def _load_cache(out: Path) -> dict[str, object]:
    try:
        data = json.loads((out / CACHE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) and data.get("tool") == __version__ else {}
    except (OSError, ValueError):
        return {}


def archive(
    project: Project,
    out: Path,
    *,
    jobs: int | None = None,
    progress: Callable[[str, str], None] = lambda slug, status: None,
) -> ArchiveReport:
    """Build the site in `out`; returns what was built, reused and failed."""
    from tablet_press.build import write_atomically

    report = ArchiveReport()
    checked = validate(project)
    broken = {p.file.split("/")[1] for p in checked.errors if p.file.startswith("issues/")}
    for problem in checked.errors:
        slug = problem.file.split("/")[1] if problem.file.startswith("issues/") else "tablet.yaml"
        report.failed.setdefault(slug, []).append(problem.format())
    bundles = [b for b in checked.bundles if b.slug not in broken]

    cache = _load_cache(out)
    known: dict[str, dict[str, str]] = cache.get("issues", {})  # type: ignore[assignment]
    shared = shared_key(project)
    keys = {b.slug: issue_key(shared, b.path) for b in bundles}
    entries = {b.slug: entry(b, project) for b in bundles}
    todo = []
    for bundle in bundles:
        folder = out / entries[bundle.slug].folder
        old = known.get(bundle.slug, {})
        if old.get("key") == keys[bundle.slug] and (folder / "index.html").exists():
            report.reused.append(bundle.slug)
            progress(bundle.slug, "reused")
            continue
        if old.get("folder") and old["folder"] != entries[bundle.slug].folder:
            shutil.rmtree(out / old["folder"], ignore_errors=True)  # the issue moved (its date changed)
        todo.append(bundle.slug)

    def finished(slug: str, problems: list[str]) -> None:
        if problems:
            report.failed[slug] = problems
        else:
            report.built.append(slug)
            known[slug] = {"key": keys[slug], "folder": entries[slug].folder}
        progress(slug, "failed" if problems else "built")

    workers = min(jobs or os.cpu_count() or 1, len(todo))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {
                s: pool.submit(build_issue, str(project.root), s, str(out / entries[s].folder)) for s in todo
            }
            for slug, future in futures.items():
                finished(slug, future.result())
    else:
        for slug in todo:
            finished(slug, build_issue(str(project.root), slug, str(out / entries[slug].folder)))

    listed = [entries[s] for s in sorted(set(report.built) | set(report.reused))]
    pages_key = hashlib.sha256(
        json.dumps(
            [shared, sorted((s, keys[s]) for s in keys if s in set(report.built) | set(report.reused))]
        ).encode()
    )
    if report.built or cache.get("pages") != pages_key.hexdigest() or not (out / "index.html").exists():
        files = {name: text.encode() for name, text in site_pages(project, listed).items()}
        files["site.css"] = (project.styles_dir / "site.css").read_bytes()
        files["logo.svg"] = (project.brand_dir / project.config.brand.logo).read_bytes()
        for name, data in files.items():
            write_atomically((out / name).parent, {Path(name).name: data})
        search_index(out)
        report.pages_written = True
    for slug in list(known):
        if slug not in keys:
            del known[slug]
    cache_text = json.dumps({"tool": __version__, "issues": known, "pages": pages_key.hexdigest()}, indent=2)
    write_atomically(out, {CACHE: cache_text.encode()})
    return report


def search_index(out: Path) -> None:
    """Index the issue pages for offline full-text search with Pagefind (its binary ships on PyPI)."""
    import pagefind_bin

    result = subprocess.run(
        [str(pagefind_bin.get_executable()), "--site", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise BuildError(
            f"the search index could not be built: {result.stderr.strip() or result.stdout.strip()}"
        )
