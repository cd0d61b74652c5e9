"""The console channel: alerts as INFO lines on the `flinkswatch.alerts` logger. Never fails."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

from app.domain import BaselineSummary, Event
from app.notify.channel import Channel, Outgoing
from app.notify.render import console_lines

alerts = logging.getLogger("flinkswatch.alerts")


class ConsoleChannel(Channel):
    """Used when no other channel is configured, and by `flinkswatch demo`."""

    name: str = "console"
    min_interval: float = 0.0

    def render(self, events: Sequence[Event], summary: BaselineSummary | None) -> list[Outgoing]:
        if not events and summary is None:
            return []
        lines = console_lines(events, summary)
        send = functools.partial(_log_lines, lines)
        return [Outgoing(tuple(range(len(events))), summary is not None, send, "\n".join(lines))]

    def check(self) -> str:
        return "console ok (alerts are logged)"


def _log_lines(lines: list[str]) -> None:
    for line in lines:
        alerts.info("alert %s", line)
