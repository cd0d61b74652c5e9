"""The floor: what *any* watcher of the listing must pay, in a bare httpx client: a token, the
GET, and `json.loads` of the body. Nothing of flinkswatch is imported, so `python -m
bench.floor TOKEN_URL LISTING_URL ID SECRET` is also the floor *process* (start-up included).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def bare_fetch(token_url: str, listing_url: str, client_id: str, secret: str) -> int:
    """Token, listing, json.loads with a new connection: the number of rows read."""
    import httpx  # here, so that the process floor's start-up includes it like a watcher's

    with httpx.Client() as http:
        fields = {
            "grant_type": "client_credentials",
            "scope": "client:admin",
            "client_id": client_id,
            "client_secret": secret,
        }
        answer = http.post(token_url, json=fields, timeout=30)
        answer.raise_for_status()
        token = answer.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        listing = http.get(listing_url, headers=headers, timeout=60)
        listing.raise_for_status()
        rows: Any = json.loads(listing.content)
    return len(rows)


if __name__ == "__main__":
    print(bare_fetch(*sys.argv[1:5]))
