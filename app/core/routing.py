"""PURE: routing rules (SLACK_ROUTES, EMAIL_ROUTES, APPRISE_ROUTES) and what each channel
instance accepts.

A rule is `field=value[&field=value...]:destination`; rules are separated by `;` or newlines.
Fields: client (id or name), provider (id or name), country; values match case-insensitively.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from app.domain import DeliveryPlan, Event, EventKind

FIELDS = ("client", "provider", "country")
CHANNEL_NAME_LIMIT = 32  # deliveries.channel is String(32)
Kind = Literal["slack", "email", "apprise"]
# APPRISE_ROUTES: the destination is a URL, so the rule ends at the first `:` before a scheme.
_URL_TARGET = re.compile(r"(.*?):\s*([A-Za-z][A-Za-z0-9+.-]*://.*)")


class Routable(Protocol):
    """What routing looks at: an Event, or a row of registration_events."""

    @property
    def client_id(self) -> str: ...
    @property
    def client_name(self) -> str: ...
    @property
    def provider_id(self) -> int: ...
    @property
    def provider_name(self) -> str: ...
    @property
    def country(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Condition:
    field: str  # one of FIELDS
    value: str  # casefolded

    def matches(self, item: Routable) -> bool:
        if self.field == "client":
            candidates: tuple[object, ...] = (item.client_id, item.client_name)
        elif self.field == "provider":
            candidates = (item.provider_id, item.provider_name)
        else:
            candidates = (item.country,)
        return any(str(c).strip().casefold() == self.value for c in candidates)


@dataclass(frozen=True, slots=True)
class Rule:
    """Every condition must match; then the alert also goes to `destination`."""

    conditions: tuple[Condition, ...]
    destination: str  # a Slack channel, or comma-separated email addresses

    def matches(self, item: Routable) -> bool:
        return all(c.matches(item) for c in self.conditions)


@dataclass(frozen=True, slots=True)
class Filter:
    """What one channel instance accepts: events matching one of `rules`, and with `catch_all`
    every event matching none of `unless` too. Filter() with catch_all accepts everything."""

    rules: tuple[Rule, ...] = ()
    catch_all: bool = True
    unless: tuple[Rule, ...] = ()

    @property
    def everything(self) -> bool:
        return self.catch_all and not self.unless

    def accepts(self, item: Routable) -> bool:
        if any(rule.matches(item) for rule in self.rules):
            return True
        return self.catch_all and not any(rule.matches(item) for rule in self.unless)


@dataclass(frozen=True, slots=True)
class Destination:
    """One channel instance: its deliveries' channel name, where it posts, what it accepts."""

    name: str
    target: str
    filter: Filter


def parse_routes(text: str, kind: Kind) -> tuple[Rule, ...]:
    """Parse a routes setting; ValueError naming the bad rule, in words a user can act on."""
    rules = []
    parts = [p.strip() for p in text.replace("\n", ";").split(";")]
    for number, part in enumerate((p for p in parts if p), start=1):
        if ":" not in part:
            raise ValueError(f"rule {number} {part!r} needs ':' before its destination")
        match, _, target = part.rpartition(":")
        if kind == "apprise" and (url := _URL_TARGET.fullmatch(part)):
            match, target = url[1], url[2]
        conditions = tuple(_condition(c, number) for c in match.split("&"))
        rules.append(Rule(conditions, _destination(target.strip(), kind, number)))
    return tuple(rules)


def _condition(text: str, number: int) -> Condition:
    field, sep, value = (piece.strip() for piece in text.partition("="))
    if not sep or not value:
        raise ValueError(f"rule {number}: {text.strip()!r} is not field=value")
    if field.lower() not in FIELDS:
        choices = "use client, provider or country"
        raise ValueError(f"rule {number}: unknown field {field!r} ({choices})")
    return Condition(field.lower(), value.casefold())


def _destination(target: str, kind: Kind, number: int) -> str:
    if kind == "apprise":
        if "://" not in target:  # the URL is a secret: not quoted
            raise ValueError(f"rule {number}: the destination is not an Apprise URL (scheme://...)")
        return target
    if kind == "slack":
        if not target or any(ch.isspace() or ch == "," for ch in target):
            raise ValueError(f"rule {number}: {target!r} is not a Slack channel name or ID")
        return target
    addresses = [a.strip() for a in target.split(",") if a.strip()]
    bad = [a for a in addresses if "@" not in a or any(ch.isspace() for ch in a)]
    if not addresses or bad:
        raise ValueError(f"rule {number}: {', '.join(bad) or 'nothing'} is not an email address")
    return ",".join(addresses)


def destinations(
    kind: Kind, default_target: str, rules: Sequence[Rule], unmatched_only: bool
) -> list[Destination]:
    """The default instance (named `kind`, so existing deliveries stay valid) and one instance
    per other routed destination. With `unmatched_only`, the default gets only events that no
    rule for another destination matched."""
    by_target: dict[str, list[Rule]] = {}
    for rule in rules:
        by_target.setdefault(_same(kind, rule.destination), []).append(rule)
    home = _same(kind, default_target)
    elsewhere = tuple(r for target, rs in by_target.items() if target != home for r in rs)
    found = [
        Destination(
            kind,
            default_target,
            Filter(tuple(by_target.get(home, ())), True, elsewhere if unmatched_only else ()),
        )
    ]
    for target, routed in by_target.items():
        if target != home:
            dest = routed[0].destination
            found.append(Destination(instance_name(kind, dest), dest, Filter(tuple(routed), False)))
    return found


def _same(kind: Kind, target: str) -> str:
    """Two spellings of one destination: Slack channels and addresses compare case-insensitively."""
    if kind == "email":
        return ",".join(sorted(a.strip().lower() for a in target.split(",") if a.strip()))
    return target.strip() if kind == "apprise" else target.strip().lower()


def instance_name(kind: Kind, target: str) -> str:
    """`slack:#nbc-alerts`; shortened with a stable hash when over the column's 32 characters."""
    name = f"{kind}:{target}"
    if len(name) <= CHANNEL_NAME_LIMIT:
        return name
    digest = hashlib.sha256(_same(kind, target).encode()).hexdigest()[:8]
    return f"{name[: CHANNEL_NAME_LIMIT - 9]}~{digest}"


def plan_deliveries(
    events: Sequence[Event],
    channels: Sequence[tuple[str, Filter]],
    alerted: Collection[EventKind],
    *,
    held: bool = False,
) -> DeliveryPlan:
    """Which channel gets which of one cycle's events: a baseline summary per channel that
    takes everything by default (a routed one would misread a count of everything), the
    removals-held alert (`held`: a mass-shrink hold opens) on every channel, then per
    channel the alerted events its filter accepts. Channels that accept everything are named
    with the kinds, so the store can build their rows in SQL without a list of 100,000 ids."""
    kinds = frozenset(kind for kind in alerted if kind is not EventKind.BASELINE)
    summaries: tuple[str, ...] = ()
    if any(ev.event is EventKind.BASELINE for ev in events):
        summaries = tuple(name for name, accepts in channels if accepts.catch_all)
    told = tuple(name for name, _ in channels) if held else ()
    alerts = [i for i, ev in enumerate(events) if ev.event in kinds]
    if not alerts:
        return DeliveryPlan(summaries=summaries, held=told)
    routed = (
        (name, tuple(i for i in alerts if accepts.accepts(events[i])))
        for name, accepts in channels
        if not accepts.everything
    )
    return DeliveryPlan(
        summaries=summaries,
        everything=tuple(name for name, accepts in channels if accepts.everything),
        kinds=kinds,
        routed=tuple((name, found) for name, found in routed if found),
        held=told,
    )


@dataclass(frozen=True, slots=True)
class Probe:
    """A registration described only as far as `flinkswatch routes` was told: `client` and
    `provider` stand for the id or the name; a field left empty matches no condition."""

    client: str = ""
    provider: str = ""
    country: str = ""

    @property
    def client_id(self) -> str:
        return self.client

    @property
    def client_name(self) -> str:
        return self.client

    @property
    def provider_id(self) -> int:
        return int(self.provider) if self.provider.strip().isdigit() else -1

    @property
    def provider_name(self) -> str:
        return self.provider


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether one channel instance gets an alert about an item, and which rule decides."""

    name: str
    target: str
    reached: bool
    why: str


def explain(
    kind: Kind, default_target: str, rules: Sequence[Rule], *, unmatched_only: bool, item: Routable
) -> list[Verdict]:
    """Per instance of `destinations(...)`: its Filter's answer for `item` and the reason, rules
    numbered as in the setting. The answer is Filter.accepts itself, so the two cannot drift."""
    setting = f"{kind.upper()}_ROUTES"
    number = {id(rule): n for n, rule in enumerate(rules, start=1)}

    def named(rule: Rule) -> str:
        return f"{setting} rule {number[id(rule)]} ({describe_rule(rule)})"

    verdicts = []
    for dest in destinations(kind, default_target, rules, unmatched_only):
        rule_of = dest.filter
        hit = next((r for r in rule_of.rules if r.matches(item)), None)
        taken = next((r for r in rule_of.unless if r.matches(item)), None)
        if hit is not None:
            why = named(hit)
        elif not rule_of.catch_all:
            why = f"no {setting} rule for it matches"
        elif taken is not None:
            why = (
                f"ROUTES_DEFAULT=unmatched: {named(taken)} sends it to {taken.destination} instead"
            )
        elif unmatched_only:
            why = "the default channel: no rule sends it elsewhere (ROUTES_DEFAULT=unmatched)"
        else:
            why = "the default channel: ROUTES_DEFAULT=all gives it every alert"
        verdicts.append(Verdict(dest.name, dest.target, rule_of.accepts(item), why))
    return verdicts


def describe_rule(rule: Rule) -> str:
    """`country=us & client=alpha lending`: the conditions as matched (case-folded)."""
    return " & ".join(f"{c.field}={c.value}" for c in rule.conditions)
