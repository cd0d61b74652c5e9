"""A cold no-change `flinkswatch poll` over a history with activations, for the late limits of
issue 23 (docs/performance.md): a first sync, three cycles of 10% moves, then `runs` poll
processes with nothing changed; `STUCK_AFTER=` off, `LATE_AFTER` as given ("default": unset).
`--fold-every-poll` deletes the kept late limits before each timed poll (as a cron poll was
before they were kept). Run it by path with PYTHONPATH set to the tree to measure, so that an
older tree's bench.cold and app are the ones timed:

    PYTHONPATH=/tmp/before-wt /tmp/before-wt/.venv/bin/python bench/coldlate.py 10000 ''
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
from contextlib import closing
from pathlib import Path

import bench.cold as cold
import bench.env as env


def _settings(late: str) -> None:
    """bench.cold builds each process's settings with this: reminders off, LATE_AFTER set."""
    original = env.bench_settings_env

    def settings_env(upstream: env.Upstream, database_url: str) -> dict[str, str]:
        found = {**original(upstream, database_url), "STUCK_AFTER": ""}
        found.pop("LATE_AFTER", None)
        return found if late == "default" else {**found, "LATE_AFTER": late}

    cold.bench_settings_env = settings_env  # type: ignore[attr-defined]


def measure(rows: int, late: str, runs: int, fold_every_poll: bool) -> str:
    _settings(late)
    upstream = env.Upstream(rows)
    try:
        scratch = env.Scratch("sqlite", Path(tempfile.mkdtemp(prefix="coldlate-")), "")
        bench = cold.ColdBench(upstream, scratch.workdir, 1)
        upstream.serve(0)
        url = scratch.fresh()
        bench._flinkswatch("migrate", url)
        for variant in (0, 1, 0, 3):  # the first sync, then three cycles of 10% moves
            upstream.serve(variant)
            bench._flinkswatch("poll", url)
        figures = []
        for _ in range(runs):
            if fold_every_poll:
                with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn, conn:
                    conn.execute("DELETE FROM late_limits")
            figures.append(bench._flinkswatch("poll", url))
    finally:
        upstream.close()
    seconds = [s for s, _ in figures]
    return (
        f"{rows} rows, LATE_AFTER={late!r}{', a fold every poll' if fold_every_poll else ''}:"
        f" no-change cold poll best {min(seconds):.3f} s, median {statistics.median(seconds):.3f}"
        f" s, peak RSS {max(r for _, r in figures):.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("late", help="LATE_AFTER ('' off, 'default' unset)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--fold-every-poll", action="store_true")
    args = parser.parse_args()
    print(measure(args.rows, args.late, args.runs, args.fold_every_poll))


if __name__ == "__main__":
    main()
