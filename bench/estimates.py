"""The Kaplan-Meier estimates for every provider (issue 23): time and memory of folding a
history of 100,000 registrations over 300 providers (150,000 events) into the report's figures
and each provider's expectations, the work `report`, the digest, /providers, the board and the
late reminders do. Pure: the history is built in memory, as the database would give it."""

from __future__ import annotations

import random
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.core.expect import outlooks
from app.core.report import HistoryRow, stats_by_provider

T0 = datetime(2026, 6, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class EstimatesFigure:
    registrations: int
    providers: int
    events: int
    seconds: float  # best of the runs
    peak_mib: float  # tracemalloc's peak while folding (the history itself not counted)


def history(registrations: int, providers: int, moves: int, seed: int = 23) -> list[HistoryRow]:
    """First sightings of every registration, then `moves` moves, oldest first."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    rows: list[HistoryRow] = []
    later: list[HistoryRow] = []
    for i in range(registrations):
        pid = 1000 + i % providers
        requested = T0 - timedelta(days=rng.uniform(0, 60))
        first = ("baseline", f"c-{i}", pid, f"Bank {pid}", None, "PENDING_APPROVAL", T0, requested)
        rows.append(HistoryRow(*first))
        if len(later) < moves:
            at = T0 + timedelta(days=rng.uniform(0, 30))
            to = "ACTIVE" if rng.random() < 0.7 else "PENDING_ACTIVATION"
            later.append(
                HistoryRow("status_changed", f"c-{i}", pid, f"Bank {pid}", "PENDING_APPROVAL",
                           to, at, requested, requested)
            )  # fmt: skip
    later.sort(key=lambda r: r.observed_at)
    return rows + later


def measure_estimates(
    registrations: int = 100_000, providers: int = 300, events: int = 150_000, repeat: int = 3
) -> EstimatesFigure:
    rows = history(registrations, providers, events - registrations)
    present = {1000 + p: (f"Bank {1000 + p}", registrations // providers) for p in range(providers)}
    now = T0 + timedelta(days=31)

    def run() -> None:
        outlooks(stats_by_provider(rows, present, now), 0.9, 5)

    best = float("inf")
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return EstimatesFigure(registrations, providers, len(rows), best, peak / 2**20)


def render_estimates(figure: EstimatesFigure) -> str:
    if figure.registrations < 100_000:
        verdict = "not judged: the target applies at 100,000"
    elif figure.seconds < 0.5 and figure.peak_mib < 50:
        verdict = "ok"
    else:
        verdict = "MISSES the target"
    return (
        f"Kaplan-Meier estimates for every provider ({figure.registrations:,} registrations,"
        f" {figure.providers} providers, {figure.events:,} events): {figure.seconds:.3f} s,"
        f" peak {figure.peak_mib:.1f} MiB (target < 0.5 s and 50 MiB: {verdict})"
    )
