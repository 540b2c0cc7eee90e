"""`mailgate check`: run saved messages through the real pipeline against a temporary store."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from mailgate.config import Settings
from mailgate.mail.counting import count_zi
from mailgate.pipeline import MessageRef, Pipeline, Processed, first_word
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
        pipeline = Pipeline(store, registry, settings, default_rules(), keep_raw=False)
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
            yield FileResult(
                str(path),
                processed.verdict.outcome.value,
                pipeline.messages_for(processed.verdict),
                item_facts(processed) if processed.item else None,
            )
    finally:
        await store.close()


def _pseudo_finding(rule: str, message: str) -> dict[str, Any]:
    """A finding for a file that never became a submission (not one of the rules' ids)."""
    return {"rule": rule, "severity": "ignore", "message": message}


def item_facts(processed: Processed) -> dict[str, Any]:
    """The filed item as the JSON contract describes it."""
    sub, context, item = processed.submission, processed.context, processed.item
    if item is None:
        raise ValueError("only a filed item has facts")
    signature = sub.parts.signature
    officer = context.officer_for(sub)
    word = first_word(sub.attachments)
    mode = context.settings.counting
    attachment_chars = (
        count_zi(word.word.text, mode) if word is not None and word.word and word.word.text else None
    )
    prior = context.history.prior_item
    return {
        "tracking": item.tracking,
        "unit": item.unit_id,
        "title": item.title,
        "inbox": context.inbox.value,
        "counting": mode.value,
        "body_chars": count_zi(sub.parts.main, mode),
        "attachment_chars": attachment_chars,
        "attachment_name": word.filename if word else None,
        "officer": officer.name if officer else (signature.name if signature else None),
        "officer_email": sub.from_address,
        "author_unit": signature.unit if signature else None,
        "author": signature.name if signature else None,
        "phone": signature.phone if signature else None,
        "date": signature.date.isoformat() if signature and signature.date else None,
        "source": sub.parts.source,
        "revision": item.revision > 1,
        "revision_number": item.revision,
        "revises": prior.tracking if prior and item.revision > 1 else None,
        "urgent": sub.subject.urgent,
        "commissioned": sub.subject.commissioned,
        "commission_code": sub.subject.commission_code,
    }
