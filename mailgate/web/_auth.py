"""Signing in (throttled after repeated failures) and out, and the start page each role lands on."""

from __future__ import annotations

import math

import structlog
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mailgate.desk.users import UserView, authenticate, end_sessions
from mailgate.web._base import (
    checked_form,
    csrf_failed,
    desk,
    field,
    render,
    safe_next,
    signed_in,
    start_session,
    view,
)

log = structlog.get_logger("mailgate.web")

#: Where each role starts.
HOME = {"editor": "/queue", "ops": "/log", "admin": "/queue"}


async def login_page(request: Request) -> Response:
    user = await signed_in(request)
    target = safe_next(request.query_params.get("next"))
    if user is not None:
        return RedirectResponse(target if target != "/" else HOME.get(user.role, "/queue"), status_code=303)
    return render(request, "login.html", {"next": target, "username": "", "error": None})


def client_address(request: Request) -> str:
    """The client's address (the proxy's X-Forwarded-For when uvicorn trusts it)."""
    return request.client.host if request.client is not None else "unknown"


async def login(request: Request) -> Response:
    form = await checked_form(request)
    if form is None:
        return csrf_failed(request, None)
    state = desk(request)
    username, target = field(form, "username"), safe_next(field(form, "next"))
    context = {"next": target, "username": username}
    address = client_address(request)
    wait = state.throttle.wait(username, address)
    if wait:
        log.warning("sign_in_throttled", address=address, retry_after=wait)
        minutes = math.ceil(wait / 60)
        error = f"登录失败次数过多，为保护账号已暂停登录。请 {minutes} 分钟后再试，或联系管理员。"
        response = render(request, "login.html", context | {"error": error}, status_code=429)
        response.headers["retry-after"] = str(wait)
        return response
    attempt = state.throttle.begin(username, address)
    password = form.get("password")
    user = await authenticate(
        state.store, username, password if isinstance(password, str) else "", clock=state.clock
    )
    if user is None:
        error = "用户名或密码不正确，或账号已停用。请检查后重试。"
        return render(request, "login.html", context | {"error": error}, status_code=401)
    state.throttle.succeeded(attempt)
    start_session(request, user)
    return RedirectResponse(target if target != "/" else HOME.get(user.role, "/queue"), status_code=303)


async def logout_page(request: Request, user: UserView) -> Response:
    return render(request, "logout.html", user=user)


async def logout(request: Request) -> Response:
    """Sign out: every session of the user ends, a copy of this cookie included."""
    user = await signed_in(request)
    if await checked_form(request) is None:
        return csrf_failed(request, user)
    if user is not None:
        await end_sessions(desk(request).store, user.id)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def home(request: Request, user: UserView) -> Response:
    return RedirectResponse(HOME.get(user.role, "/queue"), status_code=303)


ROUTES = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", view(None, logout_page), methods=["GET"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/", view(None, home), methods=["GET"]),
]
