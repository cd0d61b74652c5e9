"""The read-only pages of SPEC 10: the board, a registration's timeline, the providers, the
activity. Each list also answers `?format=csv|json` with exactly its rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, render_template, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from app.core.expect import Outlook, late_thresholds, outlook_sentence, outlooks
from app.core.text import without_bidi
from app.db.attention import ORDERS
from app.db.boardreads import BoardFilter
from app.db.queries import STATUS_COLUMNS, Filters
from app.web import charts, params
from app.web.export import FORMATS, export, export_records
from app.web.figures import FiguresCache
from app.web.shape import (
    AGE_FIELDS,
    RECIPIENTS_PER_PAGE,
    board,
    fold_quiet,
    needs_attention,
    time_in_status,
    with_ages,
)
from app.web.ui import WebUI
from app.web.weekly import weekly_chart

pages = Blueprint("pages", __name__, template_folder="templates")
pages.before_request(params.check_request)
pages.add_app_template_filter(params.timeline_path, "timeline")
pages.add_app_template_filter(params.segment, "segment")

# The fields of `flinkswatch status --format json` (app/db/queries.current), in its order.
STATUS_FIELDS = STATUS_COLUMNS
EVENT_FIELDS = (
    "observed_at",
    "event",
    "client_id",
    "client_name",
    "provider_id",
    "provider_name",
    "from_status",
    "to_status",
)
DELIVERY_FIELDS = (
    "id",
    "created_at",
    "channel",
    "kind",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
)
POLL_FIELDS = (
    "id",
    "started_at",
    "finished_at",
    "outcome",
    "rows_seen",
    "rows_skipped",
    "events",
    "failure_kind",
    "error",
)
NOTICE_FIELDS = ("id", "created_at", "kind", "channel", "since", "failures", "last_error")
# Named and ordered as the statistics rows of `flinkswatch report --format csv`.
PROVIDER_FIELDS = (
    "provider_id",
    "provider_name",
    "registrations",
    "measure",
    "count",
    "censored",  # still going: the estimates count them (SPEC 11)
    "median_seconds",
    "p90_seconds",
)
RECENT = 100
POLLS_FOLDED = 1000  # polls the Activity page reads: its quiet ones fold into a line a stretch
REFRESH_SECONDS = 60  # the board reloads itself (no script) unless ?refresh=0
ATTENTION_SHOWN = 50  # of the "needs attention" list; "and N more" links to the stuck filter
PROVIDERS_PER_PAGE = 100  # of the table; its export has them all
BARS = 30  # providers in the chart of time to ACTIVE


def _ui() -> WebUI:
    ui: WebUI = current_app.extensions["flinkswatch"]
    return ui


def _format() -> str | None:
    return params.choice("format", FORMATS) or None


@pages.record_once
def _no_bidi_controls(state: BlueprintSetupState) -> None:
    """Every value a template shows loses its bidirectional controls (U+202E...), as Slack
    and email lose them: an override could make a name read as another."""
    state.app.jinja_env.finalize = _finalize


def _finalize(value: object) -> object:
    # str.translate of a Markup (a macro's output, already escaped) is still a Markup.
    return without_bidi(value) if isinstance(value, str) else value


@pages.app_template_filter("when")
def _when(value: object) -> str:
    """A time in ALERT_TIMEZONE, to the minute."""
    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    return value.astimezone(_ui().timezone).strftime("%Y-%m-%d %H:%M %Z")


@pages.app_template_filter("day")
def _day(value: object) -> str:
    """A date in ALERT_TIMEZONE as people say it: "Dec 8"."""
    if not isinstance(value, datetime):
        return ""
    local = value.astimezone(_ui().timezone)
    return f"{local:%b} {local.day}"


@pages.app_template_filter("span")
def _span(value: object) -> str:
    if not isinstance(value, timedelta):
        return "-"
    value = max(value, timedelta(0))  # a clock set back never shows a negative time
    days, hours = value.days, value.seconds // 3600
    return f"{days} d {hours} h" if days else f"{hours} h {value.seconds // 60 % 60} min"


@pages.app_template_filter("ago")
def _ago(value: object) -> str:
    """How long before now: `40 s ago`, `5 min ago`, `3 h ago`, `2 d ago` ("" for no time)."""
    if not isinstance(value, datetime):
        return ""
    seconds = max(0, int((_ui().clock() - value).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


@pages.get("/")
def board_page() -> ResponseReturnValue:
    """One page of recipients; the export has every registration the filters keep, streamed."""
    ui, args = _ui(), request.args
    query = BoardFilter(
        status=params.text("status"),
        country=params.text("country"),
        provider=params.text("provider"),
        client=params.text("client"),
        stuck=params.flag("stuck"),
        q=params.text("q"),
    )
    page = params.page()
    order = params.choice("sort", tuple(ORDERS), default="waiting")
    refresh = params.choice("refresh", ("0", "1"), default="1") == "1"
    now = ui.clock()
    if fmt := _format():
        records = with_ages(
            ui.reads.board_export(query, now), STATUS_FIELDS, now, ui.reads.stuck_after, _outlooks()
        )
        fields = (*STATUS_FIELDS, *AGE_FIELDS)  # those of `flinkswatch status --format json`
        return export_records(records, fields, fmt, "registrations", plain_already=True)
    taken, stuck_after, expected = ui.reads.acknowledgements(), ui.reads.stuck_after, _outlooks()
    late = late_thresholds(expected)
    found = ui.reads.board(query, now, page, RECIPIENTS_PER_PAGE, late)
    attention = ui.reads.attention(query, now, order, ATTENTION_SHOWN, late, found.flagged)
    html = render_template(
        "board.html",
        board=board(found, now, stuck_after, taken, expected),
        attention=needs_attention(attention, now, stuck_after, taken, expected),
        sort=order,
        polled=ui.reads.last_success_at(),
        refresh=refresh,
        query=query,
        args=args,
        per_page=RECIPIENTS_PER_PAGE,
    )
    # The Refresh header reloads the page with no script (the CSP allows none); the page's
    # first line says so and links to ?refresh=0, which stops it.
    return html, {"Refresh": str(REFRESH_SECONDS)} if refresh else {}


# path: a client_id may hold a slash (Flinks does not promise otherwise), sent as %2F; the id
# ends it. One a browser would resolve away (`..`) comes as /r/?client_id=..&provider_id=N.
@pages.get("/r/<path:client_id>/<int:provider_id>")
def timeline_page(client_id: str, provider_id: int) -> ResponseReturnValue:
    return _timeline(client_id, params.provider_id(provider_id))


@pages.get("/r/")
def timeline_by_query() -> ResponseReturnValue:
    client_id = request.args.get("client_id", "")
    if len(client_id) > params.CLIENT_ID_LIMIT:
        params.refuse("client_id", f"at most {params.CLIENT_ID_LIMIT} characters")
    number = request.args.get("provider_id", "")
    if not (number.isascii() and number.isdigit()) or len(number) > 19:
        params.refuse("provider_id", "a whole number")
    return _timeline(client_id, params.provider_id(int(number)))


def _timeline(client_id: str, provider_id: int) -> ResponseReturnValue:
    ui = _ui()
    key = (client_id, provider_id)
    events = ui.reads.events(key)
    current = ui.reads.current(Filters(client_id=client_id, provider_id=provider_id))
    if not events and not current:
        abort(404)
    if fmt := _format():
        return export(events, EVENT_FIELDS, fmt, "timeline")
    return render_template(
        "timeline.html",
        events=events,
        registration=current[0] if current else events[-1],
        stretches=time_in_status(events, ui.clock()),
        outlook=_sentence(current[0] if current else None, ui.clock()),
        threads=ui.reads.threads(key),
    )


def _sentence(row: dict[str, object] | None, now: datetime) -> str:
    """The timeline's expectation (SPEC 11); empty for a removed registration."""
    if row is None or not row.get("present") or not isinstance(row["requested_on"], datetime):
        return ""
    pid, name = int(str(row["provider_id"])), str(row["provider_name"])
    status = str(row["registration_status"])
    return outlook_sentence(_outlooks().get(pid), name, row["requested_on"], status, now)


def _outlooks() -> dict[int, Outlook]:
    """Each provider's expectations (SPEC 11), from the figures folded once per new event."""
    cache: FiguresCache = current_app.extensions["flinkswatch.figures"]
    reads = _ui().reads
    return outlooks(cache.get()[0].providers, reads.late_after, reads.expect_min_activations)


@pages.get("/providers")
def providers_page() -> ResponseReturnValue:
    """The figures of the last fold of the history (app/web/figures.py): the table a page of
    providers at a time, the chart of those with the most activations measured; the export
    has every provider."""
    cache: FiguresCache = current_app.extensions["flinkswatch.figures"]
    figures, stale = cache.get()
    if fmt := _format():
        # Marked as the page marks them: an export taken while newer events are being counted
        # says so, and says of when its figures are, so two downloads can be told apart.
        mark = {"figures_as_of": figures.computed_at, "figures_stale": stale}
        rows = [{**row, **mark} for row in charts.provider_rows(figures.providers)]
        return export(rows, (*PROVIDER_FIELDS, *mark), fmt, "providers")
    every = figures.providers
    pages_count = max(1, -(-len(every) // PROVIDERS_PER_PAGE))
    page = min(params.page(), pages_count)
    start = (page - 1) * PROVIDERS_PER_PAGE
    return render_template(
        "providers.html",
        figures=figures,
        stale=stale,
        providers=every[start : start + PROVIDERS_PER_PAGE],
        bars=charts.to_active_bars(every, BARS),
        curves=charts.survival_curves(every),
        curve_days=charts.curve_days(every),
        weekly=weekly_chart(figures.weeks),
        page=page,
        pages=pages_count,
        args=request.args,
        min_activations=_ui().reads.expect_min_activations,
    )


@pages.get("/activity")
def activity_page() -> ResponseReturnValue:
    reads = _ui().reads
    lists: dict[str, tuple[Sequence[dict[str, object]], Sequence[str]]] = {
        "events": (reads.recent_events(RECENT), EVENT_FIELDS),
        "deliveries": (reads.open_deliveries(RECENT), DELIVERY_FIELDS),
        "polls": (reads.polls(RECENT), POLL_FIELDS),
        "notices": (reads.notices(RECENT), NOTICE_FIELDS),
    }
    if fmt := _format():
        # One export per list: ?format=csv&list=polls (the events by default).
        name = params.choice("list", tuple(lists), default="events")
        rows, columns = lists[name]
        return export(rows, columns, fmt, name)
    shown = {k: rows for k, (rows, _) in lists.items()}
    shown["polls"] = fold_quiet(reads.polls(POLLS_FOLDED))
    return render_template("activity.html", **shown)
