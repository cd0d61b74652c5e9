"""Slack channels: a bot token with chat.postMessage, or an incoming webhook. Neither retries inside
the call (the delivery outbox does, honouring Retry-After); every failure becomes a
DeliveryFailure classified permanent or transient, never naming the token or the URL. Transient
means known to pass: rate limits, Slack's documented server-side errors, 408, 5xx, network
errors, and a 2xx answer that is not Slack's (a proxy or captive portal page). Every other error,
including an `ok: false` code we do not know, is permanent: retrying cannot fix what we do not
understand, and a person should look."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from http.client import HTTPException
from typing import Any
from urllib.error import URLError

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse

from app import deadline
from app.core.retry_after import header, retry_after_seconds
from app.core.routing import Filter
from app.delivery import DeliveryFailure
from app.domain import BaselineSummary, Event
from app.notify.buttons import slack_alerts
from app.notify.channel import Channel, Outgoing
from app.notify.render import SlackMessage, clean
from app.notify.same_origin import RedirectRefused
from app.notify.slack_clients import SameOriginWebClient, SameOriginWebhookClient
from app.notify.slack_threads import SlackThreads

log = logging.getLogger(__name__)

RETRY_AFTER_MAX = 3600.0
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "fatal_error", "internal_error", "request_timeout"}
    | {"service_unavailable", "team_added_to_org", "org_login_required"}
)
# URLError, timeouts, refused and reset connections are all OSError; RemoteDisconnected is both.
NETWORK_ERRORS = (OSError, HTTPException)
# What the SDK raises on an answer it cannot read: a body in an unknown or wrong charset, JSON
# that is not an object (it calls .get on it). Never a usable answer from Slack.
UNREADABLE_ANSWER = (UnicodeError, LookupError, AttributeError)
_ERROR_CODE = re.compile(r"[a-z_]{1,60}")
NOT_SLACK = "not an answer from Slack"


def _quiet_logger(name: str) -> logging.Logger:
    # slack-sdk logs request headers (the token) at DEBUG and the webhook URL in some errors.
    # Every failure it sees is re-raised and reported by us as one line, so it stays silent.
    logger = logging.getLogger(name)
    logger.setLevel(logging.CRITICAL)
    return logger


def _outgoing(
    messages: list[SlackMessage],
    post: Callable[[SlackMessage], str | None],
    channel: str | None = None,
) -> list[Outgoing]:
    return [
        Outgoing(
            message.event_indexes,
            message.summary,
            functools.partial(post, message),
            _preview(message, channel),
        )
        for message in messages
    ]


def _preview(message: SlackMessage, channel: str | None) -> str:
    payload: dict[str, object] = {"channel": channel} if channel else {}
    payload |= {"text": message.text, "blocks": message.blocks}
    return json.dumps(payload, indent=2, ensure_ascii=False)


class SlackBotChannel(Channel):
    """Posts with chat.postMessage; the external ref is "channel:ts" of the message. With
    `threads`, a message about one registration replies in that registration's thread."""

    min_interval: float = 1.0
    buttons: bool = False  # Slack interactivity is configured (SPEC 12)

    def __init__(
        self,
        token: str,
        channel: str,
        api_url: str,
        timeout: float,
        name: str = "slack",
        threads: SlackThreads | None = None,
        accepts: Filter | None = None,
    ) -> None:
        self.name = name
        self.filter = accepts or Filter()
        self.channel = channel
        self._threads = threads
        self._deadline = deadline.call_seconds(timeout)
        self._client = SameOriginWebClient(
            token=token,
            base_url=api_url,
            timeout=max(1, round(timeout)),
            retry_handlers=[],
            logger=_quiet_logger("flinkswatch.slack_sdk"),
        )

    def render(self, events: Sequence[Event], summary: BaselineSummary | None) -> list[Outgoing]:
        threaded = self._threads is not None
        return _outgoing(
            slack_alerts(events, summary, self.buttons, threaded), self.post, self.channel
        )

    def post(self, message: SlackMessage) -> str | None:
        """Send one rendered message, in its registration's thread if it has one; raises
        DeliveryFailure. A first message about one registration becomes that thread's root."""
        key = message.thread_key if self._threads is not None else None
        root = self._threads.root(self.channel, key) if self._threads and key else None
        channel, thread_ts = root if root is not None else (self.channel, None)
        response = self._call(
            "chat.postMessage",
            functools.partial(
                self._client.chat_postMessage,
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            ),
        )
        posted_in, ts = str(response.get("channel", channel)), str(response.get("ts", ""))
        if self._threads is not None and key is not None and root is None and ts:
            self._threads.remember(self.channel, key, posted_in, ts)
        return f"{posted_in}:{ts}"

    def check(self) -> str:
        """Call auth.test: 'Slack bot ok (team X, user Y)', or raise DeliveryFailure."""
        response = self._call("auth.test", self._client.auth_test)
        team, user = (
            clean(response.get("team", "?")),
            clean(response.get("user", "?")),
        )
        return f"Slack bot ok (team {team}, user {user})"

    def _call(self, method: str, call: Callable[[], SlackResponse]) -> SlackResponse:
        """One Web API call within its deadline; any failure as a DeliveryFailure."""
        with deadline.channel_call(self._deadline, "Slack", "SLACK_TIMEOUT_SECONDS"):
            return self._attempt(method, call)

    def _attempt(self, method: str, call: Callable[[], SlackResponse]) -> SlackResponse:
        """The call; any failure as a DeliveryFailure (the SDK's own exceptions carry the
        request, the token among it, so none is chained)."""
        try:
            return call()
        except SlackApiError as exc:
            raise self._failure(method, exc.response) from None
        except RedirectRefused as exc:  # SLACK_API_URL answered a redirect elsewhere
            raise DeliveryFailure(f"Slack {method} failed: {exc}", permanent=True) from None
        except SlackClientError as exc:
            raise DeliveryFailure(
                f"Slack client error: {type(exc).__name__}", permanent=True
            ) from None
        except NETWORK_ERRORS as exc:
            raise DeliveryFailure(f"Slack unreachable: {_network(exc)}", permanent=False) from None
        except UNREADABLE_ANSWER as exc:
            text = f"Slack {method} failed: {NOT_SLACK} (unreadable: {type(exc).__name__})"
            raise DeliveryFailure(text + _NOT_SLACK_HINT_API, permanent=False) from None

    def _failure(self, method: str, response: SlackResponse) -> DeliveryFailure:
        status = response.status_code
        data = response.data if isinstance(response.data, dict) else {}
        raw = data.get("error") if data.get("ok") is False else None
        if isinstance(raw, str) and _ERROR_CODE.fullmatch(raw):
            error = raw  # Slack's own answer: {"ok": false, "error": "<code>"}
        elif 200 <= status < 300:
            # HTML or anything else with a success status: something else answered for Slack.
            text = f"Slack {method} failed: {NOT_SLACK} (HTTP {status})"
            return DeliveryFailure(text + _NOT_SLACK_HINT_API, permanent=False)
        else:
            error = "unexpected_response"
        text = f"Slack {method} failed: {error} (HTTP {status})"
        if error in ("not_in_channel", "channel_not_found"):
            text += (
                f"; invite the bot to {clean(self.channel, 80)}, check the channel name,"
                " or add the chat:write.public scope"
            )
        return _classify(text, status, error, response.headers)

    # ---- the board (SPEC 10, app.watch.boardwatch) --------------------------------------------
    def post_board(self, text: str, blocks: list[dict[str, Any]]) -> tuple[str, str]:
        """Post the board message: (channel ID, ts)."""
        post = functools.partial(
            self._client.chat_postMessage, channel=self.channel, text=text, blocks=blocks
        )
        response = self._call("chat.postMessage", post)
        return str(response.get("channel", self.channel)), str(response.get("ts", ""))

    def update_board(
        self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        update = functools.partial(
            self._client.chat_update, channel=channel_id, ts=ts, text=text, blocks=blocks
        )
        self._call("chat.update", update)

    def pin(self, channel_id: str, ts: str) -> None:
        self._call(
            "pins.add", functools.partial(self._client.pins_add, channel=channel_id, timestamp=ts)
        )


class SlackWebhookChannel(Channel):
    """Posts to an incoming webhook. The URL is a secret: it never appears in logs or errors."""

    name: str = "slack_webhook"
    min_interval: float = 1.0
    buttons: bool = False  # Slack interactivity is configured (SPEC 12)

    def __init__(self, url: str, timeout: float) -> None:
        self._url = url
        self._deadline = deadline.call_seconds(timeout)
        self._client = SameOriginWebhookClient(
            url,
            timeout=max(1, round(timeout)),
            retry_handlers=[],
            logger=_quiet_logger("flinkswatch.slack_webhook_sdk"),
        )

    def render(self, events: Sequence[Event], summary: BaselineSummary | None) -> list[Outgoing]:
        return _outgoing(slack_alerts(events, summary, self.buttons), self.post)

    def post(self, message: SlackMessage) -> str | None:
        """Send one rendered message within its deadline; raises DeliveryFailure. Webhooks give
        no message ref."""
        with deadline.channel_call(self._deadline, "Slack webhook", "SLACK_TIMEOUT_SECONDS"):
            return self._post(message)

    def _post(self, message: SlackMessage) -> str | None:
        try:
            response = self._client.send(
                text=message.text, blocks=message.blocks, unfurl_links=False, unfurl_media=False
            )
        except RedirectRefused as exc:
            raise DeliveryFailure(f"Slack webhook failed: {exc}", permanent=True) from None
        except UNREADABLE_ANSWER as exc:  # before ValueError: UnicodeError is one
            text = f"Slack webhook failed: {NOT_SLACK} (unreadable: {type(exc).__name__})"
            raise DeliveryFailure(text + _NOT_SLACK_HINT_WEBHOOK, permanent=False) from None
        except (SlackClientError, ValueError):
            # The SDK's message would quote the URL, which is the secret.
            raise DeliveryFailure(
                "SLACK_WEBHOOK_URL is not a usable http(s) URL", permanent=True
            ) from None
        except NETWORK_ERRORS as exc:
            detail = _network(exc).replace(self._url, "[webhook]")
            raise DeliveryFailure(f"Slack webhook unreachable: {detail}", permanent=False) from None
        status, body = response.status_code, (response.body or "").strip()
        if 200 <= status < 300:
            if body == "ok":  # what Slack answers, and the only proof the message was taken
                return None
            text = f"Slack webhook failed: {NOT_SLACK} (HTTP {status})"
            raise DeliveryFailure(text + _NOT_SLACK_HINT_WEBHOOK, permanent=False)
        error = body if _ERROR_CODE.fullmatch(body) else "unexpected_response"
        text = f"Slack webhook failed: {error} (HTTP {status})"
        raise _classify(text, status, error, response.headers)

    def check(self) -> str:
        return "Slack webhook configured (not tested: testing it would post a message)"


_NOT_SLACK_HINT_API = "; check SLACK_API_URL and any proxy or captive portal on the way"
_NOT_SLACK_HINT_WEBHOOK = "; check SLACK_WEBHOOK_URL and any proxy or captive portal on the way"


def _classify(text: str, status: int, error: str, headers: Mapping[str, object]) -> DeliveryFailure:
    """Transient only when known to pass; anything else (invalid_auth, channel_not_found, any
    other 4xx, an error code we do not know) is permanent and gives up at the max attempts."""
    if status == 429 or error in ("ratelimited", "rate_limited"):
        wait = retry_after(headers)
        return DeliveryFailure(text, permanent=False, retry_after=wait, code=error)
    if status >= 500 or status == 408 or error in TRANSIENT_ERRORS:
        return DeliveryFailure(text, permanent=False, code=error)
    return DeliveryFailure(text, permanent=True, code=error)


def retry_after(headers: Mapping[str, object], now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), clamped; None if absent."""
    return retry_after_seconds(header(headers), now, low=1.0, high=RETRY_AFTER_MAX)


def _network(exc: BaseException) -> str:
    reason = exc.reason if isinstance(exc, URLError) else exc
    detail = " ".join(str(reason).split())[:200]
    return f"{type(reason).__name__}: {detail}" if detail else type(reason).__name__
