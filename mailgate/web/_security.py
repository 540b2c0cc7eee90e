"""Security headers, signed session cookies, capped request bodies, and throttled failed sign-ins."""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailgate.clock import Clock

#: The desk's own pages: everything from the desk itself, no inline script or style, never framed.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
#: A sanitised message shown in the log's sandboxed frame: no script, nothing remote, styles inline only.
MESSAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'"

#: Sent with every response that does not set its own.
SECURITY_HEADERS = (
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
                for name, value in SECURITY_HEADERS:
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


#: Largest request body by default: every form of the desk fits many times over.
BODY_LIMIT = 256 * 1024


class BodyTooLarge(HTTPException):
    """A request body over its route's limit (413), raised before the form parser sees a byte more."""

    def __init__(self, limit: int) -> None:
        super().__init__(413)
        self.limit = limit


class BodyLimit:
    """Caps request bodies: a declared Content-Length over the limit is refused at the first read, a
    streamed body as soon as it passes the limit, so nothing large is parsed or spooled to disk.

    ``larger`` maps exact paths (an upload route) to their own limit."""

    def __init__(
        self, app: ASGIApp, *, limit: int = BODY_LIMIT, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(str(scope.get("path", "")), self.limit)
        declared = Headers(scope=scope).get("content-length", "")
        too_large = declared.isdigit() and int(declared) > limit
        received = 0

        async def limited() -> Message:
            nonlocal received
            if too_large:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """How many failed sign-ins a user name and a client address may have in a sliding window."""

    per_user: int = 5
    per_address: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Attempt:
    """A sign-in under way, counted as failed unless ``LoginThrottle.succeeded`` says otherwise."""

    user_key: str
    address_key: str
    at: dt.datetime


class LoginThrottle:
    """Failed sign-ins per user name and per client address within ``limits.window``, on ``clock``.

    An attempt is counted before its password is checked, so parallel guesses cannot slip past the
    limit; a success clears the user's count and takes the attempt back from the address's."""

    #: Names and addresses remembered at most: past it, those whose failures all left the window are
    #: forgotten first, then the least recently failed.
    MAX_KEYS = 10_000

    def __init__(self, clock: Clock, limits: LoginLimits | None = None) -> None:
        self.clock = clock
        self.limits = limits or LoginLimits()
        self._failures: dict[str, list[dt.datetime]] = {}

    def wait(self, username: str, address: str) -> int:
        """Seconds before this user name or address may try again (0: now)."""
        now = self.clock.now()
        waits = [
            self._wait(key, limit, now)
            for key, limit in (
                (_user_key(username), self.limits.per_user),
                (_address_key(address), self.limits.per_address),
            )
        ]
        return max(waits)

    def begin(self, username: str, address: str) -> Attempt:
        """Count an attempt as failed until it succeeds."""
        attempt = Attempt(_user_key(username), _address_key(address), self.clock.now())
        for key in (attempt.user_key, attempt.address_key):
            times = self._failures.pop(key, [])
            times.append(attempt.at)
            self._failures[key] = times  # now the most recently failed
        self._forget(attempt.at)
        return attempt

    def succeeded(self, attempt: Attempt) -> None:
        self._failures.pop(attempt.user_key, None)
        times = self._failures.get(attempt.address_key, [])
        if attempt.at in times:
            times.remove(attempt.at)

    def _wait(self, key: str, limit: int, now: dt.datetime) -> int:
        since = now - self.limits.window
        times = [t for t in self._failures.get(key, []) if t > since]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        if len(times) < limit:
            return 0
        # Free again when enough of the failures have left the window.
        free_at = times[len(times) - limit] + self.limits.window
        return max(1, math.ceil((free_at - now).total_seconds()))

    def _forget(self, now: dt.datetime) -> None:
        if len(self._failures) <= self.MAX_KEYS:
            return
        since = now - self.limits.window
        for key in [k for k, times in self._failures.items() if not times or times[-1] <= since]:
            del self._failures[key]
        while len(self._failures) > self.MAX_KEYS:
            del self._failures[next(iter(self._failures))]


def _user_key(username: str) -> str:
    return "user:" + username.strip().casefold()[:64]


def _address_key(address: str) -> str:
    """An IPv4 address as it is; an IPv6 one by its /64, the block one client usually holds whole."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return "address:" + address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"address:{ip.ipv4_mapped}"
        return f"address:{ipaddress.IPv6Network((int(ip) >> 64 << 64, 64))}"
    return f"address:{ip}"
