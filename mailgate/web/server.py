"""Serving the desk with uvicorn: on its own, or beside the daemon in the same event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from mailgate.daemon import Daemon
from mailgate.errors import MailgateError


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves SIGTERM and SIGINT to its owner, the daemon."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def web_server(app: ASGIApp, host: str, port: int, *, own_signals: bool = True) -> uvicorn.Server:
    """A uvicorn server for ``app``; it trusts X-Forwarded-Proto from a proxy on 127.0.0.1 only."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=True,
    )
    return uvicorn.Server(config) if own_signals else _QuietServer(config)


async def serve_beside(daemon: Daemon, app: ASGIApp, host: str, port: int, *, once: bool = False) -> None:
    """Run the daemon and serve ``app`` until the daemon stops; a desk that cannot listen stops both."""
    server = web_server(app, host, port, own_signals=False)
    failed: list[str] = []

    async def serve() -> None:
        try:
            await server.serve()
        except SystemExit:  # uvicorn's answer to an address it cannot listen on
            failed.append(f"the desk could not listen on {host}:{port}")
            daemon.stop()

    task = asyncio.create_task(serve())
    try:
        await daemon.run(once=once)
    finally:
        server.should_exit = True
        await task
    if failed:
        raise MailgateError(failed[0])
