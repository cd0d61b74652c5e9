"""app.core.latelimits: when the late limits folded earlier still stand (reused instead of a
new fold of the whole history), and what a fold keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.core.latelimits import LateLimits, fold_limits, still_stands
from app.core.report import HistoryRow, stats_by_provider

T0 = datetime(2026, 12, 1, tzinfo=UTC)
KEPT = LateLimits(T0, 0.9, 5, {})


@pytest.mark.parametrize(
    ("now", "late_after", "min_activations", "stands"),
    [
        (T0, 0.9, 5, True),  # just folded
        (T0 + timedelta(minutes=59, seconds=59), 0.9, 5, True),
        (T0 + timedelta(hours=1), 0.9, 5, False),  # an hour old: folded again
        (T0 - timedelta(seconds=1), 0.9, 5, False),  # the clock was set back
        (T0 + timedelta(minutes=1), 0.8, 5, False),  # LATE_AFTER changed
        (T0 + timedelta(minutes=1), 0.9, 6, False),  # EXPECT_MIN_ACTIVATIONS changed
    ],
)
def test_kept_limits_stand_for_an_hour_under_the_same_settings(
    now: datetime, late_after: float, min_activations: int, stands: bool
) -> None:
    assert still_stands(KEPT, now, late_after, min_activations) is stands


def test_a_refresh_of_zero_never_reuses() -> None:
    assert not still_stands(KEPT, T0, 0.9, 5, timedelta(0))


def test_a_fold_keeps_each_limit_with_its_reason_and_its_settings() -> None:
    requested = T0 - timedelta(days=30)
    history = [
        HistoryRow("baseline", c, 7, "NBC", None, "PENDING_APPROVAL", T0, requested)
        for c in "abcdefghijk"
    ]
    history += [
        HistoryRow("status_changed", c, 7, "NBC", "PENDING_APPROVAL", "ACTIVE",
                   T0 + timedelta(days=i + 1), requested)
        for i, c in enumerate("abcdefghij")
    ]  # fmt: skip
    now = T0 + timedelta(days=20)
    kept = fold_limits(stats_by_provider(history, {7: ("NBC", 11)}, now), 0.9, 5, now)
    assert (kept.computed_at, kept.late_after, kept.min_activations) == (now, 0.9, 5)
    limit, reason = kept.limits[7]
    assert limit == timedelta(days=40)  # S falls to 1/11 at the tenth activation, day 30 + 10
    assert reason == "slower than 90% of NBC's activations (median 36 days, 10 observed)"
    assert fold_limits(stats_by_provider(history, {}, now), 0.9, 11, now).limits == {}
