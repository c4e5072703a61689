"""What the test stacks are built from, where tests/handlers_kit.py (the Telegram door) and tests/whatsapp_stack.py
(the WhatsApp door, optionally with Telegram beside it) build the same way: the services over a store, paying
through the Midtrans simulator; the Telegram test people on the fake Bot API; a PNG of a picture."""

from __future__ import annotations

import io

from PIL import Image

from bot.config import Settings
from bot.midtrans import MidtransGateway
from bot.sandbox.midtrans import MidtransSimulator
from bot.sandbox.telegram import FakeTelegram
from bot.services import Services, build_services
from storage.store import Store
from tests.conftest import BUYER_ID, ORGANISER_ID, FakeClock

TELEGRAM_PEOPLE: dict[int, tuple[str, str | None, str]] = {  # id: first name, last name, Telegram language
    BUYER_ID: ("Sinta", "Maharani", "en"),
    ORGANISER_ID: ("Rani", "Organiser", "en"),
}


def png_of(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def services_paying_through(sim: MidtransSimulator, server_key: str, settings: Settings, store: Store,
                            clock: FakeClock) -> Services:
    """The services over `store` on `clock`, their Midtrans gateway pointed at `sim` (one attempt, 5 s: a test
    that wants retries builds its own)."""
    gateway = MidtransGateway(server_key, snap_base_url=sim.snap_base_url, api_base_url=sim.api_base_url,
                              attempts=1, timeout=5)
    return build_services(settings, store, clock=clock, gateway=gateway)


def add_telegram_people(fake: FakeTelegram, people: dict[int, tuple[str, str | None, str]] | None = None) -> None:
    """The test people (TELEGRAM_PEOPLE unless `people`) as users of the fake who have started the bot."""
    for uid, (first_name, last_name, language) in (TELEGRAM_PEOPLE if people is None else people).items():
        fake.add_user(uid, first_name, last_name=last_name, language_code=language, started=True)
