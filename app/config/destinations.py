"""Which channel instances the settings call for (SLACK_ROUTES, EMAIL_ROUTES, APPRISE_URLS and
APPRISE_ROUTES, WEBHOOK_URL), or the setting that stops a start: values derived from Settings
without I/O, for app.wiring (which builds the channels; its validations.py lists these
refusals for `check` and every start)."""

from __future__ import annotations

import hashlib
import logging

from app.config.settings import ConfigError, Settings
from app.core.routing import Destination, Filter, destinations


def slack_destinations(settings: Settings) -> list[Destination]:
    """The bot's channel instances: SLACK_CHANNEL, and one per other channel of SLACK_ROUTES."""
    rules = settings.slack_routes
    if rules and not settings.slack_bot_enabled:
        raise ConfigError("SLACK_ROUTES: needs SLACK_BOT_TOKEN and SLACK_CHANNEL")
    if settings.slack_board and not settings.slack_bot_enabled:
        raise ConfigError("SLACK_BOARD=true: needs the bot, SLACK_BOT_TOKEN and SLACK_CHANNEL")
    if not settings.slack_bot_enabled:
        return []
    unmatched = settings.routes_default == "unmatched"
    return destinations("slack", settings.slack_channel, rules, unmatched)


def email_destinations(settings: Settings) -> list[Destination]:
    """The email instances: EMAIL_TO, and one per other recipient list of EMAIL_ROUTES."""
    rules = settings.email_routes
    if rules and not settings.email_enabled:
        raise ConfigError("EMAIL_ROUTES: needs SMTP_HOST, EMAIL_FROM and EMAIL_TO")
    if not settings.email_enabled:
        return []
    unmatched = settings.routes_default == "unmatched"
    return destinations("email", ",".join(settings.email_to), rules, unmatched)


def apprise_name(url: str) -> str:
    """The deliveries' channel name of one Apprise URL: a stable hash of the URL, so pending
    deliveries keep their channel whatever the order of APPRISE_URLS (and the URL stays out)."""
    return "apprise:" + hashlib.sha256(url.encode()).hexdigest()[:12]


def apprise_destinations(settings: Settings) -> list[Destination]:
    """Each URL of APPRISE_URLS takes every alert (but, with ROUTES_DEFAULT=unmatched, those a
    rule sends elsewhere) plus its own rules; a URL only in APPRISE_ROUTES takes its rules."""
    homes = [url.get_secret_value() for url in settings.apprise_urls]
    rules = settings.apprise_routes
    unmatched = settings.routes_default == "unmatched"
    found = []
    for url in homes:
        own = tuple(r for r in rules if r.destination == url)
        elsewhere = tuple(r for r in rules if r.destination != url) if unmatched else ()
        found.append(Destination(apprise_name(url), url, Filter(own, True, elsewhere)))
    for url in dict.fromkeys(r.destination for r in rules if r.destination not in homes):
        routed = tuple(r for r in rules if r.destination == url)
        found.append(Destination(apprise_name(url), url, Filter(routed, False)))
    _check_apprise([dest.target for dest in found])
    return found


def _check_apprise(urls: list[str]) -> None:
    """Each URL is one Apprise can use (its own parser; loaded only when there are URLs)."""
    if not urls:
        return
    import apprise  # a second of imports, paid only when there are URLs

    quiet_apprise()

    for number, url in enumerate(urls, start=1):
        if apprise.Apprise.instantiate(url) is None:  # the URL is a secret: not quoted
            raise ConfigError(
                f"APPRISE_URLS/APPRISE_ROUTES: URL {number} ({_scheme(url)}://...) is not one"
                " Apprise can use; see https://appriseit.com/services/"
            )


def quiet_apprise() -> None:
    """Apprise logs each URL it loads or posts to at DEBUG, urllib3 the paths it posts to: none
    of it reaches our log, whatever LOG_LEVEL says. Apprise's WARNING and ERROR lines are still
    captured per send (notify's result) and reported, scrubbed, as a failure's reason."""
    logger = logging.getLogger("apprise")
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())  # else Python's last resort prints them
    logging.getLogger("urllib3").setLevel(logging.ERROR)


def _scheme(url: str) -> str:
    return url.partition("://")[0].lower()


def webhook_target(settings: Settings) -> tuple[str, str] | None:
    """(WEBHOOK_URL, WEBHOOK_SECRET) when both are set (one alone: an incomplete channel)."""
    url, secret = settings.webhook_url, settings.webhook_secret
    if url is None or secret is None:
        return None
    return url.get_secret_value(), secret.get_secret_value()
