"""The web pages' query and path parameters, checked and bounded before any read: a value that
cannot be right (a NUL, too long, a number out of range, an unknown choice) is a 400 with a
one-line reason, never a 500 from the database nor an error in the log. And the one way a
timeline's link is written: its client_id percent-encoded as one path segment."""

from __future__ import annotations

from typing import NoReturn
from urllib.parse import quote, urlencode

from flask import Response, request
from werkzeug.exceptions import BadRequest

TEXT_LIMIT = 200  # characters of a filter, the search, any parameter's name or value
MAX_PARAMETERS = 50  # the page's form has 8
CLIENT_ID_LIMIT = 128  # the column's size (app/db/tables.py): no longer one exists
MAX_PAGE = 100_000  # 2.5 million recipients at 25 a page
MAX_ID = 2**63 - 1  # provider_id is a BIGINT
_DOTS = ("", ".", "..")  # path segments a browser would resolve away: sent as a query


def refuse(name: str, reason: str) -> NoReturn:
    """400, `name: reason` as one line of text (nothing is logged: it is the client's error);
    the name as sent, cut to 40 characters, anything unprintable in it shown as `?`."""
    label = "".join(c if c.isprintable() else "?" for c in name[:40]) or "query"
    text = Response(f"{label}: {reason}\n", 400, content_type="text/plain; charset=utf-8")
    raise BadRequest(response=text)  # app/web/errors.py answers a browser in HTML


def check_request() -> None:
    """Every parameter of the query string and the path: no NUL (SQLite would cut a LIKE
    pattern there and match every row; PostgreSQL refuses it), at most TEXT_LIMIT characters
    (a 70,000-character search is a LIKE pattern SQLite refuses), at most MAX_PARAMETERS."""
    args = request.args
    if len(args) > MAX_PARAMETERS:
        refuse("query", f"at most {MAX_PARAMETERS} parameters")
    for name, value in args.items(multi=True):
        _check_text(name, name, TEXT_LIMIT)
        _check_text(name, value, TEXT_LIMIT)
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            _check_text(name, value, CLIENT_ID_LIMIT)


def _check_text(name: str, value: str, limit: int) -> None:
    if "\x00" in value:
        refuse(name, "NUL characters are not allowed")
    if len(value) > limit:
        refuse(name, f"at most {limit} characters")


def text(name: str) -> str:
    """A text parameter (already bounded by check_request), white space around it cut."""
    return request.args.get(name, "").strip()


def page() -> int:
    """`page`: a whole number from 1 to MAX_PAGE; absent or empty is 1."""
    value = request.args.get("page", "").strip()
    if not value:
        return 1
    digits = value.lstrip("0")
    if not (value.isascii() and value.isdigit()) or not 1 <= int(digits[:7] or 0) <= MAX_PAGE:
        refuse("page", f"a whole number from 1 to {MAX_PAGE}")
    return int(digits)


def flag(name: str) -> bool:
    """A checkbox: `1` on, absent, empty or `0` off."""
    value = request.args.get(name, "")
    if value not in ("", "0", "1"):
        refuse(name, "1 or 0")
    return value == "1"


def choice(name: str, choices: tuple[str, ...], default: str = "") -> str:
    value = request.args.get(name, "") or default
    if value and value not in choices:
        refuse(name, "one of " + ", ".join(choices))
    return value


def provider_id(value: int) -> int:
    if value > MAX_ID:
        refuse("provider_id", "out of range")
    return value


def timeline_path(client_id: object, provider_id: object) -> str:
    """The part of a timeline's URL after `/r/`: the client_id as ONE percent-encoded path
    segment (its `/` as %2F: `../../etc` cannot climb), then the provider_id. A client_id a
    browser would resolve away (`.`, `..`) goes in the query string of `/r/` instead."""
    client = str(client_id)
    if client in _DOTS:
        return "?" + urlencode({"client_id": client, "provider_id": str(provider_id)})
    number = provider_id if isinstance(provider_id, int) else quote(str(provider_id), safe="")
    return f"{quote(client, safe='')}/{number}"


def segment(value: object) -> str:
    """Any text as one path segment (every reserved character percent-encoded)."""
    return quote(str(value), safe="")
