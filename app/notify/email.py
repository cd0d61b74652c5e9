"""The email channel: one message per poll (plain text + HTML) through an SMTP relay.

TLS always verifies the server (an explicit default SSL context: smtplib's own does not), and
failures are classified by SMTP code: 4xx and network errors are retried, 5xx need a person.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from app import deadline
from app.core.redact import Redactor
from app.core.routing import Filter
from app.delivery import DeliveryFailure
from app.domain import BaselineSummary, Event
from app.notify.channel import Channel, Outgoing
from app.notify.render import EmailParts, clean, email_parts

log = logging.getLogger(__name__)

Security = Literal["starttls", "ssl", "none"]


class EmailChannel(Channel):
    """Sends each poll's alerts as one email to every recipient."""

    name: str = "email"
    min_interval: float = 0.0

    def __init__(
        self,
        host: str,
        port: int,
        security: Security,
        username: str | None,
        password: str | None,
        sender: str,
        recipients: list[str],
        timeout: float,
        ca_bundle: str = "",
        name: str = "email",
        accepts: Filter | None = None,
    ) -> None:
        self.name = name
        self.filter = accepts or Filter()
        self.host, self.port, self.security = host, port, security
        self._username, self._password = username, password
        self.sender, self.recipients, self.timeout = sender, list(recipients), timeout
        self._deadline = deadline.call_seconds(timeout)
        self._ca_bundle = ca_bundle
        self._smtp: smtplib.SMTP | None = None  # open during a session(), else per message
        self._in_session = False

    def render(self, events: Sequence[Event], summary: BaselineSummary | None) -> list[Outgoing]:
        if not events and summary is None:
            return []
        parts = email_parts(events, summary)
        send = functools.partial(self.post, parts)
        preview = f"To: {', '.join(self.recipients)}\nSubject: {parts.subject}\n\n{parts.text}"
        return [Outgoing(tuple(range(len(events))), summary is not None, send, preview)]

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """One SMTP connection for every message sent inside: opened at the first, closed here."""
        self._in_session = True
        try:
            yield
        finally:
            self._in_session = False
            self._drop()

    def post(self, parts: EmailParts) -> str | None:
        """Send one email within its deadline (the conversation included); returns its
        Message-ID; raises DeliveryFailure."""
        with deadline.channel_call(self._deadline, "SMTP", "SMTP_TIMEOUT_SECONDS") as scope:
            return self._post(parts, scope)

    def _post(self, parts: EmailParts, scope: deadline.Deadline) -> str | None:
        message = self._message(parts)
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            elif self._smtp.sock is not None:
                scope.track(self._smtp.sock)  # opened by an earlier message of the session
            refused = self._smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()  # a failed conversation is not reused
            raise self._failure(exc) from None
        finally:
            if not self._in_session:
                self._drop()
        if refused:
            # Some recipients got it: the alert is delivered; the others need a person.
            log.warning(
                "email.recipients_refused refused=%d of=%d", len(refused), len(self.recipients)
            )
        return str(message["Message-ID"])

    def check(self) -> str:
        """Connect, EHLO, STARTTLS and login as configured, then quit; raises DeliveryFailure."""
        with deadline.channel_call(self._deadline, "SMTP", "SMTP_TIMEOUT_SECONDS"):
            try:
                with self._connect():
                    pass
            except (smtplib.SMTPException, OSError) as exc:
                raise self._failure(exc) from None
        auth = "authenticated" if self._username else "no login"
        return f"SMTP ok ({self.host}:{self.port}, {self.security}, {auth})"

    def _message(self, parts: EmailParts) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = clean(parts.subject, 250)
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Date"] = formatdate(localtime=False, usegmt=True)
        # An explicit domain: the default asks DNS for our FQDN, which can stall.
        domain = self.sender.rpartition("@")[2].strip("> ") or "flinkswatch.invalid"
        message["Message-ID"] = make_msgid(idstring="flinkswatch", domain=domain)
        message.set_content(parts.text)
        message.add_alternative(parts.html, subtype="html")
        return message

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _connect(self) -> smtplib.SMTP:
        # Always a verifying context: without one, smtplib encrypts but trusts any certificate.
        context = ssl.create_default_context(cafile=self._ca_bundle or None)
        smtp: smtplib.SMTP
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if self._username:
                smtp.login(self._username, self._password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _failure(self, exc: BaseException) -> DeliveryFailure:
        where = f"SMTP {self.host}:{self.port}"
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            return DeliveryFailure(f"{where}: every recipient was refused", permanent=True)
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            text = f"{where}: login failed ({exc.smtp_code}); check SMTP_USERNAME and SMTP_PASSWORD"
            return DeliveryFailure(text, permanent=exc.smtp_code >= 500)
        if isinstance(exc, smtplib.SMTPResponseException):
            code = exc.smtp_code
            return DeliveryFailure(
                f"{where}: server said {code} {self._server_text(exc.smtp_error)}",
                permanent=500 <= code < 600,
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            return DeliveryFailure(
                f"{where}: TLS certificate not trusted ({exc.verify_message})", permanent=True
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return DeliveryFailure(f"{where}: {clean(exc, 150)}", permanent=True)
        detail = clean(exc, 150) or type(exc).__name__
        return DeliveryFailure(
            f"{where} unreachable: {type(exc).__name__}: {detail}", permanent=False
        )

    def _server_text(self, raw: bytes | str) -> str:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        # Belt and braces: a server echoing the AUTH line must not put the password in our logs.
        # Redacted before it is cut, so no prefix of a secret is left at the cut.
        return clean(Redactor([self._password or "", self._username or ""])(text), 150)
