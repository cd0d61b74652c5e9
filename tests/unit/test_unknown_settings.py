"""Issue 27 item 1: which names are settings (derived from the Settings model, so a field added
by anyone is known at once), which look-alikes are named, and the closest setting offered."""

from __future__ import annotations

from pydantic import SecretStr

from app.config.settings import SECRET_FIELDS, Settings
from app.config.unknown import (
    PREFIXES,
    closest,
    known_settings,
    unknown_settings,
    unknown_stuck_statuses,
)


class Later(Settings):
    """A settings model as another branch extends it."""

    poll_jitter_seconds: float = 0.0  # a field no release has (yet)
    webhook_secret: SecretStr | None = None


def test_every_field_of_the_model_is_a_known_setting_with_its_secret_files() -> None:
    known = known_settings(Later)
    assert {name.upper() for name in Later.model_fields} <= known
    assert {"POLL_JITTER_SECONDS", "WEBHOOK_SECRET", "POLL_INTERVAL_SECONDS"} <= known
    assert {f"{name.upper()}_FILE" for name in SECRET_FIELDS} <= known
    assert "SLACK_CHANNEL_FILE" not in known  # not a secret: no file form is read
    assert (
        "POLL_JITTER_SECONDS" not in known_settings()
    )  # the model decides, not a list kept by hand


def test_look_alikes_are_named_once_with_their_source_and_the_setting_meant() -> None:
    lines = unknown_settings(
        {
            "the environment": ["SLACK_WEBHOOK", "PATH", "HTTP_PROXY", "POLL_INTERVAL_SECONDS"],
            ".env": ["poll_intervall_seconds", "SLACK_WEBHOOK", "SMTP_PASSWORD_FILE"],
        }
    )
    assert lines == [
        "unknown setting SLACK_WEBHOOK: did you mean SLACK_WEBHOOK_URL?"
        " (set in the environment, not applied)",
        "unknown setting poll_intervall_seconds: did you mean POLL_INTERVAL_SECONDS?"
        " (set in .env, not applied)",
    ]


def test_a_look_alike_of_a_new_field_is_known_when_the_model_has_it() -> None:
    assert unknown_settings({"env": ["POLL_JITTER_SECONDS"]}, known_settings(Later)) == []
    assert unknown_settings({"env": ["POLL_JITER_SECONDS"]}, known_settings(Later)) == [
        "unknown setting POLL_JITER_SECONDS: did you mean POLL_JITTER_SECONDS? (set in env, not"
        " applied)"
    ]


def test_every_prefix_is_watched() -> None:
    for prefix in PREFIXES:
        (line,) = unknown_settings({"env": [f"{prefix}QQQ_ZZZ"]})
        assert line.startswith(f"unknown setting {prefix}QQQ_ZZZ")


def test_the_closest_name_holds_every_word_first_and_nothing_far_is_offered() -> None:
    known = known_settings()
    assert closest("FLINKS_SECRET", known) == "FLINKS_CLIENT_SECRET"
    assert closest("SLACK_TOKEN", known) == "SLACK_BOT_TOKEN"
    assert closest("SMTP_USER", known) == "SMTP_USERNAME"
    assert closest("SLACK_BOT_TOKEN_FIEL", known) == "SLACK_BOT_TOKEN_FILE"
    assert closest("WEB_PORT", known) is None
    assert closest("WEB_SERVICE_HOST", known) is None


def test_stuck_after_statuses_outside_the_lifecycle_and_the_history_are_named() -> None:
    (line,) = unknown_stuck_statuses(["PENDING_APROVAL", "ACTIVE"])
    assert line.startswith("STUCK_AFTER names PENDING_APROVAL, a status no registration has had")
    assert "did you mean PENDING_APPROVAL?" in line
    assert unknown_stuck_statuses(["SUSPENDED"], seen={"SUSPENDED"}) == []
    (far,) = unknown_stuck_statuses(["FROZEN"])
    assert "did you mean" not in far
