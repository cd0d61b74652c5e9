"""The /providers charts' geometry (app/web/weekly.py, app/web/charts.py): the weekly chart's
counts axis has round values reaching the busiest week, its weeks are named (the latest never
cut), its bars sit on the axis; the bars of time to ACTIVE are in % of the chart's width."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.core.report import ProviderStats, Summary
from app.core.survival import Curve
from app.web.charts import curve_days, to_active_bars
from app.web.weekly import HEIGHT, LEFT, TOP, count_label, round_steps, weekly_chart

D = timedelta(days=1)


@pytest.mark.parametrize(
    ("peak", "steps"),
    [
        (0, [0]),
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (4, [0, 1, 2, 3, 4]),
        (5, [0, 2, 4, 6]),
        (9, [0, 5, 10]),
        (37, [0, 10, 20, 30, 40]),
        (41, [0, 20, 40, 60]),
        (100, [0, 50, 100]),
        (1234, [0, 500, 1000, 1500]),
        (4100, [0, 2000, 4000, 6000]),
    ],
)
def test_the_counts_axis_has_round_values_reaching_the_busiest_week(
    peak: int, steps: list[int]
) -> None:
    assert round_steps(peak) == steps
    assert steps[-1] >= peak
    assert len(steps) <= 5


@pytest.mark.parametrize(
    ("value", "label"), [(0, "0"), (40, "40"), (900, "900"), (1500, "1.5k"), (12000, "12k")]
)
def test_a_count_reads_short_on_the_axis(value: int, label: str) -> None:
    assert count_label(value) == label


def _weeks(counts: list[tuple[int, int]]) -> list[dict[str, object]]:
    monday = date(2026, 4, 13)
    return [
        {"week": (monday + i * 7 * D).isoformat(), "approvals": a, "activations": b}
        for i, (a, b) in enumerate(counts)
    ]


def test_the_weekly_chart_scales_bars_to_the_axis_top_and_names_weeks() -> None:
    counts = [(0, 0)] * 20 + [(3, 1), (14, 9), (37, 20), (5, 12), (0, 2), (8, 8)]
    chart = weekly_chart(_weeks(counts))
    assert [t["label"] for t in chart.ticks] == ["0", "10", "20", "30", "40"]
    assert chart.ticks[0]["y"] == TOP + HEIGHT  # 0 on the axis' line
    assert chart.ticks[-1]["y"] == TOP  # 40 at the top
    busiest = chart.weeks[22]
    assert busiest["approvals_h"] == round(37 / 40 * HEIGHT, 1)
    assert busiest["approvals_y"] == round(TOP + HEIGHT - 37 / 40 * HEIGHT, 1)
    # Across in %: the first week starts right of the counts' labels, the last ends at 100%.
    first, last = chart.weeks[0], chart.weeks[-1]
    assert float(str(first["approvals_x"])) > LEFT
    assert float(str(last["activations_x"])) + float(str(last["width"])) < 100
    # Every fourth week back from the latest is named; the latest's label ends at the edge.
    assert [lab["text"] for lab in chart.labels] == [
        "20 Apr", "18 May", "15 Jun", "13 Jul", "10 Aug", "7 Sep", "5 Oct"]  # fmt: skip
    assert chart.labels[-1] == {"text": "5 Oct", "x": "100", "anchor": "end"}
    assert chart.title == "Approvals and activations per week, 13 Apr to 5 Oct 2026"
    assert chart.summary == (
        "26 weeks, each from a Monday: 67 approvals and 52 activations in all; the busiest "
        "week, of 14 Sep, had 37 approvals and 20 activations."
    )


def test_a_chart_of_quiet_weeks_says_so() -> None:
    chart = weekly_chart(_weeks([(0, 0)] * 26))
    assert [t["label"] for t in chart.ticks] == ["0"]
    assert {w["approvals_h"] for w in chart.weeks} == {0}
    assert chart.summary == "No approval nor activation in these 26 weeks."


def _stats(pid: int, median: int | None, p90: int | None, count: int = 10) -> ProviderStats:
    days = [None if d is None else d * D for d in (median, p90)]
    return ProviderStats(pid, f"Bank {pid}", count, Summary(count, days[0], days[1]), {})


def test_bars_are_in_percent_of_the_longest_and_a_provider_shows_once_its_median_is_known() -> None:
    bars = to_active_bars(
        [_stats(1, 4, 10), _stats(2, 8, None), _stats(3, None, None), _stats(4, 2, 5)], most=30
    )
    assert [(b["name"], b["median_pct"], b["p90_pct"]) for b in bars] == [
        ("Bank 1", 40.0, 100.0),
        ("Bank 2", 80.0, 0.0),  # no p90 yet: its median bar only
        ("Bank 4", 20.0, 50.0),
    ]


def test_bars_keep_the_providers_with_the_most_activations() -> None:
    bars = to_active_bars([_stats(1, 4, 10, count=3), _stats(2, 8, 9, count=30)], most=1)
    assert [b["name"] for b in bars] == ["Bank 2"]


def test_the_waiting_chart_marks_round_days_up_to_its_end() -> None:
    curve = Curve(times=(2 * 86400.0, 47.5 * 86400), survival=(0.5, 0.0), events=2, censored=0)
    stats = ProviderStats(1, "Bank 1", 2, Summary(2, 2 * D, 47 * D), {}, curve)
    assert curve_days([stats]) == [
        {"label": "0 d", "pct": 0.0},
        {"label": "20 d", "pct": round(20 / 47.5 * 100, 2)},
        {"label": "40 d", "pct": round(40 / 47.5 * 100, 2)},
    ]
    assert curve_days([]) == []
