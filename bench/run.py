"""Warm measurements: the floor (bench.floor, in this process) and the cycles of the real Poller
inside one long-lived process, each the median of several runs, with its peak memory."""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.core.rowprints import Fetched
from app.domain import CycleResult, Outcome
from app.flinks.client import FlinksClient
from app.watch.memory import release_freed_memory
from app.wiring import App, build_app
from bench.cold import LISTING_PATH
from bench.env import (
    CLIENT_ID,
    CLIENT_SECRET,
    Scratch,
    Upstream,
    bench_settings,
    peak_rss_mib,
    reset_peak_rss,
)
from bench.floor import bare_fetch

STEPS = ("floor", "first sync", "no change", "10% changed")


@dataclass
class Figure:
    """One step at one size on one backend."""

    rows: int
    backend: str  # "-" for the floor, which touches no database
    step: str
    runs: list[float] = field(default_factory=list)  # seconds
    rss_peak_mib: float = 0.0  # VmHWM of this process during the timed runs
    py_peak_mib: float | None = None  # tracemalloc peak during one extra, untimed run
    events: int = 0
    delivered: int = 0
    ratios: list[float] = field(default_factory=list)  # each run / a floor run just before it

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def ratio(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None


@dataclass
class Options:
    repeat: int = 3
    tracemalloc: bool = True


def _client(upstream: Upstream) -> FlinksClient:
    return FlinksClient(
        listing_url=upstream.base_url + LISTING_PATH,
        token_url=upstream.token_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )


@dataclass
class _FreshClient:
    """A new Flinks client per fetch, as for the floor: each cycle pays for a token and a
    connection."""

    upstream: Upstream

    def fetch(self) -> Fetched:
        with _client(self.upstream) as client:
            return client.fetch()


def _traced(figure: Figure, run: Callable[[], object]) -> None:
    """One extra, untimed run: the peak of Python allocations (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        run()
        figure.py_peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _timed(figure: Figure, run: Callable[[], object]) -> None:
    # As `run` does after every cycle (app.watch.memory): what the last step freed (the floor's
    # json.loads of the whole body, above all) goes back to the system first, so the peak
    # read is this step's own, not the allocator's leftovers from the one before.
    release_freed_memory()
    reset_peak_rss()
    started = time.perf_counter()
    result = run()
    figure.runs.append(time.perf_counter() - started)
    figure.rss_peak_mib = max(figure.rss_peak_mib, peak_rss_mib())
    if isinstance(result, CycleResult):
        if result.outcome is not Outcome.OK:
            raise RuntimeError(f"benchmark cycle did not succeed: {result.outcome} {result.error}")
        figure.events, figure.delivered = result.events, result.delivered


def measure_floor(upstream: Upstream, rows: int, opts: Options) -> Figure:
    """Token, listing and json.loads in a bare httpx client (bench.floor), a new client (and
    token) each run: what any watcher of the listing must at least do."""
    figure = Figure(rows, "-", "floor")

    for _ in range(opts.repeat):
        _timed(figure, lambda: _fetch(upstream))
    if opts.tracemalloc:
        _traced(figure, lambda: _fetch(upstream))
    return figure


def _fetch(upstream: Upstream) -> None:
    bare_fetch(upstream.token_url, upstream.base_url + LISTING_PATH, CLIENT_ID, CLIENT_SECRET)


class CycleBench:
    """The real watcher (app.wiring.build_app, console channel) on one backend."""

    def __init__(self, upstream: Upstream, scratch: Scratch, rows: int, opts: Options) -> None:
        self.upstream, self.scratch, self.rows, self.opts = upstream, scratch, rows, opts
        self.app: App | None = None
        self._variant = 0

    def close(self) -> None:
        if self.app is not None:
            self.app.close()
            self.app = None

    def _fresh_app(self) -> App:
        self.close()
        settings = bench_settings(self.upstream, self.scratch.fresh())
        self.app = build_app(settings, source=_FreshClient(self.upstream))
        return self.app

    def _cycle(self, app: App) -> Callable[[], CycleResult]:
        return app.poller.poll_once

    def run_all(self) -> list[Figure]:
        """First sync, no change, 10% changed: the timed runs of every step first, then the
        traced ones, so that tracemalloc's own memory never inflates a step's RSS reading."""
        first, same, moved = (Figure(self.rows, self.scratch.backend, step) for step in STEPS[1:])
        self.upstream.serve(0)
        for _ in range(self.opts.repeat):
            self._paired(first, self._cycle(self._fresh_app()))
        assert self.app is not None
        run = self._cycle(self.app)
        for _ in range(self.opts.repeat):
            self._paired(same, run)
        for _ in range(self.opts.repeat):
            self._next_variant()
            self._paired(moved, run)
        if self.opts.tracemalloc:
            self._next_variant()
            _traced(moved, run)
            _traced(same, run)
            _traced(first, self._cycle(self._fresh_app()))
        return [first, same, moved]

    def _paired(self, figure: Figure, run: Callable[[], CycleResult]) -> None:
        """A floor run just before the cycle: on a busy machine the ratio of the two, taken
        side by side, is steadier than the ratio of medians taken minutes apart."""
        started = time.perf_counter()
        _fetch(self.upstream)
        floor = time.perf_counter() - started
        _timed(figure, run)
        figure.ratios.append(figure.runs[-1] / floor)

    def _next_variant(self) -> None:
        self._variant += 1
        self.upstream.serve(0 if self._variant % 2 == 0 else self._variant // 2 + 1)


def measure(
    rows: int, backend: str, pg_url: str | None, workdir: Path, opts: Options
) -> list[Figure]:
    """The floor (backend "-") or the three cycles of one backend, against a fresh upstream."""
    upstream = Upstream(rows)
    try:
        if backend == "-":
            return [measure_floor(upstream, rows, opts)]
        scratch = Scratch(backend, workdir, pg_url)
        bench = CycleBench(upstream, scratch, rows, opts)
        try:
            return bench.run_all()
        finally:
            bench.close()
            scratch.drop()
    finally:
        upstream.close()
