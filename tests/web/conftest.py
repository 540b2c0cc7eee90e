"""The desk's web application over a store on each backend, with a signed-in client per role."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from desk.data import Desk
from starlette.applications import Starlette

from mailgate.config import Settings
from mailgate.desk import users
from mailgate.store import Store
from mailgate.web import create_app

PASSWORD = "correct horse battery"
SECRET = "k" * 40
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client:
    """A browser's view of the desk: cookies kept, CSRF tokens read from the pages."""

    def __init__(self, app: Starlette, base_url: str = "http://testserver") -> None:
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.get(path, **kwargs)

    async def token(self) -> str:
        """This session's CSRF token, as a page's forms carry it."""
        page = await self.http.get("/logout")
        if page.status_code != 200:
            page = await self.http.get("/login")
        found = _TOKEN.search(page.text)
        assert found is not None, page.text
        return found.group(1)

    async def post(
        self, path: str, data: dict[str, Any] | None = None, *, token: str | None = "auto", **kwargs: Any
    ) -> httpx.Response:
        """A form post carrying this session's token (or ``token`` itself; None for none at all)."""
        form = dict(data or {})
        if token == "auto":
            token = await self.token()
        if token is not None:
            form["csrf_token"] = token
        return await self.http.post(path, data=form, **kwargs)

    async def login(self, username: str, password: str = PASSWORD, next_path: str = "/") -> httpx.Response:
        return await self.post("/login", {"username": username, "password": password, "next": next_path})


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fast argon2 parameters: the tests sign in often."""
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture
async def desk(store: Store) -> Desk:
    """The store with the test registry, a pipeline that files into it, and one user per role."""
    desk = Desk(store)
    await desk.start()
    for role in users.ROLES:
        await users.create_user(store, role, PASSWORD, role, f"{role} 同事")
    return desk


def make_app(store: Store, **web: Any) -> Starlette:
    return create_app(Settings(web=web), store, secret_key=SECRET)


@pytest.fixture
async def app(desk: Desk) -> Starlette:
    return make_app(desk.store)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[Callable[[str | None], Awaitable[Client]]]:
    """Makes a client signed in as the named role (or anonymous for None)."""
    made: list[Client] = []

    async def make(role: str | None) -> Client:
        client = Client(app)
        made.append(client)
        if role is not None:
            response = await client.login(role)
            assert response.status_code == 303, response.text
        return client

    yield make
    for client in made:
        await client.http.aclose()
