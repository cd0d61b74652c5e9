"""CSV formula injection (OWASP): names from Flinks that a spreadsheet would run as formulas are
written with a leading `'` by every CSV the installed command writes; JSON keeps them as they
are. The web exports are checked in tests/integration/test_csv_formulas.py."""

from __future__ import annotations

import csv
import io
import json

import pytest

from app.demo.simulator import FlinksSimulator
from tests.e2e.conftest import SEED_ROWS, World

pytestmark = pytest.mark.e2e

FORMULAS = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3"]


def _hostile(flinks: FlinksSimulator) -> None:
    row = SEED_ROWS[0]
    rows = [
        row | {"client_id": f"dc-evil{i}", "client_name": name, "provider_name": name}
        for i, name in enumerate(FORMULAS)
    ]
    flinks.set_rows(rows)


def _cells(text: str, column: str) -> set[str]:
    return {r[column] for r in csv.DictReader(io.StringIO(text)) if r[column]}


def test_every_cli_csv_neutralises_formulas(sqlite_world: World, flinks: FlinksSimulator) -> None:
    sqlite_world.env["STUCK_AFTER"] = "PENDING_APPROVAL=1s"
    _hostile(flinks)
    assert sqlite_world.run("poll").returncode == 0
    guarded = {"'" + name for name in FORMULAS}

    for command in (("status",), ("history",)):
        done = sqlite_world.run(*command, "--format", "csv")
        assert done.returncode == 0, done.stderr
        assert _cells(done.stdout, "client_name") == guarded, command
        assert _cells(done.stdout, "provider_name") == guarded, command

    done = sqlite_world.run("report", "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert _cells(done.stdout, "provider_name") == guarded

    done = sqlite_world.run("status", "--format", "json")
    assert {r["client_name"] for r in json.loads(done.stdout)} == set(FORMULAS)
