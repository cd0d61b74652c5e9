"""The Slack board's Kaplan-Meier figures (SPEC 10, 11) over a real database (SQLite and
PostgreSQL): on one history, the board's time to ACTIVE per provider is the one `report`, the
digest and /providers give; each listed registration says when it is expected or that it is
late; and the curves are folded once per new event (or hour), not at every cycle's board."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.core.digest import build_digest
from app.core.expect import expect
from app.core.report import ProviderStats
from app.db import engine as db
from app.db.board import BoardTable
from app.db.digests import DigestTable
from app.db.reports import load_report
from app.db.tables import poll_runs, registration_events, registrations
from app.db.webreads import WebReads
from app.notify.board_render import figure_words
from app.watch.boardwatch import REFRESH, BoardWatch
from tests.builders import FakeClock

D = timedelta(days=1)
# The history ends now: /providers folds it at the wall clock's now, like `run`.
NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - 40 * D  # the baseline poll
RULES = {"PENDING_APPROVAL": 7 * D, "PENDING_ACTIVATION": 60 * D}
PA, PACT, ACTIVE = "PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE"
NAMES = {2000: "NBC", 3000: "Chase"}


def _history() -> list[tuple[str, int, datetime, list[tuple[str, str | None, str | None, int]]]]:
    """client, provider, requested_on, [(event, from, to, day after T0)]."""
    found: list[tuple[str, int, datetime, list[tuple[str, str | None, str | None, int]]]] = []
    for i in range(20):  # NBC: twenty activated 4 to 23 days after the request
        moves: list[tuple[str, str | None, str | None, int]] = [("added", None, PA, i % 10)]
        moves.append(("status_changed", PA, PACT, i % 10 + 2))
        moves.append(("status_changed", PACT, ACTIVE, i % 10 + 4 + i))
        found.append((f"n{i:02d}", 2000, T0 + (i % 10) * D, moves))
    for i in (20, 21):  # two waiting for 40 and 39 days: over NBC's p90 (23 days), late
        found.append(
            (
                f"n{i}",
                2000,
                T0 + (i - 20) * D,
                [("added", None, PA, i - 20), ("status_changed", PA, PACT, i - 18)],
            )
        )
    found.append(("n22", 2000, T0 + 30 * D, [("added", None, PA, 30)]))  # stuck at 10 days
    for i in range(5):  # Chase: two activated, two waiting, one removed while waiting
        moves = [("baseline", None, PA, 0)]
        if i < 2:
            moves.append(("status_changed", PA, ACTIVE, 10 + 5 * i))
        if i == 4:
            moves.append(("removed", PA, None, 12))
        found.append((f"c{i}", 3000, T0 - (3 + i) * D, moves))
    return found


def _seed(engine: sa.Engine) -> None:
    events: list[dict[str, Any]] = []
    states = []
    for client, provider, requested, moves in _history():
        common = {
            "client_id": client,
            "client_name": f"Client {client}",
            "provider_id": provider,
            "provider_name": NAMES[provider],
            "country": "CA",
            "requested_on": requested,
        }
        since = None
        for kind, frm, to, day in moves:
            at = T0 + day * D
            events.append(
                common
                | {"poll_id": 1, "event": kind, "from_status": frm, "to_status": to}
                | {"observed_at": at, "previous_status_since": since}
            )
            since = requested if frm is None and to == PA else at  # SPEC 11: since the request
        kind, frm, to, day = moves[-1]
        states.append(
            common
            | {"registration_status": to or frm, "first_seen_at": T0 + moves[0][3] * D}
            | {"status_since": since, "present": kind != "removed"}
            | {"missing_polls": 0, "status_since_exact": True}
        )
    events.sort(key=lambda e: e["observed_at"])
    with engine.begin() as conn:
        conn.execute(
            poll_runs.insert(), [{"id": 1, "started_at": T0, "finished_at": NOW, "outcome": "ok"}]
        )
        conn.execute(registration_events.insert(), events)
        conn.execute(registrations.insert(), states)


@pytest.fixture
def seeded(db_url: str) -> Iterator[sa.Engine]:
    engine = db.make_engine(db_url)
    db.migrate(engine)
    _seed(engine)
    yield engine
    engine.dispose()


@dataclass
class Poster:
    """A Slack bot's board calls, kept (app.watch.boardwatch.BoardPoster)."""

    name: str = "slack"
    channel: str = "#partners"
    min_interval: float = 0.0
    posted: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)

    def post_board(self, text: str, blocks: list[dict[str, Any]]) -> tuple[str, str]:
        self.posted.append((text, blocks))
        return "C1", f"1.{len(self.posted)}"

    def update_board(self, channel_id: str, ts: str, text: str, blocks: list[Any]) -> None:
        self.posted.append((text, blocks))

    def pin(self, channel_id: str, ts: str) -> None:
        pass


class CountingTable(BoardTable):
    """The real table, counting the folds of the history."""

    folds = 0

    def provider_stats(self, now: datetime) -> tuple[ProviderStats, ...]:
        self.folds += 1
        return super().provider_stats(now)


def _watch(engine: sa.Engine, clock: FakeClock) -> tuple[BoardWatch, CountingTable, Poster]:
    table, poster = CountingTable(engine), Poster()
    watch = BoardWatch(table, [poster], RULES, UTC, clock, clock.sleep, late_after=0.9)
    watch.min_activations = 2
    return watch, table, poster


def _lines(poster: Poster) -> list[str]:
    _text, blocks = poster.posted[-1]
    return [
        line
        for block in blocks
        if block["type"] == "section"
        for line in block["text"]["text"].splitlines()
    ]


def _summary(p: ProviderStats) -> tuple[str, int, int, timedelta | None, timedelta | None]:
    s = p.to_active
    return (p.provider_name, s.count, s.censored, s.median, s.p90)


def test_the_boards_figures_are_those_of_report_digest_and_providers(
    seeded: sa.Engine,
) -> None:
    watch, _table, poster = _watch(seeded, FakeClock(NOW))
    watch(None)
    lines = _lines(poster)
    start = lines.index(
        "*Time to ACTIVE per provider*, from the request, counting those still waiting"
    )
    shown = lines[start + 1 : start + 3]

    report = load_report(seeded, NOW, RULES).providers
    assert [f"• {p.provider_name}: {figure_words(p)}" for p in report] == sorted(shown)
    assert {_summary(p) for p in report} == {_summary(p) for p in watch.figures(NOW).providers}
    nbc = next(p for p in report if p.provider_name == "NBC")
    assert (nbc.to_active.count, nbc.to_active.censored) == (20, 3)  # the waiting ones count
    # /providers folds at the wall clock's now, a moment later: the same figures
    web = WebReads(seeded, RULES).provider_stats()
    assert {_summary(p) for p in web} == {_summary(p) for p in report}
    # the digest's medians (its last 90 days hold the whole history here)
    content = build_digest(DigestTable(seeded).inputs(T0, NOW), T0, NOW, "UTC")
    assert {(m.provider_name, m.count, m.censored, m.median) for m in content.medians} == {
        (p.provider_name, p.to_active.count, p.to_active.censored, p.to_active.median)
        for p in report
        if p.to_active.median is not None
    }


def test_stuck_and_late_registrations_say_when_they_are_expected(seeded: sa.Engine) -> None:
    watch, _table, poster = _watch(seeded, FakeClock(NOW))
    watch(None)
    lines = _lines(poster)
    nbc = [line for line in lines if line.startswith("• NBC for Client n")]
    outlook = watch.figures(NOW).outlooks[2000]
    by = expect(outlook, T0 + 30 * D, PA, NOW).expected_active_by
    assert by is not None
    assert nbc == [
        # n22: PENDING_APPROVAL for 10 days, over the 7 allowed: stuck, and when half of NBC's
        # registrations that waited as long were ACTIVE
        f"• NBC for Client n22: PENDING_APPROVAL for 10 days (allowed 7 days) · expected by"
        f" {by:%Y-%m-%d}",
        # n20, n21: not stuck (60 days allowed), but waiting past NBC's p90 of 23 days: late
        "• NBC for Client n20: PENDING_ACTIVATION, waiting 40 days (late after 23 days)",
        "• NBC for Client n21: PENDING_ACTIVATION, waiting 39 days (late after 23 days)",
    ]
    chase = [line for line in lines if line.startswith("• Chase for Client c")]
    # c2, c3: PENDING_APPROVAL since their request: stuck. Chase's curve never falls to a
    # half (two of the five activated): no expected date, nothing late there.
    assert chase == [
        "• Chase for Client c3: PENDING_APPROVAL for 46 days (allowed 7 days)",
        "• Chase for Client c2: PENDING_APPROVAL for 45 days (allowed 7 days)",
    ]
    assert "• Chase: fewer than half ACTIVE so far, 2 observed, 3 still waiting" in lines
    assert poster.posted[-1][0].endswith("3 stuck, 2 more late")


def test_the_curves_are_folded_once_per_new_event_not_per_board(seeded: sa.Engine) -> None:
    clock = FakeClock(NOW)
    watch, table, _poster = _watch(seeded, clock)
    for _ in range(3):  # three cycles with nothing new
        watch(None)
        clock.advance(minutes=5)
    assert table.folds == 1
    reminder = {
        "client_id": "n20",
        "client_name": "Client n20",
        "provider_id": 2000,
        "provider_name": "NBC",
        "country": "CA",
        "requested_on": T0,
        "poll_id": 1,
        "event": "stuck",
        "observed_at": clock(),
    }
    with seeded.begin() as conn:
        conn.execute(registration_events.insert(), [reminder])  # changes no time to ACTIVE
    watch(None)
    assert table.folds == 1
    moved = reminder | {"event": "status_changed", "from_status": PACT, "to_status": ACTIVE}
    with seeded.begin() as conn:
        conn.execute(registration_events.insert(), [moved])
    watch(None)
    watch(None)
    assert table.folds == 2
    assert watch.figures(clock()).providers[1].to_active.count == 21  # NBC: n20 counted
    clock.advance(seconds=REFRESH.total_seconds())  # the waits have grown: folded again
    watch(None)
    assert table.folds == 3


def test_only_the_shown_ones_are_read_with_how_many_in_all(engine: sa.Engine) -> None:
    def state(client: str, status: str, days: int, exact: bool = True) -> dict[str, Any]:
        requested = NOW - days * D
        return {
            "client_id": client,
            "client_name": f"Client {client}",
            "provider_id": 5000,
            "provider_name": "Desjardins",
            "country": "CA",
            "registration_status": status,
            "requested_on": requested,
            "first_seen_at": NOW - 2 * D,
            "status_since": requested if exact else NOW - 2 * D,
            "present": True,
            "missing_polls": 0,
            "status_since_exact": exact,
        }

    rows = [state(f"s{i:02d}", PA, 10 + (i * 7) % 20, exact=i % 3 != 0) for i in range(20)]
    rows += [state(f"l{i:02d}", PACT, 3 + (i * 5) % 18) for i in range(18)]
    rows.append(state("gone", PA, 90) | {"present": False})
    with engine.begin() as conn:
        conn.execute(registrations.insert(), rows)
    facts = BoardTable(engine).board_facts(NOW, RULES, {5000: 2 * D})
    assert (facts.stuck_count, facts.late_count) == (20, 18)
    everything = load_report(engine, NOW, RULES).stuck  # every stuck one, longest first
    assert len(everything) == 20
    assert [s.state.key for s in facts.stuck] == [s.state.key for s in everything[:15]]
    assert [s.registration.requested_on for s in facts.late] == sorted(
        NOW - (3 + (i * 5) % 18) * D for i in range(18)
    )[:15]
    assert {s.key[0][0] for s in facts.late} == {"l"}  # the stuck ones are not listed again
