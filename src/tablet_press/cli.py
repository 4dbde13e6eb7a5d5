"""The `tablet` command: each subcommand parses its options and calls one library function.

Library modules are imported inside the commands so that `tablet --help` and `tablet validate`
stay fast and never load WeasyPrint.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

# Lazy imports: each command imports the library it calls, so that `tablet --help` and `tablet validate`
# load no more than they use (never WeasyPrint; tests/test_cli.py checks).

F = TypeVar("F", bound=Callable[..., Any])
ISSUE_TRACKER = "https://github.com/tablet-press/tablet-press/issues"


# click's per-invocation store: whether the command writes files, and how many it has written so far.
WRITES, WRITTEN = "tablet.writes", "tablet.written"


def _writes(func: F) -> F:
    """Mark a command that writes files: when it refuses, its last line says whether anything was
    written, so that nobody has to guess whether dist/ or a bundle was left half-changed."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        click.get_current_context().meta[WRITES] = True
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _wrote(paths: list[Path], root: Path) -> None:
    """Say that files were written, as soon as they are, and count them for a refusal's summary.

    Paths are shown relative to the project root, as problems are, wherever you run the command."""
    from tablet_press.errors import display_path

    meta = click.get_current_context().meta
    for path in paths:
        click.echo(f"wrote {display_path(path, root)}")
        meta[WRITTEN] = meta.get(WRITTEN, 0) + 1


def _refusal_summary(problems: list[Any] | None = None) -> None:
    """The last line of a refusal by a command that writes: the counts, and what was (not) written."""
    meta = click.get_current_context().meta
    if not meta.get(WRITES):
        return
    counts = ""
    if problems is not None:
        errors = sum(p.severity == "error" for p in problems)
        warnings = len(problems) - errors
        counts = (
            f"{errors} error(s), {warnings} warning(s); "
            if errors
            else f"{warnings} warning(s), which --strict counts as errors; "
        )
    written = meta.get(WRITTEN, 0)
    said = "nothing was written" if not written else f"{written} file(s) above were written before this"
    click.echo(f"FAILED: {counts}{said}", err=True)


def _friendly_errors(func: F) -> F:
    """Turn the errors a user can cause into messages and exit 1; never a traceback for them."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from tablet_press.errors import BuildError, InternalError, ValidationFailed

        try:
            return func(*args, **kwargs)
        except ValidationFailed as exc:
            _print_problems(exc.problems)
            _refusal_summary(exc.problems)
            raise SystemExit(1) from None
        except BuildError as exc:
            click.echo(f"error: {exc}", err=True)
            _refusal_summary()
            raise SystemExit(1) from None
        except (click.ClickException, click.exceptions.Exit, SystemExit, KeyboardInterrupt, BrokenPipeError):
            raise
        except Exception as exc:  # an internal error: say where to report it, not a traceback
            where: str = ""
            cause: BaseException = exc
            if isinstance(exc, InternalError) and exc.__cause__ is not None:
                where, cause = f" {exc.where}", exc.__cause__
            click.echo(
                f"internal error{where}: {type(cause).__name__}: {cause}\n"
                f"This is a bug in tablet-press; please report it at {ISSUE_TRACKER} "
                f"with the command you ran (set TABLET_DEBUG=1 for details).",
                err=True,
            )
            import os

            if os.environ.get("TABLET_DEBUG"):
                raise
            raise SystemExit(3) from None

    return wrapper  # type: ignore[return-value]


def _print_problems(problems: list[Any], fmt: str = "text") -> None:
    if fmt == "json":
        import json  # only for --format json: 2 ms of every start otherwise

        click.echo(json.dumps([p.as_json() for p in problems], indent=2, ensure_ascii=False))
        return
    for problem in problems:
        click.echo(problem.format())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tablet-press")
def cli() -> None:
    """tablet-press: check, typeset and archive The Tablet.

    Run commands anywhere inside the newsletter's project (the folder with tablet.yaml, found by
    looking upwards). Commands that take issues mean the issue you are in, else every issue; outputs
    go to the project's dist/ and site/ unless --out says otherwise.
    """


# Problems printed as text (file:line:col: ...) or as JSON, for editors and CI (validate, archive).
_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    help="json prints the problems for editors and CI.",
)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_format_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--watch",
    is_flag=True,
    help="Keep running: check again on every save and print the problems (json: one array a line); "
    "Ctrl-C or SIGTERM stops.",
)
@_friendly_errors
def validate(paths: tuple[Path, ...], fmt: str, strict: bool, watch: bool) -> None:
    """Check issue bundles and report every problem at once.

    PATH is an issue folder or anything inside one (default: the issue you are in, else every issue).
    """
    if watch:
        _watch(paths, fmt, strict)
        return
    from tablet_press.bundle.project import load_project
    from tablet_press.checks.validate import validate as run

    project = load_project(paths[0] if paths else Path.cwd())
    targets = project.targets(paths, Path.cwd())
    report = run(project, targets)
    _print_problems(report.problems, fmt)
    if fmt == "text":
        count = len(report.bundles) if not report.errors else len(targets or project.bundle_dirs())
        summary = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s) in {count} issue(s)"
        click.echo(("FAILED: " if report.failed(strict) else "ok: ") + summary, err=True)
    raise SystemExit(1 if report.failed(strict) else 0)


def _watch(paths: tuple[Path, ...], fmt: str, strict: bool) -> None:
    """`tablet validate --watch`: the problems after each save, until Ctrl-C or SIGTERM (exit 0)."""
    import json
    import signal
    import time

    from tablet_press.checks.watch import rechecks

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)  # a service manager's stop, as Ctrl-C
    try:
        start = paths[0] if paths else Path.cwd()
        if fmt == "text":
            click.echo("watching: the problems are printed again after every save; Ctrl-C stops", err=True)
        for check in rechecks(start, paths, Path.cwd()):
            if fmt == "json":
                click.echo(json.dumps([p.as_json() for p in check.problems], ensure_ascii=False))
                continue
            click.echo(f"--- {time.strftime('%H:%M:%S')}")
            _print_problems(check.problems)
            summary = f"{check.errors} error(s), {check.warnings} warning(s) in {check.issues} issue(s)"
            verdict = "FAILED: " if check.failed(strict) else "ok: "
            click.echo(f"{verdict}{summary} (checked in {check.seconds * 1000:.0f} ms)", err=True)
    except KeyboardInterrupt:
        if fmt == "text":
            click.echo("stopped watching", err=True)
    finally:
        signal.signal(signal.SIGTERM, previous)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the outputs: OUT/<slug>/<slug>.pdf and friends (default: the project's dist/).",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors (run this before sending).")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Also list the email's compatibility notes: features Gmail, Outlook (Windows) or Apple Mail "
    "lack or support partly, where the email still reads right.",
)
@_friendly_errors
@_writes
def build(paths: tuple[Path, ...], out: Path | None, strict: bool, verbose: bool) -> None:
    """Validate, then typeset each issue into PDF and email outputs.

    PATH is an issue folder or anything inside one (default: the issue you are in, else every issue).
    """
    from tablet_press.build import Built
    from tablet_press.build import build as run
    from tablet_press.bundle.project import load_project
    from tablet_press.checks.email_compat import heading

    def done(issue: Built) -> None:
        _wrote(issue.files, project.root)
        if verbose and issue.notes:
            click.echo(heading(issue.slug))
            for note in issue.notes:
                click.echo(f"  {note}")

    project = load_project(paths[0] if paths else Path.cwd())
    report, built = run(
        project,
        project.targets(paths, Path.cwd()),
        project.dist_dir if out is None else Path.cwd() / out,
        strict=strict,
        progress=lambda slug: click.echo(f"building {slug} ...", err=True),
        done=done,
        skipped=lambda slug: click.echo(
            f"issues/{slug} is a back-catalog issue: nothing to build (its PDF as sent is in "
            f"issues/{slug}/published/)"
        ),
    )
    _print_problems(report.warnings)
    if built:
        _subsetter_notice()


@cli.command()
@click.argument("kind", type=click.Choice(["issue", "tablet", "references"]), default="issue")
def schema(kind: str) -> None:
    """Print the JSON Schema of issue.yaml, tablet.yaml or references.yaml."""
    from tablet_press.bundle.schema import json_schema

    click.echo(json_schema(kind), nl=False)


@cli.command()
@click.argument("slug")
@_friendly_errors
@_writes
def new(slug: str) -> None:
    """Start a new issue in issues/SLUG, with the team from tablet.yaml filled in."""
    from tablet_press.bundle.project import load_project
    from tablet_press.bundle.scaffold import new_issue

    project = load_project(Path.cwd())
    folder = new_issue(project, slug)
    click.echo(
        f"created {folder.relative_to(project.root)}/: fill in issue.yaml and the .md files, "
        f"then run 'tablet validate {folder.relative_to(project.root)}'"
    )


@cli.command()
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@_friendly_errors
def init(folder: Path | None) -> None:
    """Start a new newsletter project in FOLDER (default: here): tablet.yaml and an empty issues/."""
    from tablet_press.bundle.starter import init_project

    config = init_project(folder or Path.cwd())
    click.echo(f"created {config}: fill in the newsletter, brand, team and topics, then 'tablet new SLUG'")


@cli.group()
def refs() -> None:
    """Work with an issue's references (references.yaml)."""


@refs.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--issue",
    type=click.Path(path_type=Path),
    help="The issue folder to add to (default: the issue folder you are in).",
)
@_friendly_errors
@_writes
def refs_import(file: Path, issue: Path | None) -> None:
    """Import a .bib, .json or .ris file.

    Appends the references in FILE (BibTeX, CSL-JSON or RIS, as Zotero, EndNote and Mendeley export
    them) to the issue's references.yaml; those whose DOI (or PMID) is already there are skipped and
    listed.
    """
    from tablet_press.bundle.project import load_project
    from tablet_press.refs.importer import import_file

    project = load_project(issue or Path.cwd())
    for line in import_file(project, file, issue, Path.cwd()).report():
        click.echo(line)


@cli.command("import")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--slug", help="The new issue's folder name under issues/ (default: from the file name).")
@click.option(
    "--accept-changes", is_flag=True, help="Import a draft with tracked changes as if all were accepted."
)
@click.option("--number", type=click.IntRange(0), default=None, help="A past issue's number.")
@click.option(
    "--date",
    "when",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="A past issue's date as sent, YYYY-MM-DD.",
)
@click.option("--title", default=None, help="A past issue's title (default for a PDF: its metadata title).")
@click.option(
    "--author", "authors", multiple=True, help="A past issue's author: a team id or a name; repeat for more."
)
@click.option(
    "--topic", "topics", multiple=True, help="A past issue's topic (from tablet.yaml's topics); repeat."
)
@_friendly_errors
@_writes
def import_(
    source: Path,
    slug: str | None,
    accept_changes: bool,
    number: int | None,
    when: Any,
    title: str | None,
    authors: tuple[str, ...],
    topics: tuple[str, ...],
) -> None:
    """Turn a Word draft (.docx) into a new issue, or add past issues to the archive.

    DRAFT.docx: maps the author team, today's topic, each section, the clinical pearls, the
    literature's studies and the reference list onto a new bundle in issues/SLUG; prints the import's
    report (also saved as import-report.txt in the bundle), then validates the new issue.

    PAST.pdf --number N --date YYYY-MM-DD --title ...: adds a past issue as it was sent (the PDF,
    recorded in publications.json like any published issue). A .docx with --number/--date comes in
    as a draft with those set, to check and then publish. FOLDER: every .pdf and .docx in it, each
    with its sidecar NAME.yaml or a file name NUMBER-YYYY-MM-DD-title.pdf; prints what came in and
    what needs attention, and exits 1 if anything does.
    """
    from tablet_press.bundle.project import load_project

    project = load_project(Path.cwd())
    past = number is not None or when is not None or title is not None or authors or topics
    if source.is_dir():
        from tablet_press.importer.backcatalog import import_folder

        if past or slug:
            raise click.UsageError("a folder's issues take their metadata from sidecars or file names")
        folder = import_folder(project, source, accept_changes=accept_changes)
        for came in folder.came:
            _wrote([came.folder], project.root)
        for line in folder.lines():
            click.echo(line)
        raise SystemExit(1 if folder.attention else 0)
    if source.suffix.lower() == ".pdf" or past:
        from tablet_press.importer.backcatalog import PastIssue, from_file_name, import_past_docx, import_pdf

        meta = PastIssue(
            number, when.date() if when else None, title, slug, list(authors), list(topics)
        ).merged(from_file_name(source))
        if source.suffix.lower() == ".pdf":
            came = import_pdf(project, source, meta)
        else:
            came = import_past_docx(project, source, meta, accept_changes=accept_changes)
        _wrote([came.folder], project.root)
        for line in came.lines:
            click.echo(line)
        return
    from tablet_press.importer.word import import_docx

    result = import_docx(project, source, slug, accept_changes=accept_changes)
    for line in result.report:
        click.echo(line)
    _wrote([result.folder], project.root)
    if result.validation is not None:
        for problem in result.validation.problems:
            click.echo(problem.format())
        errors, warnings = len(result.validation.errors), len(result.validation.warnings)
        click.echo(
            f"{errors} error(s), {warnings} warning(s) in the new issue; fix them, then 'tablet build'"
        )


@cli.command()
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of the static site (default: the project's site/).",
)
@click.option(
    "--jobs", type=click.IntRange(1), default=None, help="Issues built at once (default: all cores)."
)
@_format_option
@_friendly_errors
def archive(out: Path | None, jobs: int | None, fmt: str) -> None:
    """Build the archive site: every issue, topic pages, a feed and offline search (incremental)."""
    from tablet_press.bundle.project import load_project
    from tablet_press.site.archive import archive as run

    project = load_project(Path.cwd())
    out = project.site_dir if out is None else Path.cwd() / out
    if sys.stderr.isatty():  # a progress bar for people; logs and CI get the summary line only
        with click.progressbar(length=len(project.bundle_dirs()), label="archive", file=sys.stderr) as bar:
            report = run(project, out, jobs=jobs, progress=lambda slug, status: bar.update(1))
    else:
        report = run(project, out, jobs=jobs)
    _print_problems(report.problems, fmt)
    click.echo(report.summary(), err=True)
    if report.built:
        _subsetter_notice()
    raise SystemExit(1 if report.failed else 0)


@cli.command()
@click.argument("issue", required=False)
@click.option(
    "--date",
    "when",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Publication date, YYYY-MM-DD (default: today).",
)
@click.option(
    "--correction",
    is_flag=True,
    help="Record the corrections added to a published issue: its sources as they are now become the "
    "baseline later edits are checked against.",
)
@_friendly_errors
@_writes
def publish(issue: str | None, when: Any, correction: bool) -> None:
    """Freeze an issue as sent: store its outputs, record them in publications.json (commit it).

    ISSUE is a slug or a path to the issue folder (default: the issue you are in; never every issue).
    With --correction, record a correction to an issue published before."""
    from datetime import date

    from tablet_press.build import outputs
    from tablet_press.bundle.ledger import LEDGER_FILE
    from tablet_press.bundle.project import load_project
    from tablet_press.checks.validate import validate as check
    from tablet_press.errors import BuildError, ValidationFailed
    from tablet_press.site.publish import publish as run
    from tablet_press.site.publish import record_correction

    here = Path.cwd()
    project = load_project(here)
    folder = project.issue_named(issue, here) if issue else project.issue_of(here)
    if folder is None:
        raise BuildError("name the issue to publish (tablet publish SLUG), or run this inside its folder")
    report = check(project, [folder], recording=correction)
    if report.errors or not report.bundles:
        raise ValidationFailed(report.problems)
    bundle = report.bundles[0]
    slug = bundle.slug
    if correction:
        baseline = record_correction(project, bundle)
        click.echo(
            f"recorded the correction of {baseline.date} to issues/{slug} in {LEDGER_FILE}: later edits "
            "are checked against the sources as they are now; commit it"
        )
        return
    manifest = run(project, bundle, outputs(bundle, project), when.date() if when else date.today())
    click.echo(
        f"published issues/{slug} on {manifest.published.isoformat()}: "
        f"{len(manifest.outputs)} outputs frozen in issues/{slug}/published/, recorded in {LEDGER_FILE}; "
        "commit both"
    )


@cli.command()
@click.argument("issue")
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="ADDRESS",
    help="A recipient (the distribution list); repeat for more. Each gets the message in the SMTP "
    "envelope only, never in a header.",
)
@click.option(
    "--dry-run", is_flag=True, help="Print what would be sent, to whom and how; connect to nothing."
)
@click.option("--test", is_flag=True, help='Send to smtp.test_to only, with "[TEST]" before the subject.')
@click.option("--resend", is_flag=True, help="Send an issue that was sent before again (recorded too).")
@click.option("--resume", is_flag=True, help="Finish a send that stopped: only those it did not reach.")
@_friendly_errors
def send(issue: str, to: tuple[str, ...], dry_run: bool, test: bool, resend: bool, resume: bool) -> None:
    """Send the issue's email through the relay in tablet.yaml's smtp:.

    ISSUE is a slug or a path to the issue folder. A real send needs the issue published (tablet
    publish) and sends the email as published, recorded in publications.json; --test and --dry-run
    work on any issue that builds. The issue is built first (dist/), with --strict for a real send."""
    from tablet_press.bundle.project import load_project
    from tablet_press.errors import BuildError
    from tablet_press.mail.send import message_source, plan, report
    from tablet_press.mail.send import send as run
    from tablet_press.mail.smtp import relay

    here = Path.cwd()
    project = load_project(here)
    folder = project.issue_named(issue, here)
    say = lambda line: click.echo(line, err=True)  # noqa: E731 - progress and warnings, on stderr
    bundle, eml, source = message_source(project, folder, real=not test, say=say)
    chosen = plan(project, bundle.slug, eml, source, to=list(to), test=test, resend=resend, resume=resume)
    smtp = project.config.smtp
    if dry_run:
        where = "none: tablet.yaml has no smtp: section"
        if smtp is not None:
            login = f", login as {smtp.user}" if smtp.user else ""
            rate = f"at most {smtp.per_minute} messages a minute"
            where = f"{smtp.host}:{smtp.port_number} ({smtp.security}{login}), {rate}"
        for line in chosen.dry_run(where):
            click.echo(line)
        return
    if smtp is None:
        raise BuildError(
            "tablet.yaml has no smtp: section: add the relay's host (see the README's Email section)"
        )
    delivery = run(project, chosen, relay(smtp))
    for line in report(chosen, delivery):
        click.echo(line)
    raise SystemExit(0 if delivery.complete else 1)


@cli.command()
@_friendly_errors
def verify() -> None:
    """Check every published issue against publications.json: outputs as sent, sources unchanged since
    the last recorded correction; lists which sources each correction changed. Run it before uploading
    an archive.

    Always every issue, wherever you run it: it guards the whole archive, and is quick."""
    from tablet_press.bundle.project import load_project
    from tablet_press.checks.publication import verify as run
    from tablet_press.checks.validate import validate as check

    project = load_project(Path.cwd())
    report = check(project)
    verified = run(project, report.bundles)
    for line in verified.history:
        click.echo(line)
    _print_problems(verified.problems)
    failed = "FAILED" if verified.problems else "ok"
    click.echo(f"{failed}: {verified.checked} published issue(s) checked", err=True)
    raise SystemExit(1 if verified.problems else 0)


@cli.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)
@_friendly_errors
def preview(path: Path | None, port: int) -> None:
    """Show an issue in your browser as its email and PDF, reloading on every save.

    PATH is the issue folder or anything inside it (default: the one you are in, else the one edited
    last: a preview shows one issue). Only this computer can see the preview; Ctrl-C, SIGTERM and
    SIGHUP stop it.
    """
    from tablet_press.preview.server import serve

    _subsetter_notice()
    serve(path or Path.cwd(), port, click.echo)


def _subsetter_notice() -> None:
    """Say once, on stderr, when PDFs are made the slower way (see pdf.SUBSETTER_NOTICE). A notice,
    not a warning: it is about this machine, not the issue, so --strict does not fail on it."""
    from tablet_press.render import pdf

    if pdf.faster_subsetter_missing():
        click.echo(pdf.SUBSETTER_NOTICE, err=True)


def main() -> None:
    import gc
    import os

    # A run allocates millions of objects that live to its end (pydantic's validators, Jinja's templates,
    # WeasyPrint's boxes): with the default thresholds the collector scans them 300 times a build
    # (0.15-0.2 s of CPU). Collected 30 times less often, a build's peak memory measured the same.
    gc.set_threshold(20_000, 10, 10)
    # pydantic looks through every installed package's entry points for validation plugins when it
    # builds its first model (20-30 ms of `tablet validate`); the schema's models are tablet-press's
    # own, not the user's application, so no plugin is looked for (unless the variable says otherwise).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        cli(prog_name="tablet")
    except BrokenPipeError:
        # The reader of our output went away (`tablet build -v | head`): stop quietly, as other
        # command-line tools do, and keep Python from complaining again when it flushes at exit.
        import os
        import sys

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
    finally:
        # The process is about to end: spare the interpreter's final collection of everything a build
        # allocated (about 150 ms after a build); nothing is left that needs finalising.
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
