"""What the settings mean beyond their values (mixed into Settings): which channels they turn
on, which are half-configured, every secret value for the log redaction, the Flinks credentials
or the one line saying where the settings were looked for."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from pydantic import SecretStr

from app.config.sources import ENV_FILE
from app.errors import ConfigError

if TYPE_CHECKING:
    from app.config.types import AppriseRoutes, AppriseUrls, DatabaseUrl

SECRET_FIELDS: tuple[str, ...] = (
    "flinks_client_id",
    "flinks_client_secret",
    "slack_bot_token",
    "slack_webhook_url",
    "smtp_username",
    "smtp_password",
    "database_url",
    "heartbeat_url",
    "heartbeat_fail_url",
    "web_password",
    "webhook_url",
    "webhook_secret",
    "apprise_urls",  # a tuple of them (APPRISE_URLS_FILE: one URL a line)
    "slack_signing_secret",
    "slack_app_token",
)


class ChannelViews:
    """Derived views of Settings' fields (declared here for the type checker only)."""

    if TYPE_CHECKING:
        flinks_client_id: SecretStr | None
        flinks_client_secret: SecretStr | None
        flinks_base_url: str
        flinks_recipient_id: str
        slack_bot_token: SecretStr | None
        slack_channel: str
        slack_webhook_url: SecretStr | None
        slack_signing_secret: SecretStr | None
        slack_app_token: SecretStr | None
        smtp_host: str
        email_from: str
        email_to: tuple[str, ...]
        webhook_url: SecretStr | None
        webhook_secret: SecretStr | None
        apprise_urls: AppriseUrls
        apprise_routes: AppriseRoutes
        database_url: DatabaseUrl

    def _channel_parts(self) -> dict[str, dict[str, bool]]:
        """Each channel's settings and whether they are set: the one rule is that a channel is
        on when all of its parts are set, and worth a warning when only some are."""
        return {
            "Slack bot": {
                "SLACK_BOT_TOKEN": bool(_secret(self.slack_bot_token)),
                "SLACK_CHANNEL": bool(self.slack_channel.strip()),
            },
            "Slack webhook": {"SLACK_WEBHOOK_URL": bool(_secret(self.slack_webhook_url))},
            "email": {
                "SMTP_HOST": bool(self.smtp_host.strip()),
                "EMAIL_FROM": bool(self.email_from.strip()),
                "EMAIL_TO": bool(self.email_to),
            },
            "signed webhook": {
                "WEBHOOK_URL": bool(_secret(self.webhook_url)),
                "WEBHOOK_SECRET": bool(_secret(self.webhook_secret)),
            },
        }

    @property
    def slack_bot_enabled(self) -> bool:
        return all(self._channel_parts()["Slack bot"].values())

    @property
    def slack_interactive(self) -> bool:
        """Buttons on alerts: a transport takes the clicks (SLACK_SIGNING_SECRET or
        SLACK_APP_TOKEN)."""
        return bool(_secret(self.slack_signing_secret) or _secret(self.slack_app_token))

    @property
    def slack_webhook_enabled(self) -> bool:
        return all(self._channel_parts()["Slack webhook"].values())

    @property
    def email_enabled(self) -> bool:
        return all(self._channel_parts()["email"].values())

    @property
    def listing_url(self) -> str:
        base = self.flinks_base_url.rstrip("/")
        if self.flinks_recipient_id:
            return f"{base}/api/v1/recipients/{self.flinks_recipient_id}/providers/requests"
        return f"{base}/api/v1/recipients/providers/requests"

    def incomplete_channels(self) -> list[str]:
        """Channels with some but not all of their settings: off, and worth a warning."""
        notes = []
        for channel, parts in self._channel_parts().items():
            if any(parts.values()) and not all(parts.values()):
                notes.append(f"{channel} needs {_and(list(parts))}")
        return notes

    def secret_values(self) -> list[str]:
        """Every configured secret value, for the log redaction filter. The database URL as a
        whole is not secret (a SQLite path must stay readable in logs): only its password."""
        values = [_secret(getattr(self, name)) for name in SECRET_FIELDS if name != "database_url"]
        values += [u.get_secret_value() for u in self.apprise_urls]
        values += [r.destination for r in self.apprise_routes]  # these name URLs too
        try:
            password = urlsplit(self.database_url.get_secret_value()).password
        except ValueError:  # an unparsable URL fails later, with its own message
            password = None
        if password:
            values += [password, unquote(password)]  # as written, and as the driver receives it
        return [v for v in values if v]

    def require_flinks_credentials(self) -> tuple[str, str]:
        client_id = _secret(self.flinks_client_id)
        client_secret = _secret(self.flinks_client_secret)
        missing = [
            name
            for name, value in (
                ("FLINKS_CLIENT_ID", client_id),
                ("FLINKS_CLIENT_SECRET", client_secret),
            )
            if not value
        ]
        if missing:
            # Most often a command run outside the folder of its .env: say where it looked.
            raise ConfigError(
                f"{' and '.join(missing)} must be set (or given as <NAME>_FILE;"
                f" {settings_origin()})"
            )
        return client_id, client_secret


def _and(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    both = "both " if len(names) == 2 else ""
    return f"{both}{', '.join(names[:-1])} and {names[-1]}"


def _secret(value: object) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else ""


def dotenv_file() -> Path | None:
    """The settings file Settings() reads from the working directory, if there is one."""
    path = Path(ENV_FILE)
    return path.absolute() if path.is_file() else None


def settings_origin() -> str:
    """Where settings came from, for a user who ran a command in the wrong folder."""
    return f"working directory {Path.cwd()}, settings file: {dotenv_file() or 'none'}"
