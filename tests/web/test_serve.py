"""Starting the desk: no listening on the network unprotected; the commands; serving beside the daemon."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from starlette.types import ASGIApp
from typer.testing import CliRunner

from mailgate.cli import app as cli
from mailgate.config import Settings
from mailgate.desk import users
from mailgate.errors import ConfigurationError, MailgateError
from mailgate.store import Store
from mailgate.web import create_app
from mailgate.web.server import serve_beside, web_server
from web.conftest import PASSWORD, Client

runner = CliRunner()


@pytest.fixture
async def unused_store() -> AsyncIterator[Store]:
    """A store the application is built over but never queried (building the app reads nothing)."""
    store = Store("sqlite+aiosqlite:///:memory:")
    yield store
    await store.close()


async def test_the_desk_refuses_to_start_on_the_network_without_a_secret_key(unused_store: Store) -> None:
    for host in ("0.0.0.0", "::", "192.0.2.10", "desk.example.org"):
        with pytest.raises(ConfigurationError, match="not a loopback address"):
            create_app(Settings(), unused_store, secret_key=None, host=host)
        with pytest.raises(ConfigurationError, match="too short"):
            create_app(Settings(), unused_store, secret_key="short", host=host)
        assert create_app(Settings(), unused_store, secret_key="k" * 40, host=host) is not None
    with pytest.raises(ConfigurationError):
        create_app(Settings(web={"host": "0.0.0.0"}), unused_store, secret_key=None)


async def test_on_loopback_the_desk_starts_with_a_key_of_its_own(unused_store: Store) -> None:
    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.8.9.10"):
        assert create_app(Settings(), unused_store, secret_key=None, host=host) is not None


def test_mailgate_serve_refuses_before_touching_the_database(tmp_path: Path) -> None:
    database = tmp_path / "mailgate.db"
    env = {"MAILGATE_STORE__URL": f"sqlite+aiosqlite:///{database}", "MAILGATE_WEB__SECRET_KEY": None}
    result = runner.invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "8999"], env=env)
    assert result.exit_code == 2
    assert "not a loopback address" in result.output
    empty = runner.invoke(cli, ["serve", "--host", "0.0.0.0"], env={**env, "MAILGATE_WEB__SECRET_KEY": ""})
    assert "not a loopback address" in empty.output
    short = runner.invoke(cli, ["serve", "--host", "0.0.0.0"], env={**env, "MAILGATE_WEB__SECRET_KEY": "abc"})
    assert short.exit_code == 2
    assert "too short" in short.output
    assert not database.exists()


def test_mailgate_user_add_and_list(database_url: str) -> None:
    env = {"MAILGATE_STORE__URL": database_url}
    added = runner.invoke(
        cli,
        ["user", "add", "Wang", "--role", "admin", "--name", "王管理", "--password-stdin"],
        input="correct horse battery\n",
        env=env,
    )
    assert added.exit_code == 0, added.output
    assert "user wang added (admin)" in added.output
    prompted = runner.invoke(
        cli,
        ["user", "add", "li", "--role", "editor"],
        input="correct horse battery\nother password!\n",
        env=env,
    )
    assert prompted.exit_code != 0  # the two entries differ and there is nothing more to read
    for args, message in (
        (["user", "add", "wang", "--role", "editor", "--password-stdin"], "已被使用"),
        (["user", "add", "zhao", "--role", "boss", "--password-stdin"], "角色须为"),
        (["user", "add", "zhao", "--role", "ops", "--password-stdin"], "至少需要"),
    ):
        refused = runner.invoke(
            cli, args, input="short\n" if "ops" in args else "correct horse battery\n", env=env
        )
        assert refused.exit_code == 2
        assert message in refused.output
    listed = runner.invoke(cli, ["user", "list"], env=env)
    assert listed.exit_code == 0
    assert "wang" in listed.output
    assert "王管理" in listed.output
    assert "li " not in listed.output


class _Daemon:
    """Stands in for the daemon: runs until stopped (or returns at once with ``once``)."""

    def __init__(self) -> None:
        self.stopping = asyncio.Event()

    def stop(self) -> None:
        self.stopping.set()

    async def run(self, *, once: bool = False) -> None:
        if not once:
            await self.stopping.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_a_desk_that_cannot_listen_stops_the_daemon_with_it(unused_store: Store) -> None:
    daemon = _Daemon()
    app = create_app(Settings(), unused_store, secret_key=None)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MailgateError, match="could not listen"):
            await asyncio.wait_for(serve_beside(daemon, app, "127.0.0.1", port), 30)  # type: ignore[arg-type]
    assert daemon.stopping.is_set()


async def test_the_desk_stops_when_the_daemon_does(unused_store: Store) -> None:
    daemon = _Daemon()
    app = create_app(Settings(), unused_store, secret_key=None)
    await asyncio.wait_for(serve_beside(daemon, app, "127.0.0.1", _free_port(), once=True), 30)  # type: ignore[arg-type]
    assert not daemon.stopping.is_set()


@contextlib.asynccontextmanager
async def served(app: ASGIApp) -> AsyncIterator[int]:
    """``app`` served by uvicorn on a loopback port already listening (so no waiting for start-up)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    server = web_server(app, "127.0.0.1", 0, own_signals=False)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        yield listener.getsockname()[1]
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        listener.close()


async def test_the_served_desk_answers_a_huge_body_with_413_without_reading_it(unused_store: Store) -> None:
    app = create_app(Settings(), unused_store, secret_key=None)
    async with served(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 1610612736\r\n\r\n--x\r\n"
        )
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 10)  # 1.5 GB never sent: no waiting for it
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        writer.close()
    assert status.startswith(b"HTTP/1.1 413"), status
    assert b"content-type: text/html" in head.lower()


class _Gate(PasswordHasher):
    """Checks passwords only once the test opens the gate (or after 10 s)."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=64, parallelism=1)
        self.entered, self.gate = threading.Event(), threading.Event()
        self.opened: list[bool] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.entered.set()
        self.opened.append(self.gate.wait(10))
        return super().verify(hash, password)


async def test_the_served_desk_keeps_serving_while_passwords_are_being_checked(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await users.create_user(store, "editor", PASSWORD, "editor")
    gate = _Gate()
    monkeypatch.setattr(users, "HASHER", gate)
    app = create_app(Settings(), store, secret_key=None)
    async with served(app) as port:
        guessers = [Client(app) for _ in range(8)]
        for guesser in guessers:
            guesser.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}")
        try:
            tokens = [await g.token() for g in guessers]
            form = {"username": "editor", "password": "a wrong password"}
            guesses = [
                asyncio.create_task(g.post("/login", form, token=t))
                for g, t in zip(guessers, tokens, strict=True)
            ]
            assert await asyncio.to_thread(gate.entered.wait, 10)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as other:
                page = await other.get("/login")
            assert page.status_code == 200  # served while the guesses wait in their threads
            gate.gate.set()
            answers = sorted(r.status_code for r in await asyncio.gather(*guesses))
        finally:
            for guesser in guessers:
                await guesser.http.aclose()
    assert answers == [401] * 5 + [429] * 3  # the sixth guess and after wait 15 minutes
    assert gate.opened == [True] * 5
