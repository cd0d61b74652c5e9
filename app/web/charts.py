"""The /providers figures: its table rows and the geometry of its SVG charts (drawn by the
templates, so every label goes through Jinja's escaping). No I/O."""

from __future__ import annotations

from collections.abc import Sequence

from app.core.report import ProviderStats
from app.web.weekly import round_steps

Row = dict[str, object]


def _seconds(value: object) -> int | None:
    total = getattr(value, "total_seconds", None)
    return round(total()) if total is not None else None


def provider_rows(providers: Sequence[ProviderStats]) -> list[Row]:
    """One row per provider and measure, named as `flinkswatch report --format csv` names
    them: `measure` is `to ACTIVE` or `in <status>`, durations in whole seconds."""
    rows: list[Row] = []
    for stats in providers:
        measures = [("to ACTIVE", stats.to_active)]
        measures += [(f"in {status}", summary) for status, summary in stats.in_status.items()]
        for measure, summary in measures:
            rows.append(
                {
                    "provider_id": stats.provider_id,
                    "provider_name": stats.provider_name,
                    "registrations": stats.registrations,
                    "measure": measure,
                    "count": summary.count,
                    "censored": summary.censored,
                    "median_seconds": _seconds(summary.median),
                    "p90_seconds": _seconds(summary.p90),
                }
            )
    return rows


def to_active_bars(providers: Sequence[ProviderStats], most: int) -> list[Row]:
    """Median and p90 of time to ACTIVE as bar widths in % of the chart's width (the longest
    p90, or median where no p90 is known yet, is 100), of the `most` providers with the most
    activations measured, in the order given: a provider appears once its median is known."""
    measured = [p for p in providers if p.to_active.median is not None]
    if len(measured) > most:
        kept = {p.provider_id for p in sorted(measured, key=lambda p: -p.to_active.count)[:most]}
        measured = [p for p in measured if p.provider_id in kept]
    ends = (_seconds(p.to_active.p90) or _seconds(p.to_active.median) or 0 for p in measured)
    longest = max(ends, default=0) or 1
    return [
        {
            "name": p.provider_name,
            "count": p.to_active.count,
            "median": p.to_active.median,
            "p90": p.to_active.p90,
            "median_pct": round((_seconds(p.to_active.median) or 0) / longest * 100, 2),
            "p90_pct": round((_seconds(p.to_active.p90) or 0) / longest * 100, 2),
        }
        for p in measured
    ]


CURVES = 5  # providers drawn in the chart of S(t), the busiest
CURVE_WIDTH, CURVE_HEIGHT = 400, 120  # the lines' own units, stretched to the chart's width
DAY = 86400.0


def _chosen(providers: Sequence[ProviderStats], most: int) -> list[ProviderStats]:
    measured = [p for p in providers if p.curve.events]
    busiest = sorted(measured, key=lambda p: (-(p.curve.events + p.curve.censored), p.provider_id))
    return busiest[:most]


def curve_days(providers: Sequence[ProviderStats], most: int = CURVES) -> list[Row]:
    """The time axis of survival_curves' chart: round numbers of days up to its end (the
    longest last activation drawn), each at its % of the axis."""
    chosen = _chosen(providers, most)
    longest = max((p.curve.times[-1] for p in chosen), default=0.0)
    if longest <= 0:
        return []
    steps = [d for d in round_steps(-(-int(longest) // int(DAY))) if d * DAY <= longest]
    return [{"label": f"{d} d", "pct": round(d * DAY / longest * 100, 2)} for d in steps]


def survival_curves(providers: Sequence[ProviderStats], most: int = CURVES) -> list[Row]:
    """The Kaplan-Meier step line S(t) of time to ACTIVE of the `most` providers with the most
    registrations measured (activations and still waiting), as SVG polyline points: x from 0
    to the longest last activation among them (CURVE_WIDTH px), y from S = 1 (top) to 0."""
    chosen = _chosen(providers, most)
    longest = max((p.curve.times[-1] for p in chosen), default=0.0) or 1.0
    lines = []
    for index, p in enumerate(chosen):
        points, level = [(0.0, 0.0)], 1.0
        for time, value in zip(p.curve.times, p.curve.survival, strict=True):
            x = time / longest * CURVE_WIDTH
            points += [(x, (1 - level) * CURVE_HEIGHT), (x, (1 - value) * CURVE_HEIGHT)]
            level = value
        points.append((CURVE_WIDTH, (1 - level) * CURVE_HEIGHT))
        lines.append(
            {
                "name": p.provider_name,
                "index": index,
                "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in points),
                "count": p.curve.events,
                "censored": p.curve.censored,
            }
        )
    return lines
