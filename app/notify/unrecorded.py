"""Sends that went out but could not be marked sent (the database full or gone right after
the send): kept in memory, so the next cycle records them instead of sending them again."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

MarkSent = Callable[[Sequence[int], datetime, "str | None"], None]


@dataclass(frozen=True, slots=True)
class Send:
    ids: tuple[int, ...]
    at: datetime
    external_ref: str | None


@dataclass
class Unrecorded:
    """Per channel, the sends still to be marked. It lives as long as the process (the Poller
    holds it): only a crash in that state can send a message twice, not every cycle."""

    owed: dict[str, list[Send]] = field(default_factory=dict)

    def note(self, channel: str, ids: Sequence[int], at: datetime, ref: str | None) -> None:
        self.owed.setdefault(channel, []).append(Send(tuple(ids), at, ref))

    def count(self, channel: str) -> int:
        return sum(len(send.ids) for send in self.owed.get(channel, ()))

    def settle(self, channel: str, mark_sent: MarkSent) -> None:
        """Mark what `channel` sent earlier, oldest first; what still fails (and what follows
        it) stays owed and the exception propagates: nothing may be sent on that channel."""
        sends = self.owed.get(channel, [])
        while sends:
            send = sends[0]
            mark_sent(send.ids, send.at, send.external_ref)
            sends.pop(0)
        self.owed.pop(channel, None)


class SentNotRecorded(Exception):
    """Raised by a delivery run when `ids` went out but could not be marked sent."""

    def __init__(self, ids: tuple[int, ...]) -> None:
        super().__init__(f"{len(ids)} deliveries sent but not recorded")
        self.ids = ids
