"""The WhatsApp door put together for a running process (bot/runtime.py) and for tests: the client, the door,
its notifier registered in the services' ChannelRouter under "whatsapp", and the webhook (routes on the aiohttp
app, the durable inbox, its workers)."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.config import Settings
from bot.links import WHATSAPP
from bot.services import Services
from handlers.whatsapp.client import WhatsAppClient, client_from_settings, templates_from_settings
from handlers.whatsapp.door import WhatsAppDoor
from handlers.whatsapp.notifier import WhatsAppNotifier
from handlers.whatsapp.updates import StatusUpdate
from storage.whatsapp_inbox import WhatsAppInbox  # the type; the composition root builds it over the store
from webhooks.whatsapp import WhatsAppWebhook, webhook_from_settings

log = logging.getLogger(__name__)


class WhatsAppProcess:
    def __init__(self, services: Services, settings: Settings, *, inbox: WhatsAppInbox,
                 client: WhatsAppClient | None = None, **webhook_options: Any) -> None:
        self.services = services
        self.client = client or client_from_settings(settings)
        self.inbox = inbox
        self.door = WhatsAppDoor(services, self.client)
        self.notifier = WhatsAppNotifier(services, self.client, templates_from_settings(settings),
                                         last_from=self.inbox.last_from)
        self.webhook: WhatsAppWebhook = webhook_from_settings(settings, self.inbox, handle=self.door.handle,
                                                              on_failed=self._failed, clock=services.clock,
                                                              **webhook_options)
        register = getattr(services.delivery.notifier, "register", None)
        if register is None:
            raise TypeError("the delivery notifier is not a ChannelRouter: the WhatsApp notifier cannot join it")
        register(WHATSAPP, self.notifier)

    def add_routes(self, app: web.Application) -> None:
        """The webhook's routes; with the app: the inbox's indexes, then the webhook's workers (which replay
        what a crash left pending); at cleanup the workers stop, then the client closes."""
        async def indexes(_: web.Application) -> None:
            await self.inbox.ensure_indexes()

        async def close(_: web.Application) -> None:
            await self.client.close()

        app.on_startup.append(indexes)
        self.webhook.add_routes(app)
        app.on_cleanup.append(close)

    async def _failed(self, status: StatusUpdate) -> None:
        """Meta failed a message after accepting it (131047 outside the window, 131026 undeliverable, ...)."""
        codes = ",".join(str(e.code) for e in status.errors) or "?"
        log.warning("WhatsApp message %s to %s… failed after sending (codes %s)", status.message_id[:40],
                    (status.recipient or "")[:4], codes)
