"""The IMAP source: one watched mailbox, read in bounded batches, filed by verdict, woken by IDLE."""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aioimaplib
import structlog

from mailgate.config import ImapAccount, ImapSettings
from mailgate.errors import SourceError
from mailgate.sources._imap_wire import (
    FetchItem,
    Lines,
    mailbox_name,
    parse_fetch,
    parse_search,
    parse_uidvalidity,
    response_text,
    uid_set,
)
from mailgate.sources.base import Checkpoint, Checkpoints, Disposition, Fetched
from rules import Inbox

log = structlog.get_logger("mailgate.sources.imap")

_T = TypeVar("_T")

#: The keyword put on quarantined messages; such messages are never fetched again.
QUARANTINE_KEYWORD = "$MailgateQuarantine"
_NOT_QUARANTINED = ("UNKEYWORD", QUARANTINE_KEYWORD)
_META = "(UID RFC822.SIZE INTERNALDATE)"
_WAKE = re.compile(rb"(?:\* )?(?:\d+ EXISTS|[1-9]\d* RECENT)")
#: UIDs named in one FETCH, STORE, MOVE or EXPUNGE. aioimaplib parses each response line in a nested
#: call, so a response of ~1,000 lines (a FETCH answers 3 per message, MOVE one EXPUNGE each) in one
#: read overflows the stack and the command hangs; 150 keeps the worst case near half that.
_MAX_UIDS_PER_COMMAND = 150
#: Longest wait for LOGOUT when closing: closing must be quick and never fail.
_LOGOUT_SECONDS = 2.0


class _LostError(Exception):
    """The connection closed while a command was waiting for its answer."""


@dataclass(frozen=True, slots=True)
class _Reply:
    result: str
    lines: Lines


@dataclass(eq=False)
class _Session:
    """One connection: the client, whether it is still usable, and what the server offered."""

    client: Any  # aioimaplib.IMAP4 (untyped)
    lost: asyncio.Event = field(default_factory=asyncio.Event)
    abandoned: bool = False
    capabilities: frozenset[str] = frozenset()
    uidvalidity: int = 0

    @property
    def usable(self) -> bool:
        return not self.abandoned and not self.lost.is_set()


class ImapSource:
    """Reads one inbox's IMAP mailbox; every failure is a ``SourceError`` and leaves the source to reconnect.

    ``connect`` opens a session (reusing a healthy one); ``waiting``, ``file`` and ``wait`` need one and
    raise ``SourceError`` when it was lost. Commands are bounded by ``settings.timeout_seconds`` (FETCH
    by that much silence, so large batches may take longer as long as data flows).
    """

    def __init__(
        self,
        inbox: Inbox,
        settings: ImapSettings,
        account: ImapAccount,
        checkpoints: Checkpoints,
        *,
        fetch_cap: int,
    ) -> None:
        self.inbox = inbox
        self.mailbox = inbox.value
        self._settings = settings
        self._account = account
        self._checkpoints = checkpoints
        self._fetch_cap = fetch_cap
        self._timeout = settings.timeout_seconds
        self._session: _Session | None = None
        self._checkpoint = Checkpoint(0, 0)
        #: Highest UID the last search of ``waiting`` found: anything above it arrived since.
        self._searched_up_to: int | None = None

    # -- connection -------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Log in, select the mailbox, create the filing folders, and check UIDVALIDITY; idempotent."""
        if self._session is not None and self._session.usable:
            return
        await self.close()
        settings = self._settings
        if settings.security == "starttls":
            raise SourceError(
                f"{self.mailbox}: security = 'starttls' is not supported by the IMAP client library "
                "(aioimaplib); use 'tls' (port 993), or 'none' only on a trusted network"
            )
        password = self._account.secret()
        if password is None:
            raise SourceError(
                f"{self.mailbox}: no password is configured for IMAP user {self._account.username}"
            )
        session = _Session(client=None)
        session.client = aioimaplib.IMAP4(  # connects in the background; errors come with the greeting
            settings.host,
            settings.effective_port,
            timeout=self._timeout,
            conn_lost_cb=lambda exc: self._on_lost(session, exc),
            ssl_context=ssl.create_default_context() if settings.security == "tls" else None,
        )
        try:
            await self._open(session, password)
        except BaseException:
            self._abandon(session, None)
            raise
        self._session = session
        self._searched_up_to = None
        log.info(
            "imap_connected",
            mailbox=self.mailbox,
            server=self._where,
            user=self._account.username,
            uidvalidity=session.uidvalidity,
            idle="IDLE" in session.capabilities,
            move="MOVE" in session.capabilities,
            uidplus="UIDPLUS" in session.capabilities,
        )

    async def close(self) -> None:
        """Log out (briefly) and drop the connection; never raises."""
        session, self._session = self._session, None
        if session is None:
            return
        if session.usable:
            with contextlib.suppress(Exception):
                await self._race(session, session.client.logout(), min(self._timeout, _LOGOUT_SECONDS))
        self._abandon(session, None)

    async def _open(self, session: _Session, password: str) -> None:
        client = session.client
        await self._guard(session, "connect", client.wait_hello_from_server())
        user = aioimaplib.quoted(self._account.username)
        login = await self._command(session, "LOGIN", client.login(user, password), ok=False)
        if login.result != "OK":
            raise self._fail(
                session,
                f"login as {self._account.username} refused: {login.result} {response_text(login.lines)}",
            )
        await self._guard(session, "CAPABILITY", client.protocol.capability())
        session.capabilities = frozenset(str(c).upper() for c in client.protocol.capabilities)
        select = await self._command(session, "SELECT", client.select(mailbox_name(self._account.mailbox)))
        uidvalidity = parse_uidvalidity(select.lines)
        if uidvalidity is None:
            raise self._fail(session, f"SELECT {self._account.mailbox} announced no UIDVALIDITY")
        session.uidvalidity = uidvalidity
        if self._settings.filing == "move":
            for folder in self._folders.values():
                created = await self._command(
                    session, "CREATE", client.create(mailbox_name(folder)), ok=False
                )
                text = response_text(created.lines)
                if created.result != "OK" and "ALREADYEXISTS" not in text and "exists" not in text.lower():
                    raise self._fail(session, f"cannot create folder {folder}: {created.result} {text}")
        stored = await self._checkpoints.load(self.mailbox)
        if stored is None or stored.uidvalidity != uidvalidity:
            (log.warning if stored else log.info)(
                "uidvalidity_changed",
                mailbox=self.mailbox,
                old=stored.uidvalidity if stored else None,
                new=uidvalidity,
            )
            stored = Checkpoint(uidvalidity, 0)
            await self._checkpoints.save(self.mailbox, stored)
        self._checkpoint = stored

    # -- reading ----------------------------------------------------------------------------------

    async def waiting(self) -> AsyncIterator[list[Fetched]]:
        """The unfiled, unquarantined messages, ``settings.batch`` at a time, oldest UID first."""
        session = self._live()
        uids = await self._search(session)
        if uids:
            self._searched_up_to = max(uids[-1], self._searched_up_to or 0)
        for chunk in _chunks(uids, self._settings.batch):
            fetched = await self._fetch(session, chunk)
            if fetched:
                yield fetched

    async def _search(self, session: _Session) -> list[int]:
        # A SEARCH sees the mailbox as the session last synced it; NOOP brings in what arrived since.
        await self._command(session, "NOOP", session.client.noop())
        after = self._floor
        found = await self._command(
            session, "UID SEARCH", session.client.uid_search(*self._criteria(after), charset=None)
        )
        return [uid for uid in parse_search(found.lines) if uid > after]

    @property
    def _floor(self) -> int:
        """UIDs up to this one are never waiting: with ``filing = "none"`` only the checkpoint tells."""
        return self._checkpoint.last_uid if self._settings.filing == "none" else 0

    def _criteria(self, after: int) -> tuple[str, ...]:
        """SEARCH criteria for waiting messages above UID ``after``.

        ``n:*`` also matches the highest UID when that is below n: callers drop UIDs <= ``after``.
        """
        above = ("UID", f"{after + 1}:*") if after else ()
        unseen = ("UNSEEN",) if self._settings.filing == "seen" else ()
        return (*above, *unseen, *_NOT_QUARANTINED)

    async def _fetch(self, session: _Session, uids: list[int]) -> list[Fetched]:
        meta = await self._fetch_items(session, uids, _META)
        small = [uid for uid in uids if uid in meta and (meta[uid].size or 0) <= self._fetch_cap]
        large = [uid for uid in uids if uid in meta and (meta[uid].size or 0) > self._fetch_cap]
        whole = set(small)
        bodies = await self._fetch_items(session, small, "(BODY.PEEK[])")
        bodies.update(await self._fetch_items(session, large, "(BODY.PEEK[HEADER])"))
        fetched: list[Fetched] = []
        for uid in uids:
            body = bodies[uid].body if uid in bodies else None
            if body is None:  # expunged meanwhile by another client
                continue
            size = len(body) if uid in whole else meta[uid].size or len(body)
            fetched.append(
                Fetched(
                    inbox=self.inbox,
                    key=f"{session.uidvalidity}:{uid}",
                    raw=body,
                    size=size,
                    arrived_at=meta[uid].internaldate,
                    uidvalidity=session.uidvalidity,
                    uid=uid,
                )
            )
        if fetched:
            log.info(
                "imap_batch_fetched",
                mailbox=self.mailbox,
                count=len(fetched),
                first_uid=fetched[0].uid,
                last_uid=fetched[-1].uid,
                header_only=sum(1 for f in fetched if f.truncated),
            )
        return fetched

    async def _fetch_items(self, session: _Session, uids: list[int], parts: str) -> dict[int, FetchItem]:
        items: dict[int, FetchItem] = {}
        for chunk in _chunks(uids, _MAX_UIDS_PER_COMMAND):
            # aioimaplib times a FETCH by the silence between lines, so no overall bound here
            call = session.client.uid("FETCH", uid_set(chunk), parts)
            items.update(parse_fetch((await self._command(session, "UID FETCH", call, bounded=False)).lines))
        return items

    # -- filing -----------------------------------------------------------------------------------

    async def file(self, filed: Sequence[tuple[Fetched, Disposition]]) -> None:
        """Flag or move the messages by disposition (one command per group), then advance the checkpoint."""
        if not filed:
            return
        session = self._live()
        groups: dict[Disposition, list[int]] = {}
        stale = 0
        for message, disposition in filed:
            if message.uid is None or message.uidvalidity != session.uidvalidity:
                stale += 1  # its UID now names another message, or none
                continue
            groups.setdefault(disposition, []).append(message.uid)
        if stale:
            log.warning("imap_file_skipped", mailbox=self.mailbox, count=stale, reason="uidvalidity changed")
        for disposition in Disposition:
            for chunk in _chunks(sorted(set(groups.get(disposition, ()))), _MAX_UIDS_PER_COMMAND):
                await self._file_group(session, disposition, chunk)
        if not groups:
            return
        highest = max(max(uids) for uids in groups.values())
        if highest > self._checkpoint.last_uid:
            checkpoint = Checkpoint(session.uidvalidity, highest)
            await self._checkpoints.save(self.mailbox, checkpoint)
            self._checkpoint = checkpoint
        log.info(
            "imap_filed",
            mailbox=self.mailbox,
            filing=self._settings.filing,
            **{str(d): len(uids) for d, uids in groups.items()},
            last_uid=self._checkpoint.last_uid,
        )

    async def _file_group(self, session: _Session, disposition: Disposition, uids: list[int]) -> None:
        client = session.client
        uids_text = uid_set(uids)
        filing = self._settings.filing
        flags = [QUARANTINE_KEYWORD] if disposition is Disposition.QUARANTINED else []
        if filing == "seen":
            flags.append("\\Seen")
        if flags:
            store = client.uid("STORE", uids_text, "+FLAGS.SILENT", f"({' '.join(flags)})")
            await self._command(session, "UID STORE", store)
        if filing != "move":
            return
        folder = mailbox_name(self._folders[disposition])
        if "MOVE" in session.capabilities:
            await self._command(session, "UID MOVE", client.uid("MOVE", uids_text, folder))
            return
        await self._command(session, "UID COPY", client.uid("COPY", uids_text, folder))
        deleted = client.uid("STORE", uids_text, "+FLAGS.SILENT", "(\\Deleted)")
        await self._command(session, "UID STORE", deleted)
        if "UIDPLUS" in session.capabilities:
            await self._command(session, "UID EXPUNGE", client.uid("EXPUNGE", uids_text))
        else:  # removes only messages some client marked \Deleted, as EXPUNGE always does
            await self._command(session, "EXPUNGE", client.expunge())

    @property
    def _folders(self) -> dict[Disposition, str]:
        folders = self._settings.folders
        return {
            Disposition.ACCEPTED: folders.accepted,
            Disposition.REJECTED: folders.rejected,
            Disposition.IGNORED: folders.ignored,
            Disposition.QUARANTINED: folders.quarantined,
        }

    # -- waiting ----------------------------------------------------------------------------------

    async def wait(self, at_most: float) -> bool:
        """IDLE (when offered and enabled) until new mail is pushed, else sleep one poll interval."""
        if at_most <= 0:
            return False
        session = self._live()
        if not (self._settings.idle and "IDLE" in session.capabilities):
            await asyncio.sleep(min(at_most, self._settings.poll_seconds))
            return False
        if await self._arrived(session):
            log.info("imap_idle_woken", mailbox=self.mailbox, reason="arrived before IDLE")
            return True
        return await self._idle(session, min(at_most, self._settings.idle_renew_seconds))

    async def _arrived(self, session: _Session) -> bool:
        """Whether mail is waiting above what the last search of ``waiting`` found, as far as known.

        Dovecot announces new mail (``* n EXISTS``) at the end of whatever command runs next, and IDLE
        does not repeat it; aioimaplib drops such lines unless a NOOP is pending. So: a SEARCH for
        newer UIDs (mail the session already knows of) with a NOOP right behind it, whose answer
        collects any EXISTS sent at the end of either.
        """
        protocol = session.client.protocol
        after = max(self._searched_up_to or 0, self._floor)
        both = asyncio.gather(  # one loop step sends both, SEARCH first
            protocol.search(*self._criteria(after), by_uid=True, charset=None),
            protocol.simple_command("NOOP"),
        )
        found, noop = await self._guard(session, "UID SEARCH + NOOP", both)
        for what, reply in (("UID SEARCH", found), ("NOOP", noop)):
            if reply.result != "OK":
                raise self._fail(session, f"{what}: {reply.result} {response_text(reply.lines)}")
        newer = [uid for uid in parse_search(found.lines) if uid > after]
        return bool(newer) or any(_WAKE.fullmatch(line) for line in noop.lines if isinstance(line, bytes))

    async def _idle(self, session: _Session, seconds: float) -> bool:
        client = session.client
        queue: asyncio.Queue[list[bytes]] = client.protocol.idle_queue
        while not queue.empty():
            queue.get_nowait()
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + seconds
        idle = await self._guard(session, "IDLE", client.idle_start(timeout=seconds + self._timeout))
        woken = False
        while not woken and (remaining := deadline - loop.time()) > 0:
            try:
                pushed = await self._race(session, queue.get(), remaining)
            except TimeoutError:
                break
            except Exception as exc:
                raise self._convert(session, "IDLE", exc) from exc
            woken = any(_WAKE.fullmatch(line) for line in pushed)
        client.idle_done()
        await self._command(session, "IDLE", idle)
        if woken:
            log.info(
                "imap_idle_woken",
                mailbox=self.mailbox,
                reason="push",
                after_ms=round((loop.time() - started) * 1000),
            )
        return woken

    # -- plumbing ---------------------------------------------------------------------------------

    @property
    def _where(self) -> str:
        return f"{self._settings.host}:{self._settings.effective_port}"

    def _live(self) -> _Session:
        session = self._session
        if session is None:
            raise SourceError(f"{self.mailbox}: not connected to {self._where}")
        if not session.usable:
            raise SourceError(f"{self.mailbox}: the connection to {self._where} was lost")
        return session

    async def _race(self, session: _Session, awaitable: Awaitable[_T], limit: float | None) -> _T:
        """``awaitable``'s result, unless the connection is lost first (_LostError) or time runs out."""
        if not session.usable:
            raise _LostError
        work = asyncio.ensure_future(awaitable)
        lost = asyncio.ensure_future(session.lost.wait())
        try:
            done, _ = await asyncio.wait({work, lost}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            self._abandon(session, None)  # the protocol state is unknown now
            raise
        finally:
            lost.cancel()
            if not work.done():
                work.cancel()
        if work in done:
            return work.result()
        if lost in done:
            raise _LostError
        raise TimeoutError

    async def _guard(
        self, session: _Session, what: str, awaitable: Awaitable[_T], *, bounded: bool = True
    ) -> _T:
        try:
            return await self._race(session, awaitable, self._timeout if bounded else None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise self._convert(session, what, exc) from exc

    async def _command(
        self,
        session: _Session,
        what: str,
        awaitable: Awaitable[Any],
        *,
        ok: bool = True,
        bounded: bool = True,
    ) -> _Reply:
        response = await self._guard(session, what, awaitable, bounded=bounded)
        reply = _Reply(str(response.result), list(response.lines))
        if ok and reply.result != "OK":
            raise self._fail(session, f"{what}: {reply.result} {response_text(reply.lines)}")
        return reply

    def _convert(self, session: _Session, what: str, exc: BaseException) -> SourceError:
        if isinstance(exc, TimeoutError | aioimaplib.CommandTimeout):
            reason = f"no answer within {self._timeout:g} s"
        elif isinstance(exc, _LostError):
            reason = "connection lost"
        elif what == "LOGIN" and isinstance(exc, aioimaplib.AioImapException):
            reason = type(exc).__name__  # its text may quote the LOGIN command, password included
        else:
            reason = f"{type(exc).__name__}: {exc}"
        return self._fail(session, f"{what}: {reason}")

    def _fail(self, session: _Session, problem: str) -> SourceError:
        self._abandon(session, problem)
        return SourceError(f"{self.mailbox} ({self._account.username}@{self._where}): {problem}")

    def _abandon(self, session: _Session, reason: str | None) -> None:
        """Never use ``session`` again: close its socket and stop its pending work."""
        if session.abandoned:
            return
        if reason is not None and session is self._session and not session.lost.is_set():
            log.warning("imap_connection_lost", mailbox=self.mailbox, reason=reason)
        session.abandoned = True
        client = session.client
        if client is None:
            return
        transport = client.protocol.transport
        if transport is not None:
            transport.close()
        for task in (*client.tasks, *client.protocol.tasks):
            task.cancel()

    def _on_lost(self, session: _Session, exc: Exception | None) -> None:
        if not session.abandoned and session is self._session:
            log.warning(
                "imap_connection_lost", mailbox=self.mailbox, reason=str(exc) if exc else "closed by server"
            )
        session.lost.set()


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
