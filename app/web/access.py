"""WEB_AUTH (SPEC 10): who may see the pages. Health, readiness and metrics never ask."""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import re
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
    # WEB_ALLOWED_HOSTS: names besides the loopback ones a `none` page answers to (lower case).
    allowed_hosts: tuple[str, ...] = ()

    def check(self, host: str) -> None:
        """ConfigError (one line) for a combination that would serve data to anyone."""
        if self.mode == "basic" and not (self.username and self.password):
            raise ConfigError("WEB_AUTH=basic needs WEB_USERNAME and WEB_PASSWORD")
        if self.mode == "none" and not is_loopback(host):
            raise ConfigError(
                f"WEB_AUTH=none is allowed only on a loopback HTTP_HOST, not {host!r}"
                " (use basic, or proxy behind an authenticating proxy)"
            )
        wild = [name for name in self.allowed_hosts if not _HOST_NAME.fullmatch(name)]
        if wild:
            raise ConfigError(
                f"WEB_ALLOWED_HOSTS: {wild[0]!r} is not a host name (names only, no port,"
                " no wildcard)"
            )

    def host_allowed(self, host: str) -> bool:
        """Whether a request's Host may see the pages. Under `none` only a loopback name or
        address, or a WEB_ALLOWED_HOSTS name: a page on another site whose name an attacker
        re-points at 127.0.0.1 (DNS rebinding) reaches our loopback server, but its requests
        carry that site's name. `basic` and `proxy` check it only when WEB_ALLOWED_HOSTS is set
        (under `proxy` such a page could send the proxy's header itself)."""
        if self.mode != "none" and not self.allowed_hosts:
            return True
        name = host_name(host)
        return is_loopback(name) or name in self.allowed_hosts

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


_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


def host_name(host: str) -> str:
    """A Host header's name or address: lower case, without port, brackets or final dot."""
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8080
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def parse_allowed_hosts(value: str) -> tuple[str, ...]:
    """WEB_ALLOWED_HOSTS (comma-separated) -> its names, lower case, blanks dropped."""
    return tuple(name.strip().lower().rstrip(".") for name in value.split(",") if name.strip())


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False
