"""Mutation testing is a habit, not a one-off (issue 28 item 6): `bash scripts/mutate` exists,
installs its tool from the test extra, mutates every module of app/core (a new one included,
without a change to the configuration), and the docs say how to run it and what it found."""

from __future__ import annotations

import fnmatch
import os
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_scripts_mutate_is_an_executable_that_runs_mutmut_from_a_fresh_clone() -> None:
    script = ROOT / "scripts" / "mutate"
    assert os.access(script, os.X_OK)
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert '"$PY" -m venv .venv' in text  # makes the virtualenv when there is none
    assert "--require-hashes -r requirements-test.txt" in text
    assert ".venv/bin/mutmut run" in text
    extra = PYPROJECT["project"]["optional-dependencies"]["test"]
    assert any(r.startswith("mutmut") for r in extra)  # what it installs when missing


def test_every_module_of_the_pure_core_is_mutated_and_nothing_else() -> None:
    config = PYPROJECT["tool"]["mutmut"]
    patterns = config["only_mutate"]
    core = sorted((ROOT / "app" / "core").glob("*.py"))
    assert core
    for path in core:  # a module added later matches too: the pattern names no file
        relative = str(path.relative_to(ROOT))
        assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative
    assert not any(fnmatch.fnmatch("app/watch/poll.py", p) for p in patterns)
    assert config["pytest_add_cli_args_test_selection"] == ["tests/unit/"]


def test_the_docs_say_how_to_run_it_and_what_it_found() -> None:
    mutation = (ROOT / "docs" / "mutation.md").read_text(encoding="utf-8")
    assert "bash scripts/mutate" in mutation
    assert "mutation score" in mutation.lower()
    assert "docs/mutation.md" in (ROOT / "README.md").read_text(encoding="utf-8")
