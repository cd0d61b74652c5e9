"""The web page's figures (issue 12, Speed): each page's first screen (server time, HTML size)
and the board's streamed exports (time, peak Python memory) over a database filled by the real
poller (a first sync, then cycles in which 10% of the rows move), on each backend."""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from flask.testing import FlaskClient

from app.db.webreads import WebReads
from app.settings import load_settings
from app.wiring import App, build_app
from app.web.access import Access
from app.web.server import Health, Metrics
from app.web.site import WebUI, create_app
from bench.env import Scratch, Upstream, bench_settings_env

# The targets of issue 12 at 100,000 registrations.
TARGET_PAGE_MS = 200.0
TARGET_PAGE_KIB = 1024.0
TARGET_EXPORT_S = 3.0
MOVES = 3  # cycles after the first sync, 10% of the rows moving in each: a history to show
STUCK_AFTER = {"PENDING_APPROVAL": timedelta(days=7), "PENDING_ACTIVATION": timedelta(days=14)}
PAGES = (
    ("board", "/"),
    ("board, one status", "/?status=ACTIVE"),
    ("board, stuck", "/?stuck=1"),
    ("board, search", "/?q=bank+1017"),
    ("board, last page", "/?page=40"),
    ("timeline", None),  # the first registration's: /r/<client_id>/<provider_id>
    ("providers", "/providers"),
    ("activity", "/activity"),
)
EXPORTS = (("export CSV", "/?format=csv"), ("export JSON", "/?format=json"))


@dataclass
class WebFigure:
    """One page (or export) at one size on one backend."""

    rows: int
    backend: str
    page: str
    path: str
    runs: list[float] = field(default_factory=list)  # seconds, each a whole response
    first: float = 0.0  # the first request (a cold cache), seconds
    size_kib: float = 0.0  # the body
    py_peak_mib: float | None = None  # tracemalloc peak while one export streamed
    export_rows: int | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def target(self) -> str:
        return f"< {TARGET_EXPORT_S:g} s" if self.export_rows is not None else "< 200 ms, 1 MiB"

    @property
    def met(self) -> bool:
        if self.export_rows is not None:
            return self.median < TARGET_EXPORT_S
        return self.median * 1000 < TARGET_PAGE_MS and self.size_kib < TARGET_PAGE_KIB


def filled(upstream: Upstream, url: str, moves: int = MOVES) -> App:
    """The real watcher on `url` after a first sync of `upstream` and `moves` cycles."""
    env = bench_settings_env(upstream, url)
    settings = load_settings(
        **{k.lower(): v for k, v in env.items()},
        slack_bot_token=None,
        slack_channel="",
        slack_webhook_url=None,
        smtp_host="",
        email_from="",
        email_to="",
        flinks_recipient_id="",
        auto_migrate=True,
    )
    app = build_app(settings)
    for variant in range(moves + 1):
        upstream.serve(variant)
        app.poller.poll_once()
    return app


def _client(app: App) -> FlaskClient:
    health = Health(interval=60)
    ui = WebUI(WebReads(app.engine, STUCK_AFTER), Access(mode="none"))
    return create_app(health, Metrics(health), ui).test_client()


def _get(client: FlaskClient, path: str) -> tuple[float, int]:
    """Seconds to the whole body (streamed or not), and its size in bytes."""
    started = time.perf_counter()
    answer = client.get(path, buffered=False)
    size = sum(len(chunk) for chunk in answer.response)
    answer.close()
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path}: {answer.status_code}")
    return elapsed, size


def _traced_peak(run: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def measure_pages(app: App, rows: int, backend: str, repeat: int) -> list[WebFigure]:
    """Every page and export: the first request, then `repeat` timed ones; one traced export."""
    client = _client(app)
    key = next(iter(WebReads(app.engine, STUCK_AFTER).current_key()), None)
    figures = []
    for name, path in (*PAGES, *EXPORTS):
        if path is None:
            if key is None:
                continue
            path = f"/r/{key['client_id']}/{key['provider_id']}"
        figure = WebFigure(rows, backend, name, path)
        figure.first, size = _get(client, path)
        for _ in range(repeat):
            elapsed, size = _get(client, path)
            figure.runs.append(elapsed)
        figure.size_kib = size / 1024
        if "format=" in path:
            figure.export_rows = _export_rows(client, path)
            figure.py_peak_mib = _traced_peak(lambda p=path: _get(client, p))
        figures.append(figure)
    return figures


def _export_rows(client: FlaskClient, path: str) -> int:
    """Rows in an export, counted as it streams: CSV lines less the header, JSON objects."""
    answer = client.get(path, buffered=False)
    mark = b"\n" if "csv" in path else b'{"client_id":'
    found = sum(chunk.count(mark) for chunk in answer.response)
    answer.close()
    return found - 1 if "csv" in path else found


def measure(rows: int, backend: str, scratch: Scratch, repeat: int) -> list[WebFigure]:
    """A fresh database of `backend` filled with `rows`, and every page's figures over it."""
    upstream = Upstream(rows)
    try:
        app = filled(upstream, scratch.fresh())
        try:
            return measure_pages(app, rows, backend, repeat)
        finally:
            app.close()
    finally:
        upstream.close()
