"""The WhatsApp door put together for a running process (bot/runtime.py) and for tests: the client, the door,
its notifier registered in the services' ChannelRouter under "whatsapp", and the webhook (routes on the aiohttp
app, the durable inbox, its workers)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.clock import as_utc
from bot.config import Settings
from bot.digest import DigestRouter
from bot.links import WHATSAPP
from bot.outbox import Message
from bot.services import Services
from handlers.whatsapp.client import WhatsAppClient, client_from_settings, templates_from_settings
from handlers.whatsapp.door import WhatsAppDoor
from handlers.whatsapp.notifier import WhatsAppNotifier
from handlers.whatsapp.updates import StatusUpdate
from storage.whatsapp_inbox import WhatsAppInbox  # the type; the composition root builds it over the store
from webhooks.whatsapp import WhatsAppWebhook, webhook_from_settings

log = logging.getLogger(__name__)

OUTSIDE_WINDOW, UNDELIVERABLE = 131047, 131026
# A failed status can overtake our record of the send (Meta answers the send, then reports; we record after the
# answer): a status this young with no record is asked about again (the inbox retries it after 30 s, 60 s).
RECORD_GRACE = timedelta(minutes=2)


class NotRecordedYet(Exception):
    """A failed status for a message the notifier has not recorded (yet): retried by the inbox."""


class WhatsAppProcess:
    def __init__(self, services: Services, settings: Settings, *, inbox: WhatsAppInbox,
                 client: WhatsAppClient | None = None, **webhook_options: Any) -> None:
        self.services = services
        self.client = client or client_from_settings(settings)
        self.inbox = inbox
        self.door = WhatsAppDoor(services, self.client)
        self.notifier = WhatsAppNotifier(services, self.client, templates_from_settings(settings),
                                         last_from=self.inbox.last_from, record=self.inbox.record_sent)
        self.webhook: WhatsAppWebhook = webhook_from_settings(settings, self.inbox, handle=self.door.handle,
                                                              on_failed=self._failed, clock=services.clock,
                                                              **webhook_options)
        register = getattr(services.delivery.notifier, "register", None)
        if register is None:
            raise TypeError("the delivery notifier is not a ChannelRouter: the WhatsApp notifier cannot join it")
        register(WHATSAPP, self.notifier)
        if isinstance(services.digests.sender, DigestRouter):  # organisers on WhatsApp get the sale digest too
            services.digests.sender.register(WHATSAPP, self.notifier)

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
        """Meta failed a message after accepting it: the copy it was goes back to owed, as a Telegram failure
        does (docs/whatsapp.md "A failed status"). 131047 (outside the window): the window is marked closed, so
        the retry is a template. 131026 (undeliverable: not on WhatsApp, blocked us): given up on, like
        Telegram's Forbidden. Anything else: owed again and retried with backoff. Handed here once per wamid
        (the inbox's `failed:<wamid>`); an exception makes the inbox ask again later."""
        codes = [e.code for e in status.errors]
        shown = ",".join(str(c) for c in codes) or "?"
        who = (status.recipient or "")[:4] + "…"
        record = await self.inbox.status_of(status.message_id)
        if record is None or "order" not in record:
            if self.services.clock() - as_utc(status.timestamp) < RECORD_GRACE:
                raise NotRecordedYet(status.message_id[:40])
            log.warning("WhatsApp message %s to %s failed after sending (codes %s); not a message an order owed",
                        status.message_id[:40], who, shown)
            return
        order, person, part = str(record["order"]), str(record["person"]), str(record["part"])
        try:
            message = Message(record["kind"])
        except ValueError:
            log.warning("WhatsApp message %s of order %s: unknown kind %r", status.message_id[:40], order,
                        str(record["kind"])[:40])
            return
        if UNDELIVERABLE in codes:
            log.warning("order %s: %s cannot be delivered to %s on WhatsApp (131026 undeliverable, reported after "
                        "sending); giving up", order, message.value, who)
            return
        if OUTSIDE_WINDOW in codes and status.recipient:
            await self.inbox.close_window(status.recipient, at=as_utc(status.timestamp), now=self.services.clock())
        sent_at: datetime = as_utc(record.get("sent_at") or status.timestamp)
        # DeliveryBusy (a delivery of the order is under way) goes up: the inbox hands the status back later.
        # Outside the window the retry is a template, which stands for all of the person's copies (the tickets
        # template says they are ready; the notice template carries the one notice): `whole`.
        await self.services.delivery.owe_again(order, message, person=person, part=part, sent_at=sent_at,
                                               reason=f"WhatsApp failed after sending ({shown})",
                                               detail=record.get("detail") or {},
                                               arrived=await self.inbox.arrived(order, message.value, person),
                                               whole=OUTSIDE_WINDOW in codes)
