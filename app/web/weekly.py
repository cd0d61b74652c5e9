"""The geometry of /providers' weekly chart (approvals and activations per week): bars, the
counts' axis with round values, the weeks' labels and a sentence that says what it shows.
Across in % of the chart's width, so it fits a phone as a laptop with its text at full size;
down in px. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

Row = dict[str, object]
LEFT = 9.0  # % of the width left of the first week: the counts' labels
TOP, HEIGHT = 8, 120  # px: the plot's top and height (the weeks' labels below it)
STEPS = 4  # at most this many steps of the counts' axis above 0
LABEL_EVERY = 4  # weeks between two labels, counted back from the latest


@dataclass(frozen=True, slots=True)
class WeeklyChart:
    weeks: list[Row]  # each week's counts and its two bars (x, width in %; y, height in px)
    ticks: list[Row]  # the counts' axis: value, label, y (px)
    labels: list[Row]  # the weeks named under the axis: text, x (%), anchor
    title: str  # "Approvals and activations per week, 13 Apr to 5 Oct 2026"
    summary: str  # the totals and the busiest week, for a screen reader (and the curious)
    bottom: int = TOP + HEIGHT  # px: the axis' line
    left: float = LEFT


def round_steps(peak: int, most: int = STEPS) -> list[int]:
    """0 and the fewest round values (steps of 1, 2 or 5 times a power of ten) reaching at
    least `peak`, at most `most` steps: 0, 10, 20, 30, 40 for 37."""
    if peak <= 0:
        return [0]
    power = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * power
            if -(-peak // step) <= most:
                return [step * i for i in range(-(-peak // step) + 1)]
        power *= 10


def count_label(value: int) -> str:
    """A count as the axis shows it: 40, 900, 1.5k, 12k."""
    return str(value) if value < 1000 else f"{value / 1000:g}k"


def _day(week: object) -> str:
    day = date.fromisoformat(str(week))
    return f"{day.day} {day:%b}"


def weekly_chart(weeks: Sequence[Row]) -> WeeklyChart:
    """Two bars a week (approvals, activations), heights scaled to the axis' top value."""
    counts = [(int(str(w["approvals"])), int(str(w["activations"]))) for w in weeks]
    ticks = round_steps(max((max(c) for c in counts), default=0))
    scale = HEIGHT / (ticks[-1] or 1)
    pitch = (100 - LEFT) / max(1, len(weeks))
    bars = []
    for i, (week, (approvals, activations)) in enumerate(zip(weeks, counts, strict=True)):
        x, heights = LEFT + i * pitch, (round(approvals * scale, 1), round(activations * scale, 1))
        bars.append(
            {
                **week,
                "day": _day(week["week"]),
                "approvals_x": f"{x + 0.12 * pitch:.2f}",
                "activations_x": f"{x + 0.52 * pitch:.2f}",
                "width": f"{0.36 * pitch:.2f}",
                "approvals_h": heights[0],
                "activations_h": heights[1],
                "approvals_y": round(TOP + HEIGHT - heights[0], 1),
                "activations_y": round(TOP + HEIGHT - heights[1], 1),
            }
        )
    return WeeklyChart(
        weeks=bars,
        ticks=[_tick(t, scale) for t in ticks],
        labels=_labels(bars, pitch),
        title=_title(weeks),
        summary=_summary(bars, counts),
    )


def _tick(value: int, scale: float) -> Row:
    return {
        "value": value,
        "label": count_label(value),
        "y": round(TOP + HEIGHT - value * scale, 1),
    }


def _labels(bars: list[Row], pitch: float) -> list[Row]:
    """Every LABEL_EVERY-th week back from the latest, named under its bars; the latest's
    label ends at the right edge so that it is never cut."""
    last = len(bars) - 1
    labels = []
    for i in range(last, -1, -LABEL_EVERY):
        if i == last:
            labels.append({"text": bars[i]["day"], "x": "100", "anchor": "end"})
        else:
            centre = LEFT + (i + 0.5) * pitch
            labels.append({"text": bars[i]["day"], "x": f"{centre:.2f}", "anchor": "middle"})
    return labels[::-1]


def _title(weeks: Sequence[Row]) -> str:
    if not weeks:
        return "Approvals and activations per week"
    year = str(weeks[-1]["week"])[:4]
    first, last = _day(weeks[0]["week"]), _day(weeks[-1]["week"])
    return f"Approvals and activations per week, {first} to {last} {year}"


def _summary(bars: list[Row], counts: list[tuple[int, int]]) -> str:
    approvals, activations = sum(c[0] for c in counts), sum(c[1] for c in counts)
    if not approvals + activations:
        return f"No approval nor activation in these {len(bars)} weeks."
    busiest = max(range(len(bars)), key=lambda i: (sum(counts[i]), i))
    week = bars[busiest]
    return (
        f"{len(bars)} weeks, each from a Monday: {approvals} approvals and {activations} "
        f"activations in all; the busiest week, of {week['day']}, had {counts[busiest][0]} "
        f"approvals and {counts[busiest][1]} activations."
    )
