"""The desk's web application: routes, sessions, limits, error pages, and the refusal to run unprotected."""

from __future__ import annotations

import ipaddress
import secrets
import zoneinfo
from pathlib import Path
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from mailgate.clock import SYSTEM_CLOCK, Clock
from mailgate.config import Settings
from mailgate.desk.users import HashingBusyError
from mailgate.errors import ConfigurationError, StoreError
from mailgate.store import Store
from mailgate.web import _admin, _auth, _health, _log, _queue
from mailgate.web._base import MAX_PART, Desk, desk, error_page, make_templates, signed_in
from mailgate.web._security import (
    BODY_LIMIT,
    SECURITY_HEADERS,
    BodyLimit,
    BodyTooLarge,
    LoginLimits,
    LoginThrottle,
    SecurityHeaders,
    Sessions,
)

log = structlog.get_logger("mailgate.web")

STATIC = Path(__file__).parent / "static"
#: Shortest session key accepted.
MIN_SECRET = 32
#: Routes that take more than ``BODY_LIMIT``: the registry upload (its file, and the form around it).
UPLOAD_LIMITS = {"/registry/import": MAX_PART + 64 * 1024}


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def session_key(secret_key: str | None, host: str) -> str:
    """The key that signs session cookies: the configured one, or on loopback a random one for this run.

    Raises ConfigurationError for a desk reachable from the network without a key, or a short key."""
    if secret_key is None:
        if not is_loopback(host):
            raise ConfigurationError(
                f"the desk would listen on {host}, which is not a loopback address, without a session key: "
                "set [web] secret_key_file (or MAILGATE_WEB__SECRET_KEY), or listen on 127.0.0.1"
            )
        return secrets.token_urlsafe(48)
    if len(secret_key) < MIN_SECRET:
        raise ConfigurationError(
            f"[web] secret key is too short: use at least {MIN_SECRET} random characters"
        )
    return secret_key


def create_app(
    settings: Settings,
    store: Store,
    *,
    secret_key: str | None,
    host: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
    login_limits: LoginLimits | None = None,
) -> Starlette:
    """The desk over ``store`` (already migrated), to be served on ``host`` (default: ``[web] host``).

    ``clock`` dates sign-ins, new users and the throttle of failed sign-ins (``login_limits``)."""
    web = settings.web
    key = session_key(secret_key, host or web.host)
    zone = zoneinfo.ZoneInfo(settings.rules.timezone)
    routes = [
        *_auth.ROUTES,
        *_queue.ROUTES,
        *_log.ROUTES,
        *_admin.ROUTES,
        *_health.ROUTES,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        Middleware(BodyLimit, limit=BODY_LIMIT, larger=UPLOAD_LIMITS),
        Middleware(SecurityHeaders),
        Middleware(
            Sessions,
            secret_key=key,
            max_age=int(web.session_hours * 3600),
            always_secure=web.secure_cookies,
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            HTTPException: _http_error,
            ValueError: _bad_input,
            StoreError: _store_unavailable,
            HashingBusyError: _hashing_busy,
            Exception: _server_error,
        },
    )
    app.state.desk = Desk(
        settings=settings,
        store=store,
        templates=make_templates(zone),
        zone=zone,
        clock=clock,
        throttle=LoginThrottle(clock, login_limits),
    )
    app.state.loopback = is_loopback(host or web.host)  # /metrics needs no token on loopback only
    return app


#: Starlette's own errors, said by status only: their details (a parser's message) may quote the request.
_HTTP_ERRORS = {
    400: ("请求有误", "提交的内容格式有误，无法处理。请返回上一页，刷新后重新填写提交。"),
    404: ("未找到", "找不到这个页面：链接可能有误。"),
    405: ("不支持的请求", "这个地址不接受这种请求方式。"),
}


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown path, wrong method, a malformed or too large body) as pages."""
    assert isinstance(exc, HTTPException)
    user = await signed_in(request) if "session" in request.scope else None
    if isinstance(exc, BodyTooLarge):
        title, reason = "内容过大", f"提交的内容超过了 {exc.limit // 1024} KB 的上限，未被处理。"
    else:
        title, reason = _HTTP_ERRORS.get(exc.status_code, ("请求有误", "这个请求无法处理。"))
    return error_page(request, user, exc.status_code, title, reason)


async def _bad_input(request: Request, exc: Exception) -> Response:
    """A ValueError (a validation error included) that no page caught: the input was wrong, 400."""
    log.warning("desk_request_refused", path=request.url.path, error=type(exc).__name__)
    user = await signed_in(request) if "session" in request.scope else None
    reason = "提交的内容有误，无法处理。请返回上一页检查后重新提交。"
    return error_page(request, user, 400, "请求有误", reason)


async def _hashing_busy(request: Request, exc: Exception) -> Response:
    """Too many passwords wait to be checked (a sign-in flood): 429, try again in a few seconds."""
    assert isinstance(exc, HashingBusyError)
    log.warning("desk_hashing_busy", path=request.url.path)
    user = await signed_in(request) if "session" in request.scope else None
    reason = f"系统正忙于核对其他登录请求，本次未处理，请 {exc.retry_after} 秒后重试。"
    back = "/login" if request.url.path == "/login" else None
    response = error_page(request, user, 429, "请稍后再试", reason, back=back)
    response.headers["retry-after"] = str(exc.retry_after)
    return response


async def _store_unavailable(request: Request, exc: Exception) -> Response:
    """The database could not be reached: 503, one line, and no try at who is signed in (that reads it)."""
    log.warning("desk_store_unavailable", path=request.url.path, error=type(exc).__name__)
    reason = "数据库暂时无法访问，请稍后重试；如果一再出现，请联系运维。"
    response = error_page(request, None, 503, "暂时无法处理", reason)
    response.headers["retry-after"] = "30"
    return response


async def _server_error(request: Request, exc: Exception) -> Response:
    """Anything else: a page of the desk saying so, without the traceback (that goes to the log)."""
    log.error("desk_request_failed", path=request.url.path, error=type(exc).__name__)
    context: dict[str, Any] = {
        "title": "服务器出错",
        "reason": "处理这个请求时出错，请稍后重试；如果一再出现，请联系运维。",
        "back": None,
        "user": None,
        "csrf_token": "",
        "flashes": [],
        "path": request.url.path,
    }
    response = desk(request).templates.TemplateResponse(request, "error.html", context, status_code=500)
    # Outside every middleware of the app: the security headers come from here.
    for name, value in SECURITY_HEADERS:
        response.headers[name] = value
    response.headers["cache-control"] = "no-store"
    return response
