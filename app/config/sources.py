"""Where settings come from besides the environment and `.env`: `<NAME>_FILE` secrets, and a
setting given as empty on purpose (STUCK_AFTER= turns reminders off)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from app.errors import ConfigError

ENV_FILE = ".env"  # read from the working directory


class SecretFiles(PydanticBaseSettingsSource):
    """Reads `<NAME>_FILE` (from the environment, else from `.env`) for secret settings whose
    `<NAME>` is not set directly."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        names: Sequence[str],
        dotenv: Mapping[str, str | None],
    ) -> None:
        super().__init__(settings_cls)
        self._names, self._dotenv = names, dotenv

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ does the work

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in self._names:
            path = env(f"{name}_FILE") or self._dotenv.get(f"{name}_file")
            if not path:
                continue
            try:
                found[name] = Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"{name.upper()}_FILE: cannot read {path}: {exc.strerror}"
                ) from None
        return found


class EmptyMeansOff(PydanticBaseSettingsSource):
    """`STUCK_AFTER=` (set but empty) turns reminders off, where env_ignore_empty would fall back
    to the default. Placed after the source it reads, so a value set there wins."""

    def __init__(self, settings_cls: type[BaseSettings], lookup: Callable[[str], Any]) -> None:
        super().__init__(settings_cls)
        self._lookup = lookup

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ does the work

    def __call__(self) -> dict[str, Any]:
        value = self._lookup("stuck_after")
        return {"stuck_after": ""} if isinstance(value, str) and not value.strip() else {}


def env(name: str) -> str | None:
    for key, value in os.environ.items():
        if key.upper() == name.upper():
            return value
    return None


def dotenv_raw(name: str) -> str | None:
    from dotenv import dotenv_values  # what pydantic-settings reads .env with; keeps empties

    raw = dotenv_values(ENV_FILE) if Path(ENV_FILE).is_file() else {}
    return next((v for k, v in raw.items() if k.upper() == name.upper()), None)
