"""The HTTP server of `run`: health follows the polls, metrics are Prometheus text, nothing else."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.domain import CycleResult, Outcome
from app.web import Health, Metrics, serve


@pytest.fixture
def server() -> Iterator[tuple[str, Health, Metrics]]:
    health = Health(interval=60)
    metrics = Metrics(health, token_renewals=lambda: 4)
    httpd = serve("127.0.0.1", 0, health, metrics)
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", health, metrics
    finally:
        httpd.shutdown()
        httpd.server_close()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own server
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_healthz_is_503_before_the_first_poll_and_200_after(
    server: tuple[str, Health, Metrics],
) -> None:
    base, health, _ = server
    status, body = get(base + "/healthz")
    assert status == 503
    assert json.loads(body)["reason"] == "no successful poll yet"
    health.record(CycleResult(outcome=Outcome.OK), datetime.now(UTC))
    status, body = get(base + "/healthz")
    assert status == 200
    assert json.loads(body)["status"] == "ok"


def test_healthz_turns_503_when_the_last_success_is_too_old(
    server: tuple[str, Health, Metrics],
) -> None:
    base, health, _ = server
    health.record(CycleResult(outcome=Outcome.OK), datetime.now(UTC))
    assert health.last_success_monotonic is not None
    health.last_success_monotonic -= 181  # more than three 60 s intervals ago
    health.record(
        CycleResult(outcome=Outcome.FAILED, error="Flinks unavailable: 503"), datetime.now(UTC)
    )
    status, body = get(base + "/healthz")
    assert status == 503
    reason = json.loads(body)["reason"]
    assert "over three intervals" in reason
    assert "Flinks unavailable: 503" in reason


def test_readyz_follows_the_ready_flag(server: tuple[str, Health, Metrics]) -> None:
    base, health, _ = server
    assert get(base + "/readyz")[0] == 503
    health.ready = True
    assert get(base + "/readyz") == (200, '{"ready": true}')


def test_metrics_report_polls_events_registrations_and_deliveries(
    server: tuple[str, Health, Metrics],
) -> None:
    base, health, metrics = server
    result = CycleResult(outcome=Outcome.FAILED, failure_kind="flinks_unavailable")
    metrics.observe(result, 0.2, None, None)
    ok = CycleResult(outcome=Outcome.OK, kinds=(("added", 2), ("status_changed", 1)))
    health.record(ok, datetime.now(UTC))
    metrics.observe(ok, 0.3, {"ACTIVE": 5, "PENDING_APPROVAL": 1}, {("slack", "pending"): 2})
    status, text = get(base + "/metrics")
    assert status == 200
    assert 'flinkswatch_polls_total{outcome="failed"} 1.0' in text
    assert 'flinkswatch_polls_total{outcome="ok"} 1.0' in text
    assert 'flinkswatch_poll_failures_total{kind="flinks_unavailable"} 1.0' in text
    assert 'flinkswatch_events_total{kind="added"} 2.0' in text
    assert 'flinkswatch_registrations{status="ACTIVE"} 5.0' in text
    assert 'flinkswatch_deliveries{channel="slack",state="pending"} 2.0' in text
    assert "flinkswatch_poll_duration_seconds_count 2.0" in text
    assert "flinkswatch_token_renewals_total 4.0" in text
    assert "flinkswatch_last_success_age_seconds" in text


def test_unknown_paths_are_404(server: tuple[str, Health, Metrics]) -> None:
    base, _, _ = server
    assert get(base + "/registrations")[0] == 404
