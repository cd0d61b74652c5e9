"""urlwatch, the general watcher a user might pick instead, timed on the same listing as whole
processes: raw (the body compared as text) and with its `format-json` filter. Optional: it
comes with the `bench` extra (`pip install -e ".[bench]"`); without it these rows are skipped
with a note. urlwatch cannot ask for an OAuth token, so it is handed one in a header: its runs
pay for one request fewer than the floor and flinkswatch."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import httpx

from bench.cold import LISTING_PATH, Process, TimedOut, run_process
from bench.env import CLIENT_ID, CLIENT_SECRET, Upstream

LIMIT = 120.0  # seconds per urlwatch run
MODES = {"urlwatch raw": None, "urlwatch json": "format-json"}
_CONFIG = """\
display: {new: true, error: true, unchanged: false}
report:
  text: {details: true, footer: false}
  stdout: {enabled: true, color: false}
  html: {diff: unified}
  email: {enabled: false}
"""


def executable() -> str | None:
    """The urlwatch beside this interpreter (the venv's), else on PATH; None if not installed."""
    beside = Path(sys.executable).with_name("urlwatch")
    return str(beside) if beside.exists() else shutil.which("urlwatch")


def _token(upstream: Upstream) -> str:
    fields = {
        "grant_type": "client_credentials",
        "scope": "client:admin",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    token: str = httpx.post(upstream.token_url, json=fields, timeout=30).json()["access_token"]
    return token


def measure(
    upstream: Upstream, workdir: Path, repeat: int, program: str, limit: float = LIMIT
) -> list[Process]:
    """Per mode: first run (empty cache), no change, 10% changed, each a new process; a run
    over `limit` seconds is killed and reported as such (its diff of a large JSON can take
    many minutes)."""
    figures = []
    for step, filter_name in MODES.items():
        home = workdir / f"urlwatch-{upstream.rows}-{filter_name or 'raw'}"
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.yaml").write_text(_CONFIG)
        argv = [program, "--urls", "urls.yaml", "--config", "config.yaml", "--cache", "cache.db"]
        first, same, moved = (Process(upstream.rows, "urlwatch", f"{step} {s}") for s in _STEPS)
        upstream.serve(0)
        for figure, variants in ((first, [0] * repeat), (same, [0] * repeat), (moved, None)):
            for run in range(repeat):
                variant = variants[run] if variants else (run + 1 if run % 2 == 0 else 0)
                upstream.serve(variant)
                if figure is first:
                    (home / "cache.db").unlink(missing_ok=True)
                _write_job(home, upstream, filter_name)
                try:
                    seconds, rss = run_process(argv, _env(home), home, limit)
                except TimedOut:
                    figure.timed_out = limit
                    break  # one run over the limit says enough; the next step starts afresh
                figure.runs.append(seconds)
                figure.rss_mib.append(rss)
        figures += [first, same, moved]
    upstream.serve(0)
    return figures


_STEPS = ("first", "same", "10%")


def _env(home: Path) -> dict[str, str]:
    return {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def _write_job(home: Path, upstream: Upstream, filter_name: str | None) -> None:
    lines = [
        "name: flinks",
        f"url: {upstream.base_url + LISTING_PATH}",
        "headers:",
        f"  Authorization: Bearer {_token(upstream)}",
        "  Accept: application/json",
    ]
    if filter_name:
        lines += ["filter:", f"  - {filter_name}"]
    (home / "urls.yaml").write_text("\n".join(lines) + "\n")
