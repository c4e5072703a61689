"""Refunds from the chat (/refund, its buttons), and the notices for money that goes back after a sale: through
PTB over the fake Bot API, with the real RefundService and the Midtrans simulator's refund API."""

from __future__ import annotations

import asyncio

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.midtrans import MidtransGateway, MidtransUnavailable
from bot.payments import Outcome
from bot.tickets import format_code
from handlers.telegram import refunds
from handlers.telegram.keyboards import MAX_CALLBACK_BYTES
from storage.documents import OrderDoc, OrderStatus, TicketDoc, TicketStatus, tier_key
from tests.conftest import ADMIN_ID, BUYER_ID, ORGANISER_ID
from tests.handlers_kit import INDO_ID, JAZZ, OTHER_ORGANISER_ID, STRANGER_ID, Bot, event_yaml
from tests.helpers import acct, buyer
from tests.test_handlers_notifier import midtrans_says

EARLY = 150000


async def paid_order(kit: Bot, cart: dict[str, int] | None = None, *, uid: int = BUYER_ID,
                     payment_type: str = "gopay", event: str = JAZZ) -> OrderDoc:
    order = await kit.services.orders.reserve(acct(uid), event, cart or {"EARLY": 2}, buyer())
    await kit.services.payments.payment_link(order.id, acct(uid))
    assert await midtrans_says(kit, order.id, "settlement", payment_type=payment_type) == Outcome.PAID
    return await kit.services.orders.get(order.id)


async def assert_invariant(kit: Bot) -> None:
    """capacity = available + pending + sold, and sold = the tier's valid tickets (a partial refund returns the
    seats of exactly the tickets it voids)."""
    valid = await kit.services.store.tickets.counts_by_tier()
    for tier in await kit.services.store.inventory.all():
        assert tier.capacity == tier.available + tier.pending + tier.sold, tier
        assert tier.sold == valid.get((tier.event_id, tier.code), (0, 0))[0], tier


async def tickets_of(kit: Bot, order_id: str) -> list[TicketDoc]:
    return await kit.services.tickets.for_order(order_id)


def button_starting(message, text: str) -> dict:  # noqa: ANN001 - a MessageRecord
    found = [b for b in message.buttons() if b.get("text", "").startswith(text)]
    assert len(found) == 1, (text, [b.get("text") for b in message.buttons()])
    return found[0]


async def press_starting(kit: Bot, uid: int, message, text: str) -> None:  # noqa: ANN001
    await kit.press(uid, message, button_starting(kit.now(uid, message), text)["callback_data"])


def refunds_made(kit: Bot, order_id: str) -> list[dict]:
    return kit.midtrans.transaction(order_id).refunds


async def test_an_admin_refunds_one_ticket_and_exactly_that_ticket_is_void(kit: Bot) -> None:
    order = await paid_order(kit)
    first, second = await tickets_of(kit, order.id)
    told_before = len(kit.sent(BUYER_ID))

    [screen] = await kit.say(ADMIN_ID, f"/refund {order.id.lower()}")
    assert screen.text.splitlines()[:3] == [f"💸 Refund order {order.id}", "Jazz Senja di Taman: Malam Tahun Baru",
                                            "👤 Sinta Maharani · paid Rp300.000"]
    assert f"• {format_code(first.id)} Early Bird: Rp150.000" in screen.text
    assert screen.text.endswith("Choose the tickets to refund (or the whole order) and a reason.")
    assert not any(b["text"].startswith("💸 Refund") for b in screen.buttons())  # nothing chosen yet
    assert all(len(d.encode()) <= MAX_CALLBACK_BYTES for d in screen.callback_data())

    await press_starting(kit, ADMIN_ID, screen, f"☐ {format_code(first.id)}")
    await press_starting(kit, ADMIN_ID, screen, "○ The buyer asked")
    now = kit.now(ADMIN_ID, screen)
    assert f"Refund Rp150.000 for 1 ticket: {format_code(first.id)}.\nReason: The buyer asked" in now.text
    assert button_starting(now, f"☑ {format_code(first.id)}") and button_starting(now, f"☐ {format_code(second.id)}")
    await press_starting(kit, ADMIN_ID, screen, "💸 Refund Rp150.000")

    assert kit.now(ADMIN_ID, screen).text == (
        f"✅ Refunded Rp150.000 for order {order.id}: ticket {format_code(first.id)} is void, its seat is "
        "back on sale.\nReason: The buyer asked")
    assert kit.now(ADMIN_ID, screen).buttons() == []
    [made] = refunds_made(kit, order.id)
    assert made["refund_amount"] in ("150000.00", 150000, "150000")
    assert [t.status for t in await tickets_of(kit, order.id)] == [TicketStatus.VOID, TicketStatus.VALID]
    assert (await kit.services.orders.get(order.id)).status == OrderStatus.PAID
    [notice] = kit.sent(BUYER_ID)[told_before:]
    assert notice.text == (f"💸 Part of your order was refunded: order {order.id} (Jazz Senja di Taman: Malam Tahun "
                           f"Baru), Rp150.000.\nVoid now: {format_code(first.id)}. Your other tickets stay valid.")
    await assert_invariant(kit)


async def test_a_double_tap_on_confirm_refunds_once_and_says_so_once(kit: Bot) -> None:
    kit.expected_failures.append("message is not modified")  # the second tap shows the same outcome again
    order = await paid_order(kit)
    told_before = len(kit.sent(BUYER_ID))
    [screen] = await kit.say(ADMIN_ID, f"/refund {order.id}")
    await press_starting(kit, ADMIN_ID, screen, "☐ Whole order · Rp300.000")
    await press_starting(kit, ADMIN_ID, screen, "○ Paid twice")
    confirm = button_starting(kit.now(ADMIN_ID, screen), "💸 Refund Rp300.000")["callback_data"]

    await kit.fake.press_button(ADMIN_ID, screen.message_id, confirm)
    await kit.fake.press_button(ADMIN_ID, screen.message_id, confirm)  # the second tap, before any answer
    await kit.pump()

    assert len(refunds_made(kit, order.id)) == 1
    assert (await kit.services.orders.get(order.id)).status == OrderStatus.REFUNDED
    final = kit.now(ADMIN_ID, screen)
    assert final.text == (f"✅ Refunded Rp300.000: order {order.id} is fully refunded; all its tickets are void.\n"
                          "Reason: Paid twice")
    assert len(kit.sent(ADMIN_ID)) == 1  # the answer is the screen itself, edited; no second message
    assert len(kit.sent(BUYER_ID)) - told_before == 1  # one refund notice
    await assert_invariant(kit)


async def test_a_checked_in_ticket_needs_a_second_confirmation(kit: Bot) -> None:
    order = await paid_order(kit, {"EARLY": 1})
    [ticket] = await tickets_of(kit, order.id)
    await kit.services.checkin.check_in(ticket.id, acct(ORGANISER_ID))  # confirmed at the door, weeks early

    [screen] = await kit.say(ORGANISER_ID, f"/refund {order.id}")
    assert "✅ checked in 10:00 WIB" in screen.text
    await press_starting(kit, ORGANISER_ID, screen, "☐ Whole order")
    await press_starting(kit, ORGANISER_ID, screen, "○ Event changed or cancelled")
    await press_starting(kit, ORGANISER_ID, screen, "💸 Refund Rp150.000")

    warning = kit.now(ORGANISER_ID, screen)
    assert warning.text.startswith(f"⚠️ Already checked in: {format_code(ticket.id)}.")
    assert refunds_made(kit, order.id) == [] and (await tickets_of(kit, order.id))[0].status == TicketStatus.VALID
    await press_starting(kit, ORGANISER_ID, screen, "⚠️ Yes, refund them too")
    assert kit.now(ORGANISER_ID, screen).text.startswith("✅ Refunded Rp150.000: order")
    assert (await tickets_of(kit, order.id))[0].status == TicketStatus.VOID
    await assert_invariant(kit)


async def test_midtrans_refusing_changes_nothing_and_says_why(kit: Bot) -> None:
    order = await paid_order(kit, {"EARLY": 1}, payment_type="bank_transfer")  # the refund API refuses transfers
    [screen] = await kit.say(ADMIN_ID, f"/refund {order.id}")
    await press_starting(kit, ADMIN_ID, screen, "☐ Whole order")
    await press_starting(kit, ADMIN_ID, screen, "○ Sold by mistake")
    await press_starting(kit, ADMIN_ID, screen, "💸 Refund")

    refused = kit.now(ADMIN_ID, screen)
    assert refused.text.startswith(f"❌ Midtrans refused the refund of order {order.id}: ")
    assert "Merchant cannot modify the status of the transaction" in refused.text
    assert refused.text.endswith("Nothing changed.")
    stored = await kit.services.orders.get(order.id)
    assert stored.status == OrderStatus.PAID and stored.refunds == {} and stored.refund_claims == []
    assert (await tickets_of(kit, order.id))[0].status == TicketStatus.VALID
    await press_starting(kit, ADMIN_ID, screen, "« Back")  # back on the screen, the choice kept
    assert "Reason: Sold by mistake" in kit.now(ADMIN_ID, screen).text


async def test_midtrans_unreachable_changes_nothing_and_the_retry_refunds_once(
    kit: Bot, monkeypatch: pytest.MonkeyPatch,
) -> None:
    order = await paid_order(kit)
    real_refund = MidtransGateway.refund

    async def unreachable(self: MidtransGateway, *args: object, **kwargs: object) -> dict:
        raise MidtransUnavailable("connection refused")

    monkeypatch.setattr(MidtransGateway, "refund", unreachable)
    [screen] = await kit.say(ADMIN_ID, f"/refund {order.id}")
    await press_starting(kit, ADMIN_ID, screen, "☐ Whole order")
    await press_starting(kit, ADMIN_ID, screen, "○ The buyer asked")
    await press_starting(kit, ADMIN_ID, screen, "💸 Refund Rp300.000")
    down = kit.now(ADMIN_ID, screen)
    assert down.text.startswith(f"⚠️ Midtrans could not be reached: nothing changed for order {order.id}")
    assert {t.status for t in await tickets_of(kit, order.id)} == {TicketStatus.VALID}
    assert refunds_made(kit, order.id) == []

    [again] = await kit.say(ADMIN_ID, f"/refund {order.id}")  # a fresh screen offers the same refund again
    assert "⏳ refund under way" in again.text and button_starting(again, "🔁 Ask Midtrans again: Rp300.000")

    monkeypatch.setattr(MidtransGateway, "refund", real_refund)
    await press_starting(kit, ADMIN_ID, screen, "🔁 Try again")
    assert kit.now(ADMIN_ID, screen).text.startswith("✅ Refunded Rp300.000: order")
    await press_starting(kit, ADMIN_ID, again, "🔁 Ask Midtrans again")  # the other screen: shown, not repeated
    assert kit.now(ADMIN_ID, again).text == kit.now(ADMIN_ID, screen).text
    assert len(refunds_made(kit, order.id)) == 1
    await assert_invariant(kit)


async def test_strangers_and_other_organisers_are_refused_and_nothing_changes(kit: Bot) -> None:
    await kit.services.catalog.import_events(event_yaml())  # Malam Puisi, organised by OTHER_ORGANISER_ID
    order = await paid_order(kit)
    [screen] = await kit.say(ADMIN_ID, f"/refund {order.id}")
    await press_starting(kit, ADMIN_ID, screen, "☐ Whole order")
    await press_starting(kit, ADMIN_ID, screen, "○ The buyer asked")
    confirm = button_starting(kit.now(ADMIN_ID, screen), "💸 Refund")["callback_data"]

    for uid in (STRANGER_ID, OTHER_ORGANISER_ID, BUYER_ID):
        [refused] = await kit.say(uid, f"/refund {order.id}")
        assert refused.text == "🙏 Sorry: only admins, and the organisers of its event, can refund this order."
    [unknown] = await kit.say(ADMIN_ID, "/refund KRC-2612-NOSUCHORDR")
    assert unknown.text == "I can't find the order KRC-2612-NOSUCHORDR."
    for junk in ("/refund", "/refund <b>" + "x" * 4000, "/refund KRC;2612"):
        [usage] = await kit.say(ORGANISER_ID, junk)
        assert usage.text.startswith("Send /refund ORDER"), junk

    # a stranger who somehow has the Confirm button (the bot sent it to the wrong chat) cannot use it
    decoy = await kit.app.bot.send_message(STRANGER_ID, "x", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("x", callback_data=confirm)]]))
    query = await kit.fake.press_button(STRANGER_ID, decoy.message_id, confirm)
    await kit.pump()
    assert kit.fake.callback_query(query.id).answer_text == "Only admins and this event's organisers can refund it."
    assert refunds_made(kit, order.id) == []
    assert {t.status for t in await tickets_of(kit, order.id)} == {TicketStatus.VALID}


async def test_the_refund_screen_in_indonesian(kit: Bot) -> None:
    await kit.services.catalog.import_events(event_yaml(organisers=[INDO_ID]))
    order = await paid_order(kit, {"GA": 2}, event="malam-puisi")
    [screen] = await kit.say(INDO_ID, f"/refund {order.id}")
    assert screen.text.startswith(f"💸 Refund pesanan {order.id}\nMalam Puisi\n👤 Sinta Maharani · dibayar Rp100.000")
    assert screen.text.endswith("Pilih tiket yang di-refund (atau seluruh pesanan) dan alasannya.")
    first = (await tickets_of(kit, order.id))[0]
    await press_starting(kit, INDO_ID, screen, f"☐ {format_code(first.id)}")
    await press_starting(kit, INDO_ID, screen, "○ Permintaan pembeli")
    await press_starting(kit, INDO_ID, screen, "💸 Refund Rp50.000")
    done = kit.now(INDO_ID, screen).text
    assert done.startswith(f"✅ Refund Rp50.000 berhasil untuk pesanan {order.id}: 1 tiket "
                           f"({format_code(first.id)}) tidak berlaku lagi")
    assert done.endswith("Alasan: Permintaan pembeli")
    stored = (await kit.services.orders.get(order.id)).refund_list
    assert [r.reason for r in stored] == ["The buyer asked"]  # what Midtrans and the books get


async def test_the_late_payment_notice_opens_the_refund_screen(kit: Bot) -> None:
    order = await kit.services.orders.reserve(acct(BUYER_ID), JAZZ, {"VIP": 2}, buyer())
    await kit.services.payments.payment_link(order.id, acct(BUYER_ID))
    kit.clock.advance(minutes=31)
    await kit.services.orders.expire_due()
    await kit.services.delivery.deliver(order.id)
    await kit.services.store.inventory.hold(tier_key(JAZZ, "VIP"), 49)  # only one VIP left
    assert await midtrans_says(kit, order.id, "settlement", payment_type="gopay") == Outcome.NEEDS_REFUND

    alert = kit.sent(ADMIN_ID)[-1]
    assert alert.text.startswith(f"🚨 Refund needed: order {order.id}")
    [screen] = await kit.press(ADMIN_ID, alert, "💸 Refund")
    assert kit.now(ADMIN_ID, alert).text == alert.text  # the alert stays; the screen comes below it
    assert screen.text.startswith(f"💸 Refund order {order.id}")
    assert "⚠️ Paid after its seats were gone: no tickets were issued, so all Rp1.500.000 goes back." in screen.text
    await press_starting(kit, ADMIN_ID, screen, "○ Paid twice")
    assert "Refund Rp1.500.000 for the whole order.\nReason: Paid twice" in kit.now(ADMIN_ID, screen).text
    await press_starting(kit, ADMIN_ID, screen, "💸 Refund Rp1.500.000")

    assert kit.now(ADMIN_ID, screen).text.startswith(f"✅ Refunded Rp1.500.000: order {order.id} is fully refunded")
    assert (await kit.services.orders.get(order.id)).status == OrderStatus.REFUNDED
    assert len(refunds_made(kit, order.id)) == 1
    await assert_invariant(kit)


def test_a_choice_survives_its_callback_data_and_forged_data_is_refused() -> None:
    choice = refunds.Choice("KRC-2612-ABCDEFGHJK", "5", "2", confirmed=True)
    assert refunds.parse_choice("|".join(choice.data(refunds.CONFIRM, "1"))) == choice
    assert choice.picked(3) == {0, 2} and choice.picked(2) is None  # a mask naming a ticket that is not there
    for forged in ("rc|KRC|zz|0", "rc|KRC|5|9", "rc|KRC|5", "rc||5|0", "rc|KRC|" + "f" * 17 + "|0"):
        assert refunds.parse_choice(forged) is None, forged
    widest = refunds.Choice("KRC-2612-ABCDEFGHJK~9", "f" * 16, "3")
    assert len("|".join(widest.data(refunds.CONFIRM, "1")).encode()) <= MAX_CALLBACK_BYTES


async def test_whole_order_beside_a_refund_still_asked_for_refunds_only_the_rest(
    kit: Bot, monkeypatch: pytest.MonkeyPatch,
) -> None:
    order = await paid_order(kit)
    first, second = await tickets_of(kit, order.id)
    real_refund = MidtransGateway.refund

    async def unreachable(self: MidtransGateway, *args: object, **kwargs: object) -> dict:
        raise MidtransUnavailable("timeout")

    monkeypatch.setattr(MidtransGateway, "refund", unreachable)
    [screen] = await kit.say(ADMIN_ID, f"/refund {order.id}")
    await press_starting(kit, ADMIN_ID, screen, f"☐ {format_code(first.id)}")
    await press_starting(kit, ADMIN_ID, screen, "○ The buyer asked")
    await press_starting(kit, ADMIN_ID, screen, "💸 Refund Rp150.000")
    monkeypatch.setattr(MidtransGateway, "refund", real_refund)

    [other] = await kit.say(ADMIN_ID, f"/refund {order.id}")
    assert button_starting(other, "☐ Whole order · Rp150.000")  # what is left beside the refund under way
    await press_starting(kit, ADMIN_ID, other, "☐ Whole order")
    await press_starting(kit, ADMIN_ID, other, "○ Paid twice")
    await press_starting(kit, ADMIN_ID, other, "💸 Refund Rp150.000")

    assert kit.now(ADMIN_ID, other).text.startswith(
        f"✅ Refunded Rp150.000 for order {order.id}: ticket {format_code(second.id)} is void")
    assert [t.status for t in await tickets_of(kit, order.id)] == [TicketStatus.VALID, TicketStatus.VOID]
    assert len(refunds_made(kit, order.id)) == 1


async def test_a_stale_screen_shows_the_order_as_it_is_instead_of_refunding_again(kit: Bot) -> None:
    order = await paid_order(kit)
    first, _ = await tickets_of(kit, order.id)
    [stale] = await kit.say(ADMIN_ID, f"/refund {order.id}")
    await press_starting(kit, ADMIN_ID, stale, f"☐ {format_code(first.id)}")
    await press_starting(kit, ADMIN_ID, stale, "○ The buyer asked")
    [other] = await kit.say(ORGANISER_ID, f"/refund {order.id}")  # meanwhile the organiser refunds everything
    await press_starting(kit, ORGANISER_ID, other, "☐ Whole order")
    await press_starting(kit, ORGANISER_ID, other, "○ Event changed or cancelled")
    await press_starting(kit, ORGANISER_ID, other, "💸 Refund Rp300.000")

    confirm = button_starting(kit.now(ADMIN_ID, stale), "💸 Refund Rp150.000")["callback_data"]
    answer = await kit.answer_to(ADMIN_ID, stale, confirm)

    assert answer == "Those tickets can no longer be refunded; here is the order as it is now."
    now = kit.now(ADMIN_ID, stale)
    assert "Refunded so far: Rp300.000" in now.text
    assert now.text.endswith(f"Order {order.id} is refunded: there is no payment to refund.")
    assert [b["text"] for b in now.buttons()] == ["✖ Close"]
    assert len(refunds_made(kit, order.id)) == 1


async def test_two_taps_handled_at_the_same_time_make_one_refund_and_one_answer(kit: Bot) -> None:
    kit.expected_failures.append("message is not modified")
    order = await paid_order(kit)
    first, _ = await tickets_of(kit, order.id)
    [screen] = await kit.say(ADMIN_ID, f"/refund {order.id}")
    await press_starting(kit, ADMIN_ID, screen, f"☐ {format_code(first.id)}")
    await press_starting(kit, ADMIN_ID, screen, "○ The buyer asked")
    confirm = button_starting(kit.now(ADMIN_ID, screen), "💸 Refund Rp150.000")["callback_data"]
    told_before = len(kit.sent(BUYER_ID))

    queries = [await kit.fake.press_button(ADMIN_ID, screen.message_id, confirm) for _ in range(2)]
    updates = [Update.de_json(raw, kit.app.bot) for raw in kit.fake.take_updates()]
    await asyncio.gather(*(kit.app.process_update(update) for update in updates))  # both in flight at once

    assert len(refunds_made(kit, order.id)) == 1
    assert kit.now(ADMIN_ID, screen).text.startswith(f"✅ Refunded Rp150.000 for order {order.id}: ticket "
                                                     f"{format_code(first.id)} is void")
    assert [t.status for t in await tickets_of(kit, order.id)] == [TicketStatus.VOID, TicketStatus.VALID]
    assert all(kit.fake.callback_query(q.id).answered for q in queries)
    assert len(kit.sent(ADMIN_ID)) == 1 and len(kit.sent(BUYER_ID)) - told_before == 1  # one screen, one notice
    await assert_invariant(kit)
