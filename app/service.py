"""The long-running shell: an APScheduler interval job, the HTTP server, and clean shutdown."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from app.domain import CycleResult
from app.poll import Poller
from app.web import Health, Metrics, serve

log = logging.getLogger(__name__)


class Stopping(Exception):
    """Raised from an interrupted wait once shutdown was requested."""


@dataclass
class Service:
    """Polls every `interval` seconds, never two cycles at once, until `stop` is set."""

    poller: Poller
    interval: int
    http_host: str = "127.0.0.1"
    http_port: int = 0
    token_renewals: Callable[[], int] = lambda: 0
    # Registrations by status and deliveries by (channel, state), for the gauges.
    counts: Callable[[], tuple[dict[str, int], dict[tuple[str, str], int]]] | None = None
    before_poll: Callable[[int], None] | None = None  # demo: advance the simulated upstream
    max_cycles: int | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    cycles: int = 0

    def __post_init__(self) -> None:
        self.health = Health(interval=self.interval)
        self.metrics = Metrics(self.health, self.token_renewals)
        # Waits inside a cycle (Slack pacing, Retry-After) end at once on shutdown.
        self.poller.sleep = self._interruptible_sleep

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT (or max_cycles); returns the exit status 0."""
        server = (
            serve(self.http_host, self.http_port, self.health, self.metrics)
            if (self.http_port)
            else None
        )
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(
            self._cycle,
            IntervalTrigger(seconds=self.interval, timezone=UTC),
            id="poll",
            next_run_time=datetime.now(UTC),
            max_instances=1,  # no overlapping polls
            coalesce=True,  # after a stall, run once, not once per missed tick
            misfire_grace_time=max(1, self.interval // 2),
        )
        scheduler.add_listener(self._skipped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        previous = self._install_signal_handlers()
        scheduler.start()
        self.health.ready = True
        log.info("service.started interval_seconds=%d", self.interval)
        try:
            self.stop.wait()
        finally:
            log.info("service.stopping")
            self.health.ready = False
            scheduler.shutdown(wait=True)  # lets a cycle in progress finish its bookkeeping
            if server is not None:
                server.shutdown()
                server.server_close()
            self._restore_signal_handlers(previous)
            log.info("service.stopped cycles=%d", self.cycles)
        return 0

    def _cycle(self) -> None:
        if self.stop.is_set():
            return
        if self.before_poll is not None:
            self.before_poll(self.cycles)
        started = time.monotonic()
        result = self.poller.poll_once()
        self._observe(result, time.monotonic() - started)
        self.cycles += 1
        if self.max_cycles is not None and self.cycles >= self.max_cycles:
            self.stop.set()

    def _observe(self, result: CycleResult, duration: float) -> None:
        self.health.record(result, datetime.now(UTC))
        statuses: dict[str, int] | None = None
        deliveries: dict[tuple[str, str], int] | None = None
        try:
            if self.counts is not None:
                statuses, deliveries = self.counts()
        except Exception as exc:  # noqa: BLE001 - metrics must not kill the job
            log.warning("metrics.refresh_failed error=%s", type(exc).__name__)
        self.metrics.observe(result, duration, statuses, deliveries)

    def _skipped(self, event: JobEvent) -> None:
        log.warning(
            "poll.skipped reason=%s",
            "overlap" if event.code == EVENT_JOB_MAX_INSTANCES else "misfire",
        )

    def _interruptible_sleep(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise Stopping("shutdown requested")

    def _install_signal_handlers(self) -> dict[int, object]:
        if threading.current_thread() is not threading.main_thread():
            return {}  # signals can only be handled on the main thread (tests run us elsewhere)

        def handler(signum: int, _frame: FrameType | None) -> None:
            log.info("service.signal name=%s", signal.Signals(signum).name)
            self.stop.set()

        return {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}

    @staticmethod
    def _restore_signal_handlers(previous: dict[int, object]) -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)  # type: ignore[arg-type]
