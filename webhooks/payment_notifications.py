"""`POST /api/payment/notification`: Midtrans's HTTP notifications (the path NesaVent used)."""

from __future__ import annotations

import logging

from aiohttp import web
from pymongo.errors import PyMongoError

from bot.payments import MAX_NOTIFICATION_BYTES
from webhooks.bodies import read_at_most
from webhooks.keys import BACKGROUND, DELIVERY, PAYMENTS

log = logging.getLogger(__name__)

PATH = "/api/payment/notification"



async def payment_notification(request: web.Request) -> web.Response:
    """Verify, confirm and apply one notification; answer 2xx only when it is done (or will never be)."""
    raw = await read_at_most(request, MAX_NOTIFICATION_BYTES)
    try:
        result = await request.app[PAYMENTS].handle_notification(raw)
    except PyMongoError as exc:
        log.error("database unavailable while handling a Midtrans notification: %s", type(exc).__name__)
        return web.json_response({"status": "unavailable"}, status=503)
    if result.has_news and result.order_id:
        request.app[BACKGROUND].spawn(request.app[DELIVERY].deliver(result.order_id),
                                      name=f"deliver {result.order_id}")
    return web.json_response({"status": result.outcome.value}, status=result.http_status)


def add_routes(app: web.Application) -> None:
    app.router.add_post(PATH, payment_notification)
