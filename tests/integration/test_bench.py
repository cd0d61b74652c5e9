"""The benchmark's code path at a tiny size, so `python -m bench` cannot rot. No timings are
asserted: only that every step ran, printed its ratio to the floor, and measured something."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

STEPS = ("floor", "first sync", "no change", "10% changed")
NUM = r"(?:-?[\d.]+|-)"  # a marginal ratio at tiny sizes may be noise below 0
LINE = re.compile(
    r"^\s*(?P<rows>\d+)\s+(?P<backend>-|sqlite)\s+(?P<step>floor|first sync|no change|10% changed)"
    rf"\s+(?P<warm>{NUM})\s+(?P<warm_x>{NUM})x\s+(?P<cold>{NUM})\s+(?P<cold_x>{NUM})x\s+"
    rf"(?:[\d.]+ / [\d.]+\s+)?(?P<warm_rss>{NUM})\s+(?P<cold_rss>{NUM})\s+(?P<events>\d+)\s*$"
)


def test_bench_prints_every_step_warm_and_cold_with_the_floor(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--sizes",
            "20,200",
            "--backends",
            "sqlite",
            "--repeat",
            "1",
            "--no-urlwatch",
            "--startup-runs",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,  # no .env of the developer's is read
        # None of the developer's settings; bench/ sits beside app/, outside the package.
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[2])},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [m.groupdict() for m in map(LINE.match, done.stdout.splitlines()) if m]
    assert [(r["rows"], r["backend"], r["step"]) for r in rows] == [
        (size, "-" if step == "floor" else "sqlite", step)
        for size in ("20", "200")
        for step in STEPS
    ]
    for row in rows:
        for column in ("warm", "cold", "warm_rss", "cold_rss"):
            assert float(row[column]) > 0, (row, column)
        if row["step"] != "floor":
            assert float(row["warm_x"]) > 0
    by_step = {r["step"]: r for r in rows if r["rows"] == "200"}
    assert by_step["first sync"]["events"] == "200"
    assert by_step["no change"]["events"] == "0"
    assert int(by_step["10% changed"]["events"]) == 20
    idle = re.search(r"idle `flinkswatch run` .*: VmRSS ([\d.]+) MiB", done.stdout)
    assert idle is not None
    assert float(idle.group(1)) > 0
    assert re.search(r"idle `flinkswatch run` .*migrated.*: VmRSS ([\d.]+) MiB", done.stdout)
    for command in ("--help", "status"):
        started = re.search(
            rf"^  {re.escape(command)} +wall +([\d.]+) s +cpu +([\d.]+) s", done.stdout, re.M
        )
        assert started is not None, command
        assert float(started.group(1)) > 0
    assert re.search(
        r"^Kaplan-Meier estimates for every provider \(200 registrations, 200 providers, 300"
        r" events\): [\d.]+ s, peak [\d.]+ MiB",
        done.stdout,
        re.M,
    )
    # `status --format json` of every registration (issue 23), a real process per run
    status = re.search(
        r"^`flinkswatch status --format json` of 200 registrations \(SQLite, a process per run;"
        r" [\d,]+ late, [\d,]+ with an expected date\): median ([\d.]+) s \(runs [\d., ]+\),"
        r" CPU [\d.]+ s, peak RSS (\d+) MiB \(target < 3 s: not judged",
        done.stdout,
        re.M,
    )
    assert status is not None, done.stdout
    assert float(status.group(1)) > 0
    assert int(status.group(2)) > 0
    assert "PostgreSQL" not in done.stdout  # not asked for, so not skipped either
    assert "urlwatch" not in done.stdout  # --no-urlwatch: not timed, not noted
    figures = json.loads((tmp_path / "bench-results.json").read_text())
    assert {f["step"] for f in figures["cold"]} == set(STEPS)
    assert all(f["rss_peak_mib"] > 0 for f in figures["cold"])
    # The web page's figures, at the largest size (issue 12), printed beside the others.
    assert "the web page (issue 12)" in done.stdout
    web = {f["page"]: f for f in figures["web"]}
    assert {"board", "board, search", "providers", "activity", "export CSV"} <= set(web)
    assert all(f["rows"] == 200 and f["median"] > 0 and f["size_kib"] > 0 for f in web.values())
    assert web["export CSV"]["export_rows"] == web["export JSON"]["export_rows"] == 200
