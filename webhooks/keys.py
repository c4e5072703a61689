"""The typed keys under which the web app keeps what its routes need."""

from __future__ import annotations

from aiohttp import web

from bot.notifications import DeliveryService
from bot.payments import PaymentService
from bot.services import Services
from webhooks.background import BackgroundTasks

SERVICES = web.AppKey("services", Services)
PAYMENTS = web.AppKey("payments", PaymentService)
DELIVERY = web.AppKey("delivery", DeliveryService)
BACKGROUND = web.AppKey("background", BackgroundTasks)
