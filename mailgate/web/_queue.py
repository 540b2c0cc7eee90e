"""The editors' pages: the intake queue, an item with its versions, its status, the original message."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Collection, Iterator, Mapping
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mailgate.desk import log, queue
from mailgate.desk.paging import fits_id
from mailgate.desk.times import check_day, zone_note
from mailgate.desk.users import UserView
from mailgate.errors import MailgateError
from mailgate.registry import Series
from mailgate.store.models import Revision
from mailgate.store.registry import commissions, load_registry
from mailgate.web._base import Action, View, action, desk, error_page, field, flash, not_found, render, view
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
#: How the pages name the parameters they take, in what they say about a bad one.
PARAMETER_LABELS = {
    "q": "搜索",
    "unit": "单位",
    "series": "序列",
    "inbox": "信箱",
    "commission": "约稿",
    "status": "状态",
    "since": "起始日期",
    "until": "截止日期",
    "cursor": "翻页位置",
    "rule": "规则",
    "sender": "发件人",
    "verdict": "结果",
    "note": "备注",
    "ref": "所选邮件",
    "item_id": "稿件编号",
    "pk": "邮件编号",
    "row_id": "邮件编号",
}
#: Longest text a filter takes (a pasted paragraph searches as well as its first words).
MAX_PARAMETER = 2000
#: Longest note kept with a status change.
NOTE_LENGTH = 2000
#: The lists whose filters a bad parameter came from.
_LISTS = ("/queue", "/log")
_QUEUE_FIELDS = ("unit", "series", "inbox", "commission", "status", "since", "until", "q")


@contextlib.contextmanager
def bad_cursor(cursor: str | None) -> Iterator[None]:
    """Paging with ``cursor``: a ValueError from the list means the cursor is not one of ours (the
    filters were checked before), and the page says so."""
    try:
        yield
    except ValueError as exc:
        if cursor is None:
            raise
        raise BadParameterError("cursor", "无效：请从第一页重新翻页。") from exc


class BadParameterError(MailgateError):
    """A request parameter the desk cannot use: answered 400 with ``reason``, which names it."""

    def __init__(self, name: str, problem: str) -> None:
        label = PARAMETER_LABELS.get(name)
        self.parameter = name
        self.reason = f"参数 {name}" + (f"（{label}）" if label else "") + f"{problem}"
        super().__init__(self.reason)


def bad_request(request: Request, user: UserView | None, reason: str) -> Response:
    """The desk's error page for a request it cannot answer as asked (400); from a list, a link back
    to it without the filters."""
    back = request.url.path if request.method == "GET" and request.url.path in _LISTS else None
    return error_page(request, user, 400, "请求有误", reason, back=back)


def guarded(handler: View) -> View:
    """``handler``, whose ``BadParameterError`` is answered with the 400 page."""

    async def guarded_view(request: Request, user: UserView) -> Response:
        try:
            return await handler(request, user)
        except BadParameterError as exc:
            return bad_request(request, user, exc.reason)

    return guarded_view


def guarded_action(handler: Action) -> Action:
    """``handler`` (a form post), whose ``BadParameterError`` is answered with the 400 page."""

    async def guarded_post(request: Request, user: UserView, form: FormData) -> Response:
        try:
            return await handler(request, user, form)
        except BadParameterError as exc:
            return bad_request(request, user, exc.reason)

    return guarded_post


def checked_text(name: str, value: str, limit: int = MAX_PARAMETER) -> str:
    """``value`` stripped, when a database can store it: no control characters (NUL above all), not
    longer than ``limit``."""
    if len(value) > limit:
        raise BadParameterError(name, f"过长：最多 {limit} 个字符。")
    if any(ord(ch) < 0x20 and ch not in "\t\r\n" for ch in value):
        raise BadParameterError(name, "含有控制字符，无法使用。")
    return value.strip()


def text_parameters(source: QueryParams | FormData, names: Collection[str]) -> dict[str, str]:
    """The named text parameters of a query string or form ('' when missing), each checked."""
    out: dict[str, str] = {}
    for name in names:
        value = source.get(name)
        out[name] = checked_text(name, value) if isinstance(value, str) else ""
    return out


def parse_date(value: str | None, name: str, zone: dt.tzinfo) -> dt.date | None:
    """The day ``value`` names (None when empty), one that begins and ends in ``zone``."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise BadParameterError(name, f"不是有效的日期：{value[:40]!r}，请用 YYYY-MM-DD 格式。") from exc
    try:
        return check_day(day, zone)
    except ValueError as exc:
        raise BadParameterError(name, f"超出可用的日期范围：{day.isoformat()}。") from exc


def choice(value: str | None, allowed: Collection[str], name: str) -> str | None:
    """``value`` when it is one of ``allowed``, None when empty."""
    if not value:
        return None
    if value not in allowed:
        raise BadParameterError(name, f"的值 {value[:40]!r} 无效：应为 {'、'.join(allowed)} 之一。")
    return value


def checked_id(value: int, name: str) -> int:
    """``value`` (an id from the path) when the id columns can hold it."""
    if not fits_id(value):
        raise BadParameterError(name, "超出范围：没有这样编号的记录。")
    return value


def page_link(path: str, params: Mapping[str, str], cursor: str | None = None) -> str:
    """``path`` with the non-empty ``params`` (and the cursor) as its query string."""
    query = {k: v for k, v in params.items() if v}
    if cursor:
        query["cursor"] = cursor
    return path + ("?" + urlencode(query) if query else "")


def queue_filter(params: Mapping[str, str], zone: dt.tzinfo) -> queue.QueueFilter:
    """The queue's filter from its (checked) parameters; BadParameterError for a value it cannot use."""
    return queue.QueueFilter(
        unit=params.get("unit") or None,
        series=choice(params.get("series"), [s.value for s in Series], "series"),
        inbox=choice(params.get("inbox"), [i.value for i in Inbox], "inbox"),
        commission=params.get("commission") or None,
        status=choice(params.get("status"), queue.STATUSES, "status"),
        since=parse_date(params.get("since"), "since", zone),
        until=parse_date(params.get("until"), "until", zone),
        text=params.get("q") or None,
        zone=zone,
    )


async def queue_page(request: Request, user: UserView) -> Response:
    state = desk(request)
    params = text_parameters(request.query_params, _QUEUE_FIELDS)
    cursor = text_parameters(request.query_params, ["cursor"])["cursor"] or None
    where = queue_filter(params, state.zone)
    with bad_cursor(cursor):
        page = await queue.list_queue(state.store, where, cursor=cursor, limit=PAGE_SIZE)
    registry = await load_registry(state.store)
    context = {
        "page": page,
        "params": params,
        "units": sorted(registry.units.values(), key=lambda u: u.id),
        "commissions": await commissions(state.store),
        "statuses": queue.STATUS_LABELS,
        "series_labels": SERIES_LABELS,
        "inbox_labels": INBOX_LABELS,
        "zone_note": zone_note(state.zone),
        "next_link": page_link("/queue", params, page.next_cursor) if page.next_cursor else None,
        "first_link": page_link("/queue", params) if cursor else None,
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
    state = desk(request)
    detail = await queue.item_detail(state.store, item_id, settings=state.settings)
    if detail is None:
        return None
    return {
        "item": detail,
        "current": detail.revisions[-1] if detail.revisions else None,
        "diffs": revision_diffs(detail.revisions),
        "statuses": queue.STATUS_LABELS,
        "inbox_labels": INBOX_LABELS,
        "zone_note": zone_note(state.zone),
        "partial": False,
    }


async def item_page(request: Request, user: UserView) -> Response:
    item_id = checked_id(request.path_params["item_id"], "item_id")
    context = await _item_context(request, item_id)
    if context is None:
        return not_found(request, user, "稿件")
    return render(request, "item.html", context, user=user)


async def change_status(request: Request, user: UserView, form: FormData) -> Response:
    item_id = checked_id(request.path_params["item_id"], "item_id")
    status = field(form, "status")
    note = form.get("note")
    # The form allows 2,000 characters; line breaks may arrive as two.
    note = checked_text("note", note, 2 * NOTE_LENGTH)[:NOTE_LENGTH] if isinstance(note, str) else ""
    if status not in queue.STATUSES:
        flash(request, "状态未更改：请选择新稿、审阅中、已采用或未采用之一。", "error")
    else:
        try:
            now = desk(request).clock.now()
            await queue.set_status(desk(request).store, item_id, status, note, user.username, now=now)
        except ValueError:
            return not_found(request, user, "稿件")
        flash(request, f"状态已改为“{queue.STATUS_LABELS[status]}”。")
    if request.headers.get("hx-request"):
        context = await _item_context(request, item_id)
        if context is None:
            return not_found(request, user, "稿件")
        return render(request, "_status.html", context | {"partial": True}, user=user)
    return RedirectResponse(f"/items/{item_id}", status_code=303)


async def raw_original(request: Request, user: UserView) -> Response:
    """The original message as received: editors get those that filed an item, ops every one."""
    pk = checked_id(request.path_params["pk"], "pk")
    state = desk(request)
    if not user.may("log"):
        async with state.store.reading() as repo:
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
    Route("/queue", view("queue", guarded(queue_page)), methods=["GET"]),
    Route("/items/{item_id:int}", view("queue", guarded(item_page)), methods=["GET"]),
    Route("/items/{item_id:int}/status", action("queue", guarded_action(change_status)), methods=["POST"]),
    Route("/messages/{pk:int}/raw", view(None, guarded(raw_original)), methods=["GET"]),
]
