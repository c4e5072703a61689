"""The WhatsApp door end to end through the real service: the Cloud API simulator delivers signed webhooks to the
real aiohttp app, the Midtrans simulator takes the payment, the notifier sends the QR images back."""

from __future__ import annotations

import pytest

from bot.accounts import whatsapp_address
from bot.sandbox.whatsapp import WaMessage
from handlers.whatsapp.organiser import decode_qr
from storage.documents import OrderStatus
from storage.store import Store
from tests.conftest import FakeClock
from tests.whatsapp_stack import AYU, DEWI, JOHN, PUBLIC, Stack, whatsapp_stack

JAZZ = "jazz-senja-2026"


async def buy_to_payment_link(stack: Stack, number: str = AYU) -> WaMessage:
    """Browse, pick the jazz evening, 2 × Early Bird, type the contact details, confirm: the payment link."""
    menu = await stack.say(number, "halo")
    events = await stack.tap(number, menu, "Acara" if number.startswith("+62") else "Events")
    assert events.interactive_type == "list"
    card = await stack.tap(number, events, "Jazz Senja")
    assert "Taman Ismail Marzuki" in card.text and "Rp150.000" in card.text and "WIB" in card.text
    assert "<b>" not in card.text and "*Jazz Senja" in card.text  # WhatsApp's own bold, no HTML
    tiers = await stack.tap(number, card, "Beli" if number.startswith("+62") else "Buy")
    quantities = await stack.tap(number, tiers, "Early Bird")
    cart = await stack.tap(number, quantities, "2 ×")
    assert "Rp300.000" in cart.text
    step = await stack.tap(number, cart, "Lanjut" if number.startswith("+62") else "Continue")
    step = await stack.say(number, "Ayu Lestari")
    step = await stack.say(number, "ayu@example")
    assert "⚠️" in step.text  # a bad email is refused, and asked again
    step = await stack.say(number, "ayu@example.com")
    summary = await stack.say(number, "0812 3456 7890")
    assert "Ayu Lestari" in summary.text and "Rp300.000" in summary.text
    return summary


async def test_the_whole_journey_from_hello_to_qr_images(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        summary = await buy_to_payment_link(stack)
        confirm = next(b["id"] for b in summary.buttons() if b["title"].startswith("Konfirmasi"))
        first = await stack.wa.press_button(AYU, summary.id, confirm)
        await stack.wa.press_button(AYU, summary.id, confirm)  # WhatsApp lets a button be tapped again
        await stack.wa.press_button(AYU, summary.id, confirm)
        pay = await stack.wa.wait_for_message(AYU, lambda m: m.cta() is not None, after=first.seq)
        await stack.settle()
        account = stack.services.accounts.resolve(whatsapp_address(AYU))
        [order] = await stack.services.orders.pending_for_user(account)  # three taps, one order
        assert order.buyer_address == whatsapp_address(AYU)
        assert pay.cta()["display_text"] == "Bayar Rp300.000" and pay.cta()["url"].startswith("http")

        await stack.midtrans.simulate_payment(order.id, "pay", payment_type="gopay")
        await stack.settle()
        assert (await stack.services.orders.get(order.id)).status == OrderStatus.PAID
        images = stack.images(AYU)
        assert len(images) == 2
        tickets = await stack.services.tickets.for_order(order.id)
        assert sorted(decode_qr(stack.image_bytes(m))[0] for m in images) == sorted(
            f"{PUBLIC}/t/{t.id}" for t in tickets)
        assert any("Pembayaran diterima" in (m.text or "") for m in stack.wa.messages_for(AYU))
        sale = [m for m in stack.wa.messages_for(DEWI) if order.id in (m.text or "")]
        assert sale and "Terjual" in sale[0].text  # the WhatsApp organiser hears of the sale

        mine = await stack.say(AYU, "tiket", lambda m: m.type == "image")
        assert decode_qr(stack.image_bytes(mine))[0].startswith(f"{PUBLIC}/t/")
        await stack.settle()
        assert len(stack.images(AYU)) == 4  # both again, on request
        orders = await stack.say(AYU, "pesanan")
        assert "Tidak ada pesanan" in orders.text


async def test_cancel_releases_the_seats(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        summary = await buy_to_payment_link(stack)
        await stack.tap(AYU, summary, "Konfirmasi")
        orders = await stack.say(AYU, "pesanan")
        cancelled = await stack.tap(AYU, orders, "Batalkan")
        assert "dibatalkan" in cancelled.text
        listing = await stack.services.catalog.get(JAZZ)
        assert listing.tier("EARLY").pending == 0 and listing.tier("EARLY").available == 100


@pytest.mark.parametrize(("number", "word"), [(AYU, "Acara"), (JOHN, "Events")])
async def test_language_follows_the_number_until_the_person_switches(memory_store: Store, clock: FakeClock,
                                                                     number: str, word: str) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        menu = await stack.say(number, "hi")
        assert menu.buttons()[0]["title"] == word
        switched = await stack.say(number, "english" if number == AYU else "bahasa")
        assert switched.buttons()[0]["title"] == ("Events" if number == AYU else "Acara")
        again = await stack.say(number, "menu")  # remembered on the account
        assert again.buttons()[0]["title"] == switched.buttons()[0]["title"]
