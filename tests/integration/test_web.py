"""The HTTP server of `run`: health follows the polls, metrics are Prometheus text, nothing else."""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app import __version__
from app.domain import CycleResult, Outcome
from app.web.health import Health, Metrics
from app.web.probe import probe
from app.web.server import serve


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
    failed = CycleResult(
        outcome=Outcome.FAILED, error="Flinks unavailable: 503", failure_kind="flinks_unavailable"
    )
    health.record(failed, datetime.now(UTC))
    status, body = get(base + "/healthz")
    assert status == 503
    reason = json.loads(body)["reason"]
    assert "over three intervals" in reason
    assert reason.endswith("; last failure: flinks_unavailable")
    assert "Flinks unavailable: 503" not in body


def test_readyz_follows_the_ready_flag(server: tuple[str, Health, Metrics]) -> None:
    base, health, _ = server
    status, body = get(base + "/readyz")
    assert status == 503
    assert json.loads(body)["reason"].startswith("the scheduler is not running")
    health.ready = True
    assert get(base + "/readyz") == (200, '{"ready": true}')


def test_healthz_names_the_last_failure_kind_never_its_text(
    server: tuple[str, Health, Metrics],
) -> None:
    base, health, _ = server
    health.record(CycleResult(outcome=Outcome.OK), datetime.now(UTC))
    error = 'Flinks refused GET host/path: HTTP 400 ({"received": "upstream text"})'
    failed = CycleResult(outcome=Outcome.FAILED, error=error, failure_kind="flinks_request")
    health.record(failed, datetime.now(UTC))
    status, body = get(base + "/healthz")
    assert status == 200  # one failure within three intervals is not yet unhealthy
    data = json.loads(body)
    assert (data["last_outcome"], data["last_error_kind"]) == ("failed", "flinks_request")
    assert "upstream text" not in body
    assert "last_error" not in data


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


def test_metrics_count_deliveries_and_expose_interval_version_and_start_time(
    server: tuple[str, Health, Metrics],
) -> None:
    base, _, metrics = server
    metrics.observe(
        CycleResult(outcome=Outcome.OK, delivered=3, delivery_failures=1), 0.1, None, None
    )
    metrics.observe(CycleResult(outcome=Outcome.OK, delivered=2), 0.1, None, None)
    text = get(base + "/metrics")[1]
    assert "flinkswatch_deliveries_sent_total 5.0" in text
    assert "flinkswatch_deliveries_failed_total 1.0" in text
    # The old name stays for one release, marked deprecated, counting the same.
    assert "flinkswatch_delivery_failures_total 1.0" in text
    assert "# HELP flinkswatch_delivery_failures_total Deprecated" in text
    assert "flinkswatch_poll_interval_seconds 60.0" in text
    assert f'flinkswatch_build_info{{version="{__version__}"}} 1.0' in text
    assert "process_start_time_seconds " in text
    assert "flinkswatch_last_success_age_seconds -1.0" in text  # before the first success
    assert "flinkswatch_last_success_timestamp_seconds 0.0" in text


def test_the_last_success_is_a_timestamp_as_well_as_an_age(
    server: tuple[str, Health, Metrics],
) -> None:
    base, health, _ = server
    when = datetime(2026, 11, 24, 5, 36, 43, tzinfo=UTC)
    health.record(CycleResult(outcome=Outcome.OK), when)
    text = get(base + "/metrics")[1]
    assert "# TYPE flinkswatch_last_success_timestamp_seconds gauge" in text
    assert _sample(text, "flinkswatch_last_success_timestamp_seconds") == when.timestamp()
    # The age runs on this process's own clock since it recorded the success, not from `when`.
    assert 0 <= _sample(text, "flinkswatch_last_success_age_seconds") < 60


def _sample(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found is not None, name
    return float(found[1])


def test_every_sample_belongs_to_a_documented_family(
    server: tuple[str, Health, Metrics],
) -> None:
    base, _, _ = server
    text = get(base + "/metrics")[1]
    names = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    names = {n for n in names if not n.endswith("_created")}  # creation times of counters
    assert all(n.startswith(("flinkswatch_", "process_")) for n in names), names
    documented = Path(__file__).parents[2].joinpath("docs", "operations.md").read_text()
    missing = [n for n in names if n.startswith("flinkswatch_") and n not in documented]
    assert not missing, f"metrics missing from docs/operations.md: {missing}"


def test_probe_exits_0_on_200_and_1_on_503_or_no_server(
    server: tuple[str, Health, Metrics], capsys: pytest.CaptureFixture[str]
) -> None:
    base, health, _ = server
    port = base.rsplit(":", 1)[1]
    # As in the image: bound to every interface, the probe asks the loopback one.
    env = {"HTTP_HOST": "0.0.0.0", "HTTP_PORT": port}  # noqa: S104 - not bound here
    assert probe("/healthz", env) == 1
    assert '"no successful poll yet"' in capsys.readouterr().out
    health.record(CycleResult(outcome=Outcome.OK), datetime.now(UTC))
    assert probe("/healthz", env) == 0
    assert probe("/readyz", env) == 1
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    try:
        assert probe("/healthz", {"HTTP_PORT": str(closed.getsockname()[1])}, timeout=2) == 1
    finally:
        closed.close()


def test_unknown_paths_are_404(server: tuple[str, Health, Metrics]) -> None:
    base, _, _ = server
    assert get(base + "/registrations")[0] == 404


def test_healthz_names_failing_channels_and_keeps_meaning_polling_works(
    server: tuple[str, Health, Metrics],
) -> None:
    base, health, _ = server
    health.record(CycleResult(outcome=Outcome.OK), datetime.now(UTC))
    health.failing_channels = [{"channel": "slack", "since": None, "last_error": "invalid_auth"}]
    status, body = get(base + "/healthz")
    assert status == 200
    # The channel and since when; its error text is for `check` and the logs, not /healthz.
    assert json.loads(body)["failing_channels"] == [{"channel": "slack", "since": None}]


def test_healthz_is_503_at_once_when_the_database_file_vanished(
    server: tuple[str, Health, Metrics],
) -> None:
    base, health, _ = server
    health.record(CycleResult(outcome=Outcome.OK), datetime.now(UTC))
    error = "recording failed: the database file /data/flinkswatch.db vanished or was replaced"
    health.record(
        CycleResult(outcome=Outcome.FAILED, error=error, failure_kind="database_vanished"),
        datetime.now(UTC),
    )
    status, body = get(base + "/healthz")
    assert status == 503
    assert json.loads(body)["reason"] == error
