"""`flinkswatch demo`: the whole service against a simulated Flinks, on a throwaway database."""

from __future__ import annotations

import logging
import random
import shutil
import tempfile
from pathlib import Path

from pydantic import SecretStr

from app.config.settings import Settings
from app.demo.simulator import FlinksSimulator, demo_rows
from app.wiring import build_app
from app.wiring.service import build_service
from app.wiring.validations import refuse

log = logging.getLogger(__name__)

DEMO_CLIENT_ID = "demo-partner"
DEMO_CLIENT_SECRET = "demo-secret-not-a-real-one"


def run_demo(settings: Settings, *, interval: int, cycles: int | None, seed: int | None) -> int:
    """Poll the simulator every `interval` seconds; it advances registrations between polls."""
    refuse(settings, flinks=False)  # before anything is started: the demo brings its Flinks
    rng = random.Random(seed)  # noqa: S311 - simulated data, not security
    workdir = Path(tempfile.mkdtemp(prefix="flinkswatch-demo-"))
    simulator = FlinksSimulator(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
    simulator.set_rows(demo_rows(rng=rng))
    simulator.start()
    demo_settings = settings.model_copy(
        update={
            "flinks_client_id": SecretStr(DEMO_CLIENT_ID),
            "flinks_client_secret": SecretStr(DEMO_CLIENT_SECRET),
            "flinks_base_url": simulator.base_url,
            "flinks_token_url": simulator.token_url,
            "flinks_recipient_id": "",
            "flinks_token_auth": "body",
            "flinks_token_format": "json",
            "database_url": SecretStr(f"sqlite:///{workdir / 'demo.db'}"),
            "auto_migrate": True,
            "poll_interval_seconds": interval,
        }
    )
    log.info(
        "demo.started upstream=%s database=%s interval_seconds=%d",
        simulator.base_url,
        workdir / "demo.db",
        interval,
    )
    app = build_app(demo_settings)
    try:
        service = build_service(
            demo_settings,
            app,
            http_port=_free_or_off(settings.http_host, settings.http_port),
            # The first poll takes the baseline; every later one sees the upstream move.
            before_poll=lambda n: simulator.advance(rng) if n else None,
            max_cycles=cycles,
        )
        return service.run()
    finally:
        app.close()
        simulator.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _free_or_off(host: str, port: int) -> int:
    """The demo serves HTTP like `run` does, unless the port is taken: then it goes without."""
    import socket

    if not port:
        return 0
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            probe.bind((host, 0))  # a port that is free now, to suggest
            log.warning(
                "demo.http_off reason=port_in_use host=%s port=%d: the demo runs without HTTP;"
                " set HTTP_PORT=%d (any free port) to serve it, or HTTP_PORT=0 for none",
                host,
                port,
                probe.getsockname()[1],
            )
            return 0
    return port
