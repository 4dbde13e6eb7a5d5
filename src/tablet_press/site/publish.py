"""`tablet publish`: freeze an issue as sent, storing its outputs in issues/<slug>/published/ and
recording them (and later each correction, and each real `tablet send`) in the project's
publications.json. The only command that writes into a bundle; checks/publication.py holds an issue to
what it wrote."""

from __future__ import annotations

import os
import shutil
from datetime import date

from tablet_press.bundle.atomic import write_files
from tablet_press.bundle.folder import PUBLISHED_DIR, Bundle
from tablet_press.bundle.ledger import (
    LEDGER_FILE,
    Baseline,
    Ledger,
    Record,
    Sent,
    corrections_digest,
    published_record,
    sha256,
    sound_ledger,
)
from tablet_press.bundle.project import Project
from tablet_press.checks.publication import MANIFEST, Manifest, dated_corrections, source_hashes
from tablet_press.checks.retractions import record_check
from tablet_press.errors import BuildError


def publish(project: Project, bundle: Bundle, outputs: dict[str, bytes], when: date) -> Manifest:
    """Freeze `bundle` with its `outputs` and record it in publications.json; refuses if it was
    published already. If the record cannot be written, the published/ folder is removed again."""
    ledger = sound_ledger(project.root)
    record = ledger.records.get(bundle.slug)
    if record is not None:
        raise BuildError(
            f"issues/{bundle.slug} was already published on {record.published}; corrections go under "
            f"corrections: in issue.yaml, then run 'tablet publish {bundle.slug} --correction'"
        )
    folder = bundle.path / PUBLISHED_DIR
    if os.path.lexists(folder):
        raise BuildError(
            f"issues/{bundle.slug}/{PUBLISHED_DIR}/ exists, but {LEDGER_FILE} has no record of it, so "
            "tablet publish did not write it; remove the folder and publish again"
        )
    sources = source_hashes(bundle)
    corrections = dated_corrections(bundle)
    manifest = Manifest(when, sources, {n: sha256(d) for n, d in outputs.items()}, len(corrections))
    manifest_bytes = manifest.as_json().encode()
    checked = record_check(bundle, project)  # the retraction check as sent, for tablet verify
    baseline = Baseline(when, len(corrections), corrections_digest(corrections), sources, checked)
    new = ledger.with_record(bundle.slug, Record(when, sha256(manifest_bytes), (baseline,)))
    write_files(folder, {**outputs, MANIFEST: manifest_bytes}, root=project.root)
    try:
        _write_ledger(project, new)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return manifest


def record_correction(project: Project, bundle: Bundle) -> Baseline:
    """Record the corrections added since the last baseline: the sources as they are now become the
    baseline that later edits are compared with. The outputs as sent stay as they were."""
    ledger, record = published_record(project.root, bundle.slug)
    corrections = dated_corrections(bundle)
    if len(corrections) <= record.baselines[-1].corrections:
        raise BuildError(
            f"issues/{bundle.slug} has no new correction to record: add an entry under corrections: in "
            "issue.yaml with today's date and what was corrected, then run this again"
        )
    baseline = Baseline(
        corrections[-1][0],
        len(corrections),
        corrections_digest(corrections),
        source_hashes(bundle),
        record_check(bundle, project),
    )
    updated = Record(record.published, record.manifest_sha256, (*record.baselines, baseline))
    _write_ledger(project, ledger.with_record(bundle.slug, updated))
    return baseline


def record_send(project: Project, slug: str, sent: Sent) -> Record:
    """Add a real send to the issue's record (tablet send calls it with what the relay accepted)."""
    ledger, record = published_record(project.root, slug)
    updated = Record(record.published, record.manifest_sha256, record.baselines, (*record.sends, sent))
    _write_ledger(project, ledger.with_record(slug, updated))
    return updated


def _write_ledger(project: Project, ledger: Ledger) -> None:
    write_files(project.root, {LEDGER_FILE: ledger.as_json().encode()}, root=project.root)
