"""The ops pages: the rejection log, a logged message viewed safely, its original, and replay."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailgate.desk import log, replay
from mailgate.desk.labels import OUTBOX_LABELS, REPLY_LABELS, VERDICT_LABELS
from mailgate.desk.paging import fits_id
from mailgate.desk.times import zone_note
from mailgate.desk.users import UserView
from mailgate.web._base import action, desk, field, not_found, render, view
from mailgate.web._queue import (
    INBOX_LABELS,
    PAGE_SIZE,
    BadParameterError,
    bad_cursor,
    checked_id,
    choice,
    eml_response,
    guarded,
    guarded_action,
    page_link,
    parse_date,
    text_parameters,
)
from mailgate.web._security import MESSAGE_CSP
from rules import Inbox, default_rules

#: At most this many messages are replayed from one filter.
REPLAY_LIMIT = 200
_LOG_FIELDS = ("rule", "unit", "sender", "verdict", "inbox", "since", "until")
_ROW_KINDS = ("message", "failure")


def _rule_names() -> list[str]:
    return [rule.name for rule in default_rules()]


#: The period the counts cover when no dates are chosen.
STATS_DAYS = dt.timedelta(days=30)


def log_filter(params: Mapping[str, str], zone: dt.tzinfo) -> log.LogFilter:
    """The log's filter from its (checked) parameters; BadParameterError for a value it cannot use."""
    return log.LogFilter(
        rule=params.get("rule") or None,
        unit=params.get("unit") or None,
        sender=params.get("sender") or None,
        verdict=choice(params.get("verdict"), log.KINDS, "verdict"),
        inbox=choice(params.get("inbox"), [i.value for i in Inbox], "inbox"),
        since=parse_date(params.get("since"), "since", zone),
        until=parse_date(params.get("until"), "until", zone),
        zone=zone,
    )


async def log_page(request: Request, user: UserView) -> Response:
    state = desk(request)
    params = text_parameters(request.query_params, _LOG_FIELDS)
    cursor = text_parameters(request.query_params, ["cursor"])["cursor"] or None
    where = log_filter(params, state.zone)
    with bad_cursor(cursor):
        page = await log.list_log(state.store, where, cursor=cursor, limit=PAGE_SIZE)
    # Counting reads every finding: without a chosen period the counts cover the last 30 days.
    today = state.clock.now().astimezone(state.zone).date()
    stats_since = where.since or (None if where.until else today - STATS_DAYS)
    stats = await log.log_stats(state.store, stats_since, where.until, zone=state.zone)
    context = {
        "page": page,
        "params": params,
        "stats": stats,
        "stats_since": stats_since,
        "rules": _rule_names(),
        "verdict_labels": VERDICT_LABELS,
        "inbox_labels": INBOX_LABELS,
        "zone_note": zone_note(state.zone),
        "stat_link": lambda name, value: page_link("/log", {**params, name: value}),
        "next_link": page_link("/log", params, page.next_cursor) if page.next_cursor else None,
        "first_link": page_link("/log", params) if cursor else None,
        "replay_limit": REPLAY_LIMIT,
    }
    return render(request, "log.html", context, user=user)


def _row_ref(request: Request) -> tuple[str, int] | None:
    kind: str = request.path_params["kind"]
    row_id = checked_id(request.path_params["row_id"], "row_id")
    return (kind, row_id) if kind in _ROW_KINDS else None


async def message_page(request: Request, user: UserView) -> Response:
    state = desk(request)
    ref = _row_ref(request)
    found = await log.message_view(state.store, *ref, settings=state.settings) if ref else None
    if ref is None or found is None:
        return not_found(request, user, "邮件")
    context = {
        "view": found,
        "kind": ref[0],
        "verdict_labels": VERDICT_LABELS,
        "reply_labels": REPLY_LABELS,
        "outbox_labels": OUTBOX_LABELS,
        "inbox_labels": INBOX_LABELS,
        "zone_note": zone_note(state.zone),
    }
    return render(request, "message.html", context, user=user)


async def message_html(request: Request, user: UserView) -> Response:
    """The sanitised HTML part alone, for the sandboxed frame (its own CSP: no script, nothing remote)."""
    state = desk(request)
    ref = _row_ref(request)
    found = await log.message_view(state.store, *ref, settings=state.settings) if ref else None
    if found is None or found.html is None:
        return Response("", status_code=404, headers={"content-security-policy": MESSAGE_CSP})
    document = f'<!doctype html><html><head><meta charset="utf-8"></head><body>{found.html}</body></html>'
    headers = {"content-security-policy": MESSAGE_CSP, "x-frame-options": "SAMEORIGIN"}
    return Response(document, media_type="text/html; charset=utf-8", headers=headers)


async def message_raw(request: Request, user: UserView) -> Response:
    ref = _row_ref(request)
    raw = await log.raw_message(desk(request).store, *ref) if ref else None
    if ref is None or raw is None:
        return not_found(request, user, "原始邮件")
    return eml_response(raw, f"{ref[0]}-{ref[1]}.eml")


async def _refs(request: Request, form: FormData) -> list[replay.ReplayRef] | str:
    """The messages a replay form names: ticked rows, or the log's current filter; else what is wrong."""
    if field(form, "scope") == "filter":
        params = text_parameters(form, _LOG_FIELDS)
        where = log_filter(params, desk(request).zone)
        refs = await replay.refs_for(desk(request).store, where, REPLAY_LIMIT)
    else:
        try:
            refs = [replay.ReplayRef.parse(v) for v in form.getlist("ref") if isinstance(v, str)]
        except ValueError:
            return "所选邮件的编号无效，请回到拒收日志重新选择。"
        if not all(fits_id(ref.id) for ref in refs):
            raise BadParameterError("ref", "超出范围：没有这样编号的邮件。")
    return refs or "没有选中任何邮件：请在拒收日志中勾选邮件，或调整筛选条件。"


async def replay_preview(request: Request, user: UserView, form: FormData) -> Response:
    refs = await _refs(request, form)
    if isinstance(refs, str):
        return _replay_error(request, user, refs)
    state = desk(request)
    try:
        results = await replay.preview(state.store, state.settings, refs, clock=state.clock)
    except LookupError:
        return _replay_error(request, user, "有邮件已不在日志中，请回到拒收日志重新选择。")
    return _replay_page(request, user, results, applied=False, sent=False)


async def replay_apply(request: Request, user: UserView, form: FormData) -> Response:
    refs = await _refs(request, form)
    if isinstance(refs, str):
        return _replay_error(request, user, refs)
    state = desk(request)
    send = field(form, "send_replies") == "1"
    try:
        results = await replay.apply(
            state.store, state.settings, refs, user.username, send_replies=send, clock=state.clock
        )
    except LookupError:
        return _replay_error(request, user, "有邮件已不在日志中，请回到拒收日志重新选择。")
    return _replay_page(request, user, results, applied=True, sent=send)


def _replay_page(
    request: Request, user: UserView, results: list[replay.ReplayPreview], *, applied: bool, sent: bool
) -> Response:
    context = {
        "results": results,
        "applied": applied,
        "sent": sent,
        "changed": sum(1 for r in results if r.changed),
        "verdict_labels": VERDICT_LABELS,
        "reply_labels": REPLY_LABELS,
        "zone_note": zone_note(desk(request).zone),
    }
    return render(request, "replay.html", context, user=user)


def _replay_error(request: Request, user: UserView, reason: str) -> Response:
    return render(request, "error.html", {"title": "无法重放", "reason": reason}, user=user, status_code=400)


ROUTES = [
    Route("/log", view("log", guarded(log_page)), methods=["GET"]),
    Route("/log/{kind}/{row_id:int}", view("log", guarded(message_page)), methods=["GET"]),
    Route("/log/{kind}/{row_id:int}/html", view("log", guarded(message_html)), methods=["GET"]),
    Route("/log/{kind}/{row_id:int}/raw", view("log", guarded(message_raw)), methods=["GET"]),
    Route("/replay/preview", action("log", guarded_action(replay_preview)), methods=["POST"]),
    Route("/replay/apply", action("log", guarded_action(replay_apply)), methods=["POST"]),
]
