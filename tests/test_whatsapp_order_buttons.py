"""The WhatsApp door's order buttons (docs/order-messages.md): WhatsApp cannot edit a sent message, so an old Pay,
Cancel or the checkout's Cancel answers the truth about the order when tapped; Cancel asks for one confirming tap;
"orders" lists paid orders without Pay/Cancel and names each order in the body (titles ≤ 20 characters)."""

from __future__ import annotations

from bot.accounts import whatsapp_address
from storage.documents import OrderStatus
from storage.store import Store
from tests.conftest import FakeClock
from tests.helpers import buyer
from tests.test_whatsapp_door import JAZZ, buy_to_payment_link
from tests.whatsapp_stack import AYU, JOHN, whatsapp_stack


async def test_an_old_cancel_of_a_paid_order_says_it_is_paid(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        summary = await buy_to_payment_link(stack)
        await stack.tap(AYU, summary, "Konfirmasi")
        [order] = await stack.services.orders.pending_for_user(whatsapp_address(AYU))
        shown = await stack.say(AYU, f"order {order.id}")
        assert [b["title"] for b in shown.buttons()] == ["Bayar Rp300.000", "Batal"]
        assert order.id in shown.text  # the body names the order; the titles fit 20 characters
        await stack.services.orders.pay(order.id)
        await stack.settle()

        answer = await stack.tap(AYU, shown, "Batal")
        assert answer.text.startswith(f"Pesanan {order.id} sudah lunas — tiket Anda ada di chat ini.")
        again = await stack.tap(AYU, shown, "Bayar")
        assert again.text.startswith(f"Pesanan {order.id} sudah lunas")
        dropped = await stack.tap(AYU, summary, "Batal")  # the summary's Cancel, long after the purchase
        assert dropped.text.startswith(f"Pesanan {order.id} sudah lunas") and "Tidak ada yang" not in dropped.text
        assert (await stack.services.orders.get(order.id)).status == OrderStatus.PAID


async def test_an_old_pay_of_an_expired_hold_says_when_it_expired(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        account = whatsapp_address(JOHN)
        order = await stack.services.orders.reserve(account, JAZZ, {"REG": 1}, buyer(), address=account)
        shown = await stack.say(JOHN, f"order {order.id}")
        clock.advance(minutes=31)
        await stack.services.orders.expire_due()
        await stack.settle()
        answer = await stack.tap(JOHN, shown, "Pay")
        assert answer.text.startswith("This hold expired at Tue, 1 Dec 2026 10:30 WIB; its seats were released.")


async def test_cancel_asks_once_and_keep_changes_nothing(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        account = whatsapp_address(JOHN)
        order = await stack.services.orders.reserve(account, JAZZ, {"REG": 1}, buyer(), address=account)
        listing = await stack.say(JOHN, "orders")
        assert [r["title"] for r in listing.rows()] == ["#1 Pay Rp250.000", "#1 Cancel"]
        assert f"*#1* `{order.id}`" in listing.text
        ask = await stack.tap(JOHN, listing, "#1 Cancel")
        assert ask.text.startswith(f"❓ Cancel order `{order.id}`?")
        assert [b["title"] for b in ask.buttons()] == ["Yes, cancel", "Keep order"]
        kept = await stack.tap(JOHN, ask, "Keep order")
        assert order.id in kept.text and (await stack.services.orders.get(order.id)).status == OrderStatus.PENDING
        done = await stack.tap(JOHN, ask, "Yes, cancel")
        assert done.text.startswith(f"✖ Order `{order.id}` cancelled")
        again = await stack.tap(JOHN, ask, "Yes, cancel")  # tapped once more: the truth, not an error
        assert again.text.startswith(f"Order {order.id} was already cancelled")


async def test_my_orders_shows_paid_orders_without_pay_or_cancel(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        account = whatsapp_address(JOHN)
        paid = await stack.services.orders.reserve(account, JAZZ, {"REG": 1}, buyer(), address=account)
        await stack.services.orders.pay(paid.id)
        await stack.settle()
        only_paid = await stack.say(JOHN, "orders")
        assert only_paid.rows() == [] and paid.id in only_paid.text and "✅ *Paid*" in only_paid.text
        pending = await stack.services.orders.reserve(account, JAZZ, {"EARLY": 1}, buyer(), address=account)
        both = await stack.say(JOHN, "orders")
        assert all(paid.id not in r["id"] for r in both.rows()) and {r["description"] for r in both.rows()} == {
            pending.id}
        assert paid.id in both.text.split("✅ *Paid*")[1]
