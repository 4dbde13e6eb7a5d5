"""`tablet build`: validate, render every output of each issue in memory, then write them atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tablet_press.bundle.folder import ASSETS_DIR, Bundle
from tablet_press.bundle.project import Project
from tablet_press.checks.validate import Report, validate
from tablet_press.errors import BuildError, InternalError, ValidationFailed, display_path
from tablet_press.render.view import IssueView, issue_view, render

if TYPE_CHECKING:
    from concurrent.futures import Future

    from tablet_press.render.email import EmailEdition


@dataclass
class Built:
    slug: str
    files: list[Path] = field(default_factory=list)


def print_html(bundle: Bundle, project: Project, view: IssueView | None = None) -> str:
    view = view if view is not None else issue_view(bundle, project)
    logo = (project.brand_dir / project.config.brand.logo).as_uri()
    css = (project.styles_dir / "print.css").as_uri()
    return render("print.html.j2", view, project, logo_url=logo, stylesheet_url=css)


def issue_pdf(bundle: Bundle, project: Project, html: str | None = None) -> bytes:
    return pdf_job(bundle, project, html if html is not None else print_html(bundle, project))()


def pdf_job(bundle: Bundle, project: Project, html: str) -> partial[bytes]:
    """The call that makes an issue's PDF from its print HTML; picklable, so that a worker process
    (pdf.pdf_workers) can run it having imported no more than pdf.py."""
    from tablet_press.render import pdf

    fonts = project.config.brand.fonts
    return partial(
        pdf.write_pdf,
        html,
        base_url=bundle.path,
        allowed=[
            bundle.path / ASSETS_DIR,
            project.styles_dir,
            project.templates_dir,
            project.brand_dir,
            *_font_dirs(),
        ],
        fonts=[fonts.body, fonts.headings],
        what=f"issues/{bundle.slug}",
        identity=html.replace(project.root.resolve().as_uri(), ""),
        seconds=pdf.RENDER_SECONDS,  # read here, so that a spawned worker keeps this process's limit
    )


def _font_dirs() -> list[Path]:
    from tablet_press.render.fonts import font_dirs

    return font_dirs()


def outputs(
    bundle: Bundle, project: Project, view: IssueView | None = None, pdf: Future[bytes] | None = None
) -> dict[str, bytes]:
    """Every output of one issue, as bytes, keyed by file name. Nothing is written here.

    `pdf` is the issue's PDF being made by a worker (see pdf.pdf_workers); without it, it is made here."""
    from tablet_press.render.email import email_edition, email_outputs

    # One view model for every output: it runs the citation engine, the costliest part after WeasyPrint.
    view = view if view is not None else issue_view(bundle, project)
    if pdf is None:
        data = issue_pdf(bundle, project, print_html(bundle, project, view))
        return {f"{bundle.slug}.pdf": data, **email_outputs(bundle, project, data, view)}
    try:  # the email while the worker typesets; the PDF's own errors still come first
        email: EmailEdition | BuildError = email_edition(bundle, project, view)
    except BuildError as exc:
        email = exc
    data = pdf.result()
    if isinstance(email, BuildError):
        raise email
    return {f"{bundle.slug}.pdf": data, **email.files(project, data)}


def write_atomically(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Write each file via a temp file and os.replace: a reader sees the old file or the new one, never
    half of one; if anything fails before the replaces, no earlier output changes."""
    if folder.is_symlink():
        raise BuildError(f"{folder} is a symbolic link; refusing to write through it")
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, data in files.items():
            handle, temp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            staged.append((name, Path(temp_name)))
        for name, temp in staged:
            target = folder / name
            if target.is_symlink():
                raise BuildError(f"{target} is a symbolic link; refusing to write through it")
            os.replace(temp, target)
    finally:
        for _, leftover in staged:
            leftover.unlink(missing_ok=True)
    return [folder / name for name in files]


def build(
    project: Project,
    paths: list[Path] | None,
    out: Path,
    *,
    strict: bool = False,
    progress: Callable[[str], None] = lambda _: None,
    done: Callable[[Built], None] = lambda _: None,
) -> tuple[Report, list[Built]]:
    """Validate everything first (nothing is written if any bundle has errors), then build each issue.

    `done` hears of each issue as soon as its files are written, so that a failure in a later issue
    can be reported truthfully (what was written already, and what was not)."""
    issues = project.issues_dir.resolve()
    if out.resolve() == issues or issues in out.resolve().parents:
        shown = display_path(out, project.root)
        raise BuildError(f"the output folder {shown} is inside issues/; outputs never go into bundles")
    report = validate(project, paths)
    if report.failed(strict):
        raise ValidationFailed(report.problems)
    built = []
    from tablet_press.render.pdf import pdf_workers

    cores, count = os.cpu_count() or 1, len(report.bundles)
    # Several issues are typeset in parallel; one is built here, as a worker would gain it little.
    with pdf_workers(min(cores, count) if cores > 1 and count > 1 else 0) as pool:
        started = []  # every PDF is handed to a worker first, then each issue is finished in order
        for bundle in report.bundles:
            with _blame(bundle):
                view = issue_view(bundle, project)
                pdf = None
                if pool is not None:
                    pdf = pool.submit(pdf_job(bundle, project, print_html(bundle, project, view)))
            started.append((bundle, view, pdf))
        for bundle, view, pdf in started:
            progress(bundle.slug)
            with _blame(bundle):
                files = outputs(bundle, project, view, pdf)
            built.append(Built(bundle.slug, write_atomically(out / bundle.slug, files)))
            done(built[-1])
    return report, built


@contextmanager
def _blame(bundle: Bundle) -> Iterator[None]:
    """Errors a user can cause pass as they are; a bug says which issue was being built."""
    try:
        yield
    except (BuildError, ValidationFailed):
        raise
    except Exception as exc:
        raise InternalError(f"while building issues/{bundle.slug}") from exc
