"""Problems found in user input, as data: collected, sorted, printed once."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from tablet_press.inputrules import escape

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one place in one file."""

    file: str
    line: int
    col: int
    message: str
    field: str = ""
    severity: Severity = "error"
    hint: str = ""

    def __post_init__(self) -> None:
        # A message may echo what the author typed (a key, a value, a file name): printed raw, a
        # bidi override or a line break in it would reorder or forge the lines around it.
        for name in ("file", "message", "field", "hint"):
            object.__setattr__(self, name, escape(getattr(self, name)))

    def format(self) -> str:
        # Line 0: the problem is about the file (or issue) as a whole, with no position inside it.
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        text = f"{where}: {self.severity}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        if self.field:
            text += f" [{self.field}]"
        return text

    def as_json(self) -> dict[str, object]:
        return asdict(self)


class ValidationFailed(Exception):
    """Raised with every problem found, never just the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


class BuildError(Exception):
    """A user-caused failure while producing outputs (an asset refused, a limit exceeded)."""


class InternalError(Exception):
    """A bug in tablet-press, with what it was working on (the cause is chained)."""

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(where)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean X?)'-style hint, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def display_path(path: Path, root: Path | None = None) -> str:
    """A path as the user should see it: relative to the project when inside it."""
    if root is not None:
        # Folders are resolved, the last name is not: a link must be shown where it is, not where it leads.
        absolute = Path(os.path.abspath(path))
        try:
            return (absolute.parent.resolve() / absolute.name).relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)
