"""`flinkswatch run` with WEB_UI: the pages on the run server behind WEB_AUTH, and the unsafe
combinations refused at start (exit 2, one line)."""

from __future__ import annotations

import base64
import signal
import urllib.error
import urllib.request

import pytest

from tests.e2e.conftest import World
from tests.e2e.test_service_e2e import healthz, wait_until
from tests.fakes.smtp_server import free_port


def status_of(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - our own server
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"WEB_AUTH": "none", "HTTP_HOST": "0.0.0.0"},  # noqa: S104 - the case refused
            "WEB_AUTH=none is allowed only on a loopback HTTP_HOST, not '0.0.0.0'",
        ),
        ({"WEB_AUTH": "basic"}, "WEB_AUTH=basic needs WEB_USERNAME and WEB_PASSWORD"),
    ],
)
def test_run_refuses_unsafe_web_access(sqlite_world: World, env: dict[str, str], line: str) -> None:
    result = sqlite_world.run("run", WEB_UI="true", HTTP_PORT=str(free_port()), **env)
    assert result.returncode == 2
    assert line in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_run_serves_the_pages_behind_basic_auth(sqlite_world: World) -> None:
    port = free_port()
    proc = sqlite_world.popen(
        "run",
        HTTP_PORT=str(port),
        WEB_UI="true",
        WEB_USERNAME="ops",
        WEB_PASSWORD="web-secret-password",
    )
    try:
        wait_until(lambda: healthz(port) == 200)
        base = f"http://127.0.0.1:{port}"
        assert status_of(base + "/")[0] == 401
        token = base64.b64encode(b"ops:web-secret-password").decode()
        code, page = status_of(base + "/", {"Authorization": f"Basic {token}"})
        assert code == 200
        assert "Registrations" in page
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "web-secret-password" not in err
