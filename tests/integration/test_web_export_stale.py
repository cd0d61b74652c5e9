"""Issue 27 item 6: the providers' export marks figures being refolded as the page does, so the
page, its CSV and its JSON taken at the same moment agree, and say of when they are."""

from __future__ import annotations

import csv
import io
import threading

import sqlalchemy as sa
from flask import Flask

from app.core.report import ProviderStats
from app.db.webreads import WebReads
from app.web.access import Access
from app.web.figures import FiguresCache
from app.web.health import Health, Metrics
from app.web.site import create_app
from app.web.ui import WebUI
from tests.integration.test_web_board import _chase_approval, _moved
from tests.webseed import NOW, STUCK_AFTER, seed

AS_OF = NOW.isoformat().replace("+00:00", "Z")  # the figures' time, as every export writes it


class GatedReads(WebReads):
    """The figures' fold waits at the gate: "being counted" lasts as long as the test wants."""

    def __init__(self, engine: sa.Engine) -> None:
        super().__init__(engine, STUCK_AFTER)
        self.gate = threading.Event()

    def provider_stats(self) -> tuple[ProviderStats, ...]:
        assert self.gate.wait(timeout=30)
        return super().provider_stats()


def _app(engine: sa.Engine, reads: WebReads) -> Flask:
    health = Health(interval=60)
    ui = WebUI(reads, Access(mode="none"), clock=lambda: NOW, background=True)
    return create_app(health, Metrics(health), ui)


def test_exports_taken_while_figures_are_refolded_are_marked_stale_like_the_page(
    engine: sa.Engine,
) -> None:
    seed(engine)
    reads = GatedReads(engine)
    reads.gate.set()
    app = _app(engine, reads)
    cache: FiguresCache = app.extensions["flinkswatch.figures"]
    cache.wait()
    web = app.test_client()
    fresh = web.get("/providers?format=json").get_json()
    assert {(r["figures_stale"], r["figures_as_of"]) for r in fresh} == {(False, AS_OF)}
    reads.gate.clear()
    _moved(engine)
    try:
        assert "being counted" in web.get("/providers").get_data(as_text=True)
        stale_json = web.get("/providers?format=json").get_json()
        stale_csv = list(csv.DictReader(io.StringIO(web.get("/providers?format=csv").text)))
    finally:
        reads.gate.set()
    assert {r["figures_stale"] for r in stale_json} == {True}
    assert {r["figures_stale"] for r in stale_csv} == {"True"}
    assert _chase_approval(stale_json) == 0  # the previous figures, said to be so
    assert [r["registrations"] for r in stale_json] == [int(r["registrations"]) for r in stale_csv]
    cache.wait()
    refolded = web.get("/providers?format=json").get_json()
    assert {r["figures_stale"] for r in refolded} == {False}
    assert _chase_approval(refolded) == 1
    assert "being counted" not in web.get("/providers").get_data(as_text=True)
