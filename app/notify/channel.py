"""The ports of delivery: a Channel renders and sends, a DeliveryStore keeps the outbox
(app.db.outbox.Outbox). app.notify.deliver runs them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.core.routing import Filter
from app.delivery import PendingDelivery
from app.domain import BaselineSummary, Event


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One rendered message: which alerts it carries, and how to send it."""

    event_indexes: tuple[int, ...]  # positions in the `events` given to Channel.render
    summary: bool  # carries the baseline summary
    send: Callable[[], str | None]  # returns an external ref; raises DeliveryFailure
    preview: str = ""  # what would be sent, for `notify-test --dry-run`


@dataclass(frozen=True, slots=True)
class Owed:
    """The outbox ids of what `render` is given: one per event, and the summary's rows."""

    events: tuple[int, ...] = ()
    summary: tuple[int, ...] = ()


class Channel(Protocol):
    """An alert destination. `render` is cheap and pure-ish; only `Outgoing.send` does I/O.
    Implementations subclass this to inherit the defaults of the optional members."""

    name: str  # "console", "slack", "slack:#nbc", "email": the deliveries' channel column
    min_interval: float  # seconds between two messages to this channel
    filter: Filter = Filter()  # which events it takes (SLACK_ROUTES, EMAIL_ROUTES): all

    def render(self, events: Sequence[Event], summary: BaselineSummary | None) -> list[Outgoing]:
        """One poll's alerts as messages, in order; together they carry every alert given."""
        ...

    def render_owed(
        self, events: Sequence[Event], summary: BaselineSummary | None, owed: Owed
    ) -> list[Outgoing]:
        """`render`, for a channel that names each message after its deliveries (the signed
        webhook's `webhook-id`, the same on every retry). By default the ids are not needed."""
        return self.render(events, summary)

    def session(self) -> contextlib.AbstractContextManager[None]:
        """Held around one delivery run: a channel may keep one connection for all of it
        (email: one SMTP session). By default nothing is held."""
        return contextlib.nullcontext()

    def check(self) -> str:
        """Reach the destination without sending (`flinkswatch check`): what works, or
        DeliveryFailure. By default the channel cannot be verified without posting."""
        return f"{self.name}: configured (it can only be verified by sending)"


class DeliveryStore(Protocol):
    """The part of the outbox (app.db.outbox.Outbox) that delivery needs."""

    def pending_deliveries(
        self, channel: str, now: datetime, limit: int = 1000
    ) -> list[PendingDelivery]: ...

    def mark_sent(
        self, ids: Sequence[int], now: datetime, external_ref: str | None = None
    ) -> None: ...

    def mark_failed(
        self,
        ids: Sequence[int],
        now: datetime,
        error: str,
        *,
        permanent: bool,
        max_attempts: int,
        next_attempt_at: datetime | None = None,
        count_attempt: bool = True,
    ) -> None: ...
