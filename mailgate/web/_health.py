"""Health: the status page for ops, /healthz for load balancers, /metrics for Prometheus."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mailgate.desk.health import metrics_text, status
from mailgate.desk.users import UserView
from mailgate.web._base import desk, render, view
from mailgate.web._queue import INBOX_LABELS

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
#: All /healthz says of a database failure to a desk reachable beyond loopback.
DATABASE_UNAVAILABLE = "database unavailable"


async def status_page(request: Request, user: UserView) -> Response:
    state = desk(request)
    health = await status(state.store, state.settings, clock=state.clock)
    context = {"health": health, "inbox_labels": INBOX_LABELS, "stale": state.settings.web.stale_seconds}
    return render(request, "status.html", context, user=user)


async def healthz(request: Request) -> Response:
    """Health for load balancers, open to all: beyond loopback, why the database failed is said only in
    kind (its error may name the database's host and port)."""
    state = desk(request)
    health = await status(state.store, state.settings, clock=state.clock)
    body = health.to_json()
    if not health.database and request.app.state.loopback is not True:
        body["error"] = DATABASE_UNAVAILABLE
    return JSONResponse(body, status_code=200 if health.healthy else 503)


async def metrics(request: Request) -> Response:
    """Prometheus metrics: open on a loopback desk; with ``[web] metrics_token`` set, for its bearer
    only; on a desk that listens beyond loopback without a token, for no one."""
    state = desk(request)
    token = state.settings.web.metrics_secret()
    if token is None and request.app.state.loopback is not True:
        return _text(
            "metrics need a bearer token when the desk listens beyond loopback:"
            " set [web] metrics_token_file (or MAILGATE_WEB__METRICS_TOKEN)\n",
            403,
        )
    if token is not None:
        expected = f"Bearer {token}".encode()
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return _text(
                "metrics need a bearer token\n", 401, {"www-authenticate": 'Bearer realm="mailgate metrics"'}
            )
    text = await metrics_text(state.store, state.settings, clock=state.clock)
    return Response(text, media_type=PROMETHEUS_TEXT)


def _text(body: str, status_code: int, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status_code, media_type="text/plain; charset=utf-8", headers=headers)


ROUTES = [
    Route("/status", view("status", status_page), methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
