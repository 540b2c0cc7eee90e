"""Commissions in the store, on SQLite and PostgreSQL: what it records, what it refuses and why."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import insert

from mailgate.clock import FrozenClock
from mailgate.errors import MailgateError
from mailgate.store import Store
from mailgate.store.models import Commission
from mailgate.store.registry import (
    DuplicateCommissionError,
    InvalidCommissionError,
    add_commission,
    commissions,
)

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
UTC8 = dt.timezone(dt.timedelta(hours=8))
DEADLINE = dt.datetime(2026, 12, 20, 23, 59, 59, tzinfo=UTC8)


async def test_a_commission_is_dated_by_the_clock_and_its_code_taken_once(store: Store) -> None:
    clock = FrozenClock(NOW)
    await add_commission(store, "GZ2026-12", "年终总结", DEADLINE, clock=clock)
    clock.advance(dt.timedelta(days=1))
    with pytest.raises(DuplicateCommissionError) as refused:
        await add_commission(store, "GZ2026-12", "另一个", DEADLINE, clock=clock)
    assert refused.value.field == "code"
    assert not isinstance(refused.value, MailgateError)  # bad input, not the store failing
    [only] = await commissions(store)
    assert (only.code, only.topic, only.deadline, only.created_at) == ("GZ2026-12", "年终总结", DEADLINE, NOW)


@pytest.mark.parametrize(
    ("code", "topic", "deadline", "part"),
    [
        ("A1", "t", dt.datetime(1, 1, 1, 0, 0, tzinfo=UTC8), "deadline"),  # before year 1 in UTC
        (
            "A1",
            "t",
            dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(-dt.timedelta(hours=12))),
            "deadline",
        ),
        (
            "A1",
            "t",
            dt.datetime(9999, 12, 31, 12, 0, tzinfo=dt.UTC),
            "deadline",
        ),  # shown at +14:00: year 10000
        ("A1", "t", dt.datetime(1969, 12, 31, 23, 59, tzinfo=dt.UTC), "deadline"),
        ("A1", "t", dt.datetime(2026, 12, 1), "deadline"),  # no zone
        ("A1", "年终\x00总结", DEADLINE, "topic"),  # SQLite would keep it, PostgreSQL would not
        ("A1", "\ud800", DEADLINE, "topic"),  # a lone surrogate no driver can encode
        ("A\x001", "t", DEADLINE, "code"),
        ("A\n1", "t", DEADLINE, "code"),
        ("A" * 65, "t", DEADLINE, "code"),
        ("  ", "t", DEADLINE, "code"),
        ("A1", "", DEADLINE, "topic"),
    ],
)
async def test_what_a_database_cannot_hold_is_refused_naming_the_part(
    store: Store, code: str, topic: str, deadline: dt.datetime, part: str
) -> None:
    with pytest.raises(InvalidCommissionError) as refused:
        await add_commission(store, code, topic, deadline, clock=FrozenClock(NOW))
    assert refused.value.field == part
    assert part in str(refused.value)
    assert await commissions(store) == []


async def test_the_first_and_last_deadlines_allowed_come_back_as_they_went_in(store: Store) -> None:
    first = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    last = dt.datetime(9998, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    clock = FrozenClock(NOW)
    await add_commission(store, "FIRST", "最早", first, clock=clock)
    await add_commission(store, "LAST", "最晚", last, clock=clock)
    assert [(c.code, c.deadline) for c in await commissions(store)] == [("FIRST", first), ("LAST", last)]
    for zone in (dt.timezone(dt.timedelta(hours=14)), dt.timezone(-dt.timedelta(hours=12))):
        assert last.astimezone(zone).year in (9998, 9999)
        assert first.astimezone(zone).year in (1969, 1970)


async def test_commissions_are_read_beside_a_writer_and_only_once_committed(store: Store) -> None:
    await add_commission(store, "OLD", "已有", DEADLINE, clock=FrozenClock(NOW))
    async with store.transaction() as repo:
        await repo.session.execute(  # the writer's own row, not yet committed
            insert(Commission).values(code="NEW", topic="新", deadline=DEADLINE, created_at=NOW)
        )
        seen = await asyncio.wait_for(commissions(store), 5)  # on SQLite this once waited for the writer
        assert [c.code for c in seen] == ["OLD"]
    assert [c.code for c in await commissions(store)] == ["OLD", "NEW"]
