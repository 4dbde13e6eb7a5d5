"""Finds the project (the folder holding tablet.yaml) and loads the newsletter's config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tablet_press.bundle.loader import Located, load_yaml
from tablet_press.bundle.model import Config
from tablet_press.bundle.schema import parse
from tablet_press.errors import Problem, ValidationFailed

CONFIG_NAME = "tablet.yaml"


@dataclass(frozen=True)
class Project:
    root: Path
    config: Config
    source: Located

    @property
    def issues_dir(self) -> Path:
        return self.root / "issues"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def styles_dir(self) -> Path:
        return self.root / "styles"

    @property
    def brand_dir(self) -> Path:
        return self.root / "brand"

    def bundle_dirs(self) -> list[Path]:
        """Every bundle in issues/, in name order."""
        if not self.issues_dir.is_dir():
            return []
        return sorted(p for p in self.issues_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` that holds tablet.yaml."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return None


def load_project(start: Path) -> Project:
    """Load tablet.yaml from the project around `start`; raises ValidationFailed with every problem."""
    root = find_root(start)
    if root is None:
        raise ValidationFailed(
            [
                Problem(
                    str(start),
                    1,
                    1,
                    f"no {CONFIG_NAME} found here or in any parent "
                    "folder; run tablet from inside the newsletter's project",
                )
            ]
        )
    located, problems = load_yaml(root / CONFIG_NAME, CONFIG_NAME)
    config = None
    if located is not None:
        config, more = parse(Config, located)
        problems += more
    if config is None or located is None or problems:
        raise ValidationFailed(problems)
    return Project(root, config, located)
