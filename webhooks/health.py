"""`GET /healthz` (the process answers) and `GET /readyz` (MongoDB answers `ping`)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from webhooks.keys import SERVICES

READY_TIMEOUT = 5.0


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        ready = await asyncio.wait_for(request.app[SERVICES].store.ping(), READY_TIMEOUT)
    except TimeoutError:
        ready = False
    return web.json_response({"status": "ready" if ready else "database unavailable"}, status=200 if ready else 503)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
