"""Fault-injection helpers: the installed command as a killable service, alert counting in what
the fake Slack and SMTP received, a private PostgreSQL that may be restarted, the figures file."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLINKSWATCH = str(Path(sys.executable).parent / "flinkswatch")
REPORT = Path(__file__).resolve().parents[2] / "build" / "fault-report.json"
Alert = tuple[str, str, int, str | None, str | None]  # kind, client_id, provider_id, from, to

# Tolerant of the wording around them: "(client dc-x, provider 5, CA): <what>".
_CLIENT = re.compile(r"\bclient (?P<cid>dc-[\w-]+)")
_PROVIDER = re.compile(r"\bprovider (?P<pid>\d+)")
_WHAT = re.compile(r"\): (?P<what>.*)")
_MOVE = re.compile(r"`?(?P<old>[A-Z_?]+)`? (?:->|-&gt;|→) `?(?P<new>[A-Z_?]+)")


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.05) -> None:
    """Poll `check` until true; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def section_alerts(blocks: list[dict[str, Any]]) -> Counter[Alert]:
    """The alerts of a Slack message, from its section blocks: they show every event, where the
    fallback `text` of a big group ends in "and N more" (issue 15 item 7). A section is
    "<emoji> *label*: *provider* for *client*\n<what>\n_<when> · <ids>_"."""
    lines = []
    for block in blocks:
        if block.get("type") == "section":
            _title, what, when_ids = [*block["text"]["text"].split("\n"), "", ""][:3]
            lines.append(f"{when_ids}): {what.replace('`', '')}")  # codes are `CODE` here
    return alerts_in("\n".join(lines))


def alerts_in(text: str) -> Counter[Alert]:
    """The alert lines of a Slack fallback text or an email text part, by identity."""
    found: Counter[Alert] = Counter()
    for line in text.splitlines():
        client, provider, rest = _CLIENT.search(line), _PROVIDER.search(line), _WHAT.search(line)
        if client is None or provider is None or rest is None:
            continue
        cid, pid, what = client["cid"], int(provider["pid"]), rest["what"]
        move = _MOVE.search(what)
        if "new registration, status " in what:
            status = what.split("new registration, status ", 1)[1].split(";")[0].split()[0]
            found["added", cid, pid, None, status] += 1
        elif "no longer listed, was " in what:
            status = what.split("no longer listed, was ", 1)[1].split(";")[0].split()[0]
            found["removed", cid, pid, status, None] += 1
        elif "listed again" in what and move:
            found["reappeared", cid, pid, move["old"], move["new"]] += 1
        elif move:
            found["status_changed", cid, pid, move["old"], move["new"]] += 1
    return found


def service_env(
    db_url: str, flinks_url: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of one `flinkswatch run` against the simulator (default credentials)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "FLINKS_CLIENT_ID": "fault-client",
        "FLINKS_CLIENT_SECRET": "fault-secret-value",
        "FLINKS_BASE_URL": flinks_url,
        "FLINKS_TOKEN_URL": flinks_url + "/api/v1/token",
        "FLINKS_TIMEOUT_SECONDS": "3",
        "DATABASE_URL": db_url,
        "HTTP_PORT": "0",
        "POLL_INTERVAL_SECONDS": "1",
        "REMOVAL_CONFIRM_POLLS": "2",
        # The simulator's registrations were requested weeks ago: with the default limits every
        # pending one is stuck (or late) from the first poll. Tests about reminders set theirs.
        "STUCK_AFTER": "",
        "LATE_AFTER": "",
        **(extra or {}),
    }


@dataclass
class Proc:
    """One `flinkswatch run` with its log file (a pipe nobody reads could fill and block it)."""

    popen: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def terminate(self) -> int:
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout=30)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@dataclass
class Launcher:
    """Starts `flinkswatch <args>` processes and reaps any still running at teardown."""

    workdir: Path
    started: list[Proc] = field(default_factory=list)

    def start(self, env: dict[str, str], *args: str) -> Proc:
        log = self.workdir / f"run-{len(self.started):03d}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [FLINKSWATCH, *(args or ("run",))],
                cwd=self.workdir,
                env={"HOME": str(self.workdir), **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        proc = Proc(popen, log)
        self.started.append(proc)
        return proc

    def reap(self) -> None:
        for proc in self.started:
            if proc.popen.poll() is None:
                proc.kill()


def record_figures(section: str, figures: dict[str, object]) -> None:
    """Merge one backend's figures into build/fault-report.json (docs/reliability.md quotes it)."""
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    try:
        report = json.loads(REPORT.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = {}
    report[section] = figures
    REPORT.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")


# ---- a private PostgreSQL, ours to restart ------------------------------------------------------
def pg_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    return found[-1].parent if found else None


@dataclass
class PrivatePostgres:
    bindir: Path
    datadir: Path
    port: int
    as_postgres: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://fault@127.0.0.1:{self.port}/faults"

    def ctl(self, *args: str) -> None:
        command = [*self.as_postgres, str(self.bindir / "pg_ctl"), "-D", str(self.datadir)]
        subprocess.run([*command, "-w", "-t", "30", *args], check=True, capture_output=True)

    def start(self) -> None:
        log = self.datadir.parent / "postgres.log"
        self.ctl("-l", str(log), "-o", f"-p {self.port} -k {self.datadir} -h 127.0.0.1", "start")

    def stop(self) -> None:
        self.ctl("-m", "fast", "stop")
