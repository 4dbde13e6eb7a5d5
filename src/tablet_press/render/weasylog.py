"""WeasyPrint's log as data, while one PDF is made: its errors (a resource that failed, which fails the
build) and its warnings (CSS or HTML it ignored), each warning a Problem located where WeasyPrint says.

WeasyPrint reports problems by logging, not raising (weasyprint/logger.py: errors for unusable
resources, warnings for bad CSS/HTML). Left alone, a CSS typo in styles/print.css ("Ignored `colr:
red` at 12:3, unknown property.") reached no one and `tablet build --strict` passed. A handler on the
`weasyprint` logger, added only while typesetting and removed after (no global logging set-up),
collects the records in whichever process typesets: the Problems are returned with the PDF, so they
travel back from a worker process (render/pdf.py pdf_workers) as data.

WeasyPrint 70 puts line and column in the message but not the stylesheet's name: that is the
`base_url` argument of the function parsing it (`preprocess_stylesheet`, `preprocess_declarations`),
read from the call stack when the warning arrives. WeasyPrint is pinned (pyproject.toml), and
tests/test_pdf_warnings.py fails if a new version stops providing it. Warnings with no stylesheet
(layout, an inline `<style>` or `style=` of the print HTML) are located at the issue itself.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from urllib.parse import unquote, urlsplit

from tablet_press.errors import Problem, display_path

CHECK = "weasyprint"
# Warnings that say nothing about the project's input, each with the reason it is not a Problem.
NOISE: dict[str, str] = {
    # WeasyPrint subsets fonts with fontTools when the system lacks HarfBuzz-Subset >= 4.1: a fact about
    # the machine's libraries (the PDF is still right), reported by the set-up, not by every build.
    "Using fontTools instead of HarfBuzz-Subset": "the machine's libraries, not the project",
}
_POSITION = re.compile(r" at (\d+):(\d+)([,.:]?)")
_PARSERS = ("preprocess_stylesheet", "preprocess_declarations", "preprocess_descriptors")


@dataclass
class Log:
    """What WeasyPrint logged while making one PDF."""

    errors: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def is_noise(message: str) -> bool:
    return any(message.startswith(start) for start in NOISE)


def stylesheet(frame: FrameType | None) -> Path | None:
    """The stylesheet file WeasyPrint is reading at `frame` or any frame that called it, if any."""
    while frame is not None:
        if frame.f_code.co_name in _PARSERS:
            url = frame.f_locals.get("base_url")
            parts = urlsplit(url) if isinstance(url, str) else None
            if parts is not None and parts.scheme == "file" and not parts.path.endswith("/"):
                return Path(unquote(parts.path))
            return None  # an inline <style> or style= of the print HTML: its base is the issue folder
        frame = frame.f_back
    return None


def locate(message: str, sheet: Path | None, what: str, root: Path | None) -> Problem:
    """A warning as a Problem: at line:col of `sheet` when WeasyPrint names a position in it, else
    at the issue (`what`), with WeasyPrint's own words after the check's name."""
    found = _POSITION.search(message)
    if sheet is not None and found:
        joint = ":" if found.group(3) == "," else found.group(3)
        text = f"[{CHECK}] {message[: found.start()]}{joint}{message[found.end() :]}"
        line, col = int(found.group(1)), int(found.group(2))
        return Problem(display_path(sheet, root), line, col, text, severity="warning")
    where = display_path(sheet, root) if sheet is not None else what
    return Problem(where, 0, 0, f"[{CHECK}] {message}", severity="warning")


class _Collect(logging.Handler):
    def __init__(self, log: Log, what: str, root: Path | None) -> None:
        super().__init__(logging.WARNING)
        self.log, self.what, self.root = log, what, root

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            self.log.errors.append(message)
        elif not is_noise(message):
            # The frames of logging itself come first; stylesheet() walks up to WeasyPrint's parser.
            problem = locate(message, stylesheet(sys._getframe(1)), self.what, self.root)
            if problem not in self.log.problems:
                self.log.problems.append(problem)


@contextmanager
def collect(what: str, root: Path | None) -> Iterator[Log]:
    """Collect WeasyPrint's log records of level warning and above while the block runs."""
    log = Log()
    logger = logging.getLogger("weasyprint")
    handler = _Collect(log, what, root)
    logger.addHandler(handler)
    try:
        yield log
    finally:
        logger.removeHandler(handler)
