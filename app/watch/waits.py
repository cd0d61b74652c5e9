"""The stop flag and the leader lock shared by the service and the cycles it runs
(app.watch.service): waits that end at once on shutdown or when the lock is gone."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from app.db.leader import Leadership
from app.domain import Interrupted


class Stopping(Interrupted):
    """Raised from an interrupted wait once shutdown was requested."""


class LeadershipLost(Interrupted):
    """Raised from a wait inside a cycle when the leader lock is gone: stop sending at once."""


def interruptible(stop: threading.Event) -> Callable[[float], None]:
    """A sleep that raises Stopping as soon as `stop` is set (Flinks retry waits)."""

    def wait(seconds: float) -> None:
        if stop.wait(seconds):
            raise Stopping("shutdown requested")

    return wait


@dataclass
class Waits:
    """The stop flag and the leader lock, shared by the service and the cycles it runs:
    waits inside a cycle (Slack pacing, Retry-After) end at once on shutdown, and a cycle
    confirms the lock before it writes and between messages."""

    leader: Leadership
    stop: threading.Event = field(default_factory=threading.Event)
    lost: threading.Event = field(default_factory=threading.Event)  # set when the lock went
    # Only the service polls under the lock; a one-off `poll` checks it once, before the cycle.
    guarding: bool = False

    def sleep(self, seconds: float) -> None:
        """Stopping when shutdown is requested meanwhile; LeadershipLost when the lock went."""
        interruptible(self.stop)(seconds)
        self.confirm_leader()

    def confirm_leader(self) -> None:
        if self.guarding and not self.leader.still_held():
            self.lost.set()
            raise LeadershipLost("leader lock lost during the cycle")


class Jobs:
    """The service's jobs in flight, counting one that waits for another (a digest fired while
    a poll runs waits for the poll's lock): a stop waits until none is left, not until the
    first one ends."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        with self._changed:
            self._count += 1
        try:
            yield
        finally:
            with self._changed:
                self._count -= 1
                self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True once no job runs nor waits; False if `timeout` seconds pass first."""
        with self._changed:
            return self._changed.wait_for(lambda: self._count == 0, timeout)
