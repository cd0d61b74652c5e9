"""A fake SMTP relay: aiosmtpd's Controller on 127.0.0.1 (a free port), collecting messages.

Optional AUTH (LOGIN/PLAIN over plain text, as a local relay would allow), refused recipients,
and scripted replies to the next DATA commands (e.g. "451 4.3.0 try later").
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


def free_port() -> int:
    """A port nothing listens on right now (for the Controller, and for "server down" tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FakeSMTP:
    """Use as a context manager; `host`/`port` for EmailChannel; `wait_for(n)` for messages."""

    def __init__(
        self,
        auth: tuple[str, str] | None = None,
        refuse: set[str] | None = None,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
    ) -> None:
        """`tls`: offer STARTTLS (required) with this server context, or with `implicit_tls`
        speak TLS from the first byte (SMTPS)."""
        self.auth = auth
        self.sessions: set[tuple[str, int]] = set()  # client (host, port) of each MAIL FROM
        self.refuse = set(refuse or ())
        self.messages: list[ReceivedMail] = []
        self.logins: list[str] = []  # usernames that authenticated
        self._data_replies: deque[str] = deque()
        self._cond = threading.Condition()
        self.host = "127.0.0.1"
        self.port = free_port()
        self._controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            # AUTH offered, not required: requiring it without TLS makes aiosmtpd warn (an error
            # under pytest); the channel logs in whenever it has a username.
            auth_required=False,
            auth_require_tls=False,
            authenticator=self._authenticate if auth is not None else None,
            **_tls_options(tls, implicit_tls),
        )

    def __enter__(self) -> FakeSMTP:
        self._controller.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._controller.stop()

    def reply_to_next_data(self, *replies: str) -> None:
        """Answer the next DATA commands with these lines instead of accepting the message."""
        with self._cond:
            self._data_replies.extend(replies)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"fake SMTP got {len(self.messages)} messages, wanted {count}")
            return list(self.messages)

    # ---- called from the server's thread -----------------------------------------------
    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert self.auth is not None
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            if (user, password) == self.auth:
                with self._cond:
                    self.logins.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def _next_data_reply(self) -> str | None:
        with self._cond:
            return self._data_replies.popleft() if self._data_replies else None

    def _store(self, mail: ReceivedMail) -> None:
        with self._cond:
            self.messages.append(mail)
            self._cond.notify_all()


def _tls_options(tls: ssl.SSLContext | None, implicit: bool) -> dict[str, Any]:
    if tls is None:
        return {}
    if implicit:
        return {"ssl_context": tls}
    return {"tls_context": tls, "require_starttls": True}


class _Handler:
    def __init__(self, fake: FakeSMTP) -> None:
        self.fake = fake

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: Any
    ) -> str:
        with self.fake._cond:
            self.fake.sessions.add(tuple(session.peer[:2]))
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.fake.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        scripted = self.fake._next_data_reply()
        if scripted is not None:
            return scripted
        raw = bytes(envelope.original_content or envelope.content)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.fake._store(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message, raw))
        return "250 Message accepted for delivery"
