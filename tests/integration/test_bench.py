"""The benchmark's code path at a tiny size, so `python -m bench` cannot rot. No timings are
asserted: only that every step ran, printed its ratio to the floor, and measured something."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

STEPS = ("floor", "first sync", "no change", "10% changed")
LINE = re.compile(
    r"^\s*(?P<rows>\d+)\s+(?P<backend>\S+)\s+(?P<step>floor|first sync|no change|10% changed)\s+"
    r"(?P<median>[\d.]+)\s+(?P<ratio>[\d.]+)x\s+(?P<rss>[\d.]+)\s+(?P<py>[\d.]+)\s+"
    r"(?P<events>\d+)\s+(?P<delivered>\d+)\s*$"
)


def test_bench_prints_every_step_with_its_ratio_to_the_floor(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--sizes",
            "200",
            "--backends",
            "sqlite",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # no .env of the developer's is read
        # None of the developer's settings; bench/ sits beside app/, outside the package.
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[2])},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [m.groupdict() for m in map(LINE.match, done.stdout.splitlines()) if m]
    assert [(r["rows"], r["backend"], r["step"]) for r in rows] == [
        ("200", "-" if step == "floor" else "sqlite", step) for step in STEPS
    ]
    for row in rows:
        assert float(row["median"]) > 0
        assert float(row["ratio"]) > 0
        assert float(row["rss"]) > 0
        assert float(row["py"]) > 0
    by_step = {r["step"]: r for r in rows}
    assert by_step["first sync"]["events"] == "200"
    assert by_step["first sync"]["delivered"] == "1"  # the baseline summary on the console
    assert by_step["no change"]["events"] == "0"
    assert int(by_step["10% changed"]["events"]) == 20
    idle = re.search(r"idle `flinkswatch run` .*: VmRSS ([\d.]+) MiB", done.stdout)
    assert idle is not None
    assert float(idle.group(1)) > 0
    assert "PostgreSQL" not in done.stdout  # not asked for, so not skipped either
