"""Issue 27 item 5: every document a user has stands on its own (none cites the internal
contract's sections), says the truth about retries once, and names the settings people need
(the web page in each deployment's example, the web page of the demo in the README)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.delivery import TRANSIENT_ATTEMPTS_FACTOR

ROOT = Path(__file__).parents[2]
TEXT = {".md", ".example", ".yml", ".yaml", ".service", ""}


def user_documents() -> list[Path]:
    """README, docs/, .env.example and every text file of deploy/."""
    found = [ROOT / "README.md", ROOT / ".env.example", *sorted((ROOT / "docs").rglob("*.md"))]
    found += [p for p in sorted((ROOT / "deploy").rglob("*")) if p.is_file() and p.suffix in TEXT]
    return found


@pytest.mark.parametrize("path", user_documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_user_document_cites_the_internal_contract(path: Path) -> None:
    cited = [
        f"{n}: {line.strip()}"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bSPEC\b", line)
    ]
    assert cited == []


def test_the_retries_are_told_alike_in_env_example_and_readme() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "without limit" not in example
    block = example[example.index("# --- Delivery") :].split("# DELIVERY_MAX_ATTEMPTS=")[0]
    said = " ".join(line.lstrip("# ") for line in block.splitlines())
    assert f"{TRANSIENT_ATTEMPTS_FACTOR} times this many when it is transient" in said
    assert f"up to {TRANSIENT_ATTEMPTS_FACTOR} times `DELIVERY_MAX_ATTEMPTS`" in readme


@pytest.mark.parametrize(
    ("name", "settings"),
    [
        ("docker.env.example", ("WEB_UI", "WEB_USERNAME", "WEB_PASSWORD")),
        ("compose.env.example", ("WEB_UI", "WEB_USERNAME", "WEB_PASSWORD")),
        ("systemd/flinkswatch.env.example", ("WEB_UI", "WEB_USERNAME", "WEB_PASSWORD")),
        ("k8s/secrets.env.example", ("WEB_PASSWORD",)),  # the others are not secrets
    ],
)
def test_each_deployment_example_mentions_the_web_page(name: str, settings: tuple[str]) -> None:
    lines = (ROOT / "deploy" / name).read_text(encoding="utf-8").splitlines()
    for setting in settings:
        assert any(line.startswith(f"# {setting}=") for line in lines), setting  # commented


def test_the_readme_says_the_demo_serves_the_web_page() -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "`WEB_UI=true WEB_AUTH=none flinkswatch demo`" in readme
    assert "<http://127.0.0.1:8080/>" in readme
