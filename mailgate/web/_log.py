"""The ops pages: the rejection log, a logged message viewed safely, its original, and replay."""

from __future__ import annotations

import datetime as dt

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailgate.desk import log, replay
from mailgate.desk.users import UserView
from mailgate.web._base import action, desk, field, not_found, render, view
from mailgate.web._queue import INBOX_LABELS, PAGE_SIZE, choice, eml_response, page_link, parse_date
from mailgate.web._security import MESSAGE_CSP
from rules import Inbox, default_rules

#: At most this many messages are replayed from one filter.
REPLAY_LIMIT = 200
VERDICT_LABELS = {"accepted": "受理", "rejected": "退稿", "ignored": "不予答复", "quarantined": "隔离"}
REPLY_LABELS = {"receipt": "回执", "rejection": "退稿通知", "alert": "紧急提醒"}
OUTBOX_LABELS = {
    "pending": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "failed": "发送失败",
    "unknown": "结果不明",
    "suppressed": "不发送",
}
SUPPRESSED_LABELS = {"too_old": "邮件过旧", "rate_limit": "超过每小时回复上限"}
_LOG_FIELDS = ("rule", "unit", "sender", "verdict", "inbox", "since", "until")
_ROW_KINDS = ("message", "failure")


def _rule_names() -> list[str]:
    return [rule.name for rule in default_rules()]


#: The period the counts cover when no dates are chosen.
STATS_DAYS = dt.timedelta(days=30)


def log_filter(params: dict[str, str]) -> log.LogFilter:
    return log.LogFilter(
        rule=params.get("rule") or None,
        unit=params.get("unit") or None,
        sender=params.get("sender") or None,
        verdict=choice(params.get("verdict"), log.KINDS),
        inbox=choice(params.get("inbox"), [i.value for i in Inbox]),
        since=parse_date(params.get("since")),
        until=parse_date(params.get("until")),
    )


async def log_page(request: Request, user: UserView) -> Response:
    store = desk(request).store
    qs = request.query_params
    params = {name: qs.get(name, "").strip() for name in _LOG_FIELDS}
    where = log_filter(params)
    page = await log.list_log(store, where, cursor=qs.get("cursor") or None, limit=PAGE_SIZE)
    # Counting reads every finding: without a chosen period the counts cover the last 30 days.
    stats_since = where.since or (
        None if where.until else dt.datetime.now(desk(request).zone).date() - STATS_DAYS
    )
    stats = await log.log_stats(store, stats_since, where.until)
    context = {
        "page": page,
        "params": params,
        "stats": stats,
        "stats_since": stats_since,
        "rules": _rule_names(),
        "verdict_labels": VERDICT_LABELS,
        "inbox_labels": INBOX_LABELS,
        "stat_link": lambda name, value: page_link("/log", {**params, name: value}),
        "next_link": page_link("/log", params, page.next_cursor) if page.next_cursor else None,
        "first_link": page_link("/log", params) if qs.get("cursor") else None,
        "replay_limit": REPLAY_LIMIT,
    }
    return render(request, "log.html", context, user=user)


def _row_ref(request: Request) -> tuple[str, int] | None:
    kind: str = request.path_params["kind"]
    return (kind, request.path_params["row_id"]) if kind in _ROW_KINDS else None


async def message_page(request: Request, user: UserView) -> Response:
    ref = _row_ref(request)
    found = await log.message_view(desk(request).store, *ref) if ref else None
    if ref is None or found is None:
        return not_found(request, user, "邮件")
    context = {
        "view": found,
        "kind": ref[0],
        "verdict_labels": VERDICT_LABELS,
        "reply_labels": REPLY_LABELS,
        "outbox_labels": OUTBOX_LABELS,
        "suppressed_labels": SUPPRESSED_LABELS,
        "inbox_labels": INBOX_LABELS,
    }
    return render(request, "message.html", context, user=user)


async def message_html(request: Request, user: UserView) -> Response:
    """The sanitised HTML part alone, for the sandboxed frame (its own CSP: no script, nothing remote)."""
    ref = _row_ref(request)
    found = await log.message_view(desk(request).store, *ref) if ref else None
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
        params = {name: field(form, name) for name in _LOG_FIELDS}
        refs = await replay.refs_for(desk(request).store, log_filter(params), REPLAY_LIMIT)
    else:
        try:
            refs = [replay.ReplayRef.parse(v) for v in form.getlist("ref") if isinstance(v, str)]
        except ValueError:
            return "所选邮件的编号无效，请回到拒收日志重新选择。"
    return refs or "没有选中任何邮件：请在拒收日志中勾选邮件，或调整筛选条件。"


async def replay_preview(request: Request, user: UserView, form: FormData) -> Response:
    refs = await _refs(request, form)
    if isinstance(refs, str):
        return _replay_error(request, user, refs)
    state = desk(request)
    try:
        results = await replay.preview(state.store, state.settings, refs)
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
        results = await replay.apply(state.store, state.settings, refs, user.username, send_replies=send)
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
    }
    return render(request, "replay.html", context, user=user)


def _replay_error(request: Request, user: UserView, reason: str) -> Response:
    return render(request, "error.html", {"title": "无法重放", "reason": reason}, user=user, status_code=400)


ROUTES = [
    Route("/log", view("log", log_page), methods=["GET"]),
    Route("/log/{kind}/{row_id:int}", view("log", message_page), methods=["GET"]),
    Route("/log/{kind}/{row_id:int}/html", view("log", message_html), methods=["GET"]),
    Route("/log/{kind}/{row_id:int}/raw", view("log", message_raw), methods=["GET"]),
    Route("/replay/preview", action("log", replay_preview), methods=["POST"]),
    Route("/replay/apply", action("log", replay_apply), methods=["POST"]),
]
