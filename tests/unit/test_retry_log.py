"""Issue 15 item 5: a retried Flinks request logs our own line (what, attempt n of m, the wait,
why), and stamina's bare `stamina.retry_scheduled` WARNING is kept out of the output."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from app import logs
from app.flinks.listing import FlinksUnavailable
from app.flinks.retries import ATTEMPTS, send_with_retries

URL = httpx.URL("https://api.flinks.example/api/v1/recipients/providers/requests")


def _answers(*steps: int | Exception) -> Callable[[httpx.Request], httpx.Response]:
    """A Flinks that answers these statuses (or raises these errors) in turn."""
    queue = list(steps)

    def handler(request: httpx.Request) -> httpx.Response:
        step = queue.pop(0)
        if isinstance(step, Exception):
            raise step
        headers = {"retry-after": "7"} if step == 429 else {}
        return httpx.Response(step, headers=headers, json=[], request=request)

    return handler


def _send(*steps: int | Exception, waits: list[float]) -> httpx.Response:
    with httpx.Client(transport=httpx.MockTransport(_answers(*steps))) as http:
        # The pause is ours to inject: the waits are recorded, never slept.
        return send_with_retries(http, "GET", URL, timeout=5, total_timeout=600, pause=waits.append)


def _retry_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("flinks.retry ")]


def test_each_retry_says_what_which_attempt_how_long_and_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    waits: list[float] = []
    timeout = httpx.ReadTimeout("timed out")
    assert _send(503, 429, timeout, 200, waits=waits).status_code == 200
    target = "api.flinks.example/api/v1/recipients/providers/requests"
    lines = _retry_lines(caplog)
    assert len(lines) == 3
    assert lines[0].startswith(f"flinks.retry method=GET target={target} attempt=2/{ATTEMPTS} ")
    assert lines[0].endswith(" cause='HTTP 503'")
    # Retry-After: 7 is the wait, said and done.
    assert f"attempt=3/{ATTEMPTS} wait=7.0s cause='HTTP 429'" in lines[1]
    assert f"attempt=4/{ATTEMPTS} " in lines[2]
    assert lines[2].endswith(" cause='ReadTimeout: timed out'")
    assert waits[1] == 7.0
    # The logged waits are the waits made (stamina's jittered backoff otherwise).
    logged = [float(line.split(" wait=")[1].split("s ")[0]) for line in lines]
    assert logged == pytest.approx(waits, abs=0.05)


def test_no_retry_no_line_and_the_last_attempt_is_not_announced(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    _send(200, waits=[])
    assert _retry_lines(caplog) == []
    with pytest.raises(FlinksUnavailable, match=f"after {ATTEMPTS} attempt"):
        _send(*([502] * ATTEMPTS), waits=[])
    assert len(_retry_lines(caplog)) == ATTEMPTS - 1  # announced retries only


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stamina_level = logging.getLogger("stamina").level
    hooks = sys.excepthook, threading.excepthook
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("stamina").setLevel(stamina_level)
    sys.excepthook, threading.excepthook = hooks


def test_the_configured_output_has_our_line_and_not_staminas(
    restore_root: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("INFO", "text")
    _send(503, 200, waits=[])
    err = capsys.readouterr().err
    assert "flinks.retry method=GET" in err
    assert "stamina" not in err
    # The library does log it (so the quiet is ours): at DEBUG it shows.
    logs.configure("DEBUG", "text")
    _send(503, 200, waits=[])
    assert "stamina.retry_scheduled" in capsys.readouterr().err
