"""The core commands: check, rules, run, health, db, registry and commission."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import stat
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url

from mailgate.check import FileResult, check_files, choose_registry
from mailgate.cli._app import (
    ConfigOption,
    app,
    load_or_exit,
    parse_time,
    settings_or_exit,
    with_store,
)
from mailgate.cli._web import session_key_or_exit
from mailgate.clock import SYSTEM_CLOCK
from mailgate.desk.labels import VERDICT_LABELS
from mailgate.errors import ConfigurationError, MailgateError
from mailgate.log import configure as configure_logging
from mailgate.registry import Registry, dump_registry, load_registry
from mailgate.store import Store
from rules import Context, Inbox, default_rules

#: How long `run` waits for the database connections to close once the daemon has stopped.
STOP_CLOSE_TIMEOUT = 1.5
_SEVERITY_MARK = {"reject": "[red]✗[/red]", "warn": "[yellow]![/yellow]", "ignore": "[dim]·[/dim]"}


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="Saved messages (.eml), processed in this order.")],
    config: ConfigOption = None,
    registry: Annotated[
        Path | None,
        typer.Option(
            "--registry", help="Units and officers (TOML); default: the configured store's registry."
        ),
    ] = None,
    inbox: Annotated[Inbox, typer.Option("--inbox", help="The inbox the messages arrived in.")] = Inbox.DAILY,
    received_at: Annotated[
        str | None, typer.Option("--received-at", help="Arrival time (ISO 8601) for every file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file on stdout.")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="Log level on stderr.")] = "warning",
) -> None:
    """Check saved messages against the rules, as if they had arrived in INBOX, one after another.

    The registry is --registry, else the one in the configured store (only read), else the config's
    registry_file; with none, the rules that judge senders against it are not run (said on stderr)."""
    arrival = parse_time(received_at)
    configure_logging(log_level)
    for path in files:
        problem = _not_a_message_file(path)
        if problem is not None:
            typer.echo(f"mailgate: {path}: {problem}", err=True)
            raise typer.Exit(2)
    settings = settings_or_exit(config)

    async def run() -> None:
        chosen = await choose_registry(settings, registry)
        typer.echo(chosen.describe(), err=True)
        used = chosen.to_json()
        async for result in check_files(
            files, settings=settings, registry=chosen, inbox=inbox, received_at=arrival
        ):
            if as_json:
                line = result.to_json() | {"registry": used}
                sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
                sys.stdout.flush()
            else:
                _report(result)

    try:
        asyncio.run(run())
    except ConfigurationError as exc:  # the registry file
        typer.echo(f"mailgate: {exc}", err=True)
        raise typer.Exit(2) from exc
    except MailgateError as exc:  # the store
        typer.echo(f"mailgate: {exc}", err=True)
        raise typer.Exit(1) from exc


def _not_a_message_file(path: Path) -> str | None:
    """Why ``path`` cannot be checked at all (a usage error), or None."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    if stat.S_ISDIR(mode):
        return "is a directory"
    return None if stat.S_ISREG(mode) else "not a regular file"


db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(
    config: ConfigOption = None,
    database: Annotated[
        str | None, typer.Option("--database", help="Database URL (overrides the config).")
    ] = None,
    revision: Annotated[str, typer.Option("--revision", help="Target revision.")] = "head",
) -> None:
    """Create or migrate the database to the current schema."""
    from mailgate.store.migrate import upgrade  # Alembic is only needed here

    settings, _ = load_or_exit(config, None)
    url = database or settings.store.url
    try:
        upgrade(url, revision)
    except MailgateError as exc:
        typer.echo(f"mailgate: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"database at revision {revision}: {_redact(url)}")


def _redact(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


@app.command()
def run(
    config: ConfigOption = None,
    once: Annotated[
        bool, typer.Option("--once", help="Process what is waiting, send replies, exit.")
    ] = False,
    serve: Annotated[
        bool, typer.Option("--serve", help="Serve the desk beside the daemon ([web] host and port).")
    ] = False,
) -> None:
    """Watch both inboxes, file every verdict and answer every sender (until SIGTERM).

    One `run` per store: a second one is refused while the first holds the store's instance lock."""
    settings, _ = load_or_exit(config, None)
    configure_logging(settings.log_level)
    key = session_key_or_exit(settings, settings.web.host) if serve else None

    async def main() -> None:
        from mailgate.app import build_daemon
        from mailgate.store.lock import instance_lock
        from mailgate.store.migrate import upgrade

        store = Store(settings.store.url)
        lock = instance_lock(store)
        try:
            await lock.acquire()  # before migrating: the running instance may be mid-write
            if settings.store.auto_migrate:
                await asyncio.to_thread(upgrade, settings.store.url)
            daemon = await build_daemon(settings, store, lock=lock)
            if serve:
                from mailgate.web import create_app
                from mailgate.web.server import serve_beside

                desk = create_app(settings, store, secret_key=key)
                await serve_beside(daemon, desk, settings.web.host, settings.web.port, once=once)
            else:
                await daemon.run(once=once)
        finally:
            await lock.release()
            with contextlib.suppress(MailgateError):  # quickly: a stopping daemon does not wait on it
                await store.close(timeout=STOP_CLOSE_TIMEOUT)

    try:
        asyncio.run(main())
    except MailgateError as exc:
        typer.echo(f"mailgate: {exc}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def health(
    config: ConfigOption = None,
    stale: Annotated[float, typer.Option("--stale", help="Seconds after which a component is stale.")] = 600,
) -> None:
    """Exit 0 when every inbox watcher and the outbox worker reported recently, else 1."""
    settings = settings_or_exit(config)
    database = settings.store.sqlite_file
    if database is not None and not database.is_file():  # opening it would create an empty store
        typer.echo(f"unhealthy: no store at {database}", err=True)
        raise typer.Exit(1)

    async def beats() -> dict[str, tuple[dt.datetime, dict[str, object]]]:
        from mailgate.store.state import Heartbeats

        store = Store(settings.store.url)
        try:
            return await Heartbeats(store).all()
        finally:
            await store.close()

    try:
        found = asyncio.run(beats())
    except MailgateError as exc:
        typer.echo(f"unhealthy: {exc}", err=True)
        raise typer.Exit(1) from exc
    now = SYSTEM_CLOCK.now()
    healthy = True
    for component in ("inbox:daily", "inbox:commissioned", "outbox"):
        beat = found.get(component)
        age = (now - beat[0]).total_seconds() if beat else None
        ok = age is not None and age <= stale and beat is not None and beat[1].get("connected", True) is True
        healthy &= ok
        state = "ok" if ok else "STALE" if beat else "MISSING"
        typer.echo(
            f"{component}: {state}" + (f" ({age:.0f}s ago) {beat[1]}" if beat and age is not None else "")
        )
    raise typer.Exit(0 if healthy else 1)


registry_app = typer.Typer(help="The registry of units and officers.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")


@registry_app.command("import")
def registry_import(
    file: Annotated[Path, typer.Argument(help="Registry TOML file.")],
    config: ConfigOption = None,
) -> None:
    """Replace the registry in the database with FILE."""
    settings, _ = load_or_exit(config, None)
    registry = _load_registry_file(file)
    from mailgate.store.registry import replace_registry

    with_store(settings, lambda store: replace_registry(store, registry))
    typer.echo(f"imported {len(registry.units)} units and {len(registry.officers)} officers")


@registry_app.command("export")
def registry_export(config: ConfigOption = None) -> None:
    """Print the registry in the database as TOML."""
    settings, _ = load_or_exit(config, None)
    from mailgate.store.registry import load_registry as load_from_store

    registry = with_store(settings, load_from_store)
    sys.stdout.write(dump_registry(registry))


commission_app = typer.Typer(help="Commissions (约稿).", no_args_is_help=True)
app.add_typer(commission_app, name="commission")


@commission_app.command("add")
def commission_add(
    code: Annotated[str, typer.Argument(help="The code units write as 【约稿:CODE】.")],
    topic: Annotated[str, typer.Option("--topic", help="What is asked for.")],
    deadline: Annotated[str, typer.Option("--deadline", help="ISO 8601 date or date-time.")],
    config: ConfigOption = None,
) -> None:
    """Record a commission; answers after its deadline are flagged late."""
    settings, _ = load_or_exit(config, None)
    from mailgate.store.registry import InvalidCommissionError, add_commission, check_commission

    code, topic = code.strip(), topic.strip()
    try:
        when = _parse_deadline(deadline, settings.zone)
        check_commission(code, topic, when)
    except InvalidCommissionError as exc:
        typer.echo(f"mailgate: {exc}", err=True)
        raise typer.Exit(2) from exc
    with_store(settings, lambda store: add_commission(store, code, topic, when, clock=SYSTEM_CLOCK))
    typer.echo(f"commission {code} added, deadline {when.isoformat()}")


def _parse_deadline(value: str, zone: dt.tzinfo) -> dt.datetime:
    """A deadline: a date means the end of that day in the units' time zone (else
    ``InvalidCommissionError``)."""
    from mailgate.store.registry import InvalidCommissionError

    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=zone)
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidCommissionError(
            "deadline", f"the deadline {value!r} is not an ISO 8601 date or date-time"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=zone)


def _load_registry_file(path: Path) -> Registry:
    try:
        return load_registry(path)
    except ConfigurationError as exc:
        typer.echo(f"mailgate: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command("rules")
def list_rules(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per rule.")] = False,
) -> None:
    """List the rules in evaluation order with their configured severity and message templates."""
    settings, _ = load_or_exit(config, None)
    context = Context(Registry(), Inbox.DAILY, SYSTEM_CLOCK.now(), settings.rules)
    console = Console(highlight=False, soft_wrap=True)
    for rule in default_rules():
        entry = {
            "rule": rule.name,
            "severity": context.severity_of(rule).value,
            "description": rule.description,
            "messages": dict(rule.messages),
        }
        if as_json:
            sys.stdout.write(json.dumps(entry, ensure_ascii=False) + "\n")
            continue
        console.print(f"[bold]{rule.name}[/bold] ({entry['severity']}): {escape(rule.description)}")
        for reason, text in rule.messages.items():
            console.print(f"    {escape(reason)}: {escape(text)}")


def _report(result: FileResult) -> None:
    console = Console(highlight=False, soft_wrap=True)
    verdict = VERDICT_LABELS.get(result.verdict, result.verdict)
    console.print(f"[bold]{escape(result.file)}[/bold]：{verdict}")
    for finding in result.findings:
        mark = _SEVERITY_MARK.get(finding["severity"], "-")
        console.print(f"  {mark} {escape('[' + finding['rule'] + ']')} {escape(finding['message'])}")
    item = result.item
    if item:
        counting = "按 Word 字数统计" if item["counting"] == "word" else "按非空白字符"
        lines = [
            f"编号 {item['tracking']}",
            f"单位 {item['unit']}",
            f"标题 {item['title']}",
            f"正文 {item['body_chars']} 字（{counting}）",
        ]
        if item["attachment_chars"] is not None:
            lines.append(f"附件 {item['attachment_chars']} 字")
        if item["revision"]:
            lines.append(f"第 {item['revision_number']} 稿")
        if item["urgent"]:
            lines.append("紧急")
        console.print("  " + "；".join(escape(line) for line in lines))
    console.print()
