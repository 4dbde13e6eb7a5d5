"""`tablet build`: validate, render every output of each issue in memory, then write them atomically
(atomic.write_files)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tablet_press.bundle import look
from tablet_press.bundle.atomic import check_output_folder, write_files
from tablet_press.bundle.folder import ASSETS_DIR, Bundle
from tablet_press.bundle.project import Project
from tablet_press.checks.validate import Report, validate
from tablet_press.errors import BuildError, InternalError, Problem, ValidationFailed
from tablet_press.render.view import IssueView, issue_view, render

if TYPE_CHECKING:
    from concurrent.futures import Future

    from tablet_press.render.email import EmailEdition
    from tablet_press.render.pdf import Mounts, Typeset


# Lazy imports: WeasyPrint (render/pdf.py) and css-inline (render/email.py) load only when an issue is
# typeset, so that validating never imports them.


@dataclass
class Built:
    slug: str
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # the email's compatibility notes (email_compat.py)


def print_html(bundle: Bundle, project: Project, view: IssueView | None = None) -> str:
    """The issue as HTML for WeasyPrint; it names the logo and stylesheet by their mounted URLs."""
    view = view if view is not None else issue_view(bundle, project)
    mounts = _mounts(bundle, project)
    logo = mounts.url(look.find(project, "brand", project.config.brand.logo))
    css = mounts.url(look.find(project, "styles", "print.css"))
    return render("print.html.j2", view, project, logo_url=logo, stylesheet_url=css)


def _mounts(bundle: Bundle, project: Project) -> Mounts:
    """The folders a PDF reads from, under URLs that do not say where they are on disk (see pdf.Mounts):
    the issue (its images), the project (its own look) and tablet-press's default look."""
    from tablet_press.render.pdf import Mounts

    return Mounts((("issue", bundle.path), ("project", project.root), ("defaults", look.defaults_root())))


def issue_pdf(bundle: Bundle, project: Project, html: str | None = None) -> bytes:
    """The issue's PDF alone (WeasyPrint's warnings dropped: `outputs` and `build` report them)."""
    return pdf_job(bundle, project, html if html is not None else print_html(bundle, project))().pdf


def pdf_job(bundle: Bundle, project: Project, html: str) -> partial[Typeset]:
    """The call that makes an issue's PDF from its print HTML; picklable, so that a worker process
    (pdf.pdf_workers) can run it having imported no more than pdf.py."""
    from tablet_press.render import pdf

    fonts = project.config.brand.fonts
    mounts = _mounts(bundle, project)
    return partial(
        pdf.typeset,
        html,
        base_url=bundle.path,
        allowed=[
            bundle.path / ASSETS_DIR,
            *(folder for kind in look.KINDS for folder in look.folders(project, kind)),
            *_font_dirs(),
        ],
        fonts=[fonts.body, fonts.headings],
        what=f"issues/{bundle.slug}",
        mounts=mounts,
        # The project's URL left out, as when the HTML named the project's real folder: the identifiers
        # of PDFs made before the mounts stay as they were.
        identity=html.replace(mounts.url(project.root).rstrip("/"), ""),
        seconds=pdf.RENDER_SECONDS,  # read here, so that a spawned worker keeps this process's limit
        day=bundle.issue.date,
        root=project.root,
    )


def _font_dirs() -> list[Path]:
    from tablet_press.render.fonts import font_dirs

    return font_dirs()


def outputs(
    bundle: Bundle,
    project: Project,
    view: IssueView | None = None,
    pdf: Future[Typeset] | None = None,
    problems: list[Problem] | None = None,
    notes: list[str] | None = None,
) -> dict[str, bytes]:
    """Every output of one issue, as bytes, keyed by file name. Nothing is written here.

    `pdf` is the issue's PDF being made by a worker (see pdf.pdf_workers); without it, it is made here.
    The warnings WeasyPrint logged while making it are added to `problems`, when given; the email's
    compatibility notes (what `tablet build --verbose` lists) to `notes`."""
    from tablet_press.render.email import email_edition

    # One view model for every output: it runs the citation engine, the costliest part after WeasyPrint.
    view = view if view is not None else issue_view(bundle, project)
    if pdf is None:
        made = pdf_job(bundle, project, print_html(bundle, project, view))()
        if problems is not None:
            problems += made.problems
        edition = email_edition(bundle, project, view)
        if notes is not None:
            notes += edition.notes
        return {f"{bundle.slug}.pdf": made.pdf, **edition.files(project, made.pdf)}
    try:  # the email while the worker typesets; the PDF's own errors still come first
        email: EmailEdition | BuildError = email_edition(bundle, project, view)
    except BuildError as exc:
        email = exc
    made = pdf.result()
    if isinstance(email, BuildError):
        raise email
    if problems is not None:
        problems += made.problems
    if notes is not None:
        notes += email.notes
    return {f"{bundle.slug}.pdf": made.pdf, **email.files(project, made.pdf)}


def write_issue(
    folder: Path, files: dict[str, bytes], linked: dict[str, bytes], *, within: Path, root: Path
) -> list[Path]:
    """An issue's outputs into `folder`, with the files its HTML links to (email.linked_files:
    logo.png, assets/...) beside them; returns the paths written."""
    written = write_files(folder, files, within=within, root=root)
    by_folder: dict[str, dict[str, bytes]] = {}
    for path, data in linked.items():
        parent, _, name = path.rpartition("/")
        by_folder.setdefault(parent, {})[name] = data
    for parent, group in sorted(by_folder.items()):
        written += write_files(folder / parent if parent else folder, group, within=within, root=root)
    return written


def build(
    project: Project,
    paths: list[Path] | None,
    out: Path,
    *,
    strict: bool = False,
    progress: Callable[[str], None] = lambda _: None,
    done: Callable[[Built], None] = lambda _: None,
    skipped: Callable[[str], None] = lambda _: None,
) -> tuple[Report, list[Built]]:
    """Validate everything first (nothing is written if any bundle has errors), then build each issue.

    WeasyPrint's warnings (a CSS typo) are known only once the PDFs are made; they join the report's
    problems. With `strict`, every issue is made in memory before anything is written, so that such a
    warning refuses the build as a validation warning does: nothing is written.

    `done` hears of each issue as soon as its files are written, so that a failure in a later issue
    can be reported truthfully (what was written already, and what was not).

    A back-catalog issue (kind: archived-pdf) has nothing to build: its PDF is the one sent, kept in
    published/. `skipped` hears of each such issue; it is no error."""
    check_output_folder(out, issues=project.issues_dir, root=project.root)
    report = validate(project, paths)
    if report.failed(strict):
        raise ValidationFailed(report.problems)
    for bundle in report.bundles:
        if bundle.issue.archived_pdf:
            skipped(bundle.slug)
    built = []
    typeset = [bundle for bundle in report.bundles if not bundle.issue.archived_pdf]
    from tablet_press.render.email import linked_files
    from tablet_press.render.pdf import pdf_workers

    cores, count = os.cpu_count() or 1, len(typeset)
    # Several issues are typeset in parallel; one is built here, as a worker would gain it little.
    with pdf_workers(min(cores, count) if cores > 1 and count > 1 else 0) as pool:
        started = []  # every PDF is handed to a worker first, then each issue is finished in order
        for bundle in typeset:
            with _blame(bundle):
                view = issue_view(bundle, project)
                pdf = None
                if pool is not None:
                    pdf = pool.submit(pdf_job(bundle, project, print_html(bundle, project, view)))
            started.append((bundle, view, pdf))
        made: list[Problem] = []
        pending = []
        for bundle, view, pdf in started:
            progress(bundle.slug)
            notes: list[str] = []
            with _blame(bundle):
                files = outputs(bundle, project, view, pdf, made, notes)
                linked = linked_files(project, view)
            if strict:
                pending.append((bundle.slug, files, linked, notes))
            else:
                written = write_issue(out / bundle.slug, files, linked, within=out, root=project.root)
                built.append(Built(bundle.slug, written, notes))
                done(built[-1])
    report.problems += sorted(set(made))  # the shared stylesheets warn once per issue: say it once
    if report.failed(strict):
        raise ValidationFailed(report.problems)
    for slug, files, linked, notes in pending:
        built.append(
            Built(slug, write_issue(out / slug, files, linked, within=out, root=project.root), notes)
        )
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
