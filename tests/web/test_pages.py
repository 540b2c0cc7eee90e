"""The pages at work on real data: the queue, an item and its versions, the log, a hostile message, replay,
the registry and commissions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from email.message import EmailMessage

from desk.data import Desk, with_word
from messages import BODY, REGISTRY, TITLE, submission
from sqlalchemy import select

from mailgate.desk.queue import item_detail
from mailgate.store.models import Message, Replay
from mailgate.web._security import MESSAGE_CSP
from web.conftest import Client

MakeClient = Callable[[str | None], Awaitable[Client]]


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
    empty = await editor.get("/queue", params={"status": "used", "since": "not a date"})
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
    detail = await item_detail(desk.store, item_id)
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


async def test_log_counts_cover_the_last_30_days_unless_a_period_is_chosen(
    desk: Desk, client: MakeClient
) -> None:
    now = dt.datetime.now(dt.UTC)
    recent, old = now - dt.timedelta(days=1), now - dt.timedelta(days=60)
    await desk.file(submission(1, title="另一条信息", identifier="越秀区"), received_at=recent)
    await desk.file(submission(2, sender="stranger@example.com"), received_at=old)
    ops = await client("ops")

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
