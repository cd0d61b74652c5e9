"""poll_once(): one cycle of the watcher. It calls the stages in order; no business rule."""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from app.core.blind import DATABASE, BlindPolicy
from app.core.diff import DiffResult, diff
from app.core.lifetimes import collector_paused
from app.core.quiet import QuietHours
from app.core.routing import plan_deliveries
from app.core.rowprints import Delta, Fetched, RowIndex
from app.core.text import one_line
from app.domain import (
    ALERTED_BY_DEFAULT,
    INTERRUPTED,
    LEADERSHIP_LOST,
    CycleRecord,
    CycleResult,
    EventKind,
    HoldState,
    Interrupted,
    Key,
    Outcome,
)
from app.errors import DatabaseError
from app.flinks.listing import FlinksError
from app.logs import poll_id_var
from app.notify.channel import Channel, DeliveryStore
from app.notify.deliver import DeliveryReport, deliver_pending
from app.notify.unrecorded import Unrecorded
from app.watch.poll_logs import log_done, log_events, log_guard, log_notices
from app.watch.poll_ports import CycleStore, Source
from app.watch.recall import Previous, Recall
from app.watch.selfwatch import SelfWatch
from app.watch.stuckwatch import StuckWatch

log = logging.getLogger("app.poll")  # the logger name its lines always had


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Poller:
    """Everything one cycle needs, built once by app.wiring."""

    source: Source
    store: CycleStore
    outbox: DeliveryStore
    channels: Sequence[Channel]
    removal_confirm_polls: int = 2
    removal_hold_percent: int = 100  # REMOVAL_HOLD_PERCENT (SPEC 2); 100: the guard is off
    delivery_max_attempts: int = 10
    blind_policy: BlindPolicy = field(default_factory=BlindPolicy)  # BLIND_AFTER_FAILURES, ...
    stuck_after: Mapping[str, timedelta] = field(default_factory=dict)  # STUCK_AFTER (SPEC 9)
    stuck_repeat: timedelta = timedelta(days=7)  # STUCK_REPEAT
    late_after: float | None = None  # LATE_AFTER (SPEC 11); None: no late reminders
    expect_min_activations: int = 5  # EXPECT_MIN_ACTIVATIONS
    quiet: QuietHours = field(default_factory=QuietHours)  # QUIET_HOURS (SPEC 9)
    alerted: Collection[EventKind] = field(default_factory=lambda: ALERTED_BY_DEFAULT)
    clock: Callable[[], datetime] = utcnow
    sleep: Callable[[float], None] = time.sleep
    # Called before the cycle writes; raises Interrupted when it may not (leader lock lost).
    guard: Callable[[], None] = lambda: None
    # Told of each cycle's end (HEARTBEAT_URL), of a good one's delivery (SLACK_BOARD); no raise.
    heartbeat: Callable[[CycleResult], None] = lambda _result: None
    board: Callable[[DeliveryReport | None], None] = lambda _report: None
    # Sends the database could not mark (disk full): recorded before anything more is sent.
    unrecorded: Unrecorded = field(default_factory=Unrecorded)
    _recall: Recall = field(init=False, repr=False)  # what it keeps of its own last cycle
    _watch: SelfWatch = field(init=False, repr=False)
    _stuck: StuckWatch = field(init=False, repr=False)  # keeps the late limits between cycles

    def __post_init__(self) -> None:
        self._recall = Recall(self.store)
        self._stuck = StuckWatch(self.store, self.stuck_after, self.stuck_repeat)
        self._stuck.late_after, self._stuck.min_activations = (
            self.late_after,
            self.expect_min_activations,
        )
        self._watch = SelfWatch(self.store, self.channels, self.blind_policy)

    def poll_once(self) -> CycleResult:
        """One complete cycle, never raising:

        1. fetch and validate the listing (a failure is recorded; nothing else changes);
        2. skip the diff when the answer is byte-identical to the last one and nothing is pending;
        3. load the stored state and diff it against the answer;
        4. record the new state, its events and the deliveries they call for, in one transaction;
        5. deliver what is pending on every channel: this cycle's alerts and earlier failures;
        6. update each channel's delivery health, telling the others of one that fails (SPEC 8),
           and the Slack boards (SPEC 10); 7. ping the heartbeat URL of the outcome.
        """
        token = poll_id_var.set(uuid.uuid4().hex[:12])
        started = time.monotonic()
        try:
            result = self._record(self.clock())
            if result.outcome is not Outcome.FAILED and result.poll_id is not None:
                result = self._remind(result, result.poll_id)
            if result.failure_kind not in (LEADERSHIP_LOST, INTERRUPTED):
                report = self._deliver_and_watch(result.poll_id)
                if result.outcome is not Outcome.FAILED:
                    self.board(report)
                result = _with_delivery(result, report)
            log_done(result, time.monotonic() - started)
            self.heartbeat(result)
            return result
        finally:
            poll_id_var.reset(token)

    def _record(self, started_at: datetime) -> CycleResult:
        try:
            fetched = self.source.fetch()
        except FlinksError as exc:
            return self._failed(started_at, str(exc), exc.kind)
        except Interrupted as exc:
            # Shutdown during a retry wait: the cycle did not fail, it was cut short; no row.
            log.info("poll.not_recorded reason=%s", exc)
            return CycleResult(outcome=Outcome.FAILED, error=str(exc), failure_kind=INTERRUPTED)
        except Exception as exc:
            log.exception("poll.unexpected_error stage=fetch")
            return self._failed(started_at, f"unexpected error: {type(exc).__name__}", "unexpected")
        try:
            # The collector off while the cycle's big object graph lives (app.watch.memory), and
            # only then: fetching, its retry waits and the deliveries' pacing keep it on.
            with collector_paused():
                return self._diff_and_record(started_at, fetched)
        except FlinksError as exc:  # the body, validated on first use, is not a listing
            return self._failed(started_at, str(exc), exc.kind)
        except Interrupted as exc:
            # Another instance may be the leader now: write nothing, not even a failed poll.
            log.warning("poll.not_recorded reason=%s", exc)
            return CycleResult(outcome=Outcome.FAILED, error=str(exc), failure_kind=LEADERSHIP_LOST)
        except Exception as exc:  # noqa: BLE001 - database down, constraint, bug: nothing recorded
            log.error("poll.record_failed error=%r", one_line(exc))
            return self._failed(started_at, f"recording failed: {one_line(exc)}", _kind(exc))

    def _diff_and_record(self, started_at: datetime, fetched: Fetched) -> CycleResult:
        latest = self.store.last_success_id()
        index: Mapping[Key, bytes] | None = None
        if (rows := self._identical_rows(fetched)) is None:
            # Validated here, and only here: of a body read row by row, only what changed.
            delta, known = self._recall.delta(fetched, latest)
            rows, skipped = delta.rows_seen, delta.answer.skipped
            previous, result = self._diff(started_at, delta, known, latest)
            index = self._recall.next_index(previous, delta, result.changed)
        else:
            skipped, previous, result = 0, None, DiffResult(events=(), changed=())
        outcome = Outcome.OK if skipped == 0 else Outcome.DEGRADED
        events = result.events
        self.guard()
        changes = sum(1 for e in events if e.event is not EventKind.BASELINE)
        notices = self._watch.on_success(now=self.clock(), changes=changes)
        routes = [(channel.name, channel.filter) for channel in self.channels]
        record = CycleRecord(
            started_at=started_at,
            finished_at=self.clock(),
            outcome=outcome,
            rows_seen=rows,
            rows_skipped=skipped,
            changed=tuple(result.changed),
            events=tuple(events),
            deliveries=plan_deliveries(events, routes, self.alerted, held=result.guard.opens),
            digest=fetched.digest if skipped == 0 else None,
            guard=result.guard,
            notices=notices,
            index=index,
            drop_index=previous is not None and index is None,
        )
        poll_id = self.store.record_cycle(record)
        self._watch.recorded()
        log_notices(notices)
        self._recall.remember(latest, poll_id, previous, result.changed, index)
        log_events(events)
        return CycleResult(
            outcome=outcome,
            rows=rows,
            skipped=skipped,
            events=len(events),
            poll_id=poll_id,
            kinds=tuple(sorted(Counter(str(e.event) for e in events).items())),
        )

    def _identical_rows(self, fetched: Fetched) -> int | None:
        """The rows of the last complete answer if this body is byte-identical to it and no
        removal is held or counted: the same bytes need no validation and no diff."""
        store, last = self.store, self.store.last_complete_answer()
        if last is None or last[0] != fetched.digest or store.removal_hold() is not HoldState.NONE:
            return None
        return None if store.has_pending_removals() else last[1]

    def _diff(
        self, started_at: datetime, delta: Delta, known: RowIndex | None, latest: int | None
    ) -> tuple[Previous, DiffResult]:
        """The diff of a validated answer against the stored state, and that state."""
        hold = self.store.removal_hold()
        previous = self._recall.previous(delta, known, latest)
        result = diff(
            previous.state,
            delta.answer,
            started_at,
            baseline=latest is None,
            removal_confirm_polls=self.removal_confirm_polls,
            hold=hold,
            removal_hold_percent=self.removal_hold_percent,
            unchanged=delta.unchanged,
            present=previous.present,
        )
        log_guard(result)
        if result.removals_pending and not result.guard.held:
            log.warning(
                "poll.removals_pending count=%d confirm_polls=%d",
                result.removals_pending,
                self.removal_confirm_polls,
            )
        return previous, result

    def _failed(self, started_at: datetime, error: str, kind: str) -> CycleResult:
        """Record the failed cycle with the blind notices it calls for (SPEC 8); when the
        database refuses that too, the watcher may have to say so without it."""
        poll_id, now = None, self.clock()
        try:
            self.guard()
            plans = self._watch.on_failure(started_at=started_at, now=now, kind=kind, error=error)
            poll_id = self.store.record_failure(
                started_at=started_at, finished_at=now, error=error, kind=kind, notices_due=plans
            )
            self._watch.recorded()
            log_notices(plans)
        except Interrupted as exc:
            log.warning("poll.not_recorded reason=%s", exc)
            return CycleResult(outcome=Outcome.FAILED, error=error, failure_kind=LEADERSHIP_LOST)
        except Exception as exc:  # noqa: BLE001 - the database may be the thing that failed
            log.error("poll.failure_not_recorded error=%r", one_line(exc))
            reason = error if kind.startswith(DATABASE) else f"recording failed: {one_line(exc)}"
            self._watch.not_recorded(started_at=started_at, now=now, error=reason, cause=_kind(exc))
        return CycleResult(outcome=Outcome.FAILED, error=error, poll_id=poll_id, failure_kind=kind)

    def _remind(self, result: CycleResult, poll_id: int) -> CycleResult:
        """Stuck reminders (SPEC 9); a failure leaves them due for the next cycle."""
        watch = self._stuck
        routes = [(channel.name, channel.filter) for channel in self.channels]
        try:
            self.guard()
            due = watch.remind(poll_id, self.clock(), routes, self.alerted)
        except Exception as exc:  # noqa: BLE001 - Interrupted too: nothing of it was written
            log.error("poll.reminders_not_recorded error=%r", one_line(exc))
            return result
        kinds = (*result.kinds, (str(EventKind.STUCK), len(due))) if due else result.kinds
        return replace(result, events=result.events + len(due), kinds=kinds)

    def _deliver_and_watch(self, poll_id: int | None) -> DeliveryReport | None:
        """Deliver; then, when a channel was just announced failing or recovered, deliver
        that notice at once (not next cycle) on the channels that did not fail just now."""
        report = self._deliver(self.channels)
        if report is None or poll_id is None:
            return report
        if not self._watch.after_delivery(poll_id, report, self.clock()):
            return report
        failed = {tried.channel for tried in report.channels if tried.failed}
        again = self._deliver([ch for ch in self.channels if ch.name not in failed])
        return report if again is None else report.then(again)

    def _deliver(self, channels: Sequence[Channel]) -> DeliveryReport | None:
        try:
            return deliver_pending(
                self.outbox,
                channels,
                now=self.clock,
                max_attempts=self.delivery_max_attempts,
                sleep=self.sleep,
                unrecorded=self.unrecorded,
                quiet=self.quiet,
            )
        except Exception as exc:  # noqa: BLE001 - e.g. database down: retried next cycle
            log.error("delivery.skipped error=%r", one_line(exc))
            return None


def _kind(exc: Exception) -> str:
    return exc.kind if isinstance(exc, DatabaseError) else DATABASE


def _with_delivery(result: CycleResult, report: DeliveryReport | None) -> CycleResult:
    if report is None:
        return replace(result, delivery_failures=1)
    return replace(result, delivered=report.sent, delivery_failures=report.failed)
