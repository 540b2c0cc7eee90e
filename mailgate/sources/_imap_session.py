"""One IMAP connection of the IMAP source: bounded commands raced against loss, failures as SourceError."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import aioimaplib
import structlog

from mailgate.errors import SourceError
from mailgate.sources._imap_wire import Lines, response_text

log = structlog.get_logger("mailgate.sources.imap")

_T = TypeVar("_T")

#: Longest wait for LOGOUT when closing: closing must be quick and never fail.
_LOGOUT_SECONDS = 2.0


class LostError(Exception):
    """The connection closed while a command was waiting for its answer."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A command's tagged result (OK, NO, BAD) and its response lines."""

    result: str
    lines: Lines


class Session:
    """An aioimaplib client that is never used again once anything went wrong.

    Every command is bounded by ``timeout`` and raced against the connection-lost callback (aioimaplib
    itself would keep waiting on a dead socket). Any failure closes the socket and becomes a
    ``SourceError`` naming ``label``; the source then opens a new session.
    """

    def __init__(self, host: str, port: int, *, tls: bool, timeout: float, label: str, mailbox: str) -> None:
        self.timeout = timeout
        self.lost = asyncio.Event()
        self.abandoned = False
        #: Set once logged in and selected: only then is a loss worth a log line.
        self.established = False
        self.capabilities: frozenset[str] = frozenset()
        self.uidvalidity = 0
        self._label = label
        self._mailbox = mailbox
        # connects in the background; a refusal or TLS error comes with the greeting
        self.client: Any = aioimaplib.IMAP4(
            host,
            port,
            timeout=timeout,
            conn_lost_cb=self._on_lost,
            ssl_context=ssl.create_default_context() if tls else None,
        )

    @property
    def usable(self) -> bool:
        return not self.abandoned and not self.lost.is_set()

    async def race(self, awaitable: Awaitable[_T], limit: float | None) -> _T:
        """``awaitable``'s result, unless the connection is lost first (LostError) or time runs out."""
        work = asyncio.ensure_future(awaitable)
        if not self.usable:  # cancelled, not dropped: a coroutine never awaited leaks a warning
            work.cancel()
            work.add_done_callback(_retrieve)
            raise LostError
        lost = asyncio.ensure_future(self.lost.wait())
        try:
            done, _ = await asyncio.wait({work, lost}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            self.abandon(None)  # the protocol state is unknown now
            raise
        finally:
            lost.cancel()
            if not work.done():
                work.cancel()
                work.add_done_callback(_retrieve)  # a cancelled gather() ends with an exception
        if work in done:
            return work.result()
        if lost in done:
            raise LostError
        raise TimeoutError

    async def guard(self, what: str, awaitable: Awaitable[_T], *, bounded: bool = True) -> _T:
        """``awaitable``'s result; any failure is a SourceError. Unbounded: FETCH times its own silence."""
        try:
            return await self.race(awaitable, self.timeout if bounded else None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise self.convert(what, exc) from exc

    async def command(
        self, what: str, awaitable: Awaitable[Any], *, ok: bool = True, bounded: bool = True
    ) -> Reply:
        """Run an aioimaplib command; with ``ok``, anything but OK is a SourceError."""
        response = await self.guard(what, awaitable, bounded=bounded)
        reply = Reply(str(response.result), list(response.lines))
        if ok and reply.result != "OK":
            raise self.fail(f"{what}: {reply.result} {response_text(reply.lines)}")
        return reply

    def convert(self, what: str, exc: Exception) -> SourceError:
        """The SourceError for ``exc`` raised by command ``what``."""
        if isinstance(exc, TimeoutError | aioimaplib.CommandTimeout):
            reason = f"no answer within {self.timeout:g} s"
        elif isinstance(exc, LostError):
            reason = "connection lost"
        elif what == "LOGIN" and isinstance(exc, aioimaplib.AioImapException):
            reason = type(exc).__name__  # its text may quote the LOGIN command, password included
        else:
            reason = f"{type(exc).__name__}: {exc}"
        return self.fail(f"{what}: {reason}")

    def fail(self, problem: str) -> SourceError:
        """Abandon the session and describe ``problem`` as a SourceError."""
        self.abandon(problem)
        return SourceError(f"{self._label}: {problem}")

    def abandon(self, reason: str | None) -> None:
        """Never use the session again: close its socket and stop its pending work."""
        if self.abandoned:
            return
        if reason is not None and self.established and not self.lost.is_set():
            log.warning("imap_connection_lost", mailbox=self._mailbox, reason=reason)
        self.abandoned = True
        transport = self.client.protocol.transport
        if transport is not None:
            transport.close()
        for task in (*self.client.tasks, *self.client.protocol.tasks):
            task.cancel()

    async def close(self) -> None:
        """Log out briefly when still usable, then abandon; never raises."""
        if self.usable:
            with contextlib.suppress(Exception):
                await self.race(self.client.logout(), min(self.timeout, _LOGOUT_SECONDS))
        self.abandon(None)

    def _on_lost(self, exc: Exception | None) -> None:
        if self.established and not self.abandoned:
            reason = str(exc) if exc else "closed by the server"
            log.warning("imap_connection_lost", mailbox=self._mailbox, reason=reason)
        self.lost.set()


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
