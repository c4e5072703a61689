"""The Telegram notifier: what orders owe reaches buyers, organisers and admins, in their language, and survives
blocked users and flood limits."""

from __future__ import annotations

import io
import json
import time

import pytest
import zxingcpp
from PIL import Image

from bot.notifications import Notice, Undeliverable
from bot.outbox import Message
from bot.payments import Outcome
from bot.tickets import format_code
from handlers.telegram.notifier import TelegramNotifier
from storage.documents import OrderDoc, OrderStatus, tier_key
from tests.conftest import ADMIN_ID, BUYER_ID, ORGANISER_ID
from tests.handlers_kit import INDO_ID, JAZZ, Bot, event_yaml
from tests.helpers import acct, buyer


async def order_with_link(kit: Bot, uid: int = BUYER_ID, cart: dict[str, int] | None = None) -> OrderDoc:
    order = await kit.services.orders.reserve(acct(uid), JAZZ, cart or {"EARLY": 2}, buyer())
    await kit.services.payments.payment_link(order.id, acct(uid))
    return order


async def midtrans_says(kit: Bot, order_id: str, status: str, **kwargs) -> Outcome:
    """Midtrans moves the transaction and notifies; then the owed messages are delivered."""
    await kit.midtrans.set_status(order_id, status, **kwargs)
    body = kit.midtrans.state.notification_body(order_id)
    result = await kit.services.payments.handle_notification(json.dumps(body).encode())
    await kit.services.delivery.deliver(order_id)
    return result.outcome


async def test_payment_received_then_one_qr_per_ticket_and_the_organiser_hears_of_the_sale(kit: Bot) -> None:
    order = await order_with_link(kit)

    assert await midtrans_says(kit, order.id, "pending", payment_type="bank_transfer") == Outcome.STILL_PENDING
    [instructions] = kit.sent(BUYER_ID)
    va = kit.midtrans.transaction(order.id).va_number
    assert instructions.text.startswith(f"🏦 Finish your payment for order {order.id} (Rp300.000):")
    assert f"• BCA virtual account: {va}" in instructions.text

    assert await midtrans_says(kit, order.id, "settlement") == Outcome.PAID
    photos = kit.sent(BUYER_ID)[1:]  # no separate "payment received": it is the first photo's caption
    tickets = await kit.services.tickets.for_order(order.id)
    assert len(photos) == 2 and all(p.photo for p in photos)
    receipt = photos[0].caption.split("\n\n")[0]
    assert receipt.splitlines() == [f"💳 Payment received: order {order.id}", "2 × Early Bird: Rp300.000",
                                    "Total Rp300.000"]
    assert photos[0].callback_data() == ["mt|0"] and photos[1].callback_data() == []
    assert [codes_in(p.caption) for p in photos] == [format_code(t.id) for t in tickets]
    for photo, ticket in zip(photos, tickets, strict=True):
        [qr] = zxingcpp.read_barcodes(Image.open(io.BytesIO(kit.fake.file_bytes(photo.photo_file_id))))
        assert qr.text.endswith(f"?start=t_{ticket.id}")
    assert kit.sent(ORGANISER_ID) == []  # the sale waits in the organiser's digest
    assert (await kit.services.orders.get(order.id)).notify_due_at is None
    assert await kit.services.digests.send_due() == 1
    [digest] = kit.sent(ORGANISER_ID)
    assert digest.text.splitlines() == [
        "📊 Sales since 10:00 WIB", "Orders: 1 · seats: 2", "", "Jazz Senja di Taman: Malam Tahun Baru · orders: 1 · "
        "seats: 2", "🗓 Thu, 31 Dec 2026 19:00 WIB", "• Early Bird: +2 · sold 2/100", "All tiers: 2/550", "", "Latest",
        f"• Sinta Maharani · 2 × Early Bird · {order.id}",
    ]


def codes_in(caption: str) -> str:
    """The ticket code line of a ticket caption (after the receipt, if it carries one)."""
    return caption.split("\n\n")[-1].splitlines()[3]


async def test_a_receipt_too_long_for_a_caption_is_its_own_message(kit: Bot) -> None:
    tiers = [{"code": f"T{i}", "name": f"Tier {i} " + "panjang " * 7, "price": 10000, "capacity": 5}
             for i in range(10)]  # an order of ten long-named tiers, at a long-named event and venue
    await kit.services.catalog.import_events(event_yaml(title="Malam " * 33, venue="Gedung " * 28, tiers=tiers))
    order = await kit.services.orders.reserve(acct(BUYER_ID), "malam-puisi", {f"T{i}": 1 for i in range(10)}, buyer())
    await kit.services.payments.payment_link(order.id, acct(BUYER_ID))

    await midtrans_says(kit, order.id, "settlement", payment_type="bank_transfer")

    received, *photos = kit.sent(BUYER_ID)
    assert received.text.startswith(f"💳 Payment received: order {order.id}") and received.callback_data() == ["mt|0"]
    assert len(photos) == 10 and not any(p.caption.startswith("💳") for p in photos)


async def test_notices_are_in_the_buyers_language(kit: Bot) -> None:
    await kit.say(INDO_ID, "/start")
    order = await order_with_link(kit, INDO_ID)
    await midtrans_says(kit, order.id, "settlement", payment_type="bank_transfer")

    photo, _ = kit.sent(INDO_ID)[1:]
    assert photo.caption.startswith("💳 Pembayaran diterima: pesanan")
    assert photo.caption.endswith("🗓 Kam, 31 Des 2026 19:00 WIB\n📍 Taman Ismail Marzuki, Jl. Cikini Raya No.73, "
                                  "Jakarta Pusat")


async def test_a_buyer_who_blocked_the_bot_is_given_up_on_and_keeps_the_tickets(kit: Bot) -> None:
    kit.expected_failures.append("bot was blocked by the user")
    order = await order_with_link(kit)
    kit.fake.block(BUYER_ID)

    await midtrans_says(kit, order.id, "settlement", payment_type="bank_transfer")

    stored = await kit.services.orders.get(order.id)
    assert set(stored.sent) == {"paid", "sale"} and stored.outbox == {} and stored.notify_due_at is None
    assert list((await kit.services.store.digests.get(acct(ORGANISER_ID))).pending) == [order.id]  # still told
    kit.fake.unblock(BUYER_ID)
    [listing] = await kit.say(BUYER_ID, "/mytickets")
    assert len([d for d in listing.callback_data() if d.startswith("q|")]) == 2


async def test_a_flood_wait_is_waited_out_and_tried_once_more(kit: Bot) -> None:
    kit.expected_failures.append("Too Many Requests")
    order = await order_with_link(kit)
    kit.fake.inject_retry_after(1, count=1, methods=["sendPhoto"])

    started = time.monotonic()
    await midtrans_says(kit, order.id, "settlement", payment_type="bank_transfer")

    assert time.monotonic() - started >= 1.0
    assert kit.sent(BUYER_ID)[0].caption.startswith("💳 Payment received")
    assert set((await kit.services.orders.get(order.id)).sent) == {"paid", "sale"}


async def test_a_second_flood_wait_is_left_to_the_delivery_retries(kit: Bot) -> None:
    kit.expected_failures.append("Too Many Requests")
    order = await order_with_link(kit)
    kit.fake.inject_retry_after(1, count=2, methods=["sendPhoto"])

    await midtrans_says(kit, order.id, "settlement", payment_type="bank_transfer")

    stored = await kit.services.orders.get(order.id)
    assert stored.outbox["paid"].attempts == 1 and "RetryAfter" in stored.outbox["paid"].last_error
    kit.clock.advance(seconds=10)
    assert await kit.services.delivery.deliver_due() == 1
    assert kit.sent(BUYER_ID)[0].caption.startswith("💳 Payment received")


async def test_a_retry_after_a_failure_half_way_sends_only_what_is_missing(
    kit: Bot, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import handlers.telegram.notifier

    order = await order_with_link(kit, cart={"EARLY": 3})
    real_send_ticket, calls = handlers.telegram.notifier.send_ticket, []

    async def second_photo_fails_once(*args: object, **kwargs: object) -> object:
        calls.append(args)
        if len(calls) == 2:
            raise ConnectionError("network down between two photos")
        return await real_send_ticket(*args, **kwargs)

    monkeypatch.setattr(handlers.telegram.notifier, "send_ticket", second_photo_fails_once)
    await midtrans_says(kit, order.id, "settlement", payment_type="bank_transfer")
    owed = (await kit.services.orders.get(order.id)).outbox["paid"]
    tickets = await kit.services.tickets.for_order(order.id)
    assert sorted(owed.delivered) == [f"ticket:{tickets[0].id}"]

    kit.clock.advance(seconds=10)
    assert await kit.services.delivery.deliver_due() == 1
    photos = kit.sent(BUYER_ID)
    assert [p.caption.startswith("💳 Payment received") for p in photos] == [True, False, False]  # one receipt
    assert [codes_in(p.caption) for p in photos] == [format_code(t.id) for t in tickets]  # each once


async def test_an_order_half_delivered_before_receipts_rode_in_captions_is_finished_without_a_second_receipt(
    kit: Bot,
) -> None:
    order = await order_with_link(kit)
    await kit.services.orders.pay(order.id)
    await kit.services.store.orders.mark_part_sent(order.id, "paid", "buyer")  # the old separate receipt went out
    await kit.services.store.orders.mark_part_sent(order.id, "sale", f"user:{ORGANISER_ID}")  # an old sale message

    await kit.services.delivery.deliver(order.id)

    photos = kit.sent(BUYER_ID)
    assert len(photos) == 2 and not any(p.caption.startswith("💳") for p in photos)
    assert await kit.services.digests.send_due() == 0 and kit.sent(ORGANISER_ID) == []  # told once, the old way
    assert set((await kit.services.orders.get(order.id)).sent) == {"paid", "sale"}


async def test_failed_expired_and_refunded_orders_are_explained_to_the_buyer(kit: Bot) -> None:
    failed = await order_with_link(kit)
    assert await midtrans_says(kit, failed.id, "cancel", payment_type="bank_transfer") == Outcome.FAILED
    assert kit.sent(BUYER_ID)[-1].text.startswith(f"❌ The payment for order {failed.id}")
    expired = await order_with_link(kit, cart={"EARLY": 1})
    assert await midtrans_says(kit, expired.id, "expire", payment_type="bank_transfer") == Outcome.EXPIRED
    assert kit.sent(BUYER_ID)[-1].text.startswith(f"⌛ Order {expired.id} for Jazz Senja di Taman")

    paid = await order_with_link(kit, cart={"REG": 1})
    await midtrans_says(kit, paid.id, "settlement", payment_type="bank_transfer")
    assert await midtrans_says(kit, paid.id, "refund") == Outcome.REFUNDED
    assert kit.sent(BUYER_ID)[-1].text == (f"💸 Order {paid.id} (Jazz Senja di Taman: Malam Tahun Baru) was refunded: "
                                           "Rp250.000. Its tickets are void.")


async def test_a_late_payment_without_seats_tells_the_buyer_and_the_admins(kit: Bot) -> None:
    await kit.say(ADMIN_ID, "/start")
    order = await order_with_link(kit, cart={"VIP": 2})
    kit.clock.advance(minutes=31)
    await kit.services.orders.expire_due()
    await kit.services.delivery.deliver(order.id)
    await kit.services.store.inventory.hold(tier_key(JAZZ, "VIP"), 49)  # only one VIP left

    assert await midtrans_says(kit, order.id, "settlement", payment_type="bank_transfer") == Outcome.NEEDS_REFUND

    assert kit.sent(BUYER_ID)[-1].text.startswith(f"💸 Your payment for order {order.id}")
    alert = kit.sent(ADMIN_ID)[-1].text
    assert alert.startswith(f"🚨 Refund needed: order {order.id}") and "Paid after tier VIP sold out." in alert
    assert "Sinta Maharani · sinta@example.com · +6281234567890" in alert


async def test_amount_mismatch_and_review_reach_the_admins(kit: Bot) -> None:
    mismatch = await order_with_link(kit)
    outcome = await midtrans_says(kit, mismatch.id, "settlement", payment_type="bank_transfer", gross_amount=1000)
    assert outcome == Outcome.AMOUNT_MISMATCH
    assert kit.sent(ADMIN_ID)[-1].text.startswith(f"🚨 Amount mismatch: order {mismatch.id}")
    assert "Order total Rp300.000, Midtrans reported 1000.00 (settlement)" in kit.sent(ADMIN_ID)[-1].text

    review = await order_with_link(kit, cart={"REG": 1})
    outcome = await midtrans_says(kit, review.id, "capture", payment_type="credit_card", fraud_status="challenge")
    assert outcome == Outcome.REVIEW
    assert kit.sent(ADMIN_ID)[-1].text.startswith(f"🔎 Payment held for review: order {review.id}")
    assert kit.sent(BUYER_ID) == []  # nothing for the buyer yet


async def test_one_blocked_organiser_does_not_stop_the_others(kit: Bot) -> None:
    kit.expected_failures.append("bot can't initiate conversation")
    order = await order_with_link(kit)
    paid = await kit.services.orders.pay(order.id)
    event = await kit.services.store.events.get(JAZZ)
    event.organisers = [acct(424242), acct(ORGANISER_ID)]  # 424242 never started the bot
    notifier = TelegramNotifier(kit.app.bot, kit.services)
    kit.fake.add_user(424242, "Never")

    await notifier.notify(Notice(Message.SALE, paid.order, event, await kit.services.store.inventory.for_event(JAZZ)))
    await kit.services.digests.send_due()

    assert kit.sent(ORGANISER_ID)[-1].text.startswith("📊 Sales since")


async def test_forbidden_to_the_buyer_is_undeliverable(kit: Bot) -> None:
    kit.expected_failures.append("bot was blocked by the user")
    order = await order_with_link(kit)
    kit.fake.block(BUYER_ID)
    notifier = TelegramNotifier(kit.app.bot, kit.services)
    try:
        await notifier.notify(Notice(Message.EXPIRED, order, await kit.services.store.events.get(JAZZ)))
    except Undeliverable:
        pass
    else:
        raise AssertionError("a blocked buyer must be Undeliverable")
    assert (await kit.services.orders.get(order.id)).status == OrderStatus.PENDING


async def test_the_finish_link_of_a_pending_transfer_repeats_the_instructions(kit: Bot) -> None:
    order = await order_with_link(kit)
    await midtrans_says(kit, order.id, "pending", payment_type="bank_transfer")

    [status] = await kit.say(BUYER_ID, f"/start o_{order.id}")

    assert "Waiting for payment until" in status.text
    assert f"• BCA virtual account: {kit.midtrans.transaction(order.id).va_number}" in status.text
    stored = await kit.services.orders.get(order.id)
    assert status.button("💳 Pay Rp300.000")["url"] == stored.payment["redirect_url"]
