"""The instance lock: one `mailgate run` per store: a file lock (SQLite), an advisory lock (PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import socket
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from mailgate.backoff import Backoff
from mailgate.errors import InstanceLockedError, StoreError
from mailgate.store.store import Store, translated

log = structlog.get_logger("mailgate.store.lock")

#: The advisory lock's key: "mailgate" in ASCII, as one 64-bit integer.
ADVISORY_KEY = int.from_bytes(b"mailgate", "big")
#: How often the lock's connection is checked, and how long a check may take.
CHECK_EVERY = 2.0
CHECK_TIMEOUT = 5.0
#: Waits between attempts to take a lost lock again.
RETRY_MIN, RETRY_MAX = 0.5, 10.0
#: Longest a release may take (a stopping daemon must not wait on a database that does not answer).
RELEASE_TIMEOUT = 1.0


class InstanceLock:
    """Held by the one `mailgate run` of a store; the daemon pauses while ``held`` is false.

    :meth:`acquire` takes it or raises ``InstanceLockedError`` (another instance has it) or
    ``StoreError``; :meth:`keep` watches it until cancelled, taking it again after a loss;
    :meth:`release` lets it go."""

    def __init__(self) -> None:
        self._held = asyncio.Event()
        self._lost = asyncio.Event()
        #: How many times the lock has been taken (the first time, then once after every loss).
        self.taken = 0

    @property
    def held(self) -> bool:
        return self._held.is_set()

    async def wait_held(self) -> None:
        """Return once the lock is held."""
        await self._held.wait()

    async def wait_lost(self) -> None:
        """Return once the lock, having been held, is lost."""
        await self._lost.wait()

    def _set_held(self, held: bool) -> None:
        if held:
            if not self._held.is_set():
                self.taken += 1
            self._lost.clear()
            self._held.set()
        else:
            self._held.clear()
            self._lost.set()

    async def acquire(self) -> None:
        await self._take()
        self._set_held(True)

    async def keep(self) -> None:
        """Run until cancelled: notice a loss (pausing whoever waits on ``held``) and take the lock back."""
        await asyncio.Event().wait()  # a lock that cannot be lost

    async def release(self) -> None:
        self._held.clear()
        await self._drop()

    async def _take(self) -> None:
        raise NotImplementedError

    async def _drop(self) -> None:
        raise NotImplementedError


class NoLock(InstanceLock):
    """For an in-memory database, which no other process can open."""

    async def _take(self) -> None:
        return None

    async def _drop(self) -> None:
        return None


class FileLock(InstanceLock):
    """``flock`` on ``<database file>.lock``: the kernel lets it go when the process ends, however."""

    def __init__(self, database: Path) -> None:
        super().__init__()
        self.database = database
        self.path = database.with_name(database.name + ".lock")
        self._fd: int | None = None

    async def _take(self) -> None:
        if self._fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot open the lock file {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_holder(fd)
            os.close(fd)
            raise InstanceLockedError(
                f"another mailgate run{holder} is using the store {self.database} (it holds {self.path})"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        self._fd = fd

    async def _drop(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing the last descriptor releases the flock


class AdvisoryLock(InstanceLock):
    """``pg_try_advisory_lock`` on a connection of its own, outside the pool: PostgreSQL lets it go
    when that session ends, so a lost connection is a lost lock."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._engine = create_async_engine(
            url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args=_application_name(url),
        )
        self._connection: AsyncConnection | None = None

    async def _take(self) -> None:
        if self._connection is not None:
            return
        with translated():
            async with asyncio.timeout(CHECK_TIMEOUT * 2):
                connection = await self._engine.connect()
        try:
            with translated():
                async with asyncio.timeout(CHECK_TIMEOUT):
                    taken = await connection.scalar(
                        text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
                    )
                    holder = "" if taken else await self._holder(connection)
        except BaseException:
            await _close(connection)
            raise
        if not taken:
            await _close(connection)
            raise InstanceLockedError(
                f"another mailgate run{holder} is using this database"
                f" (it holds the advisory lock {ADVISORY_KEY})"
            )
        self._connection = connection

    async def keep(self) -> None:
        backoff = Backoff(RETRY_MIN, RETRY_MAX)
        while True:
            if self._connection is not None:
                await asyncio.sleep(CHECK_EVERY)
                if await self._alive():
                    continue
                self._set_held(False)
                await _invalidate(self._connection)
                self._connection = None
                log.error("instance_lock_lost", store=_redacted(self.url))
            try:
                await self._take()
            except (StoreError, InstanceLockedError) as exc:
                await asyncio.sleep(next(backoff))
                log.debug("instance_lock_retrying", error=str(exc))
                continue
            backoff.reset()
            self._set_held(True)
            log.info("instance_lock_regained", store=_redacted(self.url))

    async def _alive(self) -> bool:
        """Whether the lock's session still answers (and so still holds the lock)."""
        assert self._connection is not None
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await self._connection.scalar(text("SELECT 1"))
        except (Exception, TimeoutError):
            return False
        return True

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        with contextlib.suppress(Exception):  # a session that does not answer ends its lock by itself
            async with asyncio.timeout(RELEASE_TIMEOUT):
                if connection is not None:
                    await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                    await connection.close()
                await self._engine.dispose()
        if connection is not None and not connection.closed:
            await _invalidate(connection)

    async def _holder(self, connection: AsyncConnection) -> str:
        """Who holds the lock, as its session named itself (`` (pid 12 on host)``), if that can be told."""
        name = await connection.scalar(
            text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :high AND l.objid = :low"
                " AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database"
                " WHERE datname = current_database()) LIMIT 1"
            ),
            {"high": ADVISORY_KEY >> 32, "low": ADVISORY_KEY & 0xFFFFFFFF},
        )
        prefix = "mailgate run "
        return f" {name[len(prefix) :]}" if isinstance(name, str) and name.startswith(prefix) else ""


def instance_lock(store: Store) -> InstanceLock:
    """The instance lock of ``store``'s database."""
    url = make_url(store.url)
    if store.dialect == "postgresql":
        return AdvisoryLock(store.url)
    database = url.database
    if store.dialect != "sqlite" or not database or database == ":memory:" or "mode=memory" in str(url):
        return NoLock()
    if database.startswith("file:"):  # the URI form
        database = database[len("file:") :].split("?", 1)[0]
    return FileLock(Path(database).resolve())


def _read_holder(fd: int) -> str:
    """`` (pid 12 on host)`` from a lock file's contents, or nothing."""
    try:
        words = os.pread(fd, 200, 0).decode(errors="replace").split()
    except OSError:
        return ""
    return f" (pid {words[0]} on {words[1]})" if len(words) >= 2 and words[0].isdigit() else ""


def _application_name(url: str) -> dict[str, Any]:
    if make_url(url).get_driver_name() != "asyncpg":
        return {}
    name = f"mailgate run (pid {os.getpid()} on {socket.gethostname()})"[:63]
    return {"server_settings": {"application_name": name}, "timeout": CHECK_TIMEOUT * 2}


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def _invalidate(connection: AsyncConnection) -> None:
    """Throw away a connection that stopped answering (no goodbye that could hang)."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(RELEASE_TIMEOUT):
            await connection.invalidate()


async def _close(connection: AsyncConnection) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CHECK_TIMEOUT):
            await connection.close()
