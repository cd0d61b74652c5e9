"""`flinkswatch status --format json` of every registration (issue 23): wall time and peak
RSS of the real command, a process per run, over a SQLite database the real poller filled
(bench/web.py's filler: a first sync, then cycles in which 10% of the rows move), with the
default STUCK_AFTER and LATE_AFTER, so every row's waiting, stuck, late and expected date
(the providers' Kaplan-Meier curves folded once) is computed as a user would get it."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.cold import _env
from bench.env import Scratch, Upstream

TARGET_SECONDS = 3.0  # issue 23, at 100,000 registrations
TARGET_ROWS = 100_000
ARGV = ("-m", "app", "status", "--format", "json")


@dataclass
class StatusFigure:
    rows: int  # registrations in the database
    runs: list[float] = field(default_factory=list)  # seconds, spawn to exit
    cpus: list[float] = field(default_factory=list)  # user + sys seconds of each process
    rss_mib: list[float] = field(default_factory=list)  # peak RSS of each process
    late: int = 0  # rows the output says are late (so the expectations were computed)
    expected: int = 0  # rows with an expected_active_by

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)

    @property
    def rss_peak_mib(self) -> float:
        return max(self.rss_mib)

    @property
    def met(self) -> bool:
        return self.median < TARGET_SECONDS


def _fill(rows: int, url: str) -> None:
    from bench.web import filled  # on use: it loads Flask, which the figure does not need

    upstream = Upstream(rows)
    try:
        filled(upstream, url).close()
    finally:
        upstream.close()


def measure(workdir: Path, rows: int, repeat: int) -> StatusFigure:
    """Fill a fresh SQLite database with `rows` registrations, check one output, then time
    `repeat` processes of `flinkswatch status --format json`."""
    home = workdir / f"status-{rows}"
    home.mkdir(parents=True, exist_ok=True)
    (home / ".env").write_text("")  # settings read .env from here: keep it empty
    url = Scratch("sqlite", home).fresh()
    _fill(rows, url)
    env = _env({"DATABASE_URL": url})
    figure = StatusFigure(rows)
    _check(figure, env, home)
    for _ in range(max(1, repeat)):
        seconds, cpu, rss = _run(env, home)
        figure.runs.append(seconds)
        figure.cpus.append(cpu)
        figure.rss_mib.append(rss)
    return figure


def _run(env: dict[str, str], home: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + sys: on a shared machine they vary less with its
    load) and peak RSS in MiB of one process, the last two read by /usr/bin/time (a small
    process: the child's own figures, not the benchmark's forked image)."""
    report = home / "time.txt"
    timer = ["/usr/bin/time", "-f", "%U %S %M", "-o", str(report)]
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [*timer, sys.executable, *ARGV], env=env, cwd=home, stdout=subprocess.DEVNULL, check=True
    )
    seconds = time.perf_counter() - started
    user, system, kib = report.read_text().split()[-3:]
    return seconds, float(user) + float(system), int(kib) / 1024


def _check(figure: StatusFigure, env: dict[str, str], home: Path) -> None:
    """One untimed run whose output is read: every row is there, with its expectations."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, *ARGV], env=env, cwd=home, capture_output=True, check=True
    )
    found = json.loads(done.stdout)
    if len(found) != figure.rows:
        raise RuntimeError(f"status listed {len(found)} registrations, not {figure.rows}")
    figure.late = sum(1 for row in found if row["late"])
    figure.expected = sum(1 for row in found if row["expected_active_by"] is not None)


def render(figure: StatusFigure) -> str:
    if figure.rows < TARGET_ROWS:
        verdict = f"not judged: the target applies at {TARGET_ROWS:,}"
    else:
        verdict = "ok" if figure.met else "MISSES the target"
    runs = ", ".join(f"{s:.2f}" for s in figure.runs)
    return (
        f"`flinkswatch status --format json` of {figure.rows:,} registrations (SQLite, a process"
        f" per run; {figure.late:,} late, {figure.expected:,} with an expected date):"
        f" median {figure.median:.2f} s (runs {runs}), CPU {figure.cpu:.2f} s,"
        f" peak RSS {figure.rss_peak_mib:.0f} MiB"
        f" (target < {TARGET_SECONDS:g} s: {verdict})"
    )
