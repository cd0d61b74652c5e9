"""PURE: a listing body -> its JSON array, however deep or odd, with values no column can hold
(NUL, lone surrogates) replaced and numbers too large to read marked unreadable."""

from __future__ import annotations

import json
import re
from typing import Any

from app.flinks.errors import FlinksBadAnswer


def snippet(value: object, limit: int = 40) -> str:
    """A short, printable, single-line rendering of untrusted text for logs and messages."""
    if isinstance(value, bytes | bytearray):
        value = bytes(value[: limit * 4]).decode("utf-8", "backslashreplace")
    text = value if isinstance(value, str) else repr(value)
    short = text[:limit]
    short = "".join(c if c.isprintable() else repr(c)[1:-1] for c in short)
    return short if len(text) <= limit else short + "..."


def load_array(body: bytes) -> list[Any]:
    try:
        # RFC 8259: JSON between systems is UTF-8 (a BOM is tolerated); no guessing of UTF-16.
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FlinksBadAnswer(
            f"Flinks answer is not UTF-8 (byte at position {exc.start})"
        ) from None
    try:
        data = _loads(text)
    except RecursionError:
        data = _load_deep_array(text)
    except ValueError as exc:
        raise _not_json(exc, body) from None
    if not isinstance(data, list):
        raise FlinksBadAnswer(f"Flinks answer is not a JSON array (got {_json_type(data)})")
    if _UNSTORABLE_ESCAPE.search(body):
        data = [_storable(item) for item in data]
    return data


def _not_json(exc: ValueError, body: bytes) -> FlinksBadAnswer:
    return FlinksBadAnswer(
        f'Flinks answer is not valid JSON: {exc} (starts with "{snippet(body)}")'
    )


class _Unreadable:
    """A valid JSON value that Python cannot hold (an integer of over 4,300 digits, a value
    nested deeper than the decoder's recursion limit). Every field refuses it, so only its row
    is skipped; in an unknown field it is ignored like any other value."""

    __slots__ = ("kind", "reason")

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind  # the JSON type, for log lines
        self.reason = reason

    def __repr__(self) -> str:
        return f"<{self.reason}>"


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError:
        # The only other ValueError is int()'s digit limit (CVE-2020-10735): read again, slowly,
        # with such numbers as _Unreadable. The common answer never pays for this.
        return json.loads(text, parse_int=_int_or_unreadable)


def _int_or_unreadable(digits: str) -> int | _Unreadable:
    try:
        return int(digits)
    except ValueError:
        return _Unreadable("number", "out of range")


# A JSON string, or a bracket or comma outside strings: enough to find the elements of an array.
_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')
_JSON_SPACE = " \t\n\r"


def _load_deep_array(text: str) -> list[Any]:
    """The array read element by element, after json.loads hit its recursion limit: an element
    nested too deeply becomes _Unreadable (its row is skipped), the others are read as usual."""
    stripped = text.strip(_JSON_SPACE)
    elements = _array_elements(stripped) if stripped.startswith("[") else None
    if elements is None:
        raise FlinksBadAnswer(
            f'Flinks answer is not a JSON array (nested too deeply to read; starts with "'
            f'{snippet(stripped)}")'
        )
    items: list[Any] = []
    for element in elements:
        try:
            items.append(_loads(element))
        except RecursionError:
            kind = "object" if element.lstrip(_JSON_SPACE).startswith("{") else "array"
            items.append(_Unreadable(kind, "nested too deeply"))
        except ValueError as exc:
            raise _not_json(exc, element.encode()) from None
    return items


def _array_elements(text: str) -> list[str] | None:
    """The texts between the commas of the top-level array `text`; None if it does not end."""
    depth, start = 0, 1
    elements: list[str] = []
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
        elif token in ("]", "}"):
            depth -= 1
            if depth == 0:
                if match.end() != len(text):
                    return None  # something after the array
                last = text[start : match.start()]
                if elements or last.strip(_JSON_SPACE):
                    elements.append(last)
                return elements
        elif token == "," and depth == 1:
            elements.append(text[start : match.start()])
            start = match.end()
    return None


# JSON may escape a NUL or a lone UTF-16 surrogate; neither can be stored (PostgreSQL text has
# no NUL, UTF-8 has no surrogates), so one such row would fail every cycle. One regex pass over
# the raw body finds the (rare) answers that need the slow, per-value clean-up below.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _storable(item: Any) -> Any:
    """An element with NUL or lone surrogates replaced by U+FFFD in its own strings and in the
    names and string values of its fields: the values a row keeps are never nested, and a
    nested value's depth is bounded only by the decoder's recursion limit."""
    if isinstance(item, dict):
        return {_clean(k): _clean(v) if isinstance(v, str) else v for k, v in item.items()}
    return _clean(item) if isinstance(item, str) else item


def _clean(text: str) -> str:
    cleaned = text.replace("\x00", "\ufffd")
    # Paired surrogates were already joined by the JSON decoder: what is left is lone.
    return cleaned.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number"}


def _json_type(value: object) -> str:
    if isinstance(value, _Unreadable):
        return value.kind
    if value is None:
        return "null"
    return "number" if type(value) is float else _JSON_TYPES.get(type(value), type(value).__name__)
