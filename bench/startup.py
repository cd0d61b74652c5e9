"""Start-up of one-off commands: `flinkswatch --help` and `flinkswatch status` on an empty,
migrated SQLite database, each the median of N whole processes, wall and CPU (user + sys: the
machine is shared, and CPU time varies less with its load), beside the bare interpreter and the
imports `status` cannot avoid (SQLAlchemy and pydantic-settings)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.cold import _env

TARGET_SECONDS = {"--help": 0.3, "status": 0.3}
_LIBRARIES = "import sqlalchemy, pydantic_settings"


@dataclass
class Startup:
    name: str
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    load: float = 0.0  # 1-minute load average when measured

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)


def _once(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL)  # noqa: S603
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[1:]} exited {proc.returncode}")
    return seconds, usage.ru_utime + usage.ru_stime


def measure(workdir: Path, runs: int) -> list[Startup]:
    """The interpreter alone, the unavoidable libraries, `--help` and `status`, interleaved run
    by run so that a change of the machine's load touches all of them alike."""
    home = workdir / "startup"
    home.mkdir(parents=True, exist_ok=True)
    (home / ".env").write_text("")
    env = _env({"DATABASE_URL": f"sqlite:///{home / 'empty.db'}"})
    migrate = [sys.executable, "-m", "app", "migrate"]
    subprocess.run(migrate, env=env, cwd=home, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    commands = {
        "python (nothing)": [sys.executable, "-c", "pass"],
        "import sqlalchemy, pydantic_settings": [sys.executable, "-c", _LIBRARIES],
        "--help": [sys.executable, "-m", "app", "--help"],
        "status": [sys.executable, "-m", "app", "status"],
    }
    figures = {name: Startup(name) for name in commands}
    for _ in range(max(1, runs)):
        for name, argv in commands.items():
            seconds, cpu = _once(argv, env, home)
            figures[name].walls.append(seconds)
            figures[name].cpus.append(cpu)
    for figure in figures.values():
        figure.load = os.getloadavg()[0]
    return list(figures.values())


def render(figures: list[Startup]) -> str:
    runs, load = len(figures[0].walls), figures[0].load
    lines = [f"start-up, median of {runs} processes each (1-minute load {load:.1f}):"]
    for f in figures:
        target = TARGET_SECONDS.get(f.name)
        limit = f"  target {target:g} s" if target else ""
        lines.append(f"  {f.name:<38} wall {f.wall:6.3f} s  cpu {f.cpu:6.3f} s{limit}")
    return "\n".join(lines)
