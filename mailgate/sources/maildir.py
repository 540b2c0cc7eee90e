"""A local Maildir folder as a source: the embedded default, and the simplest way to feed mailgate."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path
from typing import BinaryIO

import structlog

from mailgate.errors import SourceError
from mailgate.sources.base import Disposition, Fetched
from rules import Inbox

log = structlog.get_logger("mailgate.sources.maildir")

#: Maildir++ sub-folders messages are filed into, by disposition.
FOLDERS = {
    Disposition.ACCEPTED: ".Processed",
    Disposition.REJECTED: ".Rejected",
    Disposition.IGNORED: ".Ignored",
    Disposition.QUARANTINED: ".Quarantine",
}
_HEADER_READ_CAP = 1024 * 1024


class MaildirSource:
    """Reads ``new/`` and ``cur/`` of a Maildir; files messages into Maildir++ sub-folders."""

    def __init__(
        self, inbox: Inbox, path: Path, *, fetch_cap: int, batch: int = 100, poll_seconds: float = 2.0
    ) -> None:
        self.inbox = inbox
        self.path = path
        self.fetch_cap = fetch_cap
        self.batch = batch
        self.poll_seconds = poll_seconds
        self._names: dict[str, Path] = {}

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
        try:
            entries = [
                entry
                for sub in ("new", "cur")
                for entry in os.scandir(self.path / sub)
                if entry.is_file() and not entry.name.startswith(".")
            ]
        except OSError as exc:
            raise SourceError(f"cannot list Maildir {self.path}: {exc}") from exc
        entries.sort(key=lambda e: (e.stat().st_mtime_ns, e.name))
        return [Path(e.path) for e in entries]

    def _read(self, path: Path) -> Fetched | None:
        key = path.name.split(":", 1)[0]
        try:
            size = path.stat().st_size
            with path.open("rb") as handle:
                raw = handle.read() if size <= self.fetch_cap else _header_block(handle)
        except FileNotFoundError:
            return None  # taken by someone else meanwhile
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc}") from exc
        self._names[key] = path
        # No arrival time: files are often copied in later, so the Received header tells it better.
        return Fetched(self.inbox, key, raw, size, None)

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


def _header_block(handle: BinaryIO) -> bytes:
    """The header block of a message too large to read whole."""
    head = handle.read(_HEADER_READ_CAP)
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = head.find(separator)
        if end >= 0:
            return head[: end + len(separator)]
    return head
