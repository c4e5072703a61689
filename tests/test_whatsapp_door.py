"""The WhatsApp door end to end through the real service: the Cloud API simulator delivers signed webhooks to the
real aiohttp app, the Midtrans simulator takes the payment, the notifier sends the QR images back."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import aiohttp
import pytest
from PIL import Image

from bot.accounts import telegram_address, whatsapp_address
from bot.qr_reading import decode_qr
from bot.sandbox.whatsapp import WaMessage
from bot.tickets import format_code, render_link_qr, render_qr
from storage.documents import Buyer, OrderStatus
from storage.store import Store
from tests.conftest import BUYER_ID, ORGANISER_ID, FakeClock
from tests.handlers_kit import Bot
from tests.whatsapp_stack import AYU, BOSS, DEWI, JOHN, PUBLIC, Stack, png_of, whatsapp_stack

JAZZ = "jazz-senja-2026"
DOORS_OPEN = datetime(2026, 12, 31, 10, 0, tzinfo=UTC)  # 17:00 WIB: inside the jazz evening's door window


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
        clock.advance(seconds=20)
        await stack.services.digests.send_due()  # the sale-digest job
        sale = [m for m in stack.wa.all_messages_to(DEWI) if order.id in (m.text or "")]
        assert sale and "Penjualan sejak" in sale[0].text  # the WhatsApp organiser hears of it in the digest

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


async def paid_on_whatsapp(stack: Stack) -> list:
    summary = await buy_to_payment_link(stack)
    await stack.tap(AYU, summary, "Konfirmasi")
    account = stack.services.accounts.resolve(whatsapp_address(AYU))
    [order] = await stack.services.orders.pending_for_user(account)
    await stack.midtrans.simulate_payment(order.id, "pay", payment_type="gopay")
    await stack.settle()
    return await stack.services.tickets.for_order(order.id)


def photo_of(qr_png: bytes) -> bytes:
    """A phone's photo of a QR: on a larger grey background."""
    qr = Image.open(io.BytesIO(qr_png)).convert("RGB")
    canvas = Image.new("RGB", (qr.width + 200, qr.height + 300), "#d8d8d8")
    canvas.paste(qr, (100, 120))
    return png_of(canvas)


async def test_bought_on_whatsapp_checked_in_at_the_telegram_door(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock, telegram=True) as stack:
        first, second = await paid_on_whatsapp(stack)
        image = next(m for m in stack.images(AYU) if second.id in decode_qr(stack.image_bytes(m))[0])
        qr_image = stack.image_bytes(image)  # read now: WhatsApp keeps media 30 days
        clock.now = DOORS_OPEN
        kit = Bot(stack.telegram, stack.telegram_app, stack.services, stack.midtrans, clock)
        [ok] = await kit.say(ORGANISER_ID, f"/checkin {first.id}")
        assert ok.text.startswith("✅ Checked in: Ayu Lestari, Early Bird")
        await kit.say(ORGANISER_ID, "/scan")
        [scanned] = await kit.photo(ORGANISER_ID, photo_of(qr_image))  # the WhatsApp QR image
        assert scanned.text.startswith("✅ Checked in: Ayu Lestari, Early Bird")
        assert (await stack.services.tickets.get(second.id)).checked_in_at is not None


async def test_checked_in_at_the_whatsapp_door_by_code_photo_and_an_old_telegram_qr(memory_store: Store,
                                                                                  clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        first, second = await paid_on_whatsapp(stack)
        clock.now = DOORS_OPEN
        ok = await stack.say(DEWI, f"checkin {format_code(first.id).lower()}")
        assert ok.text.startswith("✅ *Check-in berhasil*: Ayu Lestari, Early Bird")
        again = await stack.say(DEWI, f"checkin {first.id}")
        assert again.text.startswith("⚠️ *Sudah check-in*") or "⚠️" in again.text
        stranger = await stack.say(JOHN, f"checkin {second.id}")  # told where it stands, nothing personal
        assert stranger.text.startswith("🎟 *Valid ticket*, not used yet\nJazz Senja") and "Ayu" not in stranger.text
        assert (await stack.services.tickets.get(second.id)).checked_in_at is None

        old_qr = await render_qr("KarcisBot", second.id)  # a QR sold before PUBLIC_URL: t.me/<bot>?start=t_<code>
        scanned = await stack.answer(DEWI, lambda: stack.wa.send_image(DEWI, photo_of(old_qr), mime_type="image/png"))
        assert scanned.text.startswith("✅ *Check-in berhasil*: Ayu Lestari")
        blurry = await stack.answer(DEWI, lambda: stack.wa.send_image(DEWI, png_of(Image.new("RGB", (80, 80))),
                                                                      mime_type="image/png"))
        assert blurry.text.startswith("⚠️")


async def test_bought_on_telegram_checked_in_on_whatsapp(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock, telegram=True) as stack:
        order = await stack.services.orders.reserve(telegram_address(BUYER_ID), JAZZ, {"VIP": 1},
                                                    Buyer(name="Sinta Maharani", email="s@example.com",
                                                          phone="+6281234567891"))
        [ticket] = (await stack.services.orders.pay(order.id)).tickets
        clock.now = DOORS_OPEN
        photo = photo_of(await render_link_qr(stack.services.links.ticket(ticket.id)))
        scanned = await stack.answer(DEWI, lambda: stack.wa.send_image(DEWI, photo, mime_type="image/png"))
        assert scanned.text.startswith("✅ *Check-in berhasil*: Sinta Maharani, VIP")


async def test_a_forged_webhook_reaches_no_door_and_a_replayed_one_is_handled_once(memory_store: Store,
                                                                                clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        await stack.say(AYU, "halo")
        before = len(stack.wa.messages_for(AYU))
        url = stack.wa.webhook_url
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
            "field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {
                "display_phone_number": "6281100000000", "phone_number_id": stack.wa.phone_number_id},
                "contacts": [{"profile": {"name": "Ayu"}, "wa_id": AYU[1:]}],
                "messages": [{"from": AYU[1:], "id": "wamid.forged", "timestamp": str(int(clock().timestamp())),
                              "type": "text", "text": {"body": "acara"}}]}}]}]}).encode()
        async with aiohttp.ClientSession() as http:
            forged = await http.post(url, data=body, headers={"X-Hub-Signature-256": "sha256=" + "0" * 64,
                                                              "Content-Type": "application/json"})
            assert forged.status == 401
            signed = {"X-Hub-Signature-256": stack.wa.sign(body), "Content-Type": "application/json"}
            for _ in range(2):  # Meta redelivers: byte-identical, same signature
                assert (await http.post(url, data=body, headers=signed)).status == 200
        await stack.settle()
        answers = stack.wa.messages_for(AYU)[before:]
        assert len(answers) == 1 and answers[0].interactive_type == "list"  # the signed one, once


async def late_settlement(stack: Stack, order_id: str) -> None:
    """Ayu paid in time, but Midtrans's word of it reaches us a day later (its retries, or our polling)."""
    stack.clock.advance(hours=25)
    await stack.midtrans.set_status(order_id, "settlement")
    await stack.midtrans.notify(None, order_id)


async def test_a_late_payment_outside_the_window_uses_the_template(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        summary = await buy_to_payment_link(stack)
        await stack.tap(AYU, summary, "Konfirmasi")
        [order] = await stack.services.orders.pending_for_user(whatsapp_address(AYU))
        await late_settlement(stack, order.id)
        await stack.settle()
        late = [m for m in stack.wa.all_messages_to(AYU) if m.type == "template"]
        assert late and order.id in late[0].text and late[0].visible
        assert not [m for m in stack.wa.all_messages_to(AYU) if m.type == "image"]  # no free-form sent to fail
        mine = await stack.say(AYU, "tiket", lambda m: m.type == "image")  # her reply opens the window
        assert decode_qr(stack.image_bytes(mine))[0].startswith(f"{PUBLIC}/t/")


async def test_a_late_payment_with_no_template_fails_clearly_and_stays_owed(memory_store: Store, clock: FakeClock,
                                                                            caplog: pytest.LogCaptureFixture) -> None:
    async with whatsapp_stack(memory_store, clock, templates=False) as stack:
        summary = await buy_to_payment_link(stack)
        await stack.tap(AYU, summary, "Konfirmasi")
        [order] = await stack.services.orders.pending_for_user(whatsapp_address(AYU))
        await late_settlement(stack, order.id)
        await stack.settle()
        assert "WHATSAPP_TEMPLATE_TICKETS is not configured" in caplog.text
        assert not [m for m in stack.wa.all_messages_to(AYU) if m.type in ("image", "template")]
        paid = await stack.services.orders.get(order.id)
        assert "paid" in paid.outbox and paid.notify_due_at is not None  # still owed, retried later

        await stack.say(AYU, "halo")  # she writes: the window is open again, and the retry delivers
        clock.advance(hours=1)
        await stack.services.delivery.deliver_due()
        await stack.settle()
        assert len(stack.images(AYU)) == 2


async def test_admin_stats_and_expire_and_strangers_refused(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        summary = await buy_to_payment_link(stack)
        await stack.tap(AYU, summary, "Konfirmasi")
        [order] = await stack.services.orders.pending_for_user(whatsapp_address(AYU))
        refused = await stack.say(JOHN, "expire")
        assert refused.text.startswith("🙏")
        figures = await stack.say(BOSS, "stats")
        assert "Jazz Senja" in figures.text and "<b>" not in figures.text
        await stack.settle()  # one message per event
        clock.advance(hours=2)  # the hold has ended
        done = await stack.say(BOSS, "expire")
        assert "1" in done.text
        assert (await stack.services.orders.get(order.id)).status == OrderStatus.EXPIRED
        await stack.settle()
        assert any("Jazz Senja" in (m.text or "") for m in stack.wa.all_messages_to(AYU)[-2:])  # told, by template
