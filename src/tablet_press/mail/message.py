"""The message a send hands to the relay: the .eml as built, with only the send's own header changes
(X-Unsent dropped; "[TEST] " before the subject of a test send), and what --dry-run shows of it.

The .eml is changed as bytes, never re-serialised by the email package, so that everything but those
header lines reaches the relay exactly as `tablet build` (or `tablet publish`) wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from html.parser import HTMLParser

from tablet_press.bundle.ledger import sha256
from tablet_press.errors import BuildError
from tablet_press.inputrules import header_problem

TEST_PREFIX = "[TEST] "
# Headers that would show recipients to each other: a send names recipients in the envelope only.
RECIPIENT_HEADERS = ("to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc")
DRAFT_HEADER = "x-unsent"  # the .eml is a draft for mail clients; a sent message is not
_FIELD = re.compile(rb"[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*")  # one header field, with its folded lines


@dataclass(frozen=True)
class Part:
    filename: str
    content_type: str
    disposition: str  # attachment or inline
    size: int  # decoded bytes


@dataclass(frozen=True)
class Outgoing:
    """The bytes handed to the relay for every recipient, and what --dry-run tells about them."""

    data: bytes
    sender: str  # the envelope's MAIL FROM: the From address of tablet.yaml
    subject: str
    message_id: str
    parts: list[Part] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return sha256(self.data)


def outgoing(eml: bytes, *, test: bool, where: str) -> Outgoing:
    """The message to send, made from `eml` (named `where` in messages); raises BuildError."""
    end = eml.find(b"\r\n\r\n")
    if end < 0:
        raise BuildError(f"{where}: not an email message (no CRLF line endings or no body)")
    head, body = eml[: end + 2], eml[end + 2 :]
    fields = _FIELD.findall(head)
    if b"".join(fields) != head:
        raise BuildError(f"{where}: its header lines are not CRLF-terminated header fields")
    parsed = message_from_bytes(eml, policy=SMTP)
    named = [name for name in RECIPIENT_HEADERS if name in {k.lower() for k in parsed}]
    if named:
        raise BuildError(
            f"{where}: the message names recipients in its headers ({', '.join(named)}); tablet send "
            "puts recipients in the envelope only, so that no reader sees the list"
        )
    subject, sender, message_id = str(parsed["subject"] or ""), parsed["from"], parsed["message-id"]
    if not subject or sender is None or not sender.addresses or message_id is None:
        raise BuildError(f"{where}: the message lacks a Subject, a From address or a Message-ID")
    kept = []
    for raw in fields:
        name = raw.split(b":", 1)[0].strip().lower()
        if name == DRAFT_HEADER.encode():
            continue
        if test and name == b"subject":
            if not raw.startswith(b"Subject: "):
                raise BuildError(f"{where}: its Subject header is not written as 'Subject: ...'")
            problem = header_problem(TEST_PREFIX + subject)
            if problem:  # the subject passed this rule when it was built; checked again where it changes
                raise BuildError(f"{where}: cannot write the [TEST] subject: {problem}")
            raw = raw[: len(b"Subject: ")] + TEST_PREFIX.encode() + raw[len(b"Subject: ") :]
            subject = TEST_PREFIX + subject
        kept.append(raw)
    data = b"".join(kept) + body
    return Outgoing(
        data,
        sender.addresses[0].addr_spec,
        subject,
        str(message_id).strip(),
        _parts(parsed),
        _links(parsed),
    )


def _parts(message: EmailMessage) -> list[Part]:
    found = []
    for part in message.walk():
        name = part.get_filename()
        if name is None or part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        found.append(Part(name, part.get_content_type(), part.get_content_disposition() or "", len(payload)))
    return found


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if tag == "a" and name == "href" and value and value not in self.hrefs:
                self.hrefs.append(value)


def _links(message: EmailMessage) -> list[str]:
    """Every link of the HTML part, once each, in reading order."""
    parser = _Hrefs()
    for part in message.walk():
        if part.get_content_type() == "text/html":
            parser.feed(part.get_content())
    return parser.hrefs
