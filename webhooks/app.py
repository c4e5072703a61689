"""The aiohttp application factory: Midtrans notifications, health checks, ticket pages (`/t/<code>`), and
(added by the Telegram front door) the Telegram webhook."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from bot.notifications import DeliveryService
from bot.payments import PaymentService
from bot.services import Services
from webhooks import health, payment_notifications, ticket_page
from webhooks.background import BackgroundTasks
from webhooks.keys import BACKGROUND, DELIVERY, PAYMENTS, SERVICES


async def _background_tasks(app: web.Application) -> AsyncIterator[None]:
    app[BACKGROUND] = BackgroundTasks()
    yield
    await app[BACKGROUND].drain()


def create_app(
    services: Services, payments: PaymentService, delivery: DeliveryService, *,
    extra_routes: Callable[[web.Application], None] | None = None,
) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[SERVICES] = services
    app[PAYMENTS] = payments
    app[DELIVERY] = delivery
    app.cleanup_ctx.append(_background_tasks)
    health.add_routes(app)
    payment_notifications.add_routes(app)
    ticket_page.add_routes(app)  # GET /t/<code>: a ticket's public page
    if extra_routes is not None:
        extra_routes(app)
    return app
