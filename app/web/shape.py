"""What the pages show, shaped from rows: a page of the board as a grid (its filters are SQL,
app/db/boardreads.py), a timeline's time in each status, the weekly chart. Plain functions of
rows and `now`; no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from app.core.ack import Acknowledgement, holds
from app.core.ages import status_fields
from app.core.expect import Outlook, expectation_fields
from app.core.text import iso_z
from app.domain import KNOWN_STATUSES, Key

if TYPE_CHECKING:
    from app.db.attention import Attention
    from app.db.boardreads import BoardPage

Row = dict[str, object]
# Past this many providers on a page the board is a list grouped by recipient, not a grid.
GRID_MAX_PROVIDERS = 12
RECIPIENTS_PER_PAGE = 25  # at 50 providers each, 1,250 cells: the page stays well under 1 MiB


@dataclass
class Recipient:
    client_id: str
    names: list[str]  # every client_name its registrations carry, in the order read
    cells: dict[int, Row] = field(default_factory=dict)  # provider_id -> its row

    @property
    def client_name(self) -> str:
        return " / ".join(self.names)


@dataclass
class Board:
    total: int  # every registration the filters keep (what the export has)
    counts: dict[str, int]  # by status, over those registrations
    providers: list[tuple[int, str]]  # (id, name) on this page, by name
    recipients: list[Recipient]  # this page's
    grid: bool
    page: int
    pages: int


def stuck_for(row: Row, now: datetime, stuck_after: Mapping[str, timedelta]) -> bool:
    return bool(status_fields(row, now, stuck_after)["stuck"])


def board(
    found: BoardPage,
    now: datetime,
    stuck_after: Mapping[str, timedelta],
    taken: Mapping[Key, Acknowledgement] | None = None,
    expected: Mapping[int, Outlook] | None = None,
) -> Board:
    """One page of the board from its reads: the page's registrations grouped by recipient
    (in the order read), each with its days in status, whether it is stuck, and who took it
    (SPEC 12: an acknowledgement that holds now)."""
    by_client: dict[str, Recipient] = {}
    providers: dict[int, str] = {}
    for row in found.rows:
        since = row["status_since"]
        # A status_since later than now (recorded while the clock ran ahead) is 0 days, not -30.
        days = max(0, (now - since).days) if isinstance(since, datetime) else 0
        ages = status_fields(row, now, stuck_after)
        waited = ages["waiting_seconds"]
        cell = {**row, **ages, "days_in_status": days}
        # SPEC 11: how long it has waited since the request, shown on every pending cell
        cell["waiting_days"] = None if waited is None else int(str(waited)) // 86400
        cell |= expectation_fields(expected or {}, row, now)
        client_id, provider_id = str(row["client_id"]), int(str(row["provider_id"]))
        cell["taken"] = _taken((taken or {}).get((client_id, provider_id)), row, now)
        recipient = by_client.setdefault(client_id, Recipient(client_id, []))
        if (name := str(row["client_name"])) not in recipient.names:
            recipient.names.append(name)  # Flinks may name one recipient differently per bank
        recipient.cells[provider_id] = cell
        providers[provider_id] = str(row["provider_name"])
    return Board(
        total=sum(found.counts.values()),
        counts=found.counts,
        providers=sorted(providers.items(), key=lambda p: (p[1].casefold(), p[0])),
        recipients=list(by_client.values()),
        grid=len(providers) <= GRID_MAX_PROVIDERS,
        page=found.page,
        pages=max(1, -(-found.recipients // RECIPIENTS_PER_PAGE)),
    )


@dataclass
class NeedsAttention:
    """The board's first section: registrations someone should look at, each a row with its
    reasons (`stuck`, `unrecognised`), `waiting` (now - requested_on) and `taken` (who
    acknowledged it, or None); `more`: how many past the rows shown."""

    rows: list[Row]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def needs_attention(
    found: Attention,
    now: datetime,
    stuck_after: Mapping[str, timedelta],
    taken: Mapping[Key, Acknowledgement] | None = None,
    expected: Mapping[int, Outlook] | None = None,
) -> NeedsAttention:
    rows = []
    for row in found.rows:
        requested = row["requested_on"]
        waiting = now - requested if isinstance(requested, datetime) else timedelta(0)
        key = (str(row["client_id"]), int(str(row["provider_id"])))
        rows.append(
            {
                **row,
                "waiting": max(waiting, timedelta(0)),
                "stuck": stuck_for(row, now, stuck_after),
                "unrecognised": row["registration_status"] not in KNOWN_STATUSES,
                "taken": _taken((taken or {}).get(key), row, now),
                **expectation_fields(expected or {}, row, now),
            }
        )
    return NeedsAttention(rows, found.total)


def _taken(ack: Acknowledgement | None, row: Row, now: datetime) -> str | None:
    since, present = row["status_since"], row.get("present", True) is not False
    if ack is None or not isinstance(since, datetime) or not holds(ack, since, present, now):
        return None
    return ack.by + (f": {ack.note}" if ack.note else "")


AGE_FIELDS = ("waiting_seconds", "stuck", "late", "expected_active_by")
_TIMES = ("requested_on", "first_seen_at", "status_since")


def with_ages(
    records: Iterable[Sequence[object]],
    columns: Sequence[str],
    now: datetime,
    stuck_after: Mapping[str, timedelta],
    expected: Mapping[int, Outlook],
) -> Iterator[list[object]]:
    """The board's export records (times as ISO text) with SPEC 11's fields of `status`
    appended, in AGE_FIELDS order, as they are read."""
    for record in records:
        row: Row = dict(zip(columns, record, strict=True))
        for name in _TIMES:
            row[name] = datetime.fromisoformat(str(row[name]))
        ages = status_fields(row, now, stuck_after) | expectation_fields(expected, row, now)
        by = ages["expected_active_by"]
        yield [
            *record,
            *(ages[n] for n in AGE_FIELDS[:-1]),
            iso_z(by) if isinstance(by, datetime) else None,
        ]


def time_in_status(events: Sequence[Row], now: datetime) -> list[Row]:
    """Each stretch the registration spent in one status, from its events in the order they
    were recorded: status, from, until (None: still in it) and how long (never negative)."""
    stretches: list[Row] = []
    for event in events:
        to_status, at = event.get("to_status"), event["observed_at"]
        if not to_status or not isinstance(at, datetime) or event["event"] == "details_changed":
            continue
        if stretches and stretches[-1]["status"] == to_status:
            continue
        if stretches:
            stretches[-1]["until"] = at
        stretches.append({"status": to_status, "since": at, "until": None})
    for stretch in stretches:
        since, until = stretch["since"], stretch["until"]
        end = until if isinstance(until, datetime) else now
        took = end - since if isinstance(since, datetime) else timedelta(0)
        stretch["duration"] = max(took, timedelta(0))  # a clock set back: 0, never negative
    return stretches


def week_start(now: datetime) -> datetime:
    """The Monday (UTC midnight) of the week of `now`."""
    return (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


def weekly_moves(
    moves: Iterable[tuple[str, datetime]], now: datetime, weeks: int = 26
) -> list[Row]:
    """Approvals (to PENDING_ACTIVATION) and activations (to ACTIVE) per week, oldest first,
    over the last `weeks` weeks, from (to_status, observed_at) of status_changed events; a week
    starts on Monday (UTC)."""
    this_monday = week_start(now)
    starts = [this_monday - timedelta(weeks=i) for i in range(weeks - 1, -1, -1)]
    counts = {start: {"approvals": 0, "activations": 0} for start in starts}
    for to_status, observed_at in moves:
        if observed_at < starts[0]:
            continue
        week = starts[min(weeks - 1, (observed_at - starts[0]).days // 7)]
        if to_status == "PENDING_ACTIVATION":
            counts[week]["approvals"] += 1
        elif to_status == "ACTIVE":
            counts[week]["activations"] += 1
    return [{"week": start.date().isoformat(), **counts[start]} for start in starts]


def fold_quiet(polls: Sequence[Row]) -> list[Row]:
    """The polls (newest first) with each stretch of quiet ones (ok, no event, no error) as
    one row: {"quiet": how many, "first": the oldest's start, "last": the newest's start}."""
    shown: list[Row] = []
    for poll in polls:
        quiet = poll["outcome"] == "ok" and not poll["events"] and not poll["error"]
        if not quiet:
            shown.append(poll)
        elif shown and "quiet" in shown[-1]:
            stretch = shown[-1]
            stretch["quiet"] = int(str(stretch["quiet"])) + 1
            stretch["first"] = poll["started_at"]
        else:
            shown.append({"quiet": 1, "first": poll["started_at"], "last": poll["started_at"]})
    return shown
