"""What every page shares: the desk's state, templates, sign-in and role guards, CSRF tokens, flashes."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import zoneinfo
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from mailgate.clock import Clock
from mailgate.config import Settings
from mailgate.desk.users import ROLE_LABELS, UserView, get_user
from mailgate.store import Store
from mailgate.web._security import LoginThrottle

TEMPLATES = Path(__file__).parent / "templates"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
#: Largest upload (a registry file) and form field accepted.
MAX_PART = 2 * 1024 * 1024

Endpoint = Callable[[Request], Awaitable[Response]]
View = Callable[[Request, UserView], Awaitable[Response]]
Action = Callable[[Request, UserView, FormData], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Desk:
    """The application's state: settings, the store, templates, the units' time zone, the clock, and
    the count of failed sign-ins."""

    settings: Settings
    store: Store
    templates: Jinja2Templates
    zone: zoneinfo.ZoneInfo
    clock: Clock
    throttle: LoginThrottle


def make_templates(zone: zoneinfo.ZoneInfo) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def localtime(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(zone).strftime(fmt) if value is not None else "—"

    env.filters["localtime"] = localtime
    env.globals["ROLE_LABELS"] = ROLE_LABELS
    return Jinja2Templates(env=env)


def desk(request: Request) -> Desk:
    state: Desk = request.app.state.desk
    return state


def csrf_token(request: Request) -> str:
    """This session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def flash(request: Request, text: str, kind: str = "ok") -> None:
    """A message shown once on the next page rendered for this session."""
    request.session["flash"] = [*request.session.get("flash", []), [kind, text]]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    user: UserView | None = None,
    status_code: int = 200,
) -> Response:
    base = {
        "user": user,
        "csrf_token": csrf_token(request),
        "flashes": request.session.pop("flash", []),
        "path": request.url.path,
    }
    return desk(request).templates.TemplateResponse(
        request, template, base | (context or {}), status_code=status_code
    )


def error_page(
    request: Request,
    user: UserView | None,
    status_code: int,
    title: str,
    reason: str,
    *,
    back: str | None = None,
) -> Response:
    """The desk's error page: a title, a sentence saying what to do, and a link back when given."""
    context = {"title": title, "reason": reason, "back": back}
    return render(request, "error.html", context, user=user, status_code=status_code)


def forbidden(request: Request, user: UserView | None, reason: str) -> Response:
    return error_page(request, user, 403, "无权访问", reason)


def not_found(request: Request, user: UserView | None, what: str = "页面") -> Response:
    reason = f"找不到这个{what}：它可能已被删除，或链接有误。"
    return render(request, "error.html", {"title": "未找到", "reason": reason}, user=user, status_code=404)


def safe_next(target: str | None) -> str:
    """A local path to go to after sign-in (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def signed_in(request: Request) -> UserView | None:
    """The active user this session belongs to, if any: one query, which also voids the session when
    the user signed out elsewhere, got a new password or role, or was deactivated (``session_version``)."""
    uid, version = request.session.get("uid"), request.session.get("sv")
    if not isinstance(uid, int) or not isinstance(version, int):
        if "uid" in request.session:
            request.session.clear()
        return None
    user = await get_user(desk(request).store, uid)
    if user is None or user.session_version != version:
        request.session.clear()
        return None
    return user


def start_session(request: Request, user: UserView) -> None:
    """A new session for ``user``: nothing from before (a planted cookie included) carries over."""
    request.session.clear()
    request.session["uid"] = user.id
    request.session["sv"] = user.session_version
    request.session["csrf"] = secrets.token_urlsafe(32)


def _to_login(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = "/login?next=" + quote(here if request.method == "GET" else "/", safe="")
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _denied(request: Request, user: UserView) -> Response:
    return forbidden(
        request, user, f"您的角色（{user.role_label}）不能访问这个页面。如需访问，请联系管理员调整角色。"
    )


def view(area: str | None, handler: View) -> Endpoint:
    """A page for signed-in users whose role reaches ``area`` (any role when None)."""

    async def endpoint(request: Request) -> Response:
        user = await signed_in(request)
        if user is None:
            return _to_login(request)
        if area is not None and not user.may(area):
            return _denied(request, user)
        return await handler(request, user)

    return endpoint


async def checked_form(request: Request) -> FormData | None:
    """The posted form when it carries this session's CSRF token (field or htmx header), else None."""
    form = await request.form(max_part_size=MAX_PART)
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str):
        return None
    return form if hmac.compare_digest(sent.encode(), expected.encode()) else None


def csrf_failed(request: Request, user: UserView | None) -> Response:
    reason = "表单已过期或来源不明（CSRF 校验未通过）。请刷新页面后重新提交。"
    return render(
        request, "error.html", {"title": "请求被拒绝", "reason": reason}, user=user, status_code=403
    )


def action(area: str | None, handler: Action) -> Endpoint:
    """A form post by a signed-in user whose role reaches ``area``, with a valid CSRF token."""

    async def endpoint(request: Request) -> Response:
        user = await signed_in(request)
        if user is None:
            return _to_login(request)
        form = await checked_form(request)
        if form is None:
            return csrf_failed(request, user)
        if area is not None and not user.may(area):
            return _denied(request, user)
        return await handler(request, user, form)

    return endpoint


def field(form: FormData, name: str) -> str:
    """A text field of ``form``, stripped ('' when missing or a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
