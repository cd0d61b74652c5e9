"""WEB_AUTH (SPEC 10): who may see the pages. Health, readiness and metrics never ask."""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from dataclasses import dataclass, field

from app.errors import ConfigError

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
SLACK_EVENTS_PATH = "/slack/events"  # signed by Slack (app.web.slackevents), not WEB_AUTH


@dataclass(frozen=True, slots=True)
class Access:
    """`basic` (username and password), `proxy` (a header an authenticating proxy sets) or
    `none` (only while the server listens on a loopback address)."""

    mode: str = "basic"
    username: str = ""
    password: str = field(default="", repr=False)  # a secret: never in a repr or a log line
    proxy_header: str = "X-Forwarded-User"

    def check(self, host: str) -> None:
        """ConfigError (one line) for a combination that would serve data to anyone."""
        if self.mode == "basic" and not (self.username and self.password):
            raise ConfigError("WEB_AUTH=basic needs WEB_USERNAME and WEB_PASSWORD")
        if self.mode == "none" and not is_loopback(host):
            raise ConfigError(
                f"WEB_AUTH=none is allowed only on a loopback HTTP_HOST, not {host!r}"
                " (use basic, or proxy behind an authenticating proxy)"
            )

    def allows(self, headers: dict[str, str]) -> tuple[int, dict[str, str]] | None:
        """None when the request may pass, else (status, extra headers) to refuse it with."""
        if self.mode == "none":
            return None
        if self.mode == "proxy":
            user = headers.get(self.proxy_header.lower(), "").strip()
            return None if user else (403, {})
        if self._basic_ok(headers.get("authorization", "")):
            return None
        return 401, {"WWW-Authenticate": 'Basic realm="flinkswatch", charset="UTF-8"'}

    def _basic_ok(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, sep, password = base64.b64decode(encoded.strip(), validate=True).partition(b":")
        except (binascii.Error, ValueError):
            return False
        # Both compared, always: the time taken says nothing about which one was wrong.
        user_ok = hmac.compare_digest(user, self.username.encode())
        password_ok = hmac.compare_digest(password, self.password.encode())
        return bool(sep) and user_ok and password_ok


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False
