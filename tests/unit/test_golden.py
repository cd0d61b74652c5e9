"""Golden files: the exact Slack payloads and emails of every event kind, compared byte for byte.

Regenerate after an intended change with `UPDATE_GOLDEN=1 pytest tests/unit/test_golden.py`,
then review the diff of tests/golden/ like code (refused when CI is set: tests/ci.py). Times are
fixed, so output is deterministic.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from app.core.digest import BlindPeriod, Digest, DigestContent, Line, Median
from app.core.quiet import CatchUp
from app.domain import BaselineSummary, Event, EventKind, NoticeKind, WatcherNotice
from app.notify.render import email_parts, slack_messages
from tests import builders
from tests.builders import NOW
from tests.ci import golden_update

GOLDEN = Path(__file__).parents[1] / "golden"


# The golden files were written with these values: keep them, or regenerate and review.
event = partial(
    builders.event,
    client_id="dc-alpha",
    requested_on=datetime(2026, 2, 10, 9, 30, tzinfo=UTC),
    observed_at=NOW,
    previous_status_since=NOW - timedelta(days=12, hours=5),
)


SUMMARY = BaselineSummary(1, NOW, 42, (("ACTIVE", 30), ("PENDING_ACTIVATION", 7), ("X", 5)))
BLIND = WatcherNotice(
    7,
    NOW,
    0,
    (),
    kind=NoticeKind.WATCHER_BLIND,
    since=NOW - timedelta(minutes=15),
    cause="flinks_auth",
    last_error="Flinks refused the credentials: POST /v3/token answered 401 <invalid_client>",
    failures=3,
)
NOTICES: dict[str, WatcherNotice] = {
    "watcher_blind": BLIND,
    "watcher_recovered": replace(
        BLIND,
        observed_at=NOW + timedelta(hours=5),
        kind=NoticeKind.WATCHER_RECOVERED,
        failures=63,
        count=4,
    ),
    "channel_failing": WatcherNotice(
        9,
        NOW,
        0,
        (),
        kind=NoticeKind.CHANNEL_FAILING,
        since=NOW - timedelta(minutes=10),
        cause="permanent",
        last_error="Slack refused the token (invalid_auth): check SLACK_BOT_TOKEN",
        failures=1,
        count=12,
        channel="slack",
    ),
    "channel_recovered": WatcherNotice(
        9,
        NOW,
        0,
        (),
        kind=NoticeKind.CHANNEL_RECOVERED,
        since=NOW - timedelta(hours=2),
        failures=24,
        count=12,
        channel="slack:#nbc",
    ),
}

_D = timedelta(days=1)
DIGEST_CONTENT = DigestContent(
    start=NOW - 7 * _D,
    end=NOW,
    zone="America/Toronto",
    moves=(("added", 2), ("status_changed", 5), ("removed", 1), ("stuck", 3)),
    activated=(
        Line("dc-alpha", "Alpha Lending", 12, "NBC", "ACTIVE", NOW - 2 * _D, 19 * _D),
        Line("dc-<!here>", "<!channel> & co", 7, "<@U024BE7LH> Bank", "ACTIVE", NOW - _D, 3 * _D),
    ),
    activated_total=23,
    pending=(
        Line("dc-beta", "Beta Credit", 7, "RBC", "PENDING_ACTIVATION", NOW - 21 * _D, 21 * _D),
        Line("dc-gamma", "Gamma Loans", 12, "NBC", "PENDING_APPROVAL", NOW - 9 * _D, 9 * _D),
    ),
    pending_total=17,
    medians=(Median(12, "NBC", 4, timedelta(days=6, hours=12)), Median(7, "RBC", 1, 3 * _D)),
    medians_total=2,
    polls=2016,
    failed_polls=14,
    blind=(
        BlindPeriod(NOW - 3 * _D, "flinks_unavailable", NOW - 3 * _D + timedelta(hours=1)),
        BlindPeriod(NOW - timedelta(hours=2), "flinks_auth"),
    ),
)
DIGESTS: dict[str, Digest] = {
    "digest": Digest(0, NOW, 0, (), digest_id=1, content=DIGEST_CONTENT),
    "digest_quiet": Digest(
        0, NOW, 0, (), digest_id=2, content=DigestContent(NOW - 7 * _D, NOW, "UTC", polls=2016)
    ),
}

CASES: dict[str, tuple[list[Event], BaselineSummary | None]] = {
    "forward": ([event()], None),
    "forward_active": ([event(from_status="PENDING_ACTIVATION", to_status="ACTIVE")], None),
    "backward": ([event(from_status="ACTIVE", to_status="PENDING_APPROVAL")], None),
    "unrecognised": ([event(from_status="ACTIVE", to_status="SUSPENDED")], None),
    "added": ([event(EventKind.ADDED, from_status=None, previous_status_since=None)], None),
    "removed": ([event(EventKind.REMOVED, to_status=None)], None),
    "reappeared": ([event(EventKind.REAPPEARED, to_status="ACTIVE")], None),
    "details_changed": (
        [
            event(
                EventKind.DETAILS_CHANGED,
                from_status="ACTIVE",
                to_status="ACTIVE",
                previous_status_since=None,
                changes=(("client_name", "Alpha Lendng", "Alpha Lending"),),
            )
        ],
        None,
    ),
    "baseline": ([], SUMMARY),
    "catch_up": (
        [
            event(),
            event(EventKind.ADDED, client_id="dc-beta", from_status=None),
            event(from_status="PENDING_ACTIVATION", to_status="ACTIVE"),
        ],
        CatchUp(1, NOW, 3, (), until=NOW),
    ),
    "stuck": (
        [event(EventKind.STUCK, from_status="PENDING_APPROVAL", to_status="PENDING_APPROVAL")],
        None,
    ),
    "stuck_poll": (
        [
            event(
                EventKind.STUCK,
                client_id=f"dc-{i}",
                provider_id=i,
                provider_name=f"Bank {i}",
                from_status=status,
                to_status=status,
                previous_status_since=NOW - timedelta(days=18 - 4 * i),
            )
            for i, status in enumerate(
                ["PENDING_ACTIVATION", "PENDING_APPROVAL", "PENDING_APPROVAL"]
            )
        ],
        None,
    ),
    **{name: ([], notice) for name, notice in NOTICES.items()},
    **{name: ([], digest) for name, digest in DIGESTS.items()},
    "hostile": (
        [
            event(
                client_name="<!channel> & <https://evil.example|click here>",
                provider_name="<@U024BE7LH> *bold* `code`",
                client_id="dc-<!here>",
                to_status="<!everyone>",
            )
        ],
        None,
    ),
    "non_ascii": (
        [event(client_name="Caisse Desjardins — Québec", provider_name="株式会社 Bank ünd Ça")],
        None,
    ),
    "poll_mixed": (
        [
            event(),
            event(EventKind.ADDED, client_id="dc-beta", from_status=None),
            event(EventKind.REMOVED, provider_id=7, provider_name="RBC", to_status=None),
        ],
        None,
    ),
    "poll_200": (
        [
            event(client_id=f"dc-{i:03d}", provider_id=i, provider_name=f"Bank {i:03d}")
            for i in range(200)
        ],
        None,
    ),
}


def check(name: str, actual: str) -> None:
    path = GOLDEN / name
    if golden_update():  # refused in CI
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} missing: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize("case", sorted(CASES))
def test_slack_golden(case: str) -> None:
    events, summary = CASES[case]
    messages = [
        {"text": m.text, "blocks": m.blocks, "event_indexes": list(m.event_indexes)}
        for m in slack_messages(events, summary)
    ]
    check(f"{case}.slack.json", json.dumps(messages, indent=1, ensure_ascii=False) + "\n")


@pytest.mark.parametrize("case", sorted(CASES))
def test_email_golden(case: str) -> None:
    parts = email_parts(*CASES[case])
    check(f"{case}.email.txt", f"Subject: {parts.subject}\n\n{parts.text}")
    check(f"{case}.email.html", parts.html + "\n")


def test_no_stray_golden_files() -> None:
    from tests.unit.test_board_render import BOARD_CASES

    expected = {
        f"{c}.{suffix}" for c in CASES for suffix in ("slack.json", "email.txt", "email.html")
    } | {f"board-{c}.slack.json" for c in BOARD_CASES}
    assert {p.name for p in GOLDEN.iterdir()} == expected
