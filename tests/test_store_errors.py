"""Database failures leave the store as StoreError (outage) or StoreDataError (the data), on both backends."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import pytest
from sqlalchemy import select, text
from tcpproxy import TcpProxy
from test_store import NOW, message

from mailgate.errors import MailgateError, StoreDataError, StoreError
from mailgate.store import Store
from mailgate.store import store as store_module
from mailgate.store.models import Heartbeat, Message
from mailgate.store.state import Heartbeats
from mailgate.store.store import Repository

#: Words that would mean SQL, or the values bound to it, made it into an error message.
SQL_WORDS = ("SELECT", "INSERT", "UPDATE", "parameters", "[SQL", "Background on this error")


def assert_clean(error: MailgateError, *, without: str = "") -> None:
    """The error says what happened in a line: no SQL, no parameters, nothing chained to print."""
    said = str(error)
    assert "\n" not in said, said
    assert len(said) < 300, said
    assert not any(word in said for word in SQL_WORDS), said
    assert without == "" or without not in said, said
    assert error.__cause__ is None, "the driver's exception would be printed"
    assert error.__suppress_context__, "the driver's exception would be printed"


@dataclass
class Outage:
    """A store whose database can be made unavailable and brought back."""

    store: Store
    cut: Callable[[], None]
    restore: Callable[[], None]


@pytest.fixture
async def outage(database_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Outage]:
    """PostgreSQL behind a loopback proxy that refuses connections; SQLite with its write lock held by
    another process's connection for longer than the store waits (cut to half a second here)."""
    if database_url.startswith("sqlite"):
        monkeypatch.setattr(store_module, "_BUSY_FOR", 0.5)
        store = Store(database_url)
        await store.create_schema()
        other = sqlite3.connect(database_url.split(":///", 1)[1], isolation_level=None)
        try:
            yield Outage(store, lambda: other.execute("BEGIN IMMEDIATE"), lambda: other.execute("ROLLBACK"))
        finally:
            other.close()
            await store.close()
        return
    with TcpProxy("127.0.0.1", 5432) as proxy:
        store = Store(proxy.url(database_url))
        await store.create_schema()
        try:
            yield Outage(store, proxy.refuse, proxy.forward)
        finally:
            proxy.forward()
            await store.close()


async def test_an_outage_is_a_store_error_and_the_store_works_again_after_it(outage: Outage) -> None:
    store = outage.store
    await Heartbeats(store).beat("outbox", pending=0)
    outage.cut()
    with pytest.raises(StoreError) as raised:
        await Heartbeats(store).beat("outbox", pending=1)
    assert not isinstance(raised.value, StoreDataError)
    assert_clean(raised.value)
    assert str(raised.value).startswith("database unavailable: ")
    outage.restore()
    await Heartbeats(store).beat("outbox", pending=2)
    async with store.reading() as repo:
        beat = await repo.session.get(Heartbeat, "outbox")
        assert beat is not None
        assert beat.state == {"pending": 2}


async def test_an_unreachable_postgresql_is_a_store_error_everywhere(database_url: str) -> None:
    """Connecting fails with the driver's own OSError: it must not escape reading, writing, creating
    the schema or closing. (SQLite: a database in a directory that does not exist.)"""
    with TcpProxy("127.0.0.1", 5432) as proxy:
        proxy.refuse()
        url = (
            proxy.url(database_url)
            if "postgresql" in database_url
            else "sqlite+aiosqlite:////nonexistent/x.db"
        )
        store = Store(url)
        try:
            for attempt in (store.create_schema(), _read(store), _write(store)):
                with pytest.raises(StoreError) as raised:
                    await attempt
                assert_clean(raised.value)
                assert not isinstance(raised.value, StoreDataError)
        finally:
            await store.close()


async def _read(store: Store) -> None:
    async with store.reading() as repo:
        await repo.session.execute(select(Message.id))


async def _write(store: Store) -> None:
    async with store.transaction() as repo:
        await repo.add_message(message(), NOW)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_postgresql_connections_dropped_under_the_store_are_replaced(database_url: str) -> None:
    """Every pooled connection cut at once (the server restarted): the next work gets a new one.
    (PostgreSQL only: SQLite has no connection to lose.)"""
    with TcpProxy("127.0.0.1", 5432) as proxy:
        store = Store(proxy.url(database_url))
        try:
            await store.create_schema()
            await asyncio.gather(*(_write_one(store, n) for n in range(4)))  # several pooled connections
            before = proxy.accepted
            proxy.drop()
            await _write_one(store, 10)
            async with store.reading() as repo:
                count = len((await repo.session.execute(select(Message.id))).all())
            assert count == 5
            assert proxy.accepted > before  # a fresh connection, not an error
        finally:
            await store.close()


async def _write_one(store: Store, n: int) -> None:
    async with store.transaction() as repo:
        await repo.add_message(
            message(uid=n, source_key=f"7:{n}", message_id=f"{n}@x", content_hash=f"{n:064d}"), NOW
        )


@pytest.mark.parametrize(
    ("column", "value", "refused_by"),
    [
        ("subject", "【天河区】a lone surrogate \udc80 from raw header bytes", {"sqlite", "postgresql"}),
        ("from_address", "surrogate\udcff@th.gz.gov.cn", {"sqlite", "postgresql"}),
        ("subject", "a NUL \x00 in the middle", {"postgresql"}),
        ("content_hash", "x" * 200, {"postgresql"}),  # longer than the column (the store cuts only
        # what a message carries)
        ("size", 2**40, {"postgresql"}),  # more than the column takes
    ],
)
async def test_a_value_the_database_refuses_is_a_data_error_not_an_outage(
    store: Store, column: str, value: object, refused_by: set[str]
) -> None:
    refused: StoreDataError | None = None
    try:
        async with store.transaction() as repo:
            await repo.add_message(message(**{column: value}), NOW)
    except StoreDataError as exc:
        refused = exc
    assert (refused is not None) == (store.dialect in refused_by)  # SQLite keeps NUL, long strings, big ints
    if refused is not None:
        assert not isinstance(refused, StoreError)
        assert_clean(refused, without=str(value)[:12])
        assert str(refused).startswith("the database refused the data: ")
    async with store.reading() as repo:  # and the store is fine for the next piece of work
        assert (await repo.session.execute(text("SELECT 1"))).scalar() == 1


async def test_a_duplicate_is_a_data_error_naming_the_constraint_not_the_values(store: Store) -> None:
    async with store.transaction() as repo:
        await repo.add_message(message(message_id="secret-id@x"), NOW)
    with pytest.raises(StoreDataError) as raised:
        async with store.transaction() as repo:
            await repo.add_message(message(message_id="secret-id@x", content_hash="9" * 64), NOW)
    assert_clean(raised.value, without="secret-id")
    assert "uq_messages" in str(raised.value) or "UNIQUE constraint failed: messages." in str(raised.value)


async def test_errors_of_the_work_itself_pass_through_unchanged(store: Store) -> None:
    async def work() -> None:
        async with store.transaction() as repo:
            await repo.add_message(message(), NOW)
            raise LookupError("not found")

    with pytest.raises(LookupError, match="not found"):
        await work()
    async with store.reading() as repo:  # rolled back
        assert (await repo.session.execute(select(Message.id))).all() == []


@pytest.mark.parametrize(
    "raised",
    [
        FileNotFoundError(2, "No such file or directory", "templates/receipt.txt"),
        ConnectionResetError("the caller's own socket"),
        TimeoutError(),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
    ],
    ids=["file", "socket", "timeout", "decode"],
)
async def test_an_os_error_of_the_callers_own_work_is_no_outage(store: Store, raised: Exception) -> None:
    """A template file the reply cannot read is the message's trouble: taken for an outage, the daemon
    would retry it for ever and the inbox would stall behind it."""

    async def write() -> None:
        async with store.transaction() as repo:
            await repo.add_message(message(), NOW)
            raise raised

    async def read() -> None:
        async with store.reading() as repo:
            await repo.session.execute(select(Message.id))
            raise raised

    for work in (write, read):
        with pytest.raises(type(raised)) as caught:
            await work()
        assert caught.value is raised
    async with store.reading() as repo:  # rolled back, and the store is fine
        assert (await repo.session.execute(select(Message.id))).all() == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_connection_dropped_inside_a_transaction_is_still_an_outage(database_url: str) -> None:
    with TcpProxy("127.0.0.1", 5432) as proxy:
        store = Store(proxy.url(database_url))
        try:
            await store.create_schema()
            for scope in (store.transaction, store.reading):
                with pytest.raises(StoreError) as raised:
                    await _across_a_drop(scope, proxy)
                assert not isinstance(raised.value, StoreDataError)
                assert_clean(raised.value)
            await _write_one(store, 1)  # and a new connection serves the next piece of work
        finally:
            await store.close()


async def _across_a_drop(
    scope: Callable[[], AbstractAsyncContextManager[Repository]], proxy: TcpProxy
) -> None:
    async with scope() as repo:
        await repo.session.execute(select(Message.id))
        proxy.drop()
        await repo.session.execute(select(Message.id))


def test_a_url_no_driver_can_use_is_a_configuration_error() -> None:
    from mailgate.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"store\.url"):
        Store("nosuchdb+nodriver://user:pw@host/db")
