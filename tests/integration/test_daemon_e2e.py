"""The daemon end to end through a real Dovecot and a real SMTP server: replies, IDLE, outages, signals."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import structlog
from messages import signed
from servers import Dovecot, SmtpSink

from integration._daemon import CLOCK, Child, Running, answered, fresh, parsed, settings_data, text_of
from mailgate.store.models import CheckpointRow, Message, Outbox
from rules import Finding, Severity, default_rules, render


def rendered(findings: list[dict[str, Any]]) -> list[str]:
    """The messages a notice shows for findings as the store keeps them."""
    rules = default_rules()
    return [
        render(Finding(f["rule"], Severity(f["severity"]), f["reason"], f["params"]), rules) for f in findings
    ]


async def deliver(dovecot: Dovecot, *messages: bytes, user: str = "daily") -> list[int]:
    """APPEND over IMAP from a thread, leaving the event loop to the daemon."""
    return await asyncio.to_thread(dovecot.append, user, "INBOX", *messages)


async def inbox(dovecot: Dovecot, user: str = "daily", mailbox: str = "INBOX") -> list[int]:
    return await asyncio.to_thread(dovecot.mailbox_uids, user, mailbox)


async def test_a_receipt_a_notice_with_every_finding_and_nothing_for_an_auto_reply(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    good = fresh(1)
    bad = fresh(  # three faults: another unit's identifier, a different title, too long a body
        2,
        identifier="越秀区",
        title="越秀区老城区改造",
        body="天河区另一个标题\n\n" + "城市建设" * 120 + "\n\n作者单位：天河区政府办\n姓名：张三\n"
        f"联系电话：020-38622000\n日期：{signed(CLOCK.now())}\n",
    )
    auto = fresh(3, headers={"Auto-Submitted": "auto-replied"})
    await deliver(dovecot, good, bad, auto)
    running = await Running.start(settings_data(dovecot, smtp_sink, tmp_path))
    try:
        await running.until(lambda: running.filed_count() == 3)
        replies = await smtp_sink.wait_for(2)
    finally:
        await running.stop()
    assert len(smtp_sink.messages) == 2
    by_original = {str(parsed(m)["In-Reply-To"]): m for m in replies}
    assert set(by_original) == {"<1.test@th.gz.gov.cn>", "<2.test@th.gz.gov.cn>"}
    receipt, notice = by_original["<1.test@th.gz.gov.cn>"], by_original["<2.test@th.gz.gov.cn>"]
    assert receipt.rcpt_tos == notice.rcpt_tos == ("xxy@th.gz.gov.cn",)
    assert parsed(receipt)["X-Mailgate-Verdict"] == "accepted"
    assert parsed(receipt)["Auto-Submitted"] == "auto-replied"
    assert parsed(notice)["X-Mailgate-Verdict"] == "rejected"
    [rejected] = await running.rows(Message, Message.message_id == "2.test@th.gz.gov.cn")
    rules = [f["rule"] for f in rejected.findings if f["severity"] == "reject"]
    assert {"identifier", "subject-title", "body-length"} <= set(rules)
    text = text_of(notice)
    for message in rendered(rejected.findings):
        assert message in text
    [ignored] = await running.rows(Message, Message.message_id == "3.test@th.gz.gov.cn")
    assert ignored.verdict == "ignored"
    assert await running.count(Outbox, Outbox.message_pk == ignored.id) == 0
    assert await inbox(dovecot) == []
    assert len(await inbox(dovecot, mailbox="Processed")) == 1
    assert len(await inbox(dovecot, mailbox="Rejected")) == 1
    assert len(await inbox(dovecot, mailbox="Ignored")) == 1


async def test_idle_brings_a_new_message_without_waiting_for_a_poll(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    # Polls an hour apart, and the daemon looks on its own only every minute: only IDLE answers in seconds.
    data = settings_data(dovecot, smtp_sink, tmp_path, source={"imap": {"idle": True, "poll_seconds": 3600}})
    running = await Running.start(data)
    try:
        await running.until(lambda: running.waiting == {"daily", "commissioned"})
        await deliver(dovecot, fresh(1))
        [receipt] = await smtp_sink.wait_for(1, timeout=5)
        await running.until(lambda: running.filed_count() == 1)
    finally:
        await running.stop()
    assert parsed(receipt)["In-Reply-To"] == "<1.test@th.gz.gov.cn>"
    assert running.woken["daily"] == [True]  # the wait ended because mail came, not because time ran out


BODY_WITH_PADDING = """天河区推进智慧城市建设取得新进展

{padding}

作者单位：天河区政府办
姓名：张三
联系电话：020-38622000
日期：{signed}
"""


def items(count: int, start: int = 1) -> list[bytes]:
    """Valid items with distinct Message-IDs and titles."""
    return [fresh(n, title=f"天河区第{n}号信息：推进智慧城市建设") for n in range(start, start + count)]


async def assert_each_answered_once(running: Running, sink: SmtpSink, count: int) -> None:
    """Every message has one verdict and one reply, and every reply went out."""
    ids = [m.message_id for m in await running.rows(Message)]
    assert len(ids) == len(set(ids)) == count
    assert answered(sink) == dict.fromkeys(ids, 1)
    assert {o.status for o in await running.rows(Outbox)} == {"sent"}


async def test_dovecot_restarted_mid_run_loses_nothing_and_answers_nothing_twice(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    count = 150
    dovecot.drop_into_maildir("daily", "INBOX", items(count))
    data = settings_data(dovecot, smtp_sink, tmp_path, source={"imap": {"batch": 10}})
    with structlog.testing.capture_logs() as logs:
        running = await Running.start(data)
        try:
            await running.until(lambda: running.filed_count() >= 30)
            await asyncio.to_thread(dovecot.restart)
            await running.until(lambda: running.filed_count() == count, timeout=30)
            await smtp_sink.wait_for(count, timeout=30)
        finally:
            await running.stop()
    assert any(e["event"] == "inbox_unavailable" and e["mailbox"] == "daily" for e in logs)
    assert 30 <= len(await inbox(dovecot, mailbox="Processed")) == count
    assert await inbox(dovecot) == []
    await assert_each_answered_once(running, smtp_sink, count)


async def test_replies_wait_while_smtp_is_down_and_arrive_once_when_it_is_back(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    smtp_sink.stop()
    await deliver(dovecot, *items(3))
    running = await Running.start(settings_data(dovecot, smtp_sink, tmp_path))
    try:
        await running.until(
            lambda: (
                running.filed_count() == 3  # the outage holds up replies, not verdicts or filing
                and len(running.deferred) == 3
                and min(running.deferred.values()) >= 2
            )
        )
        assert await running.count(Outbox, Outbox.status == "pending") == 3
        smtp_sink.start()
        await smtp_sink.wait_for(3)
        await running.until(lambda: len(running.sent) == 3)
    finally:
        await running.stop()
    assert len(smtp_sink.messages) == 3
    await assert_each_answered_once(running, smtp_sink, 3)
    assert all(o.attempts >= 2 for o in await running.rows(Outbox))


async def test_after_a_uidvalidity_change_old_messages_are_not_answered_again_new_ones_are(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    # Filing "none" leaves every message in INBOX: after the change, the daemon sees all of them again.
    old = await deliver(dovecot, *items(3))
    data = settings_data(dovecot, smtp_sink, tmp_path, source={"imap": {"filing": "none"}})
    running = await Running.start(data)
    try:
        await running.until(lambda: running.filed_count() == 3)
        await smtp_sink.wait_for(3)
        before = await asyncio.to_thread(dovecot.uidvalidity, "daily", "INBOX")
        after = await asyncio.to_thread(dovecot.set_uidvalidity, "daily", "INBOX")
        new = await deliver(dovecot, *items(2, start=4))
        await running.until(lambda: running.filed[("daily", after)] == {*old, *new})
        await smtp_sink.wait_for(5)
        await running.until(lambda: len(running.sent) == 5)
    finally:
        await running.stop()
    assert running.filed[("daily", before)] == set(old)
    await assert_each_answered_once(running, smtp_sink, 5)
    assert {(m.message_id, m.uidvalidity) for m in await running.rows(Message)} == {
        *((f"{n}.test@th.gz.gov.cn", before) for n in (1, 2, 3)),
        *((f"{n}.test@th.gz.gov.cn", after) for n in (4, 5)),
    }
    [checkpoint] = await running.rows(CheckpointRow, CheckpointRow.mailbox == "daily")
    assert (checkpoint.uidvalidity, checkpoint.last_uid) == (after, max(new))


async def test_a_message_over_the_size_limit_is_fetched_header_only_and_gets_a_size_notice(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    limit = 50_000
    big = fresh(1, body=BODY_WITH_PADDING.format(padding="城市建设" * 8000, signed=signed(CLOCK.now())))
    assert len(big) > limit
    await deliver(dovecot, big)
    data = settings_data(dovecot, smtp_sink, tmp_path, rules={"max_message_bytes": limit})
    running = await Running.start(data)
    try:
        await running.until(lambda: running.filed_count() == 1)
        [notice] = await smtp_sink.wait_for(1)
    finally:
        await running.stop()
    [message] = await running.rows(Message)
    assert message.verdict == "rejected"
    assert [f["rule"] for f in message.findings] == ["size-limit"]
    assert message.size == len(big)
    assert message.raw == big.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"  # the header block only
    assert parsed(notice)["In-Reply-To"] == "<1.test@th.gz.gov.cn>"
    assert rendered(message.findings)[0] in text_of(notice)
    assert len(await inbox(dovecot, mailbox="Rejected")) == 1


def test_sigterm_finishes_the_message_in_hand_and_exits_0_quickly(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    count = 200
    dovecot.drop_into_maildir("daily", "INBOX", items(count))
    child = Child(settings_data(dovecot, smtp_sink, tmp_path, source={"imap": {"batch": 20}}), tmp_path)
    child.start()
    deadline = time.monotonic() + 20
    while child.progress()[0] == 0:  # no event to await in another process: look every 0.1 s
        assert child.alive_after(0.1), child.logs()
        assert time.monotonic() < deadline, child.logs()
    started = time.monotonic()
    status = child.terminate(timeout=10)
    stopped_in = time.monotonic() - started
    assert status == 0, child.logs()
    assert stopped_in < 5
    done = child.progress()[0]
    assert 0 < done < count
    # Every message with a verdict was filed, and nothing else was: none was left half done.
    assert len(dovecot.mailbox_uids("daily", "Processed")) == done
    assert len(dovecot.mailbox_uids("daily", "INBOX")) == count - done
    assert child.query("SELECT count(*) FROM outbox WHERE status NOT IN ('pending', 'sent')") == [(0,)]
    assert '"daemon_stopped"' in child.logs()
