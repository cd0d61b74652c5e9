"""Log lines: key=value text, JSON objects, and secrets redacted whatever the source."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from app import logs


@pytest.fixture
def restore_root() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    hooks = sys.excepthook, threading.excepthook
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)
    sys.excepthook, threading.excepthook = hooks


def test_secret_is_redacted_from_message_and_traceback(
    restore_root: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("INFO", "text", secrets=["xoxb-very-secret-token"])
    log = logging.getLogger("test.redact")
    log.warning("slack.failed url=https://hooks/xoxb-very-secret-token/x")
    try:
        raise RuntimeError("token xoxb-very-secret-token rejected")
    except RuntimeError:
        log.exception("boom")
    err = capsys.readouterr().err
    assert "xoxb-very-secret-token" not in err
    assert err.count(logs.REDACTED) >= 2
    assert "slack.failed url=https://hooks/[REDACTED]/x" in err


def test_json_format_has_event_and_pairs(
    restore_root: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("INFO", "json")
    token = logs.poll_id_var.set("abc123")
    try:
        logging.getLogger("test.json").info("poll.done outcome=ok rows=%d", 3)
    finally:
        logs.poll_id_var.reset(token)
    line = capsys.readouterr().err.strip()
    record = json.loads(line)
    assert record["event"] == "poll.done"
    assert (record["outcome"], record["rows"], record["poll"]) == ("ok", "3", "abc123")
    assert record["level"] == "info"
    assert record["ts"].endswith("Z")


def test_text_format_is_one_line_with_level(
    restore_root: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("WARNING", "text")
    logging.getLogger("test.text").info("hidden")
    logging.getLogger("test.text").warning("delivery.failed channel=slack")
    err = capsys.readouterr().err
    assert "hidden" not in err
    (line,) = err.strip().splitlines()
    assert "WARNING delivery.failed channel=slack" in line


def test_secret_is_redacted_in_its_url_json_and_repr_spellings(
    restore_root: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = 'p@ss w/rd"q'
    logs.configure("INFO", "json", secrets=[secret])
    log = logging.getLogger("test.spellings")
    log.warning("db.failed url=postgresql://u:%s@db/x", quote(secret, safe=""))
    log.warning("slack.failed body=%s", json.dumps({"password": secret}))
    log.warning("smtp.failed error=%r", f"login {secret} refused")
    err = capsys.readouterr().err
    assert quote(secret, safe="") not in err
    assert secret not in err
    assert json.dumps(secret)[1:-1] not in err
    assert err.count(logs.REDACTED) >= 3


def test_short_secrets_are_redacted_whole_and_garble_nothing(
    restore_root: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("INFO", "text", secrets=["o", "ab", "abc", ""])
    logging.getLogger("test.short").info(
        "db.error url=postgresql://u:o@h/db user=ab abc=1 reason='connection to server: about'"
    )
    err = capsys.readouterr().err
    assert "reason='connection to server: about'" in err  # nothing inside a word
    assert "url=postgresql://u:[REDACTED]@h/db user=[REDACTED] [REDACTED]=1" in err


def test_json_pairs_keep_quoted_values_with_spaces_whole(
    restore_root: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("INFO", "json")
    logging.getLogger("test.quoted").warning(
        "poll.done outcome=failed rows=0 error=%r detail=%r level=spoofed",
        "Flinks unavailable: GET x failed after 4 attempt(s), last: HTTP 503",
        'say "hi"',
    )
    record = json.loads(capsys.readouterr().err)
    assert record["error"] == "Flinks unavailable: GET x failed after 4 attempt(s), last: HTTP 503"
    assert record["detail"] == 'say "hi"'
    assert (record["outcome"], record["rows"]) == ("failed", "0")
    assert record["level"] == "warning"  # a message cannot overwrite the envelope


def test_correlation_id_is_on_every_line_of_a_poll_and_only_there(
    restore_root: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("INFO", "text")
    log = logging.getLogger("test.poll")
    log.info("service.started")
    token = logs.poll_id_var.set("c0ffee123456")
    try:
        log.info("flinks.token_obtained expires_in=299")
        log.info("poll.done outcome=ok")
    finally:
        logs.poll_id_var.reset(token)
    log.info("service.stopping")
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.endswith(" poll=c0ffee123456") for line in lines] == [False, True, True, False]


def test_uncaught_thread_exception_is_one_redacted_json_record(
    restore_root: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("INFO", "json", secrets=["xoxb-thread-secret"])

    def crash() -> None:
        raise RuntimeError("posting with xoxb-thread-secret failed")

    # pytest wraps threading.excepthook per test; call ours as the thread machinery would.
    hook = threading.excepthook
    thread = threading.Thread(target=lambda: None, name="worker")
    try:
        crash()
    except RuntimeError:
        exc_type, exc, tb = sys.exc_info()
        assert exc_type is not None
        hook(threading.ExceptHookArgs((exc_type, exc, tb, thread)))  # type: ignore[call-arg]
    record = json.loads(capsys.readouterr().err)
    assert (record["event"], record["thread"], record["level"]) == (
        "process.uncaught_exception",
        "worker",
        "critical",
    )
    assert "RuntimeError" in record["exception"]
    assert "xoxb-thread-secret" not in json.dumps(record)
