"""The guards of tests/ci.py (issue 28 item 4): in CI a missing tool or library fails instead of
skipping, and UPDATE_GOLDEN=1 is refused instead of rewriting the golden files; outside CI both
behave as before. The two skips that stayed skips in CI go through them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import ci
from tests.unit import test_golden

TESTS = Path(__file__).parents[1]


@pytest.fixture
def in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")


@pytest.fixture
def not_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)


@pytest.mark.parametrize(("value", "ci_is_on"), [("true", True), ("1", True), ("false", False)])
def test_ci_is_on_for_the_values_ci_services_set(
    monkeypatch: pytest.MonkeyPatch, value: str, ci_is_on: bool
) -> None:
    monkeypatch.setenv("CI", value)
    assert ci.in_ci() is ci_is_on


@pytest.mark.usefixtures("in_ci")
def test_in_ci_a_missing_tool_or_library_fails() -> None:
    with pytest.raises(pytest.fail.Exception, match="openssl CLI not found: required in CI"):
        ci.skip_or_fail("openssl CLI not found")
    with pytest.raises(pytest.fail.Exception, match="no_such_module_28 cannot be imported"):
        ci.import_or_fail("no_such_module_28", "pip install it")


@pytest.mark.usefixtures("not_in_ci")
def test_outside_ci_a_missing_tool_or_library_skips() -> None:
    with pytest.raises(pytest.skip.Exception, match=r"^openssl CLI not found$"):
        ci.skip_or_fail("openssl CLI not found")
    with pytest.raises(pytest.skip.Exception, match="no_such_module_28 cannot be imported"):
        ci.import_or_fail("no_such_module_28", "pip install it")
    assert ci.import_or_fail("json", "stdlib").__name__ == "json"


@pytest.mark.usefixtures("in_ci")
def test_in_ci_update_golden_is_refused_and_the_golden_file_left_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("UPDATE_GOLDEN", "1")
    monkeypatch.setattr(test_golden, "GOLDEN", tmp_path)
    (tmp_path / "case.txt").write_text("the reviewed output\n", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match="UPDATE_GOLDEN is set in CI"):
        test_golden.check("case.txt", "some other output\n")
    assert (tmp_path / "case.txt").read_text(encoding="utf-8") == "the reviewed output\n"


@pytest.mark.usefixtures("not_in_ci")
def test_outside_ci_update_golden_rewrites_and_without_it_a_difference_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(test_golden, "GOLDEN", tmp_path)
    (tmp_path / "case.txt").write_text("old\n", encoding="utf-8")
    monkeypatch.delenv("UPDATE_GOLDEN", raising=False)
    with pytest.raises(AssertionError, match=r"case\.txt differs from its golden file"):
        test_golden.check("case.txt", "new\n")
    monkeypatch.setenv("UPDATE_GOLDEN", "1")
    test_golden.check("case.txt", "new\n")
    assert (tmp_path / "case.txt").read_text(encoding="utf-8") == "new\n"


def test_the_openssl_and_selenium_skips_go_through_the_guards() -> None:
    security = (TESTS / "faults" / "test_security.py").read_text(encoding="utf-8")
    browser = (TESTS / "e2e" / "test_web_browser.py").read_text(encoding="utf-8")
    assert 'skip_or_fail("openssl CLI not found' in security
    assert 'pytest.skip("openssl' not in security
    assert 'import_or_fail("selenium.webdriver"' in browser
    assert "importorskip" not in browser
