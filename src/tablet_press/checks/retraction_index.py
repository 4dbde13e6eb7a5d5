"""The Retraction Watch database, read once into an index that validate can ask quickly.

**The file.** Crossref acquired the Retraction Watch database in 2023 and distributes it openly as one
CSV, `retraction_watch.csv` (tens of MB, ~60,000 rows; updated on working days): from Crossref Labs at
https://api.labs.crossref.org/data/retractionwatch?you@example.org (add your email address), and as
the GitLab repository https://gitlab.com/crossref/retraction-watch-data (the file at the top of its
main branch). It is UTF-8 text, comma-separated, fields quoted with `"` when they hold commas,
quotes or line breaks, one record per notice, with this header (some copies end it with a comma, an
empty 21st column; both are accepted):

    Record ID, Title, Subject, Institution, Journal, Publisher, Country, Author, URLS, ArticleType,
    RetractionDate, RetractionDOI, RetractionPubMedID, OriginalPaperDate, OriginalPaperDOI,
    OriginalPaperPubMedID, RetractionNature, Reason, Paywalled, Notes

tablet reads `RetractionNature` (Retraction, Correction, Expression of concern, Reinstatement), the
paper it is about (`OriginalPaperDOI`, `OriginalPaperPubMedID`: "unavailable", empty or 0 when
unknown) and the notice itself (`RetractionDate` as M/D/YYYY H:MM, `RetractionDOI`, `Reason`: reasons
as `+Reason one;+Reason two;`, `Record ID`). The other columns are left alone.

**The index.** Reading 60,000 rows on every validate would take seconds and tens of MB: instead the
CSV is streamed row by row once into an SQLite file (stdlib sqlite3) of (key, notice) rows, keyed by
`doi:<lower-case DOI>` and `pmid:<number>`, and each later validate asks it only for the keys of the
issue's references. The index lives in the project's `.tablet/` folder (tablet's own caches, never
committed or published; the CSV's own folder may be read-only or shared), named after the CSV's
path, and it records the CSV's size and modification time: when either changes, the next run builds
it again. It is written to a temporary name and renamed, so two processes never see half of one. If
`.tablet/` cannot be written, the index is built in memory for this run only (slower, still right).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import secrets
import sqlite3
import stat
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tablet_press.errors import Problem, display_path
from tablet_press.inputrules import escape

COLUMNS = (
    "Record ID",
    "Title",
    "Subject",
    "Institution",
    "Journal",
    "Publisher",
    "Country",
    "Author",
    "URLS",
    "ArticleType",
    "RetractionDate",
    "RetractionDOI",
    "RetractionPubMedID",
    "OriginalPaperDate",
    "OriginalPaperDOI",
    "OriginalPaperPubMedID",
    "RetractionNature",
    "Reason",
    "Paywalled",
    "Notes",
)
NATURES = ("Retraction", "Correction", "Expression of concern", "Reinstatement")
CACHE_DIR = ".tablet"  # the project's cache folder (site/archive.py and mail/send.py keep theirs there)
FORMAT = "1"  # bumped when the index's tables change: an old index is then built again
MAX_MALFORMED = 20  # malformed rows reported one by one; the rest are counted

_COL = {name: i for i, name in enumerate(COLUMNS)}
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadRetractionFile(Exception):
    """The CSV cannot be used at all (not that CSV, truncated, unreadable): one problem naming it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.format())
        self.problem = problem


def doi_key(text: str | None) -> str | None:
    """`doi:` and the DOI in lower case (DOIs are case-insensitive), without https://doi.org/ or doi:;
    None when it is no DOI ("unavailable", empty)."""
    if not text:
        return None
    doi = _DOI_PREFIX.sub("", text.strip()).strip()
    if not doi.lower().startswith("10.") or "/" not in doi:
        return None
    return "doi:" + doi.lower()


def pmid_key(text: str | None) -> str | None:
    """`pmid:` and the PubMed id as a number; None for empty, 0 or anything but digits."""
    value = (text or "").strip()
    if not value.isascii() or not value.isdigit() or int(value) == 0:
        return None
    return f"pmid:{int(value)}"


@dataclass(frozen=True, order=True)
class Notice:
    """One notice about a paper: what it is, when, why, and the notice's own DOI."""

    record: str  # Record ID in the database
    nature: str  # one of NATURES
    date: str  # YYYY-MM-DD, or the text as the CSV has it when that is no date
    reason: str  # the reasons, joined with "; "
    notice: str  # the notice's DOI, or "" when it has none
    line: int  # where the record starts in the CSV
    key: str  # the key it was found by: doi:... or pmid:...


@dataclass(frozen=True)
class Identity:
    """Which CSV: its sha256, its size in bytes and how many records it holds."""

    sha256: str
    bytes: int
    rows: int


class Index:
    """The index of one CSV, open for lookups (safe to share between the preview's threads)."""

    def __init__(self, connection: sqlite3.Connection, shown: str, identity: Identity) -> None:
        self._db = connection
        self._lock = threading.Lock()
        self.shown = shown  # the CSV's path as problems name it
        self.identity = identity

    def notices(self, keys: Iterable[str]) -> list[Notice]:
        """Every notice about any of `keys`, oldest first."""
        wanted = sorted(set(keys))
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        query = f"SELECT record, nature, date, reason, notice, line, key FROM notices WHERE key IN ({marks})"
        with self._lock:
            rows = self._db.execute(query, wanted).fetchall()
        return sorted(Notice(*row) for row in rows)

    def malformed(self) -> list[tuple[int, str]]:
        """The rows the index left out, (line, why), the first MAX_MALFORMED and a count of the rest."""
        with self._lock:
            return [(int(a), str(b)) for a, b in self._db.execute("SELECT line, message FROM malformed")]


# Opened once per process (the preview, validate of many issues), per CSV as it is now.
_OPEN: dict[tuple[str, int, int], Index] = {}


def open_index(csv_path: Path, root: Path) -> Index:
    """The index of the CSV at `csv_path` (a regular file inside the project at `root`): the cached one
    when the CSV's size and modification time are those it was built from, else built now. Raises
    BadRetractionFile when the CSV is not the Retraction Watch CSV or is truncated."""
    info = os.stat(csv_path, follow_symlinks=False)
    memo = (str(csv_path), info.st_size, info.st_mtime_ns)
    if memo in _OPEN:
        return _OPEN[memo]
    shown = display_path(csv_path, root)
    cache = root / CACHE_DIR / f"retractions-{hashlib.sha256(shown.encode()).hexdigest()[:16]}.sqlite"
    index = _cached(cache, shown, info) or _build(csv_path, shown, info, cache)
    _OPEN.clear()  # only the newest: a changed CSV must not keep the old index's memory
    _OPEN[memo] = index
    return index


def _cached(cache: Path, shown: str, info: os.stat_result) -> Index | None:
    """The index at `cache` if it was built from this CSV as it is now (same size and mtime)."""
    if not cache.is_file() or cache.is_symlink():
        return None
    try:
        db = sqlite3.connect(f"{cache.absolute().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.Error:
        return None  # damaged or from elsewhere: built again
    wanted = {"format": FORMAT, "size": str(info.st_size), "mtime_ns": str(info.st_mtime_ns)}
    if any(meta.get(k) != v for k, v in wanted.items()):
        db.close()
        return None
    return Index(db, shown, Identity(meta["sha256"], int(meta["size"]), int(meta["rows"])))


def _build(csv_path: Path, shown: str, info: os.stat_result, cache: Path) -> Index:
    """Stream the CSV into a new index file beside the old one, then rename it into place."""
    temp: Path | None = cache.with_name(f".{cache.name}.{secrets.token_hex(6)}.tmp")
    try:
        cache.parent.mkdir(exist_ok=True)
        db = sqlite3.connect(str(temp), check_same_thread=False)
    except (OSError, sqlite3.Error):  # .tablet/ cannot be written: an index for this run only
        temp, db = None, sqlite3.connect(":memory:", check_same_thread=False)
    try:
        identity = _fill(db, csv_path, shown, info)
        db.commit()
        if temp is not None:
            db.close()
            os.replace(temp, cache)
            db = sqlite3.connect(f"{cache.absolute().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            temp = None
    except BaseException:
        db.close()
        raise
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
    return Index(db, shown, identity)


def _fill(db: sqlite3.Connection, csv_path: Path, shown: str, info: os.stat_result) -> Identity:
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE notices (key TEXT NOT NULL, record TEXT, nature TEXT, date TEXT, reason TEXT,
                              notice TEXT, line INTEGER);
        CREATE TABLE malformed (line INTEGER, message TEXT);
        """
    )
    digest = hashlib.sha256()
    rows = malformed = 0
    with _open_csv(csv_path, shown) as raw:
        hashed = io.BufferedReader(_Hashing(raw, digest))
        text = io.TextIOWrapper(hashed, encoding="utf-8-sig", errors="replace", newline="")
        batch: list[tuple[object, ...]] = []
        for line, found in _records(text, shown):
            if isinstance(found, str):
                malformed += 1
                if malformed <= MAX_MALFORMED:
                    db.execute("INSERT INTO malformed VALUES (?, ?)", (line, found))
                continue
            rows += 1
            batch += [(*values, line) for values in found]
            if len(batch) >= 5000:
                db.executemany("INSERT INTO notices VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
                batch.clear()
        db.executemany("INSERT INTO notices VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
    if malformed > MAX_MALFORMED:
        more = f"and {malformed - MAX_MALFORMED} more malformed row(s) like the ones above"
        db.execute("INSERT INTO malformed VALUES (?, ?)", (0, more))
    db.execute("CREATE INDEX by_key ON notices (key)")
    identity = Identity(digest.hexdigest(), info.st_size, rows)
    meta = {
        "format": FORMAT,
        "size": str(info.st_size),
        "mtime_ns": str(info.st_mtime_ns),
        "sha256": identity.sha256,
        "rows": str(rows),
    }
    db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    return identity


def _open_csv(csv_path: Path, shown: str) -> BinaryIO:
    """The CSV, opened without following a symbolic link, only if it is a regular file."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(csv_path, flags)
    except OSError as exc:
        message = f"cannot read the retraction data: {exc.strerror}"
        raise BadRetractionFile(Problem(shown, 0, 0, message)) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BadRetractionFile(Problem(shown, 0, 0, "the retraction data must be a regular file"))
    return os.fdopen(fd, "rb")


class _Hashing(io.RawIOBase):
    """A binary stream that feeds what is read through it to a hash: the CSV is read once for both."""

    def __init__(self, raw: BinaryIO, digest: hashlib._Hash) -> None:
        self._raw, self._digest = raw, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        self._digest.update(data)
        buffer[: len(data)] = data
        return len(data)


def _records(text: Iterable[str], shown: str) -> Iterator[tuple[int, list[tuple[object, ...]] | str]]:
    """(line, the rows to index) for each record, or (line, why) for a malformed one."""
    reader = csv.reader(text, strict=True)
    header = _header(reader, shown)
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise BadRetractionFile(
                    Problem(
                        shown,
                        line,
                        1,
                        "the retraction data ends inside a quoted field: the file is truncated",
                        hint="download it again; an interrupted download leaves a file like this",
                    )
                ) from None
            yield line, f"not a CSV record: {exc}"
            continue
        if not row:
            continue
        yield line, _record(row, header)


def _header(reader: Iterator[list[str]], shown: str) -> int:
    """Check the first line is the Retraction Watch header; how many fields each row has."""
    try:
        first = next(reader, [])
    except csv.Error:
        first = []
    fields = [name.strip() for name in first]
    if fields[-1:] == [""] and len(fields) == len(COLUMNS) + 1:
        fields = fields[:-1]
    if tuple(fields) != COLUMNS:
        missing = [name for name in COLUMNS if name not in fields]
        said = f"it lacks the columns {', '.join(missing[:4])}" if missing else "its columns differ"
        raise BadRetractionFile(
            Problem(
                shown,
                1,
                1,
                f"this is not the Retraction Watch CSV: {said}",
                hint="retractions: in tablet.yaml must name retraction_watch.csv as Crossref distributes it "
                "(https://api.labs.crossref.org/data/retractionwatch); see the guide",
            )
        )
    return len(first)


def _record(row: list[str], width: int) -> list[tuple[object, ...]] | str:
    if len(row) != width:
        return f"{len(row)} fields where the header has {width}"
    nature = next((n for n in NATURES if n.lower() == row[_COL["RetractionNature"]].strip().lower()), None)
    if nature is None:
        return f"unknown RetractionNature '{row[_COL['RetractionNature']][:40]}'"
    raw_date = row[_COL["RetractionDate"]].strip()
    date = _date(raw_date)
    if date is None:
        return f"RetractionDate '{raw_date[:40]}' is not a date (M/D/YYYY)"
    keys = {doi_key(row[_COL["OriginalPaperDOI"]]), pmid_key(row[_COL["OriginalPaperPubMedID"]])}
    reason = "; ".join(r.strip().lstrip("+").strip() for r in row[_COL["Reason"]].split(";") if r.strip("+ "))
    notice = (doi_key(row[_COL["RetractionDOI"]]) or "doi:")[4:]
    record = row[_COL["Record ID"]].strip()
    # Text from the file goes into messages and publications.json: one printable line each.
    record, reason, notice = escape(record), escape(reason), escape(notice)
    return [(key, record, nature, date, reason, notice) for key in keys if key]


def _date(text: str) -> str | None:
    if _ISO_DATE.fullmatch(text):
        return text
    match = _US_DATE.fullmatch(text)
    if match is None:
        return None
    month, day, year = (int(g) for g in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"
