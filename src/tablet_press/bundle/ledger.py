"""The publication record: `publications.json` at the project root, written only by `tablet publish`.

Why it exists: a bundle is untrusted (SECURITY.md), so nothing inside it can say that it was
published. A draft could ship its own `published/` folder (a manifest listing `../../x`, a symlink to
/etc/passwd, an email with a script) and the archive would serve it as "what was sent". The record
lives beside tablet.yaml instead, with the project's trusted files, is changed through review and is
committed; it pins each issue's `published/manifest.json` by sha256 (and through it every output).

It also holds the *baselines* that corrections need: the sha256 of every source when the issue was
published and again each time a correction is recorded (`tablet publish SLUG --correction`), with the
corrections issue.yaml held then. validate compares the sources with the latest baseline, so every
change after publication needs its own recorded correction, and a recorded correction cannot be
rewritten afterwards. Its fields are checked strictly, like every file a user can edit.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from tablet_press.errors import BuildError, Problem, ValidationFailed
from tablet_press.inputrules import printable_line

LEDGER_FILE = "publications.json"
ABOUT = (
    "What tablet publish recorded for each published issue; written only by 'tablet publish'. "
    "Commit it: archive, validate and verify trust an issue's published/ folder only when it matches."
)
_SHA256 = re.compile(r"[0-9a-f]{64}")


class Damaged(ValueError):
    """A field of a record that does not hold what tablet writes; `key` says where to point."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def where(text: str, key: str) -> tuple[int, int]:
    """Line and column of the first `"key"` in a JSON text (1, 1 when absent): JSON as tablet writes
    it has each key once per record, so the first is the one a message is about."""
    at = text.find(json.dumps(key)) if key else -1
    if at < 0:
        return 1, 1
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


# ---------------------------------------------------------------- strict fields, shared with the manifest


def damage(text: str, exc: Exception) -> tuple[int, int, str]:
    """Where a JSON file tablet writes is damaged, and why: at the JSON error, at the wrong field, or
    at its start."""
    if isinstance(exc, json.JSONDecodeError):
        return exc.lineno, exc.colno, exc.msg
    if isinstance(exc, Damaged):
        return (*where(text, exc.key), str(exc))
    return 1, 1, str(exc)


def digest_field(value: Any, key: str) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise Damaged(f'"{key}" must be a sha256 (64 lower-case hex digits), not {_show(value)}', key)
    return value


def date_field(value: Any, key: str) -> date:
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise Damaged(f'"{key}" must be a date, YYYY-MM-DD, not {_show(value)}', key)


def count_field(value: Any, key: str) -> int:
    if type(value) is not int or value < 0:
        raise Damaged(f'"{key}" must be a whole number, 0 or more, not {_show(value)}', key)
    return value


def object_field(value: Any, key: str, keys: set[str] | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Damaged(f'"{key}" must be an object, not {_show(value)}', key)
    if keys is not None and set(value) != keys:
        extra, missing = sorted(set(value) - keys), sorted(keys - set(value))
        said = [f"unknown {', '.join(map(_show, extra))}"] if extra else []
        said += [f"missing {', '.join(map(_show, missing))}"] if missing else []
        raise Damaged(f'"{key}" does not hold what tablet publish writes: {"; ".join(said)}', key)
    return value


def sources_field(value: Any, key: str) -> dict[str, str]:
    """File (relative to the bundle, as tablet writes it) -> sha256; never empty, never a path out."""
    files = object_field(value, key)
    if not files:
        raise Damaged(f'"{key}" lists no files; a published issue has at least issue.yaml', key)
    for name, digest in files.items():
        if not safe_relative(name):
            raise Damaged(f'"{key}" names {_show(name)}, which is not a file inside the issue folder', key)
        digest_field(digest, key)
    if "issue.yaml" not in files:
        raise Damaged(f'"{key}" does not list issue.yaml', key)
    return dict(files)


def safe_relative(name: str) -> bool:
    """A path as tablet writes it: relative, forward slashes, no empty, '.' or '..' part, printable."""
    parts = name.split("/")
    return (
        bool(name)
        and printable_line(name)
        and "\\" not in name
        and all(part not in ("", ".", "..") for part in parts)
        and PurePosixPath(name).as_posix() == name
    )


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------- the record


def corrections_digest(corrections: list[tuple[date, str]]) -> str:
    """sha256 of corrections (date, text): a baseline pins those recorded, so none can be rewritten."""
    data = [[d.isoformat(), text] for d, text in corrections]
    return sha256(json.dumps(data, ensure_ascii=False).encode())


@dataclass(frozen=True)
class Flag:
    """A notice about a cited paper, as the retraction check found it (checks/retractions.py)."""

    reference: str  # the reference's id in references.yaml
    match: str  # doi:<DOI> or pmid:<PMID>, what it was found by
    nature: str  # Retraction, Correction, Expression of concern or Reinstatement
    date: str  # of the notice, YYYY-MM-DD
    notice: str  # the notice's DOI ("" when it has none)
    record: str  # its Record ID in the Retraction Watch database

    def as_json(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in FLAG_KEYS}


FLAG_KEYS = ("reference", "match", "nature", "date", "notice", "record")


@dataclass(frozen=True)
class RetractionCheck:
    """The retraction check of an issue when it was published (or a correction recorded): which copy of
    the Retraction Watch CSV (sha256, size, records) and every notice about a paper it cites."""

    sha256: str
    bytes: int
    rows: int
    flagged: tuple[Flag, ...]

    def as_json(self) -> dict[str, Any]:
        csv = {"sha256": self.sha256, "bytes": self.bytes, "rows": self.rows}
        return {"csv": csv, "flagged": [f.as_json() for f in self.flagged]}


@dataclass(frozen=True)
class Baseline:
    """The sources at publication, or at a recorded correction; later edits are compared with the last."""

    date: date  # of the publication, or of the newest correction recorded with it
    corrections: int  # how many corrections issue.yaml held then
    corrections_sha256: str  # of those corrections
    sources: dict[str, str]  # file (relative to the bundle) -> sha256
    retractions: RetractionCheck | None = None  # None: tablet.yaml named no retraction data then

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "date": self.date.isoformat(),
            "corrections": self.corrections,
            "corrections_sha256": self.corrections_sha256,
            "sources": self.sources,
        }
        if self.retractions is not None:  # baselines without a check stay byte-identical
            data["retractions"] = self.retractions.as_json()
        return data


SEND_KINDS = ("send", "resume", "resend")


@dataclass(frozen=True)
class Sent:
    """One real `tablet send` of a published issue (test sends are never recorded): what the relay
    accepted, and only that. Addresses stay out of the record (it is committed); the count is kept."""

    kind: str  # send, resume (the rest of a partial send) or resend
    message_id: str
    time: datetime  # UTC, when the last accepted message was handed over
    recipients: int  # accepted by the relay; never one that was refused or not tried
    sha256: str  # of the message as sent (the published .eml with the send's own headers)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message_id": self.message_id,
            "time": self.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "recipients": self.recipients,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Record:
    """One published issue: when, the sha256 of its manifest, its baselines (publication first) and
    its sends (none until `tablet send`)."""

    published: date
    manifest_sha256: str
    baselines: tuple[Baseline, ...]
    sends: tuple[Sent, ...] = ()

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "published": self.published.isoformat(),
            "manifest_sha256": self.manifest_sha256,
            "baselines": [b.as_json() for b in self.baselines],
        }
        if self.sends:  # records written before tablet send existed stay byte-identical
            data["sends"] = [s.as_json() for s in self.sends]
        return data


@dataclass(frozen=True)
class Ledger:
    path: Path
    records: dict[str, Record] = field(default_factory=dict)
    text: str = ""  # as read, to point at a record's line

    def line_of(self, slug: str) -> tuple[int, int]:
        return where(self.text, slug)

    def with_record(self, slug: str, record: Record) -> Ledger:
        return Ledger(self.path, {**self.records, slug: record}, self.text)

    def as_json(self) -> str:
        issues = {slug: self.records[slug].as_json() for slug in sorted(self.records)}
        return json.dumps({"about": ABOUT, "issues": issues}, indent=2, ensure_ascii=False) + "\n"


def read_ledger(root: Path) -> tuple[Ledger, list[Problem]]:
    """The project's publication record (empty when there is none yet) and any problem with it."""
    path = root / LEDGER_FILE
    if not path.exists() and not path.is_symlink():
        return Ledger(path), []
    text = ""
    try:
        if path.is_symlink() or not path.is_file():
            raise Damaged("it must be a regular file, not a symbolic link or a folder")
        text = path.read_text(encoding="utf-8")
        records = _records(json.loads(text))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError, Damaged) as exc:
        line, col, reason = damage(text, exc)
        message = f"the publication record is damaged: {reason}"
        hint = "only 'tablet publish' and 'tablet send' write this file; restore it from version control"
        return Ledger(path, {}, text), [Problem(LEDGER_FILE, line, col, message, hint=hint)]
    return Ledger(path, records, text), []


def _records(raw: Any) -> dict[str, Record]:
    top = object_field(raw, "(the file)", {"about", "issues"})
    records = {}
    for slug, value in object_field(top["issues"], "issues").items():
        keys = {"published", "manifest_sha256", "baselines"}
        entry = object_field(
            value, slug, keys | ({"sends"} if isinstance(value, dict) and "sends" in value else set())
        )
        baselines = entry["baselines"]
        if not isinstance(baselines, list) or not baselines:
            raise Damaged(f'"{slug}" has no baselines', slug)
        sends = entry.get("sends", [])
        if not isinstance(sends, list) or ("sends" in entry and not sends):
            raise Damaged(f'"sends" must be a list of the sends of {slug}, not empty', "sends")
        records[slug] = Record(
            date_field(entry["published"], "published"),
            digest_field(entry["manifest_sha256"], "manifest_sha256"),
            tuple(_baseline(b) for b in baselines),
            tuple(_sent(s) for s in sends),
        )
    return records


def _sent(raw: Any) -> Sent:
    entry = object_field(raw, "sends", {"kind", "message_id", "time", "recipients", "sha256"})
    kind, message_id, when = entry["kind"], entry["message_id"], entry["time"]
    if kind not in SEND_KINDS:
        raise Damaged(f'"kind" must be one of {", ".join(SEND_KINDS)}, not {_show(kind)}', "kind")
    if not isinstance(message_id, str) or not re.fullmatch(r"<[^<>\s]+@[^<>\s]+>", message_id):
        raise Damaged(f'"message_id" must be a Message-ID, <...@...>, not {_show(message_id)}', "message_id")
    try:
        if not isinstance(when, str) or not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", when):
            raise ValueError
        moment = datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise Damaged(f'"time" must be a UTC time, YYYY-MM-DDTHH:MM:SSZ, not {_show(when)}', "time") from None
    recipients = count_field(entry["recipients"], "recipients")
    return Sent(kind, message_id, moment, recipients, digest_field(entry["sha256"], "sha256"))


def _baseline(raw: Any) -> Baseline:
    keys = {"date", "corrections", "corrections_sha256", "sources"}
    if isinstance(raw, dict) and "retractions" in raw:  # baselines before the retraction check lack it
        keys.add("retractions")
    entry = object_field(raw, "baselines", keys)
    return Baseline(
        date_field(entry["date"], "date"),
        count_field(entry["corrections"], "corrections"),
        digest_field(entry["corrections_sha256"], "corrections_sha256"),
        sources_field(entry["sources"], "sources"),
        _retractions(entry["retractions"]) if "retractions" in entry else None,
    )


def _retractions(raw: Any) -> RetractionCheck:
    entry = object_field(raw, "retractions", {"csv", "flagged"})
    csv = object_field(entry["csv"], "csv", {"sha256", "bytes", "rows"})
    flagged = entry["flagged"]
    if not isinstance(flagged, list):
        raise Damaged(f'"flagged" must be a list, not {_show(flagged)}', "flagged")
    flags = []
    for item in flagged:
        fields = object_field(item, "flagged", set(FLAG_KEYS))
        if not all(isinstance(fields[k], str) and printable_line(fields[k]) for k in FLAG_KEYS):
            message = f'"flagged" holds {_show(item)}, whose fields must all be one line of text'
            raise Damaged(message, "flagged")
        flags.append(Flag(*(fields[k] for k in FLAG_KEYS)))
    return RetractionCheck(
        digest_field(csv["sha256"], "sha256"),
        count_field(csv["bytes"], "bytes"),
        count_field(csv["rows"], "rows"),
        tuple(flags),
    )


def sound_ledger(root: Path) -> Ledger:
    """The publication record, for a command that writes it or acts on it: its problems raised."""
    ledger, problems = read_ledger(root)
    if problems:
        raise ValidationFailed(problems)
    return ledger


def published_record(root: Path, slug: str) -> tuple[Ledger, Record]:
    """The sound publication record and the issue's entry in it; BuildError when it has none."""
    ledger = sound_ledger(root)
    record = ledger.records.get(slug)
    if record is None:
        raise BuildError(f"issues/{slug} has not been published; publish it first")
    return ledger, record
