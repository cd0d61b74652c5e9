"""Logging: one line per event name with key=value pairs, or one JSON object per line.

Every line passes a redaction filter that knows the configured secrets, so even a secret that
slipped into an exception message from a library never reaches the output.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

poll_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("poll_id", default=None)
"""Correlation id of the poll cycle in progress, added to every line logged during it."""

REDACTED = "[REDACTED]"


class RedactingFilter(logging.Filter):
    """Replaces every known secret value in the rendered message with [REDACTED]."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        exc_text = record.exc_text or ""
        for secret in self._secrets:
            message = message.replace(secret, REDACTED)
            exc_text = exc_text.replace(secret, REDACTED)
        record.msg, record.args = message, None
        record.exc_text = exc_text or None
        record.poll_id = poll_id_var.get()
        return True


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        poll = getattr(record, "poll_id", None)
        line = f"{stamp[:-4]}Z {record.levelname:<7} {record.getMessage()}"
        if poll:
            line += f" poll={poll}"
        if record.exc_text:
            line += "\n" + record.exc_text
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        event, _, rest = message.partition(" ")
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": event,
        }
        payload.update(_pairs(rest))
        payload["message"] = message
        poll = getattr(record, "poll_id", None)
        if poll:
            payload["poll"] = poll
        if record.exc_text:
            payload["exception"] = record.exc_text
        return json.dumps(payload, ensure_ascii=False, default=str)


def _pairs(text: str) -> dict[str, str]:
    """`a=1 b=two` -> {"a": "1", "b": "two"}; words without `=` are left in `message` only."""
    pairs = {}
    for word in text.split(" "):
        key, sep, value = word.partition("=")
        if sep and key.isidentifier() and key not in {"ts", "level", "logger", "event", "message"}:
            pairs[key] = value
    return pairs


def configure(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Install one stderr handler on the root logger (replacing earlier ones)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries log request lines and URLs at INFO; keep them out unless debugging.
    for noisy in ("httpx", "httpcore", "apscheduler", "slack_sdk", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING if level != "DEBUG" else logging.INFO)
