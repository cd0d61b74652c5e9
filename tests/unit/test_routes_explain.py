"""`flinkswatch routes`, the pure part (issue 15 item 9): for a registration described by client,
provider and country, which channel instance gets its alerts and by which rule; the verdict is
the channel's own Filter.accepts, so the explanation cannot drift from what delivery does."""

from __future__ import annotations

import pytest

from app.core.routing import Probe, explain, parse_routes

RULES = parse_routes("provider=NBC:#nbc; country=US & client=Alpha Lending:#us-alpha", "slack")


def _verdicts(probe: Probe, *, unmatched: bool) -> dict[str, tuple[bool, str]]:
    return {
        v.name: (v.reached, v.why)
        for v in explain("slack", "#all", RULES, unmatched_only=unmatched, item=probe)
    }


def test_a_matching_rule_and_the_default_with_routes_default_all() -> None:
    got = _verdicts(Probe(provider="nbc"), unmatched=False)
    assert got == {
        "slack": (True, "the default channel: ROUTES_DEFAULT=all gives it every alert"),
        "slack:#nbc": (True, "SLACK_ROUTES rule 1 (provider=nbc)"),
        "slack:#us-alpha": (False, "no SLACK_ROUTES rule for it matches"),
    }


def test_routes_default_unmatched_leaves_the_default_out_when_a_rule_took_it() -> None:
    got = _verdicts(Probe(client="alpha lending", country="us"), unmatched=True)
    assert got["slack"] == (
        False,
        "ROUTES_DEFAULT=unmatched: SLACK_ROUTES rule 2 (country=us & client=alpha lending)"
        " sends it to #us-alpha instead",
    )
    assert got["slack:#us-alpha"][0] is True
    assert got["slack:#nbc"][0] is False


def test_routes_default_unmatched_keeps_what_no_rule_took() -> None:
    got = _verdicts(Probe(provider="TD"), unmatched=True)
    assert got["slack"] == (
        True,
        "the default channel: no rule sends it elsewhere (ROUTES_DEFAULT=unmatched)",
    )


@pytest.mark.parametrize("provider", ["2000", "NBC"])
def test_a_provider_matches_by_id_or_name(provider: str) -> None:
    rules = parse_routes("provider=2000:#by-id; provider=NBC:#by-name", "slack")
    reached = {
        v.name: v.reached
        for v in explain(
            "slack", "#all", rules, unmatched_only=False, item=Probe(provider=provider)
        )
    }
    assert reached["slack:#by-id"] is (provider == "2000")
    assert reached["slack:#by-name"] is (provider == "NBC")


def test_an_omitted_field_matches_no_condition() -> None:
    got = _verdicts(Probe(), unmatched=True)
    assert got["slack"][0] is True
    assert not got["slack:#nbc"][0]
    assert not got["slack:#us-alpha"][0]
