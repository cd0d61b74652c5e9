"""The Slack board's reads and its message reference (SPEC 10): the slack_boards table, and the
facts the board shows, read with the queries `status`, `report` and the stuck reminders already
use, and the mark that says when the providers' figures must be folded again."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.core.ack import active
from app.core.report import ProviderStats, Stuck, stuck_now
from app.core.stuck import Candidate
from app.db import queries, reminders
from app.db.engine import reading, translate_errors
from app.db.outbox import EVENT_FIELDS, event_from_row
from app.db.polls import PollReads
from app.db.reports import provider_figures
from app.db.tables import registration_events, slack_boards
from app.domain import ACTIVE, EventKind, StoredRegistration
from app.notify.board_render import BoardFacts, BoardRef

_NOT_CHANGES = (EventKind.BASELINE.value, EventKind.STUCK.value, EventKind.ACKNOWLEDGED.value)
_NOT_FOLDED = (EventKind.STUCK.value, EventKind.ACKNOWLEDGED.value)


class BoardTable(PollReads):
    def __init__(self, engine: Engine, fence: Callable[[Connection], None] | None = None) -> None:
        self._engine = engine
        self._fence = fence or (lambda _conn: None)

    def board_ref(self, destination: str) -> BoardRef | None:
        """The board message of a destination as configured (SLACK_CHANNEL), or None."""
        b = slack_boards.c
        stmt = sa.select(b.slack_channel, b.ts, b.content_digest, b.updated_at)
        with reading(self._engine) as conn:
            row = conn.execute(stmt.where(b.destination == destination)).first()
        if row is None:
            return None
        return BoardRef(row.slack_channel, row.ts, row.content_digest, row.updated_at)

    def save_board(self, destination: str, ref: BoardRef, now: datetime) -> None:
        row = {
            "destination": destination,
            "slack_channel": ref.slack_channel,
            "ts": ref.ts,
            "content_digest": ref.digest,
            "updated_at": now,
        }
        from sqlalchemy.dialects import postgresql, sqlite  # on use: `status` loads neither

        with translate_errors(self._engine), self._engine.begin() as conn:
            self._fence(conn)
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(slack_boards).values(row)
            changed = {k: stmt.excluded[k] for k in row if k != "destination"}
            conn.execute(stmt.on_conflict_do_update(index_elements=["destination"], set_=changed))

    def figures_mark(self) -> int:
        """The newest event the providers' figures depend on (0: none): any but a reminder or
        an acknowledgement, which change nobody's time to ACTIVE. Read backwards along the
        primary key until one is found."""
        e = registration_events.c
        stmt = sa.select(e.id).where(e.event.not_in(_NOT_FOLDED)).order_by(e.id.desc()).limit(1)
        with reading(self._engine) as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def provider_stats(self, now: datetime) -> tuple[ProviderStats, ...]:
        """The report's per-provider figures over the whole history (app.db.reports)."""
        return provider_figures(self._engine, now)

    def board_facts(
        self,
        now: datetime,
        stuck_after: Mapping[str, timedelta],
        late: Mapping[int, timedelta] | None = None,
    ) -> BoardFacts:
        """Counts, the stuck and (`late`: provider_id -> the waiting past which it is late,
        app.core.expect.late_thresholds) the late ones, the last change, the last poll."""
        late = late or {}
        counts = queries.status_counts(self._engine)
        found = reminders.candidates(self._engine, now, stuck_after, repeat=timedelta(0), late=late)
        stuck = stuck_now((c.stored for c in found), now, stuck_after)
        overdue = _late_only(found, stuck, now, late)
        e = registration_events.c
        stmt = (
            sa.select(e.id, *(e[n] for n in EVENT_FIELDS), e.previous_status_since, e.details)
            .where(e.event.not_in(_NOT_CHANGES))
            .order_by(e.observed_at.desc(), e.id.desc())
            .limit(1)
        )
        with reading(self._engine) as conn:
            row = conn.execute(stmt).first()
        change = event_from_row(row) if row is not None else None
        taken = tuple(
            (c.stored.key, c.acknowledgement.by)
            for c in found
            if c.acknowledgement is not None and active(c.acknowledgement, c.stored, now)
        )
        counted = tuple(sorted(counts.items()))
        last = self.last_success_at()
        return BoardFacts(counted, stuck, change, last, taken, late=overdue, now=now)


def _late_only(
    found: Sequence[Candidate],
    stuck: Sequence[Stuck],
    now: datetime,
    late: Mapping[int, timedelta],
) -> tuple[StoredRegistration, ...]:
    """The late ones (waiting past their provider's limit, not ACTIVE) not already stuck,
    longest waiting first (then by recipient and provider name)."""
    listed = {s.state.key for s in stuck}
    overdue = [
        c.stored
        for c in found
        if c.stored.key not in listed
        and c.stored.registration.registration_status != ACTIVE
        and (limit := late.get(c.stored.registration.provider_id)) is not None
        and now - c.stored.registration.requested_on > limit
    ]
    return tuple(
        sorted(
            overdue,
            key=lambda s: (
                s.registration.requested_on,
                s.registration.client_name,
                s.registration.provider_name,
                s.key,
            ),
        )
    )
