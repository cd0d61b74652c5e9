"""The long-running service's objects (`run`, `demo`; digests also for `flinkswatch digest`),
built from Settings like the rest of app/wiring/; imported only by the commands that use
them."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from app.config.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from app.db.leader import Leadership
    from app.notify.channel import Channel
    from app.watch.digestwatch import DigestWatch
    from app.watch.poll import Poller
    from app.watch.service import Service
    from app.wiring import App


def build_digests(
    settings: Settings,
    engine: Engine,
    channels: Sequence[Channel],
    leader: Leadership,
    poller: Poller | None = None,
) -> DigestWatch:
    """Digests for these channels; `deliver` sends what is owed as the cycle would (its waits)."""
    from app.config.schedule import cron_trigger
    from app.db.digests import DigestTable
    from app.db.outbox import Outbox
    from app.notify.deliver import deliver_pending
    from app.watch.digestwatch import DigestWatch
    from app.watch.poll import utcnow

    zone = settings.alert_timezone
    trigger = cron_trigger(settings.digest_schedule, zone) if settings.digest_schedule else None
    send = functools.partial(
        deliver_pending,
        Outbox(engine),
        channels,
        now=utcnow,
        max_attempts=settings.delivery_max_attempts,
        sleep=poller.sleep if poller else time.sleep,
        unrecorded=poller.unrecorded if poller else None,
        quiet=poller.quiet if poller else None,  # held alerts stay held; a digest goes through
    )
    table = DigestTable(engine, fence=leader.fence)
    # Only to instances taking everything: it would mislead a channel routed to one provider.
    names = [ch.name for ch in channels if ch.filter.catch_all]
    return DigestWatch(table, names, zone, trigger, deliver=send)


def build_service(
    settings: Settings,
    app: App,
    *,
    http_port: int | None = None,
    before_poll: Callable[[int], None] | None = None,
    max_cycles: int | None = None,
) -> Service:
    """The long-running service around `app`'s poller (`run`, and `demo` with its extras)."""
    from app.db.webreads import WebReads
    from app.watch.service import Service
    from app.web.ui import web_ui
    from app.wiring.interact import build_interactions, build_slack_events, build_socket_mode

    parts = (settings, app.engine, app.poller.channels, app.leader, app.poller)
    handler = build_interactions(settings, app)
    return Service(
        slack=build_slack_events(settings, handler),
        socket=build_socket_mode(settings, handler),
        web=web_ui(
            settings,
            WebReads(
                app.engine,
                settings.stuck_after,
                settings.late_after,
                settings.expect_min_activations,
            ),
        ),
        poller=app.poller,
        waits=app.waits,
        interval=settings.poll_interval_seconds,
        http_host=settings.http_host,
        http_port=settings.http_port if http_port is None else http_port,
        token_renewals=lambda: app.flinks.token_renewals,
        counts=app.counts,
        channel_health=app.poller.store.channel_health,
        before_poll=before_poll,
        max_cycles=max_cycles,
        digest=build_digests(*parts) if settings.digest_schedule else None,
    )
