"""`mailgate check`: run saved messages through the real pipeline against a temporary store."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import structlog
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from mailgate.clock import SYSTEM_CLOCK, Clock
from mailgate.config import Settings, StoreSettings
from mailgate.errors import StoreError
from mailgate.pipeline import AlreadyProcessed, MessageRef, Pipeline
from mailgate.registry import Registry, load_registry
from mailgate.store import Store
from mailgate.store.models import OfficerRow, UnitRow
from mailgate.store.registry import read_registry
from rules import Inbox, RuleRegistry, default_rules

log = structlog.get_logger("mailgate.check")

#: The rules that judge the sender against the registry: without a registry they are not run.
REGISTRY_RULES = ("unregistered-sender", "sender-name", "identifier")


@dataclass(frozen=True, slots=True)
class RegistryChoice:
    """The registry `check` judges senders against, and where it came from; none at all is a choice too."""

    registry: Registry | None
    origin: Literal["file", "store"] | None = None
    location: str | None = None  # the file, or the store's URL without its password
    #: Why there is none, when there is none.
    reason: str | None = None

    def describe(self) -> str:
        """One line for stderr."""
        if self.registry is None:
            why = f" ({self.reason})" if self.reason else ""
            return (
                f"no registry{why}: senders are not checked against one "
                f"({', '.join(REGISTRY_RULES)} not run; give one with --registry)"
            )
        units, officers = len(self.registry.units), len(self.registry.officers)
        return f"registry: {self.origin} {self.location} ({units} units, {officers} officers)"

    def to_json(self) -> dict[str, Any] | None:
        if self.registry is None:
            return None
        return {
            "from": self.origin,
            "at": self.location,
            "units": len(self.registry.units),
            "officers": len(self.registry.officers),
        }


async def choose_registry(settings: Settings, given: Path | None) -> RegistryChoice:
    """The registry for `check`: the file ``given``, else the configured store's, else the configured
    ``registry_file``, else none. The store is only read: one that does not exist is not created.

    A registry file that cannot be read raises ConfigurationError; a store that cannot, StoreError."""
    if given is not None:
        return RegistryChoice(load_registry(given), "file", str(given))
    where = redact(settings.store.url)
    found, reason = await registry_in_store(settings.store)
    if found is not None:
        return RegistryChoice(found, "store", where)
    if settings.registry_file is not None:
        return RegistryChoice(load_registry(settings.registry_file), "file", str(settings.registry_file))
    return RegistryChoice(None, reason=f"store {where} {reason}")


async def registry_in_store(settings: StoreSettings) -> tuple[Registry | None, str]:
    """The registry the store at ``settings.url`` holds, read in a read-only transaction; or None and
    why not (no such SQLite file, not migrated, no units imported)."""
    database = settings.sqlite_file
    if settings.url.startswith("sqlite") and database is None:
        return None, "is in memory"
    if database is not None and not database.is_file():
        return None, "does not exist"
    store = Store(settings.url)
    try:
        async with store.reading() as repo:
            session = repo.session
            if not await session.run_sync(_has_registry_tables):
                return None, "is not migrated"
            registry = await read_registry(repo)
    except (StoreError, OSError) as exc:  # a connection refused comes through as it is
        first = (str(exc.__cause__ or exc).splitlines() or [type(exc).__name__])[0]
        raise StoreError(f"cannot read the registry in the store {redact(settings.url)}: {first}") from exc
    finally:
        await store.close()
    if not registry.units:
        return None, "holds none (mailgate registry import)"
    return registry, ""


def _has_registry_tables(session: Session) -> bool:
    inspector = inspect(session.connection())
    return all(inspector.has_table(table) for table in (UnitRow.__tablename__, OfficerRow.__tablename__))


def redact(url: str) -> str:
    """``url`` without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def rules_for(choice: RegistryChoice) -> RuleRegistry:
    """Every rule; without a registry, not those that judge the sender against one."""
    everything = default_rules()
    if choice.registry is not None:
        return everything
    chosen = RuleRegistry()
    for rule in everything:
        if rule.name not in REGISTRY_RULES:
            chosen.register(rule)
    return chosen


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
    registry: RegistryChoice,
    inbox: Inbox,
    received_at: dt.datetime | None,
    clock: Clock = SYSTEM_CLOCK,
) -> AsyncIterator[FileResult]:
    """Yield one result per file, in order, all against one fresh in-memory store.

    Without ``received_at`` a file's arrival is its topmost Received header, else ``clock``'s now."""
    store = Store("sqlite+aiosqlite:///:memory:")
    try:
        await store.create_schema()
        pipeline = Pipeline(
            store, registry.registry or Registry(), settings, rules_for(registry), clock=clock
        )
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
            yield FileResult(
                str(path),
                processed.verdict.outcome.value,
                pipeline.messages_for(processed.verdict),
                processed.facts,
            )
    finally:
        await store.close()


def _pseudo_finding(rule: str, message: str) -> dict[str, Any]:
    """A finding for a file that never became a submission (not one of the rules' ids)."""
    return {"rule": rule, "severity": "ignore", "message": message}
