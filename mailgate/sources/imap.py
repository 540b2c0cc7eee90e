"""The IMAP source: one watched mailbox, read in bounded batches, filed by verdict, woken by IDLE."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Sequence

import aioimaplib
import structlog

from mailgate.config import ImapAccount, ImapSettings
from mailgate.errors import SourceError
from mailgate.kinds import Inbox
from mailgate.sources._imap_session import Session
from mailgate.sources._imap_wire import (
    FetchItem,
    mailbox_name,
    parse_fetch,
    parse_search,
    parse_uidvalidity,
    response_text,
    uid_set,
)
from mailgate.sources.base import Checkpoint, Checkpoints, Disposition, Fetched

log = structlog.get_logger("mailgate.sources.imap")

#: The keyword put on quarantined messages; such messages are never fetched again.
QUARANTINE_KEYWORD = "$MailgateQuarantine"
_NOT_QUARANTINED = ("UNKEYWORD", QUARANTINE_KEYWORD)
_META = "(UID RFC822.SIZE INTERNALDATE)"
_WAKE = re.compile(rb"(?:\* )?(?:\d+ EXISTS|[1-9]\d* RECENT)")
#: UIDs named in one FETCH, STORE, MOVE or EXPUNGE. aioimaplib parses each response line in a nested
#: call, so a response of ~1,000 lines (a FETCH answers 3 per message, MOVE one EXPUNGE each) in one
#: read overflows the stack and the command hangs; 150 keeps the worst case near half that.
_MAX_UIDS_PER_COMMAND = 150


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
        self._session: Session | None = None
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
        password = self._account.secret()
        if password is None:
            raise SourceError(
                f"{self.mailbox}: no password is configured for IMAP user {self._account.username}"
            )
        session = Session(
            settings.host,
            settings.effective_port,
            tls=settings.security == "tls",
            timeout=self._timeout,
            label=f"{self.mailbox} ({self._account.username}@{self._where})",
            mailbox=self.mailbox,
        )
        try:
            await self._open(session, password)
        except BaseException:
            session.abandon(None)
            raise
        session.established = True
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
        if session is not None:
            await session.close()

    async def _open(self, session: Session, password: str) -> None:
        client = session.client
        await session.guard("connect", client.wait_hello_from_server())
        user = aioimaplib.quoted(self._account.username)
        login = await session.command("LOGIN", client.login(user, password), ok=False)
        if login.result != "OK":
            raise session.fail(
                f"login as {self._account.username} refused: {login.result} {response_text(login.lines)}",
            )
        await session.guard("CAPABILITY", client.protocol.capability())
        session.capabilities = frozenset(str(c).upper() for c in client.protocol.capabilities)
        select = await session.command("SELECT", client.select(mailbox_name(self._account.mailbox)))
        uidvalidity = parse_uidvalidity(select.lines)
        if uidvalidity is None:
            raise session.fail(f"SELECT {self._account.mailbox} announced no UIDVALIDITY")
        session.uidvalidity = uidvalidity
        if self._settings.filing == "move":
            for folder in self._folders.values():
                created = await session.command("CREATE", client.create(mailbox_name(folder)), ok=False)
                text = response_text(created.lines)
                if created.result != "OK" and "ALREADYEXISTS" not in text and "exists" not in text.lower():
                    raise session.fail(f"cannot create folder {folder}: {created.result} {text}")
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

    async def waiting(self) -> AsyncGenerator[list[Fetched], None]:
        """The unfiled, unquarantined messages, ``settings.batch`` at a time, oldest UID first."""
        session = self._live()
        uids = await self._search(session)
        if uids:
            self._searched_up_to = max(uids[-1], self._searched_up_to or 0)
        for chunk in _chunks(uids, self._settings.batch):
            fetched = await self._fetch(session, chunk)
            if fetched:
                yield fetched

    async def _search(self, session: Session) -> list[int]:
        # A SEARCH sees the mailbox as the session last synced it; NOOP brings in what arrived since.
        await session.command("NOOP", session.client.noop())
        after = self._floor
        found = await session.command(
            "UID SEARCH", session.client.uid_search(*self._criteria(after), charset=None)
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

    async def _fetch(self, session: Session, uids: list[int]) -> list[Fetched]:
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

    async def _fetch_items(self, session: Session, uids: list[int], parts: str) -> dict[int, FetchItem]:
        items: dict[int, FetchItem] = {}
        for chunk in _chunks(uids, _MAX_UIDS_PER_COMMAND):
            # aioimaplib times a FETCH by the silence between lines, so no overall bound here
            call = session.client.uid("FETCH", uid_set(chunk), parts)
            items.update(parse_fetch((await session.command("UID FETCH", call, bounded=False)).lines))
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

    async def _file_group(self, session: Session, disposition: Disposition, uids: list[int]) -> None:
        client = session.client
        uids_text = uid_set(uids)
        filing = self._settings.filing
        flags = [QUARANTINE_KEYWORD] if disposition is Disposition.QUARANTINED else []
        if filing == "seen":
            flags.append("\\Seen")
        if flags:
            store = client.uid("STORE", uids_text, "+FLAGS.SILENT", f"({' '.join(flags)})")
            await session.command("UID STORE", store)
        if filing != "move":
            return
        folder = mailbox_name(self._folders[disposition])
        if "MOVE" in session.capabilities:
            await session.command("UID MOVE", client.uid("MOVE", uids_text, folder))
            return
        await session.command("UID COPY", client.uid("COPY", uids_text, folder))
        deleted = client.uid("STORE", uids_text, "+FLAGS.SILENT", "(\\Deleted)")
        await session.command("UID STORE", deleted)
        if "UIDPLUS" in session.capabilities:
            await session.command("UID EXPUNGE", client.uid("EXPUNGE", uids_text))
        else:  # removes only messages some client marked \Deleted, as EXPUNGE always does
            await session.command("EXPUNGE", client.expunge())

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

    async def _arrived(self, session: Session) -> bool:
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
        found, noop = await session.guard("UID SEARCH + NOOP", both)
        for what, reply in (("UID SEARCH", found), ("NOOP", noop)):
            if reply.result != "OK":
                raise session.fail(f"{what}: {reply.result} {response_text(reply.lines)}")
        newer = [uid for uid in parse_search(found.lines) if uid > after]
        return bool(newer) or any(_WAKE.fullmatch(line) for line in noop.lines if isinstance(line, bytes))

    async def _idle(self, session: Session, seconds: float) -> bool:
        client = session.client
        queue: asyncio.Queue[list[bytes]] = client.protocol.idle_queue
        while not queue.empty():
            queue.get_nowait()
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + seconds
        idle = await session.guard("IDLE", client.idle_start(timeout=seconds + self._timeout))
        woken = False
        while not woken and (remaining := deadline - loop.time()) > 0:
            try:
                pushed = await session.race(queue.get(), remaining)
            except TimeoutError:
                break
            except Exception as exc:
                raise session.convert("IDLE", exc) from exc
            woken = any(_WAKE.fullmatch(line) for line in pushed)
        client.idle_done()
        await session.command("IDLE", idle)
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

    def _live(self) -> Session:
        session = self._session
        if session is None:
            raise SourceError(f"{self.mailbox}: not connected to {self._where}")
        if not session.usable:
            raise SourceError(f"{self.mailbox}: the connection to {self._where} was lost")
        return session


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
