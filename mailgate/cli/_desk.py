"""Desk commands for the terminal: the queue, the rejection log, replay."""

from __future__ import annotations

import csv
import datetime as dt
import getpass
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from mailgate.cli._app import ConfigOption, app, load_or_exit, migrate_or_exit, with_store
from mailgate.config import Settings
from mailgate.desk.labels import INBOX_SHORT, OUTBOX_LABELS, REPLY_LABELS, VERDICT_LABELS
from mailgate.desk.log import (
    KINDS,
    LogFilter,
    LogRow,
    LogStats,
    MessageView,
    list_log,
    log_stats,
    message_view,
)
from mailgate.desk.paging import Page, fits_id
from mailgate.desk.queue import (
    STATUS_LABELS,
    STATUSES,
    ItemDetail,
    QueueFilter,
    QueueRow,
    find_item,
    item_detail,
    list_queue,
)
from mailgate.desk.replay import ReplayPreview, ReplayRef, apply, preview, refs_for
from mailgate.desk.times import check_day, zone_key, zone_note
from mailgate.store import Store

T = TypeVar("T")

_SERIES = ("district", "dept-a", "dept-b", "direct")
#: The columns of `mailgate queue export`, in order; the times' headers also name the zone.
EXPORT_COLUMNS = (
    "编号",
    "标题",
    "单位",
    "单位全称",
    "系列",
    "信箱",
    "紧急",
    "状态",
    "稿数",
    "正文字数",
    "附件",
    "约稿",
    "逾期",
    "信息员",
    "落款姓名",  # only when it is not the registered officer's
    "首次收到",  # the first revision's message arrived
    "最近收到",  # the current revision's message arrived
    "处理时间",  # the current revision was filed, only when more than a minute after it arrived
)
_TIME_COLUMNS = ("首次收到", "最近收到", "处理时间")

SinceOption = Annotated[str | None, typer.Option("--since", help="From this day (YYYY-MM-DD), inclusive.")]
UntilOption = Annotated[str | None, typer.Option("--until", help="To this day (YYYY-MM-DD), inclusive.")]
UnitOption = Annotated[str | None, typer.Option("--unit", help="Unit id, e.g. 天河区.")]
InboxOption = Annotated[str | None, typer.Option("--inbox", help="daily or commissioned.")]
RuleOption = Annotated[str | None, typer.Option("--rule", help="Rule id, e.g. unregistered-sender.")]
SenderOption = Annotated[str | None, typer.Option("--sender", help="Part of the sender's address.")]
VerdictOption = Annotated[str | None, typer.Option("--verdict", help="rejected, ignored or quarantined.")]
SeriesOption = Annotated[str | None, typer.Option("--series", help="district, dept-a, dept-b or direct.")]
CommissionOption = Annotated[str | None, typer.Option("--commission", help="Commission code.")]
StatusOption = Annotated[str | None, typer.Option("--status", help="new, review, used or unused.")]
SearchOption = Annotated[str | None, typer.Option("--search", help="Words in the title, 正文 or attachment.")]
LimitOption = Annotated[int, typer.Option("--limit", min=1, max=1000, help="Rows per page.")]
CursorOption = Annotated[str | None, typer.Option("--cursor", help="Continue after a page (its cursor).")]

queue_app = typer.Typer(help="The editors' intake queue.", no_args_is_help=True)
app.add_typer(queue_app, name="queue")
rejections_app = typer.Typer(help="The ops rejection log.", no_args_is_help=True)
app.add_typer(rejections_app, name="rejections")


# -- queue ---------------------------------------------------------------------------------


@queue_app.command("list")
def queue_list(
    config: ConfigOption = None,
    unit: UnitOption = None,
    series: SeriesOption = None,
    inbox: InboxOption = None,
    commission: CommissionOption = None,
    status: StatusOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    search: SearchOption = None,
    limit: LimitOption = 50,
    cursor: CursorOption = None,
) -> None:
    """List valid items, urgent first then newest."""
    settings = _settings(config)
    zone = _zone(settings)
    where = _queue_filter(unit, series, inbox, commission, status, since, until, search, zone)
    page = with_store(settings, lambda store: list_queue(store, where, cursor=cursor, limit=limit))
    table = Table("编号", "", "状态", "单位", "标题", "信箱", "稿数", "字数", "收到时间", header_style="bold")
    table.caption = zone_note(zone)
    for row in page.rows:
        table.add_row(
            row.tracking,
            Text("急", style="bold red") if row.urgent else "",
            STATUS_LABELS.get(row.status, row.status),
            Text(row.unit_id),
            Text(row.title),
            INBOX_SHORT.get(row.inbox, row.inbox)
            + (f" {row.commission_code}" if row.commission_code else ""),
            str(row.revisions),
            str(row.body_zi),
            _arrival(row.received_at or row.updated_at, row.processed_apart, zone),
        )
    console = _console()
    console.print(table)
    _page_footer(console, page)


@queue_app.command("show")
def queue_show(
    item: Annotated[str, typer.Argument(help="Tracking number (20261127-000042) or item id.")],
    config: ConfigOption = None,
) -> None:
    """Show an item: every revision with its text, 落款 and warnings, and its status history."""
    settings = _settings(config)
    detail = with_store(settings, lambda store: _detail(store, item, settings))
    if detail is None:
        typer.echo(f"mailgate: no item {item}", err=True)
        raise typer.Exit(1)
    _print_detail(_console(), detail, _zone(settings))


@queue_app.command("export")
def queue_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="The CSV file to write.")],
    config: ConfigOption = None,
    unit: UnitOption = None,
    series: SeriesOption = None,
    inbox: InboxOption = None,
    commission: CommissionOption = None,
    status: StatusOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    search: SearchOption = None,
    page_size: Annotated[int, typer.Option("--page-size", min=1, help="Items read per query.")] = 500,
) -> None:
    """Write every item the filters select to a CSV file (UTF-8 with BOM, for Excel)."""
    settings = _settings(config)
    zone = _zone(settings)
    where = _queue_filter(unit, series, inbox, commission, status, since, until, search, zone)

    async def export(store: Store) -> int:
        written = 0
        with output.open("w", encoding="utf-8-sig", newline="") as file, _progress() as progress:
            writer = csv.writer(file)
            writer.writerow(export_header(zone))
            task = progress.add_task("导出", total=None)
            cursor: str | None = None
            while True:
                page = await list_queue(store, where, cursor=cursor, limit=page_size)
                progress.update(task, total=page.total)
                writer.writerows(_export_row(row, zone) for row in page.rows)
                written += len(page.rows)
                progress.advance(task, len(page.rows))
                if page.next_cursor is None:
                    return written
                cursor = page.next_cursor

    try:
        written = with_store(settings, export)
    except OSError as exc:
        typer.echo(f"mailgate: cannot write {output}: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{written} items written to {output}")


# -- rejections ------------------------------------------------------------------------------


@rejections_app.command("list")
def rejections_list(
    config: ConfigOption = None,
    rule: RuleOption = None,
    unit: UnitOption = None,
    sender: SenderOption = None,
    verdict: VerdictOption = None,
    inbox: InboxOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    limit: LimitOption = 50,
    cursor: CursorOption = None,
) -> None:
    """List rejected, ignored and quarantined messages, newest first."""
    settings = _settings(config)
    zone = _zone(settings)
    where = _log_filter(rule, unit, sender, verdict, inbox, since, until, zone)
    page = with_store(settings, lambda store: list_log(store, where, cursor=cursor, limit=limit))
    table = Table("编号", "收到时间", "结果", "发件人", "单位", "主题", "规则", header_style="bold")
    table.caption = zone_note(zone)
    for row in page.rows:
        table.add_row(
            f"{row.kind}:{row.id}",
            ("隔离 " if row.kind == "failure" else "") + _arrival(row.received_at, row.processed_apart, zone),
            VERDICT_LABELS.get(row.verdict, row.verdict),
            Text(row.from_address or ""),
            Text(row.unit_id or ""),
            Text(row.subject),
            Text(", ".join(row.rules)),
        )
    console = _console()
    console.print(table)
    _page_footer(console, page)


@rejections_app.command("show")
def rejections_show(
    ref: Annotated[str, typer.Argument(help="message:ID or failure:ID, as `rejections list` shows.")],
    config: ConfigOption = None,
) -> None:
    """Show a logged message: its headers, text and findings (never its HTML)."""
    parsed = _ref(ref)
    settings = _settings(config)
    view = with_store(settings, lambda store: message_view(store, parsed.kind, parsed.id, settings=settings))
    if view is None:
        typer.echo(f"mailgate: no {parsed}", err=True)
        raise typer.Exit(1)
    _print_view(_console(), view, _zone(settings))


@rejections_app.command("stats")
def rejections_stats(
    config: ConfigOption = None, since: SinceOption = None, until: UntilOption = None
) -> None:
    """Count logged messages per verdict, per rule and per unit over a period (days in the units' zone)."""
    settings = _settings(config)
    zone = _zone(settings)
    start, end = _day(since, "--since", zone), _day(until, "--until", zone)
    stats = with_store(settings, lambda store: log_stats(store, start, end, zone=zone))
    _print_stats(_console(), stats)


# -- replay ----------------------------------------------------------------------------------


@app.command("replay")
def replay(
    refs: Annotated[
        list[str] | None, typer.Argument(help="message:ID or failure:ID; or select with the filters.")
    ] = None,
    config: ConfigOption = None,
    rule: RuleOption = None,
    unit: UnitOption = None,
    sender: SenderOption = None,
    verdict: VerdictOption = None,
    inbox: InboxOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many messages.")] = 500,
    do_apply: Annotated[bool, typer.Option("--apply", help="Apply the changes (after the preview).")] = False,
    send_replies: Annotated[
        bool, typer.Option("--send-replies", help="With --apply, queue the receipts and notices it shows.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    user: Annotated[str | None, typer.Option("--user", help="Who applies (default: your login).")] = None,
) -> None:
    """Run logged messages again through the current rules and registry: preview, then --apply."""
    chosen = [_ref(r) for r in refs or []]
    settings = _settings(config)
    zone = _zone(settings)
    where = _log_filter(rule, unit, sender, verdict, inbox, since, until, zone)
    if not chosen and where == LogFilter(zone=zone):
        raise typer.BadParameter("name messages (message:ID, failure:ID) or select them with filters")
    console = _console()

    async def previewed(store: Store) -> list[ReplayPreview]:
        selected = chosen or await refs_for(store, where, limit)
        with _progress() as progress:
            task = progress.add_task("预览", total=len(selected))
            return await preview(store, settings, selected, progress=lambda _: progress.advance(task))

    planned = with_store(settings, previewed)
    console.print(_replay_table(planned, settings))
    ready = [p for p in planned if p.applicable]
    replies = [p.reply for p in ready if p.reply]
    console.print(
        f"共 {len(planned)} 封，{len(ready)} 封可应用；若发送回复："
        f"回执 {replies.count('receipt')} 封，退稿通知 {replies.count('rejection')} 封"
    )
    if not do_apply:
        if ready:
            console.print("加 --apply 应用（加 --send-replies 同时发送回复）")
        return
    if not ready:
        console.print("没有需要应用的变化")
        return
    question = f"应用 {len(ready)} 封的新结果" + ("并发送回复" if send_replies else "（不发送回复）") + "？"
    if not yes and not typer.confirm(question):
        raise typer.Exit(1)
    username = user or _login()

    async def applied(store: Store) -> list[ReplayPreview]:
        with _progress() as progress:
            task = progress.add_task("应用", total=len(ready))
            return await apply(
                store,
                settings,
                [p.ref for p in ready],
                username,
                send_replies=send_replies,
                progress=lambda _: progress.advance(task),
            )

    done = with_store(settings, applied)
    console.print(_replay_table(done, settings, applied=True))
    console.print(f"已应用 {sum(1 for p in done if p.applied)} 封")


# -- helpers ---------------------------------------------------------------------------------


def _settings(config: Path | None) -> Settings:
    settings, _ = load_or_exit(config, None)
    migrate_or_exit(settings)
    return settings


async def _detail(store: Store, item: str, settings: Settings) -> ItemDetail | None:
    """The item ``item`` names: a tracking number (leading zeros of the serial optional) or an id."""
    found = await find_item(store, item)
    return None if found is None else await item_detail(store, found, settings=settings)


def _queue_filter(
    unit: str | None,
    series: str | None,
    inbox: str | None,
    commission: str | None,
    status: str | None,
    since: str | None,
    until: str | None,
    search: str | None,
    zone: dt.tzinfo,
) -> QueueFilter:
    _choice(series, _SERIES, "--series")
    _choice(inbox, tuple(INBOX_SHORT), "--inbox")
    _choice(status, STATUSES, "--status")
    return QueueFilter(
        unit=unit,
        series=series,
        inbox=inbox,
        commission=commission,
        status=status,
        since=_day(since, "--since", zone),
        until=_day(until, "--until", zone),
        text=search.strip() if search and search.strip() else None,
        zone=zone,
    )


def _log_filter(
    rule: str | None,
    unit: str | None,
    sender: str | None,
    verdict: str | None,
    inbox: str | None,
    since: str | None,
    until: str | None,
    zone: dt.tzinfo,
) -> LogFilter:
    _choice(verdict, KINDS, "--verdict")
    _choice(inbox, tuple(INBOX_SHORT), "--inbox")
    return LogFilter(
        rule=rule,
        unit=unit,
        sender=sender,
        verdict=verdict,
        inbox=inbox,
        since=_day(since, "--since", zone),
        until=_day(until, "--until", zone),
        zone=zone,
    )


def _choice(value: str | None, allowed: Iterable[str], hint: str) -> None:
    allowed = tuple(allowed)
    if value is not None and value not in allowed:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}", param_hint=hint)


def _day(value: str | None, hint: str, zone: dt.tzinfo) -> dt.date | None:
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {value!r}", param_hint=hint) from exc
    try:
        return check_day(day, zone)
    except ValueError as exc:
        raise typer.BadParameter(f"out of range: {value!r}", param_hint=hint) from exc


def _ref(text: str) -> ReplayRef:
    try:
        ref = ReplayRef.parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if not fits_id(ref.id):
        raise typer.BadParameter(f"id out of range: {text!r}")
    return ref


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _zone(settings: Settings) -> dt.tzinfo:
    return settings.zone


def _when(at: dt.datetime | None, zone: dt.tzinfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at is not None else ""


def _arrival(received: dt.datetime | None, processed: dt.datetime | None, zone: dt.tzinfo) -> str:
    """When a message arrived, and when it was processed if that was more than a minute later."""
    return _when(received, zone) + (f"（处理 {_when(processed, zone)}）" if processed is not None else "")


def export_header(zone: dt.tzinfo) -> list[str]:
    """``EXPORT_COLUMNS``, the times' headers naming ``zone``."""
    key = zone_key(zone)
    return [f"{name}（{key}）" if name in _TIME_COLUMNS else name for name in EXPORT_COLUMNS]


def _console() -> Console:
    return Console(highlight=False)


def _progress() -> Progress:
    """A progress bar on stderr, gone when the work is done."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def _page_footer(console: Console, page: Page[QueueRow] | Page[LogRow]) -> None:
    total = f"共 {page.total} 条，" if page.total is not None else ""
    shown = f"{total}本页 {len(page.rows)} 条"
    console.print(shown + (f"；下一页：--cursor {page.next_cursor}" if page.next_cursor else ""))


def _export_row(row: QueueRow, zone: dt.tzinfo) -> list[str]:
    return [
        row.tracking,
        row.title,
        row.unit_id,
        row.unit_name or "",
        row.series or "",
        INBOX_SHORT.get(row.inbox, row.inbox),
        "是" if row.urgent else "",
        STATUS_LABELS.get(row.status, row.status),
        str(row.revisions),
        str(row.body_zi),
        "有" if row.has_attachment else "",
        row.commission_code or "",
        "是" if row.late else "",
        row.officer or "",
        row.signed_name or "",
        _when(row.first_received_at or row.created_at, zone),
        _when(row.received_at or row.updated_at, zone),
        _when(row.processed_apart, zone),
    ]


def _print_detail(console: Console, detail: ItemDetail, zone: dt.tzinfo) -> None:
    row = detail.row
    console.print(Text(zone_note(zone), style="dim"))
    console.print(
        Text.assemble(("编号 ", "bold"), row.tracking, ("  紧急", "bold red") if row.urgent else "")
    )
    console.print(Text.assemble(("标题 ", "bold"), row.title))
    facts = [
        f"{row.unit_id}（{row.unit_name}）" if row.unit_name else row.unit_id,
        INBOX_SHORT.get(row.inbox, row.inbox),
        STATUS_LABELS.get(row.status, row.status),
        f"共 {row.revisions} 稿",
    ]
    if row.commission_code:
        facts.append(f"约稿 {row.commission_code}" + ("（逾期）" if row.late else ""))
    console.print(Text.assemble(("单位 ", "bold"), " · ".join(facts)))
    for revision in detail.revisions:
        arrived = _arrival(revision.received_at or revision.created_at, revision.processed_apart, zone)
        console.rule(f"第 {revision.number} 稿 · 收到 {arrived}")
        console.print(Text(revision.title, style="bold"))
        console.print(Text(revision.body))
        officer = f"信息员 {revision.officer}" if revision.officer else None
        if revision.signed_name:
            officer = " · ".join(filter(None, (officer, f"落款 {revision.signed_name}")))
        signed = [
            revision.author_unit,
            officer,
            revision.phone,
            revision.signed_on.isoformat() if revision.signed_on else None,
        ]
        console.print(Text("落款：" + " · ".join(s for s in signed if s), style="dim"))
        if revision.source:
            console.print(Text(f"来源：{revision.source}", style="dim"))
        counting = "Word 字数统计" if revision.counting == "word" else "非空白字符"
        console.print(Text(f"正文 {revision.body_zi} 字（{counting}）", style="dim"))
        if revision.attachment_name:
            console.print(
                Text(f"附件 {revision.attachment_name}（{revision.attachment_zi or 0} 字）", style="dim")
            )
            if revision.attachment_text:
                console.print(Text(revision.attachment_text))
        for rule, message in revision.warnings:
            console.print(Text.assemble(("! ", "yellow"), f"[{rule}] ", message))
    if detail.events:
        console.rule("状态记录")
        for event in detail.events:
            before, after = (STATUS_LABELS.get(s, s) for s in (event.previous, event.status))
            change = f"{before} → {after}"
            note = f"：{event.note}" if event.note else ""
            console.print(Text(f"{_when(event.at, zone)} {event.username} {change}{note}"))


def _print_view(console: Console, view: MessageView, zone: dt.tzinfo) -> None:
    row = view.row
    verdict = VERDICT_LABELS.get(row.verdict, row.verdict)
    when = ("隔离 " if row.kind == "failure" else "收到 ") + _arrival(
        row.received_at, row.processed_apart, zone
    )
    console.print(Text.assemble((f"{row.kind}:{row.id}", "bold"), f"  {verdict}  {when}"))
    console.print(Text(zone_note(zone), style="dim"))
    if view.error:
        console.print(Text(f"处理错误：{view.error}", style="red"))
    if not view.has_raw:
        console.print("（未保存原始邮件）")
    headers = Table("信头", "内容", show_header=False, box=None)
    for name, value in view.headers:
        headers.add_row(Text(name, style="bold"), Text(value))
    console.print(headers)
    console.rule("正文")
    console.print(Text(view.text))
    if view.html is not None:
        console.print(Text("（另有 HTML 部分，终端中不显示；可在网页中查看净化后的内容）", style="dim"))
    for filename, content_type, size in view.attachments:
        console.print(Text(f"附件 {filename or '（无文件名）'} {content_type} {size} 字节", style="dim"))
    if view.findings:
        console.rule("检查结果")
        for finding in view.findings:
            console.print(
                Text(f"[{finding.get('rule')}] {finding.get('severity')}：{finding.get('message', '')}")
            )
    if view.replies:
        console.rule("回复")
        for reply in view.replies:
            status = OUTBOX_LABELS.get(reply.status, reply.status)
            why = f"（原因：{reply.held_back}）" if reply.held_back else ""
            sent = f" {_when(reply.sent_at, zone)}" if reply.sent_at else ""
            kind = REPLY_LABELS.get(reply.kind, reply.kind)
            console.print(Text(f"{kind} → {reply.recipient}：{status}{why}{sent}"))


def _print_stats(console: Console, stats: LogStats) -> None:
    for title, counts, labels in (
        ("结果", stats.by_verdict, VERDICT_LABELS),
        ("规则", stats.by_rule, {}),
        ("单位", stats.by_unit, {"": "（未登记）"}),
    ):
        table = Table(title, "封数", header_style="bold")
        for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            table.add_row(Text(labels.get(key, key)), str(count))
        console.print(table)


def _replay_table(rows: list[ReplayPreview], settings: Settings, *, applied: bool = False) -> Table:
    zone = _zone(settings)
    table = Table(
        "编号", "收到时间", "发件人", "主题", "原结果", "新结果", "原规则", "新规则", "回复", "说明"
    )
    table.header_style = "bold"
    table.caption = zone_note(zone)
    for row in rows:
        new = VERDICT_LABELS.get(row.new_verdict, row.new_verdict)
        note = row.note + (f" 编号 {row.tracking}" if applied and row.tracking else "")
        table.add_row(
            str(row.ref),
            _when(row.received_at, zone),
            Text(row.from_address or ""),
            Text(row.subject),
            VERDICT_LABELS.get(row.old_verdict, row.old_verdict),
            Text(new, style="bold green" if row.changed else ""),
            Text(", ".join(row.old_rules)),
            Text(", ".join(row.new_rules)),
            REPLY_LABELS.get(row.reply, "") if row.reply else "",
            Text(note),
        )
    return table
