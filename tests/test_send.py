"""`tablet send` against a real SMTP server on 127.0.0.1 (aiosmtpd), with STARTTLS on a self-signed
certificate made here and a login: what the server received, byte for byte, against the published .eml;
what is recorded; and each way a send fails (login refused, a 550 for one recipient, a connection
dropped mid-send, an untrusted certificate, a relay that never answers). Nothing here reaches any
address but 127.0.0.1; no assertion depends on time (throttling is checked through a fake clock)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as Server
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tablet_press.bundle.ledger import read_ledger, sha256
from tablet_press.bundle.model import Smtp
from tablet_press.bundle.project import Project, load_project
from tablet_press.errors import BuildError
from tablet_press.mail.message import outgoing
from tablet_press.mail.send import Plan, pending_path, plan, read_pending, report, send
from tablet_press.mail.smtp import Relay, SendError, relay
from tablet_press.site.publish import publish

from conftest import FIXTURES, copy_project

PDF = b"%PDF-1.7\n% a stand-in: send hands over bytes and never reads them\n"
SLUG = "minimal"
USER, PASSWORD = "editor", "correct horse"
READERS = ["ann@example.org", "bob@example.org", "cy@example.org"]
TESTERS = ["proof@example.org", "second@example.org"]
FIXED = dt.datetime(2025, 9, 2, 8, 30, tzinfo=dt.UTC)


# ---------------------------------------------------------------- the server


@dataclass
class Mailbox:
    """What the server received, and how it should misbehave."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> reply to RCPT TO
    drop: set[str] = field(default_factory=set)  # close the connection at DATA for these
    logins: list[tuple[str, str]] = field(default_factory=list)
    encrypted: list[bool] = field(default_factory=list)  # whether each message came over TLS

    async def handle_RCPT(
        self, server: Server, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Server, session: Session, envelope: Envelope) -> str:
        if self.drop & set(envelope.rcpt_tos):
            assert server.transport is not None
            server.transport.close()  # the relay goes away before it answers: the client is in doubt
            return "421 closing"
        assert isinstance(envelope.content, bytes) and envelope.mail_from is not None
        assert server.transport is not None
        self.encrypted.append(server.transport.get_extra_info("ssl_object") is not None)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 queued"

    def login(
        self, server: Server, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login.decode(), data.password.decode()))
        ok = (data.login.decode(), data.password.decode()) == (USER, PASSWORD)
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def client(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, made now (nothing secret is kept in the repository)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tablet-press test relay")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    paths = Certificate(folder / "cert.pem", folder / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox(certificate: Certificate) -> Iterator[tuple[Mailbox, int]]:
    """A relay on 127.0.0.1 that insists on STARTTLS and a login before mail."""
    box = Mailbox()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(certificate.cert, certificate.key)
    port = _free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,
        auth_required=True,
        authenticator=box.login,
    )
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def tls_mailbox(certificate: Certificate) -> Iterator[tuple[Mailbox, int]]:
    """A relay on 127.0.0.1 that speaks TLS from the first byte (implicit TLS, as on port 465) and
    insists on a login before mail."""
    box = Mailbox()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(certificate.cert, certificate.key)
    port = _free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        ssl_context=server_tls,  # the whole connection, not STARTTLS
        auth_required=True,
        # aiosmtpd counts only STARTTLS as TLS and would not offer AUTH at all; handle_DATA checks that
        # each message did arrive encrypted.
        auth_require_tls=False,
        authenticator=box.login,
    )
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


# ---------------------------------------------------------------- a published issue


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The minimal issue's outputs with a stand-in PDF (no WeasyPrint: send never reads the PDF)."""
    from tablet_press.bundle.folder import load_bundle
    from tablet_press.render.email import email_outputs

    root = tmp_path_factory.mktemp("outputs")
    project = _project(root, 1)
    bundle, _ = load_bundle(root / "issues" / SLUG, project.root)
    assert bundle is not None
    return {f"{SLUG}.pdf": PDF, **email_outputs(bundle, project, PDF)}


def _project(
    root: Path, port: int, password_env: str = "TABLET_TEST_SMTP_PASSWORD", security: str = "starttls"
) -> Project:
    import shutil

    copy_project(root, ())
    shutil.copytree(FIXTURES / "good" / "minimal", root / "issues" / SLUG)
    with (root / "tablet.yaml").open("a") as config:
        config.write(
            "\nsmtp:\n  host: 127.0.0.1\n"
            f"  port: {port}\n  security: {security}\n  user: {USER}\n  password_env: {password_env}\n"
            f"  timeout: 5\n  test_to: [{', '.join(TESTERS)}]\n"
        )
    return load_project(root)


@dataclass
class Published:
    project: Project
    eml: bytes  # as published
    relay: Relay
    waits: list[float] = field(default_factory=list)

    @property
    def source(self) -> str:
        return f"issues/{SLUG}/published/{SLUG}.eml"

    def plan(self, to: list[str] | None = None, **options: bool) -> Plan:
        return plan(self.project, SLUG, self.eml, self.source, to=to or [], **options)

    def send(self, chosen: Plan, context: ssl.SSLContext) -> Any:
        return send(
            self.project,
            chosen,
            self.relay,
            context=context,
            sleep=self.waits.append,
            clock=lambda: 0.0,
            now=lambda: FIXED,
        )

    def sends(self) -> list[dict[str, Any]]:
        ledger = json.loads((self.project.root / "publications.json").read_text())
        return list(ledger["issues"][SLUG].get("sends", []))


@pytest.fixture
def published(tmp_path: Path, outputs: dict[str, bytes], mailbox: tuple[Mailbox, int]) -> Published:
    from tablet_press.bundle.folder import load_bundle

    project = _project(tmp_path / "project", mailbox[1])
    bundle, _ = load_bundle(project.root / "issues" / SLUG, project.root)
    assert bundle is not None
    publish(project, bundle, outputs, dt.date(2025, 9, 1))
    assert project.config.smtp is not None
    return Published(
        project, outputs[f"{SLUG}.eml"], relay(project.config.smtp, {"TABLET_TEST_SMTP_PASSWORD": PASSWORD})
    )


def _as_sent(eml: bytes) -> bytes:
    """The .eml as a real send hands it over: the draft marker is the one line taken out."""
    assert eml.count(b"\r\nX-Unsent: 1\r\n") == 1
    return eml.replace(b"\r\nX-Unsent: 1\r\n", b"\r\n", 1)


# ---------------------------------------------------------------- sending


def test_a_real_send_delivers_the_published_eml_byte_for_byte_one_message_per_reader(
    published: Published, mailbox: tuple[Mailbox, int], certificate: Certificate
) -> None:
    box, _ = mailbox
    delivery = published.send(published.plan(READERS[:2]), certificate.client())
    assert delivery.complete and delivery.accepted == READERS[:2]
    expected = _as_sent(published.eml)
    assert box.logins == [(USER, PASSWORD)]
    assert box.received == [
        ("lowrymf@upmc.edu", [READERS[0]], expected),
        ("lowrymf@upmc.edu", [READERS[1]], expected),
    ]
    assert box.encrypted == [True, True]
    head = expected.split(b"\r\n\r\n", 1)[0].lower()
    assert not any(r.encode() in head for r in READERS) and b"\r\nto:" not in head and b"\r\nbcc:" not in head
    assert published.waits == [2.0]  # 30 a minute: the second message waits its turn
    message_id = outgoing(published.eml, test=False, where="x").message_id
    assert published.sends() == [
        {
            "kind": "send",
            "message_id": message_id,
            "time": "2025-09-02T08:30:00Z",
            "recipients": 2,
            "sha256": sha256(expected),
        }
    ]
    assert read_ledger(published.project.root)[1] == []
    assert not pending_path(published.project, SLUG).exists()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # see tls_mailbox
def test_a_send_over_implicit_tls_delivers_the_published_eml_byte_for_byte(
    tmp_path: Path,
    outputs: dict[str, bytes],
    tls_mailbox: tuple[Mailbox, int],
    certificate: Certificate,
) -> None:
    """security: tls (port 465): TLS from the first byte, then the login, then one message per reader."""
    from tablet_press.bundle.folder import load_bundle

    box, port = tls_mailbox
    project = _project(tmp_path / "project", port, security="tls")
    assert project.config.smtp is not None and project.config.smtp.security == "tls"
    bundle, _ = load_bundle(project.root / "issues" / SLUG, project.root)
    assert bundle is not None
    publish(project, bundle, outputs, dt.date(2025, 9, 1))
    tls = Published(
        project, outputs[f"{SLUG}.eml"], relay(project.config.smtp, {"TABLET_TEST_SMTP_PASSWORD": PASSWORD})
    )
    delivery = tls.send(tls.plan(READERS[:2]), certificate.client())
    assert delivery.complete and delivery.accepted == READERS[:2]
    expected = _as_sent(tls.eml)
    assert box.logins == [(USER, PASSWORD)]
    assert box.received == [
        ("lowrymf@upmc.edu", [READERS[0]], expected),
        ("lowrymf@upmc.edu", [READERS[1]], expected),
    ]
    assert box.encrypted == [True, True]
    assert [(s["kind"], s["recipients"], s["sha256"]) for s in tls.sends()] == [("send", 2, sha256(expected))]
    # The same relay taken for a STARTTLS one never greets in clear: the error says which port is which.
    plain = Relay("127.0.0.1", port, "starttls", USER, PASSWORD, 0.5, 30)
    with pytest.raises(SendError, match=r"^127\.0\.0\.1:\d+ did not answer within 0\.5 s .* 465 for tls\)$"):
        send(project, tls.plan(READERS[2:], resend=True), plain, context=certificate.client())
    assert len(box.received) == 2 and len(tls.sends()) == 1


def test_implicit_tls_against_a_starttls_port_is_a_tls_failure_naming_the_ports(
    published: Published, mailbox: tuple[Mailbox, int], certificate: Certificate
) -> None:
    port = mailbox[1]
    wrong = Relay("127.0.0.1", port, "tls", USER, PASSWORD, 5, 30)
    with pytest.raises(SendError) as failed:
        send(published.project, published.plan(READERS), wrong, context=certificate.client())
    message = str(failed.value)
    assert message.startswith(f"127.0.0.1:{port}: TLS failed (") and message.endswith(
        "nothing was sent. Is the port right for security: tls? (587 for starttls, 465 for tls)"
    )
    assert mailbox[0].received == [] and published.sends() == []


def test_a_second_real_send_is_refused_unless_resend(
    published: Published, mailbox: tuple[Mailbox, int], certificate: Certificate
) -> None:
    published.send(published.plan(READERS[:1]), certificate.client())
    with pytest.raises(BuildError) as refused:
        published.plan(READERS[:1])
    message_id = outgoing(published.eml, test=False, where="x").message_id
    assert str(refused.value) == (
        f"issues/minimal was sent on 2025-09-02 08:30 UTC to 1 recipient(s) ({message_id}, in "
        "publications.json); send it again only on purpose, with --resend"
    )
    again = published.plan(READERS[:1], resend=True)
    assert again.kind == "resend"
    published.send(again, certificate.client())
    assert [s["kind"] for s in published.sends()] == ["send", "resend"]
    assert len(mailbox[0].received) == 2


def test_a_test_send_goes_to_the_test_addresses_only_with_test_in_the_subject_and_is_not_recorded(
    published: Published, mailbox: tuple[Mailbox, int], certificate: Certificate
) -> None:
    box, _ = mailbox
    chosen = published.plan(test=True)
    assert chosen.recipients == TESTERS
    delivery = published.send(chosen, certificate.client())
    assert delivery.complete
    expected = _as_sent(published.eml).replace(b"\r\nSubject: ", b"\r\nSubject: [TEST] ", 1)
    assert [(rcpt, data) for _, rcpt, data in box.received] == [
        ([TESTERS[0]], expected),
        ([TESTERS[1]], expected),
    ]
    assert b"\r\nSubject: [TEST] A minimal issue | The Tablet #7\r\n" in expected
    assert published.sends() == []
    with pytest.raises(
        BuildError, match=r"--test sends only to smtp.test_to in tablet.yaml, which does not list ann@"
    ):
        published.plan(["ann@example.org"], test=True)


def test_addresses_that_could_become_commands_or_headers_are_refused(published: Published) -> None:
    for bad in ["ann@example.org\r\nRCPT TO:<eve@example.org>", "Ann <ann@example.org>", "ann@example"]:
        with pytest.raises(BuildError, match="is not an email address tablet send accepts"):
            published.plan([bad])


def test_a_message_naming_recipients_in_its_headers_is_refused(published: Published) -> None:
    eml = published.eml.replace(b"\r\nSubject: ", b"\r\nBcc: eve@example.org\r\nSubject: ", 1)
    with pytest.raises(BuildError, match=r"names recipients in its headers \(bcc\)"):
        outgoing(eml, test=False, where="x.eml")


# ---------------------------------------------------------------- failures


def test_a_refused_login_sends_nothing_and_records_nothing(
    published: Published, mailbox: tuple[Mailbox, int], certificate: Certificate
) -> None:
    assert published.project.config.smtp is not None
    wrong = relay(published.project.config.smtp, {"TABLET_TEST_SMTP_PASSWORD": "wrong"})
    with pytest.raises(SendError) as refused:
        send(published.project, published.plan(READERS), wrong, context=certificate.client())
    port = mailbox[1]
    assert str(refused.value) == (
        f"127.0.0.1:{port} refused the login of editor (535 5.7.8 Authentication credentials invalid): "
        "check the password in $TABLET_TEST_SMTP_PASSWORD; nothing was sent"
    )
    assert mailbox[0].received == [] and published.sends() == []


def test_a_550_for_one_recipient_sends_to_the_others_and_resume_finishes(
    published: Published, mailbox: tuple[Mailbox, int], certificate: Certificate
) -> None:
    box, _ = mailbox
    box.refuse[READERS[1]] = "550 5.1.1 <bob@example.org>: mailbox unavailable"
    chosen = published.plan(READERS)
    delivery = published.send(chosen, certificate.client())
    assert delivery.accepted == [READERS[0], READERS[2]] and not delivery.complete
    assert report(chosen, delivery) == [
        "sent the message of issues/minimal to 2 of 3 recipient(s): ann@example.org, cy@example.org",
        "refused: bob@example.org: 550 5.1.1 <bob@example.org>: mailbox unavailable",
        f"recorded in publications.json: 2 recipient(s), {chosen.message.message_id}; commit it",
        "to send to the 1 not reached: tablet send minimal --resume "
        "(they are listed in .tablet/send-minimal.json)",
    ]
    assert [s["recipients"] for s in published.sends()] == [2]
    pending = read_pending(published.project, SLUG)
    assert (
        pending is not None
        and pending.accepted == [READERS[0], READERS[2]]
        and pending.remaining == [READERS[1]]
    )
    with pytest.raises(
        BuildError, match="run 'tablet send minimal --resume' to send to the 1 it did not reach"
    ):
        published.plan(READERS)
    del box.refuse[READERS[1]]
    resumed = published.plan(resume=True)
    assert resumed.recipients == [READERS[1]]
    assert published.send(resumed, certificate.client()).complete
    assert [r for _, (r,), _ in box.received] == [READERS[0], READERS[2], READERS[1]]
    assert [(s["kind"], s["recipients"]) for s in published.sends()] == [("send", 2), ("resume", 1)]
    assert not pending_path(published.project, SLUG).exists()


def test_a_connection_dropped_mid_send_records_only_what_was_accepted(
    published: Published, mailbox: tuple[Mailbox, int], certificate: Certificate
) -> None:
    box, port = mailbox
    box.drop.add(READERS[1])
    chosen = published.plan(READERS)
    delivery = published.send(chosen, certificate.client())
    assert delivery.accepted == [READERS[0]]
    assert report(chosen, delivery)[:4] == [
        "sent the message of issues/minimal to 1 of 3 recipient(s): ann@example.org",
        f"stopped: 127.0.0.1:{port} closed the connection",
        "unknown: bob@example.org: the connection broke before the relay answered; it is counted as not "
        "sent, so a resume may send it twice",
        "not sent: cy@example.org",
    ]
    assert [s["recipients"] for s in published.sends()] == [1]
    box.drop.clear()
    resumed = published.plan(resume=True)
    assert resumed.recipients == READERS[1:]
    assert published.send(resumed, certificate.client()).complete
    assert [r for _, (r,), _ in box.received] == READERS


def test_an_untrusted_certificate_is_a_tls_failure(
    published: Published, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    nobody = ssl.create_default_context(cafile=None, cadata=None)
    nobody.load_verify_locations(cadata=_another_ca())
    with pytest.raises(
        SendError, match=r"^127\.0\.0\.1:\d+: TLS failed: the relay's certificate is not trusted"
    ):
        send(published.project, published.plan(READERS), published.relay, context=nobody)
    assert mailbox[0].received == [] and published.sends() == []


def _another_ca() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "someone else")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_a_relay_that_never_answers_times_out(published: Published, certificate: Certificate) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        mute = Relay("127.0.0.1", port, "starttls", USER, PASSWORD, 0.5, 30)
        with pytest.raises(SendError) as failed:
            send(published.project, published.plan(READERS), mute, context=certificate.client())
    assert str(failed.value) == (
        f"127.0.0.1:{port} did not answer within 0.5 s (smtp.timeout); nothing was sent. A relay that "
        "speaks TLS from the start (usually port 465) never greets in clear: is the port right for "
        "security: starttls? (587 for starttls, 465 for tls)"
    )
    assert published.sends() == []


# ---------------------------------------------------------------- settings


def test_clear_text_is_for_a_relay_on_this_computer_only() -> None:
    assert Smtp.model_validate({"host": "localhost", "security": "none"}).port_number == 25
    with pytest.raises(ValueError, match="allowed only for a relay on this computer"):
        Smtp.model_validate({"host": "smtp.example.org", "security": "none"})


def test_the_password_comes_from_the_environment_or_the_keyring_never_a_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tablet_press.mail.smtp as smtp_module

    settings = Smtp.model_validate({"host": "smtp.example.org", "user": "editor"})
    assert relay(settings, {"TABLET_SMTP_PASSWORD": "s3cret"}).password == "s3cret"
    monkeypatch.setattr(
        smtp_module, "_keyring", lambda host, user: "from-keyring" if user == "editor" else None
    )
    found = relay(settings, {})
    assert (found.password, found.password_from) == (
        "from-keyring",
        "the keyring (tablet-press:smtp.example.org)",
    )
    monkeypatch.setattr(smtp_module, "_keyring", lambda host, user: None)
    with pytest.raises(
        SendError, match=r"set the environment variable TABLET_SMTP_PASSWORD, or store it in the "
    ):
        relay(settings, {})


# ---------------------------------------------------------------- the command


def test_the_command_test_sends_dry_runs_then_publishes_and_sends(
    tmp_path: Path,
    mailbox: tuple[Mailbox, int],
    certificate: Certificate,
    run: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As a user goes: dry run and test send of the built issue, a real send refused until published,
    then published, dry-run, sent; the relay's certificate trusted through SSL_CERT_FILE."""
    box, port = mailbox
    project = _project(tmp_path / "project", port)
    monkeypatch.setenv("TABLET_TEST_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))
    folder = project.root / "issues" / SLUG

    dry = run("send", SLUG, "--test", "--dry-run", cwd=folder)
    assert dry.exit_code == 0, dry.output
    lines = dry.stdout.splitlines()
    assert lines[0] == "dry run of a test of issues/minimal: no connection is made, nothing is sent"
    assert lines[1].startswith("message: dist/minimal/minimal.eml (sha256 ")
    assert lines[2:5] == [
        f"relay: 127.0.0.1:{port} (starttls, login as editor), at most 30 messages a minute",
        "envelope: MAIL FROM:<lowrymf@upmc.edu>",
        "envelope: RCPT TO, one message each, 2 recipient(s): proof@example.org, second@example.org",
    ]
    assert lines[5] == "subject: [TEST] A minimal issue | The Tablet #7"
    assert any(line.startswith("attachment: ") and "(application/pdf, " in line for line in lines)
    assert any(line.startswith("link: mailto:") for line in lines)
    assert box.received == []

    tested = run("send", SLUG, "--test", cwd=folder)
    assert tested.exit_code == 0, tested.output
    assert tested.stdout == "sent the test message of issues/minimal to 2 of 2 recipient(s)\n"
    assert len(box.received) == 2

    refused = run("send", SLUG, "--to", READERS[0], cwd=folder)
    assert refused.exit_code == 1
    assert (
        "error: issues/minimal is not published: a real send sends the issue as 'tablet publish'"
        in refused.stderr
    )

    assert run("publish", SLUG, "--date", "2025-09-01", cwd=folder).exit_code == 0
    dry = run("send", SLUG, "--to", READERS[0], "--to", READERS[1], "--dry-run", cwd=folder)
    assert "message: issues/minimal/published/minimal.eml (sha256 " in dry.stdout
    assert "subject: A minimal issue | The Tablet #7" in dry.stdout.splitlines()
    sent = run("send", SLUG, "--to", READERS[0], "--to", READERS[1], cwd=folder)
    assert sent.exit_code == 0, sent.output
    assert sent.stdout.splitlines()[0] == "sent the message of issues/minimal to 2 of 2 recipient(s)"
    published = (folder / "published" / f"{SLUG}.eml").read_bytes()
    assert [data for _, _, data in box.received[2:]] == [_as_sent(published)] * 2
    assert (
        json.loads((project.root / "publications.json").read_text())["issues"][SLUG]["sends"][0]["recipients"]
        == 2
    )


def test_a_damaged_send_in_the_record_is_a_located_error(
    published: Published, certificate: Certificate
) -> None:
    published.send(published.plan(READERS[:1]), certificate.client())
    path = published.project.root / "publications.json"
    path.write_text(path.read_text().replace('"time": "2025-09-02T08:30:00Z"', '"time": "yesterday"'))
    problems = read_ledger(published.project.root)[1]
    assert [p.format() for p in problems] == [
        f'publications.json:{_line(path, "time")}:11: error: the publication record is damaged: "time" '
        "must be a UTC time, YYYY-MM-DDTHH:MM:SSZ, not \"yesterday\" (only 'tablet publish' and "
        "'tablet send' write this file; restore it from version control)"
    ]


def _line(path: Path, key: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if f'"{key}"' in line)
