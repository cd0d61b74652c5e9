"""Typed settings from the environment and `.env` (SPEC section 3), validated once at start.

There is no global instance: `load_settings()` is called by the CLI and the result is passed down.
Every secret may come from a file named by `<NAME>_FILE` (Docker and Kubernetes secrets).
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from app.config.schedule import cron_trigger
from app.config.sources import ENV_FILE, EmptyMeansOff, SecretFiles, dotenv_raw, env
from app.config.types import (
    DEFAULT_DATABASE_URL,
    DEFAULT_STUCK_AFTER,
    Addresses,
    AlertKinds,
    AppriseRoutes,
    AppriseUrls,
    Breakthrough,
    CaBundle,
    DatabaseUrl,
    Duration,
    EmailRoutes,
    HttpUrl,
    LateAfter,
    Lower,
    QuietWindows,
    SecretHttpUrl,
    SlackApiUrl,
    SlackRoutes,
    StuckAfter,
    TimeZone,
    Upper,
    WebhookSecret,
    parse_stuck_after,
)
from app.config.views import SECRET_FIELDS as SECRET_FIELDS
from app.config.views import ChannelViews
from app.config.views import dotenv_file as dotenv_file
from app.config.views import settings_origin as settings_origin
from app.domain import ALERTED_BY_DEFAULT
from app.errors import ConfigError as ConfigError

# The longest poll interval: 30 days (a longer one is a typo, and overflows the scheduler).
MAX_POLL_INTERVAL_SECONDS = 30 * 24 * 3600
DEFAULT_TOKEN_URL = "https://api.flinks.io/api/v1/token"


class Settings(ChannelViews, BaseSettings):
    """Every setting of SPEC section 3. Field names are the environment names, lower-cased."""

    model_config = SettingsConfigDict(
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        hide_input_in_errors=True,
        env_ignore_empty=True,
    )

    flinks_client_id: SecretStr | None = None
    flinks_client_secret: SecretStr | None = None
    flinks_base_url: HttpUrl = "https://ob.flinksapp.com"
    flinks_token_url: HttpUrl = DEFAULT_TOKEN_URL
    flinks_scope: str = "client:admin"
    flinks_token_auth: Lower[Literal["body", "basic"]] = "body"
    flinks_token_format: Lower[Literal["json", "form"]] = "json"
    flinks_recipient_id: str = ""
    flinks_timeout_seconds: float = Field(default=30, gt=0, le=600)
    flinks_ca_bundle: str = ""
    # Issue 13: a larger listing is refused while it streams in (the cycle fails), not buffered.
    flinks_max_answer_mb: int = Field(default=64, ge=1, le=4096)

    poll_interval_seconds: int = Field(default=300, ge=1, le=MAX_POLL_INTERVAL_SECONDS)
    removal_confirm_polls: int = Field(default=2, ge=1, le=1000)
    # SPEC 2 mass-shrink guard: hold removals when an answer leaves out more than this percent.
    removal_hold_percent: int = Field(default=50, ge=1, le=100)

    database_url: DatabaseUrl = SecretStr(DEFAULT_DATABASE_URL)
    auto_migrate: bool = True

    slack_bot_token: SecretStr | None = None
    slack_channel: str = ""
    slack_webhook_url: SecretStr | None = None
    slack_api_url: SlackApiUrl = "https://slack.com/api/"
    slack_threads: bool = True
    slack_board: bool = False  # SPEC 10: needs the bot
    slack_routes: SlackRoutes = ()
    slack_timeout_seconds: float = Field(default=30, gt=0, le=600)
    # SPEC 12: Slack interactivity, over HTTP (POST /slack/events, verified with the signing
    # secret) or Socket Mode (the app-level token, xapp-...); either puts buttons on alerts.
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_command: str = Field(default="/flinkswatch", pattern=r"^/[a-z0-9_-]{1,31}$")

    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: SecretStr | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Lower[Literal["starttls", "ssl", "none"]] = "starttls"
    smtp_timeout_seconds: float = Field(default=30, gt=0, le=600)
    email_from: str = ""
    email_to: Addresses = ()
    email_routes: EmailRoutes = ()
    smtp_ca_bundle: CaBundle = ""

    apprise_urls: AppriseUrls = ()  # SPEC 13: a channel per URL (each a secret), the webhook
    apprise_routes: AppriseRoutes = Field(default=(), repr=False)  # its destinations are URLs
    apprise_timeout_seconds: float = Field(default=30, gt=0, le=600)
    webhook_url: SecretHttpUrl = None
    webhook_secret: WebhookSecret = None
    webhook_timeout_seconds: float = Field(default=30, gt=0, le=600)

    delivery_max_attempts: int = Field(default=10, ge=1, le=1000)
    alert_events: AlertKinds = ALERTED_BY_DEFAULT
    routes_default: Lower[Literal["all", "unmatched"]] = "all"

    alert_timezone: TimeZone = UTC
    # SPEC 9: a 5-field cron in ALERT_TIMEZONE (`0 9 * * MON`); empty: no scheduled digest.
    digest_schedule: str = ""
    stuck_after: StuckAfter = Field(default_factory=lambda: parse_stuck_after(DEFAULT_STUCK_AFTER))
    quiet_hours: QuietWindows = ()
    quiet_breakthrough: Breakthrough = frozenset({"backward", "removed", "watcher"})
    stuck_repeat: Duration = Field(
        default=timedelta(days=7), gt=timedelta(0)
    )  # SPEC 9: reminder cadence while still stuck
    # SPEC 11: late past this quantile of the provider's time to ACTIVE (p90: 0.9); None: off.
    late_after: LateAfter = 0.9
    # SPEC 11: activations a provider needs under watch before its expectations are used.
    expect_min_activations: int = Field(default=5, ge=1, le=1_000_000)

    # SPEC 8: consecutive failed cycles before the watcher says it is blind, and its reminder.
    blind_after_failures: int = Field(default=3, ge=1, le=1000)
    blind_repeat: Duration = timedelta(hours=24)

    heartbeat_url: SecretHttpUrl = None
    heartbeat_fail_url: SecretHttpUrl = None

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)

    # The web page (SPEC 10) on the same server; app/web/access.py checks the combination.
    web_ui: bool = False
    web_auth: Lower[Literal["basic", "proxy", "none"]] = "basic"
    web_username: str | None = None
    web_password: SecretStr | None = None
    web_proxy_header: str = "X-Forwarded-User"
    # Host names the pages answer besides the loopback ones (always checked with WEB_AUTH=none).
    web_allowed_hosts: str = ""

    log_level: Upper[Literal["DEBUG", "INFO", "WARNING", "ERROR"]] = "INFO"
    log_format: Lower[Literal["text", "json"]] = "text"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        if not isinstance(dotenv_settings, DotEnvSettingsSource):
            raise TypeError("pydantic-settings changed its .env source")  # pinned: <3
        # Direct values win over *_FILE, which wins over defaults.
        secret_files = SecretFiles(settings_cls, SECRET_FIELDS, dotenv_settings.env_vars)
        env_empty, dotenv_empty = (EmptyMeansOff(settings_cls, f) for f in (env, dotenv_raw))
        return (init_settings, env_settings, env_empty, dotenv_settings, dotenv_empty, secret_files)

    @field_validator("digest_schedule")
    @classmethod
    def _cron(cls, value: str, info: ValidationInfo) -> str:
        if value.strip():  # APScheduler's own parser: what `run` will schedule is what passed
            cron_trigger(value, info.data.get("alert_timezone", UTC))
        return value.strip()


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from the environment, `.env` and overrides; ConfigError on any bad value."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    name = ".".join(str(part) for part in first["loc"]).upper() or "settings"
    message = first["msg"].removeprefix("Value error, ")
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{name}: {message}{more}"
