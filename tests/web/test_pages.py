"""The pages at work on real data: the queue, an item and its versions, the log, a hostile message, replay,
the registry and commissions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from email.message import EmailMessage

import httpx
from desk.data import ARRIVAL, Desk, with_word
from messages import BODY, GUANGZHOU, REGISTRY, TITLE, submission
from sqlalchemy import select
from starlette.applications import Starlette

from mailgate.config import Settings
from mailgate.desk.queue import item_detail
from mailgate.store.models import Message, Replay
from mailgate.store.store import NewReply
from mailgate.web import create_app
from mailgate.web._security import MESSAGE_CSP
from web.conftest import PASSWORD, SECRET, Client

MakeClient = Callable[[str | None], Awaitable[Client]]
HOUR = dt.timedelta(hours=1)


def _app(desk: Desk, settings: Settings | None = None) -> Starlette:
    """The desk over ``desk``'s store, on its clock (and with ``settings`` when given)."""
    return create_app(settings or desk.settings, desk.store, secret_key=SECRET, clock=desk.clock)


async def _signed_in(app: Starlette, role: str) -> Client:
    client = Client(app)
    response = await client.login(role, PASSWORD)
    assert response.status_code == 303, response.text
    return client


async def test_the_queue_lists_items_and_filters_them_from_the_query_string(
    desk: Desk, client: MakeClient
) -> None:
    await desk.accepted(submission(1))
    await desk.accepted(submission(2, title="天河区举办科技创新大会", markers="【紧急】"))
    editor = await client("editor")
    page = await editor.get("/queue")
    assert page.status_code == 200
    titles = re.findall(r'<a href="/items/\d+">([^<]+)</a>', page.text)
    assert titles == ["天河区举办科技创新大会", TITLE]  # urgent first
    searched = await editor.get("/queue", params={"q": "科技创新"})
    assert re.findall(r'<a href="/items/\d+">([^<]+)</a>', searched.text) == ["天河区举办科技创新大会"]
    assert 'value="科技创新"' in searched.text
    empty = await editor.get("/queue", params={"status": "used"})
    assert "没有符合条件的稿件" in empty.text


async def test_an_item_shows_its_text_attachment_sign_off_and_a_diff_between_versions(
    desk: Desk, client: MakeClient
) -> None:
    item_id = await desk.accepted(with_word(submission(1), "附件第一段。\n附件第二段。"))
    revised = BODY.format(title=TITLE).replace("1200个", "1500个")
    await desk.accepted(submission(2, markers="【修改稿】", body=revised))
    editor = await client("editor")
    page = await editor.get(f"/items/{item_id}")
    assert page.status_code == 200
    text = page.text
    assert "新建5G基站1500个" in text
    assert "附件第一段。" in text
    assert "020-38622000" in text
    assert "天河区政府办" in text
    assert "第 2 稿" in text
    assert "<del>2</del>" in text
    assert "<ins>5</ins>" in text
    assert (await editor.get("/items/999999")).status_code == 404


async def test_a_status_change_is_recorded_with_the_user_and_shown(desk: Desk, client: MakeClient) -> None:
    item_id = await desk.accepted(submission(1))
    editor = await client("editor")
    response = await editor.post(f"/items/{item_id}/status", {"status": "review", "note": "请核实数据"})
    assert response.status_code == 303
    bad = await editor.post(f"/items/{item_id}/status", {"status": "published"}, follow_redirects=True)
    assert "状态未更改" in bad.text
    detail = await item_detail(desk.store, item_id, settings=desk.settings)
    assert detail is not None
    assert detail.row.status == "review"
    assert [(e.previous, e.status, e.note, e.username) for e in detail.events] == [
        ("new", "review", "请核实数据", "editor")
    ]
    page = await editor.get(f"/items/{item_id}")
    assert "请核实数据" in page.text
    assert "editor：新稿 → 审阅中" in page.text


async def test_editors_download_the_originals_of_items_and_ops_those_of_any_message(
    desk: Desk, client: MakeClient
) -> None:
    raw_item = submission(1)
    accepted = await desk.file(raw_item)
    rejected = await desk.file(submission(2, title="另一条信息", identifier="越秀区"))
    editor, ops = await client("editor"), await client("ops")
    download = await editor.get(f"/messages/{accepted.message_pk}/raw")
    assert download.status_code == 200
    assert download.headers["content-type"] == "message/rfc822"
    assert "attachment" in download.headers["content-disposition"]
    assert download.content == raw_item
    assert (await editor.get(f"/messages/{rejected.message_pk}/raw")).status_code == 404
    assert (await editor.get(f"/log/message/{rejected.message_pk}/raw")).status_code == 403
    assert (await ops.get(f"/messages/{rejected.message_pk}/raw")).status_code == 200
    assert (await ops.get(f"/log/message/{rejected.message_pk}/raw")).content.startswith(b"Received:")


def _hostile() -> bytes:
    msg = EmailMessage()
    msg["From"] = "张三 <xxy@th.gz.gov.cn>"
    msg["To"] = "inf@gzy.gov.cn"
    msg["Subject"] = "【天河区】网页稿件"
    msg["Message-ID"] = "<hostile@th.gz.gov.cn>"
    msg["Date"] = "Thu, 26 Nov 2026 09:58:00 +0800"
    msg.set_content("纯文本部分")
    msg.add_alternative(
        '<p>你好<b>世界</b></p><script>alert("pwned")</script>'
        '<img src="https://tracker.example/pixel.png"><a href="javascript:alert(2)">点我</a>'
        '<p onclick="alert(3)">段落</p>',
        subtype="html",
    )
    return msg.as_bytes()


async def test_a_message_whose_html_carries_a_script_is_shown_without_it_under_a_strict_policy(
    desk: Desk, client: MakeClient
) -> None:
    result = await desk.file(_hostile())
    assert result.verdict.outcome.value == "rejected"
    ops = await client("ops")
    page = await ops.get(f"/log/message/{result.message_pk}")
    assert page.status_code == 200
    frame = re.search(r"<iframe[^>]*>", page.text)
    assert frame is not None
    assert " sandbox " in frame.group(0)
    assert f'src="/log/message/{result.message_pk}/html"' in frame.group(0)
    assert "pwned" not in page.text
    html = await ops.get(f"/log/message/{result.message_pk}/html")
    assert html.status_code == 200
    assert html.headers["content-security-policy"] == MESSAGE_CSP
    assert "default-src 'none'" in MESSAGE_CSP
    assert "sandbox" in MESSAGE_CSP
    assert "script" not in MESSAGE_CSP
    assert html.headers["x-frame-options"] == "SAMEORIGIN"
    body = html.text.lower()
    assert "世界" in html.text
    for dangerous in ("<script", "pwned", "tracker.example", "javascript:", "onclick"):
        assert dangerous not in body, dangerous
    editor = await client("editor")
    assert (await editor.get(f"/log/message/{result.message_pk}/html")).status_code == 403


async def test_the_log_filters_by_rule_and_counts_per_rule_and_unit(desk: Desk, client: MakeClient) -> None:
    await desk.file(submission(1, title="另一条信息", identifier="越秀区"))
    await desk.file(submission(2, sender="stranger@example.com"))
    await desk.accepted(submission(3))
    ops = await client("ops")
    page = await ops.get("/log")
    assert page.status_code == 200
    assert page.text.count('name="ref"') == 2
    assert 'href="/log?rule=identifier"' in page.text
    assert 'href="/log?rule=unregistered-sender"' in page.text
    only = await ops.get("/log", params={"rule": "identifier"})
    assert only.text.count('name="ref"') == 1
    assert "【越秀区】另一条信息" in only.text


async def test_log_counts_cover_the_last_30_days_unless_a_period_is_chosen(desk: Desk) -> None:
    now = desk.clock.now()  # the desk's clock, not the machine's
    recent, old = now - dt.timedelta(days=1), now - dt.timedelta(days=60)
    await desk.file(submission(1, title="另一条信息", identifier="越秀区", at=recent), received_at=recent)
    await desk.file(submission(2, sender="stranger@example.com", at=old), received_at=old)
    ops = await _signed_in(_app(desk), "ops")

    def counts(html: str) -> str:
        return html[html.index('<div class="stats">') : html.index('<form method="post"')]

    page = await ops.get("/log")
    assert page.text.count('name="ref"') == 2  # the list itself is not limited
    assert "identifier" in counts(page.text)
    assert "unregistered-sender" not in counts(page.text)
    since = (now - dt.timedelta(days=90)).date().isoformat()
    chosen = await ops.get("/log", params={"since": since})
    assert f"{since} 至 今天" in chosen.text
    assert "unregistered-sender" in counts(chosen.text)
    window = (now.astimezone(GUANGZHOU).date() - dt.timedelta(days=30)).isoformat()
    assert f"{window} 至 今天" in page.text
    await ops.http.aclose()


async def test_ops_replay_a_rejection_after_registering_the_sender(desk: Desk, client: MakeClient) -> None:
    rejected = await desk.file(submission(1, sender="new@th.gz.gov.cn"))
    assert [f.rule for f in rejected.verdict.findings] == ["unregistered-sender"]
    admin, ops = await client("admin"), await client("ops")
    registry = REGISTRY + '\n[[officers]]\nemail = "new@th.gz.gov.cn"\nname = "王五"\nunit = "天河区"\n'
    imported = await admin.post(
        "/registry/import",
        files={"file": ("registry.toml", registry.encode(), "application/toml")},
        data={"csrf_token": await admin.token()},
        token=None,
        follow_redirects=True,
    )
    assert "已导入 2 个单位、3 名信息员" in imported.text
    ref = f"message:{rejected.message_pk}"
    nothing = await ops.post("/replay/preview", {"scope": "selected"})
    assert nothing.status_code == 400
    preview = await ops.post("/replay/preview", {"ref": ref})
    assert preview.status_code == 200
    assert "重放预览" in preview.text
    assert "其中 1 封的结果将改变" in preview.text
    assert "回执" in preview.text
    assert f'name="ref" value="{ref}"' in preview.text
    async with desk.store.transaction() as repo:
        assert await repo.session.scalar(
            select(Message.verdict).where(Message.id == rejected.message_pk)
        ) == ("rejected")
    applied = await ops.post("/replay/apply", {"ref": ref})
    assert applied.status_code == 200
    assert "重放结果" in applied.text
    assert re.search(r"稿件编号 <span class=\"mono\">\d{8}-\d{6}</span>", applied.text)
    async with desk.store.transaction() as repo:
        replay = await repo.session.scalar(select(Replay))
        assert replay is not None
        assert (replay.username, replay.old_verdict, replay.new_verdict) == ("ops", "rejected", "accepted")


async def test_admins_export_the_registry_and_a_bad_import_changes_nothing(
    desk: Desk, client: MakeClient
) -> None:
    admin = await client("admin")
    exported = await admin.get("/registry/export")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    assert 'email = "xxy@th.gz.gov.cn"' in exported.text
    broken = await admin.post(
        "/registry/import",
        files={"file": ("registry.toml", b"[[units]]\nid = ", "application/toml")},
        data={"csrf_token": await admin.token()},
        token=None,
        follow_redirects=True,
    )
    assert "导入失败，登记名单未改动" in broken.text
    page = await admin.get("/registry")
    assert "天河区人民政府办公室" in page.text
    assert "xxy@th.gz.gov.cn" in page.text
    assert "020-38622000" in page.text


async def test_admins_add_commissions_with_deadlines_once(desk: Desk, client: MakeClient) -> None:
    admin = await client("admin")
    form = {"code": "2026-12", "topic": "年终工作总结", "deadline": "2026-12-20"}
    added = await admin.post("/commissions", form, follow_redirects=True)
    assert "已添加约稿 2026-12" in added.text
    assert "年终工作总结" in added.text
    assert "2026-12-20 23:59" in added.text
    again = await admin.post("/commissions", form, follow_redirects=True)
    assert "已存在" in again.text
    undated = await admin.post(
        "/commissions", {**form, "code": "X", "deadline": "soon"}, follow_redirects=True
    )
    assert "约稿未添加" in undated.text


def _once(text: str, needle: str) -> bool:
    return text.count(needle) == 1


async def test_every_page_of_times_says_its_zone_once_and_shows_arrival(desk: Desk) -> None:
    late = ARRIVAL - 3 * HOUR  # fetched three hours late: filed at the clock's time
    item_id = await desk.accepted(submission(1, at=late), received_at=late)
    rejected = await desk.file(
        submission(2, title="另一条信息", identifier="越秀区", at=late), received_at=late
    )
    editor, ops = await _signed_in(_app(desk), "editor"), await _signed_in(_app(desk), "ops")
    note = "时间均为北京时间（Asia/Shanghai）"
    queue = await editor.get("/queue")
    item = await editor.get(f"/items/{item_id}")
    logged = await ops.get("/log")
    message = await ops.get(f"/log/message/{rejected.message_pk}")
    replay = await ops.post("/replay/preview", {"ref": f"message:{rejected.message_pk}"})
    for page in (queue, item, logged, message, replay):
        assert page.status_code == 200
        assert _once(page.text, note), page.url
    # Arrival in Guangzhou (07:00), and the filing five minutes past ten, apart by more than a minute.
    for page in (queue, item, logged):
        assert "2026-11-26 07:00" in page.text, page.url
        assert "处理 2026-11-26 10:05" in page.text, page.url
    assert "收到 2026-11-26 07:00:00" in message.text
    assert "处理 2026-11-26 10:05:00" in message.text
    assert "收到时间" in queue.text
    assert "更新时间" not in queue.text
    for client in (editor, ops):
        await client.http.aclose()


async def test_times_are_shown_in_the_configured_zone(desk: Desk) -> None:
    item_id = await desk.accepted(submission(1))  # arrived 10:00 in Guangzhou, 02:00 UTC
    settings = Settings(rules={"timezone": "UTC"})
    editor = await _signed_in(_app(desk, settings), "editor")
    page = await editor.get(f"/items/{item_id}")
    assert _once(page.text, "时间均为协调世界时（UTC）")
    assert "收到 2026-11-26 02:00" in page.text
    assert "10:00" not in page.text
    # Days are days in that zone: 02:00 UTC on the 26th is on the 26th, 10:00 in Guangzhou on the 25th is not.
    assert f'href="/items/{item_id}"' in (await editor.get("/queue", params={"since": "2026-11-26"})).text
    berlin = await _signed_in(_app(desk, Settings(rules={"timezone": "Europe/Berlin"})), "editor")
    assert "时间均为 Europe/Berlin 时区的时间" in (await berlin.get("/queue")).text
    await editor.http.aclose()
    await berlin.http.aclose()


async def test_the_queue_finds_an_item_by_its_tracking_number(desk: Desk, client: MakeClient) -> None:
    wanted = await desk.accepted(submission(1))
    other = await desk.accepted(submission(2, title="天河区举办科技创新大会"))
    detail = await item_detail(desk.store, wanted, settings=desk.settings)
    assert detail is not None
    date, serial = detail.row.tracking.split("-")
    editor = await client("editor")
    for query in (detail.row.tracking, f"{date}-{int(serial)}", f"{date}-{int(serial):04d}"):
        page = await editor.get("/queue", params={"q": query})
        assert page.status_code == 200
        links = re.findall(r'<a href="/items/(\d+)">', page.text)
        assert links == [str(wanted)], query
        assert "共 1 篇" in page.text
    assert f'href="/items/{other}"' not in page.text


async def test_the_item_page_shows_the_signed_name_beside_the_officer(desk: Desk, client: MakeClient) -> None:
    body = BODY.format(title=TITLE).replace("姓名：张三", "姓名：王五")
    other = await desk.accepted(submission(1, body=body))
    same = await desk.accepted(
        submission(2, title="天河区举办科技创新大会", body=BODY.format(title="天河区举办科技创新大会"))
    )
    editor = await client("editor")
    assert "张三 · 落款 王五" in (await editor.get(f"/items/{other}")).text
    page = await editor.get(f"/items/{same}")
    assert "<dd>张三</dd>" in page.text
    assert "落款 张三" not in page.text


async def test_the_message_page_shows_findings_as_sent_and_why_a_reply_was_held_back(desk: Desk) -> None:
    old = desk.clock.now() - 4 * 24 * HOUR  # too old to answer
    filed = await desk.file(submission(1, identifier="越秀区", at=old), received_at=old)
    async with desk.store.transaction() as repo:
        reply = NewReply("rejection", "inf@gzy.gov.cn", "x@example.com", "s@t", b"x", None, "stranger_daily")
        await repo.add_reply(reply, message_pk=filed.message_pk, now=desk.clock.now())
        unknown = NewReply("rejection", "inf@gzy.gov.cn", "y@example.com", "u@t", b"x", None, "brand_new")
        await repo.add_reply(unknown, message_pk=filed.message_pk, now=desk.clock.now())
    override = "请使用本单位的标识“{expected}”"
    settings = Settings(script="zh-Hant", rules={"messages": {"identifier": override}})
    ops = await _signed_in(_app(desk, settings), "ops")
    page = await ops.get(f"/log/message/{filed.message_pk}")
    assert page.status_code == 200
    assert "請使用本單位的標識“天河區”" in page.text
    assert "不发送（原因：邮件收到时已超过自动回复的时限，不再回复）" in page.text
    assert "不发送（原因：未登记的发件人每天只收到一封通知，今天已发过）" in page.text
    assert "不发送（原因：brand_new）" in page.text
    await ops.http.aclose()


def _refusal(response: httpx.Response, parameter: str) -> None:
    assert response.status_code == 400, (response.request.url, response.status_code)
    assert "请求有误" in response.text
    assert f"参数 {parameter}" in response.text, response.text
    path = response.request.url.path
    if response.request.method == "GET" and path in ("/queue", "/log"):
        assert f'<a href="{path}">' in response.text  # back to the list, without the filters


async def test_bad_input_is_answered_400_naming_the_parameter(desk: Desk, client: MakeClient) -> None:
    item_id = await desk.accepted(submission(1))
    rejected = await desk.file(submission(2, title="另一条信息", identifier="越秀区"))
    editor, ops = await client("editor"), await client("ops")
    huge = 2**64  # beyond 64 bits
    cases: list[tuple[str, dict[str, str], str]] = [
        ("/queue", {"cursor": "garbage"}, "cursor"),
        ("/queue", {"cursor": "W10"}, "cursor"),  # "[]": decodes, but is not a cursor
        ("/queue", {"status": "published"}, "status"),
        ("/queue", {"inbox": "spam"}, "inbox"),
        ("/queue", {"series": "nope"}, "series"),
        ("/queue", {"since": "0001-01-01"}, "since"),
        ("/queue", {"until": "9999-12-31"}, "until"),
        ("/queue", {"since": "not a date"}, "since"),
        ("/queue", {"unit": "天河区\x00"}, "unit"),
        ("/queue", {"q": "x" * 5000}, "q"),
    ]
    for path, params, name in cases:
        _refusal(await editor.get(path, params=params), name)
    log_cases: list[tuple[str, dict[str, str], str]] = [
        ("/log", {"cursor": "garbage"}, "cursor"),
        ("/log", {"verdict": "accepted-ish"}, "verdict"),
        ("/log", {"inbox": "spam"}, "inbox"),
        ("/log", {"since": "0001-01-01"}, "since"),
        ("/log", {"until": "9999-12-31"}, "until"),
        ("/log", {"sender": "a\x00b"}, "sender"),
    ]
    for path, params, name in log_cases:
        _refusal(await ops.get(path, params=params), name)
    _refusal(await editor.get(f"/items/{huge}"), "item_id")
    _refusal(await editor.get(f"/items/{2**31}"), "item_id")
    _refusal(await editor.post(f"/items/{huge}/status", {"status": "used"}), "item_id")
    _refusal(await editor.get(f"/messages/{huge}/raw"), "pk")
    for suffix in ("", "/html", "/raw"):
        _refusal(await ops.get(f"/log/message/{huge}{suffix}"), "row_id")
    _refusal(await ops.post("/replay/preview", {"ref": f"message:{huge}"}), "ref")
    _refusal(await ops.post("/replay/preview", {"scope": "filter", "since": "0001-01-01"}), "since")
    _refusal(await editor.post(f"/items/{item_id}/status", {"status": "used", "note": "a\x00b"}), "note")
    # Nothing was changed by any of it, and good input still works.
    detail = await item_detail(desk.store, item_id, settings=desk.settings)
    assert detail is not None
    assert detail.row.status == "new"
    assert (
        await editor.get("/queue", params={"since": "0001-01-02", "until": "9999-12-30"})
    ).status_code == 200
    assert (await ops.get(f"/log/message/{rejected.message_pk}")).status_code == 200
    assert (await editor.get("/items/2147483647")).status_code == 404  # fits: simply not there


async def test_a_status_change_is_dated_by_the_desk_clock(desk: Desk) -> None:
    item_id = await desk.accepted(submission(1))
    editor = await _signed_in(_app(desk), "editor")
    desk.clock.advance(HOUR)
    assert (await editor.post(f"/items/{item_id}/status", {"status": "review"})).status_code == 303
    detail = await item_detail(desk.store, item_id, settings=desk.settings)
    assert detail is not None
    assert [e.at for e in detail.events] == [desk.clock.now()]
    assert "2026-11-26 11:05" in (await editor.get(f"/items/{item_id}")).text
    await editor.http.aclose()
