"""Web commands: serve the desk, and manage its users."""

from __future__ import annotations

import datetime as dt
import sys
import zoneinfo
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from mailgate.cli._app import ConfigOption, app, load_or_exit, with_store
from mailgate.config import Settings
from mailgate.desk import users
from mailgate.errors import ConfigurationError
from mailgate.log import configure as configure_logging
from mailgate.store import Store

HostOption = Annotated[str | None, typer.Option("--host", help="Address to listen on (default: [web] host).")]
T = TypeVar("T")
PortOption = Annotated[
    int | None, typer.Option("--port", min=1, max=65535, help="Port to listen on (default: [web] port).")
]


def session_key_or_exit(settings: Settings, host: str) -> str:
    """The desk's session key for ``host``, or exit 2 when it may not run there (see ``session_key``)."""
    from mailgate.web.app import session_key

    try:
        return session_key(settings.web.secret(), host)
    except ConfigurationError as exc:
        typer.echo(f"mailgate: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def serve(config: ConfigOption = None, host: HostOption = None, port: PortOption = None) -> None:
    """Serve the desk (queue, rejection log, status) over HTTP until SIGTERM."""
    settings, _ = load_or_exit(config, None)
    configure_logging(settings.log_level)
    host = host or settings.web.host
    key = session_key_or_exit(settings, host)

    async def serve_desk(store: Store) -> None:
        from mailgate.web import create_app
        from mailgate.web.server import web_server

        desk = create_app(settings, store, secret_key=key, host=host)
        await web_server(desk, host, port or settings.web.port).serve()

    with_store(settings, serve_desk)


user_app = typer.Typer(help="The desk's users: editors, ops and admins.", no_args_is_help=True)
app.add_typer(user_app, name="user")

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    return password


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits, . _ -")],
    role: Annotated[str, typer.Option("--role", help="editor, ops or admin.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
) -> None:
    """Create a desk user (the password is asked twice, or read from standard input)."""
    settings, _ = load_or_exit(config, None)
    try:
        users.normalise_username(username)
        users.check_role(role)
    except ValueError as exc:
        typer.echo(f"mailgate: {exc}", err=True)
        raise typer.Exit(2) from exc
    password = _password(password_stdin)
    added = with_store(settings, lambda store: users.create_user(store, username, password, role, name))
    typer.echo(f"user {added.username} added ({added.role})")


@user_app.command("password")
def user_password(
    username: Annotated[str, typer.Argument(help="The user.")],
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
) -> None:
    """Set a user's password (asked twice, or read from standard input); their open sessions end."""
    settings, _ = load_or_exit(config, None)
    password = _password(password_stdin)
    changed = with_store(settings, lambda store: users.set_password(store, username, password))
    typer.echo(f"password of {changed.username} set; their sessions ended")


@user_app.command("role")
def user_role(
    username: Annotated[str, typer.Argument(help="The user.")],
    role: Annotated[str, typer.Argument(help="editor, ops or admin.")],
    config: ConfigOption = None,
) -> None:
    """Give a user another role; their open sessions end. The last active admin keeps theirs."""
    settings, _ = load_or_exit(config, None)
    changed = with_store(settings, lambda store: users.set_role(store, username, role))
    typer.echo(f"user {changed.username} is now {changed.role}")


@user_app.command("deactivate")
def user_deactivate(
    username: Annotated[str, typer.Argument(help="The user.")], config: ConfigOption = None
) -> None:
    """Stop a user from signing in; their open sessions end. The last active admin stays."""
    settings, _ = load_or_exit(config, None)
    changed = with_store(settings, lambda store: users.deactivate(store, username))
    typer.echo(f"user {changed.username} deactivated")


@user_app.command("reactivate")
def user_reactivate(
    username: Annotated[str, typer.Argument(help="The user.")], config: ConfigOption = None
) -> None:
    """Let a deactivated user sign in again, with the password they had."""
    settings, _ = load_or_exit(config, None)
    changed = with_store(settings, lambda store: users.reactivate(store, username))
    typer.echo(f"user {changed.username} reactivated")


@user_app.command("list")
def user_list(config: ConfigOption = None) -> None:
    """List the desk's users, with times in the units' time zone ([rules] timezone)."""
    settings, _ = load_or_exit(config, None)
    zone = zoneinfo.ZoneInfo(settings.rules.timezone)

    def local(when: dt.datetime | None) -> str:
        return when.astimezone(zone).strftime("%Y-%m-%d %H:%M") if when is not None else "—"

    table = Table("用户名", "姓名", "角色", "状态", "创建时间", "最近登录", caption=f"时间：{zone.key}")
    for user in with_store(settings, users.list_users):
        table.add_row(
            user.username,
            user.display_name,
            user.role_label,
            "启用" if user.active else "已停用",
            local(user.created_at),
            local(user.last_login_at),
        )
    Console(highlight=False).print(table)
