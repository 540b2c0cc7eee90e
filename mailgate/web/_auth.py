"""Signing in and out, and the start page each role lands on."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mailgate.desk.users import UserView, authenticate
from mailgate.web._base import checked_form, csrf_failed, desk, field, render, safe_next, signed_in, view

#: Where each role starts.
HOME = {"editor": "/queue", "ops": "/log", "admin": "/queue"}


async def login_page(request: Request) -> Response:
    user = await signed_in(request)
    target = safe_next(request.query_params.get("next"))
    if user is not None:
        return RedirectResponse(target if target != "/" else HOME.get(user.role, "/queue"), status_code=303)
    return render(request, "login.html", {"next": target, "username": "", "error": None})


async def login(request: Request) -> Response:
    form = await checked_form(request)
    if form is None:
        return csrf_failed(request, None)
    username, target = field(form, "username"), safe_next(field(form, "next"))
    password = form.get("password")
    user = await authenticate(desk(request).store, username, password if isinstance(password, str) else "")
    if user is None:
        error = "用户名或密码不正确，或账号已停用。请检查后重试。"
        context = {"next": target, "username": username, "error": error}
        return render(request, "login.html", context, status_code=401)
    # A new session on sign-in: nothing from before (a planted cookie included) carries over.
    request.session.clear()
    request.session["uid"] = user.id
    request.session["csrf"] = secrets.token_urlsafe(32)
    return RedirectResponse(target if target != "/" else HOME.get(user.role, "/queue"), status_code=303)


async def logout_page(request: Request, user: UserView) -> Response:
    return render(request, "logout.html", user=user)


async def logout(request: Request) -> Response:
    if await checked_form(request) is None:
        return csrf_failed(request, await signed_in(request))
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
