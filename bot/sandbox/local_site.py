"""A stand-in served over HTTP on this machine: `LocalServer`, the start/stop that FakeTelegram and FakeWhatsApp
share (each says what it serves and what it lets go before stopping), and `serve_locally`, how the port is bound.

The socket is bound here rather than by aiohttp's TCPSite so that port 0 (a free port, what tests ask for) can be
read back from the socket at once; an IPv6 host (one with a colon) gets an IPv6 socket. Nothing is left open when
binding or starting fails: the socket is closed, the runner cleaned up, and the error raised as it came.
"""

from __future__ import annotations

import socket
from typing import Self

from aiohttp import web


async def serve_locally(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `app` on `host`:`port` (0: a free port). Returns the started runner (`await runner.cleanup()` stops
    it) and the port it listens on."""
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        await web.SockSite(runner, sock).start()
    except BaseException:
        sock.close()
        await runner.cleanup()
        raise
    return runner, int(sock.getsockname()[1])


class LocalServer:
    """A simulator served on `host` at a free port (or `port`) between `start` and `stop`; `async with` does both.
    Mixed in before the simulator's own class; its `__init__` calls `_serve_on(host, port)`."""

    host: str
    port: int
    app: web.Application | None
    _runner: web.AppRunner | None

    def _serve_on(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.app, self._runner = None, None

    def _create_app(self) -> web.Application:
        """What to serve (the simulator's aiohttp app)."""
        raise NotImplementedError

    def _listening(self) -> None:
        """Once it listens and `self.port` is the real port."""

    async def _release(self) -> None:
        """Before the server stops: let go of whoever waits on the simulator (long polls, webhook deliveries)."""

    async def start(self) -> Self:
        if self._runner is not None:
            raise RuntimeError(f"{type(self).__name__} is already started")
        self.app = self._create_app()
        self._runner, self.port = await serve_locally(self.app, self.host, self.port)
        self._listening()
        return self

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await self._release()
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
