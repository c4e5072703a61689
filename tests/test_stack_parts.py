"""tests/stack_parts.py: the two door kits build the same world where they share it."""

from __future__ import annotations

from PIL import Image

from bot.config import Settings
from bot.event_file import load_events_file
from bot.sandbox.midtrans import MidtransSimulator
from bot.sandbox.telegram import FakeTelegram
from storage.store import Store
from tests import handlers_kit, whatsapp_stack
from tests.conftest import BUYER_ID, EXAMPLES, ORGANISER_ID, FakeClock
from tests.helpers import acct, buyer
from tests.stack_parts import TELEGRAM_PEOPLE, add_telegram_people, png_of, services_paying_through

KEY = "SB-Mid-server-parts"


def test_both_kits_name_the_shared_telegram_people_alike_and_keep_their_names() -> None:
    for uid in (BUYER_ID, ORGANISER_ID):
        assert handlers_kit.KIT_PEOPLE[uid] == TELEGRAM_PEOPLE[uid]
    assert handlers_kit.png_of is png_of and whatsapp_stack.png_of is png_of  # what the tests import
    assert png_of(Image.new("RGB", (2, 2))).startswith(b"\x89PNG\r\n\x1a\n")


async def test_the_people_have_started_the_bot_and_the_services_pay_through_the_simulator(
        memory_store: Store, clock: FakeClock) -> None:
    async with FakeTelegram() as fake, MidtransSimulator(KEY, clock=clock) as sim:
        add_telegram_people(fake)
        assert {uid: (u.first_name, u.last_name, u.language_code, u.started)
                for uid, u in fake.users.items()} == {uid: (*p, True) for uid, p in TELEGRAM_PEOPLE.items()}
        services = services_paying_through(sim, KEY, Settings(_env_file=None), memory_store, clock)  # type: ignore[call-arg]
        await services.catalog.import_events(load_events_file(EXAMPLES))
        order = await services.orders.reserve(acct(BUYER_ID), "jazz-senja-2026", {"EARLY": 1}, buyer())
        link = await services.payments.payment_link(order.id, acct(BUYER_ID))
        assert list(sim.transactions) == [order.id] and link.token
