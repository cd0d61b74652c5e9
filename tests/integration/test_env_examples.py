"""Issue 15 item 1: a copied example env file overrides nothing it does not mean to.
`.env.example` lists every setting with its default, commented out; each deployment has its
own example whose paths are that deployment's, and which leaves the deployment's own
DATABASE_URL and HTTP binding alone."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from app.config.settings import Settings, load_settings
from tests.deployfacts import (
    DEPLOY,
    ROOT,
    Deployment,
    active_settings,
    image,
    kubernetes,
    secret_keys,
    systemd,
)

SETTINGS = {name.upper() for name in Settings.model_fields}
EXAMPLE = ROOT / ".env.example"
COMMENTED = re.compile(r"^# ([A-Z][A-Z0-9_]*)=(.*)$")
# Set by the deployment itself: an env file repeating them would pin another deployment's value.
DEPLOYMENT_OWNED = {"DATABASE_URL", "HTTP_HOST", "HTTP_PORT"}


@pytest.fixture
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory and no setting in the environment."""
    for name in list(os.environ):
        if name.upper() in SETTINGS or name.upper().removesuffix("_FILE") in SETTINGS:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _commented_defaults() -> dict[str, str]:
    found = {}
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = COMMENTED.match(line)
        if match and match[1] in SETTINGS:
            found[match[1]] = match[2]
    return found


def test_a_copy_of_env_example_sets_only_the_credentials_to_fill_in(clean: Path) -> None:
    assert active_settings(EXAMPLE) == {"FLINKS_CLIENT_ID": "", "FLINKS_CLIENT_SECRET": ""}
    defaults = load_settings().model_dump()
    shutil.copy(EXAMPLE, clean / ".env")
    assert load_settings().model_dump() == defaults


def test_env_example_lists_every_setting_with_its_real_default(clean: Path) -> None:
    listed = _commented_defaults() | active_settings(EXAMPLE)
    assert set(listed) == SETTINGS
    defaults = load_settings().model_dump()
    # Uncommenting every line as written changes nothing: each value shown is the default.
    (clean / ".env").write_text(
        "".join(f"{name}={value}\n" for name, value in _commented_defaults().items()),
        encoding="utf-8",
    )
    assert load_settings().model_dump() == defaults


DEPLOYMENT_EXAMPLES = [
    ("docker.env.example", image),
    ("compose.env.example", image),
    ("systemd/flinkswatch.env.example", systemd),
    ("k8s/secrets.env.example", kubernetes),
]


@pytest.mark.parametrize(("name", "facts"), DEPLOYMENT_EXAMPLES, ids=lambda v: str(v))
def test_a_deployment_example_keeps_the_deployments_paths(
    name: str, facts: type[Deployment]
) -> None:
    deployment = facts()
    path = DEPLOY / name
    active = active_settings(path)
    assert {"FLINKS_CLIENT_ID", "FLINKS_CLIENT_SECRET"} <= set(active)
    assert set(active) - {"POSTGRES_PASSWORD"} <= SETTINGS
    assert not set(active) & DEPLOYMENT_OWNED, f"{name} overrides {set(active) & DEPLOYMENT_OWNED}"
    text = path.read_text(encoding="utf-8")
    if name != "compose.env.example":  # compose builds its PostgreSQL URL itself
        assert f"DATABASE_URL={deployment.env['DATABASE_URL']}" in text
    assert "./data/" not in text  # the path of a shell in a checkout, never a deployment's


def test_the_k8s_example_has_the_keys_of_the_secret() -> None:
    assert set(active_settings(DEPLOY / "k8s" / "secrets.env.example")) == secret_keys()


def test_the_filled_in_copies_are_git_ignored() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert {".env", "docker.env", "secrets.env", "flinkswatch.env"} <= set(ignored)
