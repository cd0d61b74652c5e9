"""The Kaplan-Meier estimator of app.core.survival: hand-checked values, and agreement with
statsmodels' SurvfuncRight (an independent implementation, test-only) on random samples with
right censoring and left truncation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.duration.survfunc import SurvfuncRight

from app.core.survival import EMPTY, Observation, Sample, kaplan_meier

GOLDEN = [(3, True), (5, False), (6, True), (7, True), (8, False), (10, True), (12, True)]
GOLDEN.append((12, False))


def test_golden_values_by_hand() -> None:
    curve = kaplan_meier(Observation(d, e) for d, e in GOLDEN)
    assert curve.at(2.9) == 1.0
    assert curve.at(3) == pytest.approx(0.875)
    assert curve.at(5) == pytest.approx(0.875)  # a censoring is no step
    assert curve.at(6) == pytest.approx(35 / 48)
    assert curve.at(7) == pytest.approx(0.583, abs=5e-4)
    assert curve.quantile(0.5) == 10
    assert (curve.events, curve.censored) == (5, 3)


def test_median_is_the_first_duration_at_or_below_one_half() -> None:
    # 4 events out of 4: S = 0.75, 0.5, 0.25, 0 -> the median is where S reaches exactly 0.5.
    curve = kaplan_meier(Observation(d, True) for d in (1, 2, 3, 4))
    assert curve.quantile(0.5) == 2
    assert curve.quantile(0.9) == 4


def test_a_curve_that_never_falls_far_enough_has_no_quantile() -> None:
    # The slow ones are still waiting: censored, they keep the curve above one half.
    curve = kaplan_meier([Observation(1, True), *(Observation(100, False) for _ in range(3))])
    assert curve.at(1) == pytest.approx(0.75)
    assert curve.quantile(0.5) is None
    assert curve.conditional_median(50) is None


def test_left_truncation_keeps_late_entries_out_of_early_risk_sets() -> None:
    # B was first seen at 5 (entry): it was not at risk at 2, so S(2) = 1 - 1/1, not 1 - 1/2.
    curve = kaplan_meier([Observation(2, True), Observation(9, True, entry=5)])
    assert curve.at(2) == 0.0
    untruncated = kaplan_meier([Observation(2, True), Observation(9, True)])
    assert untruncated.at(2) == 0.5


def test_observations_never_at_risk_under_watch_are_left_out() -> None:
    assert kaplan_meier([Observation(5, True, entry=5), Observation(3, False, entry=4)]) == EMPTY


def test_conditional_median_halves_the_survival_at_the_waiting() -> None:
    curve = kaplan_meier(Observation(d, True) for d in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
    # S(4) = 0.6: half of it, 0.3, is reached at 7.
    assert curve.conditional_median(4) == 7
    assert curve.conditional_median(0) == curve.quantile(0.5) == 5


def test_a_sample_iterates_as_the_observations_added_and_estimates_alike() -> None:
    """Sample (the fold's columns of floats) gives back each observation as added, the event a
    bool, and its estimate is the estimate of those observations."""
    sample = Sample()
    for duration, event, entry in [(3.0, True, 0.0), (5.0, False, 1.0), (6.0, True, 2.5)]:
        sample.add(duration, event, entry)
    observations = list(sample)
    assert observations == [
        Observation(3.0, True, 0.0),
        Observation(5.0, False, 1.0),
        Observation(6.0, True, 2.5),
    ]
    assert [type(o) for o in observations] == [Observation] * 3
    assert [type(o.event) for o in observations] == [bool] * 3
    assert len(sample) == 3
    assert kaplan_meier(iter(sample)) == kaplan_meier(sample) == kaplan_meier(observations)
    curve = kaplan_meier(sample)
    assert (curve.times, curve.events, curve.censored) == ((3.0, 6.0), 2, 1)
    assert curve.at(5) == pytest.approx(2 / 3)  # 1 of 3 at risk at 3; the one left ends at 6


_SAMPLE = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=30),  # entry
        st.integers(min_value=1, max_value=30),  # time after entry
        st.booleans(),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(_SAMPLE)
def test_agrees_with_statsmodels_on_censored_truncated_samples(
    sample: list[tuple[int, int, bool]],
) -> None:
    observations = [Observation(float(e + d), ev, float(e)) for e, d, ev in sample]
    curve = kaplan_meier(observations)
    time = np.array([o.duration for o in observations])
    status = np.array([1 if o.event else 0 for o in observations])
    entry = np.array([o.entry for o in observations])
    if not status.any():
        assert curve.times == ()
        return
    oracle = SurvfuncRight(time, status, entry=entry)
    assert curve.times == tuple(oracle.surv_times)
    for t in range(0, 62):
        expected = _oracle_at(oracle, t)
        assert curve.at(t) == pytest.approx(expected, abs=1e-9), t
    for q in (0.5, 0.9):
        assert curve.quantile(q) == _oracle_quantile(oracle, q)


def _oracle_at(oracle: SurvfuncRight, t: float) -> float:
    times, probs = oracle.surv_times, oracle.surv_prob
    before = [p for s, p in zip(times, probs, strict=True) if s <= t]
    return float(before[-1]) if before else 1.0


def _oracle_quantile(oracle: SurvfuncRight, q: float) -> float | None:
    """The smallest time at which the oracle's curve is at or below 1 - q (our convention,
    "falls to 0.5 or below"). SurvfuncRight.quantile uses SAS's strict `<`, which differs only
    where the curve lands exactly on 1 - q: checked apart, so the two are known to differ
    there and nowhere else."""
    at_or_below = [
        float(t)
        for t, p in zip(oracle.surv_times, oracle.surv_prob, strict=True)
        if p <= 1 - q + 1e-12
    ]
    strict = float(oracle.quantile(q))
    if not any(abs(p - (1 - q)) < 1e-12 for p in oracle.surv_prob):
        assert (at_or_below[0] if at_or_below else None) == (None if math.isnan(strict) else strict)
    return at_or_below[0] if at_or_below else None


def test_the_conventions_at_their_boundaries() -> None:
    """ "Falls to 0.5 or below" (SPEC 11) at the instant it reaches 0.5 exactly; a start inside
    a step; durations under a second; a conditional median once the curve is at 0 is now."""
    day = 86400.0
    curve = kaplan_meier([Observation(day, True), Observation(2 * day, True)])  # 0.5, then 0
    assert curve.quantile(0.5) == day  # reached exactly at 1 day, not the next step
    assert curve.first_below(0.5) == day  # "or below": a step onto the level itself
    assert curve.first_below(0.5, day) == day  # a start at which it is already there
    assert curve.conditional_median(3 * day) == 3 * day  # at 0 already: expected now
    assert kaplan_meier([Observation(0.5, True)]).quantile(0.5) == 0.5  # under a second
