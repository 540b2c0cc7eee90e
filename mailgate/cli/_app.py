"""The command-line application and what its commands share: settings, the store, errors."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from mailgate import __version__
from mailgate.config import Settings, load_settings
from mailgate.errors import ConfigurationError, MailgateError
from mailgate.registry import Registry, load_registry
from mailgate.store import Store

T = TypeVar("T")
ConfigOption = Annotated[
    Path | None, typer.Option("--config", envvar="MAILGATE_CONFIG", help="Settings file (TOML).")
]

app = typer.Typer(
    name="mailgate",
    help="Checks information items submitted by email and answers every sender.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mailgate {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """mailgate: the submission gate of the 《穗府信息》 desk."""


def parse_time(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO 8601 date-time: {value!r}", param_hint="--received-at") from exc
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def settings_or_exit(config: Path | None) -> Settings:
    """The settings of ``config`` (or the embedded default); a bad file exits 2 with its reason."""
    try:
        return load_settings(config)
    except ConfigurationError as exc:
        typer.echo(f"mailgate: {exc}", err=True)
        raise typer.Exit(2) from exc


def load_or_exit(config: Path | None, registry_file: Path | None) -> tuple[Settings, Registry]:
    settings = settings_or_exit(config)
    try:
        path = registry_file or settings.registry_file
        return settings, (load_registry(path) if path else Registry())
    except ConfigurationError as exc:
        typer.echo(f"mailgate: {exc}", err=True)
        raise typer.Exit(2) from exc


def migrate_or_exit(settings: Settings) -> None:
    if not settings.store.auto_migrate:
        return
    from mailgate.store.migrate import upgrade

    try:
        upgrade(settings.store.url)
    except MailgateError as exc:
        typer.echo(f"mailgate: {exc}", err=True)
        raise typer.Exit(1) from exc


def with_store(settings: Settings, work: Callable[[Store], Awaitable[T]], *, migrate: bool = True) -> T:
    """Run ``work`` on the configured store (migrated first unless ``migrate`` is False) and close it.

    Bad input (``ValueError``) exits 2; something not found (``LookupError``) or a failing store or
    configuration (``MailgateError``) exits 1; each with its message, never a traceback."""
    if migrate:
        migrate_or_exit(settings)

    async def main() -> T:
        store = Store(settings.store.url)
        try:
            return await work(store)
        finally:
            with contextlib.suppress(MailgateError):  # the work's outcome is the news, not the closing
                await store.close()

    try:
        return asyncio.run(main())
    except ValueError as exc:
        typer.echo(f"mailgate: {exc}", err=True)
        raise typer.Exit(2) from exc
    except (LookupError, MailgateError) as exc:
        typer.echo(f"mailgate: {exc.args[0] if exc.args else exc}", err=True)
        raise typer.Exit(1) from exc
