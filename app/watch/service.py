"""The long-running shell: an APScheduler interval job gated by the leader lock, the HTTP
server, and clean shutdown."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import Gauge

from app.config.settings import ConfigError
from app.core.blind import ChannelHealth
from app.core.text import iso_z, one_line
from app.db.leader import Leadership, Role
from app.domain import CycleResult, Outcome
from app.watch.digestwatch import DigestWatch
from app.watch.memory import release_freed_memory
from app.watch.poll import Poller
from app.watch.waits import Jobs, Waits
from app.web.health import Health, Metrics
from app.web.server import HttpServer, serve
from app.web.ui import WebUI

if TYPE_CHECKING:
    from app.notify.socketmode import SocketMode
    from app.web.slackevents import SlackEvents

log = logging.getLogger("app.service")  # the logger name its lines always had


# How long a stop waits for the cycle in progress once its waits are interrupted: only
# in-flight I/O (an answer that never comes) can hold it; after this the process exits hard
# (app.cli.commands), which the databases and the outbox survive like any crash.
STOP_DEADLINE_SECONDS = 3.0


@dataclass
class LeaderHealth(Health):
    """Health that knows the role: a standby is healthy (it is ready to take over) and says so;
    a leader, or an instance that cannot reach the lock, is judged by its polls."""

    role: Role = Role.UNKNOWN

    def healthy(self) -> tuple[bool, dict[str, object]]:
        if self.role is Role.STANDBY:
            body = {"status": "standby", "role": str(self.role), "interval_seconds": self.interval}
            return True, body
        ok, body = super().healthy()
        return ok, {**body, "role": str(self.role)}


@dataclass
class Service:
    """Polls every `interval` seconds, never two cycles at once, until `stop` is set."""

    poller: Poller
    waits: Waits  # the poller's (app.wiring.build_app)
    interval: int
    http_host: str = "127.0.0.1"
    http_port: int = 0
    token_renewals: Callable[[], int] = lambda: 0
    # Registrations by status and deliveries by (channel, state), for the gauges.
    counts: Callable[[], tuple[dict[str, int], dict[tuple[str, str], int]]] | None = None
    # Each channel's delivery record (SPEC 8): /healthz names the failing ones, and a gauge.
    channel_health: Callable[[], dict[str, ChannelHealth]] | None = None
    before_poll: Callable[[int], None] | None = None  # demo: advance the simulated upstream
    digest: DigestWatch | None = None  # DIGEST_SCHEDULE (SPEC 9): owed digests, the leader's
    max_cycles: int | None = None
    web: WebUI | None = None  # WEB_UI (SPEC 10): the pages on the same server
    slack: SlackEvents | None = None  # SLACK_SIGNING_SECRET (SPEC 12): POST /slack/events
    socket: SocketMode | None = None  # SLACK_APP_TOKEN (SPEC 12): Slack Socket Mode
    cycles: int = 0
    stop_deadline: float = STOP_DEADLINE_SECONDS
    abandoned: bool = False  # a cycle was still in flight when the stop deadline passed

    def __post_init__(self) -> None:
        self.health = LeaderHealth(interval=self.interval)
        self.metrics = Metrics(self.health, self.token_renewals)
        self.leader_gauge = Gauge(
            "flinkswatch_leader",
            "1 while this instance holds the leader lock (polls and delivers), else 0.",
            registry=self.metrics.registry,
        )
        self.leader: Leadership = self.waits.leader
        self.stop = self.waits.stop
        self._jobs = Jobs()  # a poll or a digest running, or waiting for the other
        self._busy = threading.Lock()  # one job at a time: a poll or a digest, never both

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT (or max_cycles); returns the exit status 0.
        LockHeld when a second instance starts on the same SQLite file."""
        self.waits.guarding = True
        self._take_role(self.leader.check())  # SQLite: refuse before serving anything
        try:
            return self._serve()
        finally:
            self.leader.release()

    def _listen(self) -> HttpServer | None:
        if not self.http_port:
            return None
        try:
            return serve(
                self.http_host, self.http_port, self.health, self.metrics, self.web, self.slack
            )
        except OSError as exc:
            raise ConfigError(
                f"HTTP_HOST/HTTP_PORT: cannot listen on {self.http_host}:{self.http_port}: "
                f"{exc.strerror or exc}"
            ) from None

    def _serve(self) -> int:
        server = self._listen()
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
        if self.digest is not None and self.digest.trigger is not None:
            # In ALERT_TIMEZONE (the trigger's). A time missed while down is caught up by the
            # first cycle (digest.record_due), so a late fire here is not needed and not run.
            scheduler.add_job(self._digest_job, self.digest.trigger, id="digest", max_instances=1)
        scheduler.add_listener(self._skipped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        previous = self._install_signal_handlers()
        scheduler.start()
        if self.socket is not None:
            self.socket.start()
        self.health.ready = True
        log.info("service.started interval_seconds=%d", self.interval)
        try:
            self.stop.wait()
        finally:
            log.info("service.stopping")
            self.health.ready = False
            if self.socket is not None:
                self.socket.stop()
            self._stop_scheduler(scheduler)
            if server is not None:
                server.shutdown()
                server.server_close()
            self._restore_signal_handlers(previous)
            log.info("service.stopped cycles=%d", self.cycles)
        return 0

    def _stop_scheduler(self, scheduler: BackgroundScheduler) -> None:
        """Let a cycle in progress finish (its waits end at once on stop, so only its in-flight
        I/O and bookkeeping remain), but not beyond `stop_deadline`."""
        scheduler.shutdown(wait=False)
        if not self._jobs.wait_idle(self.stop_deadline):
            self.abandoned = True
            log.warning("service.stop_deadline seconds=%.1f cycle=in_flight", self.stop_deadline)

    def _cycle(self) -> None:
        if self.stop.is_set():
            return
        with self._jobs.running(), self._busy:
            self._run_cycle()
            release_freed_memory()  # what a big cycle freed goes back (app/watch/memory.py)

    def _digest_job(self) -> None:
        """DIGEST_SCHEDULE fired: the leader records the digest and delivers it at once."""
        if self.stop.is_set():
            return
        with self._jobs.running(), self._busy:
            if self._take_role(self.leader.check()) is Role.LEADER:
                self._record_digest(deliver=True)
            if self.waits.lost.is_set():  # lost while delivering: as after a cycle
                self.waits.lost.clear()
                self._take_role(Role.UNKNOWN)

    def _record_digest(self, *, deliver: bool) -> None:
        """Record the digest owed now, if any (a cycle delivers it with everything else)."""
        if self.digest is None:
            return
        try:
            if self.digest.record_due(datetime.now(UTC)) is not None and deliver:
                self.digest.deliver()
        except Exception as exc:  # noqa: BLE001 - still owed: the next cycle records it
            log.error("digest.failed error=%s", one_line(exc))

    def _run_cycle(self) -> None:
        role = self._take_role(self.leader.check())
        if role is Role.UNKNOWN:
            # Polling without the lock could race another replica: the cycle fails instead.
            failed = CycleResult(
                outcome=Outcome.FAILED,
                error="database unreachable: cannot check the leader lock",
                failure_kind="database",
            )
            self.health.record(failed, datetime.now(UTC))
            self.metrics.observe(failed, 0.0, None, None)
            return
        if role is Role.STANDBY:
            return
        self._record_digest(deliver=False)  # a digest missed while down, or on takeover
        if self.before_poll is not None:
            self.before_poll(self.cycles)
        started = time.monotonic()
        result = self.poller.poll_once()
        if self.waits.lost.is_set():
            self.waits.lost.clear()
            self._take_role(Role.UNKNOWN)
        self._observe(result, time.monotonic() - started)
        self.cycles += 1
        if self.max_cycles is not None and self.cycles >= self.max_cycles:
            self.stop.set()

    def _take_role(self, role: Role) -> Role:
        if role is not self.health.role:
            log.info("service.role role=%s previous=%s", role, self.health.role)
        self.health.role = role
        self.leader_gauge.set(1 if role is Role.LEADER else 0)
        return role

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
        self._observe_channels()

    def _observe_channels(self) -> None:
        if self.channel_health is None:
            return
        try:
            records = self.channel_health()
        except Exception as exc:  # noqa: BLE001 - metrics must not kill the job
            log.warning("metrics.refresh_failed error=%s", type(exc).__name__)
            return
        failing = [r for r in records.values() if r.announced]
        self.health.failing_channels = [
            {
                "channel": r.channel,
                "since": iso_z(r.since) if r.since else None,
                "last_error": r.last_error,
            }
            for r in failing
        ]
        for channel in self.poller.channels:
            record = records.get(channel.name)
            self.metrics.channel_failing.labels(channel.name).set(
                1 if record and record.announced else 0
            )

    def _skipped(self, event: JobEvent) -> None:
        log.warning(
            "poll.skipped reason=%s",
            "overlap" if event.code == EVENT_JOB_MAX_INSTANCES else "misfire",
        )

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
