"""The messages that offer actions on an order (docs/order-messages.md), on Telegram: kept on the order, edited when
it is paid, expires, fails or is cancelled; an old button answers the truth about what it points at; Cancel asks for
one confirming tap; /orders shows paid orders without Pay/Cancel."""

from __future__ import annotations

import logging

from bot.order_messages import KEEP, OfferedMessage
from storage.documents import OrderStatus
from tests.conftest import BUYER_ID
from tests.handlers_kit import JAZZ, Bot
from tests.helpers import acct, buyer
from tests.test_handlers_buyer import EARLY_PLUS, cancel_listed, checkout_to_summary, choose, open_card
from tests.test_handlers_notifier import midtrans_says

CONFIRM = "✅ Confirm and hold the seats"


async def held(kit: Bot):
    """A purchase through the chat up to "Seats held"; the payment-link message and the order."""
    summary = await checkout_to_summary(kit)
    pay = await kit.tap(BUYER_ID, summary, CONFIRM)
    [order] = await kit.services.orders.pending_for_user(acct(BUYER_ID))
    return pay, order


async def test_the_seats_held_message_is_kept_on_the_order_and_shows_the_payment_once_paid(kit: Bot) -> None:
    pay, order = await held(kit)
    stored = await kit.services.orders.get(order.id)
    assert [(m.address, m.message_id, m.view.value) for m in stored.action_messages] == [
        (f"telegram:{BUYER_ID}", str(pay.message_id), "order")]
    assert stored.draft_nonce  # the draft it was confirmed from

    await midtrans_says(kit, order.id, "settlement", payment_type="bank_transfer")

    now = kit.now(BUYER_ID, pay)
    assert now.text.startswith(f"✅ Order {order.id}") and "Paid." in now.text
    assert now.callback_data() == ["mt|0"] and not [b for b in now.buttons() if "url" in b]  # no Pay, no Cancel


async def test_expired_and_failed_orders_lose_their_pay_and_cancel(kit: Bot) -> None:
    pay, order = await held(kit)
    kit.clock.advance(minutes=31)
    await kit.services.orders.expire_due()
    await kit.services.delivery.deliver(order.id)
    now = kit.now(BUYER_ID, pay)
    assert now.text.startswith(f"⌛ Order {order.id}") and "not paid in time" in now.text
    assert not any(d.startswith(("op|", "oc|")) for d in now.callback_data())
    assert not any("Pay" in b["text"] for b in now.buttons())


async def test_transfer_instructions_are_edited_once_the_payment_failed(kit: Bot) -> None:
    pay, order = await held(kit)
    await midtrans_says(kit, order.id, "pending", payment_type="gopay")
    instructions = kit.sent(BUYER_ID)[-1]
    assert instructions.buttons(), "the e-wallet buttons"
    assert await midtrans_says(kit, order.id, "deny", payment_type="gopay") is not None
    await kit.services.orders.fail(order.id, note="test")  # denied for good (the simulator's deny may keep it)
    await kit.services.delivery.deliver(order.id)
    now = kit.now(BUYER_ID, instructions)
    assert (await kit.services.orders.get(order.id)).status == OrderStatus.FAILED
    assert now.text.startswith(f"❌ The payment for order {order.id}")
    assert not [b for b in now.buttons() if "url" in b]
    assert kit.now(BUYER_ID, pay).text.startswith(f"❌ The payment for order {order.id}")


async def test_an_old_pay_button_of_a_paid_order_says_so_and_edits_its_message(kit: Bot) -> None:
    pay, order = await held(kit)
    [shown] = await kit.say(BUYER_ID, f"/start o_{order.id}")  # a second message offering Pay/Cancel
    await kit.services.orders.pay(order.id)  # paid, nothing delivered yet: the messages still offer Pay/Cancel
    assert f"oc|{order.id}" in kit.now(BUYER_ID, pay).callback_data()

    answer = await kit.answer_to(BUYER_ID, pay, f"oc|{order.id}")

    assert answer == f"Order {order.id} is already paid — your tickets are in this chat."
    assert kit.now(BUYER_ID, pay).callback_data() == ["mt|0"]
    assert kit.now(BUYER_ID, pay).text.startswith(f"✅ Order {order.id}")
    answer = await kit.answer_to(BUYER_ID, shown, f"oc|{order.id}")
    assert answer == f"Order {order.id} is already paid — your tickets are in this chat."
    assert kit.now(BUYER_ID, shown).callback_data() == ["mt|0"]


async def test_a_listed_pay_of_a_paid_order_says_so_and_lists_again(kit: Bot) -> None:
    order = await kit.services.orders.reserve(acct(BUYER_ID), JAZZ, {"REG": 1}, buyer())  # no link made yet
    [listing] = await kit.say(BUYER_ID, "/orders")
    await kit.services.orders.pay(order.id)
    answer = await kit.answer_to(BUYER_ID, listing, f"op|{order.id}|l")
    assert answer == f"Order {order.id} is already paid — your tickets are in this chat."
    assert kit.now(BUYER_ID, listing).buttons() == [] and "✅ Paid" in kit.now(BUYER_ID, listing).text


async def test_an_old_cancel_of_an_expired_hold_says_when_it_expired(kit: Bot) -> None:
    pay, order = await held(kit)
    kit.clock.advance(minutes=31)
    await kit.services.orders.expire_due()  # not delivered: the message is still the old one
    answer = await kit.answer_to(BUYER_ID, pay, f"oc|{order.id}")
    assert answer == "This hold expired at Tue, 1 Dec 2026 10:30 WIB; its seats were released."
    assert kit.now(BUYER_ID, pay).text.startswith(f"⌛ Order {order.id}")


async def old_prompt(kit: Bot):
    """A purchase whose first prompt was left behind with its ✖ Cancel (the same mistake typed twice makes the
    bot send a new prompt), then the details and the summary in the new one."""
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    await kit.press(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")
    first = await kit.step(BUYER_ID, "12345")
    await kit.step(BUYER_ID, "12345")
    kit.expected_failures.append("message is not modified")
    drop = next(d for d in kit.now(BUYER_ID, first).callback_data() if d.startswith("x|"))
    await kit.step(BUYER_ID, "Sinta Maharani")
    await kit.step(BUYER_ID, "sinta@example.com")
    summary = await kit.step(BUYER_ID, "0812-3456-7890")
    return first, drop, summary


async def test_the_checkouts_old_cancel_tells_what_the_purchase_became(kit: Bot) -> None:
    first, drop, summary = await old_prompt(kit)
    await kit.tap(BUYER_ID, summary, CONFIRM)
    [order] = await kit.services.orders.pending_for_user(acct(BUYER_ID))
    await kit.services.orders.pay(order.id)

    answer = await kit.answer_to(BUYER_ID, first, drop)  # the first prompt's ✖ Cancel, after the purchase

    assert answer == f"Order {order.id} is already paid — your tickets are in this chat."
    assert kit.now(BUYER_ID, first).text.startswith(f"✅ Order {order.id}")
    assert (await kit.services.orders.get(order.id)).status == OrderStatus.PAID


async def test_the_checkouts_old_cancel_of_a_pending_order_offers_that_order(kit: Bot) -> None:
    first, drop, summary = await old_prompt(kit)
    await kit.tap(BUYER_ID, summary, CONFIRM)
    [order] = await kit.services.orders.pending_for_user(acct(BUYER_ID))

    answer = await kit.answer_to(BUYER_ID, first, drop)

    assert answer == f"This purchase is already order {order.id}, waiting for payment."
    assert kit.now(BUYER_ID, first).callback_data()[-1] == f"oc|{order.id}"
    assert (await kit.services.orders.get(order.id)).status == OrderStatus.PENDING


async def test_a_closed_purchase_whose_order_is_unknown_claims_nothing(kit: Bot) -> None:
    first, drop, summary = await old_prompt(kit)
    await kit.press(BUYER_ID, summary, "✖ Cancel")
    assert kit.now(BUYER_ID, summary).text == "Purchase cancelled. Nothing was reserved."
    answer = await kit.answer_to(BUYER_ID, first, drop)
    assert answer == "This purchase is no longer open. Your unpaid orders: /orders"
    assert "Nothing was" not in kit.now(BUYER_ID, first).text


async def test_cancel_asks_once_and_keep_brings_the_payment_back(kit: Bot) -> None:
    pay, order = await held(kit)
    await kit.press(BUYER_ID, pay, "✖ Cancel order")
    ask = kit.now(BUYER_ID, pay)
    assert ask.text.startswith(f"❓ Cancel order {order.id}?")
    assert [b["text"] for b in ask.buttons()] == ["✖ Yes, cancel it", "↩ Keep it"]
    await kit.press(BUYER_ID, ask, "↩ Keep it")
    back = kit.now(BUYER_ID, pay)
    assert "Seats held!" in back.text and back.button("💳 Pay Rp150.000")["url"]
    assert (await kit.services.orders.get(order.id)).status == OrderStatus.PENDING


async def test_cancelling_from_the_list_edits_the_other_messages_of_that_order(kit: Bot) -> None:
    pay, order = await held(kit)
    [listing] = await kit.say(BUYER_ID, "/orders")
    confirmation = await cancel_listed(kit, listing, 1)

    assert confirmation.text.startswith(f"✖ Order {order.id} cancelled")
    assert kit.now(BUYER_ID, pay).text.startswith(f"✖ Order {order.id} (Jazz Senja di Taman")  # edited too
    relisted = kit.now(BUYER_ID, listing)
    assert relisted.text.startswith("You have no unpaid orders") and not relisted.buttons()


async def test_orders_shows_paid_orders_without_pay_or_cancel_and_an_old_list_is_relisted(kit: Bot) -> None:
    first = await kit.services.orders.reserve(acct(BUYER_ID), JAZZ, {"REG": 1}, buyer())
    second = await kit.services.orders.reserve(acct(BUYER_ID), JAZZ, {"EARLY": 1}, buyer())
    [listing] = await kit.say(BUYER_ID, "/orders")
    assert [b["text"] for b in listing.buttons()] == ["💳 #1 · Pay Rp250.000", "✖ Cancel #1",
                                                      "💳 #2 · Pay Rp150.000", "✖ Cancel #2"]

    await kit.services.orders.pay(first.id)
    await kit.services.delivery.deliver(first.id)

    relisted = kit.now(BUYER_ID, listing)  # the old list, edited
    assert first.id in relisted.text.split("✅ Paid")[1] and second.id in relisted.text.split("✅ Paid")[0]
    assert [b["text"] for b in relisted.buttons()] == ["💳 #1 · Pay Rp150.000", "✖ Cancel #1"]
    assert all(first.id not in d for d in relisted.callback_data())
    [fresh] = await kit.say(BUYER_ID, "/orders")
    assert fresh.text == relisted.text and all(first.id not in d for d in fresh.callback_data())


async def test_a_message_that_is_gone_is_skipped_and_logged_at_debug(kit: Bot, caplog) -> None:
    pay, order = await held(kit)
    kit.expected_failures.append("message to edit not found")
    await kit.services.order_messages.offered(order.id, OfferedMessage(f"telegram:{BUYER_ID}", "99999"))
    with caplog.at_level(logging.DEBUG, logger="handlers.telegram.order_messages"):
        await midtrans_says(kit, order.id, "settlement", payment_type="bank_transfer")
    assert "not edited: message to edit not found" in caplog.text.lower()
    assert (await kit.services.orders.get(order.id)).outbox == {}  # delivered all the same


async def test_the_messages_kept_per_order_are_bounded_and_recorded_once(kit: Bot) -> None:
    pay, order = await held(kit)
    for n in range(KEEP + 3):
        message = OfferedMessage(f"telegram:{BUYER_ID}", str(1000 + n))
        await kit.services.order_messages.offered(order.id, message)
        await kit.services.order_messages.offered(order.id, message)
    kept = (await kit.services.orders.get(order.id)).action_messages
    assert [m.message_id for m in kept] == [str(1000 + n) for n in range(3, KEEP + 3)]


async def test_an_indonesian_buyer_gets_the_truth_in_indonesian(kit: Bot) -> None:
    from tests.handlers_kit import INDO_ID

    order = await kit.services.orders.reserve(acct(INDO_ID), JAZZ, {"REG": 1}, buyer())
    [shown] = await kit.say(INDO_ID, f"/start o_{order.id}")
    await kit.services.orders.pay(order.id)
    answer = await kit.answer_to(INDO_ID, shown, f"op|{order.id}")
    assert answer == f"Pesanan {order.id} sudah lunas — tiket Anda ada di chat ini."
