"""What people read when money moves after the sale (reversal, a dashboard refund without tickets, an expiry
Midtrans could not confirm) and while a payment is under way (e-wallet buttons, store codes, bill keys, a declined
card): the Midtrans simulator's bodies, through the real notification path, the notifier and the fake Bot API."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.notifications import Notice
from bot.outbox import Message
from bot.payments import Outcome
from bot.tickets import format_code
from handlers.telegram.notifier import TelegramNotifier
from storage.documents import OrderDoc, OrderStatus, TicketStatus
from tests.conftest import ADMIN_ID, BUYER_ID, ORGANISER_ID
from tests.handlers_kit import INDO_ID, JAZZ, Bot
from tests.helpers import acct, buyer
from tests.test_handlers_refunds import assert_invariant, button_starting, tickets_of

TITLE = "Jazz Senja di Taman: Malam Tahun Baru"


async def reserved(kit: Bot, uid: int = BUYER_ID, cart: dict[str, int] | None = None) -> OrderDoc:
    order = await kit.services.orders.reserve(acct(uid), JAZZ, cart or {"EARLY": 2}, buyer())
    await kit.services.payments.payment_link(order.id, acct(uid))
    return order


async def midtrans_tells(kit: Bot, order_id: str) -> Outcome:
    """Midtrans's latest notification for the order arrives; then what it owes is delivered."""
    body = kit.midtrans.state.notification_body(order_id)
    result = await kit.services.payments.handle_notification(json.dumps(body).encode())
    await kit.services.delivery.deliver(order_id)
    return result.outcome


async def test_a_reversal_tells_the_buyer_in_their_language_and_the_staff_how_many_were_checked_in(kit: Bot) -> None:
    await kit.say(INDO_ID, "/start")
    order = await reserved(kit, INDO_ID)
    await kit.midtrans.simulate_payment(order.id, "pay", payment_type="cstore", store="indomaret")
    assert await midtrans_tells(kit, order.id) == Outcome.PAID
    first, second = await tickets_of(kit, order.id)
    await kit.services.checkin.check_in(first.id, acct(ORGANISER_ID))  # confirmed at the door, weeks early

    await kit.midtrans.reverse(order.id)
    assert await midtrans_tells(kit, order.id) == Outcome.REVERSED

    codes = f"{format_code(first.id)}, {format_code(second.id)}"
    assert kit.sent(INDO_ID)[-1].text == (
        f"↩️ Pembayaran dibatalkan: pesanan {order.id} ({TITLE})\n"
        f"Gerai membatalkan pembayaran setelah pembayaran dilakukan.\nTiket Anda untuk pesanan ini tidak berlaku "
        f"lagi: {codes}.")
    for uid, who in ((ORGANISER_ID, "👤 Sinta Maharani"),  # the buyer's contact details: for the admins only
                     (ADMIN_ID, "👤 Sinta Maharani · sinta@example.com · +6281234567890")):
        staff = kit.sent(uid)[-1].text
        assert staff.splitlines() == [
            f"🚨 Payment reversed: order {order.id}", f"{TITLE}, Rp300.000",
            "The store reversed the payment after it was made.", f"2 tickets void: {codes}",
            "Already checked in: 1", who]
    assert (await kit.services.orders.get(order.id)).status == OrderStatus.REVERSED
    assert {t.status for t in await tickets_of(kit, order.id)} == {TicketStatus.VOID}
    [status] = await kit.say(INDO_ID, f"/start o_{order.id}")
    assert status.text.startswith(f"↩️ Pesanan {order.id}")
    await assert_invariant(kit)


async def test_a_dashboard_refund_without_tickets_asks_the_admins_until_it_is_accounted_for(kit: Bot) -> None:
    order = await reserved(kit)
    await kit.midtrans.simulate_payment(order.id, "pay", payment_type="gopay")
    assert await midtrans_tells(kit, order.id) == Outcome.PAID
    first, second = await tickets_of(kit, order.id)
    told_before = len(kit.sent(BUYER_ID))

    await kit.midtrans.dashboard_refund(order.id, 200000)
    await midtrans_tells(kit, order.id)

    [ask] = kit.sent(ADMIN_ID)
    assert ask.text.startswith(f"🚨 Refund without tickets: order {order.id}\n{TITLE}, paid Rp300.000\n"
                               "Midtrans reports Rp200.000 refunded; Rp200.000 of it is not yet matched to tickets.")
    assert [b["text"] for b in ask.buttons()] == [f"🗑 Void {format_code(t.id)} · Early Bird · Rp150.000"
                                                  for t in (first, second)]
    assert {t.status for t in await tickets_of(kit, order.id)} == {TicketStatus.VALID}  # nothing void by itself
    assert len(kit.sent(BUYER_ID)) == told_before

    await kit.press(ADMIN_ID, ask, button_starting(ask, f"🗑 Void {format_code(first.id)}")["callback_data"])
    after_one = kit.now(ADMIN_ID, ask)
    assert "Rp50.000 of it is not yet matched to tickets" in after_one.text
    assert [b["text"] for b in after_one.buttons()] == [f"🗑 Void {format_code(second.id)} · Early Bird · Rp150.000"]
    assert [t.status for t in await tickets_of(kit, order.id)] == [TicketStatus.VOID, TicketStatus.VALID]

    await kit.press(ADMIN_ID, after_one, button_starting(after_one, "🗑 Void")["callback_data"])
    done = kit.now(ADMIN_ID, ask)
    assert done.text.startswith(f"✅ Order {order.id} ({TITLE}): every refunded rupiah (Rp200.000) is now matched")
    assert done.buttons() == []
    assert kit.sent(BUYER_ID)[-1].text.startswith(f"💸 Part of your order was refunded: order {order.id}")
    await assert_invariant(kit)


async def test_an_expiry_midtrans_could_not_confirm_reaches_each_admin_in_their_language(kit: Bot) -> None:
    await kit.say(INDO_ID, "/start")
    order = await reserved(kit)
    notifier = TelegramNotifier(kit.app.bot, kit.services)
    since = datetime(2026, 12, 1, 3, 30, tzinfo=UTC)

    await notifier.notify(Notice(Message.EXPIRED_UNCONFIRMED, order, await kit.services.store.events.get(JAZZ),
                                 admin_ids=frozenset({acct(ADMIN_ID), acct(INDO_ID)}), detail={"since": since}))

    assert kit.sent(ADMIN_ID)[-1].text.startswith(
        f"⚠️ Expired unconfirmed: order {order.id} ({TITLE}), Rp300.000\nMidtrans could not be reached to confirm "
        "whether it was paid before the hold ended (Tue, 1 Dec 2026 10:30 WIB)")
    assert kit.sent(INDO_ID)[-1].text.startswith(f"⚠️ Kedaluwarsa tanpa konfirmasi: pesanan {order.id}")
    assert kit.sent(BUYER_ID) == []


async def test_midtrans_expire_reads_expired_not_failed(kit: Bot) -> None:
    order = await reserved(kit)
    await kit.midtrans.simulate_payment(order.id, "expire", payment_type="bank_transfer")
    assert await midtrans_tells(kit, order.id) == Outcome.EXPIRED
    text = kit.sent(BUYER_ID)[-1].text
    assert text.startswith(f"⌛ Order {order.id} for {TITLE} was not paid in time") and "failed" not in text


@pytest.mark.parametrize(("payment_type", "buttons"), [
    ("gopay", ["🔳 Show the QR code", "📱 Open GoPay", "💳 Payment page"]),
    ("shopeepay", ["📱 Open ShopeePay", "💳 Payment page"]),
    ("qris", ["🔳 Show the QR code", "💳 Payment page"]),
])
async def test_e_wallet_payments_pending_show_buttons_to_pay_not_a_bank_transfer(
    kit: Bot, payment_type: str, buttons: list[str],
) -> None:
    order = await reserved(kit)
    await kit.midtrans.set_status(order.id, "pending", payment_type=payment_type)
    assert await midtrans_tells(kit, order.id) == Outcome.STILL_PENDING

    [pending] = kit.sent(BUYER_ID)
    assert pending.text.startswith(f"📱 Finish your payment for order {order.id} (Rp300.000):")
    assert "🏦" not in pending.text and "virtual account" not in pending.text
    assert [b["text"] for b in pending.buttons()] == buttons
    # GoPay and QRIS `actions` come only in the notification (the status API shows them for ShopeePay alone)
    actions = {a["name"]: a["url"] for a in kit.midtrans.state.notification_body(order.id)["actions"]}
    urls = [b["url"] for b in pending.buttons()]
    assert all(url in actions.values() for url in urls[:-1])
    assert actions.get("cancel") not in urls and actions.get("get-status") not in urls
    assert urls[-1] == (await kit.services.orders.get(order.id)).payment["redirect_url"]

    [status] = await kit.say(BUYER_ID, f"/start o_{order.id}")  # the finish link shows the same ways to pay
    assert [b["text"] for b in status.buttons()][: len(buttons) - 1] == buttons[:-1]


@pytest.mark.parametrize(("payment_type", "extra", "lines"), [
    ("cstore", {}, ["🏪 Pay at the store", "• Pay at Indomaret with the code {payment_code}",
                    "Show the code to the cashier and pay the exact amount."]),
    ("echannel", {}, ["🏦 Finish your payment", "• Mandiri bill payment: company code 70012, bill key {bill_key}"]),
    ("permata", {}, ["🏦 Finish your payment", "• PERMATA virtual account: {permata_va_number}"]),
])
async def test_store_bill_and_permata_payments_pending_are_rendered(
    kit: Bot, payment_type: str, extra: dict, lines: list[str],
) -> None:
    order = await reserved(kit)
    await kit.midtrans.set_status(order.id, "pending", payment_type=payment_type, extra=extra or None)
    assert await midtrans_tells(kit, order.id) == Outcome.STILL_PENDING
    body = kit.midtrans.status_body(order.id)
    [pending] = kit.sent(BUYER_ID)
    assert pending.text.startswith(lines[0])
    for line in lines[1:]:
        assert line.format(**body) in pending.text.splitlines(), pending.text
    assert [b["text"] for b in pending.buttons()] == ["💳 Payment page"]


async def test_a_declined_card_keeps_the_hold_and_the_buyer_can_try_another_method(kit: Bot) -> None:
    order = await reserved(kit)
    await kit.midtrans.simulate_payment(order.id, "fail", payment_type="credit_card")
    assert await midtrans_tells(kit, order.id) == Outcome.DENIED
    stored = await kit.services.orders.get(order.id)
    assert stored.status == OrderStatus.PENDING

    [status] = await kit.say(BUYER_ID, f"/start o_{order.id}")
    assert "❌ The card was declined for order" in status.text
    assert "Your seats are still held until Tue, 1 Dec 2026 10:30 WIB: try another card" in status.text
    assert status.button("💳 Pay Rp300.000")["url"] == stored.payment["redirect_url"]


async def test_the_notice_of_a_declined_card_points_at_the_same_payment_page(kit: Bot) -> None:
    order = await reserved(kit)
    await kit.midtrans.simulate_payment(order.id, "fail", payment_type="credit_card")
    await midtrans_tells(kit, order.id)
    stored = await kit.services.orders.get(order.id)
    notifier = TelegramNotifier(kit.app.bot, kit.services)

    await notifier.notify(Notice(Message.PAYMENT_PENDING, stored, await kit.services.store.events.get(JAZZ)))

    [told] = kit.sent(BUYER_ID)
    assert told.text.startswith(f"❌ The card was declined for order {order.id} (Rp300.000).")
    assert told.button("💳 Try another card or method")["url"] == stored.payment["redirect_url"]


async def test_a_chargeback_reaches_the_staff_even_when_the_buyer_blocked_the_bot(kit: Bot) -> None:
    kit.expected_failures.append("bot was blocked by the user")
    order = await reserved(kit, cart={"REG": 1})
    await kit.midtrans.simulate_payment(order.id, "pay", payment_type="gopay")
    assert await midtrans_tells(kit, order.id) == Outcome.PAID
    kit.fake.block(BUYER_ID)

    await kit.midtrans.chargeback(order.id)
    assert await midtrans_tells(kit, order.id) == Outcome.REVERSED

    for uid in (ORGANISER_ID, ADMIN_ID):
        lines = kit.sent(uid)[-1].text.splitlines()
        assert lines[0] == f"🚨 Payment reversed: order {order.id}"
        assert lines[2:5] == ["The bank or card issuer took the payment back (chargeback).", lines[3],
                              "Already checked in: 0"]
    stored = await kit.services.orders.get(order.id)
    assert "reversed" in stored.sent and stored.outbox == {}
    await assert_invariant(kit)


async def test_a_payment_button_telegram_refuses_still_leaves_the_buyer_the_instructions(kit: Bot) -> None:
    kit.expected_failures.append("BUTTON_URL_INVALID")
    order = await reserved(kit)
    await kit.midtrans.set_status(order.id, "pending", payment_type="gopay", extra={"actions": [
        {"name": "deeplink-redirect", "method": "GET", "url": "https://10.1.2.3/gopay/pay"}]})

    assert await midtrans_tells(kit, order.id) == Outcome.STILL_PENDING

    [pending] = kit.sent(BUYER_ID)
    assert pending.text.startswith(f"📱 Finish your payment for order {order.id}") and pending.buttons() == []
    assert "payment_pending" in (await kit.services.orders.get(order.id)).sent


async def test_an_e_wallet_notification_without_actions_points_at_the_payment_page(kit: Bot) -> None:
    kit.midtrans.state.actions_in_notifications = False  # the docs show them; a body without them must still work
    order = await reserved(kit)
    await kit.midtrans.set_status(order.id, "pending", payment_type="gopay")
    assert await midtrans_tells(kit, order.id) == Outcome.STILL_PENDING

    [pending] = kit.sent(BUYER_ID)
    assert "• Open the payment page (💳 button below): it shows the QR code and opens the app." in pending.text
    assert [b["text"] for b in pending.buttons()] == ["💳 Payment page"]

