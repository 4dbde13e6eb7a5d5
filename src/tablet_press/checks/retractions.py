"""Retracted and corrected papers, caught before an issue goes out.

When tablet.yaml names a copy of the Retraction Watch CSV (`retractions: data/retraction_watch.csv`;
the file and its index: retraction_index.py), validate looks up every reference of an issue by its
DOI (case-insensitive, without https://doi.org/) and its PMID, and warns:

- `[retracted]`: the paper was retracted (a Retraction notice not followed by a Reinstatement);
- `[corrected]`: it has a correction, an expression of concern, or was retracted and reinstated.

Each warning stands on the reference's DOI (or PMID) in references.yaml, says the notice's date,
reasons and DOI, and is silenced for one record by `# tablet: ignore[retracted] <why>` (or
`ignore[corrected]`) above it, as the other reference warnings are. `tablet build --strict` refuses
an issue with either. `tablet publish` keeps what the check found (site/publish.py puts
`record_check` into the publication record), and `tablet verify` checks each published issue against
the CSV as it is now and reports the papers retracted since (`since_publication`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tablet_press.bundle.folder import Bundle
from tablet_press.bundle.ledger import Flag, Record, RetractionCheck
from tablet_press.bundle.model import Reference
from tablet_press.bundle.project import CONFIG_NAME, Project
from tablet_press.checks.lint import ignored
from tablet_press.errors import Problem

# Lazy imports: the index (sqlite3, csv) is imported only when tablet.yaml names a CSV, so that every
# other `tablet validate` does not pay for it.
if TYPE_CHECKING:
    from tablet_press.checks.retraction_index import Index, Notice

CHECK_RETRACTED, CHECK_CORRECTED, CHECK_DATA = "retracted", "corrected", "retraction-data"


def retraction_data(project: Project) -> tuple[Index | None, list[Problem]]:
    """The index of the CSV tablet.yaml names (None when it names none or it cannot be used) and the
    problems: a bad path (at tablet.yaml's retractions:), a file that cannot be used (naming it), and a
    warning for each row the index had to leave out (at the CSV's line)."""
    setting = project.config.retractions
    if setting is None:
        return None, []

    def wrong(message: str, hint: str = "") -> tuple[None, list[Problem]]:
        return None, [project.source.problem(("retractions",), message, hint=hint)]

    parts = setting.split("/")
    if setting.startswith("/") or "\\" in setting or ":" in parts[0]:
        return wrong(f"'{setting}' must be a path relative to {CONFIG_NAME}, with forward slashes")
    if ".." in parts:
        return wrong(f"'{setting}' is outside the project", hint="keep the retraction data in the project")
    path = project.root / setting
    fix = "download retraction_watch.csv (see the guide's Retracted papers section) and put it there"
    if path.is_symlink():
        return wrong(f"{setting} is a symbolic link", hint="copy the file itself into the project")
    if not path.exists():
        return wrong(f"there is no file {setting} (retractions: names the Retraction Watch CSV)", hint=fix)
    if not path.is_file():
        return wrong(f"{setting} is not a file", hint=fix)
    from tablet_press.checks.retraction_index import BadRetractionFile, open_index

    try:
        index = open_index(path, project.root)
    except BadRetractionFile as exc:
        return None, [exc.problem]
    except OSError as exc:
        return wrong(f"cannot read {setting}: {exc.strerror or exc}")
    problems = [
        Problem(
            index.shown,
            line,
            1,
            f"[{CHECK_DATA}] {why}" + (": this row was left out of the retraction check" if line else ""),
            severity="warning",
            hint="download the file again; if the row stays, the copy you have is damaged",
        )
        for line, why in index.malformed()
    ]
    return index, problems


@dataclass(frozen=True)
class Finding:
    """What the database says of one cited paper: retracted, or corrected (with its notice)."""

    position: int  # of the reference in references.yaml
    reference: Reference
    check: str  # CHECK_RETRACTED or CHECK_CORRECTED
    notice: Notice
    match: str  # the reference's own key it was found by: doi:... or pmid:...
    reinstated: Notice | None = None

    def describe(self) -> str:
        notice = self.notice
        if self.reinstated is not None:
            what = f"was retracted on {notice.date} and reinstated on {self.reinstated.date}"
        elif notice.nature == "Retraction":
            what = f"was retracted on {notice.date}"
        elif notice.nature == "Correction":
            what = f"has a correction of {notice.date}"
        else:
            what = f"has an expression of concern of {notice.date}"
        reason = f": {notice.reason}" if notice.reason else ""
        doi = f" (notice https://doi.org/{notice.notice})" if notice.notice else " (the notice has no DOI)"
        return f"'{self.reference.id}' ({_shown_key(self.match)}) {what}{reason}{doi}"


def _shown_key(key: str) -> str:
    kind, value = key.split(":", 1)
    return f"{kind.upper()} {value}"


def _keys(ref: Reference) -> list[str]:
    from tablet_press.checks.retraction_index import doi_key, pmid_key

    return [k for k in (doi_key(ref.DOI), pmid_key(ref.PMID)) if k]


def findings(bundle: Bundle, index: Index) -> Iterator[Finding]:
    """What the database says of each reference of `bundle`, asked in one query."""
    notices = index.notices(k for ref in bundle.references for k in _keys(ref))
    by_key: dict[str, list[Notice]] = {}
    for notice in notices:
        by_key.setdefault(notice.key, []).append(notice)
    for i, ref in enumerate(bundle.references):
        found: dict[str, tuple[Notice, str]] = {}  # one per record, found by DOI first
        for key in _keys(ref):
            for notice in by_key.get(key, []):
                found.setdefault(notice.record, (notice, key))
        yield from _judge(i, ref, sorted(found.values(), key=lambda f: (f[0].date, f[0].record)))


def _judge(i: int, ref: Reference, found: list[tuple[Notice, str]]) -> Iterator[Finding]:
    """A retraction not reinstated since outweighs every other notice; else each notice is a note."""
    retractions = [f for f in found if f[0].nature == "Retraction"]
    reinstatements = [f for f in found if f[0].nature == "Reinstatement"]
    if retractions:
        notice, key = retractions[-1]
        later = [r for r, _ in reinstatements if r.date >= notice.date]
        if not later:
            yield Finding(i, ref, CHECK_RETRACTED, notice, key)
            return
        yield Finding(i, ref, CHECK_CORRECTED, notice, key, reinstated=later[-1])
    for notice, key in found:
        if notice.nature in ("Correction", "Expression of concern"):
            yield Finding(i, ref, CHECK_CORRECTED, notice, key)


def check_retractions(bundle: Bundle, project: Project) -> list[Problem]:
    """validate's part: the warnings about the bundle's references, and any problem with the data."""
    index, problems = retraction_data(project)
    src = bundle.references_source
    if index is None or src is None:
        return problems
    for found in findings(bundle, index):
        if ignored(src, (found.position,), found.check):
            continue
        field = "DOI" if found.match.startswith("doi:") else "PMID"
        if found.check == CHECK_RETRACTED:
            hint = (
                "a retracted paper is not evidence: cite another source; if the issue discusses the "
                f"retraction itself, say so above the record: # tablet: ignore[{CHECK_RETRACTED}] <why>"
            )
        else:
            hint = (
                "check that the issue reflects the notice (the corrected figures, the concern); then say so "
                f"above the record: # tablet: ignore[{CHECK_CORRECTED}] <why>"
            )
        message = f"[{found.check}] reference {found.describe()}"
        problems.append(src.problem((found.position, field), message, hint=hint, severity="warning"))
    return problems


def record_check(bundle: Bundle, project: Project) -> RetractionCheck | None:
    """What `tablet publish` records: the CSV's identity and every notice about a cited paper (None
    when tablet.yaml names no retraction data, or it cannot be used: validate has said why)."""
    index, _ = retraction_data(project)
    if index is None:
        return None
    flags = tuple(
        Flag(f.reference.id, f.match, f.notice.nature, f.notice.date, f.notice.notice, f.notice.record)
        for f in findings(bundle, index)
    )
    identity = index.identity
    return RetractionCheck(identity.sha256, identity.bytes, identity.rows, flags)


def since_publication(bundle: Bundle, project: Project, record: Record) -> tuple[list[str], list[Problem]]:
    """`tablet verify`'s part: the published issue against the CSV as it is now. Returns lines for its
    history (the check recorded, corrections and concerns since) and a problem for each paper it cites
    that was retracted since the check recorded last (at publication or at a recorded correction)."""
    index, problems = retraction_data(project)
    if index is None:
        return [], [p for p in problems if p.severity == "error"]
    slug, src = bundle.slug, bundle.references_source
    checked = next((b for b in reversed(record.baselines) if b.retractions is not None), None)
    recorded = set()
    lines = []
    if checked is None or checked.retractions is None:
        lines.append(f"issues/{slug}: no retraction check was recorded when it was published")
        since = f"published on {record.published}, with no retraction check recorded"
    else:
        check = checked.retractions
        recorded = {(f.reference, f.record) for f in check.flagged}
        lines.append(
            f"issues/{slug}: checked for retractions on {checked.date} against a copy of {check.rows} "
            f"records (sha256 {check.sha256[:12]}); now {index.identity.rows} records "
            f"(sha256 {index.identity.sha256[:12]})"
        )
        since = f"published on {record.published}; not retracted when checked on {checked.date}"
    found_problems = []
    for found in findings(bundle, index):
        if (found.reference.id, found.notice.record) in recorded:
            continue
        if found.check == CHECK_CORRECTED:
            lines.append(f"issues/{slug}: since the check, reference {found.describe()}")
            continue
        field = "DOI" if found.match.startswith("doi:") else "PMID"
        assert src is not None
        found_problems.append(
            src.problem(
                (found.position, field),
                f"[{CHECK_RETRACTED}] issues/{slug} ({since}) cites a paper retracted since: reference "
                f"{found.describe()}",
                hint="tell the readers: add a dated entry under corrections: in issue.yaml, then run "
                f"'tablet publish {slug} --correction', which records the retraction check again",
            )
        )
    return lines, found_problems
