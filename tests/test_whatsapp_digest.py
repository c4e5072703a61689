"""The organisers' sale digest on WhatsApp (bot/digest.py through the DigestRouter): WhatsApp organisers get
the digest, not one message per sale, and as a new message per interval (WhatsApp cannot edit a sent one)."""

from __future__ import annotations

from bot.accounts import whatsapp_address
from bot.sandbox.whatsapp import WaMessage
from storage.store import Store
from tests.conftest import ORGANISER_ID, FakeClock
from tests.test_whatsapp_door import buy_to_payment_link
from tests.whatsapp_stack import AYU, DEWI, JOHN, Stack, whatsapp_stack


async def buy_and_pay(stack: Stack, number: str) -> str:
    summary = await buy_to_payment_link(stack, number)
    await stack.tap(number, summary, "Konfirmasi" if number.startswith("+62") else "Confirm")
    [order] = await stack.services.orders.pending_for_user(whatsapp_address(number))
    await stack.midtrans.simulate_payment(order.id, "pay", payment_type="gopay")
    await stack.settle()
    return order.id


RINA = "+6281355500001"


def to_dewi(stack: Stack) -> list[WaMessage]:
    return [m for m in stack.wa.all_messages_to(DEWI) if m.direction == "out"]


async def test_a_whatsapp_organiser_gets_the_digest_a_new_message_per_interval(memory_store: Store,
                                                                               clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock, telegram=True) as stack:
        await stack.say(DEWI, "halo")  # Dewi's window is open: free-form digests
        before = len(to_dewi(stack))
        first = await buy_and_pay(stack, AYU)
        second = await buy_and_pay(stack, JOHN)
        assert len(to_dewi(stack)) == before  # no message per sale
        clock.advance(seconds=20)
        assert await stack.services.digests.send_due() >= 1
        [digest] = to_dewi(stack)[before:]
        assert digest.type == "text" and first in digest.text and second in digest.text
        assert "Penjualan sejak" in digest.text and "Jazz Senja" in digest.text and "<b>" not in digest.text
        assert stack.telegram is not None  # the Telegram organiser's digest still goes to Telegram
        assert any(first in (m.text or "") for m in stack.telegram.messages(ORGANISER_ID))

        stack.wa.add_user(RINA, "Rina")
        third = await buy_and_pay(stack, RINA)
        clock.advance(seconds=20)
        await stack.services.digests.send_due()
        [_, latest] = to_dewi(stack)[before:]  # a new message, with only the sales since the last one
        assert third in latest.text and first not in latest.text
        assert (await stack.services.digests.send_due()) == 0  # nothing new: nothing sent


async def test_outside_her_window_the_digest_is_the_notice_template(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        order = await buy_and_pay(stack, AYU)
        clock.advance(seconds=20)
        await stack.services.digests.send_due()
        [digest] = [m for m in to_dewi(stack) if order in (m.text or "")]
        assert digest.type == "template" and digest.visible
