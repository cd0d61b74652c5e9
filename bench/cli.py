"""`python -m bench`: how a poll cycle compares with merely fetching and parsing the listing,
at 1k, 10k and 100k registrations, on SQLite and PostgreSQL (docs/performance.md)."""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.env import idle_service_rss, pg_unavailable
from bench.run import Figure, Options, measure

PG_ENV = "FLINKSWATCH_BENCH_PG_URL"
IDLE_ROWS = 100
# The targets of issue 6 at 100,000 registrations: ratio to the floor, and memory in MiB.
TARGET_RATIO = {"no change": 1.3, "10% changed": 3.0, "first sync": 8.0}
TARGET_PEAK_MIB = 300.0
TARGET_IDLE_MIB = 80.0
TARGET_ROWS = 100_000


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    # Alerts and per-event lines are INFO: the console channel still renders and records them.
    opts = Options(repeat=max(1, args.repeat), tracemalloc=not args.no_tracemalloc)
    backends = list(args.backends)
    pg_url = args.pg_url.strip() or None
    notes = []
    if "postgresql" in backends:
        reason = "no URL (--pg-url or $" + PG_ENV + ")" if pg_url is None else None
        reason = reason or pg_unavailable(str(pg_url))
        if reason:
            backends.remove("postgresql")
            notes.append(f"PostgreSQL SKIPPED: {reason}")
    print(_machine())
    for note in notes:
        print(note)
    started = time.monotonic()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="flinkswatch-bench-") as tmp:
        for rows in args.sizes:
            figures += _one_size(rows, backends, pg_url, Path(tmp), opts)
        idle = None if args.no_idle else idle_service_rss(IDLE_ROWS, Path(tmp))
    print()
    print(render_table(figures))
    if idle is not None:
        print(f"\nidle `flinkswatch run` ({IDLE_ROWS} rows, SQLite, after its first poll): "
              f"VmRSS {idle[0]:.1f} MiB (peak VmHWM {idle[1]:.1f} MiB)")  # fmt: skip
    print()
    print("\n".join(verdicts(figures, idle)))
    print(f"\nbenchmark took {time.monotonic() - started:.0f} s")
    return 0


def _one_size(
    rows: int, backends: list[str], pg_url: str | None, tmp: Path, opts: Options
) -> list[Figure]:
    figures: list[Figure] = []
    for backend in ["-", *backends]:
        print(f"-- {rows} rows: {'floor' if backend == '-' else backend}", file=sys.stderr)
        figures += _in_child(rows, backend, pg_url, tmp, opts)
    return figures


def _child(conn: Connection, *args: Any) -> None:
    conn.send(measure(*args))


def _in_child(
    rows: int, backend: str, pg_url: str | None, tmp: Path, opts: Options
) -> list[Figure]:
    """Each part runs in a fresh process, so its memory readings are its own."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_child, args=(child, rows, backend, pg_url, tmp, opts))
    proc.start()
    child.close()
    try:
        figures: list[Figure] = parent.recv()
    except EOFError:
        raise RuntimeError(f"benchmark of {backend} at {rows} rows failed (see above)") from None
    finally:
        proc.join()
    return figures


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


def render_table(figures: Sequence[Figure]) -> str:
    floors = {f.rows: f.median for f in figures if f.step == "floor"}
    header = (
        f"{'rows':>8}  {'backend':<10}  {'step':<12}  {'median s':>9}  {'x floor':>7}  "
        f"{'rss peak MiB':>12}  {'py peak MiB':>11}  {'events':>7}  {'delivered':>9}"
    )
    lines = [header, "-" * len(header)]
    for f in figures:
        ratio = f.ratio or (f.median / floors[f.rows] if floors.get(f.rows) else float("nan"))
        py_peak = "-" if f.py_peak_mib is None else f"{f.py_peak_mib:.1f}"
        lines.append(
            f"{f.rows:>8}  {f.backend:<10}  {f.step:<12}  {f.median:>9.3f}  {ratio:>6.2f}x  "
            f"{f.rss_peak_mib:>12.1f}  {py_peak:>11}  {f.events:>7}  {f.delivered:>9}"
        )
    return "\n".join(lines)


def verdicts(figures: Sequence[Figure], idle: tuple[float, float] | None) -> list[str]:
    """The targets at 100,000 rows, one line each: met or missed, and by how much."""
    floor = next((f for f in figures if f.rows == TARGET_ROWS and f.step == "floor"), None)
    if floor is None:
        lines = [f"targets: not judged (they apply at {TARGET_ROWS} rows)"]
    else:
        lines = []
        for f in figures:
            if f.rows != TARGET_ROWS or f.step == "floor":
                continue
            ratio = f.ratio or f.median / floor.median
            target = TARGET_RATIO[f.step]
            lines.append(_verdict(f"{f.backend} {f.step}", ratio, target, "x floor"))
        peak = max(f.rss_peak_mib for f in figures if f.rows == TARGET_ROWS)
        lines.append(_verdict("peak memory (RSS)", peak, TARGET_PEAK_MIB, "MiB"))
    if idle is not None:
        lines.append(_verdict("idle service (RSS)", idle[0], TARGET_IDLE_MIB, "MiB"))
    return lines


def _verdict(name: str, value: float, limit: float, unit: str) -> str:
    state = "met" if value <= limit else f"MISSED by {value / limit - 1:.0%}"
    return f"target {name:<26} {value:8.2f} {unit} (limit {limit:g}): {state}"
