"""`mailgate check`: run saved messages through the real pipeline against a temporary store."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from mailgate.config import Settings
from mailgate.pipeline import AlreadyProcessed, MessageRef, Pipeline, item_facts
from mailgate.registry import Registry
from mailgate.store import Store
from rules import Inbox, default_rules

log = structlog.get_logger("mailgate.check")


@dataclass(frozen=True, slots=True)
class FileResult:
    """The verdict for one file as the command reports it."""

    file: str
    verdict: str
    findings: list[dict[str, Any]]
    item: dict[str, Any] | None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file": self.file,
            "verdict": self.verdict,
            "findings": self.findings,
            "item": self.item,
        }
        if self.error is not None:
            data["error"] = self.error
        return data


async def check_files(
    files: Sequence[Path],
    *,
    settings: Settings,
    registry: Registry,
    inbox: Inbox,
    received_at: dt.datetime | None,
) -> AsyncIterator[FileResult]:
    """Yield one result per file, in order, all against one fresh in-memory store."""
    store = Store("sqlite+aiosqlite:///:memory:")
    try:
        await store.create_schema()
        pipeline = Pipeline(store, registry, settings, default_rules())
        for path in files:
            try:
                raw = path.read_bytes()
            except OSError as exc:
                yield FileResult(
                    str(path),
                    "ignored",
                    [_pseudo_finding("unreadable", f"无法读取文件：{exc.strerror}")],
                    None,
                    error=str(exc),
                )
                continue
            try:
                processed = await pipeline.process(
                    raw, inbox=inbox, ref=MessageRef(f"check:{inbox.value}"), received_at=received_at
                )
                if isinstance(processed, AlreadyProcessed):  # files have no source key
                    raise RuntimeError("a checked file was found on file already")
            except Exception as exc:  # the boundary: report, never a traceback, never a reply
                log.exception("message_failed", file=str(path))
                yield FileResult(
                    str(path),
                    "ignored",
                    [_pseudo_finding("processing-failed", "处理失败，已记入日志，请联系运维人员")],
                    None,
                    error=f"{type(exc).__name__}: {exc}",
                )
                continue
            facts = (
                item_facts(processed.submission, processed.context, processed.item)
                if processed.item
                else None
            )
            yield FileResult(
                str(path),
                processed.verdict.outcome.value,
                pipeline.messages_for(processed.verdict),
                facts,
            )
    finally:
        await store.close()


def _pseudo_finding(rule: str, message: str) -> dict[str, Any]:
    """A finding for a file that never became a submission (not one of the rules' ids)."""
    return {"rule": rule, "severity": "ignore", "message": message}
