"""Redaction as whole tokens (app.core.redact): a short secret never garbles the words around
it, a long one goes wherever it is, and credentials are found by their shape whatever their
value (an access token the program obtained, quoted back by an upstream error)."""

from __future__ import annotations

import base64

import pytest

from app.core.redact import REDACTED, Redactor, redact_shapes

R = REDACTED


@pytest.mark.parametrize(
    ("secret", "text", "expected"),
    [
        # one to three characters: only where they stand alone
        (
            "o",
            "connection to server at port 5432 failed",
            "connection to server at port 5432 failed",
        ),
        ("o", "postgresql://u:o@127.0.0.1/fw", f"postgresql://u:{R}@127.0.0.1/fw"),
        ("o", "password=o;", f"password={R};"),
        ("ab", "about a table: ab", f"about a table: {R}"),
        ("ab", '{"client_secret": "ab"}', f'{{"client_secret": "{R}"}}'),
        ("abc", "abc%3Dabc&x=abcd", f"{R}%3D{R}&x=abcd"),
        ("p@s", "user:p@s@host and p%40s", f"user:{R}@host and {R}"),
        # long enough to be found anywhere, in its URL, JSON and repr() spellings
        ("s3cr3t-Value", "xs3cr3t-Valuex", f"x{R}x"),
        ('q"uote/slash', 'a "q\\"uote/slash" q%22uote%2Fslash', f'a "{R}" {R}'),
    ],
)
def test_known_values_as_whole_tokens(secret: str, text: str, expected: str) -> None:
    assert Redactor([secret])(text) == expected


def test_a_secret_containing_another_is_replaced_whole() -> None:
    assert Redactor(["abc", "abcdefghij"])("abcdefghij abc") == f"{R} {R}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"received":{"authorization":"Bearer tok-19"}}',
            f'{{"received":{{"authorization":"Bearer {R}"}}}}',
        ),
        ("Authorization: bearer eyJhbGc.eyJzdWIi.sig==", f"Authorization: bearer {R}"),
        (
            "Basic " + base64.b64encode(b"id:secret").decode(),
            f"Basic {R}",
        ),
        ("Basic authentication failed", "Basic authentication failed"),
        ("postgresql://flinks:Db@Sekret:Pw1@127.0.0.1/fw", f"postgresql://flinks:{R}@127.0.0.1/fw"),
        ("postgresql://flinks:***@127.0.0.1/fw", "postgresql://flinks:***@127.0.0.1/fw"),
        (
            '{"access_token": "tok-19", "token_type": "bearer"}',
            f'{{"access_token": "{R}", "token_type": "bearer"}}',
        ),
        (
            "grant_type=client_credentials&client_secret=xyz",
            f"grant_type=client_credentials&client_secret={R}",
        ),
        ("connection refused", "connection refused"),
    ],
)
def test_credentials_by_their_shape(text: str, expected: str) -> None:
    assert redact_shapes(text) == expected
    assert Redactor()(text) == expected


def test_the_spellings_of_a_secret_in_full() -> None:
    """As written, percent-encoded (a space as %20 and as +, a slash encoded too), inside a
    JSON string and inside a repr(); nothing else (no word of the repr of something else)."""
    from app.core.redact import spellings

    assert spellings('a b/"é\x01') == {
        'a b/"é\x01',
        "a%20b%2F%22%C3%A9%01",
        "a+b%2F%22%C3%A9%01",
        'a b/\\"\\u00e9\\u0001',
        'a b/"é\\x01',
    }


@pytest.mark.parametrize(
    ("secrets", "text", "expected"),
    [
        # eight characters: long enough to be found inside a word
        (["abcdefgh"], "xabcdefghx", f"x{R}x"),
        (["abcdefg"], "xabcdefgx abcdefg", f"xabcdefgx {R}"),
        # a short value starting or ending with a sign is found next to a letter on that side
        (["-ab"], "x-ab", f"x{R}"),
        (["ab-"], "ab-x", f"{R}x"),
        # one that is the start of another: the longer is replaced whole, not the start of it
        (["ab-", "ab-cdefghij"], "ab-cdefghij and ab-", f"{R} and {R}"),
        # no other word is taken for a spelling of a secret
        (["s3cr3t-Value"], "log on to None", "log on to None"),
    ],
)
def test_known_values_at_their_edges(secrets: list[str], text: str, expected: str) -> None:
    assert Redactor(secrets)(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Basic " + base64.b64encode(b"abcd").decode(),  # base64 with no colon: not a user:pass
        "Basic QUJDOkR==",  # not valid base64 (data after its padding), though lenient says A:B
        "postgresql://flinks:@127.0.0.1/fw",  # an empty password: nothing to hide
    ],
)
def test_shapes_that_are_not_credentials_are_left_as_written(text: str) -> None:
    assert redact_shapes(text) == text
