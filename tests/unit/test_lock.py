"""The lock (requirements*.txt, `bash scripts/lock`) agrees with pyproject.toml: every declared
dependency is pinned within its range, with hashes, and the image's pins are the test pins. A
dependency added to pyproject.toml without re-locking fails here, naming the command."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
RELOCK = "pyproject.toml and the lock disagree: run `bash scripts/lock`"


def pins(name: str) -> dict[str, tuple[str, int]]:
    """package -> (version, number of hashes), from a pip-compile --generate-hashes file."""
    text = (ROOT / name).read_text(encoding="utf-8")
    found: dict[str, tuple[str, int]] = {}
    for block in re.split(r"\n(?=\S)", text):
        match = re.match(r"([A-Za-z0-9._-]+)==(\S+)", block)
        if match:
            found[canonicalize_name(match[1])] = (match[2], block.count("--hash=sha256:"))
    return found


@pytest.mark.parametrize(
    ("lock", "declared"),
    [
        ("requirements.txt", PROJECT["dependencies"]),
        (
            "requirements-test.txt",
            PROJECT["dependencies"] + PROJECT["optional-dependencies"]["test"],
        ),
    ],
)
def test_every_declared_dependency_is_pinned_within_its_range(
    lock: str, declared: list[str]
) -> None:
    locked = pins(lock)
    for line in declared:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in {lock}: {RELOCK}"
        version, _ = locked[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {name}=={version}, outside {requirement.specifier}: {RELOCK}"
        )


def test_every_pin_has_hashes_and_the_image_uses_the_test_versions() -> None:
    image, test = pins("requirements.txt"), pins("requirements-test.txt")
    assert image
    assert test
    assert all(hashes for _, hashes in (image | test).values())
    assert {name: version for name, (version, _) in image.items()} == {
        name: test[name][0] for name in image
    }, RELOCK


def test_the_image_and_the_checks_install_from_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "--require-hashes" in dockerfile
    assert "-r requirements.txt" in dockerfile
    check = (ROOT / "scripts" / "check").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements-test.txt" in check
    assert "--no-deps -e ." in check
