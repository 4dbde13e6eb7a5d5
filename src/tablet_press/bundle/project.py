"""Finds the project (the folder holding tablet.yaml) and loads the newsletter's config."""

from __future__ import annotations

from collections.abc import Sequence
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

    @property
    def dist_dir(self) -> Path:
        """Where `tablet build` writes unless --out says otherwise: beside tablet.yaml, wherever you are."""
        return self.root / "dist"

    @property
    def site_dir(self) -> Path:
        """Where `tablet archive` writes unless --out says otherwise."""
        return self.root / "site"

    def issue_of(self, path: Path) -> Path | None:
        """The issue folder (issues/<slug>) that `path` is or is inside, else None. `path` may be
        relative (to the current folder), `.`, or absolute; a file of the issue names the issue."""
        here, issues = path.resolve(), self.issues_dir.resolve()
        if issues in here.parents:
            return issues / here.relative_to(issues).parts[0]
        return None

    def targets(self, paths: Sequence[Path], cwd: Path) -> list[Path] | None:
        """The issue folders a command's PATH arguments name; None means every issue.

        With no PATH: the issue you are in, else every issue, so that `tablet validate` and
        `tablet build` inside issues/<slug>/ mean this issue. A PATH inside an issue names it; the
        project root or issues/ names every issue; anything else is passed on for validation to say
        what is wrong with it.
        """
        if not paths:
            here = self.issue_of(cwd)
            return [here] if here is not None else None
        everything = {self.root.resolve(), self.issues_dir.resolve()}
        found: list[Path] = []
        for path in paths:
            full = path if path.is_absolute() else cwd / path
            issue = self.issue_of(full)
            chosen = self.bundle_dirs() if issue is None and full.resolve() in everything else [issue or full]
            found += [p for p in chosen if p not in found]
        return found

    def issue_named(self, name: str, cwd: Path) -> Path:
        """An issue given as a slug (issues/SLUG) or as a path to (or into) its folder."""
        given = Path(name) if Path(name).is_absolute() else cwd / name
        if given.exists():
            return self.issue_of(given) or given
        return self.issues_dir / name

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
