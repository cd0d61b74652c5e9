"""What the web page needs (WEB_UI, SPEC 10): the reads, who may see them and how to show time,
built from the WEB_* settings. The pages (app/web/pages.py) and the site (app/web/site.py)
both stand on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from app.web.access import Access, parse_allowed_hosts

if TYPE_CHECKING:
    from app.config.settings import Settings
    from app.db.webreads import WebReads


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WebUI:
    """What the pages need: the reads, who may see them, and how to show time.
    `background`: the /providers figures are computed in a thread, from the start and when
    stale, while pages show the previous ones (app/web/figures.py); the service's choice."""

    reads: WebReads
    access: Access
    timezone: tzinfo = UTC
    clock: Callable[[], datetime] = field(default=_utc_now)
    background: bool = False


def web_ui(settings: Settings, reads: WebReads) -> WebUI | None:
    """WEB_* settings -> the pages' configuration (None: WEB_UI off); ConfigError (exit 2,
    one line) for an unsafe WEB_AUTH, so `run` refuses to start rather than serve data."""
    if not settings.web_ui:
        return None
    return WebUI(reads, access_for(settings), settings.alert_timezone, background=True)


def access_for(settings: Settings) -> Access:
    """WEB_AUTH and its settings, checked against HTTP_HOST (ConfigError)."""
    secret = settings.web_password
    access = Access(
        mode=settings.web_auth,
        username=settings.web_username or "",
        password=secret.get_secret_value() if secret is not None else "",
        proxy_header=settings.web_proxy_header,
        allowed_hosts=parse_allowed_hosts(settings.web_allowed_hosts),
    )
    access.check(settings.http_host)
    return access
