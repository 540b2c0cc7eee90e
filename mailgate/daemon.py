"""The daemon: one watcher per inbox, the outbox worker, signals and a clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
from collections.abc import Awaitable, Sequence
from contextlib import aclosing

import structlog

from mailgate.backoff import Backoff
from mailgate.clock import SYSTEM_CLOCK, Clock
from mailgate.config import Settings
from mailgate.errors import PermanentTransportError, SourceError, StoreError, TransportError
from mailgate.mail.parse import parse_message
from mailgate.pipeline import AlreadyProcessed, MessageRef, Pipeline
from mailgate.sources.base import Disposition, Fetched, Source
from mailgate.store import Store
from mailgate.store.outbox import DueReply, OutboxQueue
from mailgate.store.registry import load_registry
from mailgate.store.state import Failures, FailureState, Heartbeats
from mailgate.transports.base import Outgoing, Transport

log = structlog.get_logger("mailgate.daemon")

#: How long a watcher waits for new mail before it looks again and reports it is alive.
WATCH_INTERVAL = 60.0
#: How often the registry is reloaded from the database.
REGISTRY_RELOAD = 60.0


class Daemon:
    """Everything `mailgate run` does, given its parts."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        pipeline: Pipeline,
        sources: Sequence[Source],
        transport: Transport,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store
        self.pipeline = pipeline
        self.sources = list(sources)
        self.transport = transport
        self.stopping = asyncio.Event()
        self.outbox_wakeup = asyncio.Event()
        self.failures = Failures(store, settings.processing.max_attempts, clock)
        self.heartbeats = Heartbeats(store, clock)
        self.queue = OutboxQueue(store)

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
        interrupted = await self.queue.interrupted()
        if interrupted:
            log.warning("replies_interrupted", count=interrupted)
        log.info("daemon_started", inboxes=[s.inbox.value for s in self.sources], once=once)
        try:
            if once:
                await asyncio.gather(*(self._watch(source, once=True) for source in self.sources))
                await self._send_due(once=True)
                return
            async with asyncio.TaskGroup() as tasks:
                for source in self.sources:
                    tasks.create_task(self._watch(source, once=False))
                tasks.create_task(self._send_due(once=False))
                tasks.create_task(self._reload_registry())
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signum)
            for source in self.sources:
                await source.close()
            await self.transport.close()
            log.info("daemon_stopped")

    # -- inboxes ---------------------------------------------------------------------------

    async def _watch(self, source: Source, *, once: bool) -> None:
        name = source.inbox.value
        backoff = Backoff(
            self.settings.source.imap.backoff_min_seconds, self.settings.source.imap.backoff_max_seconds
        )
        while not self.stopping.is_set():
            try:
                await source.connect()
                handled, waiting = await self._drain(source)
                backoff.reset()
                await self.heartbeats.beat(f"inbox:{name}", connected=True, handled=handled, waiting=waiting)
                if once:
                    return
                await self._until_stopped(source.wait(WATCH_INTERVAL))
            except (SourceError, StoreError) as exc:
                await source.close()
                delay = next(backoff)
                log.warning("inbox_unavailable", mailbox=name, error=str(exc), retry_in=round(delay, 1))
                with contextlib.suppress(StoreError):
                    await self.heartbeats.beat(f"inbox:{name}", connected=False, error=str(exc)[:300])
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
                for fetched in batch:
                    if self.stopping.is_set():
                        break
                    disposition = await self._handle(fetched, failing)
                    if disposition is not None:
                        filed.append((fetched, disposition))
                await source.file(filed)
                handled += len(filed)
                self.outbox_wakeup.set()
                if self.stopping.is_set():
                    break
        return handled, seen - handled

    async def _handle(self, fetched: Fetched, failing: dict[str, FailureState]) -> Disposition | None:
        """The message's disposition once its verdict is on file; None to leave it for a retry."""
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
                size=fetched.size,
                same_bytes_are_same_message=fetched.uidvalidity is not None,
            )
        except StoreError:
            raise  # the database is down: not the message's fault
        except Exception as exc:  # a poison message: count it, never reply, quarantine in the end
            headers = parse_message(fetched.raw, max_size=0)  # header fields only; never raises
            state = await self.failures.record(
                mailbox,
                fetched.key,
                f"{type(exc).__name__}: {exc}",
                raw=fetched.raw,
                message_id=headers.message_id,
                from_address=headers.from_address,
                subject=headers.subject.raw,
            )
            log.exception(
                "message_failed", mailbox=mailbox, uid=fetched.uid, key=fetched.key, attempts=state.attempts
            )
            if state.quarantined:
                log.error("message_quarantined", mailbox=mailbox, uid=fetched.uid, key=fetched.key)
                return Disposition.QUARANTINED
            return None
        if isinstance(result, AlreadyProcessed):
            return Disposition(result.past.verdict)
        return Disposition(result.verdict.outcome.value)

    # -- outbox ----------------------------------------------------------------------------

    async def _send_due(self, *, once: bool) -> None:
        while not self.stopping.is_set():
            self.outbox_wakeup.clear()
            now = self.clock.now()
            due = await self.queue.due(now)
            if due:
                await self._send(due)
                continue
            await self.heartbeats.beat("outbox", **await self.queue.counts())
            if once:
                return
            next_at = await self.queue.next_due_at()
            wait = WATCH_INTERVAL if next_at is None else (next_at - now).total_seconds()
            await self._until_stopped(self.outbox_wakeup.wait(), at_most=max(0.0, min(wait, WATCH_INTERVAL)))

    async def _send(self, due: list[DueReply]) -> None:
        try:
            await self.transport.open()
        except TransportError as exc:
            log.warning("transport_unavailable", error=str(exc))
            for reply in due:
                await self._retry(reply, str(exc))
            return
        for reply in due:
            if self.stopping.is_set():
                return

            async def before_data(outbox_id: int = reply.id) -> None:
                await self.queue.sending(outbox_id)

            try:
                await self.transport.send(
                    Outgoing(reply.id, reply.sender, [reply.recipient], reply.raw), before_data=before_data
                )
            except PermanentTransportError as exc:
                log.error("reply_failed", outbox_id=reply.id, error=str(exc), permanent=True)
                await self.queue.failed(reply.id, str(exc), reply.attempts + 1)
            except TransportError as exc:
                await self._retry(reply, str(exc))
            else:
                await self.queue.sent(reply.id, self.clock.now())
                log.info("reply_sent", outbox_id=reply.id, kind=reply.kind, recipient=reply.recipient)

    async def _retry(self, reply: DueReply, error: str) -> None:
        settings = self.settings.replies
        attempts = reply.attempts + 1
        if attempts >= settings.max_attempts:
            log.error("reply_failed", outbox_id=reply.id, error=error, attempts=attempts, permanent=False)
            await self.queue.failed(reply.id, error, attempts)
            return
        delay = min(settings.retry_max_seconds, settings.retry_min_seconds * 2 ** (attempts - 1))
        log.warning("reply_deferred", outbox_id=reply.id, error=error, attempts=attempts, retry_in=delay)
        again = self.clock.now() + dt.timedelta(seconds=delay)
        await self.queue.retry(reply.id, error, attempts, again)

    # -- housekeeping ----------------------------------------------------------------------

    async def _reload_registry(self) -> None:
        while not self.stopping.is_set():
            await self._until_stopped(asyncio.sleep(REGISTRY_RELOAD))
            if self.stopping.is_set():
                return
            try:
                self.pipeline.registry = await load_registry(self.store)
            except StoreError as exc:
                log.warning("registry_reload_failed", error=str(exc))

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
