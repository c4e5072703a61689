"""A WhatsApp-first buyer linked later to a Telegram address (docs/channels.md "People are accounts"): the
account id becomes the Telegram address, and what they bought as `whatsapp:+62…` stays theirs."""

from __future__ import annotations

import pytest
import yaml

from bot.accounts import telegram_address, whatsapp_address
from bot.errors import OrderNotFound
from bot.event_file import parse_events
from bot.tickets import format_code
from storage.documents import OrderStatus
from storage.store import Store
from tests.conftest import BUYER_ID, EXAMPLES, FakeClock
from tests.handlers_kit import STRANGER_ID
from tests.helpers import acct, buyer
from tests.test_whatsapp_door import buy_to_payment_link, paid_on_whatsapp
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


async def test_a_buyer_linked_later_opening_their_ticket_link_at_the_other_door_gets_their_own_ticket(
        memory_store: Store, clock: FakeClock) -> None:
    """bot/checkin.py open_link: a ticket keyed by `whatsapp:+62…` (bought before any link) opened from the
    Telegram chat the configuration links to that number is the buyer's own ticket, not a stranger's answer; and
    a ticket bought on Telegram, opened from the WhatsApp number linked to it, likewise."""
    from tests.handlers_kit import Bot

    async with whatsapp_stack(memory_store, clock, telegram=True) as stack:
        services = stack.services
        [ticket, *_] = await paid_on_whatsapp(stack)  # Ayu, unlinked: keyed by her WhatsApp address
        assert ticket.user_id == whatsapp_address(AYU)
        telegram_order = await services.orders.reserve(acct(BUYER_ID), JAZZ, {"VIP": 1}, buyer("Sinta Maharani"))
        [telegram_ticket] = (await services.orders.pay(telegram_order.id)).tickets
        kit = Bot(stack.telegram, stack.telegram_app, services, stack.midtrans, clock)
        assert stack.telegram is not None
        stack.telegram.add_user(STRANGER_ID, "Joko", language_code="en", started=True)

        [before] = await kit.say(BUYER_ID, f"/start t_{ticket.id}")  # not linked yet: a stranger to her ticket
        assert before.text.startswith("🎟 Valid ticket, not used yet") and not before.photo

        # The configuration names Sinta's Telegram id and Ayu's number as one person (she organises the
        # workshop, not the jazz evening she bought for, so she is no door staff there).
        data = yaml.safe_load(EXAMPLES.read_text())
        for event in data["events"]:
            event["organisers"].append(f"whatsapp:{DEWI}")
            if event["id"] != JAZZ:
                event["organisers"].append([f"telegram:{BUYER_ID}", f"whatsapp:{AYU}"])
        await services.catalog.import_events(parse_events(data))
        await services.catalog.get(JAZZ)  # the next catalog read loads the links
        assert services.accounts.resolve(whatsapp_address(AYU)) == telegram_address(BUYER_ID)

        [own] = await kit.say(BUYER_ID, f"/start t_{ticket.id}")  # at the Telegram door: her own ticket
        assert own.photo and format_code(ticket.id) in own.caption
        [stranger] = await kit.say(STRANGER_ID, f"/start t_{ticket.id}")
        assert stranger.text.startswith("🎟 Valid ticket, not used yet") and not stranger.photo

        mine = await stack.say(AYU, f"checkin {telegram_ticket.id}", lambda m: m.type == "image")
        assert mine.type == "image" and format_code(telegram_ticket.id) in (mine.text or "")
        other = await stack.say(JOHN, f"checkin {telegram_ticket.id}")
        assert other.type != "image" and (other.text or "").startswith("🎟")  # where it stands, nothing more
        for code in (ticket.id, telegram_ticket.id):
            assert (await services.tickets.get(code)).checked_in_at is None
