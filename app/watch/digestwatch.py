"""Digests around the service (SPEC 9): which scheduled digest is owed now (the latest time of
DIGEST_SCHEDULE at or before now that has none recorded, and not before the watcher's first
poll), computing its content (app.core.digest) and recording it with one delivery per channel
in one transaction. The digests table's UNIQUE fire time makes a second start, or a second
leader, record nothing: a missed digest is sent once, never twice."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Protocol

from app.config.schedule import latest_fire
from app.core.digest import FIRST_PERIOD, DigestContent, DigestInputs, LastDigests, build_digest
from app.notify.deliver import DeliveryReport

log = logging.getLogger("app.digest")


class DigestStore(Protocol):
    """app.db.digests.DigestTable."""

    def last(self, now: datetime) -> LastDigests: ...
    def inputs(self, start: datetime, end: datetime) -> DigestInputs: ...
    def record(
        self, content: DigestContent, fire_at: datetime | None, channels: Sequence[str]
    ) -> int | None: ...


@dataclass
class DigestWatch:
    store: DigestStore
    channels: Sequence[str]  # the names of the configured channels: one delivery each
    zone: tzinfo  # ALERT_TIMEZONE
    trigger: Any = None  # DIGEST_SCHEDULE's CronTrigger (app.config.schedule); None: no schedule
    deliver: Callable[[], DeliveryReport] = DeliveryReport  # send what the outbox owes, now

    def compute(self, now: datetime, since: datetime | None = None) -> DigestContent:
        """The digest up to `now`: since `since`, else the end of the previous digest, else
        FIRST_PERIOD (a week) back."""
        start = since or self.store.last(now).period_end or now - FIRST_PERIOD
        return build_digest(self.store.inputs(start, now), start, now, str(self.zone))

    def due(self, now: datetime) -> datetime | None:
        """The scheduled time a digest is owed for, if any."""
        if self.trigger is None:
            return None
        fire = latest_fire(self.trigger, now)
        if fire is None:
            return None
        last = self.store.last(now)
        if last.first_poll_at is None or fire < last.first_poll_at:
            return None  # the watcher was not running yet: nothing was missed
        if last.fire_at is not None and fire <= last.fire_at:
            return None
        return fire

    def record_due(self, now: datetime) -> int | None:
        """Record the owed digest (its deliveries pending); its id, or None if none is owed."""
        fire = self.due(now)
        if fire is None:
            return None
        return self.record(self.compute(now), fire)

    def record(self, content: DigestContent, fire_at: datetime | None = None) -> int | None:
        digest_id = self.store.record(content, fire_at, self.channels)
        if digest_id is None:
            log.info("digest.recorded_already fire_at=%s", fire_at and fire_at.isoformat())
            return None
        log.info(
            "digest.recorded id=%d fire_at=%s start=%s end=%s channels=%d moves=%d",
            digest_id,
            fire_at.isoformat() if fire_at else "-",
            content.start.isoformat(),
            content.end.isoformat(),
            len(self.channels),
            sum(n for _, n in content.moves),
        )
        return digest_id
