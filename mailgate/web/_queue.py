"""The editors' pages: the intake queue, an item with its versions, its status, the original message."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Collection, Mapping
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mailgate.desk import log, queue
from mailgate.desk.users import UserView
from mailgate.registry import Series
from mailgate.store.models import Revision
from mailgate.store.registry import commissions, load_registry
from mailgate.web._base import action, desk, field, flash, not_found, render, view
from mailgate.web.diff import DiffRow, diff_rows
from rules import Inbox

PAGE_SIZE = 50
SERIES_LABELS = {
    "district": "区、县级市",
    "dept-a": "工作部门 A 类",
    "dept-b": "工作部门 B 类",
    "direct": "直报点",
}
INBOX_LABELS = {"daily": "日常信息", "commissioned": "约稿信息"}
_QUEUE_FIELDS = ("unit", "series", "inbox", "commission", "status", "since", "until", "q")


def parse_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def choice(value: str | None, allowed: Collection[str]) -> str | None:
    """``value`` when it is one of ``allowed``, else None."""
    return value if value and value in allowed else None


def page_link(path: str, params: Mapping[str, str], cursor: str | None = None) -> str:
    """``path`` with the non-empty ``params`` (and the cursor) as its query string."""
    query = {k: v for k, v in params.items() if v}
    if cursor:
        query["cursor"] = cursor
    return path + ("?" + urlencode(query) if query else "")


async def queue_page(request: Request, user: UserView) -> Response:
    state = desk(request)
    qs = request.query_params
    params = {name: qs.get(name, "").strip() for name in _QUEUE_FIELDS}
    where = queue.QueueFilter(
        unit=params["unit"] or None,
        series=choice(params["series"], [s.value for s in Series]),
        inbox=choice(params["inbox"], [i.value for i in Inbox]),
        commission=params["commission"] or None,
        status=choice(params["status"], queue.STATUSES),
        since=parse_date(params["since"]),
        until=parse_date(params["until"]),
        text=params["q"] or None,
    )
    page = await queue.list_queue(state.store, where, cursor=qs.get("cursor") or None, limit=PAGE_SIZE)
    registry = await load_registry(state.store)
    context = {
        "page": page,
        "params": params,
        "units": sorted(registry.units.values(), key=lambda u: u.id),
        "commissions": await commissions(state.store),
        "statuses": queue.STATUS_LABELS,
        "series_labels": SERIES_LABELS,
        "inbox_labels": INBOX_LABELS,
        "next_link": page_link("/queue", params, page.next_cursor) if page.next_cursor else None,
        "first_link": page_link("/queue", params) if qs.get("cursor") else None,
    }
    return render(request, "queue.html", context, user=user)


def _version_text(revision: queue.RevisionView) -> str:
    return f"{revision.title}\n{revision.body}"


def revision_diffs(revisions: list[queue.RevisionView]) -> dict[int, dict[str, list[DiffRow]]]:
    """For each revision after the first: what changed from the one before (text, attachment)."""
    diffs: dict[int, dict[str, list[DiffRow]]] = {}
    for before, after in itertools.pairwise(revisions):
        parts = {"正文": diff_rows(_version_text(before), _version_text(after))}
        if (
            before.attachment_text or after.attachment_text
        ) and before.attachment_text != after.attachment_text:
            parts["附件"] = diff_rows(before.attachment_text or "", after.attachment_text or "")
        diffs[after.number] = parts
    return diffs


async def _item_context(request: Request, item_id: int) -> dict[str, object] | None:
    detail = await queue.item_detail(desk(request).store, item_id)
    if detail is None:
        return None
    return {
        "item": detail,
        "current": detail.revisions[-1] if detail.revisions else None,
        "diffs": revision_diffs(detail.revisions),
        "statuses": queue.STATUS_LABELS,
        "inbox_labels": INBOX_LABELS,
        "partial": False,
    }


async def item_page(request: Request, user: UserView) -> Response:
    context = await _item_context(request, request.path_params["item_id"])
    if context is None:
        return not_found(request, user, "稿件")
    return render(request, "item.html", context, user=user)


async def change_status(request: Request, user: UserView, form: FormData) -> Response:
    item_id: int = request.path_params["item_id"]
    status, note = field(form, "status"), field(form, "note")
    try:
        await queue.set_status(desk(request).store, item_id, status, note[:2000], user.username)
    except ValueError:
        flash(request, "状态未更改：请选择新稿、审阅中、已采用或未采用之一。", "error")
    else:
        flash(request, f"状态已改为“{queue.STATUS_LABELS[status]}”。")
    if request.headers.get("hx-request"):
        context = await _item_context(request, item_id)
        if context is None:
            return not_found(request, user, "稿件")
        return render(request, "_status.html", context | {"partial": True}, user=user)
    return RedirectResponse(f"/items/{item_id}", status_code=303)


async def raw_original(request: Request, user: UserView) -> Response:
    """The original message as received: editors get those that filed an item, ops every one."""
    pk: int = request.path_params["pk"]
    state = desk(request)
    if not user.may("log"):
        async with state.store.transaction() as repo:
            filed = await repo.session.scalar(select(Revision.id).where(Revision.message_pk == pk).limit(1))
        if filed is None:
            return not_found(request, user, "原始邮件")
    raw = await log.raw_message(state.store, "message", pk)
    if raw is None:
        return not_found(request, user, "原始邮件")
    return eml_response(raw, f"message-{pk}.eml")


def eml_response(raw: bytes, filename: str) -> Response:
    return Response(
        raw,
        media_type="message/rfc822",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


ROUTES = [
    Route("/queue", view("queue", queue_page), methods=["GET"]),
    Route("/items/{item_id:int}", view("queue", item_page), methods=["GET"]),
    Route("/items/{item_id:int}/status", action("queue", change_status), methods=["POST"]),
    Route("/messages/{pk:int}/raw", view(None, raw_original), methods=["GET"]),
]
