"""Logging: one line per event name with key=value pairs, or one JSON object per line.

Every line passes a redaction filter that knows the configured secrets, so even a secret that
slipped into an exception message from a library never reaches the output.
"""

from __future__ import annotations

import ast
import contextvars
import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType

from app.core.redact import REDACTED, Redactor
from app.core.text import iso_z

poll_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("poll_id", default=None)
"""Correlation id of the poll cycle in progress, added to every line logged during it."""

__all__ = ["REDACTED", "RedactingFilter", "configure", "poll_id_var"]


class RedactingFilter(logging.Filter):
    """Replaces every known secret value, and every credential-shaped text, in the rendered
    message with [REDACTED] (app.core.redact: whole tokens, so a short secret garbles nothing)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.redact = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self.redact(record.getMessage()), None
        record.exc_text = self.redact(record.exc_text or "") or None
        record.stack_info = self.redact(record.stack_info or "") or None
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
            "ts": iso_z(datetime.fromtimestamp(record.created, UTC)),
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


_PAIR = re.compile(r"""(?:^|\s)([A-Za-z_]\w*)=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S*)""")
_RESERVED = frozenset({"ts", "level", "logger", "event", "message", "poll", "exception"})


def _pairs(text: str) -> dict[str, str]:
    """`a=1 b='two words'` -> {"a": "1", "b": "two words"}: values logged with %r are quoted
    and may hold spaces. Words without `=` are left in `message` only."""
    pairs = {}
    for key, value in _PAIR.findall(text):
        if key not in _RESERVED:
            pairs[key] = _unquote(value)
    return pairs


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        try:
            unquoted = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
        return unquoted if isinstance(unquoted, str) else value
    return value


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
    _route_uncaught_exceptions()
    # Libraries log request lines and URLs at INFO; keep them out unless debugging.
    for noisy in ("httpx", "httpcore", "apscheduler", "slack_sdk", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING if level != "DEBUG" else logging.INFO)
    # stamina's `stamina.retry_scheduled` WARNING says nothing of what is retried or why: the
    # callers log their own line (flinks.retry ...), so the library's is kept for debugging.
    logging.getLogger("stamina").setLevel(logging.ERROR if level != "DEBUG" else logging.DEBUG)


def _route_uncaught_exceptions() -> None:
    """Uncaught exceptions (main or any thread) go through logging, so they are redacted and,
    with LOG_FORMAT=json, one JSON object instead of a raw traceback on stderr."""
    crash = logging.getLogger("flinkswatch.crash")

    def hook(
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
        thread: str = "main",
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        crash.critical("process.uncaught_exception thread=%s", thread, exc_info=(exc_type, exc, tb))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            name = args.thread.name if args.thread is not None else "?"
            hook(args.exc_type, args.exc_value, args.exc_traceback, name)

    sys.excepthook = hook
    threading.excepthook = thread_hook
