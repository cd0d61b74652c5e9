"""Delivery bookkeeping: send what each channel owes, one message at a time, and record the outcome.

A channel renders one poll's alerts into `Outgoing` messages, each naming the alerts it carries
and bound to its own `send()`; so when message 3 of 5 fails, exactly messages 1-2 are marked sent.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.core.blind import ChannelTry
from app.core.digest import Digest
from app.core.quiet import CatchUp, QuietHours
from app.core.text import one_line
from app.delivery import DeliveryFailure, PendingDelivery, attempts_allowed
from app.domain import Interrupted, WatcherNotice
from app.notify.channel import Channel, DeliveryStore, Owed
from app.notify.unrecorded import SentNotRecorded, Unrecorded

log = logging.getLogger(__name__)
QUIET_OFF = QuietHours()


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """sent: marked sent; failed: tried this cycle and failed (whether given up or not: the
    cycle's `delivery_failures`); pending: still owed (including the failed ones not given up)."""

    sent: int = 0
    failed: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)
    channels: tuple[ChannelTry, ...] = ()  # what each channel's run did (delivery health)

    def then(self, later: DeliveryReport) -> DeliveryReport:
        """This run followed by a later one of the same cycle: still pending is the later's."""
        return DeliveryReport(
            sent=self.sent + later.sent,
            failed=self.failed + later.failed,
            pending=later.pending,
            errors=self.errors + later.errors,
            channels=self.channels + later.channels,
        )


def deliver_pending(
    store: DeliveryStore,
    channels: Sequence[Channel],
    now: Callable[[], datetime],
    max_attempts: int,
    sleep: Callable[[float], None] = time.sleep,
    unrecorded: Unrecorded | None = None,
    quiet: QuietHours | None = None,
) -> DeliveryReport:
    """Deliver what every channel owes; one channel's failure never blocks another.

    Per channel: load its due deliveries (oldest first), group them by poll, render each poll,
    send message by message `min_interval` apart, and mark each message's deliveries sent as
    soon as it went through (a crash right there is the only duplicate window). On the first
    failure, record it on that message and on everything after it, and stop the channel until
    the next cycle (or until `Retry-After` has passed). A send that cannot be marked (disk
    full) is kept in `unrecorded` and stops the channel; it is recorded first next cycle, and
    the channel sends nothing while it cannot be, so no message goes out twice.
    """
    totals = DeliveryReport()
    unrecorded = Unrecorded() if unrecorded is None else unrecorded
    for channel in channels:
        run = _ChannelRun(store, channel, now, max_attempts, sleep, unrecorded, quiet or QUIET_OFF)
        run.run()
        totals = DeliveryReport(
            sent=totals.sent + run.sent,
            failed=totals.failed + run.failed,
            pending=totals.pending + len(run.remaining),
            errors=totals.errors + run.errors,
            channels=(*totals.channels, run.outcome()),
        )
        if run.interrupted:
            break  # shutdown or lost leadership: no other channel starts either
    return totals


@dataclass
class _ChannelRun:
    store: DeliveryStore
    channel: Channel
    now: Callable[[], datetime]
    max_attempts: int
    sleep: Callable[[float], None]
    unrecorded: Unrecorded
    quiet: QuietHours
    interrupted: bool = False
    remaining: dict[int, PendingDelivery] = field(default_factory=dict)  # not settled yet
    current: list[int] = field(default_factory=list)  # ids of the message being sent
    last_sent: datetime | None = None
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    refused: DeliveryFailure | None = None  # the channel's own failure (not the database's)

    def outcome(self) -> ChannelTry:
        refused = self.refused
        return ChannelTry(
            self.channel.name,
            sent=self.sent,
            failed=0 if refused is None else 1,
            permanent=refused is not None and refused.permanent,
            error="" if refused is None else one_line(str(refused)),
            waiting=len(self.remaining),
        )

    def run(self) -> None:
        name = self.channel.name
        try:
            self.unrecorded.settle(name, self.store.mark_sent)
        except Exception as exc:  # noqa: BLE001 - still unrecordable: send nothing more here
            self._not_recorded(exc, self.unrecorded.count(name))
            return
        try:
            rows = self.store.pending_deliveries(name, self.now())
        except Exception as exc:  # noqa: BLE001 - e.g. database down: nothing to mark, try later
            self._error(
                f"cannot load pending deliveries: {one_line(str(exc) or type(exc).__name__)}",
                permanent=False,
            )
            return
        now = self.now()
        if self.quiet.quiet_at(now):  # held: left pending, untouched, until the window ends
            rows = [row for row in rows if self.quiet.breaks_through(row)]
        self.remaining = {row.id: row for row in rows}
        try:
            with self.channel.session() if rows else contextlib.nullcontext():
                for group, catch_up in _groups(rows, self.quiet, now):
                    self._send_poll(group, catch_up)
        except DeliveryFailure as exc:
            self._fail(exc)
        except SentNotRecorded as exc:
            self._not_recorded(exc.__cause__ or exc, len(exc.ids))
        except Interrupted as exc:
            # Not a failure of the channel: nothing is marked, the rest stays pending as it was.
            log.info("delivery.interrupted channel=%s reason=%s", name, exc)
            self.interrupted = True
        except Exception as exc:  # one broken channel must not stop the others
            log.exception("delivery.channel_crashed channel=%s", name)
            # Only the type: an arbitrary exception's text may carry a secret into the database.
            self._fail(DeliveryFailure(f"unexpected {type(exc).__name__}", permanent=False))

    def _send_poll(self, group: list[PendingDelivery], catch_up: CatchUp | None = None) -> None:
        event_rows = [row for row in group if row.event is not None]
        summary_rows = [row for row in group if row.event is None and row.summary is not None]
        events = [row.event for row in event_rows if row.event is not None]
        summary = summary_rows[0].summary if summary_rows else catch_up
        self.current = [row.id for row in group]  # a render failure concerns the whole poll
        owed = Owed(tuple(row.id for row in event_rows), tuple(row.id for row in summary_rows))
        for message in self.channel.render_owed(events, summary, owed):
            self.current = [event_rows[i].id for i in message.event_indexes]
            if message.summary:
                self.current += [row.id for row in summary_rows]
            self._throttle()
            ref = message.send()
            self.last_sent = self.now()
            self._mark_sent(ref)
            self.sent += len(self.current)
            for settled in self.current:
                self.remaining.pop(settled, None)
            self.current = []

    def _mark_sent(self, ref: str | None) -> None:
        try:
            self.store.mark_sent(self.current, self.last_sent or self.now(), ref)
        except Exception as exc:
            # The send stands: remember it, so it is recorded, not repeated, next cycle.
            at = self.last_sent or self.now()
            self.unrecorded.note(self.channel.name, self.current, at, ref)
            for settled in self.current:
                self.remaining.pop(settled, None)
            raise SentNotRecorded(tuple(self.current)) from exc

    def _not_recorded(self, exc: BaseException, count: int) -> None:
        """Sent, but the database cannot record it: a failure of this cycle, and the channel
        stops (what is queued stays pending, untouched: the database refuses writes anyway)."""
        self.failed += count
        reason = one_line(str(exc) or type(exc).__name__)
        self._error(
            f"sent but not recorded ({count} deliveries): {reason}; nothing more is sent"
            " on this channel until the send is recorded",
            permanent=False,
        )

    def _throttle(self) -> None:
        interval = self.channel.min_interval
        if self.last_sent is None or interval <= 0:
            return
        elapsed = (self.now() - self.last_sent).total_seconds()
        # Clamped: a clock that jumps backwards must not make us wait longer than the interval.
        wait = min(interval, interval - elapsed)
        if wait > 0:
            self.sleep(wait)

    def _fail(self, exc: DeliveryFailure) -> None:
        """Record the failure on the failing message (as classified). What was queued behind it
        was not tried: it gets the same next try time (so order is kept) and the reason, but no
        attempt is counted against it."""
        error = str(exc)
        self.refused = exc
        self._error(error, permanent=exc.permanent)
        now = self.now()
        retry_at = now + timedelta(seconds=exc.retry_after) if exc.retry_after else None
        current = [i for i in self.current if i in self.remaining]
        rest = [i for i in self.remaining if i not in current]
        for ids, permanent, text, tried in (
            (current, exc.permanent, error, True),
            (rest, False, f"not sent: an earlier message failed: {error}", False),
        ):
            if not ids:
                continue
            try:
                self.store.mark_failed(
                    ids,
                    now,
                    text,
                    permanent=permanent,
                    max_attempts=self.max_attempts,
                    next_attempt_at=retry_at,
                    count_attempt=tried,
                )
            except Exception as mark_exc:  # noqa: BLE001 - they stay pending, retried next cycle
                log.error(
                    "delivery.mark_failed_failed channel=%s error=%s",
                    self.channel.name,
                    one_line(str(mark_exc) or type(mark_exc).__name__),
                )
                continue
            if tried:
                self._settle(ids, permanent)

    def _settle(self, ids: list[int], permanent: bool) -> None:
        """Every delivery tried and failed counts as this cycle's failure; those the store now
        gives up on (see attempts_allowed) also leave the pending count."""
        limit = attempts_allowed(self.max_attempts, permanent=permanent)
        for delivery_id in ids:
            self.failed += 1
            if self.remaining[delivery_id].attempts + 1 >= limit:
                del self.remaining[delivery_id]

    def _error(self, error: str, *, permanent: bool) -> None:
        log.warning(
            "delivery.failed channel=%s permanent=%s error=%s", self.channel.name, permanent, error
        )
        self.errors.append(f"{self.channel.name}: {error}")


def _groups(
    rows: Sequence[PendingDelivery], quiet: QuietHours, now: datetime
) -> list[tuple[list[PendingDelivery], CatchUp | None]]:
    """The messages to render: one per poll, except that the alerts held in quiet hours that
    ended form one catch-up group (SPEC 9), in order, where the first of them was."""
    held = [row for row in rows if row.event is not None and quiet.held_until(row, now)]
    if not held:
        return [(group, None) for group in _by_poll(rows)]
    ended = max(quiet.held_until(row, now) or now for row in held)
    catch_up = CatchUp(held[0].poll_id, now, len(held), (), until=ended)
    ids = {row.id for row in held}
    groups: list[tuple[list[PendingDelivery], CatchUp | None]] = []
    for group in _by_poll([row for row in rows if row.id not in ids or row is held[0]]):
        if held[0] in group:
            rest = [row for row in group if row is not held[0]]
            groups += [(held, catch_up)] + ([(rest, None)] if rest else [])
        else:
            groups.append((group, None))
    return groups


def _by_poll(rows: Sequence[PendingDelivery]) -> list[list[PendingDelivery]]:
    """Rows grouped by poll, polls in order of their first row, rows in their given order. A
    watcher notice (SPEC 8) or a digest (SPEC 9) is a message of its own: a poll may carry a
    notice and a summary, and digests belong to no poll."""
    groups: dict[tuple[int, int], list[PendingDelivery]] = {}
    for row in rows:
        notice = row.id if isinstance(row.summary, WatcherNotice | Digest) else 0
        groups.setdefault((row.poll_id, notice), []).append(row)
    return list(groups.values())
