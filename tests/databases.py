"""Where the tests find PostgreSQL: the loopback server unless MAILGATE_TEST_PG says otherwise."""

from __future__ import annotations

import asyncio
import os

import asyncpg

PG_DSN = os.environ.get("MAILGATE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")

#: The server's view of mailgate's instance lock: ``objid`` is the low half of its advisory key.
_ADVISORY = "SELECT {} FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted = $2"


def _low(key: int) -> int:
    return key & 0xFFFFFFFF


async def until_lock_waited_for(key: int) -> None:
    """Return once some session waits for the advisory lock ``key`` (at most 10 s)."""
    admin = await asyncpg.connect(PG_DSN)
    try:
        async with asyncio.timeout(10):
            while not await admin.fetchval(_ADVISORY.format("count(*)"), _low(key), False):  # noqa: ASYNC110
                await asyncio.sleep(0.01)  # the server's lock table: nothing to await
    finally:
        await admin.close()


async def end_the_lock_session(key: int) -> int:
    """End the session holding the advisory lock ``key``; how many sessions were ended."""
    admin = await asyncpg.connect(PG_DSN)
    try:
        return int(
            await admin.fetchval(_ADVISORY.format("count(pg_terminate_backend(pid))"), _low(key), True)
        )
    finally:
        await admin.close()
