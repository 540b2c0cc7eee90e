"""The file transport of the embedded default: each reply becomes an ``.eml`` file for ops to look at."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

import structlog

from mailgate.errors import TransportError
from mailgate.transports.base import BeforeData, Outgoing

log = structlog.get_logger("mailgate.transports.files")

#: Replies are no secret: whoever may look at the outbox directory may read them.
_MODE = 0o644


class FileTransport:
    """Writes each reply to ``<outbox_id:08d>.eml`` in ``directory`` (created when missing).

    The file holds exactly ``Outgoing.raw``. It appears whole or not at all: the bytes go to a hidden
    temporary file in the same directory, are flushed to disk, and the file is renamed into place.
    Sending a reply again replaces its file with the same bytes.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    async def open(self) -> None:
        """Nothing to prepare: the directory is made by the first ``send``."""

    async def send(self, message: Outgoing, *, before_data: BeforeData | None = None) -> None:
        """Write the reply; ``before_data`` is awaited once the temporary file is open, just before the
        bytes are written. ``TransportError`` when the directory or file cannot be written."""
        target = self._directory / f"{message.outbox_id:08d}.eml"
        try:
            file, temporary = await asyncio.to_thread(self._create, target)
        except OSError as exc:
            raise _failed(message, target, exc) from exc
        try:
            if before_data is not None:
                await before_data()
            await asyncio.to_thread(_commit, file, temporary, message.raw, target)
        except BaseException as exc:
            file.close()
            temporary.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise _failed(message, target, exc) from exc
            raise
        log.info("file_written", outbox_id=message.outbox_id, path=str(target))

    async def close(self) -> None:
        """Nothing to end."""

    def _create(self, target: Path) -> tuple[BinaryIO, Path]:
        self._directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=self._directory)
        try:
            os.fchmod(fd, _MODE)
            return os.fdopen(fd, "wb"), Path(name)
        except BaseException:
            os.close(fd)
            os.unlink(name)
            raise


def _commit(file: BinaryIO, temporary: Path, raw: bytes, target: Path) -> None:
    """Write, flush to disk, close, rename into place, and make the rename itself durable."""
    with file:
        file.write(raw)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _failed(message: Outgoing, target: Path, exc: OSError) -> TransportError:
    error = f"cannot write {target}: {exc}"
    log.warning("file_failed", outbox_id=message.outbox_id, error=error)
    return TransportError(error)
