"""The money path wired for tests: services over a store, the Midtrans simulator on 127.0.0.1, and the real
aiohttp app serving notifications on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from bot.config import Settings
from bot.midtrans import MidtransGateway
from bot.notifications import Notice, Undeliverable
from bot.outbox import Message
from bot.sandbox.midtrans import MidtransSimulator
from bot.services import Services, build_services
from storage.store import Store
from tests.conftest import EXAMPLES, FakeClock
from webhooks.app import create_app
from webhooks.keys import BACKGROUND
from webhooks.payment_notifications import PATH

SERVER_KEY = "SB-Mid-server-karcis-test"


@dataclass
class RecordingNotifier:
    """Records what would be sent to people; can be told to fail or to find a user unreachable."""

    notices: list[Notice] = field(default_factory=list)
    failures_left: int = 0
    blocked: set[str] = field(default_factory=set)  # account ids
    slow: dict[Message, float] = field(default_factory=dict)

    async def notify(self, notice: Notice) -> None:
        if notice.message in self.slow:
            await asyncio.sleep(self.slow[notice.message])
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("Telegram is unreachable")
        if notice.order.user_id in self.blocked and notice.message != Message.SALE:
            raise Undeliverable("bot was blocked by the user")
        self.notices.append(notice)

    def sent(self, message: Message) -> list[Notice]:
        return [n for n in self.notices if n.message == message]


@dataclass
class PaymentStack:
    services: Services
    sim: MidtransSimulator
    app: web.Application
    notifier: RecordingNotifier
    clock: FakeClock
    base_url: str

    @property
    def notification_url(self) -> str:
        return self.base_url + PATH

    async def settle(self) -> None:
        """Wait for the deliveries the endpoint started in the background."""
        await self.app[BACKGROUND].drain()


@asynccontextmanager
async def payment_stack(store: Store, settings: Settings, clock: FakeClock, *,
                        gateway_timeout: float = 2.0) -> AsyncIterator[PaymentStack]:
    from bot.event_file import load_events_file

    notifier = RecordingNotifier()
    async with MidtransSimulator(SERVER_KEY, clock=clock) as sim:
        gateway = MidtransGateway(SERVER_KEY, snap_base_url=sim.snap_base_url, api_base_url=sim.api_base_url,
                                  timeout=gateway_timeout, attempts=2, retry_delay=0.01)
        services = build_services(settings, store, clock=clock, gateway=gateway, notifier=notifier)
        await services.catalog.import_events(load_events_file(EXAMPLES))
        app = create_app(services, services.payments, services.delivery)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        stack = PaymentStack(services, sim, app, notifier, clock, f"http://127.0.0.1:{port}")
        sim.notification_url = stack.notification_url
        try:
            yield stack
        finally:
            await runner.cleanup()
