"""The simulator behind aiohttp at the Graph API's paths, as the door calls graph.facebook.com.

* ``POST /{version}/{phone-number-id}/messages`` — send (text, interactive button/list/cta_url, image, template)
  or mark as read.
* ``POST /{version}/{phone-number-id}/media`` — multipart upload (``file``, ``type``, ``messaging_product``).
* ``GET /{version}/{media-id}`` (optional ``phone_number_id``) — media URL, mime_type, sha256, file_size;
  ``DELETE /{version}/{media-id}``.
* ``GET /whatsapp_business/attachments/?mid=&ext=&hash=`` — the media bytes, with the same Bearer token (Media
  page: "Download media from a media URL ... include your access token in the Authorization header").

``{version}`` is any ``vNN.N``. Every Graph route checks ``Authorization: Bearer``. Errors are JSON bodies in
Graph's ``{"error": {...}}`` shape with the HTTP status of Meta's error-code table.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, ClientSession, ClientTimeout, web

from bot.sandbox.whatsapp import rules
from bot.sandbox.whatsapp.simulator import WhatsAppSimulator
from bot.sandbox.whatsapp.users import SIMULATOR_KEY, add_sandbox_routes

# Largest accepted request: the biggest documented upload (documents, 100 MB) plus the multipart envelope.
MAX_REQUEST_BYTES = 101 * 1024 * 1024
_VERSION_RE = re.compile(r"v\d+\.\d+")


def _error(exc: rules.GraphApiError) -> web.Response:
    return web.json_response(exc.to_json(), status=exc.http_status, headers={"WWW-Authenticate": "OAuth"}
                             if exc.code == 190 else None)


async def _graph(request: web.Request, action: Callable[[WhatsAppSimulator], Awaitable[Any]]) -> web.Response:
    sim = request.app[SIMULATOR_KEY]
    try:
        if not _VERSION_RE.fullmatch(request.match_info.get("version", "")):
            raise rules.GraphApiError(2500, "Unknown path components", http_status=400,
                                      message=f"Unknown path components: /{request.match_info.get('version')}")
        sim.check_token(request.headers.get("Authorization"))
        return web.json_response(await action(sim))
    except rules.GraphApiError as exc:
        return _error(exc)


async def _messages(request: web.Request) -> web.Response:
    async def act(sim: WhatsAppSimulator) -> Any:
        sim.check_phone_number_id(request.match_info["phone_number_id"])
        try:
            payload = await request.json()
        except ValueError:
            raise rules.invalid_parameter("The request body is not valid JSON") from None
        return await sim.api_send(payload)
    return await _graph(request, act)


async def _upload(request: web.Request) -> web.Response:
    async def act(sim: WhatsAppSimulator) -> Any:
        sim.check_phone_number_id(request.match_info["phone_number_id"])
        if not request.content_type.startswith("multipart/"):
            raise rules.invalid_parameter("Media upload must be multipart/form-data")
        fields: dict[str, Any] = {}
        file: tuple[bytes, str | None] | None = None
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "file":
                file = (bytes(await part.read(decode=False)), part.headers.get("Content-Type"))
            elif part.name:
                fields[part.name] = await part.text()
        return sim.api_upload(fields, file)
    return await _graph(request, act)


async def _media_info(request: web.Request) -> web.Response:
    async def act(sim: WhatsAppSimulator) -> Any:
        return sim.api_media_info(request.match_info["media_id"], request.query.get("phone_number_id"))
    return await _graph(request, act)


async def _media_delete(request: web.Request) -> web.Response:
    async def act(sim: WhatsAppSimulator) -> Any:
        return sim.api_media_delete(request.match_info["media_id"], request.query.get("phone_number_id"))
    return await _graph(request, act)


async def _download(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR_KEY]
    try:
        sim.check_token(request.headers.get("Authorization"))
        media = sim.download(request.query.get("mid", ""), request.query.get("ext", ""),
                             request.query.get("hash", ""))
    except rules.GraphApiError as exc:
        return _error(exc)
    return web.Response(body=media.data, content_type=media.mime_type)


async def _webhook_delivery(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the HTTP session and background task that POST webhooks to the bot."""
    sim = app[SIMULATOR_KEY]
    sim._closing = False
    async with ClientSession(timeout=ClientTimeout(total=10)) as session:
        task = asyncio.create_task(sim.deliver_webhooks(session), name="fake-whatsapp-webhooks")
        yield
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


async def _release_waiters(app: web.Application) -> None:
    await app[SIMULATOR_KEY].begin_shutdown()


def create_whatsapp_app(simulator: WhatsAppSimulator | None = None) -> web.Application:
    """The fake Graph API (and ``/sandbox/...``) as an aiohttp app; the simulator is ``app[SIMULATOR_KEY]``."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[SIMULATOR_KEY] = simulator or WhatsAppSimulator()
    app.cleanup_ctx.append(_webhook_delivery)
    app.on_shutdown.append(_release_waiters)
    add_sandbox_routes(app)
    app.router.add_get("/whatsapp_business/attachments/", _download)
    app.router.add_post("/{version}/{phone_number_id}/messages", _messages)
    app.router.add_post("/{version}/{phone_number_id}/media", _upload)
    app.router.add_get("/{version}/{media_id}", _media_info)
    app.router.add_delete("/{version}/{media_id}", _media_delete)
    return app
