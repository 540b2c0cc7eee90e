"""The instance lock on SQLite (a file lock) and PostgreSQL (an advisory lock): one `mailgate run` a store."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import structlog
from databases import end_the_lock_session, until_lock_waited_for

from mailgate.errors import InstanceLockedError
from mailgate.store import Store
from mailgate.store import lock as lock_module
from mailgate.store.lock import AdvisoryLock, FileLock, InstanceLock, instance_lock


@pytest.fixture
async def two_stores(database_url: str) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores (as two processes would have) on one database."""
    first, second = Store(database_url), Store(database_url)
    await first.create_schema()
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_a_second_instance_is_refused_until_the_first_lets_go(two_stores: tuple[Store, Store]) -> None:
    first, second = (instance_lock(store) for store in two_stores)
    assert isinstance(first, FileLock | AdvisoryLock)
    await first.acquire()
    try:
        assert first.held
        with pytest.raises(InstanceLockedError, match=rf"another mailgate run \(pid {os.getpid()} on "):
            await second.acquire()
        assert not second.held
    finally:
        await first.release()
    await second.acquire()  # free now
    assert second.held
    await second.release()


async def test_the_lock_goes_with_the_process_that_held_it(database_url: str) -> None:
    """A `mailgate run` killed with SIGKILL leaves no lock behind: the kernel or the server drops it."""
    holder = textwrap.dedent(
        f"""
        import asyncio, sys
        from mailgate.store import Store
        from mailgate.store.lock import instance_lock

        async def main():
            lock = instance_lock(Store({database_url!r}))
            await lock.acquire()
            print("held", flush=True)
            await asyncio.sleep(60)

        asyncio.run(main())
        """
    )
    store = Store(database_url)
    await store.create_schema()
    child = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE)  # noqa: ASYNC220
    try:
        assert child.stdout is not None
        assert await asyncio.to_thread(child.stdout.readline) == b"held\n"
        lock = instance_lock(store)
        with pytest.raises(InstanceLockedError, match=rf"\(pid {child.pid} on "):
            await lock.acquire()
        child.kill()
        await asyncio.to_thread(child.wait)
        await _acquired_soon(lock)  # PostgreSQL notices the dead session within moments
        await lock.release()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        await store.close()


async def _acquired_soon(lock: InstanceLock) -> None:
    async with asyncio.timeout(10):
        while True:
            try:
                await lock.acquire()
                return
            except InstanceLockedError:
                await asyncio.sleep(0.05)  # a server-side clean-up: there is no event to await


def test_the_sqlite_lock_is_a_file_beside_the_database(tmp_path: Path) -> None:
    lock = instance_lock(Store(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'mailgate.db'}"))
    assert isinstance(lock, FileLock)
    assert lock.path == tmp_path / "var" / "mailgate.db.lock"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_lost_advisory_lock_pauses_until_it_is_held_again(
    two_stores: tuple[Store, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock's session ends (a restart, a network cut): ``held`` goes false, and comes back only
    once no one else holds the lock. (SQLite's file lock cannot be lost.)"""
    monkeypatch.setattr(lock_module, "CHECK_EVERY", 0.05)
    monkeypatch.setattr(lock_module, "RETRY_MIN", 0.05)
    monkeypatch.setattr(lock_module, "RETRY_MAX", 0.1)
    mine = instance_lock(two_stores[0])
    await mine.acquire()
    keeper = asyncio.create_task(mine.keep())
    other = await asyncpg.connect(two_stores[1].url.replace("+asyncpg", ""))
    try:
        with structlog.testing.capture_logs() as logs:
            # Another session queues for the lock, so that it gets it the moment mine's session ends.
            waiting = asyncio.create_task(
                other.execute("SELECT pg_advisory_lock($1)", lock_module.ADVISORY_KEY)
            )
            await until_lock_waited_for(lock_module.ADVISORY_KEY)
            assert await end_the_lock_session(lock_module.ADVISORY_KEY) == 1
            async with asyncio.timeout(10):
                await mine.wait_lost()
                await waiting
            assert not mine.held
            await asyncio.sleep(0.5)  # several attempts of ``keep`` to take it back, all refused
            assert not mine.held
            await other.execute("SELECT pg_advisory_unlock($1)", lock_module.ADVISORY_KEY)
            async with asyncio.timeout(10):
                await mine.wait_held()
        events = [entry["event"] for entry in logs]
        assert events.count("instance_lock_lost") == 1
        assert events.count("instance_lock_regained") == 1
        assert not await other.fetchval("SELECT pg_try_advisory_lock($1)", lock_module.ADVISORY_KEY)
    finally:
        await other.close()
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
        await mine.release()
