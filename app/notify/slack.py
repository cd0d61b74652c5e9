"""Slack channels: a bot token with chat.postMessage, or an incoming webhook.

Neither retries inside the call (the delivery outbox does, honouring Retry-After); every failure
becomes a DeliveryFailure classified permanent or transient, never naming the token or the URL.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from http.client import HTTPException
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient

from app.domain import BaselineSummary, DeliveryFailure, Event
from app.notify.deliver import Channel, Outgoing
from app.notify.render import SlackMessage, clean, slack_messages
from app.notify.routing import Filter
from app.notify.slack_threads import SlackThreads
from app.retry_after import header, retry_after_seconds

log = logging.getLogger(__name__)

RETRY_AFTER_MAX = 3600.0
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "fatal_error",
        "internal_error",
        "request_timeout",
        "service_unavailable",
        "team_added_to_org",
        "org_login_required",
    }
)
PERMANENT_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "no_permission",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_blocks",
        "invalid_arguments",
        "as_user_not_supported",
        "ekm_access_denied",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "invalid_payload",
        "no_service",
        "no_team",
        "invalid_token",
        "action_prohibited",
        "user_not_found",
        "channel_is_archived",
        "missing_text_or_fallback_or_attachments",
        "posting_to_general_channel_denied",
    }
)
# URLError, timeouts, refused and reset connections are all OSError; RemoteDisconnected is both.
NETWORK_ERRORS = (OSError, HTTPException)
_ERROR_CODE = re.compile(r"[a-z_]{1,60}")


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
        self._client = WebClient(
            token=token,
            base_url=api_url,
            timeout=max(1, round(timeout)),
            retry_handlers=[],
            logger=_quiet_logger("flinkswatch.slack_sdk"),
        )

    def render(self, events: Sequence[Event], summary: BaselineSummary | None) -> list[Outgoing]:
        messages = slack_messages(events, summary, threaded=self._threads is not None)
        return _outgoing(messages, self.post, self.channel)

    def post(self, message: SlackMessage) -> str | None:
        """Send one rendered message, in its registration's thread if it has one; raises
        DeliveryFailure. A first message about one registration becomes that thread's root."""
        key = message.thread_key if self._threads is not None else None
        root = self._threads.root(self.channel, key) if self._threads and key else None
        channel, thread_ts = root if root is not None else (self.channel, None)
        try:
            response = self._client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            raise self._failure("chat.postMessage", exc.response) from None
        except SlackClientError as exc:
            raise DeliveryFailure(
                f"Slack client error: {type(exc).__name__}", permanent=True
            ) from None
        except NETWORK_ERRORS as exc:
            raise DeliveryFailure(f"Slack unreachable: {_network(exc)}", permanent=False) from None
        posted_in, ts = str(response.get("channel", channel)), str(response.get("ts", ""))
        if self._threads is not None and key is not None and root is None and ts:
            self._threads.remember(self.channel, key, posted_in, ts)
        return f"{posted_in}:{ts}"

    def check(self) -> str:
        """Call auth.test: 'Slack bot ok (team X, user Y)', or raise DeliveryFailure."""
        try:
            response = self._client.auth_test()
        except SlackApiError as exc:
            raise self._failure("auth.test", exc.response) from None
        except NETWORK_ERRORS as exc:
            raise DeliveryFailure(f"Slack unreachable: {_network(exc)}", permanent=False) from None
        team, user = (
            clean(response.get("team", "?")),
            clean(response.get("user", "?")),
        )
        return f"Slack bot ok (team {team}, user {user})"

    def _failure(self, method: str, response: SlackResponse) -> DeliveryFailure:
        status = response.status_code
        data = response.data if isinstance(response.data, dict) else {}
        raw = str(data.get("error", ""))
        error = raw if _ERROR_CODE.fullmatch(raw) else "unexpected_response"
        text = f"Slack {method} failed: {error} (HTTP {status})"
        if error in ("not_in_channel", "channel_not_found"):
            text += (
                f"; invite the bot to {clean(self.channel, 80)}, check the channel name,"
                " or add the chat:write.public scope"
            )
        return _classify(text, status, error, response.headers)


class SlackWebhookChannel(Channel):
    """Posts to an incoming webhook. The URL is a secret: it never appears in logs or errors."""

    name: str = "slack_webhook"
    min_interval: float = 1.0

    def __init__(self, url: str, timeout: float) -> None:
        self._url = url
        self._client = WebhookClient(
            url,
            timeout=max(1, round(timeout)),
            retry_handlers=[],
            logger=_quiet_logger("flinkswatch.slack_webhook_sdk"),
        )

    def render(self, events: Sequence[Event], summary: BaselineSummary | None) -> list[Outgoing]:
        return _outgoing(slack_messages(events, summary), self.post)

    def post(self, message: SlackMessage) -> str | None:
        """Send one rendered message; raises DeliveryFailure. Webhooks give no message ref."""
        try:
            response = self._client.send(
                text=message.text, blocks=message.blocks, unfurl_links=False, unfurl_media=False
            )
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
            return None
        error = body if _ERROR_CODE.fullmatch(body) else "unexpected_response"
        text = f"Slack webhook failed: {error} (HTTP {status})"
        raise _classify(text, status, error, response.headers)

    def check(self) -> str:
        return "Slack webhook configured (not tested: testing it would post a message)"


def _classify(text: str, status: int, error: str, headers: Mapping[str, object]) -> DeliveryFailure:
    if status == 429 or error in ("ratelimited", "rate_limited"):
        return DeliveryFailure(text, permanent=False, retry_after=retry_after(headers))
    if status >= 500 or error in TRANSIENT_ERRORS:
        return DeliveryFailure(text, permanent=False)
    if error in PERMANENT_ERRORS or 400 <= status < 500:
        return DeliveryFailure(text, permanent=True)
    # An ok:false error we do not know: retried, bounded by the outbox's max attempts.
    return DeliveryFailure(text, permanent=False)


def retry_after(headers: Mapping[str, object], now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), clamped; None if absent."""
    return retry_after_seconds(header(headers), now, low=1.0, high=RETRY_AFTER_MAX)


def _network(exc: BaseException) -> str:
    reason = exc.reason if isinstance(exc, URLError) else exc
    detail = " ".join(str(reason).split())[:200]
    return f"{type(reason).__name__}: {detail}" if detail else type(reason).__name__
