"""Where a project's look comes from: its own templates/, styles/ and brand/, file by file, else the
defaults that ship with tablet-press (The Tablet's own folders, copied into the wheel at build time).

So a team adopting the tool needs only tablet.yaml, and can override one template or stylesheet
without copying the rest (as pelican lets a theme override one template). The defaults are read
where they lie on disk, never from the current directory:

- in a wheel, `tablet_press/defaults/<kind>/`, put there by setup.py's build step from the
  repository's top-level folders (there is no second copy in the source tree);
- in a source checkout (an editable install, or PYTHONPATH=src), the repository's own top-level
  folders, which are what the wheel would copy.

They must be real folders (not inside a zip): WeasyPrint reads them through file: URLs.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from tablet_press.bundle.project import Project
from tablet_press.errors import BuildError

Kind = Literal["templates", "styles", "brand"]
KINDS: tuple[Kind, ...] = ("templates", "styles", "brand")
PACKAGED = "defaults"  # the folder inside the installed package (see setup.py)


@cache
def defaults_root() -> Path:
    """The folder holding the default templates/, styles/ and brand/."""
    packaged = Path(str(resources.files("tablet_press"))) / PACKAGED
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3]  # src/tablet_press/bundle/look.py -> the repository
    if (checkout / "pyproject.toml").is_file() and (checkout / "templates").is_dir():
        return checkout
    raise BuildError(
        f"tablet-press's default templates are missing ({packaged} does not exist); "
        "reinstall tablet-press from a wheel or a source checkout"
    )


def default_dir(kind: Kind) -> Path:
    return defaults_root() / kind


def folders(project: Project, kind: Kind) -> tuple[Path, ...]:
    """Where to look for a file of `kind`, first match wins: the project's folder, then the default.
    The project's folder is listed even when it does not exist, so that adding it later takes effect."""
    own = project.root / kind
    default = default_dir(kind)
    return (own,) if own.resolve() == default.resolve() else (own, default)


def find(project: Project, kind: Kind, name: str) -> Path:
    """The file `kind/name` of the project, else the default one; BuildError if neither exists."""
    for folder in folders(project, kind):
        if (folder / name).is_file():
            return folder / name
    raise BuildError(
        f"{kind}/{name} is missing: it is neither in the project's {kind}/ folder nor among "
        f"tablet-press's defaults ({default_dir(kind)})"
    )
