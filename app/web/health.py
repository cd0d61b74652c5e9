"""Health, readiness and Prometheus metrics of the running service (SPEC 7).

Health and metrics hold counters only: no registration data, no settings, no secrets; the web
page (WEB_UI, SPEC 10) is app/web/site.py on the same server (app/web/server.py), behind WEB_AUTH.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from app import __version__
from app.core.text import iso_z
from app.domain import CycleResult, Outcome
from app.errors import DatabaseVanished

VANISHED = DatabaseVanished.kind


@dataclass
class Health:
    """What /healthz and /readyz report; updated by the service after every cycle."""

    interval: float
    ready: bool = False
    last_success_at: datetime | None = None
    last_success_monotonic: float | None = None
    last_outcome: str | None = None
    last_error: str | None = None
    # Channels whose deliveries keep failing (SPEC 8): named in /healthz, whose status code
    # still means "polling works" (so a healthy poller is not restarted because Slack is down).
    failing_channels: list[dict[str, object]] = field(default_factory=list)
    last_failure_kind: str | None = None

    def record(self, result: CycleResult, now: datetime) -> None:
        self.last_outcome = str(result.outcome)
        self.last_error = result.error
        self.last_failure_kind = result.failure_kind
        if result.outcome is not Outcome.FAILED:
            self.last_success_at = now
            self.last_success_monotonic = time.monotonic()

    def healthy(self) -> tuple[bool, dict[str, object]]:
        body: dict[str, object] = {
            "last_outcome": self.last_outcome,
            "last_success_at": _iso(self.last_success_at),
            "interval_seconds": self.interval,
        }
        # /healthz is open to anyone who can reach it: it names the kind of the last failure
        # (flinks_auth, database...), never upstream text (the logs and `status` have it).
        if self.last_outcome == str(Outcome.FAILED):
            body["last_error_kind"] = self.last_failure_kind or "unexpected"
        if self.failing_channels:
            body["failing_channels"] = [
                {k: v for k, v in channel.items() if k in ("channel", "since")}
                for channel in self.failing_channels
            ]
        if self.last_failure_kind == VANISHED:
            # Not a passing outage: no later cycle can succeed until a person restores the file.
            return False, {"status": "unhealthy", "reason": self.last_error, **body}
        if self.last_success_monotonic is None:
            return False, {"status": "unhealthy", "reason": "no successful poll yet", **body}
        age = time.monotonic() - self.last_success_monotonic
        body["last_success_age_seconds"] = round(age, 1)
        if age > 3 * self.interval:
            reason = f"no successful poll for {age:.0f} s (over three intervals)"
            if self.last_outcome == str(Outcome.FAILED):
                reason += f"; last failure: {self.last_failure_kind or 'unexpected'}"
            return False, {"status": "unhealthy", "reason": reason, **body}
        return True, {"status": "ok", **body}

    def readiness(self) -> tuple[bool, dict[str, object]]:
        if self.ready:
            return True, {"ready": True}
        return False, {
            "ready": False,
            "reason": "the scheduler is not running (starting or stopping)",
        }


_FAILING_HELP = "1 while a channel's deliveries keep failing (announced on the other channels)."


class Metrics:
    """Prometheus metrics on a registry of our own (no process-global state)."""

    def __init__(self, health: Health, token_renewals: Callable[[], int] = lambda: 0) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.polls = Counter(
            "flinkswatch_polls", "Poll cycles by outcome.", ["outcome"], registry=r
        )
        self.failures = Counter(
            "flinkswatch_poll_failures", "Failed poll cycles by kind.", ["kind"], registry=r
        )
        self.duration = Histogram(
            "flinkswatch_poll_duration_seconds",
            "Duration of a poll cycle.",
            registry=r,
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
        )
        self.events = Counter(
            "flinkswatch_events", "Recorded events by kind.", ["kind"], registry=r
        )
        self.registrations = Gauge(
            "flinkswatch_registrations", "Present registrations by status.", ["status"], registry=r
        )
        self.deliveries = Gauge(
            "flinkswatch_deliveries",
            "Deliveries by channel and state.",
            ["channel", "state"],
            registry=r,
        )
        self.sent = Counter("flinkswatch_deliveries_sent", "Messages delivered.", registry=r)
        self.send_failures = Counter(
            "flinkswatch_deliveries_failed",
            "Failed delivery attempts (retried later, or failed for good).",
            registry=r,
        )
        self.channel_failing = Gauge(
            "flinkswatch_channel_failing", _FAILING_HELP, ["channel"], registry=r
        )
        # The name before issue 15 (unlike its sibling's): exported for one more release.
        self.send_failures_deprecated = Counter(
            "flinkswatch_delivery_failures",
            "Deprecated, removed in the next release: flinkswatch_deliveries_failed_total.",
            registry=r,
        )
        _register_constants(r, health.interval)
        r.register(_LiveCollector(health, token_renewals))

    def observe(
        self,
        result: CycleResult,
        duration: float,
        status_counts: dict[str, int] | None,
        delivery_counts: dict[tuple[str, str], int] | None,
    ) -> None:
        self.polls.labels(str(result.outcome)).inc()
        if result.failure_kind:
            self.failures.labels(result.failure_kind).inc()
        self.duration.observe(duration)
        self.sent.inc(result.delivered)
        self.send_failures.inc(result.delivery_failures)
        self.send_failures_deprecated.inc(result.delivery_failures)
        for kind, count in result.kinds:
            self.events.labels(kind).inc(count)
        if status_counts is not None:
            self.registrations.clear()
            for status, count in status_counts.items():
                self.registrations.labels(status).set(count)
        if delivery_counts is not None:
            self.deliveries.clear()
            for (channel, state), count in delivery_counts.items():
                self.deliveries.labels(channel, state).set(count)


def _register_constants(registry: CollectorRegistry, interval: float) -> None:
    """Values alert rules divide by or join on: the interval, the version, the start time."""
    Gauge("flinkswatch_poll_interval_seconds", "POLL_INTERVAL_SECONDS.", registry=registry).set(
        interval
    )
    Info("flinkswatch_build", "Version of flinkswatch.", registry=registry).info(
        {"version": __version__}
    )
    # process_start_time_seconds lets alerts tell "never polled" from "just started".
    ProcessCollector(registry=registry)


class _LiveCollector(Collector):
    """Values computed at scrape time: age of the last success, token renewals."""

    def __init__(self, health: Health, token_renewals: Callable[[], int]) -> None:
        self._health = health
        self._token_renewals = token_renewals

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        age = GaugeMetricFamily(
            "flinkswatch_last_success_age_seconds",
            "Seconds since the last successful poll (-1 before the first).",
        )
        last = self._health.last_success_monotonic
        age.add_metric([], -1.0 if last is None else time.monotonic() - last)
        yield age
        stamp = GaugeMetricFamily(
            "flinkswatch_last_success_timestamp_seconds",
            "Unix time of the last successful poll of this process (0 before the first).",
        )
        when = self._health.last_success_at
        stamp.add_metric([], 0.0 if when is None else when.timestamp())
        yield stamp
        yield CounterMetricFamily(
            "flinkswatch_token_renewals",
            "Flinks access tokens obtained.",
            value=self._token_renewals(),
        )


def _iso(value: datetime | None) -> str | None:
    return iso_z(value) if value else None
