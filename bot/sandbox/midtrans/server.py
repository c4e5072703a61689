"""The Midtrans simulator over HTTP: `create_midtrans_app`, Snap, the Core API, the payment page's routes."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Final

import aiohttp
from aiohttp import web

from bot.qr import render_png
from bot.sandbox.midtrans.errors import PaymentRefused, SnapValidationError
from bot.sandbox.midtrans.page import _not_found_page, _run_page_outcome, render_payment_page
from bot.sandbox.midtrans.rules import _NOT_FOUND, _SNAP_UNAUTHORIZED, DEFAULT_NOTIFY_TIMEOUT, JSON, Clock
from bot.sandbox.midtrans.state import MidtransState

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------------------------
# HTTP: the aiohttp application

MIDTRANS_STATE: Final = web.AppKey("midtrans_state", MidtransState)
"""The simulator's state on a `create_midtrans_app` application."""


def create_midtrans_app(
    server_key: str,
    *,
    public_base_url: str | None = None,
    notification_url: str | None = None,
    clock: Clock | None = None,
    notify_timeout: float = DEFAULT_NOTIFY_TIMEOUT,
) -> web.Application:
    """The simulator as an aiohttp application; its state is `app[MIDTRANS_STATE]`.

    `public_base_url` (scheme://host[:port]) is where buyers reach this app; redirect URLs start with it. Unset,
    they start with the origin the Snap request was sent to.
    """
    state = MidtransState(
        server_key, public_base_url=public_base_url, notification_url=notification_url, clock=clock,
        notify_timeout=notify_timeout,
    )
    app = web.Application()
    app[MIDTRANS_STATE] = state
    state.router = app.router
    app.cleanup_ctx.append(_http_session)
    app.router.add_post("/snap/v1/transactions", _snap_create, name="snap_create")
    app.router.add_get("/v2/{id}/status", _status, name="status")
    app.router.add_post("/v2/{id}/cancel", _cancel, name="cancel")
    app.router.add_post("/v2/{id}/expire", _expire, name="expire")
    app.router.add_post("/v2/{id}/approve", _approve, name="approve")
    app.router.add_post("/v2/{id}/deny", _deny, name="deny")
    app.router.add_post("/v2/{id}/refund", _refund, name="refund")
    app.router.add_post("/v2/{id}/refund/online/direct", _direct_refund, name="direct_refund")
    app.router.add_get("/v2/{kind:gopay|qris}/{id}/qr-code", _qr_code, name="qr_code")
    app.router.add_get("/snap/v4/redirection/{token}", _page, name="snap_page")
    app.router.add_post("/snap/v4/redirection/{token}/simulate", _simulate, name="snap_simulate")
    return app


async def _http_session(app: web.Application) -> AsyncIterator[None]:
    state = app[MIDTRANS_STATE]
    state.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=state.notify_timeout))
    yield
    await state.http.close()
    state.http = None


def _json(status: int, body: JSON) -> web.Response:
    return web.json_response(body, status=status)


def _core_unauthorized() -> web.Response:
    return _json(401, {"status_code": "401",
                       "status_message": "Transaction cannot be authorized with the current client/server key.",
                       "id": str(uuid.uuid4())})


async def _snap_create(request: web.Request) -> web.Response:
    """Snap: create a transaction; 201 with token and redirect_url."""
    state = request.app[MIDTRANS_STATE]
    if not state.authorized(request.headers.get("Authorization")):
        return _json(401, {"error_messages": _SNAP_UNAUTHORIZED})
    try:
        body = await request.json()
    except ValueError:
        return _json(400, {"error_messages": ["Request body is not valid JSON"]})
    try:
        txn = state.create_transaction(body, origin=str(request.url.origin()))
    except SnapValidationError as exc:
        logger.info("snap: refused a create request: %s", exc)
        return _json(400, {"error_messages": exc.messages})
    path = request.app.router["snap_page"].url_for(token=txn.token)
    base = state.public_base_url or str(request.url.origin())
    return _json(201, {"token": txn.token, "redirect_url": f"{base}{path}"})


async def _status(request: web.Request) -> web.Response:
    """Core API: the transaction's status, or 404 before a payment method is chosen."""
    state = request.app[MIDTRANS_STATE]
    if not state.authorized(request.headers.get("Authorization")):
        return _core_unauthorized()
    body = state.status_body(request.match_info["id"])
    if body is None:
        return _json(404, {**_NOT_FOUND, "id": str(uuid.uuid4())})
    return _json(200, body)


async def _cancel(request: web.Request) -> web.Response:
    return await _core_action(request, "cancel")


async def _expire(request: web.Request) -> web.Response:
    return await _core_action(request, "expire")


async def _approve(request: web.Request) -> web.Response:
    return await _core_action(request, "approve")


async def _deny(request: web.Request) -> web.Response:
    return await _core_action(request, "deny")


async def _core_action(request: web.Request, action: str) -> web.Response:
    state = request.app[MIDTRANS_STATE]
    if not state.authorized(request.headers.get("Authorization")):
        return _core_unauthorized()
    status, body = await state.core_action(request.match_info["id"], action)
    return _json(status, body)


async def _refund(request: web.Request) -> web.Response:
    return await _refund_action(request, direct=False)


async def _direct_refund(request: web.Request) -> web.Response:
    return await _refund_action(request, direct=True)


async def _refund_action(request: web.Request, *, direct: bool) -> web.Response:
    """Core API: refund (or direct refund) a settled transaction; see `MidtransState.refund_api`."""
    state = request.app[MIDTRANS_STATE]
    if not state.authorized(request.headers.get("Authorization")):
        return _core_unauthorized()
    raw = await request.read()
    try:
        body: object = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return _json(400, {"status_code": "400", "status_message": "Request body is not valid JSON"})
    status, reply = await state.refund_api(request.match_info["id"], body, direct=direct)
    return _json(status, reply)


async def _qr_code(request: web.Request) -> web.Response:
    """The image behind a pending GoPay / QRIS `generate-qr-code` action: a QR of the payment page's address."""
    state = request.app[MIDTRANS_STATE]
    txn = state.find(request.match_info["id"])
    if txn is None or txn.payment_type != request.match_info["kind"] or txn.transaction_status != "pending":
        return _json(404, dict(_NOT_FOUND))
    page = txn.origin + str(request.app.router["snap_page"].url_for(token=txn.token))
    png = await asyncio.to_thread(render_png, page)
    return web.Response(body=png, content_type="image/png")


async def _page(request: web.Request) -> web.Response:
    """The Snap payment page: the order, and buttons to pay, fail or let it expire."""
    state = request.app[MIDTRANS_STATE]
    txn = state.by_token(request.match_info["token"])
    if txn is None:
        return _not_found_page()
    return web.Response(text=render_payment_page(state, txn, request), content_type="text/html")


async def _simulate(request: web.Request) -> web.Response:
    """A page button: run the chosen flow, notify, then show the page again (303, so a reload does not repeat it)."""
    state = request.app[MIDTRANS_STATE]
    txn = state.by_token(request.match_info["token"])
    if txn is None:
        return _not_found_page()
    form = await request.post()
    outcome = str(form.get("outcome", ""))
    try:
        await _run_page_outcome(state, txn, outcome, str(form.get("payment_type", "")))
    except PaymentRefused as exc:
        status = {"expired": 410, "finished": 409, "not_allowed": 409, "rejected": 422}.get(exc.reason, 400)
        text = render_payment_page(state, txn, request, notice=str(exc))
        return web.Response(text=text, status=status, content_type="text/html")
    raise web.HTTPSeeOther(request.app.router["snap_page"].url_for(token=txn.token))
