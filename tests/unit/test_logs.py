"""Log lines: key=value text, JSON objects, and secrets redacted whatever the source."""

from __future__ import annotations

import json
import logging

import pytest

from app import logs


@pytest.fixture
def restore_root() -> object:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


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
