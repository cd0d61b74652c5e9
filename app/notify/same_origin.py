"""Credentials go only where they were configured: a redirect to another origin is refused.

A redirect within the configured origin (scheme, host and port; http -> https on the same host
included) is followed as before. One to anywhere else is not: the Slack bot token, the webhook
and heartbeat URLs would travel with it (urllib keeps the Authorization header across hosts on
a 302). The refusal is a RedirectRefused whose message names the origin it pointed to, never the
URL (which may be the secret itself). The Slack clients that use it: app.notify.slack_clients.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

_DEFAULT_PORTS = {"http": 80, "https": 443}


class RedirectRefused(Exception):
    """A redirect to another origin, not followed: the delivery (or ping) fails on it."""

    def __init__(self, status: int, target: str) -> None:
        super().__init__(
            f"redirected (HTTP {status}) to another host, {_origin_text(target)}: not followed,"
            " credentials go only to the configured host"
        )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def _origin_text(url: str) -> str:
    scheme, host, port = _origin(url)
    return f"{scheme}://{host}:{port}" if host else "an unreadable address"


def same_origin(url: str, target: str) -> bool:
    """True when `target` is `url`'s origin, or its https upgrade on the default port."""
    here, there = _origin(url), _origin(target)
    if here == there:
        return bool(here[1])
    return here[0] == "http" and here[2] == 80 and there == ("https", here[1], 443)


def refuse_cross_origin(response: httpx.Response) -> None:
    """An httpx response hook: raise RedirectRefused before a redirect elsewhere is followed."""
    location = response.headers.get("location")
    if response.is_redirect and location is not None:
        target = str(response.url.join(location))
        if not same_origin(str(response.url), target):
            raise RedirectRefused(response.status_code, target)
