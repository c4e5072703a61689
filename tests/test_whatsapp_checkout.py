"""The WhatsApp door's contact steps and summary (issue 12, buyer flow): the number the chat comes from offered
at the phone step, one detail changed from the summary, a free order confirmed once, phone mistakes named, emoji
names accepted and control characters refused."""

from __future__ import annotations

from bot.accounts import whatsapp_address
from bot.sandbox.whatsapp import WaMessage
from storage.documents import OrderStatus
from storage.store import Store
from tests.conftest import FakeClock
from tests.whatsapp_stack import AYU, JOHN, Stack, whatsapp_stack


async def to_phone_step(stack: Stack, number: str = AYU, *, event: str = "Jazz Senja", tier: str = "Early Bird",
                        name: str = "Ayu Lestari") -> WaMessage:
    indonesian = number.startswith("+62")
    menu = await stack.say(number, "halo")
    events = await stack.tap(number, menu, "Acara" if indonesian else "Events")
    card = await stack.tap(number, events, event)
    tiers = await stack.tap(number, card, "Beli" if indonesian else "Buy")
    quantities = await stack.tap(number, tiers, tier)
    cart = await stack.tap(number, quantities, "1 ×")
    await stack.tap(number, cart, "Lanjut" if indonesian else "Continue")
    await stack.say(number, name)
    return await stack.say(number, "ayu@example.com")


async def test_the_phone_step_offers_the_chats_own_number_beside_typing(memory_store: Store,
                                                                      clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        asked = await to_phone_step(stack)
        assert "Langkah 3 dari 3" in asked.text and "Pakai +6281234567890" in asked.text
        assert [b["title"] for b in asked.buttons()] == ["Pakai +6281234567890", "Batal"]

        summary = await stack.tap(AYU, asked, "Pakai +6281234567890")
        assert "Ringkasan pesanan" in summary.text and "📱 +6281234567890" in summary.text
        again = await stack.answer(AYU, lambda: stack.wa.press_button(AYU, asked.id, asked.buttons()[0]["id"]))
        assert "Ringkasan pesanan" in again.text  # tapped again: the purchase as it is now, nothing changed
        draft = await stack.services.checkout.current(stack.services.accounts.resolve(whatsapp_address(AYU)))
        assert draft is not None and draft.phone == "+6281234567890"


async def test_another_number_can_still_be_typed_and_mistakes_say_what_is_wrong(memory_store: Store,
                                                                                 clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        await to_phone_step(stack, JOHN)
        wrong = await stack.say(JOHN, "0812")
        assert wrong.text.startswith("⚠️ That phone number is too short: an Indonesian mobile number looks like 0812")
        assert [b["title"] for b in wrong.buttons()] == ["Use +61412345678", "Cancel"]  # asked again, still offered
        wrong = await stack.say(JOHN, "61412345678")
        assert "start it with + and the country code" in wrong.text
        wrong = await stack.say(JOHN, "ring me")
        assert wrong.text.startswith("⚠️ A phone number has no letters")
        summary = await stack.say(JOHN, "0813 1111 2222")
        assert "📱 +6281311112222" in summary.text


async def test_change_details_changes_one_field_and_keeps_the_others(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        summary = await stack.tap(AYU, await to_phone_step(stack), "Pakai")
        choice = await stack.tap(AYU, summary, "Ubah data")
        assert [b["title"] for b in choice.buttons()] == ["Nama", "Email", "Telepon"]
        asked = await stack.tap(AYU, choice, "Nama")
        assert "sebagai ganti *Ayu Lestari*" in asked.text and "Langkah" not in asked.text
        summary = await stack.say(AYU, "Ayu Putri")
        assert "Ringkasan pesanan" in summary.text  # the email and phone were not asked again
        assert "👤 Ayu Putri\n📧 ayu@example.com\n📱 +6281234567890" in summary.text

        asked = await stack.tap(AYU, await stack.tap(AYU, summary, "Ubah data"), "Email")
        back = await stack.tap(AYU, asked, "Kembali ke ringkasan")
        assert "👤 Ayu Putri\n📧 ayu@example.com" in back.text  # changed their mind: nothing changed

        asked = await stack.tap(AYU, await stack.tap(AYU, back, "Ubah data"), "Telepon")
        assert "sebagai ganti +6281234567890" in asked.text and asked.buttons()[0]["title"].startswith("Pakai")
        summary = await stack.say(AYU, "0813 1111 2222")
        await stack.tap(AYU, summary, "Konfirmasi")
        [order] = await stack.services.orders.pending_for_user(stack.services.accounts.resolve(whatsapp_address(AYU)))
        assert (order.buyer.name, order.buyer.email, order.buyer.phone) == (
            "Ayu Putri", "ayu@example.com", "+6281311112222")


async def test_a_free_order_says_nothing_of_midtrans_and_confirms_once(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        asked = await to_phone_step(stack, event="Workshop", tier="Community seat")
        summary = await stack.tap(AYU, asked, "Pakai")
        assert "Total: Gratis" in summary.text and "Midtrans" not in summary.text and "bayar lewat" not in summary.text
        assert "Tidak ada yang perlu dibayar" in summary.text
        assert [b["title"] for b in summary.buttons()][0] == "Ambil tiket"

        tapped = await stack.wa.press_button(AYU, summary.id, summary.buttons()[0]["id"])
        await stack.wa.wait_for_message(AYU, lambda m: m.type == "image", after=tapped.seq)
        await stack.settle()
        after = [m for m in stack.wa.messages_for(AYU) if m.seq > tapped.seq]
        texts = [m.text for m in after if m.type != "image"]
        assert len(texts) == 1 and texts[0].startswith("🎉 *Tiket gratis Anda*")  # one confirmation, then the QR
        assert [m.type for m in after] == ["text", "image"]
        [order] = [o for o in await stack.services.store.db["orders"].find({}).to_list(None)]
        assert order["status"] == OrderStatus.PAID.value


async def test_names_with_emoji_are_taken_and_control_characters_refused(memory_store: Store,
                                                                       clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        menu = await stack.say(AYU, "halo")
        card = await stack.tap(AYU, await stack.tap(AYU, menu, "Acara"), "Jazz Senja")
        cart = await stack.tap(AYU, await stack.tap(AYU, await stack.tap(AYU, card, "Beli"), "Early Bird"), "1 ×")
        await stack.tap(AYU, cart, "Lanjut")
        refused = await stack.say(AYU, "Ayu \u202eLestari")
        assert refused.text.startswith("⚠️ Nama itu mengandung karakter tak terlihat yang membalik arah teks")
        email_q = await stack.say(AYU, "Ayu 👩\u200d🎤🇮🇩👍🏽")
        assert "Langkah 2 dari 3" in email_q.text and "⚠️" not in email_q.text
