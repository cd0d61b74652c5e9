"""Routing as plain values (app.core.routing), for the mutation pass of the pure core
(docs/mutation.md): rules parsed or refused with the reason, destinations and their names, and
the delivery plan of one cycle. tests/integration/test_routing.py follows the plan into real
outbox rows and Slack channels."""

from __future__ import annotations

import re

import pytest

from app.core.routing import (
    Filter,
    Probe,
    destinations,
    explain,
    instance_name,
    parse_routes,
    plan_deliveries,
)
from app.domain import ALERTED_BY_DEFAULT, DeliveryPlan, EventKind
from tests.builders import event

NBC = event(client_id="dc-a", client_name="Alpha Lending", provider_id=2000, provider_name="NBC")
TD = event(
    client_id="dc-b", client_name="Beta Credit", provider_id=3200, provider_name="TD", country="US"
)
BASELINE = event(EventKind.BASELINE)
REMOVED = event(EventKind.REMOVED)
DETAILS = event(EventKind.DETAILS_CHANGED)
RULES = parse_routes("provider=NBC:#nbc; country=us & client=Beta Credit:#us", "slack")


@pytest.mark.parametrize(
    ("text", "kind", "says"),
    [
        ("provider=NBC", "slack", "rule 1 'provider=NBC' needs ':' before its destination"),
        ("country=CA:#ca; bank=NBC:#x", "slack", "rule 2: unknown field 'bank' (use client, "),
        ("provider=:#x", "slack", "rule 1: 'provider=' is not field=value"),
        ("provider:#x", "slack", "rule 1: 'provider' is not field=value"),
        ("country=CA:#a b", "slack", "rule 1: '#a b' is not a Slack channel name or ID"),
        ("country=CA:#a,#b", "slack", "rule 1: '#a,#b' is not a Slack channel name or ID"),
        ("country=CA:", "slack", "rule 1: '' is not a Slack channel name or ID"),
        ("country=CA:ops, a@x.example", "email", "rule 1: ops is not an email address"),
        ("country=CA:a @x.example", "email", "rule 1: a @x.example is not an email address"),
        ("country=CA: , ", "email", "rule 1: nothing is not an email address"),
    ],
)
def test_a_bad_rule_is_refused_naming_it(text: str, kind: str, says: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(says)}"):
        parse_routes(text, kind)  # type: ignore[arg-type]


def test_rules_parse_fields_case_insensitively_across_lines_and_empty_parts() -> None:
    rules = parse_routes(";\n Client = Beta Credit & COUNTRY=Us : #US ;; ", "slack")
    [rule] = rules
    assert rule.destination == "#US"
    assert [(c.field, c.value) for c in rule.conditions] == [
        ("client", "beta credit"),
        ("country", "us"),
    ]
    assert rule.matches(TD)
    assert not rule.matches(NBC)
    [mail] = parse_routes("provider=2000: A@x.example ,, b@x.example ", "email")
    assert mail.destination == "A@x.example,b@x.example"
    assert mail.matches(NBC)  # the provider by its id
    assert parse_routes(" ; \n ", "slack") == ()


def test_destinations_fold_spellings_of_one_target_and_keep_the_default_first() -> None:
    rules = parse_routes("provider=NBC:#NBC; provider=TD:#nbc; country=us:#all", "slack")
    found = destinations("slack", "#All", rules, unmatched_only=False)
    assert [(d.name, d.target) for d in found] == [("slack", "#All"), ("slack:#NBC", "#NBC")]
    default, nbc = found
    assert default.filter == Filter((rules[2],), True, ())
    assert nbc.filter == Filter((rules[0], rules[1]), False)
    unmatched = destinations("slack", "#All", rules, unmatched_only=True)
    assert unmatched[0].filter == Filter((rules[2],), True, (rules[0], rules[1]))
    mail_rules = parse_routes("provider=NBC:B@x.example,a@x.example", "email")
    mail = destinations("email", "a@x.example, b@x.example", mail_rules, unmatched_only=False)
    assert [d.name for d in mail] == ["email"]  # the same two addresses in another order


def test_a_long_instance_name_is_cut_to_32_with_a_hash_of_the_target() -> None:
    assert instance_name("slack", "#" + "n" * 25) == "slack:#" + "n" * 25  # 32: kept whole
    long = instance_name("slack", "#" + "n" * 26)
    assert long == "slack:#" + "n" * 16 + "~" + long[-8:]
    assert len(long) == 32
    assert long[-8:] != instance_name("slack", "#" + "n" * 27)[-8:]
    assert instance_name("slack", " #" + "N" * 26)[-8:] == long[-8:]  # one target, one hash


def test_the_plan_of_a_cycle_without_alerted_events_is_summaries_and_holds_only() -> None:
    channels = [("slack", Filter()), ("slack:#nbc", Filter(RULES[:1], False))]
    assert plan_deliveries([], channels, ALERTED_BY_DEFAULT) == DeliveryPlan()
    assert plan_deliveries([BASELINE], channels, ALERTED_BY_DEFAULT) == DeliveryPlan(
        summaries=("slack",)  # a routed channel would misread a count of everything
    )
    assert plan_deliveries([DETAILS], channels, ALERTED_BY_DEFAULT, held=True) == DeliveryPlan(
        held=("slack", "slack:#nbc")
    )


def test_the_plan_names_channels_taking_everything_and_lists_the_routed_events() -> None:
    channels = [
        ("slack", Filter()),
        ("slack:#nbc", Filter(RULES[:1], False)),
        ("slack:#us", Filter(RULES[1:], False)),
        ("email", Filter((), True, RULES[:1])),  # ROUTES_DEFAULT=unmatched
        ("slack:#none", Filter(parse_routes("country=FR:#none", "slack"), False)),
    ]
    alerted = {*ALERTED_BY_DEFAULT, EventKind.BASELINE}
    plan = plan_deliveries([BASELINE, NBC, DETAILS, TD, REMOVED], channels, alerted)
    assert plan == DeliveryPlan(
        summaries=("slack", "email"),
        everything=("slack",),
        kinds=frozenset(ALERTED_BY_DEFAULT),  # never the baseline itself
        routed=(("slack:#nbc", (1, 4)), ("slack:#us", (3,)), ("email", (3,))),
        held=(),
    )
    assert EventKind.DETAILS_CHANGED not in plan.kinds


def test_separators_inside_values_and_newlines_alone_between_rules() -> None:
    rules = parse_routes("client=a:b & provider=x=y:#one\ncountry=CA:#two", "slack")
    assert [r.destination for r in rules] == ["#one", "#two"]  # the last ':' ends the match
    assert [(c.field, c.value) for c in rules[0].conditions] == [
        ("client", "a:b"),  # a ':' inside a value stays there
        ("provider", "x=y"),  # so does a '=' after the first
    ]
    with pytest.raises(ValueError, match=r"^rule 1: ops, dev is not an email address$"):
        parse_routes("country=CA:ops, a@x.example, dev", "email")


def test_a_long_name_ends_with_the_same_hash_for_any_spelling_of_its_target() -> None:
    # The hash of the lower-cased target (addresses sorted): written out, as stored in rows.
    assert instance_name("slack", "#" + "N" * 26) == "slack:#NNNNNNNNNNNNNNNN~4a5b882d"
    long_mail = "Someone.With.A.Long.Name@Example.com, b@x.example"
    assert instance_name("email", long_mail) == "email:Someone.With.A.Lo~2d38d359"
    assert instance_name("email", "b@x.example,someone.with.a.long.name@example.com") == (
        "email:b@x.example,someo~2d38d359"
    )


def test_a_hold_is_told_beside_the_alerts_of_the_same_cycle() -> None:
    channels = [("slack", Filter()), ("slack:#nbc", Filter(RULES[:1], False))]
    plan = plan_deliveries([NBC], channels, ALERTED_BY_DEFAULT, held=True)
    assert plan.held == ("slack", "slack:#nbc")
    assert plan.routed == (("slack:#nbc", (0,)),)


def test_explain_names_each_instance_with_its_target() -> None:
    verdicts = explain("slack", "#all", RULES, unmatched_only=False, item=Probe(provider="NBC"))
    assert [(v.name, v.target, v.reached) for v in verdicts] == [
        ("slack", "#all", True),
        ("slack:#nbc", "#nbc", True),
        ("slack:#us", "#us", False),
    ]


def test_apprise_rules_keep_the_url_whole_with_its_colons() -> None:
    """An Apprise destination is a URL holding ':' (scheme, user:password, port): the rule
    splits at the ':' before the URL, not the last one; a URL compares as written (its path
    and secret are case-sensitive), and a destination that is not a URL is refused without
    quoting it (it may hold a secret)."""
    text = "provider=NBC & country=CA: json://user:Pw@host:8080/Hook; client=dc-b:ntfy://t/Ops"
    first, second = parse_routes(text, "apprise")
    assert first.destination == "json://user:Pw@host:8080/Hook"
    assert [(c.field, c.value) for c in first.conditions] == [
        ("provider", "nbc"),
        ("country", "ca"),
    ]
    assert (second.destination, second.conditions[0].value) == ("ntfy://t/Ops", "dc-b")
    found = destinations("apprise", "ntfy://t/ops", (first, second), unmatched_only=False)
    assert [d.target for d in found] == [
        "ntfy://t/ops",
        "json://user:Pw@host:8080/Hook",
        "ntfy://t/Ops",
    ]
    with pytest.raises(ValueError, match=r"^rule 1: the destination is not an Apprise URL"):
        parse_routes("country=CA: secret-token", "apprise")


def test_a_slack_or_email_rule_splits_at_its_last_colon_even_before_a_url_shape() -> None:
    [rule] = parse_routes("client=a:b://c", "slack")
    assert ([(c.field, c.value) for c in rule.conditions], rule.destination) == (
        [("client", "a:b")],
        "//c",
    )
