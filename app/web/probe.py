"""`python -m app.web [/path]`: GET a path of the local server; the container's HEALTHCHECK.

Standard library only, so the probe starts fast and needs nothing the service loads.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence


def probe(path: str = "/healthz", env: Mapping[str, str] = os.environ, timeout: float = 5) -> int:
    """GET `path` on the local server named by HTTP_HOST/HTTP_PORT; 0 when it answers 200.

    The container's HEALTHCHECK (slim images have no curl). Prints the answer, which Docker
    keeps in `docker inspect`; the body holds no secret.
    """
    host = env.get("HTTP_HOST", "127.0.0.1").strip()
    if host in ("", "0.0.0.0"):  # noqa: S104 - bound to every interface: ask the loopback one
        host = "127.0.0.1"
    url = f"http://{host}:{env.get('HTTP_PORT', '8080').strip()}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read().decode()
    except OSError as exc:
        print(f"{url}: {exc}")
        return 1
    print(f"{status} {text}")
    return 0 if status == 200 else 1


def main(argv: Sequence[str] = ()) -> int:
    return probe(argv[0]) if argv else probe()
