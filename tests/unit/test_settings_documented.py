"""Every setting is in `.env.example` (SPEC 3: it lists every setting), so a new one cannot
ship undocumented."""

from __future__ import annotations

from pathlib import Path

from app.config.settings import Settings

ROOT = Path(__file__).parents[2]


def test_every_setting_is_in_env_example() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in text]
    assert not missing, f"settings missing from .env.example: {missing}"
