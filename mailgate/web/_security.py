"""Security headers on every response, and signed session cookies that are Secure over https."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The desk's own pages: everything from the desk itself, no inline script or style, never framed.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
#: A sanitised message shown in the log's sandboxed frame: no script, nothing remote, styles inline only.
MESSAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'"

_DEFAULTS = (
    ("content-security-policy", PAGE_CSP),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)


class SecurityHeaders:
    """Adds the security headers a response does not set itself; pages are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _DEFAULTS:
                    if name not in headers:
                        headers[name] = value
                if not static and "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Sessions:
    """Signed cookie sessions (HttpOnly, SameSite=Lax), Secure when the request came over https
    or ``always_secure`` says the desk is only reached that way."""

    def __init__(self, app: ASGIApp, *, secret_key: str, max_age: int, always_secure: bool) -> None:
        def sessions(secure: bool) -> SessionMiddleware:
            return SessionMiddleware(
                app,
                secret_key,
                session_cookie="mailgate_session",
                max_age=max_age,
                same_site="lax",
                https_only=secure,
            )

        self.secure = sessions(True)
        self.plain = self.secure if always_secure else sessions(False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self.secure if scope.get("scheme") in ("https", "wss") else self.plain
        await chosen(scope, receive, send)
