"""The Slack board's rendering (SPEC 10), pure: golden files (regenerate with `UPDATE_GOLDEN=1
pytest tests/unit/test_board_render.py`, then review the diff), hostile upstream text escaped,
the stuck list capped, Slack's limits kept, and a digest blind to the last poll's time only."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core.expect import expect, outlooks
from app.core.report import ProviderStats, Stuck, summarise
from app.core.survival import Observation, kaplan_meier
from app.domain import EventKind
from app.notify.board_render import (
    FIGURES_SHOWN,
    STUCK_SHOWN,
    BoardFacts,
    figure_words,
    render_board,
)
from tests import builders
from tests.builders import NOW
from tests.unit.test_golden import check

ZONE = ZoneInfo("America/Toronto")
DAY = timedelta(days=1)


def stuck(n: int, **overrides: object) -> Stuck:
    reg = builders.registration(f"dc-{n:03d}", 2000 + n, **overrides)
    state = builders.stored(reg, NOW - (40 - n) * DAY)
    return Stuck(state, (40 - n) * DAY, 14 * DAY, NOW)


def figures(pid: int, ended: list[float], waiting: list[float], present: int) -> ProviderStats:
    """A provider's Kaplan-Meier figures from durations in days: activations, still waiting."""
    observed = [Observation(d * DAY.total_seconds(), True) for d in ended]
    observed += [Observation(d * DAY.total_seconds(), False) for d in waiting]
    curve = kaplan_meier(observed)
    return ProviderStats(pid, f"Bank {pid}", present, summarise(curve), {}, curve)


PROVIDERS = (
    figures(2001, [10, 12, 14, 20, 25, 30, 45, 50, 60], [5, 35], 12),
    figures(2002, [5, 6, 7, 8, 9, 10, 11, 12, 13, 14], [50], 30),  # median 10 days, p90 14
    figures(2003, [3, 4], [1], 3),  # two activations: not enough history
    figures(2004, [], [1, 2], 0),  # none present now: not listed
)
CHANGE = builders.event(observed_at=NOW - timedelta(hours=3))
LATE = builders.stored(
    builders.registration("dc-050", 2002, "PENDING_ACTIVATION", requested_on=NOW - 20 * DAY),
    NOW - 5 * DAY,
)
BOARD_CASES = {
    "empty": BoardFacts((), (), None, None),
    "typical": BoardFacts(
        (("ACTIVE", 30), ("PENDING_ACTIVATION", 7), ("PENDING_APPROVAL", 5)),
        (
            stuck(1, requested_on=NOW - 41 * DAY),  # Bank 2001: expected by a date
            stuck(2, requested_on=NOW - 45 * DAY),  # Bank 2002: late
            stuck(3, requested_on=NOW - 40 * DAY),  # Bank 2003: not enough history
        ),
        CHANGE,
        NOW - timedelta(minutes=2),
        late=(LATE,),
        now=NOW,
        providers=PROVIDERS,
        outlooks=outlooks(PROVIDERS, 0.9, 5),
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
        late=(builders.stored(builders.registration(provider_name=evil, client_name=evil)),),
        now=NOW,
        providers=(replace(PROVIDERS[0], provider_name=evil),),
    )
    board = render_board(facts, ZONE)
    rendered = json.dumps(board.blocks, ensure_ascii=False) + board.text
    assert rendered.count("&lt;!channel&gt;") >= 6  # stuck, late, figures: every name escaped
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
    later = replace(typical, last_poll=NOW)
    assert render_board(typical, ZONE).digest == render_board(later, ZONE).digest
    assert render_board(typical, ZONE).blocks != render_board(later, ZONE).blocks
    moved = BoardFacts((("ACTIVE", 31),), typical.stuck, typical.last_change, NOW)
    assert render_board(moved, ZONE).digest != render_board(typical, ZONE).digest


def board_lines(facts: BoardFacts) -> list[str]:
    board = render_board(facts, ZONE)
    return [
        line
        for block in board.blocks
        if block["type"] == "section"
        for line in block["text"]["text"].splitlines()
    ]


def test_each_listed_registration_says_when_it_is_expected_or_that_it_is_late() -> None:
    facts = BOARD_CASES["typical"]
    lines = {line.split(":")[0]: line for line in board_lines(facts) if " for Client " in line}
    outlook = facts.outlooks[2001]
    by = expect(outlook, NOW - 41 * DAY, "PENDING_APPROVAL", NOW).expected_active_by
    assert by is not None
    assert lines["• Bank 2001 for Client dc-001"].endswith(
        f" · expected by {by.astimezone(ZONE):%Y-%m-%d}"
    )
    assert lines["• Bank 2002 for Client dc-002"].endswith(" · late")
    assert lines["• Bank 2003 for Client dc-003"].endswith(" · not enough history")
    # Late but not stuck: its own list, with its waiting and its provider's limit (p90, 14 days)
    assert lines["• Bank 2002 for Client dc-050"] == (
        "• Bank 2002 for Client dc-050: PENDING_ACTIVATION, waiting 20 days (late after 14 days)"
    )
    assert render_board(facts, ZONE).text.endswith("3 stuck, 1 more late")


def test_the_providers_figures_are_the_kaplan_meier_summaries_busiest_first() -> None:
    facts = BOARD_CASES["typical"]
    lines = board_lines(facts)
    start = next(i for i, line in enumerate(lines) if line.startswith("*Time to ACTIVE per"))
    assert lines[start + 1 : start + 4] == [
        "• Bank 2002: median 10 days, p90 14 days, 10 observed, 1 still waiting",
        "• Bank 2001: median 25 days, p90 60 days, 9 observed, 2 still waiting",
        "• Bank 2003: median 3 days, p90 4 days, 2 observed, 1 still waiting"
        " (not enough history for expected dates)",
    ]
    assert "Bank 2004" not in "\n".join(lines)  # none of its registrations is present now
    never = figures(2005, [3], [40, 50, 60], 4)  # one of four ACTIVE: no median yet
    assert figure_words(never) == "fewer than half ACTIVE so far, 1 observed, 3 still waiting"


def test_three_hundred_providers_and_long_lists_stay_within_slacks_limits() -> None:
    long = "N" * 5000
    many = tuple(figures(3000 + i, [5, 6, 7, 8, 9], [3], 1 + i % 7) for i in range(300))
    many = tuple(replace(p, provider_name=long) for p in many)
    late = tuple(
        builders.stored(builders.registration(f"dc-{n}", 3000 + n, client_name=long), NOW)
        for n in range(40)
    )
    facts = BoardFacts(
        (("PENDING_APPROVAL", 340),),
        tuple(stuck(n, provider_name=long, client_name=long) for n in range(40)),
        builders.event(provider_name=long, client_name=long),
        NOW,
        late=late,
        now=NOW,
        providers=many,
        outlooks=outlooks(many, 0.9, 5),
    )
    board = render_board(facts, ZONE)
    assert len(board.blocks) <= 50
    for block in board.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    figures_text = next(
        b["text"]["text"] for b in board.blocks if "*Time to ACTIVE" in b["text"].get("text", "")
    )
    assert f"(the {FIGURES_SHOWN} busiest of 300)" in figures_text
    assert figures_text.endswith(
        f"… and {300 - FIGURES_SHOWN} more: `flinkswatch report` has them all"
    )
