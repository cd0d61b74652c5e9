"""`flinkswatch report` as a user runs it: JSON and CSV after real polls, and no database made."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from app.demo.simulator import FlinksSimulator
from tests.e2e.conftest import World

pytestmark = pytest.mark.e2e


def _activate(flinks: FlinksSimulator, provider_id: int) -> None:
    rows = flinks.rows
    for row in rows:
        if row["provider_id"] == provider_id:
            row["registration_status"] = "ACTIVE"
    flinks.set_rows(rows)


def test_report_json_and_csv_after_polls(world: World, flinks: FlinksSimulator) -> None:
    world.env["STUCK_AFTER"] = "PENDING_APPROVAL=1s"
    assert world.run("poll").returncode == 0
    _activate(flinks, 1000)
    assert world.run("poll").returncode == 0
    time.sleep(1.2)  # NBC has been PENDING_APPROVAL for longer than 1s now

    done = world.run("report", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    providers = {p["provider_name"]: p for p in report["providers"]}
    capital = providers["Flinks Capital"]
    # Requested 2024-02-29, active now: time to ACTIVE counts from requested_on.
    assert capital["time_to_active"]["count"] == 1
    assert providers["NBC"]["time_to_active"]["censored"] == 1  # still waiting: counted
    assert capital["time_to_active"]["median_seconds"] > 365 * 86400
    # First seen in PENDING_APPROVAL: there since its request (SPEC 11), an exact stay.
    assert capital["time_in_status"]["PENDING_APPROVAL"]["count"] == 1
    assert capital["time_in_status"]["PENDING_APPROVAL"]["median_seconds"] > 365 * 86400
    assert providers["NBC"]["registrations"] == 1
    assert [s["provider_name"] for s in report["stuck"]] == ["NBC"]
    assert report["stuck"][0]["status"] == "PENDING_APPROVAL"
    assert report["stuck"][0]["requested_on"].endswith("Z")
    assert report["stuck_after_seconds"] == {"PENDING_APPROVAL": 1}

    done = world.run("report", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    stats = [r for r in rows if r["section"] == "statistics"]
    # count: ended (activations, stays left); censored: still going (SPEC 11)
    assert {(r["provider_name"], r["measure"], r["count"], r["censored"]) for r in stats} == {
        ("Flinks Capital", "to ACTIVE", "1", "0"),
        ("Flinks Capital", "in PENDING_APPROVAL", "1", "0"),
        ("Flinks Capital", "in ACTIVE", "0", "1"),
        ("NBC", "to ACTIVE", "0", "1"),
        ("NBC", "in PENDING_APPROVAL", "0", "1"),
    }
    assert [r["client_id"] for r in rows if r["section"] == "stuck"] == [
        "dc-alphalendingxxxxxxxxxxxxx"
    ]

    table = world.run("report", ALERT_TIMEZONE="America/Toronto")
    assert table.returncode == 0, table.stderr
    assert "2024-02-29 (" in table.stdout
    assert "dates in America/Toronto" in table.stdout


def test_report_never_creates_a_database(sqlite_world: World) -> None:
    done = sqlite_world.run("report")
    assert done.returncode == 2
    assert "flinkswatch migrate" in done.stderr
    assert not (sqlite_world.cwd / "flinkswatch.db").exists()


def test_a_bad_stuck_after_is_one_line(sqlite_world: World) -> None:
    done = sqlite_world.run("report", STUCK_AFTER="PENDING_APPROVAL=soon")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "flinkswatch: configuration error: STUCK_AFTER: 'soon' is not a duration: a number and"
        " a unit s, m, h, d or w, e.g. 7d"
    ]
