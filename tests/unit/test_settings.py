"""Settings: defaults, validation with one clear line, secrets from files, channel completeness."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config.settings import DEFAULT_DATABASE_URL, ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No stray environment or .env from the developer's machine."""
    import os

    for name in list(os.environ):
        if name.upper().startswith(
            (
                "FLINKS_",
                "SLACK_",
                "SMTP_",
                "EMAIL_",
                "DATABASE_",
                "HTTP_",
                "LOG_",
                "POLL_",
                "REMOVAL_",
                "AUTO_",
                "DELIVERY_",
            )
        ):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_match_the_spec() -> None:
    s = load_settings()
    assert s.flinks_base_url == "https://ob.flinksapp.com"
    assert s.flinks_token_url == "https://api.flinks.io/api/v1/token"
    assert (s.flinks_scope, s.flinks_token_auth, s.flinks_token_format) == (
        "client:admin",
        "body",
        "json",
    )
    assert (s.poll_interval_seconds, s.removal_confirm_polls, s.flinks_timeout_seconds) == (
        300,
        2,
        30,
    )
    assert s.removal_hold_percent == 50
    assert s.database_url.get_secret_value() == DEFAULT_DATABASE_URL
    assert s.auto_migrate is True
    assert (s.smtp_port, s.smtp_security, s.http_host, s.http_port) == (
        587,
        "starttls",
        "127.0.0.1",
        8080,
    )
    assert (s.log_level, s.log_format) == ("INFO", "text")
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.listing_url == "https://ob.flinksapp.com/api/v1/recipients/providers/requests"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("POLL_INTERVAL_SECONDS", "soon", "POLL_INTERVAL_SECONDS: "),
        ("POLL_INTERVAL_SECONDS", "0", "POLL_INTERVAL_SECONDS: "),
        ("POLL_INTERVAL_SECONDS", "99999999999999999999", "POLL_INTERVAL_SECONDS: "),
        ("REMOVAL_CONFIRM_POLLS", "99999999999999999999", "REMOVAL_CONFIRM_POLLS: "),
        ("DELIVERY_MAX_ATTEMPTS", "99999999999999999999", "DELIVERY_MAX_ATTEMPTS: "),
        ("BLIND_AFTER_FAILURES", "99999999999999999999", "BLIND_AFTER_FAILURES: "),
        ("EXPECT_MIN_ACTIVATIONS", "99999999999999999999", "EXPECT_MIN_ACTIVATIONS: "),
        ("REMOVAL_HOLD_PERCENT", "0", "REMOVAL_HOLD_PERCENT: "),
        ("REMOVAL_HOLD_PERCENT", "101", "REMOVAL_HOLD_PERCENT: "),
        ("FLINKS_TOKEN_AUTH", "header", "FLINKS_TOKEN_AUTH: "),
        ("SMTP_SECURITY", "tls", "SMTP_SECURITY: "),
        ("HTTP_PORT", "70000", "HTTP_PORT: "),
        ("LOG_FORMAT", "xml", "LOG_FORMAT: "),
        ("FLINKS_BASE_URL", "ob.flinksapp.com", "FLINKS_BASE_URL: must start with http"),
        ("DATABASE_URL", "just-a-path.db", "DATABASE_URL: must be a SQLAlchemy URL"),
    ],
)
def test_invalid_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_invalid_secret_value_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "hunter2-secret-value")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "hunter2" not in str(err.value)


def test_choices_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("FLINKS_TOKEN_AUTH", "BASIC")
    s = load_settings()
    assert (s.log_level, s.flinks_token_auth) == ("DEBUG", "basic")


def test_secret_from_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t-from-file\n")
    monkeypatch.setenv("FLINKS_CLIENT_SECRET_FILE", str(secret))
    monkeypatch.setenv("FLINKS_CLIENT_ID", "partner")
    s = load_settings()
    assert s.require_flinks_credentials() == ("partner", "s3cr3t-from-file")
    assert "s3cr3t" not in repr(s)


def test_direct_value_wins_over_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-file")
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(secret))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-direct")
    assert load_settings().slack_bot_token.get_secret_value() == "xoxb-direct"  # type: ignore[union-attr]


def test_unreadable_secret_file_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SMTP_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match=r"^SMTP_PASSWORD_FILE: cannot read"):
        load_settings()


def test_missing_credentials_are_named() -> None:
    with pytest.raises(ConfigError, match="FLINKS_CLIENT_ID and FLINKS_CLIENT_SECRET must be set"):
        load_settings().require_flinks_credentials()


@pytest.mark.parametrize("url", ["postgresql://u:p@db/x", "postgres://u:p@db/x"])
def test_postgresql_urls_work_as_written(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert load_settings().database_url.get_secret_value() == "postgresql+psycopg://u:p@db/x"


def test_dotenv_in_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("POLL_INTERVAL_SECONDS=42\nUNRELATED_THING=1\nSMTP_PORT=\n")
    s = load_settings()
    assert s.poll_interval_seconds == 42
    assert s.smtp_port == 587  # empty means default


def test_channels_on_only_when_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SMTP_HOST", "mail.example")
    s = load_settings()
    assert not s.slack_bot_enabled
    assert not s.email_enabled
    assert s.incomplete_channels() == [
        "Slack bot needs both SLACK_BOT_TOKEN and SLACK_CHANNEL",
        "email needs SMTP_HOST, EMAIL_FROM and EMAIL_TO",
    ]
    monkeypatch.setenv("SLACK_CHANNEL", "#registrations")
    monkeypatch.setenv("EMAIL_FROM", "fw@example.com")
    monkeypatch.setenv("EMAIL_TO", "a@example.com, b@example.com")
    s = load_settings()
    assert s.slack_bot_enabled
    assert s.email_enabled
    assert s.email_to == ("a@example.com", "b@example.com")
    assert s.incomplete_channels() == []


def test_recipient_listing_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLINKS_RECIPIENT_ID", "dc-abc")
    monkeypatch.setenv("FLINKS_BASE_URL", "http://127.0.0.1:9/")
    assert (
        load_settings().listing_url
        == "http://127.0.0.1:9/api/v1/recipients/dc-abc/providers/requests"
    )


def test_secret_file_named_in_dotenv(tmp_path: Path) -> None:
    secret = tmp_path / "flinks-secret"
    secret.write_text("from-a-file\n")
    (tmp_path / ".env").write_text(
        f"FLINKS_CLIENT_ID=partner\nFLINKS_CLIENT_SECRET_FILE={secret}\n"
    )
    assert load_settings().require_flinks_credentials() == ("partner", "from-a-file")


@pytest.mark.parametrize("url", ["https://slack-gov.com/api", "https://slack-gov.com/api/"])
def test_slack_api_url_always_ends_with_a_slash(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("SLACK_API_URL", url)
    assert load_settings().slack_api_url == "https://slack-gov.com/api/"


def test_web_settings_default_off_and_the_password_is_a_redacted_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    s = load_settings()
    assert (s.web_ui, s.web_auth, s.web_proxy_header) == (False, "basic", "X-Forwarded-User")
    secret = tmp_path / "web_password"
    secret.write_text("web-pass-from-file\n")
    monkeypatch.setenv("WEB_PASSWORD_FILE", str(secret))
    monkeypatch.setenv("WEB_AUTH", "Proxy")
    s = load_settings()
    assert s.web_password is not None
    assert s.web_password.get_secret_value() == "web-pass-from-file"
    assert s.web_auth == "proxy"
    assert "web-pass-from-file" in s.secret_values()  # what the log filter redacts
    assert "web-pass-from-file" not in repr(s)
