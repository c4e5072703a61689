"""A WhatsApp-first buyer linked later to a Telegram address (docs/channels.md "People are accounts"): the
account id becomes the Telegram address, and what they bought as `whatsapp:+62…` stays theirs."""

from __future__ import annotations

import pytest
import yaml

from bot.accounts import telegram_address, whatsapp_address
from bot.errors import OrderNotFound
from bot.event_file import parse_events
from storage.documents import OrderStatus
from storage.store import Store
from tests.conftest import BUYER_ID, EXAMPLES, FakeClock
from tests.test_whatsapp_door import buy_to_payment_link
from tests.whatsapp_stack import AYU, DEWI, JOHN, whatsapp_stack

JAZZ = "jazz-senja-2026"


async def test_a_whatsapp_first_buyers_orders_stay_theirs_after_a_link_to_telegram(memory_store: Store,
                                                                                   clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        services = stack.services
        summary = await buy_to_payment_link(stack)
        await stack.tap(AYU, summary, "Konfirmasi")
        [paid] = await services.orders.pending_for_user(whatsapp_address(AYU))
        await stack.midtrans.simulate_payment(paid.id, "pay", payment_type="gopay")
        await stack.settle()
        again = await stack.tap(AYU, await stack.say(AYU, "acara"), "Jazz Senja")  # a second order, left unpaid
        quantities = await stack.tap(AYU, await stack.tap(AYU, again, "Beli"), "Early Bird")
        choice = await stack.tap(AYU, await stack.tap(AYU, quantities, "1 ×"), "Lanjut")
        summary = await stack.tap(AYU, choice, "Pakai")  # last time's details
        await stack.tap(AYU, summary, "Konfirmasi")
        wa_first = whatsapp_address(AYU)
        orders = await services.store.orders.for_user(wa_first)
        assert len(orders) == 2 and {o.user_id for o in orders} == {wa_first}

        # The operator names her as one person with a Telegram account (she organises now): the events file
        # links the two addresses, and her account id becomes the Telegram one.
        data = yaml.safe_load(EXAMPLES.read_text())
        for event in data["events"]:
            event["organisers"] += [f"whatsapp:{DEWI}", [f"telegram:{BUYER_ID}", f"whatsapp:{AYU}"]]
        await services.catalog.import_events(parse_events(data))
        await services.catalog.get(JAZZ)  # the next catalog read loads the links (every process within 5 s)
        account = services.accounts.resolve(wa_first)
        assert account == telegram_address(BUYER_ID) != wa_first

        # what she bought as whatsapp:+62… is still hers, under the new account id
        assert [o.id for o in await services.orders.pending_for_user(account)] == [
            o.id for o in orders if o.status == OrderStatus.PENDING]
        assert (await services.orders.get_for_user(paid.id, account)).id == paid.id
        tickets = await services.tickets.for_user(account)
        assert len(tickets) == 2 and {t.order_id for t in tickets} == {paid.id}
        mine = await stack.say(AYU, "tiket", lambda m: m.type == "image")  # and at the WhatsApp door
        assert mine.type == "image"
        pending = await stack.say(AYU, "pesanan")
        assert "Tidak ada pesanan" not in pending.text

        # nobody else gains them
        stranger = services.accounts.resolve(whatsapp_address(JOHN))
        assert await services.tickets.for_user(stranger) == []
        with pytest.raises(OrderNotFound):
            await services.orders.get_for_user(paid.id, stranger)
