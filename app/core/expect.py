"""PURE: expected and late (SPEC 11). For a provider with at least EXPECT_MIN_ACTIVATIONS
activations observed, a registration waiting w is expected by requested_on + the smallest t >= w
with S(t) <= S(w) / 2 (half of those that waited as long were ACTIVE by then), and is late once
w passes the LATE_AFTER quantile of the provider's time to ACTIVE. Below the minimum: neither."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core.ages import duration_words
from app.core.report import ProviderStats
from app.core.survival import Curve
from app.domain import ACTIVE


@dataclass(frozen=True, slots=True)
class Outlook:
    """One provider's expectations, folded once from its Kaplan-Meier curve."""

    provider_name: str
    curve: Curve
    enough: bool  # at least EXPECT_MIN_ACTIVATIONS activations observed
    late_seconds: float | None  # the LATE_AFTER quantile; None: nothing is late
    late_after: float | None  # LATE_AFTER as a quantile (0.9)

    @property
    def reason(self) -> str:
        """Why a late one is late: "slower than 90% of NBC's activations (median 12 days, 40
        observed)"."""
        share = round((self.late_after or 0) * 100)
        median = self.curve.quantile(0.5)
        said = "no median yet" if median is None else f"median {_words(median)}"
        return (
            f"slower than {share}% of {self.provider_name}'s activations"
            f" ({said}, {self.curve.events} observed)"
        )


@dataclass(frozen=True, slots=True)
class Expectation:
    expected_active_by: datetime | None
    late: bool
    enough: bool  # False: "not enough history"


NONE = Expectation(None, False, False)


def outlooks(
    stats: Iterable[ProviderStats], late_after: float | None, min_activations: int
) -> dict[int, Outlook]:
    """provider_id -> its outlook, from the report's statistics."""
    found = {}
    for p in stats:
        enough = p.curve.events >= min_activations
        late = p.curve.quantile(late_after) if enough and late_after is not None else None
        found[p.provider_id] = Outlook(p.provider_name, p.curve, enough, late, late_after)
    return found


def expect(
    outlook: Outlook | None, requested_on: datetime, status: str, now: datetime
) -> Expectation:
    """The expectation of one registration (NONE once ACTIVE or without enough history)."""
    if outlook is None or status == ACTIVE:
        return NONE
    if not outlook.enough:
        return Expectation(None, False, False)
    waited = max(0.0, (now - requested_on).total_seconds())
    median = outlook.curve.conditional_median(waited)
    expected = None if median is None else requested_on + _ago(median)
    late = outlook.late_seconds is not None and waited > outlook.late_seconds
    return Expectation(expected, late, True)


def expectation_fields(
    found: Mapping[int, Outlook], row: Mapping[str, object], now: datetime
) -> dict[str, object]:
    """`late` and `expected_active_by` of a `flinkswatch status` row (SPEC 4, 11)."""
    requested = row["requested_on"]
    if not isinstance(requested, datetime):
        raise TypeError("requested_on is not a datetime")
    outlook = found.get(int(str(row["provider_id"])))
    seen = expect(outlook, requested, str(row["registration_status"]), now)
    return {"late": seen.late, "expected_active_by": seen.expected_active_by}


def outlook_sentence(
    outlook: Outlook | None, name: str, requested_on: datetime, status: str, now: datetime
) -> str:
    """What the timeline says (SPEC 11): "NBC activates in a median of 12 days (40 observed);
    this one is expected by 2026-12-08", "...; this one is late: slower than ...", or "not
    enough history"."""
    if outlook is None or not outlook.enough:
        return f"Not enough history of {name}'s activations yet to say when it is expected."
    median = outlook.curve.quantile(0.5)
    said = (
        f"{name} activates in a median of {_words(median)}"
        if median is not None
        else f"Fewer than half of {name}'s registrations have activated so far"
    )
    said += f" ({outlook.curve.events} observed)"
    seen = expect(outlook, requested_on, status, now)
    if status == ACTIVE:
        return said + "."
    if seen.late:
        return f"{said}; this one is late: {outlook.reason}."
    if seen.expected_active_by is None:
        return f"{said}; no expected date for this one yet."
    return f"{said}; this one is expected by {seen.expected_active_by:%Y-%m-%d}."


def late_thresholds(found: Mapping[int, Outlook]) -> dict[int, timedelta]:
    """provider_id -> the waiting past which its registrations are late (the reminders' read)."""
    return {
        pid: timedelta(seconds=o.late_seconds)
        for pid, o in found.items()
        if o.late_seconds is not None
    }


def _ago(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def _words(seconds: float) -> str:
    return duration_words(timedelta(seconds=seconds))
