"""A local Maildir folder as a source: the embedded default, and the simplest way to feed mailgate."""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import os
import stat
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path
from typing import BinaryIO

import structlog

from mailgate.errors import SourceError
from mailgate.kinds import Inbox
from mailgate.sources.base import Disposition, Fetched

log = structlog.get_logger("mailgate.sources.maildir")

#: Maildir++ sub-folders messages are filed into, by disposition.
FOLDERS = {
    Disposition.ACCEPTED: ".Processed",
    Disposition.REJECTED: ".Rejected",
    Disposition.IGNORED: ".Ignored",
    Disposition.QUARANTINED: ".Quarantine",
}
_HEADER_READ_CAP = 1024 * 1024
#: Never wait on a FIFO or a device someone left in the folder.
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class NotAFileError(OSError):
    """An entry of new/ or cur/ that is neither a message file nor a directory (a FIFO, a socket...)."""


class MaildirSource:
    """Reads ``new/`` and ``cur/`` of a Maildir; files messages into Maildir++ sub-folders.

    An entry that cannot be read (no permission, a directory or a dangling link where a message
    should be) is skipped with a ``message_unreadable`` warning and tried again on every pass;
    ``unreadable`` counts those skipped now. The rest of the inbox goes on."""

    def __init__(
        self, inbox: Inbox, path: Path, *, fetch_cap: int, batch: int = 100, poll_seconds: float = 2.0
    ) -> None:
        self.inbox = inbox
        self.path = path
        self.fetch_cap = fetch_cap
        self.batch = batch
        self.poll_seconds = poll_seconds
        self._names: dict[str, Path] = {}
        #: Keys of the entries found unreadable, with the error class logged for each.
        self._unreadable: dict[str, str] = {}

    @property
    def unreadable(self) -> int:
        """How many entries of the Maildir were skipped as unreadable when last tried."""
        return len(self._unreadable)

    async def connect(self) -> None:
        try:
            for sub in ("new", "cur", "tmp"):
                (self.path / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SourceError(f"cannot open Maildir {self.path}: {exc}") from exc

    async def close(self) -> None:
        self._names.clear()

    async def waiting(self) -> AsyncGenerator[list[Fetched], None]:
        files = self._listing()
        for start in range(0, len(files), self.batch):
            batch = []
            for path in files[start : start + self.batch]:
                fetched = self._read(path)
                if fetched is not None:
                    batch.append(fetched)
            if batch:
                yield batch

    def _listing(self) -> list[Path]:
        """Every entry of new/ and cur/ but dot files, oldest first; entries gone meanwhile left out."""
        found: list[tuple[int, str, Path]] = []
        try:
            for sub in ("new", "cur"):
                with os.scandir(self.path / sub) as entries:
                    for entry in entries:
                        if entry.name.startswith("."):
                            continue
                        try:
                            mtime = entry.stat(follow_symlinks=False).st_mtime_ns
                        except FileNotFoundError:
                            continue  # moved or deleted since the folder was listed
                        found.append((mtime, entry.name, Path(entry.path)))
        except OSError as exc:
            raise SourceError(f"cannot list Maildir {self.path}: {exc}") from exc
        found.sort(key=lambda f: (f[0], f[1]))
        listed = {_key(path) for _, _, path in found}
        for key in [k for k in self._unreadable if k not in listed]:
            del self._unreadable[key]  # removed by an operator
        return [path for _, _, path in found]

    def _read(self, path: Path) -> Fetched | None:
        key = _key(path)
        try:
            size, raw = _read_message(path, self.fetch_cap)
        except FileNotFoundError as exc:
            if os.path.lexists(path):  # a dangling symbolic link
                self._skip(key, exc)
            else:  # taken by someone else meanwhile (a mail client moving it to cur/, say)
                log.debug("message_vanished", mailbox=self.inbox.value, key=key)
            return None
        except OSError as exc:
            self._skip(key, exc)
            return None
        if self._unreadable.pop(key, None) is not None:
            log.info("message_readable", mailbox=self.inbox.value, key=key)
        self._names[key] = path
        # No arrival time: files are often copied in later, so the Received header tells it better;
        # the file's own time is the fallback.
        return Fetched(self.inbox, key, raw, size, None, delivered_at=_delivered(path))

    def _skip(self, key: str, exc: OSError) -> None:
        """Leave an unreadable entry where it is; say so once (again when the error changes)."""
        error = type(exc).__name__
        if self._unreadable.get(key) != error:
            log.warning("message_unreadable", mailbox=self.inbox.value, key=key, error=error)
        self._unreadable[key] = error

    async def file(self, filed: Sequence[tuple[Fetched, Disposition]]) -> None:
        for fetched, disposition in filed:
            source = self._names.pop(fetched.key, None)
            if source is None:
                continue
            target_dir = self.path / FOLDERS[disposition] / "cur"
            try:
                target_dir.mkdir(parents=True, exist_ok=True)
                for sub in ("new", "tmp"):
                    (target_dir.parent / sub).mkdir(exist_ok=True)
                os.replace(source, target_dir / f"{fetched.key}:2,S")
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise SourceError(f"cannot file {source}: {exc}") from exc
        if filed:
            log.debug("maildir_filed", mailbox=self.inbox.value, count=len(filed))

    async def wait(self, at_most: float) -> bool:
        # Maildir offers no push: this is the poll interval.
        await asyncio.sleep(min(at_most, self.poll_seconds))
        return False


def _key(path: Path) -> str:
    """The unique part of a Maildir file name (before the ``:2,`` flags)."""
    return path.name.split(":", 1)[0]


def _open(path: Path) -> int:
    return os.open(path, _OPEN_FLAGS)


def _read_message(path: Path, fetch_cap: int) -> tuple[int, bytes]:
    """The real size of the message file at ``path`` and its bytes (the header block only when it
    is larger than ``fetch_cap``); OSError when it is not a readable regular file."""
    fd = _open(path)
    try:
        mode = os.fstat(fd)
        if stat.S_ISDIR(mode.st_mode):
            raise IsADirectoryError(errno.EISDIR, "a directory, not a message", str(path))
        if not stat.S_ISREG(mode.st_mode):
            raise NotAFileError(errno.EINVAL, "not a regular file", str(path))
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        size = mode.st_size
        raw = handle.read() if size <= fetch_cap else _header_block(handle)
    return size, raw


def _header_block(handle: BinaryIO) -> bytes:
    """The header block of a message too large to read whole."""
    head = handle.read(_HEADER_READ_CAP)
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = head.find(separator)
        if end >= 0:
            return head[: end + len(separator)]
    return head


def _delivered(path: Path) -> dt.datetime | None:
    """The file's modification time: when it was delivered (None if it vanished meanwhile)."""
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    except OSError:
        return None
