"""Cold cycles: every poll a whole `flinkswatch poll` process, as cron or a Kubernetes CronJob
runs it, timed from spawn to exit beside the floor *process* (bench.floor), with the peak
resident memory of each process (rusage of the child)."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import app
from bench.env import CLIENT_ID, CLIENT_SECRET, Scratch, Upstream, bench_settings_env

LISTING_PATH = "/api/v1/recipients/providers/requests"
# The tree whose `app` is measured, and the one holding bench/: the children import both.
_APP_ROOT = str(Path(app.__file__).resolve().parents[1])
_BENCH_ROOT = str(Path(__file__).resolve().parents[1])


@dataclass
class Process:
    """One step, run as whole processes: seconds and peak RSS (MiB) of each run."""

    rows: int
    backend: str
    step: str
    runs: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    floors: list[float] = field(default_factory=list)  # a floor process run just before each
    timed_out: float | None = None  # the limit a run went over (urlwatch), then no more runs

    @property
    def median(self) -> float:
        return statistics.median(self.runs) if self.runs else float("nan")

    @property
    def rss_peak_mib(self) -> float:
        return max(self.rss_mib) if self.rss_mib else float("nan")

    @property
    def floor_median(self) -> float:
        return statistics.median(self.floors)


def _env(extra: dict[str, str]) -> dict[str, str]:
    paths = dict.fromkeys([_APP_ROOT, _BENCH_ROOT])  # app first: the tree being measured
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(paths),
        "LOG_LEVEL": "WARNING",
        **extra,
    }


class TimedOut(Exception):
    """A process ran past its time limit (it was killed)."""


def run_process(
    argv: list[str], env: dict[str, str], cwd: Path, limit: float | None = None
) -> tuple[float, float]:
    """(seconds from spawn to exit, peak RSS in MiB) of one process; it must exit 0. The peak
    is read by /usr/bin/time, a small process: a child's ru_maxrss starts at its parent's RSS
    (the forked image), so the benchmark's own would hide a smaller child's."""
    log, peak = cwd / "last-process.log", cwd / "last-process.rss"
    timer = ["/usr/bin/time", "-f", "%M", "-o", str(peak)] if Path("/usr/bin/time").exists() else []
    with log.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [*timer, *argv],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # a group of its own: the timer and what it runs
        )
        try:
            code = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise TimedOut(f"{argv[0]} ran over {limit:.0f} s") from None
        seconds = time.perf_counter() - started
    if code != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{argv[2:]} exited {code}:\n{tail}")
    text = peak.read_text().split() if timer else []
    return seconds, int(text[-1]) / 1024 if text else float("nan")  # %M is in KiB


class ColdBench:
    """The floor process and `flinkswatch poll` processes against one upstream."""

    def __init__(self, upstream: Upstream, workdir: Path, repeat: int) -> None:
        self.upstream, self.repeat = upstream, repeat
        self.home = workdir / f"cold-{upstream.rows}"
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / ".env").write_text("")  # settings read .env from here: keep it empty

    def floor_once(self) -> tuple[float, float]:
        argv = [
            sys.executable,
            "-m",
            "bench.floor",
            self.upstream.token_url,
            self.upstream.base_url + LISTING_PATH,
            CLIENT_ID,
            CLIENT_SECRET,
        ]
        return run_process(argv, _env({}), self.home)

    def floor(self) -> Process:
        figure = Process(self.upstream.rows, "-", "floor")
        for _ in range(self.repeat):
            seconds, rss = self.floor_once()
            figure.runs.append(seconds)
            figure.rss_mib.append(rss)
            figure.floors.append(seconds)
        return figure

    def _flinkswatch(self, command: str, url: str) -> tuple[float, float]:
        env = _env(bench_settings_env(self.upstream, url))
        return run_process([sys.executable, "-m", "app", command], env, self.home)

    def _paired(self, figure: Process, url: str) -> None:
        floor, _ = self.floor_once()
        seconds, rss = self._flinkswatch("poll", url)
        figure.floors.append(floor)
        figure.runs.append(seconds)
        figure.rss_mib.append(rss)

    def cycles(self, scratch: Scratch) -> list[Process]:
        """First sync (a fresh, migrated database each run; the migration is not timed), then
        no change and 10% changed on the last one, each run a new process."""
        rows = self.upstream.rows
        first, same, moved = (Process(rows, scratch.backend, s) for s in _STEPS)
        self.upstream.serve(0)
        url = ""
        for _ in range(self.repeat):
            url = scratch.fresh()
            self._flinkswatch("migrate", url)
            self._paired(first, url)
        for _ in range(self.repeat):
            self._paired(same, url)
        for variant in range(1, self.repeat + 1):
            # Alternating the base rows and a 10% move: every timed run changes 10%.
            self.upstream.serve(variant if variant % 2 else 0)
            self._paired(moved, url)
        self.upstream.serve(0)
        return [first, same, moved]


_STEPS = ("first sync", "no change", "10% changed")


def marginal(figure: Process, floor: float, base: Process, base_floor: float) -> float | None:
    """The cost per row above `base` (the smallest size) as a ratio to the floor's (`floor`,
    `base_floor`: the floor process's median seconds at the two sizes): process start-up,
    imports and the token cancel out, what is left is the work per row."""
    if figure.rows < 10 * base.rows:
        return None  # too close: the difference is mostly noise
    spent = figure.median - base.median
    needed = floor - base_floor
    return spent / needed if needed > 0 else None
