"""`flinkswatch --help` (and a mistyped command) must answer at once: they load none of the heavy
libraries, which the commands import only when they run. Checked by what is imported, not by a
timing (speed is measured in the benchmark)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
HEAVY = ("alembic", "apscheduler", "httpx", "pydantic", "slack_sdk", "sqlalchemy", "stamina")
PROBE = """
import contextlib, io, json, sys
from app.cli.commands import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(HEAVY)))))
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
    assert json.loads(done.stdout) == []
