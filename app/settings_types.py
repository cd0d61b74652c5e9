"""The parsed setting types: each value is read once, when Settings is built, into what its
users need (event kinds, route rules, addresses), with one readable error when it is wrong."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator
from pydantic_settings import NoDecode

from app.domain import EventKind
from app.notify.routing import Rule, parse_routes


def psycopg_url(url: str) -> str:
    """SQLAlchemy 2 reads a bare postgresql:// as psycopg2; we ship psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _alert_kinds(value: object) -> object:
    """ALERT_EVENTS, `added, removed`, as the event kinds that get a delivery row per channel."""
    if not isinstance(value, str):
        return value
    names = [part.strip().lower() for part in value.split(",") if part.strip()]
    allowed = [kind.value for kind in EventKind if kind is not EventKind.BASELINE]
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValueError(f"unknown event kind {unknown[0]!r} (choose from {', '.join(allowed)})")
    return frozenset(EventKind(name) for name in names)


def _routes(kind: Literal["slack", "email"]) -> BeforeValidator:
    return BeforeValidator(lambda v: parse_routes(v, kind) if isinstance(v, str) else v)


def _addresses(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


# Parsed once, when Settings is built; NoDecode keeps pydantic-settings from reading JSON.
AlertKinds = Annotated[frozenset[EventKind], NoDecode, BeforeValidator(_alert_kinds)]
SlackRoutes = Annotated[tuple[Rule, ...], NoDecode, _routes("slack")]
EmailRoutes = Annotated[tuple[Rule, ...], NoDecode, _routes("email")]
Addresses = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_addresses)]
