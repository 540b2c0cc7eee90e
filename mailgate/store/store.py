"""The store: an async engine and session factory per database, and the queries the pipeline needs."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, overload

from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from mailgate.errors import ConfigurationError, StoreError
from mailgate.store import counters
from mailgate.store._errors import from_database, translate
from mailgate.store._search import FTS_UPSERT, INDEX_DDL, terms
from mailgate.store.models import Base, Commission, Item, Message, Outbox, Revision


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as the pipeline needs to see it: enough to link a revision and to answer the sender."""

    id: int
    tracking: str
    title: str
    unit_id: str
    revision: int


@dataclass(frozen=True, slots=True)
class NewRevision:
    """The facts of an accepted message that become an item revision."""

    unit_id: str
    title: str
    title_key: str
    inbox: str
    urgent: bool
    commission_code: str | None
    body: str
    source: str | None
    attachment_name: str | None
    attachment_text: str | None
    body_zi: int
    attachment_zi: int | None
    counting: str
    officer: str | None
    author: str | None
    author_unit: str | None
    phone: str | None
    signed_on: dt.date | None


@dataclass(frozen=True, slots=True)
class PastVerdict:
    """A message already on file: its row and its verdict."""

    message_pk: int
    verdict: str


@dataclass(frozen=True, slots=True)
class NewReply:
    """A rendered reply to queue (or to keep as suppressed, with the reason)."""

    kind: str
    sender: str
    recipient: str
    reply_message_id: str
    raw: bytes
    item_id: int | None
    suppressed: str | None = None
    #: The recipient as rate limits count it (one mailbox, one key), and ``officer`` or ``stranger``.
    recipient_key: str | None = None
    audience: str | None = None
    #: When to send it: now unless a ceiling makes it wait.
    due_at: dt.datetime | None = None
    #: Why it can never be sent (with ``suppressed="undeliverable"``).
    error: str | None = None


@dataclass(frozen=True, slots=True)
class NewMessage:
    """The facts of one processed message and its verdict."""

    mailbox: str
    uidvalidity: int | None
    uid: int | None
    source_key: str | None
    message_id: str | None
    content_hash: str
    size: int
    from_address: str | None
    subject: str
    unit_id: str | None
    received_at: dt.datetime
    verdict: str
    findings: list[dict[str, Any]]
    raw: bytes | None
    processing_ms: float | None = None


_READ_ONLY = "mailgate_read_only"
#: SQLite's busy handler sleeps in a thread that nothing can interrupt: each wait for the write lock
#: is kept short (so a stopping daemon is never stuck in one for long) and repeated up to ``_BUSY_FOR``.
_BUSY_TIMEOUT_MS = 1000
_BUSY_FOR = 30.0
#: Longest wait for a PostgreSQL connection, and for one statement.
_PG_CONNECT_TIMEOUT = 10.0
_PG_COMMAND_TIMEOUT = 120.0
#: Longest wait for the connections to close.
CLOSE_TIMEOUT = 5.0


class Store:
    """One database: SQLite (embedded default) or PostgreSQL, through SQLAlchemy's async engine.

    Every failure of the database or its driver leaves the store as a ``StoreError`` (an outage: retry
    later) or a ``StoreDataError`` (the data was refused), never as the driver's own exception."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        kwargs: dict[str, Any] = {"echo": echo}
        if url.startswith("sqlite") and (":memory:" in url or url.rstrip("/").endswith("sqlite+aiosqlite:")):
            kwargs["poolclass"] = StaticPool
        self.url = url
        try:
            parsed = make_url(url)
            if parsed.get_backend_name() == "postgresql":
                # A connection broken by an outage is noticed at checkout, not by the work given to it.
                kwargs["pool_pre_ping"] = True
                if parsed.get_driver_name() == "asyncpg":
                    kwargs["connect_args"] = {
                        "timeout": _PG_CONNECT_TIMEOUT,
                        "command_timeout": _PG_COMMAND_TIMEOUT,
                    }
            self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            raise ConfigurationError(f"store.url is not a database URL mailgate can use ({reason})") from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_connect)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time: within this process, queue for it here rather than in
        # SQLite's busy handler, which sleeps in steps of up to 100 ms.
        self._writer = asyncio.Lock() if self.engine.dialect.name == "sqlite" else None

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return str(self.engine.dialect.name)

    async def create_schema(self) -> None:
        """Create every table directly (temporary stores; real ones are migrated with Alembic)."""
        with translated():
            async with self.engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
                for statement in INDEX_DDL.get(self.engine.dialect.name, ()):
                    await conn.execute(text(statement))

    async def close(self, timeout: float = CLOSE_TIMEOUT) -> None:  # noqa: ASYNC109
        """Close every connection (giving up on the ones that do not close within ``timeout``)."""
        with translated():
            async with asyncio.timeout(timeout):
                await self.engine.dispose()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Repository]:
        """A repository for reading only: a consistent snapshot that never waits for the writer.

        The caller's own exceptions inside the block pass through as they are (see :meth:`transaction`)."""
        # Closing the session ends the transaction without expiring what was loaded.
        session = self._sessions()
        try:
            with translated():
                await session.connection(execution_options={_READ_ONLY: True})
            with translated(body=True):
                yield Repository(session)
        finally:
            with contextlib.suppress(Exception):
                await session.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repository]:
        """A repository whose work commits together, or not at all.

        Connecting, beginning and committing translate any failure (an OSError among them); inside the
        block only what the database layer raised is translated, so that an exception of the caller's
        own work (a template file it cannot read) stays what it is, and is not taken for an outage."""
        async with self._writer if self._writer is not None else contextlib.nullcontext():
            with translated():
                session = await self._begun()
            try:
                with translated(body=True):
                    yield Repository(session)
                with translated():
                    await session.commit()
            except BaseException:
                # What went wrong is the news, not a rollback failing on a connection already lost.
                with contextlib.suppress(Exception):
                    await session.rollback()
                raise
            finally:
                with contextlib.suppress(Exception):
                    await session.close()

    async def _begun(self) -> AsyncSession:
        """A session whose transaction has begun: on SQLite, holding the write lock (waiting for it
        in short steps, so that the wait can be cancelled between them)."""
        waited = time.monotonic() + _BUSY_FOR
        while True:
            session = self._sessions()
            try:
                await session.connection()
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    await session.close()
                if (
                    self._writer is None
                    or not isinstance(exc, OperationalError)
                    or not _busy(exc)
                    or time.monotonic() > waited
                ):
                    raise
                continue
            return session


@contextlib.contextmanager
def translated(*, body: bool = False) -> Iterator[None]:
    """Turn a database failure raised inside into ``StoreError`` or ``StoreDataError`` (see
    :func:`mailgate.store._errors.translate`); anything else passes through as it is.

    With ``body`` (around the caller's code in a transaction), only what the database layer raised
    is a database failure (:func:`mailgate.store._errors.from_database`)."""
    try:
        yield
    except Exception as exc:
        error = translate(exc) if not body or from_database(exc) else None
        if error is None:
            raise
        # Not chained: the driver's exception quotes the SQL and its parameters.
        raise error from None


def _busy(exc: OperationalError) -> bool:
    return "database is locked" in str(exc.orig) or "database is busy" in str(exc.orig)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is switched off so that _sqlite_begin decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Take the write lock up front: a deferred transaction that reads, then writes, fails at once
    # with "database is locked" when another writer got in between; an immediate one waits.
    # Read-only work (Store.reading) begins deferred and runs beside the writer (WAL).
    read_only = connection.get_execution_options().get(_READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Repository:
    """The few queries the pipeline makes, inside one transaction."""

    def __init__(self, session: AsyncSession, *, hiding: int | None = None) -> None:
        self.session = session
        #: A message whose own row and the items it filed are hidden from the history queries.
        self.hiding = hiding

    def as_if_new(self, message_pk: int) -> Repository:
        """The store as message ``message_pk`` would see it had it never been processed: neither a
        duplicate of itself nor a revision of the item it filed (a replay re-runs it so)."""
        return Repository(self.session, hiding=message_pk)

    def _own_items(self) -> Any:
        """The items the hidden message filed (as their first revision)."""
        return select(Revision.item_id).where(Revision.message_pk == self.hiding, Revision.number == 1)

    async def seen(
        self, message_id: str | None, content_hash: str
    ) -> Literal["message-id", "content-hash"] | None:
        """Whether this message was processed before, and by which key it is recognised."""
        condition = Message.content_hash == content_hash
        if message_id:
            condition = condition | (Message.message_id == message_id)
        query = select(Message.message_id).where(condition)
        if self.hiding is not None:
            query = query.where(Message.id != self.hiding)
        rows = (await self.session.execute(query.limit(2))).all()
        if not rows:
            return None
        return "message-id" if message_id and any(row[0] == message_id for row in rows) else "content-hash"

    async def past_verdict(
        self, mailbox: str, source_key: str | None, content_hash: str | None = None
    ) -> PastVerdict | None:
        """The verdict already on file for this message of ``mailbox``: by its source key, or (when
        ``content_hash`` is given) by identical bytes, as after a UIDVALIDITY change."""
        condition = Message.source_key == source_key if source_key else None
        if content_hash is not None:
            by_hash = Message.content_hash == content_hash
            condition = by_hash if condition is None else (condition | by_hash)
        if condition is None:
            return None
        row = (
            await self.session.execute(
                select(Message.id, Message.verdict)
                .where(Message.mailbox == mailbox, condition)
                .order_by(Message.id)
                .limit(1)
            )
        ).first()
        return None if row is None else PastVerdict(row[0], row[1])

    async def item_by_reply(self, reply_message_id: str) -> StoredItem | None:
        """The item whose receipt had Message-ID ``reply_message_id``."""
        query = select(Outbox.item_id).where(
            Outbox.reply_message_id == reply_message_id, Outbox.item_id.is_not(None)
        )
        if self.hiding is not None:
            query = query.where(Outbox.item_id.not_in(self._own_items()))
        item_id = await self.session.scalar(query.limit(1))
        item = await self.session.get(Item, item_id) if item_id is not None else None
        return None if item is None else await self._stored(item)

    async def replies_since(self, recipient_key: str, since: dt.datetime, audience: str, kind: str) -> int:
        """How many replies of ``kind`` to ``audience`` went (or are going) to the mailbox
        ``recipient_key`` since ``since``; held-back replies do not count."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(Outbox)
            .where(
                Outbox.recipient_key == recipient_key,
                Outbox.created_at >= since,
                Outbox.audience == audience,
                Outbox.kind == kind,
                Outbox.status != "suppressed",
            )
        )
        return int(count or 0)

    async def latest_due(self, audience: str, since: dt.datetime, limit: int) -> list[dt.datetime]:
        """When the latest ``limit`` replies to ``audience`` due at ``since`` or later are (or were)
        due, latest first; held-back replies do not count."""
        rows = await self.session.scalars(
            select(Outbox.next_attempt_at)
            .where(
                Outbox.audience == audience,
                Outbox.next_attempt_at >= since,
                Outbox.status != "suppressed",
            )
            .order_by(Outbox.next_attempt_at.desc())
            .limit(limit)
        )
        return list(rows)

    async def add_reply(self, reply: NewReply, *, message_pk: int, now: dt.datetime) -> int:
        row = Outbox(
            message_pk=message_pk,
            item_id=reply.item_id,
            kind=reply.kind,
            sender=reply.sender,
            recipient=_fit(reply.recipient, Outbox.recipient),
            reply_message_id=_fit(reply.reply_message_id, Outbox.reply_message_id),
            raw=reply.raw,
            status="suppressed" if reply.suppressed else "pending",
            reason=reply.suppressed,
            recipient_key=_fit(reply.recipient_key, Outbox.recipient_key),
            audience=reply.audience,
            last_error=reply.error,
            attempts=0,
            next_attempt_at=reply.due_at or now,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        if row.status == "suppressed":
            await counters.add(self.session, {counters.REPLIES + "suppressed": 1})
        return row.id

    async def commission(self, code: str) -> Commission | None:
        return await self.session.get(Commission, code)

    async def item_by_title(self, unit_id: str, title_key: str) -> StoredItem | None:
        """The newest item of ``unit_id`` whose folded title is ``title_key``."""
        query = select(Item).where(Item.unit_id == unit_id, Item.title_key == title_key)
        if self.hiding is not None:
            query = query.where(Item.id.not_in(self._own_items()))
        item = await self.session.scalar(query.order_by(Item.id.desc()).limit(1))
        return None if item is None else await self._stored(item)

    async def item_by_tracking(self, tracking: str) -> StoredItem | None:
        item = await self.session.scalar(select(Item).where(Item.tracking == tracking))
        return None if item is None else await self._stored(item)

    async def _stored(self, item: Item) -> StoredItem:
        count = await self.session.scalar(select(func.count()).where(Revision.item_id == item.id))
        return StoredItem(item.id, item.tracking, item.title, item.unit_id, int(count or 0))

    async def add_message(self, message: NewMessage, now: dt.datetime) -> int:
        row = Message(
            mailbox=_fit(message.mailbox, Message.mailbox),
            uidvalidity=message.uidvalidity,
            uid=message.uid,
            source_key=_fit(message.source_key, Message.source_key),
            message_id=_fit(message.message_id, Message.message_id),
            content_hash=message.content_hash,
            size=message.size,
            from_address=_fit(message.from_address, Message.from_address),
            subject=message.subject,
            unit_id=_fit(message.unit_id, Message.unit_id),
            received_at=message.received_at,
            processed_at=now,
            verdict=message.verdict,
            findings=message.findings,
            raw=message.raw,
            processing_ms=message.processing_ms,
        )
        self.session.add(row)
        await self.session.flush()
        await counters.add(
            self.session, counters.for_message(message.verdict, message.findings, message.processing_ms)
        )
        return row.id

    async def add_revision(
        self,
        revision: NewRevision,
        *,
        message_pk: int,
        revises: StoredItem | None,
        now: dt.datetime,
        zone: dt.tzinfo,
        late: bool = False,
    ) -> StoredItem:
        """File an accepted message: a new item, or the next revision of ``revises``. A new item's
        tracking number carries the filing date in ``zone`` (the units' time zone)."""
        if revises is None:
            item = Item(
                tracking="",
                unit_id=_fit(revision.unit_id, Item.unit_id),
                title=revision.title,
                title_key=_fit(revision.title_key, Item.title_key),
                inbox=revision.inbox,
                urgent=revision.urgent,
                commission_code=_fit(revision.commission_code, Item.commission_code),
                late=late,
                created_at=now,
                updated_at=now,
            )
            self.session.add(item)
            await self.session.flush()
            item.tracking = tracking_number(item.id, now.astimezone(zone))
            number = 1
        else:
            loaded = await self.session.get(Item, revises.id)
            if loaded is None:
                raise StoreError(f"item {revises.id} vanished")
            item = loaded
            item.title = revision.title
            item.title_key = _fit(revision.title_key, Item.title_key)
            item.urgent = item.urgent or revision.urgent
            item.updated_at = now
            number = revises.revision + 1
        self.session.add(
            Revision(
                item_id=item.id,
                number=number,
                message_pk=message_pk,
                title=revision.title,
                body=revision.body,
                source=revision.source,
                attachment_name=revision.attachment_name,
                attachment_text=revision.attachment_text,
                body_zi=revision.body_zi,
                attachment_zi=revision.attachment_zi,
                counting=revision.counting,
                officer=_fit(revision.officer, Revision.officer),
                author=_fit(revision.author, Revision.author),
                author_unit=revision.author_unit,
                phone=_fit(revision.phone, Revision.phone),
                signed_on=revision.signed_on,
                created_at=now,
            )
        )
        item.search_text = terms(f"{revision.title}\n{revision.body}\n{revision.attachment_text or ''}")
        await self.session.flush()
        if self.session.get_bind().dialect.name == "sqlite":
            await self.session.execute(FTS_UPSERT, {"id": item.id, "search_text": item.search_text})
        return StoredItem(item.id, item.tracking, item.title, item.unit_id, number)


def tracking_number(item_id: int, when: dt.datetime) -> str:
    """The number units quote: the filing date (as ``when`` reads it: pass it in the units' zone) and
    the item's serial, e.g. ``20261126-000042``."""
    return f"{when:%Y%m%d}-{item_id:06d}"


@overload
def _fit(value: str, column: Any) -> str: ...
@overload
def _fit(value: None, column: Any) -> None: ...
@overload
def _fit(value: str | None, column: Any) -> str | None: ...
def _fit(value: str | None, column: Any) -> str | None:
    """``value`` cut to ``column``'s length: what a message carries never fails a length check."""
    length = getattr(column.type, "length", None)
    if value is None or length is None or len(value) <= length:
        return value
    return value[:length]
