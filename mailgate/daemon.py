"""The daemon: one watcher per inbox, the outbox worker, signals and a clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
import traceback
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing

import structlog

from mailgate.backoff import Backoff
from mailgate.clock import SYSTEM_CLOCK, Clock
from mailgate.config import Settings
from mailgate.errors import (
    MailgateError,
    PermanentTransportError,
    SourceError,
    StoreDataError,
    StoreError,
    TransportError,
    describe,
)
from mailgate.mail.parse import parse_message
from mailgate.pipeline import AlreadyProcessed, MessageRef, Pipeline
from mailgate.sources.base import Disposition, Fetched, Source
from mailgate.store import Store
from mailgate.store.lock import InstanceLock
from mailgate.store.outbox import ClaimLostError, DueReply, OutboxQueue
from mailgate.store.registry import load_registry
from mailgate.store.state import Failures, FailureState, Heartbeats
from mailgate.transports.base import Outgoing, Transport

log = structlog.get_logger("mailgate.daemon")

#: How long a watcher waits for new mail before it looks again and reports it is alive.
WATCH_INTERVAL = 60.0
#: How often the registry is reloaded from the database.
REGISTRY_RELOAD = 60.0
#: Waits between attempts while the database is unavailable (capped exponential backoff, jittered).
STORE_RETRY_MIN = 0.5
STORE_RETRY_MAX = 30.0
#: After SIGTERM, how long the message or reply in hand may take before the work is cancelled (a
#: database or server that does not answer must not keep the daemon from stopping).
STOP_GRACE = 2.0
#: How long closing the mailboxes and the transport may take at the end.
CLOSE_TIMEOUT = 2.0


class Daemon:
    """Everything `mailgate run` does, given its parts.

    With an instance ``lock`` (as `mailgate run` takes it), the inboxes and the outbox pause while the
    lock is not held. An unavailable database never ends the daemon: every part backs off and retries."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        pipeline: Pipeline,
        sources: Sequence[Source],
        transport: Transport,
        *,
        clock: Clock = SYSTEM_CLOCK,
        lock: InstanceLock | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store
        self.pipeline = pipeline
        self.sources = list(sources)
        self.transport = transport
        self.lock = lock
        self.stopping = asyncio.Event()
        self.outbox_wakeup = asyncio.Event()
        self.failures = Failures(store, settings.processing.max_attempts, clock)
        self.heartbeats = Heartbeats(store, clock)
        self.queue = OutboxQueue(store)
        #: The database failed and has not answered since: store_unavailable was logged.
        self._store_down = False
        #: The outbox worker may hold claims it could not give back (the database failed meanwhile).
        self._claims_left = False
        #: The instance lock's take (``InstanceLock.taken``) after which the replies left in other
        #: workers' hands were last recovered; whoever finds the lock taken again recovers them first.
        self._recovered_for = 0
        self._recovering = asyncio.Lock()

    def stop(self) -> None:
        """Finish the message in hand, then stop."""
        if not self.stopping.is_set():
            log.info("daemon_stopping")
            self.stopping.set()
            self.outbox_wakeup.set()

    async def run(self, *, once: bool = False) -> None:
        """Watch the inboxes and send replies until stopped (or, with ``once``, until drained)."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self.stop)
        keeper = asyncio.create_task(self.lock.keep()) if self.lock is not None else None
        work: asyncio.Task[None] | None = None
        try:
            await self._recover(self.lock.taken if self.lock is not None else 0)
            log.info("daemon_started", inboxes=[s.inbox.value for s in self.sources], once=once)
            work = asyncio.create_task(self._work(once=once))
            await self._until_stopped(asyncio.shield(work))
            if not work.done():  # stopping: the message in hand may finish, within limits
                await asyncio.wait({work}, timeout=STOP_GRACE)
            if not work.done():
                log.warning("daemon_stop_forced", waited=STOP_GRACE)
                work.cancel()
                await asyncio.wait({work}, timeout=CLOSE_TIMEOUT)
            if work.done() and not work.cancelled():
                work.result()  # what ended the work early, if anything did
        finally:
            for task in (work, keeper):
                if task is not None and not task.done():
                    task.cancel()
                    await asyncio.wait({task}, timeout=CLOSE_TIMEOUT)
            for signum in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signum)
            for closing in (*(source.close() for source in self.sources), self.transport.close()):
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(CLOSE_TIMEOUT):
                        await closing
            log.info("daemon_stopped")

    async def _work(self, *, once: bool) -> None:
        if once:
            results = await asyncio.gather(
                *(self._watch(source, once=True) for source in self.sources), return_exceptions=True
            )
            for result in results:
                if isinstance(result, BaseException):
                    raise result
            await self._send_due(once=True)
            return
        try:
            async with asyncio.TaskGroup() as tasks:
                for source in self.sources:
                    tasks.create_task(self._watch(source, once=False))
                tasks.create_task(self._send_due(once=False))
                tasks.create_task(self._reload_registry())
        except BaseExceptionGroup as group:
            if len(group.exceptions) == 1:  # one failure, as itself (the CLI says a MailgateError in a line)
                raise group.exceptions[0] from None
            raise

    # -- the database and the lock ---------------------------------------------------------

    def _store_failed(self, component: str, exc: StoreError | StoreDataError, retry_in: float) -> None:
        if isinstance(exc, StoreDataError):  # not an outage: a statement the database refused
            log.error("store_refused", component=component, error=str(exc), retry_in=round(retry_in, 1))
            return
        if not self._store_down:
            self._store_down = True
            log.warning("store_unavailable", component=component, error=str(exc), retry_in=round(retry_in, 1))
        else:
            log.debug("store_still_unavailable", component=component, retry_in=round(retry_in, 1))

    def _store_answered(self) -> None:
        if self._store_down:
            self._store_down = False
            log.info("store_recovered")

    async def _beat(self, component: str, **state: object) -> None:
        """Report a component alive; a heartbeat the database refuses is logged, never fatal."""
        try:
            await self.heartbeats.beat(component, **state)
        except StoreDataError as exc:
            log.warning("heartbeat_failed", component=component, error=str(exc))

    def _may_work(self) -> bool:
        return not self.stopping.is_set() and (self.lock is None or self.lock.held)

    async def _until_held(self) -> bool:
        """Wait while the instance lock is lost; False when the daemon stops meanwhile.

        Once the lock is taken back, and before any work resumes, the replies the instance that held
        it meanwhile left claimed or ``sending`` are recovered, as at a start (retried while the
        database is unavailable)."""
        backoff = Backoff(STORE_RETRY_MIN, STORE_RETRY_MAX)
        while self.lock is not None and not self.stopping.is_set():
            if not self.lock.held:
                await self._until_stopped(self.lock.wait_held())
                continue
            if self._recovered_for == self.lock.taken:
                break
            try:
                async with self._recovering:  # one part recovers; the others wait for it
                    if self._recovered_for != self.lock.taken and self.lock.held:
                        await self._recover(self.lock.taken)
            except (StoreError, StoreDataError) as exc:
                delay = next(backoff)
                self._store_failed("outbox", exc, delay)
                await self._until_stopped(asyncio.sleep(delay))
        return not self.stopping.is_set()

    async def _recover(self, taken: int) -> None:
        """Settle the replies other workers left in hand: ``unknown`` if being sent, else pending."""
        interrupted = await self.queue.interrupted()
        self._recovered_for = taken
        if interrupted.unknown:
            log.warning("replies_interrupted", count=interrupted.unknown)
        if interrupted.returned:
            log.info("replies_unclaimed", count=interrupted.returned)
            self.outbox_wakeup.set()

    # -- inboxes ---------------------------------------------------------------------------

    async def _watch(self, source: Source, *, once: bool) -> None:
        name = source.inbox.value
        imap = self.settings.source.imap
        backoff = Backoff(imap.backoff_min_seconds, imap.backoff_max_seconds)
        store_backoff = Backoff(STORE_RETRY_MIN, STORE_RETRY_MAX)
        while await self._until_held():
            try:
                await source.connect()
                handled, waiting = await self._drain(source)
                await self._beat(
                    f"inbox:{name}",
                    connected=True,
                    handled=handled,
                    waiting=waiting,
                    unreadable=_count(getattr(source, "unreadable", 0)),
                )
                backoff.reset()
                store_backoff.reset()
                self._store_answered()
                if once:
                    return
                await self._until_stopped(source.wait(WATCH_INTERVAL))
            except (StoreError, StoreDataError) as exc:  # the database, not the mailbox: nothing is lost
                await _quietly(source.close())
                delay = next(store_backoff)
                self._store_failed(f"inbox:{name}", exc, delay)
                if once:
                    raise
                await self._until_stopped(asyncio.sleep(delay))
            except SourceError as exc:
                await _quietly(source.close())
                delay = next(backoff)
                log.warning("inbox_unavailable", mailbox=name, error=str(exc), retry_in=round(delay, 1))
                with contextlib.suppress(StoreError):
                    await self._beat(f"inbox:{name}", connected=False, error=str(exc)[:300])
                if once:
                    raise
                await self._until_stopped(asyncio.sleep(delay))

    async def _drain(self, source: Source) -> tuple[int, int]:
        """Process every waiting message, filing each batch once its verdicts are committed.

        Returns how many were filed, and how many were seen but left in the mailbox (to retry)."""
        handled = seen = 0
        failing = await self.failures.known(source.inbox.value)
        async with aclosing(source.waiting()) as batches:
            async for batch in batches:
                seen += len(batch)
                filed: list[tuple[Fetched, Disposition]] = []
                try:
                    for fetched in batch:
                        if not self._may_work():
                            break
                        disposition = await self._handle(fetched, failing)
                        if disposition is not None:
                            filed.append((fetched, disposition))
                finally:
                    if filed:  # what has its verdict on file is filed, even when the database fails now
                        await source.file(filed)
                handled += len(filed)
                self.outbox_wakeup.set()
                if not self._may_work():
                    break
        return handled, seen - handled

    async def _handle(self, fetched: Fetched, failing: dict[str, FailureState]) -> Disposition | None:
        """The message's disposition once its verdict is on file; None to leave it for a retry.

        Whatever goes wrong with this one message is counted against it (and in the end quarantines
        it); only an unavailable database (``StoreError``) leaves here, and leaves the message as it is."""
        mailbox = fetched.inbox.value
        state = failing.get(fetched.key)
        if state is not None and state.quarantined:
            return Disposition.QUARANTINED
        ref = MessageRef(mailbox, fetched.key, fetched.uidvalidity, fetched.uid)
        try:
            result = await self.pipeline.process(
                fetched.raw,
                inbox=fetched.inbox,
                ref=ref,
                received_at=fetched.arrived_at,
                delivered_at=fetched.delivered_at,
                size=fetched.size,
                same_bytes_are_same_message=fetched.uidvalidity is not None,
            )
        except StoreError:
            raise  # the database is down: not the message's fault
        except Exception as exc:  # a poison message: count it, never reply, quarantine in the end
            return await self._failed(fetched, ref, exc)
        if isinstance(result, AlreadyProcessed):
            return Disposition(result.past.verdict)
        return Disposition(result.verdict.outcome.value)

    async def _failed(self, fetched: Fetched, ref: MessageRef, exc: Exception) -> Disposition | None:
        mailbox = fetched.inbox.value
        if isinstance(exc, StoreDataError):
            # Refused for a key already on file: another writer filed this very message meanwhile.
            past = await self._on_file(ref)
            if past is not None:
                return past
        error = describe(exc)
        try:
            state = await self._record_failure(fetched, error)
        except StoreError:
            raise
        except Exception as failure:  # not even the failure can be kept: try again next pass
            log.error(
                "message_failure_unrecorded",
                mailbox=mailbox,
                uid=fetched.uid,
                key=fetched.key,
                error=type(exc).__name__,
                why=type(failure).__name__,
            )
            return None
        log.error(
            "message_failed",
            mailbox=mailbox,
            uid=fetched.uid,
            key=fetched.key,
            attempts=state.attempts,
            error=type(exc).__name__,
        )
        if not isinstance(exc, MailgateError):  # where it broke: the frames only, never the text
            log.debug(
                "message_failed_at", key=fetched.key, stack="".join(traceback.format_tb(exc.__traceback__))
            )
        if state.quarantined:
            log.error("message_quarantined", mailbox=mailbox, uid=fetched.uid, key=fetched.key)
            return Disposition.QUARANTINED
        return None

    async def _on_file(self, ref: MessageRef) -> Disposition | None:
        try:
            async with self.store.reading() as repo:
                past = await repo.past_verdict(ref.mailbox, ref.key)
        except StoreDataError:
            return None
        return None if past is None else Disposition(past.verdict)

    async def _record_failure(self, fetched: Fetched, error: str) -> FailureState:
        """Count one failure of ``fetched``, with its header fields when the database takes them."""
        mailbox = fetched.inbox.value
        try:
            headers = parse_message(fetched.raw, max_size=0)  # header fields only
            described = {
                "message_id": _clean(headers.message_id),
                "from_address": _clean(headers.from_address),
                "subject": _clean(headers.subject.raw),
            }
        except Exception:  # the fields are a courtesy to ops
            described = {}
        try:
            return await self.failures.record(mailbox, fetched.key, error, raw=fetched.raw, **described)
        except StoreDataError:
            if not described:
                raise
        return await self.failures.record(mailbox, fetched.key, error, raw=fetched.raw)

    # -- outbox ----------------------------------------------------------------------------

    async def _send_due(self, *, once: bool) -> None:
        backoff = Backoff(STORE_RETRY_MIN, STORE_RETRY_MAX)
        while await self._until_held():
            try:
                if self._claims_left:
                    await self.queue.release()
                    self._claims_left = False
                self.outbox_wakeup.clear()
                now = self.clock.now()
                due = await self.queue.claim(now)
                backoff.reset()
                self._store_answered()
                if due:
                    self._claims_left = True
                    await self._send(due)
                    continue
                await self._beat("outbox", **await self.queue.open_counts())
                if once:
                    return
                next_at = await self.queue.next_due_at()
            except (StoreError, StoreDataError) as exc:
                delay = next(backoff)
                self._store_failed("outbox", exc, delay)
                if once:
                    raise
                await self._until_stopped(asyncio.sleep(delay))
                continue
            wait = WATCH_INTERVAL if next_at is None else (next_at - now).total_seconds()
            await self._until_stopped(self.outbox_wakeup.wait(), at_most=max(0.0, min(wait, WATCH_INTERVAL)))

    async def _send(self, due: list[DueReply]) -> None:
        """Send the claimed replies; the ones not tried (stopping, or the lock lost) go back to pending."""
        try:
            try:
                await self.transport.open()
            except TransportError as exc:
                log.warning("transport_unavailable", error=str(exc))
                for reply in due:
                    await self._retry(reply, str(exc))
            else:
                for reply in due:
                    if not self._may_work():
                        break
                    await self._send_one(reply)
        finally:
            # Bounded (this may run as the work is cancelled); if it fails, the claims are given back
            # once the store answers again, or at the next start.
            with contextlib.suppress(StoreError, StoreDataError, TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await self.queue.release()
                self._claims_left = False

    async def _send_one(self, reply: DueReply) -> None:
        began = False  # the row is ``sending``: from here on the data may reach the recipient

        async def before_data() -> None:
            nonlocal began
            await self.queue.sending(reply.id)
            began = True

        try:
            await self.transport.send(
                Outgoing(reply.id, reply.sender, [reply.recipient], reply.raw), before_data=before_data
            )
        except ClaimLostError:
            log.warning("reply_claim_lost", outbox_id=reply.id)
        except PermanentTransportError as exc:
            error = str(exc)
            log.error("reply_failed", outbox_id=reply.id, error=error, permanent=True)
            await self._settle(lambda: self.queue.failed(reply.id, error, reply.attempts + 1))
        except TransportError as exc:
            if began:  # a timeout or a lost connection once the data began: maybe delivered, never resent
                error = str(exc)
                log.error("reply_unknown", outbox_id=reply.id, error=error)
                await self._settle(lambda: self.queue.unknown(reply.id, error, reply.attempts + 1))
            else:
                await self._retry(reply, str(exc))
        else:
            sent_at = self.clock.now()
            await self._settle(lambda: self.queue.sent(reply.id, sent_at))
            log.info("reply_sent", outbox_id=reply.id, kind=reply.kind, recipient=reply.recipient)

    async def _retry(self, reply: DueReply, error: str) -> None:
        settings = self.settings.replies
        attempts = reply.attempts + 1
        if attempts >= settings.max_attempts:
            log.error("reply_failed", outbox_id=reply.id, error=error, attempts=attempts, permanent=False)
            await self._settle(lambda: self.queue.failed(reply.id, error, attempts))
            return
        delay = min(settings.retry_max_seconds, settings.retry_min_seconds * 2 ** (attempts - 1))
        log.warning("reply_deferred", outbox_id=reply.id, error=error, attempts=attempts, retry_in=delay)
        again = self.clock.now() + dt.timedelta(seconds=delay)
        await self._settle(lambda: self.queue.retry(reply.id, error, attempts, again))

    async def _settle(self, change: Callable[[], Awaitable[object]]) -> None:
        """Record what became of a send, retrying while the database is unavailable: a reply that went
        out must not be left to look unsent. Given up only when the daemon stops (the row, still
        ``sending``, is then marked ``unknown`` at the next start and not sent again)."""
        backoff = Backoff(STORE_RETRY_MIN, STORE_RETRY_MAX)
        while True:
            try:
                await change()
            except StoreError as exc:
                delay = next(backoff)
                self._store_failed("outbox", exc, delay)
                if self.stopping.is_set():
                    raise
                await self._until_stopped(asyncio.sleep(delay))
                continue
            self._store_answered()
            return

    # -- housekeeping ----------------------------------------------------------------------

    async def _reload_registry(self) -> None:
        backoff = Backoff(STORE_RETRY_MIN, STORE_RETRY_MAX)
        wait = REGISTRY_RELOAD
        while not self.stopping.is_set():
            await self._until_stopped(asyncio.sleep(wait))
            if self.stopping.is_set():
                return
            try:
                self.pipeline.registry = await load_registry(self.store)
            except StoreError as exc:
                wait = min(next(backoff), REGISTRY_RELOAD)
                self._store_failed("registry", exc, wait)
                continue
            backoff.reset()
            wait = REGISTRY_RELOAD
            self._store_answered()

    async def _until_stopped(self, waiting: Awaitable[object], *, at_most: float | None = None) -> None:
        """Await ``waiting`` (at most ``at_most`` seconds), returning early when the daemon stops."""
        task = asyncio.ensure_future(waiting)
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait({task, stop}, timeout=at_most, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pending in (task, stop):
                if not pending.done():
                    pending.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await pending
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _clean(value: str | None) -> str | None:
    """``value`` as any database takes it: no NUL, no lone surrogates (escaped), at most 998 characters."""
    if value is None:
        return None
    text = value.replace("\x00", "").encode("utf-8", "backslashreplace").decode("utf-8")
    return text[:998]


async def _quietly(closing: Awaitable[None]) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await closing
