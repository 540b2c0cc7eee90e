"""The read-only helpers on SQLite and PostgreSQL: a snapshot of what is committed, beside the writer."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import update

from mailgate.clock import FrozenClock
from mailgate.sources.base import Checkpoint
from mailgate.store import Store
from mailgate.store.models import CheckpointRow, Commission, Failure
from mailgate.store.registry import add_commission, commissions
from mailgate.store.state import Failures, StoreCheckpoints

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
#: Long enough for a busy machine, far shorter than the writer would hold its lock.
PROMPTLY = 10.0


async def test_checkpoints_failures_and_commissions_are_read_while_the_writer_works(store: Store) -> None:
    clock = FrozenClock(NOW)
    checkpoints, failures = StoreCheckpoints(store, clock), Failures(store, max_attempts=2, clock=clock)
    await checkpoints.save("daily", Checkpoint(7, 41))
    for _ in range(2):
        await failures.record("daily", "7:9", "boom", raw=b"raw")
    await add_commission(store, "GZ1", "年终", NOW + dt.timedelta(days=9), clock=clock)

    async with store.transaction() as repo:  # the writer changes all of it, not yet committed
        await repo.session.execute(update(CheckpointRow).values(last_uid=99))
        await repo.session.execute(update(Failure).values(released_at=NOW))
        later = NOW + dt.timedelta(days=10)
        repo.session.add(Commission(code="GZ2", topic="新", deadline=later, created_at=NOW))
        await repo.session.flush()
        read = asyncio.gather(
            checkpoints.load("daily"),
            failures.known("daily"),
            failures.quarantined_count(),
            commissions(store),
        )
        loaded, known, quarantined, listed = await asyncio.wait_for(read, PROMPTLY)
        assert loaded == Checkpoint(7, 41)
        assert {k: (v.attempts, v.quarantined) for k, v in known.items()} == {"7:9": (2, True)}
        assert quarantined == 1
        assert [c.code for c in listed] == ["GZ1"]

    # Once committed, the readers see it.
    assert await checkpoints.load("daily") == Checkpoint(7, 99)
    assert not (await failures.known("daily"))["7:9"].quarantined
    assert await failures.quarantined_count() == 0
    assert [c.code for c in await commissions(store)] == ["GZ1", "GZ2"]
    assert await checkpoints.load("weekly") is None
    assert await failures.known("weekly") == {}
