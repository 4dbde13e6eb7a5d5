"""`tablet build`: validate, render every output of each issue in memory, then write them atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tablet_press.bundle import ASSETS_DIR, Bundle
from tablet_press.errors import BuildError, InternalError, ValidationFailed, display_path
from tablet_press.project import Project
from tablet_press.render import issue_view, render
from tablet_press.validate import Report, validate


@dataclass
class Built:
    slug: str
    files: list[Path] = field(default_factory=list)


def print_html(bundle: Bundle, project: Project) -> str:
    view = issue_view(bundle, project)
    logo = (project.brand_dir / project.config.brand.logo).as_uri()
    css = (project.styles_dir / "print.css").as_uri()
    return render("print.html.j2", view, project, logo_url=logo, stylesheet_url=css)


def issue_pdf(bundle: Bundle, project: Project, html: str | None = None) -> bytes:
    from tablet_press.pdf import write_pdf

    fonts = project.config.brand.fonts
    html = html if html is not None else print_html(bundle, project)
    return write_pdf(
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
    )


def _font_dirs() -> list[Path]:
    from tablet_press.fonts import font_dirs

    return font_dirs()


def outputs(bundle: Bundle, project: Project) -> dict[str, bytes]:
    """Every output of one issue, as bytes, keyed by file name. Nothing is written here."""
    from tablet_press.email import email_outputs

    pdf = issue_pdf(bundle, project)
    return {f"{bundle.slug}.pdf": pdf, **email_outputs(bundle, project, pdf)}


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
) -> tuple[Report, list[Built]]:
    """Validate everything first (nothing is written if any bundle has errors), then build each issue."""
    issues = project.issues_dir.resolve()
    if out.resolve() == issues or issues in out.resolve().parents:
        shown = display_path(out, project.root)
        raise BuildError(f"the output folder {shown} is inside issues/; outputs never go into bundles")
    report = validate(project, paths)
    if report.failed(strict):
        raise ValidationFailed(report.problems)
    built = []
    for bundle in report.bundles:
        progress(bundle.slug)
        try:
            files = outputs(bundle, project)
        except (BuildError, ValidationFailed):
            raise
        except Exception as exc:  # a bug: say which issue was being built
            raise InternalError(f"while building issues/{bundle.slug}") from exc
        built.append(Built(bundle.slug, write_atomically(out / bundle.slug, files)))
    return report, built
