"""What each deployment really uses, read from its own files (the unit, the Dockerfile, the
manifests): the database, the state and settings paths. Docs and env examples are tested
against these, so a path changed in one place cannot go stale in another."""

from __future__ import annotations

import configparser
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.test_container_e2e import read_image

ROOT = Path(__file__).parents[1]
DEPLOY = ROOT / "deploy"


@dataclass(frozen=True)
class Deployment:
    name: str
    env: dict[str, str]  # what the deployment itself sets, before any env file
    directories: tuple[str, ...]  # where its files live (absolute)
    files: tuple[str, ...] = field(default=())  # its own files outside those directories

    @property
    def database(self) -> str:
        """The SQLite file of its DATABASE_URL (sqlite:////abs/path)."""
        return self.env["DATABASE_URL"].removeprefix("sqlite:///")


def _unit() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / "flinkswatch.service")
    return parser["Service"]


def systemd() -> Deployment:
    text = (DEPLOY / "systemd" / "flinkswatch.service").read_text(encoding="utf-8")
    env = dict(
        line.removeprefix("Environment=").split("=", 1)
        for line in text.splitlines()
        if line.startswith("Environment=")
    )
    service = _unit()
    binary = service["ExecStart"].split()[0]  # /opt/flinkswatch/bin/flinkswatch
    venv = str(Path(binary).parents[1])
    state = f"/var/lib/{service['StateDirectory']}"
    config = str(Path(service["EnvironmentFile"]).parent)
    return Deployment("systemd", env, (venv, state, config), (service["EnvironmentFile"], binary))


def image() -> Deployment:
    built = read_image()
    return Deployment("image", dict(built.env), (*built.volumes, built.workdir))


def _k8s(name: str) -> Any:
    return yaml.safe_load((DEPLOY / "k8s" / name).read_text(encoding="utf-8"))


def kubernetes() -> Deployment:
    env = dict(_k8s("configmap.yaml")["data"])
    (container,) = _k8s("deployment.yaml")["spec"]["template"]["spec"]["containers"]
    mounts = tuple(mount["mountPath"] for mount in container["volumeMounts"])
    return Deployment("kubernetes", env, mounts)


def secret_keys() -> set[str]:
    return set(_k8s("secret.yaml")["stringData"])


def active_settings(path: Path) -> dict[str, str]:
    """NAME=value lines that are not comments: what a copy of the file sets."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            found[name.strip()] = value.strip()
    return found
