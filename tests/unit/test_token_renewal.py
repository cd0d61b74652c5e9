"""When the Flinks client renews its token (issue 15, item 11): a margin before expiry of
max(30 s, 20 % of the lifetime), capped at half the lifetime, so a token living under 30 s is
still reused for half of its life instead of renewed on every poll. MockTransport, fake clock."""

from __future__ import annotations

import json

import httpx
import pytest

from app.flinks.client import FlinksClient


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def _client(expires_in: int, clock: Clock) -> tuple[FlinksClient, list[int]]:
    issued: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        issued.append(len(issued) + 1)
        body = {"access_token": f"token-{len(issued)}", "expires_in": expires_in}
        return httpx.Response(200, content=json.dumps(body).encode())

    client = FlinksClient(
        listing_url="https://flinks.test/api/v1/recipients/providers/requests",
        token_url="https://flinks.test/api/v1/token",
        client_id="id",
        client_secret="secret",
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        clock=clock,
    )
    return client, issued


@pytest.mark.parametrize(
    ("expires_in", "still_cached_at", "renewed_at"),
    [
        (20, 9.9, 10.0),  # margin 30 s capped at 10 s: reused for half its life
        (30, 14.9, 15.0),  # exactly the old margin: it was renewed at once
        (2, 0.9, 1.0),
        (60, 29.9, 30.0),  # 30 s is already half: unchanged
        (100, 69.9, 70.0),  # unchanged: margin 30 s
        (299, 239.1, 239.2),  # unchanged: margin 20 % = 59.8 s
    ],
)
def test_renewal_margin_is_at_most_half_the_lifetime(
    expires_in: int, still_cached_at: float, renewed_at: float
) -> None:
    clock = Clock()
    client, issued = _client(expires_in, clock)
    start = clock.now
    assert client.token() == "token-1"
    clock.now = start + still_cached_at
    assert client.token() == "token-1"
    clock.now = start + renewed_at
    assert client.token() == "token-2"
    assert client.token_renewals == len(issued) == 2


def test_a_token_under_30_s_is_not_renewed_on_every_poll() -> None:
    clock = Clock()
    client, issued = _client(10, clock)
    for _ in range(5):  # five polls within the first five seconds of a 10 s token
        client.token()
        clock.now += 1
    assert len(issued) == 1
