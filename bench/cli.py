"""`python -m bench`: how a poll cycle compares with merely fetching and parsing the listing
(the floor: a bare httpx client, a token, the GET and json.loads), at 1k, 10k and 100k rows, on
SQLite and PostgreSQL, warm (inside one process) and cold (a `flinkswatch poll` process per
cycle, as cron runs it), beside urlwatch; and the web page's figures (bench/web.py) at the
largest size (docs/performance.md)."""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from bench.cold import ColdBench
from bench.env import Scratch, Upstream, idle_service_rss, pg_unavailable
from bench.estimates import measure_estimates, render_estimates
from bench.report import Results, render_table, to_json, verdicts
from bench.run import Figure, Options, measure
from bench.startup import measure as measure_startup
from bench.startup import render as render_startup
from bench.status import StatusFigure
from bench.status import measure as measure_status
from bench.status import render as render_status
from bench.urlwatch import executable
from bench.urlwatch import measure as measure_urlwatch
from bench.web import WebFigure, render_web
from bench.web import measure as measure_web

T = TypeVar("T")

PG_ENV = "FLINKSWATCH_BENCH_PG_URL"
IDLE_ROWS = 100


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of row counts: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("row counts must be positive")
    return sizes


def _backends(text: str) -> list[str]:
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = sorted(set(names) - {"sqlite", "postgresql"})
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"backends are sqlite and/or postgresql, not {unknown}")
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", type=_sizes, default=[1000, 10_000, 100_000])
    parser.add_argument("--backends", type=_backends, default=["sqlite", "postgresql"])
    parser.add_argument(
        "--pg-url", default=os.environ.get(PG_ENV, ""), help=f"admin URL (default ${PG_ENV})"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per step (3)")
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="skip the extra run that traces allocations"
    )
    parser.add_argument("--no-idle", action="store_true", help="skip the idle service")
    parser.add_argument("--no-warm", action="store_true", help="skip the in-process cycles")
    parser.add_argument("--no-cold", action="store_true", help="skip the process-per-poll cycles")
    parser.add_argument("--no-urlwatch", action="store_true", help="skip urlwatch")
    parser.add_argument("--no-startup", action="store_true", help="skip `--help` and `status`")
    parser.add_argument(
        "--startup-runs", type=int, default=15, help="processes per start-up figure (15)"
    )
    parser.add_argument(
        "--no-web", action="store_true", help="skip the web page (at the largest size)"
    )
    parser.add_argument(
        "--no-estimates", action="store_true", help="skip the providers' Kaplan-Meier estimates"
    )
    parser.add_argument(
        "--no-status",
        action="store_true",
        help="skip `status --format json` of every registration (at the largest size)",
    )
    parser.add_argument(
        "--json", type=Path, default=Path("bench-results.json"), help="(bench-results.json)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    # Alerts and per-event lines are INFO: the console channel still renders and records them.
    opts = Options(repeat=max(1, args.repeat), tracemalloc=not args.no_tracemalloc)
    results = Results()
    pg_url = args.pg_url.strip() or None
    backends = _usable_backends(list(args.backends), pg_url, results.notes)
    urlwatch = None if args.no_urlwatch else executable()
    if urlwatch is None and not args.no_urlwatch:
        results.notes.append('urlwatch SKIPPED: not installed (pip install -e ".[bench]")')
    machine = _machine()
    print(machine)
    print("\n".join(results.notes))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="flinkswatch-bench-") as tmp:
        for rows in args.sizes:
            if not args.no_warm:
                results.warm += _one_size(rows, backends, pg_url, Path(tmp), opts)
            if not args.no_cold or urlwatch:
                _processes(rows, backends, args, Path(tmp), results, urlwatch)
            args.json.write_text(to_json(results, machine))  # so far, in case a later step fails
        if not args.no_web:
            results.web = _web(max(args.sizes), backends, pg_url, Path(tmp), opts.repeat)
        if not args.no_idle:
            results.idle = idle_service_rss(IDLE_ROWS, Path(tmp))
            results.idle_migrated = idle_service_rss(IDLE_ROWS, Path(tmp), migrated=True)
        if not args.no_startup:
            results.startup = measure_startup(Path(tmp), args.startup_runs)
    print()
    print(render_table(results))
    if results.web:
        print("\nthe web page (issue 12), server time through the Flask test client:")
        print(render_web(results.web))
    for idle, start in ((results.idle, "new database"), (results.idle_migrated, "migrated")):
        if idle is not None:
            print(f"\nidle `flinkswatch run` ({IDLE_ROWS} rows, SQLite, {start}, after its first "
                  f"poll): VmRSS {idle[0]:.1f} MiB (peak VmHWM {idle[1]:.1f} MiB)")  # fmt: skip
    if results.startup:
        print("\n" + render_startup(results.startup))
    if not args.no_estimates:
        # at the largest size (100,000 by default): 300 providers, half as many moves again
        most = max(args.sizes)
        figure = measure_estimates(most, min(300, most), most * 3 // 2, opts.repeat)
        print("\n" + render_estimates(figure))
    if not args.no_status:
        print("\n" + render_status(_status(max(args.sizes), opts.repeat)))
    print()
    print("\n".join(verdicts(results)))
    args.json.write_text(to_json(results, machine))
    print(f"\nbenchmark took {time.monotonic() - started:.0f} s; figures in {args.json}")
    return 0


def _usable_backends(backends: list[str], pg_url: str | None, notes: list[str]) -> list[str]:
    if "postgresql" in backends:
        reason = "no URL (--pg-url or $" + PG_ENV + ")" if pg_url is None else None
        reason = reason or pg_unavailable(str(pg_url))
        if reason:
            backends.remove("postgresql")
            notes.append(f"PostgreSQL SKIPPED: {reason}")
    return backends


def _processes(
    rows: int,
    backends: list[str],
    args: argparse.Namespace,
    tmp: Path,
    results: Results,
    urlwatch: str | None,
) -> None:
    """The floor process, `flinkswatch poll` processes on each backend, and urlwatch."""
    upstream = Upstream(rows)
    try:
        cold = ColdBench(upstream, tmp, max(1, args.repeat))
        print(f"-- {rows} rows: floor process", file=sys.stderr)
        results.cold.append(cold.floor())
        for backend in backends if not args.no_cold else []:
            print(f"-- {rows} rows: {backend}, a process per poll", file=sys.stderr)
            scratch = Scratch(backend, tmp, args.pg_url.strip() or None)
            try:
                results.cold += cold.cycles(scratch)
            finally:
                scratch.drop()
        if urlwatch:
            print(f"-- {rows} rows: urlwatch", file=sys.stderr)
            results.other += measure_urlwatch(upstream, tmp, max(1, args.repeat), urlwatch)
    finally:
        upstream.close()


def _one_size(
    rows: int, backends: list[str], pg_url: str | None, tmp: Path, opts: Options
) -> list[Figure]:
    figures: list[Figure] = []
    for backend in ["-", *backends]:
        print(f"-- {rows} rows: {'floor' if backend == '-' else backend}, warm", file=sys.stderr)
        figures += _in_child(rows, backend, pg_url, tmp, opts)
    return figures


def _web_figures(
    rows: int, backend: str, pg_url: str | None, tmp: Path, repeat: int
) -> list[WebFigure]:
    return measure_web(rows, backend, Scratch(backend, tmp, pg_url), repeat)


def _web(
    rows: int, backends: list[str], pg_url: str | None, tmp: Path, repeat: int
) -> list[WebFigure]:
    """The web page's figures on each backend, each in a fresh process (bench/web.py)."""
    figures: list[WebFigure] = []
    for backend in backends:
        print(f"-- {rows} rows: {backend}, the web page", file=sys.stderr)
        failed = f"web benchmark of {backend} at {rows} rows failed"
        figures += _in_fresh_process(failed, _web_figures, rows, backend, pg_url, tmp, repeat)
    return figures


def _status(rows: int, repeat: int) -> StatusFigure:
    """`status --format json` over a database the poller filled, in a fresh process (its own
    scratch folder: the benchmark's is gone by now)."""
    print(f"-- {rows} rows: sqlite, `status --format json`", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="flinkswatch-bench-status-") as tmp:
        failed = f"status benchmark at {rows} rows failed"
        return _in_fresh_process(failed, measure_status, Path(tmp), rows, repeat)


def _in_child(
    rows: int, backend: str, pg_url: str | None, tmp: Path, opts: Options
) -> list[Figure]:
    failed = f"benchmark of {backend} at {rows} rows failed (see above)"
    return _in_fresh_process(failed, measure, rows, backend, pg_url, tmp, opts)


def _send_result(conn: Connection, measure_fn: Callable[..., object], *args: Any) -> None:
    conn.send(measure_fn(*args))


def _in_fresh_process(failed: str, measure_fn: Callable[..., T], *args: Any) -> T:
    """measure_fn(*args) in a fresh (spawned) process, so its memory readings are its own;
    RuntimeError(failed) when the process dies without an answer."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_send_result, args=(child, measure_fn, *args))
    proc.start()
    child.close()
    try:
        result: T = parent.recv()
    except EOFError:
        raise RuntimeError(failed) from None
    finally:
        proc.join()
    return result


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return (
        f"machine: {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )
