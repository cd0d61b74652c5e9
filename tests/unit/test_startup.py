"""`flinkswatch --help` (and a mistyped command) must answer at once: they load none of the heavy
libraries, which the commands import only when they run; `status` and `history` load only the
settings and SQLAlchemy (no Alembic: app/db/revision.py). Checked by what is imported, not by a
timing (speed is measured in the benchmark: `python -m bench`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.db import engine as db

ROOT = Path(__file__).parents[2]
HEAVY = ("alembic", "apscheduler", "httpx", "pydantic", "slack_sdk", "sqlalchemy", "stamina")
# What a read command does not use: the service, the channels, Flinks, migrations, psycopg.
NOT_FOR_READS = (
    "alembic",
    "apscheduler",
    "flask",
    "httpx",
    "jinja2",
    "msgspec",
    "prometheus_client",
    "psycopg",
    "slack_sdk",
    "smtplib",
    "stamina",
    "waitress",
    "werkzeug",
)
PROBE = """
import contextlib, io, json, sys
from app.cli.commands import main
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(HEAVY)))
print(json.dumps({"loaded": loaded, "code": code, "out": out.getvalue()}))
"""


@pytest.mark.parametrize("argv", [["--help"], ["history", "--help"], ["no-such-command"]])
def test_help_and_usage_errors_load_no_heavy_library(argv: list[str]) -> None:
    code = PROBE.replace("json.loads(HEAVY)", repr(list(HEAVY)))
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout)["loaded"] == []


@pytest.mark.parametrize(
    ("argv", "used"),
    [(["status"], ()), (["history", "--format", "json"], ("msgspec",))],  # JSON is written by it
)
def test_read_commands_load_no_alembic_service_nor_channel(
    tmp_path: Path, argv: list[str], used: tuple[str, ...]
) -> None:
    url = f"sqlite:///{tmp_path / 'fw.db'}"
    engine = db.make_engine(url)
    db.migrate(engine)
    engine.dispose()
    (tmp_path / ".env").write_text("")  # the settings of the directory tests run in stay out
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH")}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE.replace("json.loads(HEAVY)", repr(set(NOT_FOR_READS) - set(used))),
            *argv,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, "DATABASE_URL": url},
        timeout=60,
        check=True,
    )
    probe = json.loads(done.stdout)
    assert probe["code"] == 0
    assert probe["out"].strip() in ("(none)", "[]")
    assert probe["loaded"] == []


BUILD_APP = """
import json, sys
from app.config.settings import load_settings
from app.wiring import build_app
built = build_app(load_settings())
built.close()
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(HEAVY)))))
"""
# What a `poll` on a migrated database with no channel configured does not use.
NOT_FOR_POLL = ("alembic", "apscheduler", "flask", "prometheus_client", "slack_sdk", "waitress")


def test_a_poll_on_a_current_schema_loads_no_alembic_service_nor_unused_channel(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'fw.db'}"
    engine = db.make_engine(url)
    db.migrate(engine)
    engine.dispose()
    (tmp_path / ".env").write_text("")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH")}
    settings = {"DATABASE_URL": url, "FLINKS_CLIENT_ID": "id", "FLINKS_CLIENT_SECRET": "secret"}
    done = subprocess.run(
        [sys.executable, "-c", BUILD_APP.replace("json.loads(HEAVY)", repr(NOT_FOR_POLL))],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, **settings},
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == []
