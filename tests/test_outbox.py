"""The outbox on SQLite and PostgreSQL: each reply claimed by one worker, and the counters kept beside it."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select
from test_store import NOW, message

from mailgate.store import Store
from mailgate.store import counters as counter_names
from mailgate.store.counters import read as read_counters
from mailgate.store.models import Outbox
from mailgate.store.outbox import ClaimLostError, OutboxQueue
from mailgate.store.store import NewReply


async def queue_replies(store: Store, count: int, *, suppressed: int = 0) -> list[int]:
    async with store.transaction() as repo:
        filed = message(uid=99, source_key="7:99", message_id="queued@x", content_hash="9" * 64, findings=[])
        pk = await repo.add_message(filed, NOW)
        return [
            await repo.add_reply(
                NewReply(
                    kind="receipt",
                    sender="inf@gzy.gov.cn",
                    recipient=f"r{n}@th.gz.gov.cn",
                    reply_message_id=f"reply-{n}@mailgate",
                    raw=b"reply",
                    item_id=None,
                    suppressed="rate_limit" if n < suppressed else None,
                ),
                message_pk=pk,
                now=NOW - dt.timedelta(seconds=count - n),
            )
            for n in range(count)
        ]


async def statuses(store: Store) -> dict[int, tuple[str, str | None]]:
    async with store.reading() as repo:
        rows = await repo.session.execute(select(Outbox.id, Outbox.status, Outbox.claimed_by))
        return {row.id: (row.status, row.claimed_by) for row in rows}


async def test_concurrent_workers_never_claim_the_same_reply(database_url: str) -> None:
    """Four workers, each with a store (a pool) of its own, claim in small bites at once: every reply
    goes to exactly one of them."""
    stores = [Store(database_url) for _ in range(4)]
    try:
        await stores[0].create_schema()
        ids = await queue_replies(stores[0], 200)
        queues = [OutboxQueue(store) for store in stores]
        for queue in queues:  # connected, so that they all start at once
            await queue.next_due_at()

        started = asyncio.Barrier(len(queues))

        async def drain(queue: OutboxQueue) -> list[int]:
            claimed = [reply.id for reply in await queue.claim(NOW, limit=7)]
            await started.wait()  # every worker holds a first bite before any takes a second
            while batch := await queue.claim(NOW, limit=7):
                claimed += [reply.id for reply in batch]
                await asyncio.sleep(0)
            return claimed

        claims = await asyncio.gather(*(drain(queue) for queue in queues))
        everything = [reply for claim in claims for reply in claim]
        assert sorted(everything) == sorted(ids)  # each once, none lost
        assert all(claims)  # they really competed
        found = await statuses(stores[0])
        for queue, claim in zip(queues, claims, strict=True):
            assert {found[i] for i in claim} <= {("claimed", queue.worker)}
    finally:
        for store in stores:
            await store.close()


async def test_a_claim_is_taken_earliest_first_and_only_when_due(store: Store) -> None:
    ids = await queue_replies(store, 3)
    queue = OutboxQueue(store)
    # Due three, two and one second before NOW.
    assert await queue.claim(NOW - dt.timedelta(seconds=3.5)) == []
    assert [r.id for r in await queue.claim(NOW - dt.timedelta(seconds=1.5))] == ids[:2]
    assert [r.id for r in await queue.claim(NOW, limit=1)] == ids[2:]
    assert await queue.claim(NOW) == []


async def test_only_the_claiming_worker_may_send_and_settle_a_reply(store: Store) -> None:
    [first, second] = await queue_replies(store, 2)
    mine, theirs = OutboxQueue(store), OutboxQueue(store)
    await mine.claim(NOW)
    with pytest.raises(ClaimLostError):
        await theirs.sending(first)
    assert not await theirs.retry(first, "x", 1, NOW)
    assert not await theirs.failed(first, "x", 1)
    await mine.sending(first)
    assert not await theirs.sent(first, NOW)
    assert await mine.sent(first, NOW)
    assert await mine.release() == 1  # the other one, not started: back to pending, for anyone
    assert (await statuses(store))[second] == ("pending", None)
    assert (await statuses(store))[first] == ("sent", None)
    with pytest.raises(ClaimLostError):  # a claim given back cannot be sent on
        await mine.sending(second)


async def test_a_reply_whose_data_began_to_go_out_is_never_pending_again(store: Store) -> None:
    [reply] = await queue_replies(store, 1)
    queue = OutboxQueue(store)
    await queue.claim(NOW)
    await queue.sending(reply)
    assert not await queue.retry(reply, "timed out", 1, NOW)  # it may have been delivered
    assert (await statuses(store))[reply] == ("sending", queue.worker)
    assert await queue.unknown(reply, "timed out", 1)
    assert (await statuses(store))[reply] == ("unknown", None)
    assert await queue.claim(NOW + dt.timedelta(days=1)) == []
    async with store.reading() as repo:
        assert (await read_counters(repo.session)).get(counter_names.REPLIES + "unknown") == 1


async def test_a_start_marks_what_was_being_sent_unknown_and_returns_what_was_only_claimed(
    store: Store,
) -> None:
    [sending, claimed, pending] = await queue_replies(store, 3)
    crashed = OutboxQueue(store)
    await crashed.claim(NOW, limit=2)
    await crashed.sending(sending)
    found = await OutboxQueue(store).interrupted()
    assert (found.unknown, found.returned) == (1, 1)
    assert await statuses(store) == {
        sending: ("unknown", None),
        claimed: ("pending", None),
        pending: ("pending", None),
    }
    # The crashed worker, were it somehow still running, can no longer send what it had claimed.
    with pytest.raises(ClaimLostError):
        await crashed.sending(claimed)


async def test_a_recovery_leaves_the_recovering_workers_own_replies_to_it(store: Store) -> None:
    """After the instance lock is taken back, the daemon's own send in flight is its own to settle."""
    [mine, theirs] = await queue_replies(store, 2)
    me, other = OutboxQueue(store), OutboxQueue(store)
    await me.claim(NOW, limit=1)
    await me.sending(mine)
    await other.claim(NOW)
    await other.sending(theirs)
    found = await me.interrupted()
    assert (found.unknown, found.returned) == (1, 0)
    assert await statuses(store) == {mine: ("sending", me.worker), theirs: ("unknown", None)}
    assert await me.sent(mine, NOW)


async def test_counters_follow_messages_findings_latency_and_final_reply_states(store: Store) -> None:
    findings = [
        {"rule": "identifier", "severity": "reject", "reason": "other_unit", "params": {}},
        {"rule": "clock-skew", "severity": "warn", "reason": "skew", "params": {}},
    ]
    async with store.transaction() as repo:
        await repo.add_message(message(verdict="rejected", findings=findings, processing_ms=3.0), NOW)
        await repo.add_message(
            message(uid=2, source_key="7:2", message_id="b@x", findings=[], processing_ms=40.0), NOW
        )
        await repo.add_message(message(uid=3, source_key="7:3", message_id="c@x", processing_ms=None), NOW)
    ids = await queue_replies(store, 4, suppressed=1)
    queue = OutboxQueue(store)
    await queue.claim(NOW)
    await queue.sending(ids[1])
    await queue.sent(ids[1], NOW)
    await queue.failed(ids[2], "refused", 3)
    await queue.sending(ids[3])
    await OutboxQueue(store).interrupted()
    async with store.reading() as repo:
        totals = await read_counters(repo.session)
    assert {k: v for k, v in totals.items() if k.startswith(counter_names.MESSAGES)} == {
        "messages:rejected": 1,
        "messages:accepted": 3,  # the three above but one, and the one queue_replies filed
    }
    assert totals["findings:identifier"] == 1
    assert totals["findings:clock-skew"] == 2  # the third message carries the default one
    assert totals["latency:0"] == 1  # 3 ms: within 5 ms
    assert totals["latency:3"] == 1  # 40 ms: within 50 ms
    assert totals["latency:count"] == 2
    assert totals["latency:sum_us"] == 43_000
    assert {k: v for k, v in totals.items() if k.startswith(counter_names.REPLIES)} == {
        "replies:suppressed": 1,
        "replies:sent": 1,
        "replies:failed": 1,
        "replies:unknown": 1,
    }
