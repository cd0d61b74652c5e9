"""PURE: when the watcher says it is blind, reminds, recovers (SPEC 8), and when a channel is
announced failing or recovered. Plain values in, the notice to record (or None) out; app.db keeps
the state these rules read, app.watch.poll applies them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from app.domain import NoticeKind, WatcherNotice

DATABASE = "database"  # the failure_kind of a cycle the database failed


@dataclass(frozen=True, slots=True)
class BlindPolicy:
    after: int = 3  # BLIND_AFTER_FAILURES
    repeat: timedelta = timedelta(hours=24)  # BLIND_REPEAT; 0: never repeat


@dataclass(frozen=True, slots=True)
class BlindState:
    """What the database knows before a cycle: the failed cycles since the last good one, and
    the open watcher_blind announcement (None: not blind, or blind but not announced yet)."""

    failures: int = 0
    since: datetime | None = None  # when the first of those failures started
    announced: WatcherNotice | None = None  # the latest blind notice of this outage
    announced_at: datetime | None = None  # when it (or its latest reminder) was recorded


def on_failure(
    state: BlindState,
    policy: BlindPolicy,
    *,
    started_at: datetime,
    now: datetime,
    cause: str,
    error: str,
) -> WatcherNotice | None:
    """The notice a failed cycle calls for: the first blind alert once BLIND_AFTER_FAILURES
    cycles in a row failed, then a reminder every BLIND_REPEAT while it lasts."""
    failures = state.failures + 1
    since = state.since or started_at
    if failures < policy.after:
        return None
    notice = WatcherNotice(
        poll_id=0,
        observed_at=now,
        total=0,
        by_status=(),
        kind=NoticeKind.WATCHER_BLIND,
        since=since,
        cause=cause,
        last_error=error,
        failures=failures,
    )
    if state.announced is None:
        return notice
    if not policy.repeat or state.announced_at is None:
        return None
    # One announced later than now (the clock ran ahead then) holds back no repeat.
    if state.announced_at <= now < state.announced_at + policy.repeat:
        return None
    return replace(notice, since=state.announced.since or since, repeat=True)


def on_success(state: BlindState, *, now: datetime, changes: int) -> WatcherNotice | None:
    """The one watcher_recovered notice of the first good cycle after an announced outage."""
    blind = state.announced
    if blind is None:
        return None
    return WatcherNotice(
        poll_id=0,
        observed_at=now,
        total=0,
        by_status=(),
        kind=NoticeKind.WATCHER_RECOVERED,
        since=blind.since,
        cause=blind.cause,
        last_error=blind.last_error,
        failures=state.failures,
        count=changes,
    )


# ---- delivery health ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    """One channel's delivery record as the database keeps it."""

    channel: str
    failing_cycles: int = 0  # consecutive cycles in which its deliveries failed
    since: datetime | None = None  # the first of those failures
    last_error: str = ""
    announced: bool = False  # the other channels were told it is failing


@dataclass(frozen=True, slots=True)
class ChannelTry:
    """What one cycle's delivery run did on one channel (app.notify.deliver)."""

    channel: str
    sent: int = 0
    failed: int = 0  # tried and failed
    permanent: bool = False  # a failure that needs a person (bad token, unknown channel)
    error: str = ""
    waiting: int = 0  # still owed after the run


def channel_health(
    health: ChannelHealth, tried: ChannelTry, *, now: datetime, after: int
) -> tuple[ChannelHealth, WatcherNotice | None]:
    """The channel's new record, and the notice for the other channels: `channel_failing` once
    its deliveries failed permanently or in `after` cycles in a row, `channel_recovered` once
    one goes through again after that. A cycle that tried nothing changes nothing."""
    if tried.failed:
        failing = replace(
            health,
            failing_cycles=health.failing_cycles + 1,
            since=health.since or now,
            last_error=tried.error,
        )
        if health.announced or not (tried.permanent or failing.failing_cycles >= after):
            return failing, None
        notice = _channel_notice(
            NoticeKind.CHANNEL_FAILING,
            failing,
            now,
            cause="permanent" if tried.permanent else "failing",
            count=tried.waiting,
        )
        return replace(failing, announced=True), notice
    if not tried.sent:
        return health, None
    if not health.announced:
        return ChannelHealth(tried.channel), None
    notice = _channel_notice(NoticeKind.CHANNEL_RECOVERED, health, now, count=tried.sent)
    return ChannelHealth(tried.channel), notice


def _channel_notice(
    kind: NoticeKind, health: ChannelHealth, now: datetime, *, cause: str = "", count: int
) -> WatcherNotice:
    return WatcherNotice(
        poll_id=0,
        observed_at=now,
        total=0,
        by_status=(),
        kind=kind,
        since=health.since,
        cause=cause,
        last_error=health.last_error,
        failures=health.failing_cycles,
        count=count,
        channel=health.channel,
    )
