"""Talking to the mail relay: the password's lookup, the connection (STARTTLS, implicit TLS, or clear
text to this computer only), one message per recipient at the configured rate, and an error a user can
act on for every way it fails.

One message per recipient, not one message for many: the relay's answer to each transaction then says
exactly who was accepted, a refused address or a dropped connection costs one recipient and no one is
ever left in doubt about the others, and relays' limits on recipients per message never apply. The
cost is one transaction (~100 kB) per reader, at `per_minute` a minute: 300 readers take ten minutes at
the default of 30. The bytes are the same for everyone; the recipient is in the envelope only.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tablet_press.bundle.model import Smtp
from tablet_press.errors import BuildError
from tablet_press.mail.message import Outgoing

KEYRING_SERVICE = "tablet-press"


class SendError(BuildError):
    """The relay could not be reached or refused us before anything was sent."""


@dataclass(frozen=True)
class Relay:
    host: str
    port: int
    security: str
    user: str | None
    password: str | None
    timeout: float
    per_minute: int
    password_from: str = ""  # where the password came from, for the message when it is refused

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def keyring_service(host: str) -> str:
    return f"{KEYRING_SERVICE}:{host}"


def relay(smtp: Smtp, environ: Mapping[str, str] | None = None) -> Relay:
    """The relay of tablet.yaml's smtp: with its password, from the environment, else the keyring."""
    environ = os.environ if environ is None else environ
    password, source = None, ""
    if smtp.user is not None:
        password, source = environ.get(smtp.password_env) or None, f"${smtp.password_env}"
        if password is None:
            password, source = _keyring(smtp.host, smtp.user), f"the keyring ({keyring_service(smtp.host)})"
        if password is None:
            raise SendError(
                f"tablet.yaml: smtp.user is {smtp.user}, but no password was found: set the environment "
                f"variable {smtp.password_env}, or store it in the system keyring with "
                f"'keyring set {keyring_service(smtp.host)} {smtp.user}' (never in a file of the project)"
            )
    return Relay(
        smtp.host,
        smtp.port_number,
        smtp.security,
        smtp.user,
        password,
        float(smtp.timeout),
        smtp.per_minute,
        source,
    )


def _keyring(host: str, user: str) -> str | None:
    """The password in the system keyring, or None: keyring is optional (pip install keyring)."""
    try:
        import keyring  # optional, and slow to import: only when no environment variable is set
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        return keyring.get_password(keyring_service(host), user)
    except KeyringError:  # no usable backend on this machine (a server without a desktop session)
        return None


@dataclass
class Delivery:
    """What the relay did with each recipient. Only `accepted` ever counts as sent."""

    accepted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # address -> the relay's reply
    untried: list[str] = field(default_factory=list)  # never handed over (the send stopped first)
    stopped: str = ""  # why the send stopped before the end, if it did
    in_doubt: str = ""  # the address in flight when the connection broke: maybe delivered, maybe not
    last: datetime | None = None  # when the last accepted message was handed over

    @property
    def complete(self) -> bool:
        return not self.refused and not self.untried and not self.stopped


def deliver(
    relay: Relay,
    message: Outgoing,
    recipients: list[str],
    *,
    context: ssl.SSLContext | None = None,
    accepted: Callable[[str], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Delivery:
    """Send `message` to each recipient in its own transaction, at most `per_minute` a minute.

    Raises SendError when nothing could be sent (no connection, TLS or login refused, sender refused).
    Otherwise returns what happened to each recipient; `accepted` hears of each as the relay accepts
    it, so that a caller can keep a record that survives an interruption."""
    context = context or ssl.create_default_context()  # honours SSL_CERT_FILE for a private CA
    done = Delivery()
    connection = _connect(relay, context)
    interval = 60.0 / relay.per_minute
    try:
        started: float | None = None
        for number, address in enumerate(recipients):
            if started is not None:
                wait = started + interval - clock()
                if wait > 0:
                    sleep(wait)
            started = clock()
            try:
                connection.sendmail(message.sender, [address], message.data)
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = exc.recipients.get(address, (0, b""))
                done.refused[address] = _reply(code, reply)
                continue
            except smtplib.SMTPDataError as exc:
                done.refused[address] = (
                    f"the relay refused the message: {_reply(exc.smtp_code, exc.smtp_error)}"
                )
                continue
            except smtplib.SMTPSenderRefused as exc:
                done.stopped = (
                    f"{relay.where} refused the sender {message.sender}: "
                    f"{_reply(exc.smtp_code, exc.smtp_error)}"
                )
                done.untried = recipients[number:]
                break
            except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as exc:
                done.stopped = _broken(relay, exc)
                done.in_doubt = address
                done.untried = recipients[number:]
                break
            done.accepted.append(address)
            done.last = now()
            accepted(address)
    finally:
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()  # the relay went away already; nothing more to say to it
    return done


def _connect(relay: Relay, context: ssl.SSLContext) -> smtplib.SMTP:
    """A connection, secured and logged in as tablet.yaml says; raises SendError with what went wrong."""
    where = relay.where
    connection: smtplib.SMTP | None = None
    try:
        if relay.security == "tls":
            connection = smtplib.SMTP_SSL(relay.host, relay.port, timeout=relay.timeout, context=context)
        else:
            connection = smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout)
        connection.ehlo()
        if relay.security == "starttls":
            if not connection.has_extn("starttls"):
                raise SendError(
                    f"{where} does not offer STARTTLS, so the login and the list would cross the network "
                    "in clear; nothing was sent (is the port right? 587 for starttls, 465 for tls)"
                )
            connection.starttls(context=context)
            connection.ehlo()
        if relay.user is not None and relay.password is not None:
            if not connection.has_extn("auth"):
                raise SendError(
                    f"{where} does not offer a login (AUTH), but smtp.user is set; nothing was sent"
                )
            connection.login(relay.user, relay.password)
        return connection
    except SendError:
        _close(connection)
        raise
    except smtplib.SMTPAuthenticationError as exc:
        _close(connection)
        raise SendError(
            f"{where} refused the login of {relay.user} ({_reply(exc.smtp_code, exc.smtp_error)}): check the "
            f"password in {relay.password_from}; nothing was sent"
        ) from None
    except ssl.SSLCertVerificationError as exc:
        _close(connection)
        raise SendError(
            f"{where}: TLS failed: the relay's certificate is not trusted ({exc.verify_message}); nothing "
            "was sent. A relay with a private certificate authority needs SSL_CERT_FILE set to its "
            "certificate"
        ) from None
    except ssl.SSLError as exc:
        _close(connection)
        raise SendError(
            f"{where}: TLS failed ({exc.reason or exc}); nothing was sent. Is the port right for "
            f"security: {relay.security}? (587 for starttls, 465 for tls)"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        _close(connection)
        hint = ""
        if connection is None and relay.security != "tls" and _timed_out(exc):
            # No greeting at all: a relay that speaks TLS from the first byte waits for our handshake.
            hint = (
                f". A relay that speaks TLS from the start (usually port 465) never greets in clear: "
                f"is the port right for security: {relay.security}? (587 for starttls, 465 for tls)"
            )
        raise SendError(f"{_broken(relay, exc)}; nothing was sent{hint}") from None


def _timed_out(exc: BaseException) -> bool:
    # smtplib reports a read that timed out as a disconnection, with the timeout as its context.
    return isinstance(exc, TimeoutError | socket.timeout) or isinstance(exc.__context__, TimeoutError)


def _broken(relay: Relay, exc: BaseException) -> str:
    where = relay.where
    if _timed_out(exc):
        return f"{where} did not answer within {relay.timeout:g} s (smtp.timeout)"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"{where} closed the connection"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{where} answered {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, ConnectionRefusedError):
        return f"{where} refused the connection (is the host and port right?)"
    if isinstance(exc, socket.gaierror):
        return f"{relay.host} is not a host name this computer can find ({exc.strerror})"
    if isinstance(exc, OSError):
        return f"{where}: {exc.strerror or exc}"
    return f"{where}: {exc}"


def _reply(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(said.split())}".strip()


def _close(connection: smtplib.SMTP | None) -> None:
    if connection is not None:
        connection.close()
