"""The `tablet` command: each subcommand parses its options and calls one library function.

Library modules are imported inside the commands so that `tablet --help` and `tablet validate`
stay fast and never load WeasyPrint.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
ISSUE_TRACKER = "https://github.com/tablet-press/tablet-press/issues"


def _friendly_errors(func: F) -> F:
    """Turn the errors a user can cause into messages and exit 1; never a traceback for them."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from tablet_press.errors import BuildError, ValidationFailed

        try:
            return func(*args, **kwargs)
        except ValidationFailed as exc:
            _print_problems(exc.problems)
            raise SystemExit(1) from None
        except BuildError as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(1) from None
        except (click.ClickException, click.exceptions.Exit, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # an internal error: say where to report it, not a traceback
            click.echo(
                f"internal error: {type(exc).__name__}: {exc}\n"
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
        click.echo(json.dumps([p.as_json() for p in problems], indent=2, ensure_ascii=False))
        return
    for problem in problems:
        click.echo(problem.format())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tablet-press")
def cli() -> None:
    """tablet-press: check, typeset and archive The Tablet.

    Run commands from inside the newsletter's project (the folder with tablet.yaml).
    """


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    help="json prints the problems for editors and CI.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@_friendly_errors
def validate(paths: tuple[Path, ...], fmt: str, strict: bool) -> None:
    """Check issue bundles (default: every bundle in issues/) and report every problem at once."""
    from tablet_press.project import load_project
    from tablet_press.validate import validate as run

    project = load_project(paths[0] if paths else Path.cwd())
    report = run(project, list(paths) or None)
    _print_problems(report.problems, fmt)
    if fmt == "text":
        count = len(report.bundles) if not report.errors else len(paths or project.bundle_dirs())
        summary = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s) in {count} issue(s)"
        click.echo(("FAILED: " if report.failed(strict) else "ok: ") + summary, err=True)
    raise SystemExit(1 if report.failed(strict) else 0)


@cli.command()
@click.argument("kind", type=click.Choice(["issue", "tablet", "references"]), default="issue")
def schema(kind: str) -> None:
    """Print the JSON Schema of issue.yaml, tablet.yaml or references.yaml."""
    from tablet_press.schema import json_schema

    click.echo(json_schema(kind), nl=False)


@cli.command()
@click.argument("slug")
@_friendly_errors
def new(slug: str) -> None:
    """Start a new issue in issues/SLUG, with the team from tablet.yaml filled in."""
    from tablet_press.project import load_project
    from tablet_press.scaffold import new_issue

    project = load_project(Path.cwd())
    folder = new_issue(project, slug)
    click.echo(
        f"created {folder.relative_to(project.root)}/: fill in issue.yaml and the .md files, "
        f"then run 'tablet validate {folder.relative_to(project.root)}'"
    )


def main() -> None:
    cli(prog_name="tablet")


if __name__ == "__main__":  # pragma: no cover
    main()
