"""Every refusal a start makes from the settings, in one list (issue 27): `run`, `poll` and
`demo` call `refuse()` before opening anything, `check` reports `problems()`, so the two can
never disagree. A value one field can judge alone is a validator on that field in Settings
(refused by `load_settings()` for every command); a combination of settings, or what a stage
judges (WEB_AUTH against HTTP_HOST, routes against their channel), is a Validation here.

To add one: a function taking Settings and raising ConfigError (one line naming the setting),
appended to VALIDATIONS, and an example of settings it refuses in
tests/e2e/test_check_matches_run.py (the test fails until every validation has one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.config.settings import ConfigError, Settings


@dataclass(frozen=True, slots=True)
class Validation:
    name: str  # what is validated, for the test's examples
    check: Callable[[Settings], object]  # raises ConfigError
    flinks: bool = False  # about reaching Flinks: `notify-test` and `routes` skip it


def _flinks_credentials(settings: Settings) -> None:
    settings.require_flinks_credentials()


def _flinks_ca_bundle(settings: Settings) -> None:
    if settings.flinks_ca_bundle:
        from app.flinks.client import ssl_verify

        ssl_verify(settings.flinks_ca_bundle)


def _slack(settings: Settings) -> None:
    from app.config.destinations import slack_destinations

    slack_destinations(settings)


def _email(settings: Settings) -> None:
    from app.config.destinations import email_destinations

    email_destinations(settings)


def _apprise(settings: Settings) -> None:
    from app.config.destinations import apprise_destinations

    apprise_destinations(settings)


def _slack_interactivity(settings: Settings) -> None:
    secret = settings.slack_signing_secret
    if secret is not None and secret.get_secret_value() and not settings.http_port:
        raise ConfigError("SLACK_SIGNING_SECRET needs the HTTP server: set HTTP_PORT (not 0)")


def _web_page(settings: Settings) -> None:
    if settings.web_ui:
        from app.web.ui import access_for

        access_for(settings)


VALIDATIONS: tuple[Validation, ...] = (
    Validation("web page", _web_page),
    Validation("slack destinations", _slack),
    Validation("email destinations", _email),
    Validation("apprise destinations", _apprise),
    Validation("slack interactivity", _slack_interactivity),
    Validation("flinks credentials", _flinks_credentials, flinks=True),
    Validation("flinks ca bundle", _flinks_ca_bundle, flinks=True),
)


def problems(settings: Settings, *, flinks: bool = True) -> list[str]:
    """What every validation refuses, one line each, in the list's order; no I/O but reading
    a CA bundle. flinks=False: the commands that never reach Flinks skip its validations."""
    found = []
    for validation in VALIDATIONS:
        if validation.flinks and not flinks:
            continue
        try:
            validation.check(settings)
        except ConfigError as exc:
            found.append(str(exc))
    return found


def refuse(settings: Settings, *, flinks: bool = True) -> None:
    """ConfigError with the first problem, as a start refuses (exit 2, one line)."""
    if found := problems(settings, flinks=flinks):
        raise ConfigError(found[0])
