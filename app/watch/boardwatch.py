"""The Slack board around a cycle (SPEC 10), for app.watch.poll: after a successful cycle's delivery
in the leader, each board is rendered (app.notify.board_render) and, when its content changed,
edited in place (chat.update), or posted and pinned when there is none yet or it was deleted.
The providers' figures it shows are folded once per new event (Figures), not once per cycle.
Best effort: a failure is logged and retried next cycle, never failing the cycle."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol

from app.core.blind import ChannelTry
from app.core.expect import Outlook, late_thresholds, outlooks
from app.core.report import ProviderStats
from app.core.text import one_line
from app.delivery import DeliveryFailure
from app.notify.board_render import Board, BoardFacts, BoardRef, render_board
from app.notify.deliver import DeliveryReport

log = logging.getLogger("app.boardwatch")  # the logger name its lines always had

# A quiet board is still edited this often, so its "last successful poll" is never older.
REFRESH = timedelta(hours=1)
PIN_REFUSED = ("missing_scope", "not_allowed_token_type", "no_permission")


class BoardStore(Protocol):
    """What this needs of app.db.board.BoardTable."""

    def board_ref(self, destination: str) -> BoardRef | None: ...
    def save_board(self, destination: str, ref: BoardRef, now: datetime) -> None: ...
    def board_facts(
        self,
        now: datetime,
        stuck_after: Mapping[str, timedelta],
        late: Mapping[int, timedelta] | None = None,
    ) -> BoardFacts: ...
    def figures_mark(self) -> int: ...
    def provider_stats(self, now: datetime) -> tuple[ProviderStats, ...]: ...


@dataclass(frozen=True, slots=True)
class Figures:
    """The providers' figures of one fold of the history, and what they were folded at."""

    mark: int  # the newest event they include (BoardStore.figures_mark)
    at: datetime
    providers: tuple[ProviderStats, ...]
    outlooks: dict[int, Outlook]


class BoardPoster(Protocol):
    """What this needs of app.notify.slack.SlackBotChannel."""

    name: str
    channel: str  # the destination as configured (SLACK_CHANNEL or a route's)
    min_interval: float

    def post_board(self, text: str, blocks: list[dict[str, Any]]) -> tuple[str, str]: ...
    def update_board(
        self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]
    ) -> None: ...
    def pin(self, channel_id: str, ts: str) -> None: ...


@dataclass
class BoardWatch:
    store: BoardStore
    posters: Sequence[BoardPoster]
    stuck_after: Mapping[str, timedelta]
    zone: tzinfo
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    late_after: float | None = None  # LATE_AFTER as a quantile; None: nothing is late
    min_activations: int = 5  # EXPECT_MIN_ACTIVATIONS
    _not_before: dict[str, datetime] = field(default_factory=dict, init=False)
    _pin_refused: bool = field(default=False, init=False)  # logged once per process
    _figures: Figures | None = field(default=None, init=False)

    def __call__(self, report: DeliveryReport | None) -> None:
        """Refresh every board after a cycle's delivery; never raises."""
        try:
            now = self.clock()
            figures = self.figures(now)
            limits = late_thresholds(figures.outlooks)
            facts = self.store.board_facts(now, self.stuck_after, limits)
            facts = replace(facts, providers=figures.providers, outlooks=figures.outlooks)
            board = render_board(facts, self.zone)
        except Exception as exc:  # noqa: BLE001 - e.g. database down: retried next cycle
            log.error("board.skipped error=%r", one_line(exc))
            return
        for poster in self.posters:
            self._refresh(poster, board, report)

    def figures(self, now: datetime) -> Figures:
        """The providers' Kaplan-Meier figures and expectations (SPEC 11), folded again only
        when an event they depend on was recorded since (the board is rendered every cycle;
        folding the history takes seconds at 100,000 registrations), or after REFRESH, as the
        waits of those still waiting grow."""
        mark, held = self.store.figures_mark(), self._figures
        if held is not None and held.mark == mark and held.at <= now < held.at + REFRESH:
            return held
        started = time.monotonic()
        providers = self.store.provider_stats(now)
        found = outlooks(providers, self.late_after, self.min_activations)
        self._figures = Figures(mark, now, providers, found)
        log.info("board.figures mark=%d seconds=%.2f", mark, time.monotonic() - started)
        return self._figures

    def _refresh(self, poster: BoardPoster, board: Board, report: DeliveryReport | None) -> None:
        now = self.clock()
        tried = {t.channel: t for t in report.channels} if report is not None else {}
        # A wait longer than REFRESH was asked while the clock ran ahead: it holds nothing.
        waiting = now < self._not_before.get(poster.name, now) <= now + REFRESH
        if waiting or _failed(tried.get(poster.name)):
            log.info("board.deferred channel=%s", poster.name)  # Retry-After, or Slack failing
            return
        try:
            ref = self.store.board_ref(poster.channel)
            if ref is not None and ref.digest == board.digest and not _stale(ref, now):
                return
            if tried.get(poster.name) is not None and tried[poster.name].sent:
                self.sleep(poster.min_interval)  # the channel's pacing after this cycle's posts
            new = self._publish(poster, ref, board)
            self.store.save_board(poster.channel, new, self.clock())
        except DeliveryFailure as exc:
            if exc.retry_after is not None:
                self._not_before[poster.name] = now + timedelta(seconds=exc.retry_after)
            log.warning("board.not_updated channel=%s error=%r", poster.name, one_line(exc))
        except Exception as exc:  # noqa: BLE001 - database, shutdown: retried next cycle
            log.error("board.not_updated channel=%s error=%r", poster.name, one_line(exc))

    def _publish(self, poster: BoardPoster, ref: BoardRef | None, board: Board) -> BoardRef:
        if ref is not None:
            try:
                poster.update_board(ref.slack_channel, ref.ts, board.text, board.blocks)
                log.info("board.updated channel=%s ts=%s", poster.name, ref.ts)
                return replace(ref, digest=board.digest)
            except DeliveryFailure as exc:
                if exc.code != "message_not_found":
                    raise
                log.warning(
                    "board.deleted channel=%s ts=%s: posting a new one", poster.name, ref.ts
                )
        channel_id, ts = poster.post_board(board.text, board.blocks)
        log.info("board.posted channel=%s ts=%s", poster.name, ts)
        self._pin(poster, channel_id, ts)
        return BoardRef(channel_id, ts, board.digest)

    def _pin(self, poster: BoardPoster, channel_id: str, ts: str) -> None:
        try:
            poster.pin(channel_id, ts)
        except DeliveryFailure as exc:
            if exc.code == "already_pinned":
                return
            if exc.code in PIN_REFUSED:
                if not self._pin_refused:
                    self._pin_refused = True
                    log.warning(
                        "board.not_pinned reason=%s: give the bot the pins:write scope to pin"
                        " the board",
                        exc.code,
                    )
                return
            log.warning("board.not_pinned channel=%s error=%r", poster.name, one_line(exc))


def _failed(tried: ChannelTry | None) -> bool:
    return tried is not None and tried.failed > 0


def _stale(ref: BoardRef, now: datetime) -> bool:
    # Updated "later than now": the clock ran ahead then; stale, or it would wait for it.
    return ref.updated_at is None or not ref.updated_at <= now < ref.updated_at + REFRESH
