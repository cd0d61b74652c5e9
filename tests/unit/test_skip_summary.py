"""Issue 15 item 8: without PostgreSQL the test summary says the skip reason once, with the
count, instead of once per test (tests/conftest.py, pytest_runtest_makereport)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_postgresql_skips_are_one_summary_line_with_the_count(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("FLINKSWATCH_TEST_PG_URL", "CI")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/integration/test_migrations.py",
            "-k",
            "postgres",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if "PostgreSQL tests SKIPPED" in line]
    assert len(lines) == 1, lines
    skipped = int(re.findall(r"(\d+) skipped", done.stdout)[-1])
    assert skipped > 1
    assert lines[0].startswith(f"SKIPPED [{skipped}] tests/conftest.py:")
