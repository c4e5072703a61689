"""A fake WhatsApp Cloud API, for the WhatsApp door's tests and the sandbox web chat.

`WhatsAppSimulator` (simulator.py) is the world: users and their chats, the 24-hour windows, media, templates,
rate limits and the webhook queue. Its rules come from Meta's documentation (rules.py, each beside its page);
records.py says what it remembers; users.py is what a person (or a test) does with a phone; graph_api.py serves
it at the Graph API's paths. `FakeWhatsApp` is the simulator plus a server on 127.0.0.1 at a free port:

    async with FakeWhatsApp(clock=clock) as wa:
        wa.add_template("ticket_ready", "id", "Tiket {{1}} siap.")
        wa.add_user("+6281234567890", "Ayu")
        await wa.configure_webhook(bot_url, verify_token)   # Meta's GET handshake, then signed POSTs
        await wa.send_text("+6281234567890", "halo")
        reply = await wa.wait_for_message("+6281234567890")
        # the door calls f"{wa.graph_url}/{wa.phone_number_id}/messages" with f"Bearer {wa.access_token}"

See docs/whatsapp-simulator.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.sandbox.local_site import LocalServer
from bot.sandbox.whatsapp.graph_api import create_whatsapp_app
from bot.sandbox.whatsapp.records import (
    Delivery,
    Media,
    SandboxError,
    Template,
    WaMessage,
    WaUser,
    WebhookVerificationError,
)
from bot.sandbox.whatsapp.rules import GraphApiError
from bot.sandbox.whatsapp.simulator import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_APP_SECRET,
    DEFAULT_PHONE_NUMBER_ID,
    WhatsAppSimulator,
)
from bot.sandbox.whatsapp.users import SIMULATOR_KEY

__all__ = [
    "DEFAULT_ACCESS_TOKEN",
    "DEFAULT_APP_SECRET",
    "DEFAULT_PHONE_NUMBER_ID",
    "GRAPH_VERSION",
    "SIMULATOR_KEY",
    "Delivery",
    "FakeWhatsApp",
    "GraphApiError",
    "Media",
    "SandboxError",
    "Template",
    "WaMessage",
    "WaUser",
    "WebhookVerificationError",
    "WhatsAppSimulator",
    "create_whatsapp_app",
]

GRAPH_VERSION = "v23.0"


class FakeWhatsApp(LocalServer, WhatsAppSimulator):
    """The simulator served on ``host`` at a free port (or ``port``), for tests and the sandbox."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], datetime] | None = None,
                 **options: Any) -> None:
        super().__init__(clock=clock, **options)
        self._serve_on(host, port)

    @property
    def graph_url(self) -> str:
        """``http://host:port/v23.0``: what WHATSAPP_API_BASE_URL points at (Meta's is graph.facebook.com/vNN)."""
        return f"{self.base_url}/{GRAPH_VERSION}"

    def _create_app(self) -> web.Application:
        return create_whatsapp_app(self)

    def _listening(self) -> None:
        self.base_url = f"http://{self.host}:{self.port}"

    async def _release(self) -> None:
        await self.begin_shutdown()
