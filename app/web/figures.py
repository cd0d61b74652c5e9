"""The /providers figures, computed once per change of the history. Computing them folds the
whole history (seconds at 100,000 registrations), so requests read them from here; a new event
(the history mark) or a new week makes them stale. In the service they are computed in a
background thread, at start and when found stale, while requests keep the previous ones."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from app.core.report import ProviderStats
from app.web.shape import Row, week_start, weekly_moves

if TYPE_CHECKING:
    from app.db.webreads import WebReads

log = logging.getLogger(__name__)
WEEKS = 26  # the weekly chart's six months


@dataclass(frozen=True, slots=True)
class ProviderFigures:
    mark: int  # the newest event's id they include
    week: datetime  # the Monday the weekly chart ends on
    computed_at: datetime
    providers: tuple[ProviderStats, ...]
    weeks: list[Row]


class FiguresCache:
    """The latest ProviderFigures. `background`: a stale read returns the previous figures
    (marked stale) and starts one recomputation; otherwise (tests, one-off uses) it recomputes
    there and then. With no figures yet, a read waits for them either way."""

    def __init__(
        self, reads: WebReads, clock: Callable[[], datetime], *, background: bool = False
    ) -> None:
        self._reads, self._clock, self._background = reads, clock, background
        self._lock = threading.Lock()
        self._figures: ProviderFigures | None = None
        self._worker: threading.Thread | None = None

    def get(self) -> tuple[ProviderFigures, bool]:
        """The figures, and whether they are stale (a newer history is being folded)."""
        mark, week = self._reads.history_mark(), week_start(self._clock())
        current = self._figures
        if current is not None and (current.mark, current.week) == (mark, week):
            return current, False
        if current is None or not self._background:
            if self._background:  # the first ones: wait for the fold under way
                self.start()
                self.wait()
                if self._figures is not None:
                    return self._figures, False
            return self.refresh(), False
        self.start()
        return current, True

    def refresh(self) -> ProviderFigures:
        """Compute the figures of the history as it is now (in the calling thread)."""
        started = time.monotonic()
        now = self._clock()
        mark = self._reads.history_mark()  # first: an event added meanwhile makes them stale
        providers = self._reads.provider_stats()
        weeks = weekly_moves(self._reads.moves(week_start(now) - timedelta(weeks=WEEKS)), now)
        figures = ProviderFigures(mark, week_start(now), now, providers, weeks)
        with self._lock:
            if self._figures is None or self._figures.mark <= mark:
                self._figures = figures
        log.info("web.figures mark=%d seconds=%.2f", mark, time.monotonic() - started)
        return figures

    def start(self) -> None:
        """Start recomputing in a background thread, unless one already is."""
        with self._lock:
            if self._worker is not None and self._worker.is_alive():
                return
            self._worker = threading.Thread(target=self._work, name="web-figures", daemon=True)
            self._worker.start()

    def wait(self, timeout: float | None = None) -> None:
        """Until the background recomputation (if any) is done."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def _work(self) -> None:
        try:
            self.refresh()
        except Exception:  # a failed read is retried by the next stale request
            log.exception("web.figures_failed")
