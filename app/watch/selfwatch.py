"""The watcher watching itself (SPEC 8), for app.watch.poll: which blind / recovered notices a cycle
records, the blind alert sent directly while the database is down, and each channel's delivery
health after a delivery run. The rules are app.core.blind's; the state is in the database."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from app.core.blind import (
    DATABASE,
    BlindPolicy,
    BlindState,
    ChannelHealth,
    channel_health,
    on_failure,
    on_success,
)
from app.core.text import one_line
from app.domain import NoticePlan, WatcherNotice
from app.notify.channel import Channel
from app.notify.deliver import DeliveryReport

log = logging.getLogger("app.selfwatch")  # the logger name its lines always had


class HealthStore(Protocol):
    """What this needs of app.db.store.Store."""

    def blind_state(self) -> BlindState: ...
    def channel_health(self) -> dict[str, ChannelHealth]: ...
    def record_channel_health(
        self,
        poll_id: int,
        records: Sequence[ChannelHealth],
        due: Sequence[NoticePlan],
        at: datetime,
    ) -> None: ...


@dataclass
class SelfWatch:
    store: HealthStore
    channels: Sequence[Channel]
    policy: BlindPolicy = field(default_factory=BlindPolicy)
    # The blind alert told directly while the database was down: recorded once it is back.
    _direct: NoticePlan | None = field(default=None, init=False)
    _unrecorded: int = field(default=0, init=False)  # failed cycles the database did not take
    _unrecorded_since: datetime | None = field(default=None, init=False)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(channel.name for channel in self.channels)

    def _state(self) -> tuple[BlindState, tuple[NoticePlan, ...]]:
        """The stored state with the directly told alert in it; the plans still to record."""
        state = self.store.blind_state()
        if self._direct is None:
            return state, ()
        told = self._direct.notice
        return replace(state, announced=told, announced_at=told.observed_at), (self._direct,)

    def on_failure(
        self, *, started_at: datetime, now: datetime, kind: str, error: str
    ) -> tuple[NoticePlan, ...]:
        """The notices to record with a failed cycle (reads the database: may raise)."""
        state, plans = self._state()
        notice = on_failure(
            state, self.policy, started_at=started_at, now=now, cause=kind, error=error
        )
        if notice is None:
            return plans
        return (*plans, NoticePlan(notice, self.names))

    def on_success(self, *, now: datetime, changes: int) -> tuple[NoticePlan, ...]:
        state, plans = self._state()
        notice = on_success(state, now=now, changes=changes)
        return plans if notice is None else (*plans, NoticePlan(notice, self.names))

    def recorded(self) -> None:
        """The cycle's row (and the notices given for it) are in the database."""
        if self._direct is not None:
            log.info("watcher.blind_alert_recorded channels=%s", ",".join(self._direct.sent))
        self._direct, self._unrecorded, self._unrecorded_since = None, 0, None

    def not_recorded(
        self, *, started_at: datetime, now: datetime, error: str, cause: str = DATABASE
    ) -> None:
        """A failed cycle the database could not take either: after BLIND_AFTER_FAILURES of
        them, tell every channel directly, once per outage of this process (best effort)."""
        self._unrecorded += 1
        self._unrecorded_since = self._unrecorded_since or started_at
        if self._direct is not None or self._unrecorded < self.policy.after:
            return
        # The same rule as a recorded outage, over this process's unrecorded cycles only.
        state = BlindState(self._unrecorded - 1, self._unrecorded_since)
        notice = on_failure(
            state, self.policy, started_at=started_at, now=now, cause=cause, error=error
        )
        if notice is None:
            return
        sent = tuple(ch.name for ch in self.channels if _send_directly(ch, notice))
        self._direct = NoticePlan(notice, (), sent=sent)

    def after_delivery(self, poll_id: int, report: DeliveryReport, now: datetime) -> bool:
        """Update each channel's delivery record; True when a notice about a channel was
        recorded (the caller delivers it now, to the other channels). A cycle in which no
        channel tried anything changes no record (app.core.blind): no read at all then."""
        if not any(tried.sent or tried.failed for tried in report.channels):
            return False
        try:
            known = self.store.channel_health()
            records, plans = [], []
            for tried in report.channels:
                old = known.get(tried.channel, ChannelHealth(tried.channel))
                new, notice = channel_health(old, tried, now=now, after=self.policy.after)
                if new != old:
                    records.append(new)
                if notice is not None:
                    others = tuple(n for n in self.names if n != tried.channel)
                    plans.append(NoticePlan(notice, others))
                    log.warning(
                        "watcher.%s channel=%s waiting=%d", notice.kind, tried.channel, notice.count
                    )
            if records or plans:
                self.store.record_channel_health(poll_id, records, plans, now)
        except Exception as exc:  # noqa: BLE001 - bookkeeping only: the next cycle tries again
            log.error("watcher.channel_health_not_recorded error=%r", one_line(exc))
            return False
        return bool(plans)


def _send_directly(channel: Channel, notice: WatcherNotice) -> bool:
    try:
        for message in channel.render([], notice):
            message.send()
    except Exception as exc:  # noqa: BLE001 - best effort: the outage is recorded later
        log.error("watcher.blind_alert_failed channel=%s error=%r", channel.name, one_line(exc))
        return False
    log.warning("watcher.blind_alert_sent_directly channel=%s", channel.name)
    return True
