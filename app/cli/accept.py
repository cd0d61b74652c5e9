"""`flinkswatch accept-removals`: lift a mass-shrink hold (SPEC 2 and 4)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.config.settings import Settings


def accept_removals(settings: Settings) -> int:
    """Lift the open hold and say what follows; exit 0 either way (no hold is not an error)."""
    from app.db import holds
    from app.wiring import build_read_engine

    # An existing, current database only (create=False): this command never creates one.
    engine = build_read_engine(settings)
    try:
        lifted = holds.accept(engine, datetime.now(UTC), settings.removal_confirm_polls)
    finally:
        engine.dispose()
    if lifted is None:
        print("no removal hold is in place: nothing to accept")
        return 0
    print(
        f"removal hold lifted (Flinks listed {lifted.listed:,} of {lifted.present:,}"
        f" registrations): {_removals(lifted.next_cycle)} will follow on the next cycle"
        + (f", {_removals(lifted.later)} later if still missing" if lifted.later else "")
        + "; registrations that come back are kept"
    )
    return 0


def _removals(count: int) -> str:
    return f"{count:,} removal{'s' if count != 1 else ''}"
