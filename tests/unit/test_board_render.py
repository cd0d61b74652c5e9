"""The Slack board's rendering (SPEC 10), pure: golden files (regenerate with `UPDATE_GOLDEN=1
pytest tests/unit/test_board_render.py`, then review the diff), hostile upstream text escaped,
the stuck list capped, Slack's limits kept, and a digest blind to the last poll's time only."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core.report import Stuck
from app.domain import EventKind
from app.notify.board_render import STUCK_SHOWN, BoardFacts, render_board
from tests import builders
from tests.builders import NOW
from tests.unit.test_golden import check

ZONE = ZoneInfo("America/Toronto")
DAY = timedelta(days=1)


def stuck(n: int, **overrides: object) -> Stuck:
    reg = builders.registration(f"dc-{n:03d}", 2000 + n, **overrides)
    state = builders.stored(reg, NOW - (40 - n) * DAY)
    return Stuck(state, (40 - n) * DAY, 14 * DAY, NOW)


CHANGE = builders.event(observed_at=NOW - timedelta(hours=3))
BOARD_CASES = {
    "empty": BoardFacts((), (), None, None),
    "typical": BoardFacts(
        (("ACTIVE", 30), ("PENDING_ACTIVATION", 7), ("PENDING_APPROVAL", 5)),
        (stuck(1), stuck(2)),
        CHANGE,
        NOW - timedelta(minutes=2),
    ),
    "many_stuck": BoardFacts(
        (("PENDING_APPROVAL", 30),),
        tuple(stuck(n) for n in range(30)),
        builders.event(EventKind.ADDED, from_status=None, observed_at=NOW),
        NOW,
    ),
}


@pytest.mark.parametrize("case", sorted(BOARD_CASES))
def test_board_golden(case: str) -> None:
    board = render_board(BOARD_CASES[case], ZONE)
    payload = {"text": board.text, "blocks": board.blocks, "digest": board.digest}
    check(f"board-{case}.slack.json", json.dumps(payload, indent=1, ensure_ascii=False) + "\n")


def test_the_stuck_list_is_capped_longest_first_and_says_how_many_more() -> None:
    board = render_board(BOARD_CASES["many_stuck"], ZONE)
    text = board.blocks[2]["text"]["text"]
    assert text.count("\n• ") == STUCK_SHOWN
    assert text.endswith(f"… and {30 - STUCK_SHOWN} more")
    assert text.index("dc-000") < text.index("dc-001")  # as given: longest first


def test_hostile_upstream_text_is_escaped() -> None:
    evil = "<!channel> & <https://x.example|click>"
    facts = BoardFacts(
        ((evil, 1),),
        (stuck(1, provider_name=evil, client_name=evil, registration_status=evil),),
        builders.event(provider_name=evil, client_name=evil, to_status=evil),
        NOW,
    )
    board = render_board(facts, ZONE)
    rendered = json.dumps(board.blocks, ensure_ascii=False) + board.text
    assert "<!channel>" not in rendered
    assert "<https" not in rendered
    assert "&lt;!channel&gt; &amp; &lt;https://x.example|click&gt;" in rendered


def test_huge_values_stay_within_slacks_limits() -> None:
    long = "N" * 5000
    facts = BoardFacts(
        tuple((f"{long}{i}", i) for i in range(100)),
        tuple(stuck(n, provider_name=long, client_name=long) for n in range(40)),
        builders.event(provider_name=long, client_name=long),
        NOW,
    )
    board = render_board(facts, ZONE)
    assert len(board.blocks) <= 50
    assert len(board.text) < 4000
    for block in board.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000


def test_the_digest_ignores_the_last_polls_time_only() -> None:
    typical = BOARD_CASES["typical"]
    later = BoardFacts(typical.counts, typical.stuck, typical.last_change, NOW)
    assert render_board(typical, ZONE).digest == render_board(later, ZONE).digest
    assert render_board(typical, ZONE).blocks != render_board(later, ZONE).blocks
    moved = BoardFacts((("ACTIVE", 31),), typical.stuck, typical.last_change, NOW)
    assert render_board(moved, ZONE).digest != render_board(typical, ZONE).digest
