"""Signing in and out, what each role reaches, CSRF, sessions and the security headers of every page."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from desk.data import Desk
from messages import submission
from sqlalchemy import select

from mailgate.store.models import Item
from web.conftest import Client, make_app

MakeClient = Callable[[str | None], Awaitable[Client]]

#: Every page behind the sign-in, and the roles that may open it.
PAGES = {
    "/queue": {"editor", "admin"},
    "/log": {"ops", "admin"},
    "/status": {"ops", "admin"},
    "/registry": {"admin"},
    "/commissions": {"admin"},
    "/users": {"admin"},
}


async def test_signing_in_lands_each_role_on_its_start_page_and_signing_out_ends_the_session(
    client: MakeClient,
) -> None:
    anonymous = await client(None)
    for role, home in (("editor", "/queue"), ("ops", "/log"), ("admin", "/queue")):
        response = await anonymous.login(role)
        assert response.status_code == 303
        assert response.headers["location"] == home
        assert (await anonymous.get(home)).status_code == 200
        out = await anonymous.post("/logout")
        assert out.status_code == 303
        assert out.headers["location"] == "/login"
        again = await anonymous.get(home)
        assert again.status_code == 303
        assert again.headers["location"] == f"/login?next=%2F{home[1:]}"


async def test_a_wrong_password_or_unknown_user_is_refused_with_the_same_answer(client: MakeClient) -> None:
    anonymous = await client(None)
    wrong = await anonymous.login("editor", "not the password")
    unknown = await anonymous.login("nobody", "not the password")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "用户名或密码不正确" in response.text
    assert (await anonymous.get("/queue")).status_code == 303


async def test_sign_in_goes_back_to_the_page_asked_for_but_never_to_another_site(client: MakeClient) -> None:
    anonymous = await client(None)
    asked = await anonymous.get("/log?rule=identifier")
    assert asked.headers["location"] == "/login?next=%2Flog%3Frule%3Didentifier"
    back = await anonymous.login("ops", next_path="/log?rule=identifier")
    assert back.headers["location"] == "/log?rule=identifier"
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        await anonymous.post("/logout")
        away = await anonymous.login("ops", next_path=target)
        assert away.headers["location"] == "/log"


async def test_each_role_reaches_only_its_pages(client: MakeClient) -> None:
    for role in ("editor", "ops", "admin"):
        signed_in = await client(role)
        for path, roles in PAGES.items():
            response = await signed_in.get(path)
            expected = 200 if role in roles else 403
            assert response.status_code == expected, (role, path)
            if expected == 403:
                assert "无权访问" in response.text
            else:
                assert f'href="{path}" class="on"' in response.text  # and the menu shows it


async def test_an_editor_cannot_post_to_ops_or_admin_actions(client: MakeClient) -> None:
    editor = await client("editor")
    for path, data in (
        ("/users", {"username": "mallory", "role": "admin", "password": "x" * 12, "password2": "x" * 12}),
        ("/commissions", {"code": "X1", "topic": "t", "deadline": "2026-12-01"}),
        ("/replay/apply", {"ref": "message:1"}),
        ("/users/admin/deactivate", {}),
    ):
        assert (await editor.post(path, data)).status_code == 403, path
    admin = await client("admin")
    listing = await admin.get("/users")
    assert "mallory" not in listing.text
    assert "停用" in listing.text  # the admin is still active and sees the controls


async def test_pages_need_a_sign_in(client: MakeClient) -> None:
    anonymous = await client(None)
    for path in [*PAGES, "/items/1", "/log/message/1", "/messages/1/raw", "/registry/export"]:
        response = await anonymous.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")
    htmx = await anonymous.get("/queue", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].startswith("/login")


async def _item_id(desk: Desk) -> int:
    return await desk.accepted(submission(1))


async def _status(desk: Desk, item_id: int) -> str:
    async with desk.store.transaction() as repo:
        status = await repo.session.scalar(select(Item.status).where(Item.id == item_id))
    assert status is not None
    return status


async def test_a_form_post_without_this_sessions_csrf_token_is_refused(
    desk: Desk, client: MakeClient
) -> None:
    item_id = await _item_id(desk)
    editor = await client("editor")
    other = await client("editor")  # another session of the same user has its own token
    path = f"/items/{item_id}/status"
    for token in (None, "forged", await other.token()):
        response = await editor.post(path, {"status": "used", "note": "x"}, token=token)
        assert response.status_code == 403
        assert "CSRF" in response.text
    assert await _status(desk, item_id) == "new"
    accepted = await editor.post(path, {"status": "used", "note": "x"})
    assert accepted.status_code == 303
    assert await _status(desk, item_id) == "used"


async def test_htmx_posts_carry_the_token_in_a_header(desk: Desk, client: MakeClient) -> None:
    item_id = await _item_id(desk)
    editor = await client("editor")
    token = await editor.token()
    response = await editor.http.post(
        f"/items/{item_id}/status",
        data={"status": "review", "note": "转审"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert response.status_code == 200
    assert 'id="status-panel"' in response.text
    assert "<html" not in response.text  # only the panel, swapped in place
    assert await _status(desk, item_id) == "review"
    page = await editor.get("/queue")
    assert f'"X-CSRF-Token": "{token}"' in page.text  # what htmx sends with every request


async def test_signing_in_needs_the_login_pages_token(client: MakeClient) -> None:
    anonymous = await client(None)
    response = await anonymous.post(
        "/login", {"username": "admin", "password": "correct horse battery"}, token=None
    )
    assert response.status_code == 403
    assert (await anonymous.get("/users")).status_code == 303


async def test_every_page_sends_the_security_headers_and_no_inline_script(client: MakeClient) -> None:
    admin = await client("admin")
    login_page = await (await client(None)).get("/login")
    for path, response in [
        ("/login", login_page),
        *[(path, await admin.get(path)) for path in [*PAGES, "/nowhere"]],
    ]:
        headers = response.headers
        csp = headers["content-security-policy"]
        assert csp.startswith("default-src 'self'")
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store"
        scripts = re.findall(r"<script[^>]*>", response.text)
        assert scripts == ['<script src="/static/htmx.min.js" defer>'], path
        assert not re.search(r"\son[a-z]+\s*=", response.text), path  # no inline event handlers
        assert 'style="' not in response.text, path
    static = await admin.get("/static/htmx.min.js")
    assert static.status_code == 200
    assert static.headers["content-type"].startswith("text/javascript")


async def test_session_cookies_are_http_only_lax_and_secure_over_https(desk: Desk) -> None:
    cases = (
        (make_app(desk.store), "http://testserver", False),
        (make_app(desk.store), "https://testserver", True),
        (make_app(desk.store, secure_cookies=True), "http://testserver", True),
    )
    for app, base, secure in cases:
        browser = Client(app, base)
        try:
            response = await browser.login("editor")
        finally:
            await browser.http.aclose()
        cookie = response.headers["set-cookie"].lower()
        assert cookie.startswith("mailgate_session=")
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert ("; secure" in cookie) is secure, (base, cookie)


async def test_a_deactivated_users_session_ends_and_an_admin_cannot_lock_themselves_out(
    client: MakeClient,
) -> None:
    editor = await client("editor")
    admin = await client("admin")
    assert (await editor.get("/queue")).status_code == 200
    assert (await admin.post("/users/editor/deactivate")).status_code == 303
    assert (await editor.get("/queue")).status_code == 303
    assert (await (await client(None)).login("editor")).status_code == 401
    refused = await admin.post("/users/admin/deactivate", follow_redirects=True)
    assert "不能更改自己的角色或停用自己的账号" in refused.text
    assert (await admin.get("/users")).status_code == 200


async def test_a_new_user_added_by_an_admin_can_sign_in_with_their_role(client: MakeClient) -> None:
    admin = await client("admin")
    form = {"username": "Chen.Li", "display_name": "陈丽", "role": "ops", "password": "x" * 12}
    mismatch = await admin.post("/users", {**form, "password2": "y" * 12}, follow_redirects=True)
    assert "两次输入的密码不一致" in mismatch.text
    added = await admin.post("/users", {**form, "password2": "x" * 12}, follow_redirects=True)
    assert "已添加用户 chen.li" in added.text
    newcomer = await client(None)
    assert (await newcomer.login("chen.li", "x" * 12)).headers["location"] == "/log"
    assert (await newcomer.get("/users")).status_code == 403
    promoted = await admin.post("/users/chen.li/role", {"role": "admin"}, follow_redirects=True)
    assert "已将 chen.li 的角色改为管理员" in promoted.text
    assert (await newcomer.get("/users")).status_code == 303  # a new role needs a new sign-in
    assert (await newcomer.login("CHEN.LI", "x" * 12)).status_code == 303
    assert (await newcomer.get("/users")).status_code == 200
