"""SQLAlchemy 2 table definitions. `registrations` and `registration_events` are SPEC section 5
(users query them directly); `poll_runs` and `deliveries` are internal bookkeeping.
Any change here needs an Alembic migration in migrations/versions; a test checks they agree."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
    true,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# SQLite has no 64-bit autoincrement other than INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are always UTC-aware in Python, whatever the backend stores."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the driver, got {type(value).__name__}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


registrations = Table(
    "registrations",
    metadata,
    Column("client_id", String(128), primary_key=True),
    Column("provider_id", BigInteger, primary_key=True, autoincrement=False),
    Column("client_name", Text, nullable=False),
    Column("provider_name", Text, nullable=False),
    Column("country", String(16), nullable=False),
    Column("registration_status", String(64), nullable=False),
    Column("requested_on", UTCDateTime, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("status_since", UTCDateTime, nullable=False),
    Column("missing_polls", Integer, nullable=False, server_default="0"),
    Column("present", Boolean, nullable=False, server_default=true()),
    Column("removed_at", UTCDateTime, nullable=True),
    # False: first seen in a status other than PENDING_APPROVAL, so it entered it at an unknown
    # time before status_since (SPEC 11).
    Column("status_since_exact", Boolean, nullable=False, server_default=true()),
    # Stuck reminders (SPEC 9) look up the few registrations long in one status.
    Index("ix_registrations_status_since", "registration_status", "status_since"),
)

poll_runs = Table(
    "poll_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("rows_seen", Integer, nullable=False, server_default="0"),
    Column("rows_skipped", Integer, nullable=False, server_default="0"),
    Column("events", Integer, nullable=False, server_default="0"),
    Column("error", Text, nullable=True),
    # sha256 of the raw answer: an identical answer with nothing pending needs no diff.
    Column("answer_digest", String(64), nullable=True),
    # A failed poll's failure_kind (flinks_auth, flinks_unavailable, database, ...): the cause
    # the blind alert names (SPEC 8).
    Column("failure_kind", String(32), nullable=True),
    Index("ix_poll_runs_outcome_finished_at", "outcome", "finished_at"),
)

registration_events = Table(
    "registration_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("poll_id", Id, ForeignKey("poll_runs.id"), nullable=False),
    Column("event", String(32), nullable=False),
    Column("client_id", String(128), nullable=False),
    Column("client_name", Text, nullable=False),
    Column("provider_id", BigInteger, nullable=False),
    Column("provider_name", Text, nullable=False),
    Column("country", String(16), nullable=False),
    Column("from_status", String(64), nullable=True),
    Column("to_status", String(64), nullable=True),
    Column("observed_at", UTCDateTime, nullable=False),
    Column("requested_on", UTCDateTime, nullable=False),
    Column("previous_status_since", UTCDateTime, nullable=True),
    # False: that stay began before the watcher looked, by previous_status_since (SPEC 11).
    Column("previous_status_since_exact", Boolean, nullable=False, server_default=true()),
    Column("details", Text, nullable=True),  # JSON: details_changed field -> [old, new]
    # acknowledged (SPEC 12): who took it, their note, when it ends (NULL: when it moves). Its
    # poll_id is the latest poll's: the state it acknowledged is the one that poll recorded.
    Column("by", String(200), nullable=True),
    Column("note", Text, nullable=True),
    Column("until", UTCDateTime, nullable=True),
    # The identity of the Slack click that recorded it: a retried or twice-delivered click, on any
    # replica, finds it taken (UNIQUE; NULL for every other event).
    Column("action_key", String(255), nullable=True),
    Index("ix_registration_events_key", "client_id", "provider_id"),
    Index("uq_registration_events_action_key", "action_key", unique=True),
    # The acknowledgements alone (few among millions of events): status, the board, reminders.
    Index(
        "ix_registration_events_acknowledged",
        "client_id",
        "provider_id",
        "id",
        postgresql_where=text("event = 'acknowledged'"),
        sqlite_where=text("event = 'acknowledged'"),
    ),
    Index("ix_registration_events_observed_at", "observed_at"),
    Index("ix_registration_events_poll_id", "poll_id"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # NULL for a digest, which belongs to no poll.
    Column("poll_id", Id, ForeignKey("poll_runs.id"), nullable=True),
    # NULL for a baseline summary, which stands for all baseline events of its poll.
    Column("event_id", Id, ForeignKey("registration_events.id"), nullable=True),
    Column("channel", String(32), nullable=False),
    # "event", "summary", "held" (removals), or a watcher notice's kind (NoticeKind)
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # "pending", "sent" or "failed"
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("external_ref", String(255), nullable=True),  # e.g. Slack channel:ts
    # A watcher notice (kind watcher_blind, watcher_recovered, channel_failing, ...).
    Column("notice_id", Id, ForeignKey("watcher_notices.id"), nullable=True),
    Column("digest_id", Id, ForeignKey("digests.id"), nullable=True),  # kind "digest" (SPEC 9)
    UniqueConstraint("event_id", "channel", name="uq_deliveries_event_id_channel"),
    UniqueConstraint("notice_id", "channel", name="uq_deliveries_notice_id_channel"),
    UniqueConstraint("digest_id", "channel", name="uq_deliveries_digest_id_channel"),
    Index("ix_deliveries_channel_status", "channel", "status"),
)

slack_threads = Table(
    "slack_threads",
    metadata,
    # The Slack destination as configured (SLACK_CHANNEL or a route's channel): changing the
    # setting starts new threads instead of replying in another channel's.
    Column("destination", String(255), primary_key=True),
    Column("client_id", String(128), primary_key=True),
    Column("provider_id", BigInteger, primary_key=True, autoincrement=False),
    Column("slack_channel", String(64), nullable=False),  # the channel ID Slack answered with
    Column("ts", String(32), nullable=False),  # the thread's first message
    Column("created_at", UTCDateTime, nullable=False),
)

# The Slack board (SPEC 10) of each bot destination as configured: the message to edit.
slack_boards = Table(
    "slack_boards",
    metadata,
    Column("destination", String(255), primary_key=True),
    Column("slack_channel", String(64), nullable=False),  # the channel ID Slack answered with
    Column("ts", String(32), nullable=False),
    Column("content_digest", String(64), nullable=False),  # of what the message shows now
    Column("updated_at", UTCDateTime, nullable=False),
)

removal_holds = Table(
    "removal_holds",
    metadata,
    # One row per mass-shrink hold (SPEC 2): open while closed_at is NULL, so `poll` from
    # cron and a restarted service know it, and the operator is alerted once per hold.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("poll_id", Id, ForeignKey("poll_runs.id"), nullable=False),  # the poll it began
    Column("opened_at", UTCDateTime, nullable=False),
    Column("present", Integer, nullable=False),  # registrations present before that answer
    Column("listed", Integer, nullable=False),  # of those, how many that answer listed
    Column("accepted_at", UTCDateTime, nullable=True),  # `flinkswatch accept-removals`
    Column("closed_at", UTCDateTime, nullable=True),  # an answer back to normal
)

watcher_notices = Table(
    "watcher_notices",
    metadata,
    # One row per alert about the watcher itself (SPEC 8), in the transaction of the poll that
    # called for it. The latest watcher_blind / watcher_recovered row is the blind state: a
    # restart, a `poll` from cron or a new leader reads it and never announces an outage twice.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("poll_id", Id, ForeignKey("poll_runs.id"), nullable=False),
    Column("kind", String(32), nullable=False),  # app.domain.NoticeKind
    Column("channel", String(255), nullable=True),  # the channel a channel notice is about
    Column("since", UTCDateTime, nullable=True),
    Column("cause", String(32), nullable=False, server_default=""),
    Column("last_error", Text, nullable=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("tally", Integer, nullable=False, server_default="0"),  # changes found / alerts waiting
    Column("repeat", Boolean, nullable=False, server_default=false()),
    Column("sent_directly", Boolean, nullable=False, server_default=false()),  # database was down
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_watcher_notices_kind", "kind"),
)

channel_health = Table(
    "channel_health",
    metadata,
    # Each channel's delivery record (app.core.blind.ChannelHealth), kept across restarts.
    Column("channel", String(255), primary_key=True),
    Column("failing_cycles", Integer, nullable=False, server_default="0"),
    Column("since", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("announced", Boolean, nullable=False, server_default=false()),
    Column("updated_at", UTCDateTime, nullable=False),
)

stuck_reminders = Table(
    "stuck_reminders",
    metadata,
    # The last stuck reminder of each registration (SPEC 9), written with the reminder's event:
    # what STUCK_REPEAT counts from, without reading the history back.
    Column("client_id", String(128), primary_key=True),
    Column("provider_id", BigInteger, primary_key=True, autoincrement=False),
    Column("reminded_at", UTCDateTime, nullable=False),
)

digests = Table(
    "digests",
    metadata,
    # One row per digest (SPEC 9). fire_at: the DIGEST_SCHEDULE time it stands for, UNIQUE so a
    # restart or a second leader never records (nor sends) it twice; NULL for `flinkswatch
    # digest`. content: what was computed, as JSON, so a retry sends exactly the same text.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("period_start", UTCDateTime, nullable=False),
    Column("period_end", UTCDateTime, nullable=False),
    Column("fire_at", UTCDateTime, nullable=True),
    Column("content", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("fire_at", name="uq_digests_fire_at"),
)

row_index = Table(
    "row_index",
    metadata,
    # At most one row (id 1), written with the state by every cycle that read its answer row
    # by row: each present registration and the fingerprint of the row it was last read from
    # (msgpack, app.db.rowindex), so a cycle validates and diffs only the rows that changed
    # (issue 13). A cycle that read its answer whole deletes it.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("poll_id", BigInteger, nullable=False),
    Column("present", Integer, nullable=False),  # how many registrations it lists
    Column("entries", LargeBinary, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

late_limits = Table(
    "late_limits",
    metadata,
    # At most one row (id 1): the late limits as last folded from the whole history
    # (app.core.latelimits), so a cron `poll`, a process per cycle, folds at most hourly like
    # the running service instead of on every cycle. A cache: deleting it costs one fold.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("computed_at", UTCDateTime, nullable=False),
    Column("late_after", Float, nullable=False),  # LATE_AFTER it was folded under
    Column("min_activations", Integer, nullable=False),  # EXPECT_MIN_ACTIVATIONS likewise
    Column("limits", Text, nullable=False),  # JSON: provider_id -> [seconds, reason]
)
