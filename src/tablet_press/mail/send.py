"""`tablet send`: which message goes to whom, the refusals that keep an issue from going out twice
or unchecked, the record of what the relay accepted, and the resume file of a send that stopped.

A real send sends the issue as published: `tablet publish` froze its outputs (checked here against
publications.json), so the bytes readers get are the bytes the archive keeps and `tablet verify`
checks. A test send of an issue not yet published sends the .eml of a fresh build instead.
"""

from __future__ import annotations

import json
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tablet_press.build import build
from tablet_press.bundle.atomic import write_files
from tablet_press.bundle.folder import PUBLISHED_DIR, Bundle
from tablet_press.bundle.ledger import LEDGER_FILE, Record, Sent, published_record
from tablet_press.bundle.project import Project
from tablet_press.checks.publication import frozen_outputs
from tablet_press.errors import BuildError
from tablet_press.inputrules import escape
from tablet_press.mail.message import Outgoing, outgoing
from tablet_press.mail.smtp import Delivery, Relay, deliver
from tablet_press.site.archive import CACHE_DIR
from tablet_press.site.publish import record_send

# An address as tablet send accepts it on the command line: ASCII, no spaces, quotes, brackets or
# separators, so that nothing typed can become a second SMTP command or a header.
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


@dataclass(frozen=True)
class Plan:
    """One send, decided before any connection: the message, its recipients and what kind it is."""

    slug: str
    message: Outgoing
    recipients: list[str]
    kind: str  # test, send, resume or resend
    source: str  # where the .eml came from, as shown
    earlier: list[str] = field(default_factory=list)  # accepted by the send this one resumes

    @property
    def test(self) -> bool:
        return self.kind == "test"

    def dry_run(self, relay: str) -> list[str]:
        """What --dry-run prints: everything about the send, and that nothing was sent."""
        m = self.message
        lines = [
            f"dry run of a {self.kind} of issues/{self.slug}: no connection is made, nothing is sent",
            f"message: {self.source} (sha256 {m.sha256})",
            f"relay: {relay}",
            f"envelope: MAIL FROM:<{m.sender}>",
            f"envelope: RCPT TO, one message each, {len(self.recipients)} recipient(s): "
            + ", ".join(self.recipients),
            f"subject: {escape(m.subject)}",
            f"message-id: {m.message_id}",
            f"size: {len(m.data):,} bytes",
        ]
        lines += [
            f"{p.disposition or 'part'}: {p.filename} ({p.content_type}, {p.size:,} bytes)" for p in m.parts
        ]
        lines += [f"link: {escape(link)}" for link in m.links]
        return lines


def message_source(
    project: Project, folder: Path, *, real: bool, say: Callable[[str], None] = lambda _: None
) -> tuple[Bundle, bytes, str]:
    """The issue and the .eml a send of it would send, with where that came from. Builds the issue
    first (into the project's dist/), as `tablet build` would: with --strict semantics for a real
    send, so that a warning stops it. A real send needs the issue published, and sends that."""
    report, _ = build(
        project, [folder], project.dist_dir, strict=real, progress=lambda s: say(f"building {s} ...")
    )
    for problem in report.warnings:
        say(problem.format())
    bundle = report.bundles[0]
    slug = bundle.slug
    if bundle.issue.archived_pdf:
        raise BuildError(
            f"issues/{slug} is a back-catalog issue: it was sent before tablet-press, and only its PDF "
            "is kept, so there is no email to send"
        )
    frozen = frozen_outputs(bundle, project)  # checked against publications.json; raises if not
    if frozen is not None:
        return bundle, frozen[f"{slug}.eml"], f"issues/{slug}/{PUBLISHED_DIR}/{slug}.eml"
    if real:
        raise BuildError(
            f"issues/{slug} is not published: a real send sends the issue as 'tablet publish' froze it, "
            f"so that readers get what the archive keeps. Test it with 'tablet send {slug} --test', "
            f"then run 'tablet publish {slug}', then send"
        )
    built = project.dist_dir / slug / f"{slug}.eml"
    return bundle, built.read_bytes(), str(built.relative_to(project.root))


def plan(
    project: Project,
    slug: str,
    eml: bytes,
    source: str,
    *,
    to: list[str],
    test: bool = False,
    resend: bool = False,
    resume: bool = False,
) -> Plan:
    """Decide the send, or refuse it (BuildError) before anything connects."""
    if test and (resend or resume):
        raise BuildError("--test sends are never recorded, so --resend and --resume do not apply to them")
    if resume and (resend or to):
        raise BuildError(
            "--resume sends to those the stopped send did not reach; it takes no --to or --resend"
        )
    message = outgoing(eml, test=test, where=source)
    if test:
        return Plan(slug, message, _test_addresses(project, to), "test", source)
    record = published_record(project.root, slug)[1]
    pending = read_pending(project, slug)
    if resume:
        if pending is None:
            raise BuildError(f"issues/{slug} has no send to resume ({_pending_shown(slug)} does not exist)")
        if pending.sha256 != message.sha256:
            raise BuildError(
                f"{_pending_shown(slug)} is about another message than {source} (sha256 "
                f"{pending.sha256[:12]}... against {message.sha256[:12]}...); resuming would send a "
                "different email"
            )
        return Plan(slug, message, pending.remaining, "resume", source, pending.accepted)
    if pending is not None and not resend:
        raise BuildError(
            f"the send of issues/{slug} on {pending.started} stopped after {len(pending.accepted)} "
            f"recipient(s): run 'tablet send {slug} --resume' to send to the {len(pending.remaining)} it did "
            f"not reach ({_pending_shown(slug)}), or --resend to send to everyone again"
        )
    if record.sends and not resend:
        raise BuildError(f"{_already(slug, record)}; send it again only on purpose, with --resend")
    if not to:
        raise BuildError("name the recipients: --to ADDRESS (the distribution list), once or more")
    return Plan(slug, message, _addresses(to), "resend" if record.sends or pending else "send", source)


def _already(slug: str, record: Record) -> str:
    last = record.sends[-1]
    when = last.time.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"issues/{slug} was sent on {when} to {last.recipients} recipient(s) ({last.message_id}, "
        f"in {LEDGER_FILE})"
    )


def _addresses(given: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for address in given:
        if not ADDRESS.fullmatch(address):
            raise BuildError(
                f"--to {escape(address)!r} is not an email address tablet send accepts (name@example.org)"
            )
        seen.setdefault(address.lower(), address)
    return list(seen.values())


def _test_addresses(project: Project, to: list[str]) -> list[str]:
    smtp = project.config.smtp
    allowed = list(smtp.test_to) if smtp else []
    if not allowed:
        raise BuildError(
            "tablet.yaml has no smtp.test_to: a test send goes only to the addresses listed there"
        )
    if not to:
        return allowed
    chosen = _addresses(to)
    known = {a.lower() for a in allowed}
    strangers = [a for a in chosen if a.lower() not in known]
    if strangers:
        raise BuildError(
            f"--test sends only to smtp.test_to in tablet.yaml, which does not list {', '.join(strangers)}"
        )
    return chosen


# ---------------------------------------------------------------- the send, its record and resume file


@dataclass(frozen=True)
class Pending:
    """A real send that stopped part-way: who has it, who has not (refused or never tried)."""

    sha256: str
    message_id: str
    started: str  # UTC time of the first message, as text
    accepted: list[str]
    remaining: list[str]

    def as_json(self) -> str:
        data = {
            "about": "A tablet send that stopped part-way; 'tablet send SLUG --resume' sends to 'remaining'.",
            "sha256": self.sha256,
            "message_id": self.message_id,
            "started": self.started,
            "accepted": self.accepted,
            "remaining": self.remaining,
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def pending_path(project: Project, slug: str) -> Path:
    """The resume file: in the project's .tablet/ (never committed: it holds readers' addresses)."""
    return project.root / CACHE_DIR / f"send-{slug}.json"


def _pending_shown(slug: str) -> str:
    return f"{CACHE_DIR}/send-{slug}.json"


def read_pending(project: Project, slug: str) -> Pending | None:
    path = pending_path(project, slug)
    if not path.exists():
        return None
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
        pending = Pending(
            raw["sha256"], raw["message_id"], raw["started"], list(raw["accepted"]), list(raw["remaining"])
        )
        if not all(isinstance(a, str) and ADDRESS.fullmatch(a) for a in pending.accepted + pending.remaining):
            raise ValueError("an entry is not an address")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BuildError(
            f"{_pending_shown(slug)} is damaged ({exc}); tablet send wrote it, so delete it and "
            "check the relay's log for who was sent to"
        ) from None
    return pending


def send(
    project: Project,
    plan: Plan,
    relay: Relay,
    *,
    context: ssl.SSLContext | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Delivery:
    """Hand the message to the relay for each recipient. A real send records in publications.json
    what was accepted (and nothing else), even when interrupted; while it is incomplete, the resume
    file says who has it and who has not, updated after every accepted message."""
    accepted: list[str] = []
    last: list[datetime] = []
    started = now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def keep(address: str) -> None:
        accepted.append(address)
        last[:] = [now()]
        if not plan.test:
            _write_pending(project, plan, started, accepted)

    try:
        delivery = deliver(
            relay,
            plan.message,
            plan.recipients,
            context=context,
            accepted=keep,
            sleep=sleep,
            clock=clock,
            now=now,
        )
    finally:
        if accepted and not plan.test:
            sent = Sent(plan.kind, plan.message.message_id, last[0], len(accepted), plan.message.sha256)
            record_send(project, plan.slug, sent)
    if not plan.test:
        if delivery.complete:
            pending_path(project, plan.slug).unlink(missing_ok=True)
        else:
            _write_pending(project, plan, started, accepted)
    return delivery


def _write_pending(project: Project, plan: Plan, started: str, accepted: list[str]) -> None:
    done = {a.lower() for a in accepted}
    pending = Pending(
        plan.message.sha256,
        plan.message.message_id,
        started,
        [*plan.earlier, *accepted],
        [a for a in plan.recipients if a.lower() not in done],
    )
    write_files(
        project.root / CACHE_DIR,
        {pending_path(project, plan.slug).name: pending.as_json().encode()},
        root=project.root,
    )


def report(plan: Plan, delivery: Delivery) -> list[str]:
    """What a user reads after a send: who got it, who did not and why, and how to resume."""
    slug, total = plan.slug, len(plan.recipients)
    what = "test message" if plan.test else "message"
    lines = [
        f"sent the {what} of issues/{slug} to {len(delivery.accepted)} of {total} recipient(s)"
        + (f": {', '.join(delivery.accepted)}" if delivery.accepted and not delivery.complete else "")
    ]
    for address, reason in delivery.refused.items():
        lines.append(f"refused: {address}: {reason}")
    if delivery.stopped:
        lines.append(f"stopped: {delivery.stopped}")
    if delivery.in_doubt:
        lines.append(
            f"unknown: {delivery.in_doubt}: the connection broke before the relay answered; it is counted "
            "as not sent, so a resume may send it twice"
        )
    for address in delivery.untried:
        if address != delivery.in_doubt:
            lines.append(f"not sent: {address}")
    if not plan.test:
        if delivery.accepted:
            lines.append(
                f"recorded in {LEDGER_FILE}: {len(delivery.accepted)} recipient(s), "
                f"{plan.message.message_id}; commit it"
            )
        if not delivery.complete:
            lines.append(
                f"to send to the {total - len(delivery.accepted)} not reached: tablet send {slug} --resume "
                f"(they are listed in {_pending_shown(slug)})"
            )
    return lines
