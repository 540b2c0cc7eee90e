"""The desk's web application: routes, sessions, security headers, and the refusal to run unprotected."""

from __future__ import annotations

import ipaddress
import secrets
import zoneinfo
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from mailgate.config import Settings
from mailgate.errors import ConfigurationError
from mailgate.store import Store
from mailgate.web import _admin, _auth, _health, _log, _queue
from mailgate.web._base import Desk, make_templates, render, signed_in
from mailgate.web._security import SecurityHeaders, Sessions

STATIC = Path(__file__).parent / "static"
#: Shortest session key accepted.
MIN_SECRET = 32


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
    settings: Settings, store: Store, *, secret_key: str | None, host: str | None = None
) -> Starlette:
    """The desk over ``store`` (already migrated), to be served on ``host`` (default: ``[web] host``)."""
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
        exception_handlers={HTTPException: _http_error},
    )
    app.state.desk = Desk(settings=settings, store=store, templates=make_templates(zone), zone=zone)
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown path, wrong method) as pages of the desk."""
    assert isinstance(exc, HTTPException)
    user = await signed_in(request) if "session" in request.scope else None
    titles = {404: "未找到", 405: "不支持的请求"}
    reasons = {404: "找不到这个页面：链接可能有误。", 405: "这个地址不接受这种请求方式。"}
    context = {
        "title": titles.get(exc.status_code, "请求有误"),
        "reason": reasons.get(exc.status_code, str(exc.detail)),
    }
    return render(request, "error.html", context, user=user, status_code=exc.status_code)
