"""The digest's content (app.core.digest) from plain values, its JSON round trip, the rendering's
limits, and DIGEST_SCHEDULE (app.config.schedule, Settings)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.config.schedule import cron_trigger, latest_fire
from app.config.settings import load_settings
from app.core.digest import (
    ACTIVATED_CAP,
    PENDING_CAP,
    BlindPeriod,
    Digest,
    DigestInputs,
    Line,
    Median,
    build_digest,
    from_json,
    to_json,
)
from app.core.report import HistoryRow
from app.errors import ConfigError
from app.notify.digest_render import console_digest, email_digest, sections, slack_digest
from tests.builders import event, registration, stored

END = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # Monday 09:00 in Toronto
START = END - timedelta(days=7)
D = timedelta(days=1)


def _inputs(**overrides: object) -> DigestInputs:
    fields: dict[str, object] = {"moves": {}, "activations": (), "pending": (), "history": ()}
    return DigestInputs(**(fields | overrides))  # type: ignore[arg-type]


def _activation(i: int, at: datetime) -> object:
    return event(
        client_id=f"c-{i}",
        client_name=f"Client {i:02d}",
        from_status="PENDING_ACTIVATION",
        to_status="ACTIVE",
        requested_on=at - 10 * D,
        observed_at=at,
    )


def test_moves_by_kind_in_lifecycle_order_and_zero_counts_dropped() -> None:
    moves = {"removed": 1, "status_changed": 4, "added": 2, "stuck": 0}
    content = build_digest(_inputs(moves=moves), START, END, "UTC")
    assert content.moves == (("added", 2), ("status_changed", 4), ("removed", 1))
    assert not content.quiet


def test_went_active_in_order_capped_with_the_total() -> None:
    acts = [_activation(i, START + timedelta(hours=i)) for i in range(ACTIVATED_CAP + 3)]
    content = build_digest(_inputs(activations=acts[::-1]), START, END, "UTC")
    assert content.activated_total == ACTIVATED_CAP + 3
    assert [x.client_id for x in content.activated] == [f"c-{i}" for i in range(ACTIVATED_CAP)]
    assert content.activated[0].age == 10 * D  # requested_on -> ACTIVE
    slack = slack_digest(Digest(0, END, 0, (), digest_id=1, content=content))
    assert "and 3 more" in slack.text


def test_pending_longest_waiting_first_capped_with_the_total() -> None:
    pending = [
        stored(
            registration(f"c-{i}", status="PENDING_APPROVAL", requested_on=END - i * D),
            status_since=END - i * D,
        )
        for i in range(1, PENDING_CAP + 6)
    ]
    gone = stored(registration("gone"), status_since=END - 99 * D, present=False)
    content = build_digest(_inputs(pending=[*pending, gone]), START, END, "UTC")
    assert content.pending_total == PENDING_CAP + 5
    ages = [x.age for x in content.pending]
    assert ages == sorted(ages, reverse=True)
    assert ages[0] == (PENDING_CAP + 5) * D  # its waiting, from requested_on (SPEC 11)
    assert len(content.pending) == PENDING_CAP


def test_pending_first_seen_past_approval_waits_from_its_request() -> None:
    """Deployed over a registration requested 30 days ago and first seen an hour ago in
    PENDING_ACTIVATION: the digest says waiting 30 days, in it since before today."""
    row = registration("old", status="PENDING_ACTIVATION", requested_on=END - 30 * D)
    state = stored(row, END - timedelta(hours=1), exact=False)
    content = build_digest(_inputs(pending=[state]), START, END, "UTC")
    (line,) = content.pending
    assert (line.age, line.exact) == (30 * D, False)
    text = "\n".join(x for part in sections(content, lambda v, _n=0: str(v)) for x in part.lines)
    assert "waiting 30 days (in it since before" in text
    assert "less than a minute" not in text


def test_median_time_to_active_per_provider() -> None:
    def activation(client: str, provider: int, days: int) -> list[HistoryRow]:
        requested = END - 60 * D
        return [
            HistoryRow("added", client, provider, f"Bank {provider}", None, "PENDING_APPROVAL",
                       requested, requested),
            HistoryRow("status_changed", client, provider, f"Bank {provider}", "PENDING_APPROVAL",
                       "ACTIVE", requested + days * D, requested, requested),
        ]  # fmt: skip

    history = sorted(
        activation("a", 1, 2)
        + activation("b", 1, 4)
        + activation("c", 1, 9)
        + activation("d", 2, 3),
        key=lambda r: r.observed_at,
    )
    content = build_digest(_inputs(history=history), START, END, "UTC")
    assert [(m.provider_name, m.count, m.median) for m in content.medians] == [
        ("Bank 1", 3, 4 * D),
        ("Bank 2", 1, 3 * D),
    ]


def test_a_quiet_period_says_so_and_keeps_the_watchers_record() -> None:
    content = build_digest(_inputs(polls=2016, failed_polls=0), START, END, "UTC")
    assert content.quiet
    lines = console_digest(Digest(0, END, 0, (), digest_id=1, content=content))
    assert "A quiet period: nothing moved" in lines[0]
    assert "2016 polls, 0 failed. Never blind in this period." in lines[-1]


def test_dates_people_read_are_in_the_digests_zone() -> None:
    content = build_digest(_inputs(), START, END, "America/Toronto")
    parts = email_digest(Digest(0, END, 0, (), digest_id=1, content=content))
    assert parts.subject == "flinkswatch digest: 2026-11-23 to 2026-11-30"
    assert "2026-11-23 09:00 to 2026-11-30 09:00 America/Toronto" in parts.text


def test_json_round_trip_is_exact() -> None:
    content = build_digest(
        _inputs(
            moves={"added": 1},
            activations=[_activation(1, START + D)],
            pending=[stored(registration("p"), status_since=END - 3 * D)],
            polls=5,
            failed_polls=2,
            blind=[BlindPeriod(START + D, "flinks_auth", START + D + timedelta(hours=3))],
        ),
        START,
        END,
        "America/Toronto",
    )
    assert from_json(to_json(content)) == content


def test_slack_limits_hold_with_long_hostile_names() -> None:
    evil = "<!channel> & " + "x" * 400
    acts = [
        event(client_name=evil, provider_name=evil, to_status="ACTIVE", observed_at=START + D)
        for _ in range(200)
    ]
    pending = [
        stored(registration(f"c-{i}", client_name=evil, provider_name=evil), status_since=START)
        for i in range(200)
    ]
    history = [
        HistoryRow("status_changed", f"c-{i}", i, evil, "PENDING_APPROVAL", "ACTIVE", END - D,
                   END - 5 * D, END - 5 * D)
        for i in range(200)
    ]  # fmt: skip
    blind = [BlindPeriod(START + i * timedelta(hours=1), "database") for i in range(30)]
    content = build_digest(
        _inputs(activations=acts, pending=pending, history=history, blind=blind), START, END, "UTC"
    )
    message = slack_digest(Digest(0, END, 0, (), digest_id=1, content=content))
    assert len(message.blocks) <= 50
    assert len(message.text) <= 4000
    texts = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    assert all(len(t) <= 3000 for t in texts)
    assert "<!channel>" not in message.text
    assert "<!channel>" not in "".join(texts)
    assert "&lt;!channel&gt; &amp;" in texts[1]
    assert "<!channel>" not in email_digest(Digest(0, END, 0, (), 1, content)).html


# ---- DIGEST_SCHEDULE ---------------------------------------------------------------------
def test_latest_fire_is_the_last_scheduled_time_at_or_before_now() -> None:
    toronto = ZoneInfo("America/Toronto")
    weekly = cron_trigger("0 9 * * MON", toronto)
    assert latest_fire(weekly, END) == END  # 09:00 Toronto is 14:00 UTC
    assert latest_fire(weekly, END - timedelta(seconds=1)) == END - 7 * D
    every_minute = cron_trigger("* * * * *", UTC)
    assert latest_fire(every_minute, END + timedelta(seconds=30)) == END
    yearly = cron_trigger("0 0 29 2 *", UTC)  # leap days only: beyond the look-back
    assert latest_fire(yearly, datetime(2026, 12, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize("value", ["0 9 * *", "0 25 * * *", "0 9 * * FUNDAY", "every monday"])
def test_a_bad_schedule_stops_the_start_with_one_line(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, digest_schedule=value)
    message = str(caught.value)
    assert message.startswith("DIGEST_SCHEDULE: ")
    assert "\n" not in message
    assert "5-field cron" in message


def test_an_empty_schedule_is_no_digest_and_a_good_one_is_kept() -> None:
    assert load_settings(_env_file=None, digest_schedule="").digest_schedule == ""
    kept = load_settings(_env_file=None, digest_schedule=" 0 9 * * MON ", alert_timezone="UTC")
    assert kept.digest_schedule == "0 9 * * MON"


def test_the_stored_json_is_sorted_keeps_non_ascii_and_reads_back_whole() -> None:
    from tests.unit.test_golden import DIGEST_CONTENT

    content = replace(
        DIGEST_CONTENT,
        pending=(*DIGEST_CONTENT.pending, Line("dc-q", "Québec Prêts", 9, "Caisse", "X", END, D)),
    )
    text = to_json(content)
    assert from_json(text) == content  # medians, blind periods, every line, whole
    raw = json.loads(text)
    assert list(raw) == sorted(raw)
    assert "Québec Prêts" in text  # written as is, not \\u-escaped
    assert raw["medians"][0] == {
        "provider_id": 12,
        "provider_name": "NBC",
        "count": 4,
        "median": 561600.0,  # 6 days 12 hours, in seconds
        "censored": 0,
    }
    with pytest.raises(TypeError, match="not JSON: bytes"):
        to_json(replace(content, zone=b"UTC"))  # type: ignore[arg-type]


def test_the_digest_in_full_from_its_inputs() -> None:
    late = event(
        client_id="c-9",
        provider_id=77,
        provider_name="Bank 77",
        to_status="ACTIVE",
        requested_on=END + D,  # a clock that disagreed: never a negative age
        observed_at=START + D,
    )
    # Requested after the period's end (a clock that disagreed): waiting 0, never negative.
    waiting = stored(
        registration("p", 55, "PENDING_ACTIVATION", requested_on=END + D), status_since=END + D
    )
    history = [
        # First seen at its request, ACTIVE a day later: one activation of 1 day, none waiting.
        HistoryRow("added", "a", 5, "Bank 5", None, "PENDING_APPROVAL", END - D, END - D),
        HistoryRow("status_changed", "a", 5, "Bank 5", "PENDING_APPROVAL", "ACTIVE", END, END - D),
    ]
    blind = [BlindPeriod(START + 2 * D, "b"), BlindPeriod(START + D, "a", START + 3 * D)]
    content = build_digest(
        _inputs(
            moves={"mystery": 4, "removed": 1, "added": 0, "status_changed": 2},
            activations=[late],
            pending=[waiting],
            history=history,
            polls=9,
            failed_polls=3,
            blind=blind,
        ),
        START,
        END,
        "UTC",
    )
    assert content.moves == (("status_changed", 2), ("removed", 1), ("mystery", 4))
    assert content.activated == (
        Line("c-9", "Alpha Lending", 77, "Bank 77", "ACTIVE", START + D, timedelta(0)),
    )
    assert content.pending == (
        Line("p", "Client p", 55, "Bank 55", "PENDING_ACTIVATION", END + D, timedelta(0)),
    )
    assert (content.medians, content.medians_total) == ((Median(5, "Bank 5", 1, D),), 1)
    assert (content.polls, content.failed_polls) == (9, 3)
    assert content.blind == (blind[1], blind[0])  # by when each began


def test_medians_are_of_the_window_and_count_the_ones_still_waiting() -> None:
    """Activations that ended more than MEDIAN_WINDOW (90 days) before the digest are left out;
    a registration still waiting at the end counts as censored in its provider's estimate."""

    def added(client: str, at: datetime) -> HistoryRow:
        return HistoryRow("added", client, 5, "Bank 5", None, "PENDING_APPROVAL", at, at)

    def activated(client: str, requested: datetime, days: int) -> HistoryRow:
        at = requested + days * D
        return HistoryRow(
            "status_changed", client, 5, "Bank 5", "PENDING_APPROVAL", "ACTIVE", at, requested
        )

    old, recent, waiting = END - 200 * D, END - 20 * D, END - 30 * D
    history = sorted(
        [
            added("old", old),
            activated("old", old, 50),  # ACTIVE 150 days before the end
            added("new", recent),
            activated("new", recent, 4),
            added("wait", waiting),
        ],
        key=lambda r: r.observed_at,
    )
    content = build_digest(_inputs(history=history), START, END, "UTC")
    assert content.medians == (Median(5, "Bank 5", 1, 4 * D, censored=1),)


def test_stored_json_keeps_an_inexact_stay_and_censored_counts_and_reads_older_rows() -> None:
    """What the digests table holds reads back whole; a row written before `exact` and
    `censored` existed reads as an exact stay and none censored."""
    line = Line("dc-p", "Client p", 9, "Bank 9", "PENDING_ACTIVATION", END - D, 30 * D, False)
    median = Median(9, "Bank 9", 4, 6 * D, censored=3)
    content = replace(
        build_digest(_inputs(), START, END, "UTC"),
        pending=(line,),
        pending_total=1,
        medians=(median,),
        medians_total=1,
    )
    assert from_json(to_json(content)) == content
    raw = json.loads(to_json(content))
    del raw["pending"][0]["exact"], raw["medians"][0]["censored"]
    older = from_json(json.dumps(raw))
    assert older.pending == (replace(line, exact=True),)
    assert older.medians == (replace(median, censored=0),)
