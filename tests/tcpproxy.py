"""A loopback TCP proxy that can cut its clients off: database outages without stopping any server."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from servers import LOOPBACK, free_port

_T = TypeVar("_T")
_CHUNK = 64 * 1024


class Mode(enum.Enum):
    FORWARD = "forward"  # pass bytes both ways
    REFUSE = "refuse"  # nothing listens: connecting fails at once (ECONNREFUSED)
    BLACKHOLE = "blackhole"  # connections are accepted and then nothing ever comes back


class TcpProxy:
    """Forwards ``127.0.0.1:port`` to ``target``, in an event loop on a thread of its own.

    The test's thread (or event loop) may block; the proxy goes on. ``drop()`` cuts every open
    connection, ``refuse()`` also stops listening, ``blackhole()`` accepts and never answers,
    ``forward()`` restores service on the same port.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.host = LOOPBACK
        self.port = free_port()
        self.mode = Mode.FORWARD
        #: Connections accepted so far (whatever became of them).
        self.accepted = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def __exit__(self, *_: object) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def url(self, database_url: str) -> str:
        """``database_url`` (host:port of the target) rewritten to go through the proxy."""
        host, port = self.target
        return database_url.replace(f"@{host}:{port}/", f"@{self.host}:{self.port}/", 1)

    def drop(self) -> None:
        """Cut every open connection (the server side sees its clients vanish); keep listening."""
        self._call(self._drop())

    def refuse(self) -> None:
        """Cut every connection and stop listening: new connections are refused."""
        self.mode = Mode.REFUSE
        self._call(self._stop_listening())
        self.drop()

    def blackhole(self) -> None:
        """Cut every connection; accept new ones but never forward a byte (a hung network)."""
        self.mode = Mode.BLACKHOLE
        self.drop()
        self._call(self._listen())

    def forward(self) -> None:
        """Back to normal service on the same port."""
        self.mode = Mode.FORWARD
        self._call(self._listen())

    # -- in the proxy's loop ------------------------------------------------------------------

    def _call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, self.host, self.port, reuse_address=True)

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _drop(self) -> None:
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _shutdown(self) -> None:
        await self._stop_listening()
        await self._drop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._open.add(writer)
        if self.mode is not Mode.FORWARD:
            return  # kept open and silent until dropped
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open.add(up_writer)
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(_CHUNK):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._open.discard(writer)
            with contextlib.suppress(OSError, RuntimeError):
                writer.transport.abort()
