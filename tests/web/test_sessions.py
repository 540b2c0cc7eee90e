"""Sessions die with their version: a copied cookie stops working at sign-out, a new password, a new role or
deactivation; and no admin can demote or deactivate themselves or leave the desk without an admin."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from desk.data import Desk
from starlette.applications import Starlette
from typer.testing import CliRunner

from mailgate.cli import app as cli
from mailgate.desk import users
from mailgate.store import Store
from web.conftest import PASSWORD, Client, make_app

MakeClient = Callable[[str | None], Awaitable[Client]]
COOKIE = "mailgate_session"
runner = CliRunner()


@pytest.fixture
async def copies(app: Starlette) -> AsyncIterator[Callable[[Client], Client]]:
    """Makes a second browser holding a copy of another's session cookie (what an attacker would keep)."""
    made: list[Client] = []

    def copy(of: Client, target: Starlette = app) -> Client:
        thief = Client(target)
        thief.http.cookies.set(COOKIE, of.http.cookies[COOKIE])
        made.append(thief)
        return thief

    yield copy
    for thief in made:
        await thief.http.aclose()


async def _opens(client: Client, path: str) -> bool:
    response = await client.get(path)
    if response.status_code == 200:
        return True
    assert response.status_code == 303, response.status_code
    assert response.headers["location"].startswith("/login")
    return False


async def test_signing_out_ends_every_copy_of_the_session(
    client: MakeClient, copies: Callable[..., Client]
) -> None:
    admin = await client("admin")
    stolen = copies(admin)
    assert await _opens(stolen, "/users")
    elsewhere = await client("admin")  # the same user on another machine
    assert (await admin.post("/logout")).status_code == 303
    assert not await _opens(stolen, "/users")
    assert not await _opens(elsewhere, "/users")  # signing out signs the user out everywhere
    again = await client("admin")
    assert await _opens(again, "/users")
    assert not await _opens(stolen, "/users")  # and the old cookie stays dead


async def test_a_password_reset_at_the_desk_ends_the_users_sessions(
    client: MakeClient, copies: Callable[..., Client]
) -> None:
    admin, editor = await client("admin"), await client("editor")
    stolen_editor, stolen_admin = copies(editor), copies(admin)
    new = {"password": "a brand new secret", "password2": "a brand new secret"}
    reset = await admin.post("/users/editor/password", new, follow_redirects=True)
    assert "已重设 editor 的密码" in reset.text
    assert not await _opens(editor, "/queue")
    assert not await _opens(stolen_editor, "/queue")
    assert (await (await client(None)).login("editor", "a brand new secret")).status_code == 303
    own = await admin.post("/users/Admin/password", new, follow_redirects=True)
    assert "已重设 admin 的密码" in own.text
    assert await _opens(admin, "/users")  # the admin who changed their own password stays signed in here
    assert not await _opens(stolen_admin, "/users")


async def test_a_new_role_deactivation_and_reactivation_end_the_users_sessions(
    client: MakeClient, copies: Callable[..., Client]
) -> None:
    admin, ops = await client("admin"), await client("ops")
    stolen = copies(ops)
    assert (await admin.post("/users/ops/role", {"role": "editor"})).status_code == 303
    assert not await _opens(ops, "/queue")
    assert not await _opens(stolen, "/queue")
    ops = await client("ops")
    assert await _opens(ops, "/queue")  # as an editor now
    stolen = copies(ops)
    assert (await admin.post("/users/ops/deactivate")).status_code == 303
    assert (await (await client(None)).login("ops")).status_code == 401
    assert 'action="/users/ops/reactivate"' in (await admin.get("/users")).text
    back = await admin.post("/users/OPS/reactivate", follow_redirects=True)
    assert "已重新启用 ops" in back.text
    assert not await _opens(stolen, "/queue")
    assert (await (await client(None)).login("ops")).status_code == 303


async def test_a_password_set_on_the_command_line_ends_the_users_sessions(database_url: str) -> None:
    env = {"MAILGATE_STORE__URL": database_url}

    def mailgate(*args: str, stdin: str = "") -> str:
        result = runner.invoke(cli, list(args), input=stdin, env=env)
        assert result.exit_code == 0, result.output
        return result.output

    await asyncio.to_thread(
        mailgate, "user", "add", "li", "--role", "editor", "--password-stdin", stdin=PASSWORD
    )
    store = Store(database_url)
    try:
        app = make_app(store)
        browser = Client(app)
        assert (await browser.login("li")).status_code == 303
        stolen = Client(app)
        stolen.http.cookies.set(COOKIE, browser.http.cookies[COOKIE])
        assert await _opens(stolen, "/queue")
        said = await asyncio.to_thread(
            mailgate, "user", "password", "LI", "--password-stdin", stdin="another secret!"
        )
        assert "password of li set" in said
        assert not await _opens(stolen, "/queue")
        assert not await _opens(browser, "/queue")
        await asyncio.to_thread(mailgate, "user", "role", "li", "ops")
        assert (await browser.login("li", "another secret!")).status_code == 303
        assert await _opens(browser, "/log")
        for client in (browser, stolen):
            await client.http.aclose()
    finally:
        await store.close()


async def test_an_admin_cannot_demote_or_deactivate_themselves_in_any_case(
    desk: Desk, client: MakeClient
) -> None:
    admin = await client("admin")
    for path, form in (
        ("/users/ADMIN/role", {"role": "editor"}),
        ("/users/Admin/role", {"role": "ops"}),
        ("/users/%20admin%20/deactivate", {}),
        ("/users/ADMIN/deactivate", {}),
    ):
        refused = await admin.post(path, form, follow_redirects=True)
        assert refused.status_code == 200, path
        assert "未更改：不能更改自己的角色或停用自己的账号" in refused.text, path
    me = next(u for u in await users.list_users(desk.store) if u.username == "admin")
    assert (me.role, me.active) == ("admin", True)
    assert await _opens(admin, "/users")


async def test_another_admin_may_demote_an_admin_whatever_the_case_of_the_name(
    desk: Desk, client: MakeClient
) -> None:
    await users.create_user(desk.store, "boss", PASSWORD, "admin")
    boss = await client(None)
    assert (await boss.login("BOSS")).status_code == 303
    demoted = await boss.post("/users/AdMin/role", {"role": "editor"}, follow_redirects=True)
    assert "已将 admin 的角色改为编辑" in demoted.text
    roles = {u.username: u.role for u in await users.list_users(desk.store)}
    assert roles["admin"] == "editor"


async def test_the_last_active_admin_is_never_demoted_or_deactivated(store: Store) -> None:
    only = await users.create_user(store, "admin", PASSWORD, "admin")
    await users.create_user(store, "ed", PASSWORD, "editor")
    for change in (
        users.set_role(store, "admin", "editor"),
        users.deactivate(store, " ADMIN "),
    ):
        with pytest.raises(users.RefusedChangeError) as refused:
            await change
        assert "没有启用的管理员" in refused.value.chinese
        assert "without an active admin" in str(refused.value)
    with pytest.raises(users.RefusedChangeError, match="不能更改自己的角色"):
        await users.set_role(
            store, "ed", "admin", actor=await users.get_user(store, (await _id(store, "ed")))
        )
    assert (await users.set_role(store, "ed", "admin")).role == "admin"
    assert (await users.deactivate(store, "admin")).active is False  # another admin remains
    with pytest.raises(users.RefusedChangeError):
        await users.set_role(store, "ed", "ops")
    assert (await users.reactivate(store, "Admin")).active is True
    assert only.id == await _id(store, "admin")


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(store: Store) -> None:
    await users.create_user(store, "a1", PASSWORD, "admin")
    await users.create_user(store, "a2", PASSWORD, "admin")
    results = await asyncio.gather(
        users.set_role(store, "a1", "editor"), users.deactivate(store, "a2"), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, users.RefusedChangeError)]
    assert len(refused) == 1, results
    admins = [u for u in await users.list_users(store) if u.role == "admin" and u.active]
    assert len(admins) == 1


async def test_user_names_are_case_folded_and_stripped_everywhere(store: Store) -> None:
    made = await users.create_user(store, "  Chen.Li ", PASSWORD, "editor")
    assert made.username == "chen.li"
    with pytest.raises(ValueError, match="已被使用"):
        await users.create_user(store, "CHEN.LI", PASSWORD, "ops")
    assert await users.authenticate(store, " CHEN.li", PASSWORD) is not None
    assert (await users.set_role(store, "Chen.LI", "ops")).role == "ops"


async def _id(store: Store, username: str) -> int:
    return next(u.id for u in await users.list_users(store) if u.username == username)
