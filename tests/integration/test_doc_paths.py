"""Issue 15 item 1: every path the runbook and the deployment guide mention is real. Repository
paths must exist (or be a git-ignored file the operator makes from an example that exists);
absolute paths must be those the deployment files use (the unit, the Dockerfile, the manifests),
so a database or settings path changed in one place cannot go stale in the docs (the backup
steps once read /var/lib/flinkswatch/flinkswatch.db while the service wrote elsewhere)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from app.config.types import DEFAULT_DATABASE_URL
from tests.deployfacts import DEPLOY, ROOT, Deployment, image, kubernetes, systemd

DOCS = [ROOT / "docs" / "operations.md", DEPLOY / "README.md"]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
ABSOLUTE = re.compile(
    r"(?<![\w.:/~<-])(/(?:var|etc|opt|data|run|app|tmp|usr|srv|home)(?:/[\w.@%<>-]*)*)"
)
SQLITE = re.compile(r"sqlite:///([^\s`'\")]+)")
REPO_DIRS = "deploy|docs|app|tests|scripts|migrations|bench"
WITH_DIR = re.compile(rf"(?<![\w/.:-])((?:\.\./)?(?:{REPO_DIRS})/[\w./-]*)")
FILE_NAME = re.compile(
    r"(?<![\w/.-])((?:\.\./|\./)?(?:[\w.-]+/)*[\w.-]+\."
    r"(?:md|ya?ml|py|txt|service|example|toml|env|whl|db|dump))\b"
)
# Files an operator makes from an example (git-ignored): the example must exist.
OPERATOR_MADE = {
    ".env": ".env.example",
    "deploy/.env": "deploy/compose.env.example",
    "docker.env": "deploy/docker.env.example",
    "flinkswatch.env": "deploy/systemd/flinkswatch.env.example",
    "deploy/k8s/secrets.env": "deploy/k8s/secrets.env.example",
}
NOT_FILES = {"deploy/flinkswatch"}  # `kubectl exec deploy/flinkswatch`: a Deployment, not a path
OUTPUTS = re.compile(
    r"(flinkswatch[\w-]*\.(db|dump)|dist/flinkswatch-\d+\.\d+\.\d+-py3-none-any\.whl)"
)
# Outside the deployments' own directories, by convention: the secret mounts of Docker and
# Kubernetes, the operator's backup folder (created by the documented `install -d`), the
# system's unit folder and the service user's shell.
CONVENTIONS = (
    "/run/secrets",
    "/var/backups/flinkswatch",
    "/etc/systemd/system",
    "/usr/sbin/nologin",
)
DEPLOYMENTS = [systemd(), image(), kubernetes()]


def _mentions(doc: Path, pattern: re.Pattern[str]) -> set[str]:
    return set(pattern.findall(doc.read_text(encoding="utf-8")))


def _clean(path: str) -> str:
    """Drop placeholders (`/data/...`) and a trailing slash."""
    return re.sub(r"(/\.\.\.|/<[^>]*>.*|/)$", "", path.split("/...")[0]) or "/"


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _repo_path_exists(doc: Path, token: str) -> bool:
    candidates = [doc.parent / token, ROOT / token, *(d / token for d in DEPLOY.iterdir())]
    return any(c.exists() for c in candidates)


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_repository_path_exists(doc: Path) -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    missing = []
    for token in _mentions(doc, WITH_DIR) | _mentions(doc, FILE_NAME):
        token = token.rstrip(".")
        if token in NOT_FILES or OUTPUTS.fullmatch(token) or token.startswith("/"):
            continue
        if token in OPERATOR_MADE:
            assert (ROOT / OPERATOR_MADE[token]).is_file(), token
            assert Path(token).name in ignored, f"{token} (holds secrets) is not git-ignored"
            continue
        if not _repo_path_exists(doc, token):
            missing.append(token)
    assert missing == [], f"{doc.name} names files that do not exist: {sorted(missing)}"


def _database_files(deployment: Deployment) -> set[str]:
    return {deployment.database + suffix for suffix in ("", "-wal", "-shm")}


def _path_problem(path: str) -> str | None:
    """Why an absolute path in the docs is not one the deployments use; None when it is."""
    roots = [*CONVENTIONS, *(d for dep in DEPLOYMENTS for d in (*dep.directories, *dep.files))]
    if not any(_under(path, root) for root in roots):
        return "is in no deployment's directories"
    for deployment in DEPLOYMENTS:
        for directory in deployment.directories:
            if _under(path, directory) and re.search(r"\.db(-wal|-shm)?$", path):
                named_backup = Path(path).name.startswith("backup")
                if path not in _database_files(deployment) and not named_backup:
                    return f"is not {deployment.name}'s database {deployment.database}"
    systemd_unit = DEPLOYMENTS[0]
    if _under(path, "/etc/flinkswatch") and path not in ("/etc/flinkswatch", systemd_unit.files[0]):
        return f"is not the unit's EnvironmentFile {systemd_unit.files[0]}"
    if _under(path, "/opt/flinkswatch/bin") and Path(path).name not in ("pip", "flinkswatch"):
        return "is not a program the venv has"
    return None


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_absolute_path_is_one_the_deployments_use(doc: Path) -> None:
    problems = {
        path: why
        for path in map(_clean, _mentions(doc, ABSOLUTE))
        if (why := _path_problem(path)) is not None
    }
    assert problems == {}


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_sqlite_url_is_a_deployments_database_or_the_default(doc: Path) -> None:
    databases = {d.database for d in DEPLOYMENTS} | {
        DEFAULT_DATABASE_URL.removeprefix("sqlite:///")
    }
    assert _mentions(doc, SQLITE) <= databases


def test_the_install_steps_use_the_wheel_this_version_builds() -> None:
    guide = (DEPLOY / "README.md").read_text(encoding="utf-8")
    wheels = set(re.findall(r"dist/flinkswatch-(\d+\.\d+\.\d+)-py3-none-any\.whl", guide))
    assert wheels == {VERSION}
    assert "pip wheel --no-deps --wheel-dir dist ." in guide  # and says how it is built


def test_a_stale_path_would_be_caught() -> None:
    """The check itself can fail: the path of issue 15's empty backup is refused."""
    assert _path_problem("/var/lib/flinkswatch/data/flinkswatch.db") is not None
    assert _path_problem("/srv/flinkswatch.db") is not None
    assert _path_problem("/etc/flinkswatch/secrets.env") is not None
    assert _path_problem("/var/lib/flinkswatch/flinkswatch.db-wal") is None
