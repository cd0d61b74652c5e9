"""An Apprise channel: one URL of APPRISE_URLS (Microsoft Teams, Discord, PagerDuty, ntfy, a
generic json:// endpoint...), with the guarantees of every other channel (the outbox retries it).

One Apprise object per URL, so a failure is this URL's. A send is one `notify()` with an overall
deadline; its result and what Apprise logged at WARNING or ERROR during that call are the
reason of a failed attempt. No redirect is followed (the URL may carry credentials). The URL is
a secret: only its scheme and host are ever shown, and the reason is scrubbed of its parts.
Pacing and size follow each service's documented limits (SERVICE_LIMITS).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import apprise

from app.config.destinations import quiet_apprise
from app.core.routing import Filter
from app.core.text import one_line
from app.delivery import DeliveryFailure
from app.domain import BaselineSummary, Event
from app.notify.channel import Channel, Outgoing
from app.notify.markdown_render import MARKDOWN_LIMIT, MarkdownMessage, markdown_messages
from app.notify.url_view import scrub, where


@dataclass(frozen=True, slots=True)
class Limits:
    interval: float  # seconds between two messages
    body: int  # characters of one body


DEFAULT_LIMITS = Limits(1.0, MARKDOWN_LIMIT)
# Discord: 30 messages a minute per webhook, 2,000 characters. Teams (Workflows and the old
# connectors): 4 requests a second, kept to 1. PagerDuty Events v2: 120 events a minute per
# key, a summary of 1,024 characters. ntfy.sh: a burst of 60, then one request per 5 s, 4,096
# bytes. Telegram: 20 messages a minute to a group, 4,096 characters.
SERVICE_LIMITS = {
    "discord": Limits(2.0, 1900),
    "workflow": Limits(1.0, MARKDOWN_LIMIT),
    "workflows": Limits(1.0, MARKDOWN_LIMIT),
    "pagerduty": Limits(0.5, 1000),
    "ntfy": Limits(5.0, 3500),
    "ntfys": Limits(5.0, 3500),
    "tgram": Limits(3.0, 3500),
}
quiet_apprise()  # before any plugin loads: see its docstring
_HTTP_STATUS = re.compile(r"\berror=(\d{3})\b")


class AppriseChannel(Channel):
    """Sends each poll's alerts as Markdown messages to one Apprise URL."""

    def __init__(self, url: str, name: str, timeout: float, accepts: Filter | None = None) -> None:
        self.name = name
        self.filter = accepts or Filter()
        self.where = where(url)
        self._url = url
        self._timeout = timeout
        asset = apprise.AppriseAsset(http_redirects=False)
        plugin = apprise.Apprise.instantiate(url, asset=asset)
        if plugin is None:
            raise DeliveryFailure(f"{self.where}: not a URL Apprise can use", permanent=True)
        plugin.redirects = False  # even if the URL says redirect=yes: credentials stay here
        self._apprise = apprise.Apprise(asset=asset)
        self._apprise.add(plugin)
        # The service's own scheme, also for a native URL (https://discord.com/api/webhooks/...).
        canonical = plugin.url(privacy=True)  # type: ignore[no-untyped-call]
        scheme = str(canonical).partition("://")[0].lower()
        limits = SERVICE_LIMITS.get(scheme, DEFAULT_LIMITS)
        self.min_interval, self._body_limit = limits.interval, limits.body

    def render(self, events: Sequence[Event], summary: BaselineSummary | None) -> list[Outgoing]:
        if not events and summary is None:
            return []
        return [
            Outgoing(
                m.event_indexes,
                m.summary,
                functools.partial(self.post, m),
                f"To: {self.where}\nTitle: {m.title}\n\n{m.body}",
            )
            for m in markdown_messages(events, summary, self._body_limit)
        ]

    def post(self, message: MarkdownMessage) -> str | None:
        """One notify() within the deadline; raises DeliveryFailure with Apprise's reason."""
        try:
            result = self._apprise.notify(
                title=message.title,
                body=message.body,
                body_format=apprise.NotifyFormat.MARKDOWN,
                timeout=self._timeout,
            )
        except Exception as exc:  # noqa: BLE001 - Apprise's own error may quote the URL
            raise DeliveryFailure(
                f"{self.where}: Apprise failed: {type(exc).__name__}", permanent=False
            ) from None
        if result:
            return None
        raise self._failure(result)

    def check(self) -> str:
        return f"{self.where} configured (it can only be verified by sending: notify-test)"

    def _failure(self, result: apprise.AppriseResult) -> DeliveryFailure:
        said = [
            scrub(entry.message, self._url)
            for entry in result.logs()
            if str(entry.level).upper() in ("WARNING", "ERROR", "CRITICAL")
        ]
        status = getattr(result.status, "name", str(result.status)).lower()
        reason = "; ".join(dict.fromkeys(s for s in said if s)) or f"Apprise said {status}"
        code = next((int(m[1]) for s in said if (m := _HTTP_STATUS.search(s))), None)
        # A refusal a retry cannot fix (bad token, unknown hook) needs a person; the rest passes.
        permanent = code is not None and 400 <= code < 500 and code not in (408, 429)
        return DeliveryFailure(f"{self.where}: {one_line(reason)[:300]}", permanent=permanent)
