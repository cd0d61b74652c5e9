"""Benchmark surroundings: the simulated Flinks in its own process, scratch databases, memory
readings from /proc, and the resident memory of an idle `flinkswatch run`."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import sqlalchemy as sa

from app.config.settings import Settings, load_settings
from app.config.types import psycopg_url

CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"
IDLE_TIMEOUT = 120.0  # seconds to wait for the service's first poll


# ---- memory -----------------------------------------------------------------------------------
def _status_kib(field: str, pid: int | str = "self") -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def rss_mib(pid: int | str = "self") -> float:
    return _status_kib("VmRSS", pid) / 1024


def reset_peak_rss() -> bool:
    """Reset VmHWM (Linux >= 4.0) so the next reading is the peak of what follows."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mib() -> float:
    return _status_kib("VmHWM") / 1024


# ---- the simulated upstream, in a child process --------------------------------------------------
def _upstream_main(conn: Connection, n: int, seed: int) -> None:
    from app.demo.simulator import FlinksSimulator, bulk_rows, mutate_status

    base = bulk_rows(n, seed)
    sim = FlinksSimulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rows=base[:1])
    sim.start()
    conn.send((sim.token_url, sim.base_url))
    try:
        while (command := conn.recv()) is not None:
            # The body is encoded here, before the measured fetch asks for it.
            rows = base if command == 0 else mutate_status(base, 0.1, random.Random(command))  # noqa: S311
            sim.set_raw_body(json.dumps(rows, separators=(",", ":")).encode())
            conn.send(len(rows))
    finally:
        sim.stop()


class Upstream:
    """A FlinksSimulator serving `n` bulk rows from another process, so that serving them costs
    the measured process nothing, as with the real (remote) Flinks."""

    def __init__(self, n: int, seed: int = 0) -> None:
        self.rows = n
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_upstream_main, args=(child, n, seed), daemon=True)
        self._proc.start()
        self.token_url, self.base_url = self._conn.recv()
        self.serve(0)

    def serve(self, variant: int) -> None:
        """Variant 0: the base rows; k > 0: 10% of the rows moved, chosen with seed k."""
        self._conn.send(variant)
        self._conn.recv()

    def close(self) -> None:
        self._conn.send(None)
        self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.kill()


# ---- scratch databases --------------------------------------------------------------------------
@dataclass
class Scratch:
    """Where one backend's runs happen: fresh() gives an empty database URL each time."""

    backend: str
    workdir: Path
    pg_admin: str | None = None
    _pg_name: str | None = None
    _count: int = 0

    def fresh(self) -> str:
        self._count += 1
        if self.backend == "sqlite":
            return f"sqlite:///{self.workdir / f'bench-{uuid.uuid4().hex[:12]}.db'}"
        self.drop()
        self._pg_name = f"fw_bench_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{self._pg_name}"')
        assert self.pg_admin is not None
        url = sa.make_url(self.pg_admin).set(database=self._pg_name)
        return url.render_as_string(hide_password=False)

    def drop(self) -> None:
        if self._pg_name is None:
            return
        for attempt in range(10):
            try:
                self._admin(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)')
                break
            except sa.exc.DBAPIError:
                # An autovacuum worker on the fresh tables (a superuser's process, which FORCE
                # may not end for this role) holds it for a moment: wait and try again.
                if attempt == 9:
                    raise
                time.sleep(1.0)
        self._pg_name = None

    def _admin(self, sql: str) -> None:
        assert self.pg_admin is not None
        engine = sa.create_engine(psycopg_url(self.pg_admin), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(sql))
        finally:
            engine.dispose()


def pg_unavailable(url: str) -> str | None:
    """None when `url` answers and may create databases; otherwise why not, in one line."""
    try:
        scratch = Scratch("postgresql", Path(), url)
        scratch.fresh()
        scratch.drop()
    except Exception as exc:  # noqa: BLE001 - any failure means: skip PostgreSQL, say why
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return first[0][:200] if first else type(exc).__name__
    return None


def bench_settings_env(upstream: Upstream, database_url: str) -> dict[str, str]:
    """The settings of a watcher polling `upstream`, with the console as the only channel."""
    return {
        "FLINKS_CLIENT_ID": CLIENT_ID,
        "FLINKS_CLIENT_SECRET": CLIENT_SECRET,
        "FLINKS_BASE_URL": upstream.base_url,
        "FLINKS_TOKEN_URL": upstream.token_url,
        "DATABASE_URL": database_url,
        # The rows were requested up to three weeks ago: with the default limits most would be
        # reminded at the first sync (SPEC 11). Off, so the cycle figures stay comparable with
        # earlier runs; the estimates step (bench/estimates.py) times the late limits' fold.
        "STUCK_AFTER": "",
        "LATE_AFTER": "",
    }


def bench_settings(upstream: Upstream, database_url: str) -> Settings:
    """Those settings as the in-process benchmarks build the watcher with: the console only,
    whatever the environment says of Slack, email or a recipient; migrated on start."""
    env = bench_settings_env(upstream, database_url)
    return load_settings(
        **{k.lower(): v for k, v in env.items()},
        slack_bot_token=None,
        slack_channel="",
        slack_webhook_url=None,
        smtp_host="",
        email_from="",
        email_to="",
        flinks_recipient_id="",
        auto_migrate=True,
    )


# ---- idle service -------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _service(env: dict[str, str], cwd: Path) -> Iterator[tuple[subprocess.Popen[str], bool]]:
    # Settings read .env from the working directory: an empty one keeps the user's out.
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "run"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    polled = threading.Event()

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:  # drained to the end so the pipe never fills
            if "poll.done" in line:
                polled.set()

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    try:
        yield proc, polled.wait(IDLE_TIMEOUT)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)


def idle_service_rss(rows: int, workdir: Path, *, migrated: bool = False) -> tuple[float, float]:
    """Start the real `flinkswatch run` against `rows` simulated rows on SQLite; once it has
    polled, return its (VmRSS, VmHWM) in MiB. `migrated`: the database is migrated first, as
    at every start but the first (a start on a current schema never imports Alembic)."""
    upstream = Upstream(rows, seed=1)
    home = workdir / f"idle-{rows}{'-migrated' if migrated else ''}"
    home.mkdir(parents=True, exist_ok=True)
    (home / ".env").write_text("")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(_SETTING_PREFIXES)},
        **bench_settings_env(upstream, f"sqlite:///{home / 'idle.db'}"),
        "POLL_INTERVAL_SECONDS": "3600",
        "HTTP_PORT": str(_free_port()),
        "LOG_LEVEL": "INFO",
    }
    try:
        if migrated:
            migrate = [sys.executable, "-m", "app", "migrate"]
            subprocess.run(migrate, env=env, cwd=home, check=True, capture_output=True)  # noqa: S603
        with _service(env, home) as (proc, polled):
            if not polled:
                raise RuntimeError(f"flinkswatch run did not poll within {IDLE_TIMEOUT:.0f} s")
            time.sleep(0.5)  # let the metrics refresh after the cycle finish, as when idle
            return rss_mib(proc.pid), _status_kib("VmHWM", proc.pid) / 1024
    finally:
        upstream.close()


# Settings of the user's environment must not leak into the measured service (Slack, SMTP...).
_SETTING_PREFIXES = (
    "FLINKS_",
    "SLACK_",
    "SMTP_",
    "EMAIL_",
    "DATABASE_",
    "HTTP_",
    "POLL_",
    "LOG_",
    "REMOVAL_",
    "DELIVERY_",
    "AUTO_",
)
