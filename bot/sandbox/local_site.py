"""Serving a stand-in's aiohttp app on this machine: `serve_locally`, the one way FakeTelegram and FakeWhatsApp
bind their port and start (each stops its own runner, after releasing its own waiters).

The socket is bound here rather than by aiohttp's TCPSite so that port 0 (a free port, what tests ask for) can be
read back from the socket at once; an IPv6 host (one with a colon) gets an IPv6 socket. Nothing is left open when
binding or starting fails: the socket is closed, the runner cleaned up, and the error raised as it came.
"""

from __future__ import annotations

import socket

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
