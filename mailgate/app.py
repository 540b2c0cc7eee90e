"""Wiring: build the store, pipeline, sources and transport that `mailgate run` needs from settings."""

from __future__ import annotations

from pathlib import Path

from mailgate.clock import SYSTEM_CLOCK, Clock
from mailgate.config import Settings
from mailgate.daemon import Daemon
from mailgate.errors import ConfigurationError
from mailgate.pipeline import Pipeline
from mailgate.registry import load_registry as load_registry_file
from mailgate.replies import Replies
from mailgate.sources.base import Source
from mailgate.sources.maildir import MaildirSource
from mailgate.store import Store
from mailgate.store.lock import InstanceLock
from mailgate.store.registry import load_registry, replace_registry
from mailgate.store.state import StoreCheckpoints
from mailgate.transports.base import Transport
from mailgate.transports.files import FileTransport
from rules import Inbox, default_rules


async def build_daemon(
    settings: Settings, store: Store, *, clock: Clock = SYSTEM_CLOCK, lock: InstanceLock | None = None
) -> Daemon:
    """A daemon over ``store`` (already migrated), with the registry file imported if one is set; with
    ``lock`` (the store's instance lock, held), it pauses whenever the lock is lost."""
    _check_secrets(settings)
    if settings.registry_file is not None:
        await replace_registry(store, load_registry_file(settings.registry_file))
    replies = Replies.from_settings(settings, clock=clock)
    pipeline = Pipeline(
        store, await load_registry(store), settings, default_rules(), replies=replies, clock=clock
    )
    return Daemon(
        settings,
        store,
        pipeline,
        _sources(settings, store, clock),
        _transport(settings),
        clock=clock,
        lock=lock,
    )


def _sources(settings: Settings, store: Store, clock: Clock) -> list[Source]:
    cap = settings.rules.max_message_bytes
    source = settings.source
    if source.kind == "maildir":
        return [
            MaildirSource(Inbox.DAILY, Path(source.daily), fetch_cap=cap),
            MaildirSource(Inbox.COMMISSIONED, Path(source.commissioned), fetch_cap=cap),
        ]
    from mailgate.sources.imap import ImapSource

    checkpoints = StoreCheckpoints(store, clock)
    sources: list[Source] = []
    for inbox in Inbox:
        account = getattr(source.imap, inbox.value)
        if account is None:
            raise ConfigurationError(f"[source.imap.{inbox.value}] is missing")
        sources.append(ImapSource(inbox, source.imap, account, checkpoints, fetch_cap=cap))
    return sources


def _transport(settings: Settings) -> Transport:
    if settings.transport.kind == "files":
        return FileTransport(settings.transport.directory)
    from mailgate.transports.smtp import SmtpTransport

    return SmtpTransport(settings.transport.smtp)


def _check_secrets(settings: Settings) -> None:
    """Read every configured password once, so a missing password file fails at start."""
    if settings.transport.kind == "smtp":
        settings.transport.smtp.secret()
    if settings.source.kind == "imap":
        for inbox in Inbox:
            account = getattr(settings.source.imap, inbox.value)
            if account is not None and account.secret() is None:
                raise ConfigurationError(f"no password for [source.imap.{inbox.value}]")
