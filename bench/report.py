"""The benchmark's one table (warm and cold side by side, with the floor and the targets), its
verdicts, and the JSON kept as a CI artefact."""

from __future__ import annotations

import json
import math
import statistics
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.cold import Process, marginal
from bench.run import Figure
from bench.startup import TARGET_SECONDS, Startup
from bench.web import WebFigure, render_web, web_verdicts

# The targets of issue 13 at 100,000 rows: ratios to the floor, memory in MiB.
TARGET_WARM = {"no change": 1.05, "10% changed": 1.5, "first sync": 3.0}
TARGET_COLD = {"no change": 1.2, "10% changed": 2.5, "first sync": 5.0}
TARGET_PEAK_MIB = 200.0
TARGET_IDLE_MIB = 60.0
TARGET_ROWS = 100_000


@dataclass
class Results:
    warm: list[Figure] = field(default_factory=list)
    cold: list[Process] = field(default_factory=list)
    other: list[Process] = field(default_factory=list)  # urlwatch, as whole processes
    idle: tuple[float, float] | None = None  # first start: the new database is migrated
    idle_migrated: tuple[float, float] | None = None  # a restart on a migrated database
    startup: list[Startup] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    web: list[WebFigure] = field(default_factory=list)  # the web page's (bench/web.py)

    def floor_process(self, rows: int) -> float | None:
        """The floor process's median seconds at `rows`: every floor run of that size, the
        ones paired with poll processes included (a few tenths of a second each, noisy)."""
        runs = [s for p in self.cold if p.rows == rows for s in p.floors]
        return statistics.median(runs) if runs else None

    def cold_ratio(self, figure: Process) -> float | None:
        """Marginal cost per row against the floor process, from the smallest size run."""
        sizes = sorted({p.rows for p in self.cold})
        if len(sizes) < 2:
            return None
        base = self._cold(sizes[0], figure.backend, figure.step)
        floor, base_floor = self.floor_process(figure.rows), self.floor_process(sizes[0])
        if base is None or floor is None or base_floor is None:
            return None
        return marginal(figure, floor, base, base_floor)

    def _cold(self, rows: int, backend: str, step: str) -> Process | None:
        found = (p for p in self.cold if (p.rows, p.backend, p.step) == (rows, backend, step))
        return next(found, None)

    def steps(self) -> list[tuple[int, str, str]]:
        seen = [(f.rows, f.backend, f.step) for f in self.warm]
        seen += [(p.rows, p.backend, p.step) for p in self.cold]
        return list(dict.fromkeys(seen))


def _num(value: float | None, fmt: str, width: int) -> str:
    return (
        "-".rjust(width) if value is None or math.isnan(value) else format(value, fmt).rjust(width)
    )


HEADER = (
    f"{'rows':>7}  {'backend':<10}  {'step':<18}  {'warm s':>7}  {'warm x':>6}  {'cold s':>7}  "
    f"{'cold x':>6}  {'target w/c':>10}  {'warm RSS':>8}  {'cold RSS':>8}  {'events':>6}"
)


def render_table(results: Results) -> str:
    """One line per (rows, backend, step). `warm x` is the median of paired ratios to the
    in-process floor; `cold x` is the marginal cost per row (from the smallest size) of the
    poll process over the floor process's. RSS in MiB."""
    lines = [HEADER, "-" * len(HEADER)]
    for rows, backend, step in results.steps():
        warm = next(
            (f for f in results.warm if (f.rows, f.backend, f.step) == (rows, backend, step)), None
        )
        cold = results._cold(rows, backend, step)
        cold_s = results.floor_process(rows) if step == "floor" else cold.median if cold else None
        target = "" if step == "floor" else f"{TARGET_WARM[step]:g} / {TARGET_COLD[step]:g}"
        warm_ratio = None if warm is None or step == "floor" else warm.ratio
        cold_ratio = None if cold is None or step == "floor" else results.cold_ratio(cold)
        events = warm.events if warm else "-"
        lines.append(
            f"{rows:>7}  {backend:<10}  {step:<18}  "
            f"{_num(warm.median if warm else None, '.3f', 7)}  {_num(warm_ratio, '.2f', 5)}x  "
            f"{_num(cold_s, '.3f', 7)}  {_num(cold_ratio, '.2f', 5)}x  "
            f"{target:>10}  {_num(warm.rss_peak_mib if warm else None, '.1f', 8)}  "
            f"{_num(cold.rss_peak_mib if cold else None, '.1f', 8)}  {events:>6}"
        )
    for other in results.other:
        if other.timed_out is not None and not other.runs:
            seconds, ratio = f"> {other.timed_out:.0f}", "    -x"
        else:
            seconds, ratio = f"{other.median:.3f}", _other_ratio(results, other)
        lines.append(
            f"{other.rows:>7}  {other.backend:<10}  {other.step:<18}  {'-':>7}  {'-':>5}   "
            f"{seconds:>7}  {ratio}  {'':>10}  {'-':>8}  "
            f"{_num(other.rss_peak_mib, '.1f', 8)}  {'-':>6}"
        )
    return "\n".join(lines)


def _other_ratio(results: Results, other: Process) -> str:
    sizes = sorted({p.rows for p in results.other if p.step == other.step})
    base = next((p for p in results.other if p.step == other.step and p.rows == sizes[0]), None)
    floor, base_floor = results.floor_process(other.rows), results.floor_process(sizes[0])
    if base is None or floor is None or base_floor is None:
        return f"{'-':>5}x"
    return f"{_num(marginal(other, floor, base, base_floor), '.2f', 5)}x"


def verdicts(results: Results) -> list[str]:
    """The targets at 100,000 rows, one line each: met or missed, and by how much."""
    lines: list[str] = []
    for f in results.warm:
        if f.rows == TARGET_ROWS and f.step != "floor" and f.ratio is not None:
            lines.append(_verdict(f"warm {f.backend} {f.step}", f.ratio, TARGET_WARM[f.step], "x"))
    for p in results.cold:
        ratio = results.cold_ratio(p) if p.rows == TARGET_ROWS and p.step != "floor" else None
        if ratio is not None:
            lines.append(_verdict(f"cold {p.backend} {p.step}", ratio, TARGET_COLD[p.step], "x"))
    peaks = [f.rss_peak_mib for f in results.warm if f.rows == TARGET_ROWS and f.backend != "-"]
    peaks += [p.rss_peak_mib for p in results.cold if p.rows == TARGET_ROWS and p.backend != "-"]
    if peaks:
        lines.append(_verdict("peak RSS (warm and cold)", max(peaks), TARGET_PEAK_MIB, "MiB"))
    for idle, start in ((results.idle, "new database"), (results.idle_migrated, "migrated")):
        if idle is not None:
            lines.append(_verdict(f"idle `run` RSS, {start}", idle[0], TARGET_IDLE_MIB, "MiB"))
    for s in results.startup:
        if s.name in TARGET_SECONDS:
            lines.append(_verdict(f"start-up `{s.name}` wall", s.wall, TARGET_SECONDS[s.name], "s"))
    lines += web_verdicts(results.web, TARGET_ROWS)
    return lines or [f"targets: not judged (they apply at {TARGET_ROWS} rows)"]


def _verdict(name: str, value: float, limit: float, unit: str) -> str:
    state = "met" if value <= limit else f"MISSED by {value / limit - 1:.0%}"
    return f"target {name:<32} {value:8.2f} {unit} (limit {limit:g}): {state}"


def to_json(results: Results, machine: str) -> str:
    data: dict[str, Any] = {
        "machine": machine,
        "notes": results.notes,
        "warm": [{**asdict(f), "median": f.median, "ratio": f.ratio} for f in results.warm],
        "cold": [_cold_json(results, p) for p in results.cold],
        "other": [{**asdict(p), "median": p.median} for p in results.other],
        "idle_rss_mib": None if results.idle is None else results.idle[0],
        "idle_migrated_rss_mib": results.idle_migrated and results.idle_migrated[0],
        "startup": [{**asdict(s), "wall": s.wall, "cpu": s.cpu} for s in results.startup],
        "web": [{**asdict(f), "median": f.median, "met": f.met} for f in results.web],
        "verdicts": verdicts(results),
    }
    return json.dumps(data, indent=2)


def _cold_json(results: Results, p: Process) -> dict[str, Any]:
    ratio = results.cold_ratio(p) if p.step != "floor" else None
    return {**asdict(p), "median": p.median, "rss_peak_mib": p.rss_peak_mib, "ratio": ratio}


def from_json(text: str) -> tuple[Results, str]:
    """Results read back from to_json's output (the CI artefact), and the machine line."""
    data = json.loads(text)

    def build(cls: Any, item: dict[str, Any]) -> Any:
        names = {f for f in cls.__dataclass_fields__ if cls.__dataclass_fields__[f].init}
        return cls(**{k: v for k, v in item.items() if k in names})

    idle, restart = data.get("idle_rss_mib"), data.get("idle_migrated_rss_mib")
    results = Results(
        warm=[build(Figure, f) for f in data["warm"]],
        cold=[build(Process, p) for p in data["cold"]],
        other=[build(Process, p) for p in data["other"]],
        idle=None if idle is None else (idle, idle),
        idle_migrated=None if restart is None else (restart, restart),
        startup=[build(Startup, s) for s in data.get("startup", [])],
        notes=data.get("notes", []),
        web=[build(WebFigure, f) for f in data.get("web", [])],
    )
    return results, data.get("machine", "")


def main(argv: list[str]) -> int:
    """`python -m bench.report FILE`: the table and verdicts of a saved run, again."""
    results, machine = from_json(open(argv[0], encoding="utf-8").read())  # noqa: SIM115
    print(machine)
    print(render_table(results))
    if results.web:
        print(render_web(results.web))
    if results.startup:
        from bench.startup import render as render_startup

        print(render_startup(results.startup))
    print("\n".join(verdicts(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
