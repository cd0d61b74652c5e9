"""What the pages show, shaped from rows: the board's filters and grid, a timeline's time in
each status, the weekly chart. Plain functions of rows and `now`; no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.core.report import HistoryRow

Row = dict[str, object]
# Past this many providers in view the board is a list grouped by recipient, not a grid.
GRID_MAX_PROVIDERS = 12
RECIPIENTS_PER_PAGE = 50


@dataclass(frozen=True, slots=True)
class BoardQuery:
    """The board's query string; empty means "any"."""

    status: str = ""
    country: str = ""
    provider: str = ""
    client: str = ""
    stuck: bool = False
    q: str = ""
    page: int = 1


@dataclass
class Recipient:
    client_id: str
    client_name: str
    cells: dict[int, Row] = field(default_factory=dict)  # provider_id -> its row


@dataclass
class Board:
    rows: list[Row]  # every registration the filters keep (what the export has)
    counts: dict[str, int]  # by status, over those rows
    providers: list[tuple[int, str]]  # (id, name) in view, by name
    recipients: list[Recipient]  # this page's
    grid: bool
    page: int
    pages: int


def stuck_for(row: Row, now: datetime, stuck_after: Mapping[str, timedelta]) -> bool:
    allowed = stuck_after.get(str(row["registration_status"]))
    since = row["status_since"]
    return allowed is not None and isinstance(since, datetime) and now - since > allowed


def keep(row: Row, query: BoardQuery, stuck: bool) -> bool:
    """The filters of the query string that queries.Filters does not have."""
    if query.country and str(row["country"]).lower() != query.country.lower():
        return False
    if query.client and query.client not in (row["client_id"], row["client_name"]):
        return False
    if query.stuck and not stuck:
        return False
    if query.q:
        needle = query.q.casefold()
        fields = ("client_id", "client_name", "provider_name", "country")
        return any(needle in str(row[name]).casefold() for name in fields)
    return True


def board(
    rows: Sequence[Row], query: BoardQuery, now: datetime, stuck_after: Mapping[str, timedelta]
) -> Board:
    kept = []
    for row in rows:
        stuck = stuck_for(row, now, stuck_after)
        if keep(row, query, stuck):
            since = row["status_since"]
            days = (now - since).days if isinstance(since, datetime) else 0
            kept.append({**row, "stuck": stuck, "days_in_status": days})
    by_client: dict[str, Recipient] = {}
    providers: dict[int, str] = {}
    for row in kept:
        client_id, provider_id = str(row["client_id"]), int(str(row["provider_id"]))
        recipient = by_client.setdefault(client_id, Recipient(client_id, str(row["client_name"])))
        recipient.cells[provider_id] = row
        providers[provider_id] = str(row["provider_name"])
    recipients = list(by_client.values())
    pages = max(1, -(-len(recipients) // RECIPIENTS_PER_PAGE))
    page = min(max(1, query.page), pages)
    start = (page - 1) * RECIPIENTS_PER_PAGE
    return Board(
        rows=kept,
        counts=dict(sorted(Counter(str(r["registration_status"]) for r in kept).items())),
        providers=sorted(providers.items(), key=lambda p: (p[1].casefold(), p[0])),
        recipients=recipients[start : start + RECIPIENTS_PER_PAGE],
        grid=len(providers) <= GRID_MAX_PROVIDERS,
        page=page,
        pages=pages,
    )


def time_in_status(events: Sequence[Row], now: datetime) -> list[Row]:
    """Each stretch the registration spent in one status, from its events: status, from,
    until (None: still in it) and how long."""
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
        stretch["duration"] = end - since if isinstance(since, datetime) else timedelta(0)
    return stretches


def weekly_moves(history: Sequence[HistoryRow], now: datetime, weeks: int = 26) -> list[Row]:
    """Approvals (to PENDING_ACTIVATION) and activations (to ACTIVE) per week, oldest first,
    over the last `weeks` weeks; a week starts on Monday (UTC)."""
    this_monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    starts = [this_monday - timedelta(weeks=i) for i in range(weeks - 1, -1, -1)]
    counts = {start: {"approvals": 0, "activations": 0} for start in starts}
    for row in history:
        if row.event != "status_changed" or row.observed_at < starts[0]:
            continue
        week = starts[min(weeks - 1, (row.observed_at - starts[0]).days // 7)]
        if row.to_status == "PENDING_ACTIVATION":
            counts[week]["approvals"] += 1
        elif row.to_status == "ACTIVE":
            counts[week]["activations"] += 1
    return [{"week": start.date().isoformat(), **counts[start]} for start in starts]
