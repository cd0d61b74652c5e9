"""`flinkswatch routes`: which channels an alert about a registration with this client, provider
and country reaches, by which rule, and what ROUTES_DEFAULT does. Settings only: no database."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from app.cli.exits import EXIT_CONFIG, EXIT_OK
from app.core.routing import Probe, Verdict, explain

if TYPE_CHECKING:
    from app.config.settings import Settings


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    routes = sub.add_parser(
        "routes", help="which channels an alert about a registration reaches, and by which rule"
    )
    routes.add_argument("--client", default="", help="the client (Data Consumer): id or name")
    routes.add_argument("--provider", default="", help="the provider: id or name, e.g. NBC")
    routes.add_argument("--country", default="", help="the registration's country, e.g. CA")
    routes.set_defaults(func=cmd_routes)


def cmd_routes(settings: Settings, args: argparse.Namespace) -> int:
    from app.cli.checks import refuse_on_problems

    if refuse_on_problems(settings, "fix the settings above"):
        return EXIT_CONFIG
    for line in route_lines(settings, Probe(args.client, args.provider, args.country)):
        print(line)
    return EXIT_OK


def route_lines(settings: Settings, probe: Probe) -> list[str]:
    """One verdict a channel instance, in the order alerts are delivered, then ROUTES_DEFAULT."""
    unmatched = settings.routes_default == "unmatched"
    verdicts: list[Verdict] = []
    defaults = []
    if settings.slack_bot_enabled:
        defaults.append("SLACK_CHANNEL")
        verdicts += explain(
            "slack",
            settings.slack_channel,
            settings.slack_routes,
            unmatched_only=unmatched,
            item=probe,
        )
    if settings.slack_webhook_enabled:
        verdicts.append(Verdict("slack_webhook", "", True, "the webhook takes every alert"))
    if settings.email_enabled:
        defaults.append("EMAIL_TO")
        verdicts += explain(
            "email",
            ",".join(settings.email_to),
            settings.email_routes,
            unmatched_only=unmatched,
            item=probe,
        )
    verdicts += _more_channels(settings, probe)
    if settings.apprise_urls:
        defaults.append("APPRISE_URLS")
    if not verdicts:
        return ["yes   console: no channel configured, alerts go to the console log"]
    lines = [f"{'yes ' if v.reached else 'no  '}  {_where(v)}: {v.why}" for v in verdicts]
    if defaults:
        who = " and ".join(defaults)
        verb = "get" if len(defaults) > 1 else "gets"
        what = "only the alerts no rule sends elsewhere" if unmatched else "every alert, routed too"
        lines.append(
            f"ROUTES_DEFAULT={settings.routes_default}: {who} {verb} {what};"
            " a channel of a rule never gets the first-sync summary"
        )
    return lines


def _more_channels(settings: Settings, probe: Probe) -> list[Verdict]:
    """The Apprise URLs (shown by scheme and host only) and the signed webhook."""
    from app.config.destinations import apprise_destinations, webhook_target
    from app.notify.url_view import where

    verdicts = []
    for dest in apprise_destinations(settings):
        rules, reached = dest.filter.rules, dest.filter.accepts(probe)
        hit = next(
            (
                n
                for n, r in enumerate(settings.apprise_routes, 1)
                if r in rules and r.matches(probe)
            ),
            0,
        )
        why = f"APPRISE_ROUTES rule {hit}" if hit else "takes every alert"
        if not reached:
            why = "no APPRISE_ROUTES rule for it matches"
            if dest.filter.catch_all:
                why = "ROUTES_DEFAULT=unmatched: an APPRISE_ROUTES rule sends it elsewhere"
        verdicts.append(Verdict(dest.name, where(dest.target), reached, why))
    target = webhook_target(settings)
    if target is not None:
        verdicts.append(Verdict("webhook", where(target[0]), True, "takes every alert"))
    return verdicts


def _where(verdict: Verdict) -> str:
    return f"{verdict.name} ({verdict.target})" if verdict.target else verdict.name
