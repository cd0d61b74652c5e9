"""`flinkswatch notify-test`: a sample alert rendered for, or sent to, every configured channel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from app.delivery import DeliveryFailure
from app.domain import Event, EventKind
from app.notify.channel import Channel


def sample_event(now: datetime | None = None) -> Event:
    """A forward move with every field filled, clearly labelled as a test."""
    at = (now or datetime.now(UTC)).replace(microsecond=0)
    return Event(
        event=EventKind.STATUS_CHANGED,
        client_id="dc-flinkswatch-test",
        client_name="flinkswatch test recipient",
        provider_id=0,
        provider_name="Sample Bank (notify-test)",
        country="CA",
        from_status="PENDING_APPROVAL",
        to_status="PENDING_ACTIVATION",
        requested_on=at - timedelta(days=9),
        observed_at=at,
        previous_status_since=at - timedelta(days=4),
    )


def describe(channel: Channel) -> str:
    """`slack (#alerts)`, `email (ops@example.com)`, `apprise:1f2e.. (discord://discord.com)`."""
    target = getattr(channel, "channel", None) or ", ".join(getattr(channel, "recipients", []))
    target = target or getattr(channel, "where", "")  # a secret URL's scheme and host only
    return f"{channel.name} ({target})" if target else channel.name


def notify_test(
    channels: Sequence[Channel], *, dry_run: bool, say: Callable[[str], None] = print
) -> int:
    """Render the sample for each channel; print it (dry run) or send it. Returns failures."""
    event = sample_event()
    failures = 0
    for channel in channels:
        for message in channel.render([event], None):
            if dry_run:
                say(f"== {describe(channel)}\n{message.preview}\n")
                continue
            try:
                ref = message.send()
            except DeliveryFailure as exc:
                failures += 1
                say(f"FAIL  {describe(channel)}: {exc}")
                continue
            say(f"ok    {describe(channel)}: sent{f' ({ref})' if ref else ''}")
    return failures
