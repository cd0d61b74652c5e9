"""SPEC 8 with the installed command: deleting the SQLite file under `run` or under a `poll` in
progress fails the cycle with a line naming the path, makes /healthz unhealthy, and never leaves
a fresh empty database (nor a second baseline) behind."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from app.demo.simulator import FlinksSimulator
from tests.e2e.conftest import World
from tests.e2e.test_service_e2e import wait_until
from tests.fakes.smtp_server import free_port

pytestmark = pytest.mark.e2e


def healthz(port: int) -> tuple[int, dict[str, object]] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return int(r.status), json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())
    except OSError:
        return None


def database(world: World) -> Path:
    return world.cwd / "data" / "flinkswatch.db"


def test_run_fails_and_goes_unhealthy_when_the_file_is_deleted(
    sqlite_world: World, flinks: FlinksSimulator
) -> None:
    world, port = sqlite_world, free_port()
    world.env["DATABASE_URL"] = "sqlite:///./data/flinkswatch.db"
    proc = world.popen("run", HTTP_PORT=str(port))
    try:
        wait_until(lambda: (healthz(port) or (0,))[0] == 200)
        database(world).unlink()
        wait_until(lambda: (healthz(port) or (0,))[0] == 503)
        answer = healthz(port)
        assert answer is not None
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert f"{database(world)} vanished" in str(answer[1]["reason"])
    assert "Traceback" not in err
    assert "outcome=failed" in err
    assert not database(world).exists()


def test_poll_in_progress_fails_when_the_file_is_deleted(
    sqlite_world: World, flinks: FlinksSimulator
) -> None:
    world = sqlite_world
    world.env["DATABASE_URL"] = "sqlite:///./data/flinkswatch.db"
    assert world.run("poll").returncode == 0  # the baseline
    flinks.delay_next(3)
    before = flinks.listing_requests
    proc = world.popen("poll")
    wait_until(lambda: flinks.listing_requests > before)  # it is waiting for the answer
    database(world).unlink()
    _out, err = proc.communicate(timeout=30)

    assert proc.returncode == 1, err
    assert f"{database(world)} vanished" in err
    assert "Traceback" not in err
    assert not database(world).exists()


def test_poll_with_auto_migrate_off_never_creates_a_database(sqlite_world: World) -> None:
    world = sqlite_world
    world.env["DATABASE_URL"] = "sqlite:///./data/flinkswatch.db"
    done = world.run("poll", AUTO_MIGRATE="false")
    assert done.returncode == 2
    assert (
        f"no database file at {database(world)} and AUTO_MIGRATE is off: restore it" in done.stderr
    )
    assert "Traceback" not in done.stderr
    assert not database(world).exists()
    assert not database(world).parent.exists()
