"""status/history output: table, JSON and CSV from the same rows."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from app.cli.output import HISTORY_COLUMNS, render, write

ROW: dict[str, object] = {
    "client_id": "dc-a",
    "client_name": "Alpha \x1b[31mLending",
    "provider_id": 2000,
    "provider_name": "NBC",
    "country": "CA",
    "event": "status_changed",
    "from_status": "PENDING_APPROVAL",
    "to_status": "PENDING_ACTIVATION",
    "observed_at": datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
    "requested_on": datetime(2024, 2, 29, 14, 24, 42, 605568, tzinfo=UTC),
}


def test_json_is_a_list_with_iso_utc_timestamps() -> None:
    (obj,) = json.loads(render([ROW], HISTORY_COLUMNS, "json"))
    assert obj["observed_at"] == "2026-11-02T09:30:00Z"
    assert obj["requested_on"] == "2024-02-29T14:24:42.605568Z"
    assert obj["provider_id"] == 2000
    assert obj["from_status"] == "PENDING_APPROVAL"


def test_csv_has_header_and_full_values() -> None:
    rows = list(csv.DictReader(io.StringIO(render([ROW], HISTORY_COLUMNS, "csv"))))
    assert rows[0]["to_status"] == "PENDING_ACTIVATION"
    assert rows[0]["observed_at"] == "2026-11-02T09:30:00Z"


def test_table_strips_control_characters() -> None:
    text = render([ROW], HISTORY_COLUMNS, "table")
    header, line = text.splitlines()
    assert header.startswith("OBSERVED_AT")
    assert "\x1b" not in line
    assert "PENDING_APPROVAL" in line


def test_empty_table_says_none() -> None:
    assert render([], HISTORY_COLUMNS, "table") == "(none)"
    assert json.loads(render([], HISTORY_COLUMNS, "json")) == []


def test_deliveries_table_shows_the_whole_last_error_at_the_end() -> None:
    from app.cli.reads import DELIVERY_COLUMNS

    error = (
        "not sent: an earlier message failed: Slack chat.postMessage failed: channel_not_found"
        " (HTTP 200); invite the bot to #registrations, check the channel name, or add the"
        " chat:write.public scope"
    )
    row: dict[str, object] = {
        "id": 7,
        "created_at": datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        "channel": "slack",
        "status": "pending",
        "attempts": 3,
        "next_attempt_at": None,
        "last_error": error,
        "kind": "event",
        "event": "status_changed",
        "client_id": "dc-a",
        "provider_name": "NBC " * 30,
        "to_status": "PENDING_ACTIVATION",
    }
    header, line = render([row], DELIVERY_COLUMNS, "table").splitlines()
    assert header.split()[-1] == "LAST_ERROR"
    assert line.endswith(error)  # readable in full, and the other columns stay aligned before it
    assert "NBC " * 30 not in line  # other cells keep their cap


def test_json_is_one_object_a_line_and_write_streams_the_same_text() -> None:
    ack = {"by": "Ana", "note": None, "at": datetime(2026, 11, 3, tzinfo=UTC), "until": None}
    rows = [ROW, {**ROW, "client_id": "dc-b", "acknowledged": ack}]
    text = render(rows, HISTORY_COLUMNS, "json")
    lines = text.splitlines()
    assert (lines[0], lines[-1]) == ("[", "]")
    assert [json.loads(line.rstrip(","))["client_id"] for line in lines[1:-1]] == ["dc-a", "dc-b"]
    assert json.loads(text)[1]["acknowledged"]["at"] == "2026-11-03T00:00:00Z"  # nested times
    out = io.StringIO()
    write(rows, HISTORY_COLUMNS, "json", out)
    assert out.getvalue() == text + "\n"
    out = io.StringIO()
    write(rows, HISTORY_COLUMNS, "csv", out)
    assert out.getvalue() == render(rows, HISTORY_COLUMNS, "csv") + "\n"


def test_json_times_are_iso_z_in_utc_and_keep_their_instant_in_another_zone() -> None:
    """The commands' times come from the database in UTC: written with a Z as iso_z writes
    them. One in another zone (none today) keeps its offset (RFC 3339, the same instant)."""
    from datetime import timedelta, timezone

    from app.core.text import iso_z

    utc = [datetime(2026, 11, 2, 9, 30, tzinfo=UTC), datetime(2026, 11, 2, 9, 30, 0, 5, tzinfo=UTC)]
    other = datetime(2026, 11, 2, 14, 30, tzinfo=timezone(timedelta(hours=5)))
    (obj,) = json.loads(render([{"t": [*utc, other]}], ["t"], "json"))
    assert obj["t"][:2] == [iso_z(t) for t in utc]
    assert obj["t"][:2] == ["2026-11-02T09:30:00Z", "2026-11-02T09:30:00.000005Z"]
    assert datetime.fromisoformat(obj["t"][2]) == other == utc[0]
