"""The SMTP transport: one reused connection, and a hook between the envelope and the data."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Sequence
from typing import TypeVar

import aiosmtplib
import structlog

from mailgate.config import SmtpSettings
from mailgate.errors import PermanentTransportError, TransportError
from mailgate.transports.base import BeforeData, Outgoing

_T = TypeVar("_T")

log = structlog.get_logger("mailgate.transports.smtp")

#: What a failed exchange with the server can raise. ``ValueError`` covers addresses aiosmtplib
#: cannot put on a command line (a CR or LF, or non-ASCII without SMTPUTF8): they never will be.
_FAILURES = (aiosmtplib.SMTPException, OSError, ValueError)


class SmtpTransport:
    """Sends replies over one SMTP connection, opened on demand and reused across ``send`` calls.

    ``security`` "tls" connects with TLS at once, "starttls" upgrades after the greeting (and fails
    if the server cannot), "none" sends in the clear. Certificates are checked against the system's
    trusted authorities unless ``tls_context`` says otherwise. Before each send a NOOP checks that the
    server still holds the connection; if not, the transport reconnects once. One ``send`` at a time.

    The message is sent as ``Outgoing.raw``: aiosmtplib turns lone CR or LF into CRLF, dot-stuffs
    lines, and adds a final CRLF when ``raw`` does not end with one.
    """

    def __init__(self, settings: SmtpSettings, *, tls_context: ssl.SSLContext | None = None) -> None:
        self._settings = settings
        self._tls_context = tls_context or (
            ssl.create_default_context() if settings.security != "none" else None
        )
        self._client: aiosmtplib.SMTP | None = None

    async def open(self) -> None:
        """Connect (and log in) unless connected; ``TransportError`` if the server cannot be reached."""
        if self._client is None or not self._client.is_connected:
            await self._guard(None, self._connect())

    async def send(self, message: Outgoing, *, before_data: BeforeData | None = None) -> None:
        """MAIL, RCPT for each recipient, ``before_data``, DATA.

        Recipients the server refuses are dropped (and logged) as long as one is accepted; when all are
        refused the send fails, for good only if every refusal was a 5xx. 5xx replies (a refused login's
        535 among them) and addresses the server cannot take (non-ASCII without SMTPUTF8) raise
        ``PermanentTransportError``; everything else raises ``TransportError``. An exception from
        ``before_data`` propagates unchanged and no data is sent. After any failure the transaction is
        reset, so the connection serves the next message.
        """
        client = await self._guard(message.outbox_id, self._ready())
        try:
            await self._guard(message.outbox_id, self._envelope(client, message))
            if before_data is not None:
                await before_data()
            await self._guard(message.outbox_id, client.data(message.raw))
        except asyncio.CancelledError:
            client.close()  # a reply may still be on its way: the connection is out of step
            raise
        except BaseException:
            await _reset(client)
            raise
        log.info("smtp_sent", outbox_id=message.outbox_id, recipients=list(message.recipients))

    async def close(self) -> None:
        """Say QUIT and drop the connection; never raises."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.is_connected:
                await client.quit()
        except _FAILURES:
            pass
        finally:
            client.close()

    async def _ready(self) -> aiosmtplib.SMTP:
        """The open connection if the server still answers on it, else a new one."""
        client = self._client
        if client is not None and client.is_connected:
            try:
                await client.noop()
            except _FAILURES:
                client.close()
            else:
                return client
        return await self._connect()

    async def _connect(self) -> aiosmtplib.SMTP:
        settings = self._settings
        if self._client is not None:
            self._client.close()
            self._client = None
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.effective_port,
            timeout=settings.timeout_seconds,
            use_tls=settings.security == "tls",
            start_tls=settings.security == "starttls",
            tls_context=self._tls_context,
        )
        await client.connect()
        if settings.username is not None:
            try:
                await client.login(settings.username, settings.secret() or "")
            except BaseException:
                client.close()
                raise
        self._client = client
        log.info(
            "smtp_connected",
            host=settings.host,
            port=settings.effective_port,
            security=settings.security,
            username=settings.username,
        )
        return client

    async def _envelope(self, client: aiosmtplib.SMTP, message: Outgoing) -> None:
        if client.is_ehlo_or_helo_needed:
            await client.ehlo()  # the extensions are known only from the server's EHLO reply
        utf8 = not all(address.isascii() for address in (message.sender, *message.recipients))
        options = ["SMTPUTF8"] if utf8 and client.supports_extension("smtputf8") else []
        encoding = "utf-8" if options else "ascii"
        await client.mail(message.sender, options=options, encoding=encoding)
        refused: list[aiosmtplib.SMTPRecipientRefused] = []
        for recipient in message.recipients:
            try:
                await client.rcpt(recipient, encoding=encoding)
            except aiosmtplib.SMTPRecipientRefused as exc:
                refused.append(exc)
        if refused and len(refused) == len(message.recipients):
            raise aiosmtplib.SMTPRecipientsRefused(refused)
        if refused:
            log.warning(
                "smtp_recipients_refused",
                outbox_id=message.outbox_id,
                refused={exc.recipient: f"{exc.code} {exc.message}" for exc in refused},
            )

    async def _guard(self, outbox_id: int | None, step: Awaitable[_T]) -> _T:
        """Await one exchange with the server, turning its failures into transport errors."""
        try:
            return await step
        except _FAILURES as exc:
            error = self._describe(exc)
            permanent = _permanent(exc)
            log.warning("smtp_failed", outbox_id=outbox_id, error=error, permanent=permanent)
            raise (PermanentTransportError if permanent else TransportError)(error) from exc

    def _describe(self, exc: Exception) -> str:
        where = f"SMTP {self._settings.host}:{self._settings.effective_port}"
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            return f"{where}: every recipient refused: " + "; ".join(
                f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients
            )
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            return f"{where}: {type(exc).__name__} {exc.code} {exc.message}"
        return f"{where}: {type(exc).__name__}: {exc}"


def _permanent(exc: Exception) -> bool:
    """Whether the server (or the message itself) rules out that a later try would succeed."""
    codes: Sequence[int]
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        codes = [exc.code]
    else:  # a TLS certificate that does not verify is a ValueError too, yet may be fixed
        return isinstance(exc, ValueError) and not isinstance(exc, OSError)
    return all(500 <= code < 600 for code in codes)


async def _reset(client: aiosmtplib.SMTP) -> None:
    """Abandon the mail transaction, or the connection when the server does not take RSET."""
    if not client.is_connected:
        return
    try:
        await client.rset()
    except _FAILURES:
        client.close()
