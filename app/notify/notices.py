"""PURE: the watcher's own alerts (SPEC 8) in words: a title and a few sentences, whatever the
medium. app.notify.render lays them out for Slack, email and the console."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from app.domain import NoticeKind, WatcherNotice
from app.notify.phrases import (
    SLACK_SECTION_LIMIT,
    SLACK_TEXT_LIMIT,
    SlackMessage,
    _duration,
    _fit,
    _header,
    _plain,
    mrkdwn,
)

Escape = Callable[..., str]

# failure_kind -> (the cause in plain words, what to check)
CAUSES: dict[str, tuple[str, str]] = {
    "flinks_auth": (
        "credentials rejected",
        "Flinks refused the partner credentials: rotate FLINKS_CLIENT_SECRET (and check"
        " FLINKS_CLIENT_ID and FLINKS_TOKEN_URL), then run `flinkswatch check`",
    ),
    "flinks_unavailable": (
        "Flinks unreachable",
        "Flinks did not answer or kept failing (connection errors, timeouts, 5xx): check the"
        " network and FLINKS_BASE_URL from this host and Flinks' status; `flinkswatch check`"
        " tries the token and the listing",
    ),
    "flinks_bad_answer": (
        "answers unreadable",
        "Flinks answered with something other than the documented JSON array: check that"
        " FLINKS_BASE_URL is the API (not a login page or a proxy); see `flinkswatch check`",
    ),
    "flinks_request": (
        "requests refused",
        "Flinks refused the listing request: check FLINKS_BASE_URL and FLINKS_RECIPIENT_ID;"
        " see `flinkswatch check`",
    ),
    "database": (
        "database unavailable",
        "the database refused reads or writes: check DATABASE_URL, the disk space and the"
        " database server; see `flinkswatch check`",
    ),
    "database_vanished": (
        "database file vanished",
        "the SQLite file was deleted or replaced under the running service: restore it from a"
        " backup (`flinkswatch backup`) and restart; nothing is written meanwhile",
    ),
}
_UNKNOWN = ("an unexpected error", "see the service's log (poll.unexpected_error) for the cause")
_CHANNEL_ADVICE = {
    "slack": "SLACK_BOT_TOKEN and SLACK_CHANNEL (or SLACK_WEBHOOK_URL) and the bot's scopes",
    "email": "SMTP_HOST, SMTP_PORT, SMTP_SECURITY, SMTP_USERNAME/SMTP_PASSWORD and EMAIL_TO",
    "apprise": "its URL in APPRISE_URLS or APPRISE_ROUTES (`flinkswatch check` names it)",
    "webhook": "WEBHOOK_URL, WEBHOOK_SECRET and the receiver's answers",
}


def cause(kind: str) -> tuple[str, str]:
    """A failure_kind as (plain words, what to check)."""
    return CAUSES.get(kind, _UNKNOWN)


def channel_label(name: str) -> str:
    """ "slack" -> "Slack", "slack:#nbc" -> "Slack (#nbc)", "email:ops" -> "email (ops)"."""
    medium, _, route = name.partition(":")
    label = "Slack" if medium == "slack" else medium
    return f"{label} ({route})" if route else label


def notice_title(notice: WatcherNotice, esc: Escape) -> str:
    kind = notice.kind
    if kind is NoticeKind.WATCHER_BLIND:
        still = "still " if notice.repeat else ""
        return f"flinkswatch is {still}blind: {cause(notice.cause)[0]}"
    if kind is NoticeKind.WATCHER_RECOVERED:
        return "flinkswatch can see again"
    label = esc(channel_label(notice.channel or "?"), 80)
    if kind is NoticeKind.CHANNEL_FAILING:
        return f"flinkswatch: {label} delivery failing"
    return f"flinkswatch: {label} delivery works again"


def notice_lines(notice: WatcherNotice, esc: Escape) -> list[str]:
    """The sentences of the notice, escaped for the medium by `esc` where upstream text is."""
    kind, since = notice.kind, _when(notice.since)
    polls = f"{notice.failures} failed poll{'s' if notice.failures != 1 else ''} in a row"
    error = esc(notice.last_error, 300) if notice.last_error else "(none recorded)"
    if kind is NoticeKind.WATCHER_BLIND:
        words, advice = cause(notice.cause)
        return [
            f"No poll has succeeded since {since} ({polls}): until this is fixed, silence"
            " here does not mean that nothing moved.",
            f"Cause: {words}. Last error: {error}",
            f"What to check: {advice}.",
        ]
    if kind is NoticeKind.WATCHER_RECOVERED:
        blind_for = _duration(notice.observed_at - notice.since) if notice.since else "a while"
        found = f"{notice.count} change{'s' if notice.count != 1 else ''}"
        return [
            f"Polls succeed again after {blind_for} blind (since {since}, cause:"
            f" {cause(notice.cause)[0]}).",
            f"The first good poll found {found}; alerts for them follow.",
        ]
    name = notice.channel or "?"
    label = esc(channel_label(name), 80)
    if kind is NoticeKind.CHANNEL_FAILING:
        waiting = f"{notice.count} alert{'s' if notice.count != 1 else ''}"
        how = (
            "with a permanent error (it needs a person)"
            if notice.cause == "permanent"
            else f"({polls})"
        )
        advice = _CHANNEL_ADVICE.get(name.partition(":")[0], "its settings")
        return [
            f"Alerts to {label} have failed since {since} {how}. Last error: {error}",
            f"{waiting} wait for it and are sent when it works again.",
            f"What to check: {advice}; then run `flinkswatch check`.",
        ]
    owed = f"{notice.count} alert{'s' if notice.count != 1 else ''}"
    return [f"Alerts to {label} go through again (failing since {since}); {owed} it owed went out."]


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at is not None else "?"


_NOTICE_EMOJI = {
    NoticeKind.WATCHER_BLIND: ":no_entry:",
    NoticeKind.WATCHER_RECOVERED: ":white_check_mark:",
    NoticeKind.CHANNEL_FAILING: ":warning:",
    NoticeKind.CHANNEL_RECOVERED: ":white_check_mark:",
}


def slack_notice(notice: WatcherNotice) -> SlackMessage:
    """The notice as one Slack message: a header, one section, and the same words as text."""
    title = notice_title(notice, _plain)
    lines = notice_lines(notice, mrkdwn)
    body = _fit(f"{_NOTICE_EMOJI[notice.kind]} " + "\n".join(lines), SLACK_SECTION_LIMIT)
    blocks = [_header(title), {"type": "section", "text": {"type": "mrkdwn", "text": body}}]
    text = _fit("\n".join([notice_title(notice, mrkdwn), *lines]), SLACK_TEXT_LIMIT)
    return SlackMessage(text=text, blocks=blocks, summary=True)
