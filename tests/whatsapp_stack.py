"""The WhatsApp door wired for tests, through the real pieces: services over a store, the Midtrans simulator, the
Cloud API simulator (bot/sandbox/whatsapp/) delivering signed webhooks to the real aiohttp app, the door and its
notifier in the services' ChannelRouter; optionally the Telegram door over the fake Bot API beside it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import yaml
from aiohttp import web
from telegram.ext import Application

from bot.config import Settings
from bot.event_file import parse_events
from bot.sandbox.midtrans import MidtransSimulator
from bot.sandbox.telegram import FakeTelegram
from bot.sandbox.whatsapp import FakeWhatsApp, WaMessage
from bot.services import Services
from handlers.whatsapp.wiring import WhatsAppProcess
from storage.store import Store
from storage.whatsapp_inbox import WhatsAppInbox
from tests.conftest import ADMIN_ID, EXAMPLES, FakeClock
from tests.payment_stack import SERVER_KEY
from tests.stack_parts import add_telegram_people, services_paying_through
from tests.stack_parts import png_of as png_of  # the stack's own name for it, as the tests import it
from webhooks.app import create_app
from webhooks.keys import BACKGROUND
from webhooks.payment_notifications import PATH as MIDTRANS_PATH
from webhooks.whatsapp import PATH as WHATSAPP_PATH

AYU = "+6281234567890"           # an Indonesian WhatsApp buyer
JOHN = "+61412345678"            # an Australian WhatsApp buyer
DEWI = "+6281298765432"          # a WhatsApp organiser of every example event
BOSS = "+6281377788899"          # a WhatsApp admin
BUSINESS = "+6281100000000"      # the business number people chat with
VERIFY = "karcis-verify-token"
PUBLIC = "https://karcis.example"
TICKETS_TEMPLATE, NOTICE_TEMPLATE = "karcis_tickets", "karcis_notice"


@dataclass
class Stack:
    services: Services
    wa: FakeWhatsApp
    midtrans: MidtransSimulator
    process: WhatsAppProcess
    app: web.Application
    clock: FakeClock
    telegram: FakeTelegram | None = None
    telegram_app: Application | None = None

    async def settle(self) -> None:
        """Let every webhook and the deliveries they started finish."""
        for _ in range(3):
            await self.wa.wait_for_deliveries()
            await self.process.webhook.drain()
            await self.app[BACKGROUND].drain()

    async def answer(self, number: str, act: Callable[[], Awaitable[WaMessage]],
                     predicate: Callable[[WaMessage], bool] | None = None) -> WaMessage:
        """Do `act` as the person and return the bot's first answer after it (matching `predicate`)."""
        sent = await act()
        return await self.wa.wait_for_message(number, predicate, after=sent.seq)

    async def say(self, number: str, text: str, predicate: Callable[[WaMessage], bool] | None = None) -> WaMessage:
        return await self.answer(number, lambda: self.wa.send_text(number, text), predicate)

    async def tap(self, number: str, message: WaMessage, title_start: str) -> WaMessage:
        """Tap the reply button (or choose the list row) whose title starts with `title_start`."""
        choices = message.buttons() or message.rows()
        chosen = next((c for c in choices if c["title"].startswith(title_start)), None)
        assert chosen is not None, f"no {title_start!r} in {[c['title'] for c in choices]}"
        if message.buttons():
            return await self.answer(number, lambda: self.wa.press_button(number, message.id, chosen["id"]))
        return await self.answer(number, lambda: self.wa.choose_row(number, message.id, chosen["id"]))

    def images(self, number: str) -> list[WaMessage]:
        return [m for m in self.wa.messages_for(number) if m.type == "image"]

    def image_bytes(self, message: WaMessage) -> bytes:
        return self.wa.media(message.content["id"]).data


def stack_settings(wa: FakeWhatsApp, *, templates: bool) -> Settings:
    values: dict[str, Any] = dict(
        admin_ids=f"{ADMIN_ID}", admin_whatsapp=BOSS, public_url=PUBLIC, whatsapp_display_number=BUSINESS,
        whatsapp_access_token=wa.access_token, whatsapp_phone_number_id=wa.phone_number_id,
        whatsapp_app_secret=wa.app_secret, whatsapp_verify_token=VERIFY, whatsapp_api_base_url=wa.graph_url)
    if templates:
        values.update(whatsapp_template_tickets=TICKETS_TEMPLATE, whatsapp_template_notice=NOTICE_TEMPLATE,
                      whatsapp_template_tickets_buttons="tickets")
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextlib.asynccontextmanager
async def whatsapp_stack(store: Store, clock: FakeClock, *, templates: bool = True,
                         telegram: bool = False) -> AsyncIterator[Stack]:
    async with contextlib.AsyncExitStack() as stack:
        wa = await stack.enter_async_context(FakeWhatsApp(clock=clock, webhook_retry_delay=0.01,
                                                          enforce_rate_limits=False))
        wa.add_template(TICKETS_TEMPLATE, "id", "Tiket {{1}} untuk pesanan {{2}} sudah siap.", buttons=("Tiket saya",))
        wa.add_template(NOTICE_TEMPLATE, "id", "Karcis: {{1}}")
        for number, name in ((AYU, "Ayu"), (JOHN, "John"), (DEWI, "Dewi"), (BOSS, "Bos")):
            wa.add_user(number, name)
        sim = await stack.enter_async_context(MidtransSimulator(SERVER_KEY, clock=clock))
        settings = stack_settings(wa, templates=templates)
        services = services_paying_through(sim, SERVER_KEY, settings, store, clock)
        data = yaml.safe_load(EXAMPLES.read_text())
        for event in data["events"]:  # Dewi organises every example event from WhatsApp, beside Telegram's
            event["organisers"].append(f"whatsapp:{DEWI}")
        await services.catalog.import_events(parse_events(data))
        process = WhatsAppProcess(services, settings, inbox=WhatsAppInbox(store.db), sweep_seconds=None)
        app = create_app(services, services.payments, services.delivery, extra_routes=process.add_routes)
        runner = web.AppRunner(app)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        sim.notification_url = base + MIDTRANS_PATH
        await wa.configure_webhook(base + WHATSAPP_PATH, VERIFY)
        result = Stack(services, wa, sim, process, app, clock)
        if telegram:
            from tests.handlers_kit import build_app

            fake = await stack.enter_async_context(FakeTelegram())
            add_telegram_people(fake)
            result.telegram, result.telegram_app = fake, await build_app(fake, services)
            stack.push_async_callback(result.telegram_app.shutdown)
        yield result
