"""The signed webhook (WEBHOOK_URL, WEBHOOK_SECRET): one JSON POST per event, for machines.

Signed as the Standard Webhooks specification says (the `standardwebhooks` package): headers
`webhook-id` (derived from the outbox delivery, the same on every retry), `webhook-timestamp`
and `webhook-signature`. 2xx is delivered; 410 and any other 4xx but 408 and 429 are permanent;
the rest (3xx: no redirect is followed, 408, 429, 5xx, network errors) is retried, after the
`Retry-After` the receiver asked for. A send has one overall deadline, whatever the receiver
does (a slow drip of bytes included). The URL is a secret: only its scheme and host are shown.
"""

from __future__ import annotations

import functools
import queue
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from app.core.quiet import CatchUp
from app.core.retry_after import retry_after_seconds
from app.delivery import DeliveryFailure
from app.domain import BaselineSummary, Event
from app.notify.channel import Channel, Outgoing, Owed
from app.notify.url_view import scrub, where
from app.notify.webhook_payload import encode, event_body, message_id, summary_body

RETRY_AFTER_MAX = 3600.0
ANSWER_LIMIT = 64 * 1024  # bytes of an answer read (its status is what counts)
_Result = tuple[int, dict[str, str]] | BaseException


def signer(secret: str) -> Webhook:
    """Keyed by the base64 part after `whsec_` when the secret has that form, else its bytes."""
    return Webhook(secret) if secret.startswith("whsec_") else Webhook(secret.encode())


class WebhookChannel(Channel):
    """POSTs each alert as its own signed JSON message."""

    name: str = "webhook"
    min_interval: float = 0.0  # a machine's endpoint: the outbox sends one message at a time

    def __init__(self, url: str, secret: str, timeout: float) -> None:
        self._url, self._timeout = url, timeout
        self._signer = signer(secret)
        self.where = where(url)
        # One client (its TLS context and pooled connections) for every send: building one per
        # POST cost 70 ms each. A send abandoned at the deadline only holds its own connection.
        # The deadline (`timeout`, the worker's wait in `post`) ends a send; httpx's own
        # timeouts, longer, only end the abandoned worker.
        self._http = httpx.Client(timeout=2 * timeout, follow_redirects=False)

    def render(self, events: Sequence[Event], summary: BaselineSummary | None) -> list[Outgoing]:
        return self.render_owed(events, summary, Owed())

    def render_owed(
        self, events: Sequence[Event], summary: BaselineSummary | None, owed: Owed
    ) -> list[Outgoing]:
        """The summary first (not a catch-up: its events go one by one), then one per event."""
        messages = []
        if summary is not None and not isinstance(summary, CatchUp):
            key = owed.summary[0] if owed.summary else None
            messages.append(self._outgoing(summary_body(summary), key, (), summary=True))
        for index, event in enumerate(events):
            key = owed.events[index] if index < len(owed.events) else None
            messages.append(self._outgoing(event_body(event), key, (index,), summary=False))
        return messages

    def _outgoing(
        self, body: dict[str, Any], key: int | None, indexes: tuple[int, ...], *, summary: bool
    ) -> Outgoing:
        content = encode(body)
        # Without an outbox id (notify-test, a blind alert sent while the database is down):
        # a message of its own, sent once.
        msg_id = message_id(key, content) if key is not None else f"msg_fw_{uuid.uuid4().hex}"
        preview = f"POST {self.where}\nwebhook-id: {msg_id}\n\n{content.decode()}"
        return Outgoing(indexes, summary, functools.partial(self.post, content, msg_id), preview)

    def post(self, content: bytes, msg_id: str) -> str | None:
        """One signed POST within the deadline; returns the webhook-id; raises DeliveryFailure."""
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "user-agent": "flinkswatch",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self._signer.sign(msg_id, now, content),
        }
        answers: queue.Queue[_Result] = queue.Queue(maxsize=1)
        worker = threading.Thread(
            target=self._exchange, args=(content, headers, answers), daemon=True
        )
        worker.start()
        try:
            answer = answers.get(timeout=self._timeout)
        except queue.Empty:
            text = f"webhook {self.where}: no answer within {self._timeout:g} s"
            raise DeliveryFailure(text, permanent=False) from None
        if isinstance(answer, BaseException):
            detail = scrub(" ".join(str(answer).split())[:150], self._url)
            text = f"webhook {self.where} unreachable: {type(answer).__name__}: {detail}"
            raise DeliveryFailure(text.rstrip(": "), permanent=False)
        status, answered = answer
        if 200 <= status < 300:
            return msg_id
        raise self._failure(status, answered)

    def _exchange(
        self, content: bytes, headers: dict[str, str], answers: queue.Queue[_Result]
    ) -> None:
        """In a worker: the POST, its answer read up to ANSWER_LIMIT (never redirected)."""
        try:
            with self._http.stream("POST", self._url, content=content, headers=headers) as response:
                read = 0
                for chunk in response.iter_raw():
                    read += len(chunk)
                    if read >= ANSWER_LIMIT:
                        break
                answers.put_nowait((response.status_code, dict(response.headers)))
        except Exception as exc:  # noqa: BLE001 - reported by the caller as one line
            answers.put_nowait(exc)

    def _failure(self, status: int, headers: dict[str, str]) -> DeliveryFailure:
        text = f"webhook {self.where} answered HTTP {status}"
        if 300 <= status < 400:
            text += " (a redirect: not followed; set WEBHOOK_URL to the final address)"
        permanent = 400 <= status < 500 and status not in (408, 429)
        wait = retry_after_seconds(headers.get("retry-after"), low=1.0, high=RETRY_AFTER_MAX)
        return DeliveryFailure(text, permanent=permanent, retry_after=None if permanent else wait)

    def check(self) -> str:
        return f"{self.where} configured, signed (it can only be verified by sending: notify-test)"
