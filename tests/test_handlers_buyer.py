"""The buyer's side of the chat: browsing, choosing tickets, contact details, confirming, paying, orders, tickets."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from bot.errors import RefusalReason, ReservationRefused
from bot.payments import PaymentLinkUnavailable
from bot.sandbox.telegram import MessageRecord
from storage.documents import ContactStep, OrderStatus, tier_key
from tests.conftest import BUYER_ID, ORGANISER_ID
from tests.handlers_kit import JAZZ, KECAK, PAY_HOST, STRANGER_ID, WORKSHOP, Bot, build_app
from tests.helpers import acct, assert_invariant, buyer

EARLY_PLUS = f"c|{JAZZ}|EARLY:1"


async def open_card(kit: Bot, uid: int = BUYER_ID, event: str = JAZZ) -> MessageRecord:
    [card] = await kit.say(uid, f"/start ev_{event}")
    return card


async def choose(kit: Bot, card: MessageRecord, *presses: str, uid: int = BUYER_ID) -> MessageRecord:
    """Press ➕/➖ buttons by their callback data, one after the other, on the card (edited in place)."""
    for data in presses:
        await kit.press(uid, kit.now(uid, card), data)
    return kit.now(uid, card)


async def give_details(kit: Bot, uid: int = BUYER_ID, *, name: str = "Sinta Maharani",
                       email: str = "sinta@example.com", phone: str = "0812-3456-7890") -> MessageRecord:
    await kit.step(uid, name)
    await kit.step(uid, email)
    return await kit.step(uid, phone)


async def cancel_listed(kit: Bot, listing: MessageRecord, n: int, uid: int = BUYER_ID) -> MessageRecord:
    """Press "✖ Cancel #n" in an orders list, then the confirming tap; the confirmation message."""
    [ask] = await kit.press(uid, listing, f"✖ Cancel #{n}")
    await kit.press(uid, ask, "✖ Yes, cancel it")
    return kit.now(uid, ask)


async def checkout_to_summary(kit: Bot, uid: int = BUYER_ID, event: str = JAZZ,
                              presses: tuple[str, ...] = (EARLY_PLUS,)) -> MessageRecord:
    card = await choose(kit, await open_card(kit, uid, event), *presses, uid=uid)
    checkout = next(d for d in card.callback_data() if d.startswith("k|"))
    asked = await kit.tap(uid, card, checkout)
    if "Use the details from last time" in asked.text:
        return await kit.tap(uid, asked, "✅ Use these details")
    assert "Step 1 of 3" in asked.text
    return await give_details(kit, uid)


async def test_start_lists_the_events_on_sale_as_buttons(kit: Bot) -> None:
    [welcome] = await kit.say(BUYER_ID, "/start")

    assert "Hi Sinta" in welcome.text and "Events on sale" in welcome.text
    assert welcome.callback_data() == [f"c|{JAZZ}|", f"c|{KECAK}|", f"c|{WORKSHOP}|"]
    assert welcome.buttons()[0]["text"] == "Thu, 31 Dec 2026 · Jazz Senja di Taman…"

    await kit.press(BUYER_ID, welcome, f"c|{JAZZ}|")
    card = kit.now(BUYER_ID, welcome)
    assert card.text.startswith("Jazz Senja di Taman: Malam Tahun Baru\n🗓 Thu, 31 Dec 2026 19:00 WIB")


async def test_the_event_card_shows_time_venue_description_and_each_tier(kit: Bot) -> None:
    card = await open_card(kit)

    assert card.text.splitlines()[:3] == [
        "Jazz Senja di Taman: Malam Tahun Baru", "🗓 Thu, 31 Dec 2026 19:00 WIB",
        "📍 Taman Ismail Marzuki, Jl. Cikini Raya No.73, Jakarta Pusat",
    ]
    assert "Sinta Maharani & The Lurik Big Band" in card.text
    assert "• Early Bird: Rp150.000 · 100 left" in card.text
    assert "• VIP (front lawn, welcome drink): Rp750.000 · 50 left" in card.text
    assert {"type": "bold", "offset": 0, "length": 37} in card.entities


async def test_quantities_are_bounded_by_max_per_order_and_seats_left(kit: Bot) -> None:
    await kit.services.store.inventory.hold(tier_key(JAZZ, "REG"), 399)  # one Reguler seat left
    card = await choose(kit, await open_card(kit), f"c|{JAZZ}|VIP:1", f"c|{JAZZ}|VIP:2")

    assert f"c|{JAZZ}|VIP:3" not in card.callback_data()  # VIP: at most 2 per order
    assert "2 × VIP (front lawn, welcome drink): Rp1.500.000" in card.text
    assert "Total: Rp1.500.000" in card.text
    card = await choose(kit, card, f"c|{JAZZ}|REG:1.VIP:2")
    assert f"c|{JAZZ}|REG:2.VIP:2" not in card.callback_data()  # one seat left
    assert card.button("Continue · Rp1.750.000")["callback_data"] == f"k|{JAZZ}|REG:1.VIP:2"
    await choose(kit, card, f"c|{JAZZ}|REG:1.VIP:1")  # ➖ works too
    assert "1 × VIP (front lawn, welcome drink): Rp750.000" in kit.now(BUYER_ID, card).text

    assert await kit.answer_to(BUYER_ID, kit.now(BUYER_ID, card), "n|s") == "No more seats left in this tier."
    card = await choose(kit, card, f"c|{JAZZ}|REG:1.VIP:2")
    assert await kit.answer_to(BUYER_ID, card, "n|m") == "One order can hold no more of this ticket."


async def test_a_forged_cart_is_clamped_to_what_can_be_bought(kit: Bot) -> None:
    card = await open_card(kit)
    # a button made before the limits changed (or typed by hand) cannot carry more than the rules allow
    kit.fake.message(BUYER_ID, card.message_id).reply_markup["inline_keyboard"].append(
        [{"text": "forged", "callback_data": f"c|{JAZZ}|VIP:9.NOPE:1"}])
    await kit.press(BUYER_ID, kit.now(BUYER_ID, card), f"c|{JAZZ}|VIP:9.NOPE:1")
    assert "2 × VIP (front lawn, welcome drink)" in kit.now(BUYER_ID, card).text


async def test_the_buy_path_ends_with_a_payment_link_button_and_the_hold_end(kit: Bot) -> None:
    card = await choose(kit, await open_card(kit), EARLY_PLUS, f"c|{JAZZ}|EARLY:2", f"c|{JAZZ}|EARLY:2.VIP:1")
    asked = await kit.tap(BUYER_ID, card, f"k|{JAZZ}|EARLY:2.VIP:1")
    assert "Step 1 of 3" in asked.text and asked.callback_data()[0].startswith("x|")
    assert asked.message_id == card.message_id  # the card became the first prompt

    email_q = await kit.step(BUYER_ID, "Sinta Maharani")
    assert "Step 2 of 3" in email_q.text
    assert email_q.message_id == card.message_id  # edited in place
    phone_q = await kit.step(BUYER_ID, "Sinta@Example.com")
    assert "Step 3 of 3" in phone_q.text and "Share my phone number" in phone_q.text
    # the share button rides on the phone prompt, a new message (a reply keyboard cannot ride on an edit)
    assert phone_q.reply_markup["keyboard"] == [[{"text": "📱 Share my phone number", "request_contact": True}],
                                                [{"text": "✖ Cancel"}]]
    assert phone_q.reply_markup["one_time_keyboard"] is True and phone_q.message_id > card.message_id
    summary = await kit.step(BUYER_ID, "0812-3456-7890")
    removal = kit.sent(BUYER_ID)[-2]
    assert removal.reply_markup == {"remove_keyboard": True} and removal.text == "📱 Phone number: +6281234567890"
    assert summary.message_id > removal.message_id  # the summary comes below the note, not far up the chat

    assert "Order summary" in summary.text
    assert "2 × Early Bird: Rp300.000\n1 × VIP (front lawn, welcome drink): Rp750.000" in summary.text
    assert "Total: Rp1.050.000" in summary.text
    assert "👤 Sinta Maharani\n📧 Sinta@example.com\n📱 +6281234567890" in summary.text

    pay = await kit.tap(BUYER_ID, summary, "✅ Confirm and hold the seats")

    [order] = await kit.services.orders.pending_for_user(acct(BUYER_ID))
    assert pay.message_id == summary.message_id  # the payment link replaced the summary
    assert {(line.tier, line.qty) for line in order.lines} == {("EARLY", 2), ("VIP", 1)}
    assert order.buyer.phone == "+6281234567890"
    assert "Seats held!" in pay.text and order.id in pay.text
    assert "Pay before Tue, 1 Dec 2026 10:30 WIB" in pay.text  # 03:00 UTC + 30 minutes, in WIB
    url = pay.button("💳 Pay Rp1.050.000")["url"]
    assert url.startswith(PAY_HOST) and url == order.payment["redirect_url"]
    assert pay.callback_data() == [f"oc|{order.id}"]
    assert kit.midtrans.transaction(order.id).finish_url == f"https://t.me/KarcisBot?start=o_{order.id}"
    assert not any(d.startswith("y|") for d in kit.now(BUYER_ID, summary).callback_data())  # no second confirm
    # the card (the name and email prompts, edited in place), the phone prompt, the note, the summary
    assert [m.message_id for m in kit.sent(BUYER_ID)] == [card.message_id, phone_q.message_id, removal.message_id,
                                                          summary.message_id]
    stale = await kit.answer_to(BUYER_ID, kit.now(BUYER_ID, card), kit.now(BUYER_ID, card).callback_data()[0])
    # the old prompt's Cancel tells the truth: the purchase became this order, still waiting for payment
    assert stale == f"This purchase is already order {order.id}, waiting for payment."
    assert "Seats held!" in kit.now(BUYER_ID, pay).text
    assert (await kit.services.store.drafts.get(acct(BUYER_ID))).purchase is None
    await assert_invariant(kit.services)


async def test_each_contact_mistake_gets_its_own_message_and_the_same_question_again(kit: Bot) -> None:
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    await kit.press(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")

    reply = await kit.step(BUYER_ID, "12345")
    assert reply.text.startswith("⚠️ A name needs letters.") and "Step 1 of 3" in reply.text
    reply = await kit.step(BUYER_ID, "Sinta")
    assert "Step 2 of 3" in reply.text
    reply = await kit.step(BUYER_ID, "sinta at example")
    assert reply.text.startswith("⚠️ That is not a valid email address") and "Step 2 of 3" in reply.text
    phone_q = await kit.step(BUYER_ID, "sinta@example.com")
    reply = await kit.step(BUYER_ID, "0812")
    assert reply.text.startswith("⚠️ That phone number is too short: an Indonesian mobile number looks like 0812")
    assert "Step 3 of 3" in reply.text
    reply = await kit.step(BUYER_ID, "call me")
    assert reply.text.startswith("⚠️ A phone number has no letters")
    reply = await kit.step(BUYER_ID, "61412345678")
    assert reply.text.startswith("⚠️ That looks like a number from abroad: start it with + and the country code")
    reply = await kit.step(BUYER_ID, "+62 1234 5678 9012")
    assert reply.text.startswith("⚠️ That is not an Indonesian mobile number: one looks like 0812 3456 7890")
    reply = await kit.step(BUYER_ID, "021-3456-7890")
    assert reply.text.startswith("⚠️ Please give a mobile number")
    # every mistake edited the one prompt: the card up to the email, then the phone prompt (the keyboard's one)
    assert [m.message_id for m in kit.sent(BUYER_ID)] == [card.message_id, phone_q.message_id]
    assert reply.message_id == phone_q.message_id
    reply = await kit.step(BUYER_ID, "+62 812 3456 7890")
    assert "Order summary" in reply.text
    assert not any("does not exist" in (m.text or "") for m in kit.fake.messages(BUYER_ID, include_deleted=True))


async def test_the_same_mistake_twice_gets_a_new_prompt_and_the_draft_follows_it(kit: Bot) -> None:
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    await kit.press(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")
    first = await kit.step(BUYER_ID, "12345")
    again = await kit.step(BUYER_ID, "12345")  # editing the prompt would change nothing: Telegram refuses that

    assert again.message_id != first.message_id and again.text.startswith("⚠️ A name needs letters.")
    assert (await kit.services.store.drafts.get(acct(BUYER_ID))).purchase.prompt_message_id == again.message_id
    email_q = await kit.step(BUYER_ID, "Sinta")
    assert email_q.message_id == again.message_id and "Step 2 of 3" in email_q.text
    kit.expected_failures.append("message is not modified")


async def test_a_deleted_prompt_is_replaced_by_a_new_message(kit: Bot) -> None:
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    await kit.press(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")
    await kit.fake.call("deleteMessage", {"chat_id": BUYER_ID, "message_id": card.message_id})  # the buyer did

    email_q = await kit.step(BUYER_ID, "Sinta")

    assert email_q.message_id != card.message_id and "Step 2 of 3" in email_q.text
    kit.expected_failures.append("message to edit not found")


async def test_a_draft_from_before_the_prompt_was_kept_gets_a_new_message(kit: Bot) -> None:
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    await kit.press(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")
    await kit.services.store.db["drafts"].update_one({"_id": acct(BUYER_ID)},
                                                      {"$unset": {"purchase.prompt_message_id": ""}})

    [email_q] = await kit.say(BUYER_ID, "Sinta")

    assert "Step 2 of 3" in email_q.text
    wrong = await kit.step(BUYER_ID, "not an email")
    assert wrong.message_id == email_q.message_id  # and from then on it is edited in place


async def test_a_restart_in_the_middle_continues_where_the_buyer_was(kit: Bot) -> None:
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    await kit.press(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")
    await kit.say(BUYER_ID, "Sinta Maharani")

    await kit.app.shutdown()  # the process dies; a new one (another instance) takes over
    kit.app = await build_app(kit.fake, kit.services)

    reply = await kit.step(BUYER_ID, "sinta@example.com")
    assert "Step 3 of 3" in reply.text  # the draft lives in MongoDB, not in the process
    summary = await kit.step(BUYER_ID, "081234567890")
    pay = await kit.tap(BUYER_ID, summary, "✅ Confirm and hold the seats")
    assert "Seats held!" in pay.text


async def previous_purchase(kit: Bot, name: str = "Sinta Maharani") -> None:
    order = await kit.services.orders.reserve(acct(BUYER_ID), JAZZ, {"REG": 1}, buyer(name))
    await kit.services.orders.cancel(order.id, acct(BUYER_ID))


async def test_the_details_from_last_time_are_offered_and_used(kit: Bot) -> None:
    await previous_purchase(kit, "Sinta <Lama> & Co")
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    offer = await kit.tap(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")

    assert "Name: Sinta <Lama> & Co" in offer.text
    summary = await kit.tap(BUYER_ID, offer, "✅ Use these details")
    assert "👤 Sinta <Lama> & Co" in summary.text
    await kit.press(BUYER_ID, summary, "✅ Confirm and hold the seats")
    [order] = await kit.services.orders.pending_for_user(acct(BUYER_ID))
    assert order.buyer.name == "Sinta <Lama> & Co"


async def test_other_details_instead_of_last_times_asks_for_all_three(kit: Bot) -> None:
    await previous_purchase(kit)
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    offer = await kit.tap(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")
    asked = await kit.tap(BUYER_ID, offer, "✏️ Enter other details")
    assert "Step 1 of 3" in asked.text
    summary = await give_details(kit, name="Rudi Hartono")
    assert "👤 Rudi Hartono" in summary.text


async def test_change_details_changes_one_field_and_keeps_the_others(kit: Bot) -> None:
    summary = await checkout_to_summary(kit)
    choice = await kit.tap(BUYER_ID, summary, "✏️ Change details")
    assert choice.message_id == summary.message_id and "which one?" in choice.text
    assert [b["text"] for b in choice.buttons()][:3] == ["👤 Name", "📧 Email", "📱 Phone"]

    asked = await kit.tap(BUYER_ID, choice, "📧 Email")
    assert "instead of sinta@example.com" in asked.text and "Step" not in asked.text
    assert "« Back to the summary" in [b["text"] for b in asked.buttons()]
    wrong = await kit.step(BUYER_ID, "not an email")
    assert wrong.text.startswith("⚠️ That is not a valid email address")
    summary = await kit.step(BUYER_ID, "rudi@example.com")
    assert "Order summary" in summary.text  # straight back: the name and phone were not asked again
    assert "👤 Sinta Maharani\n📧 rudi@example.com\n📱 +6281234567890" in summary.text

    choice = await kit.tap(BUYER_ID, summary, "✏️ Change details")
    asked = await kit.tap(BUYER_ID, choice, "👤 Name")
    assert "instead of Sinta Maharani" in asked.text
    back = await kit.tap(BUYER_ID, asked, "« Back to the summary")  # changed their mind: nothing changes
    assert "👤 Sinta Maharani\n📧 rudi@example.com" in back.text

    choice = await kit.tap(BUYER_ID, back, "✏️ Change details")
    asked = await kit.tap(BUYER_ID, choice, "📱 Phone")
    assert "instead of +6281234567890" in asked.text
    assert asked.reply_markup["keyboard"][0][0]["request_contact"] is True  # the share button offered again
    assert asked.reply_markup["keyboard"][1] == [{"text": "« Back to the summary"}]
    summary = await kit.step(BUYER_ID, "0813 1111 2222")
    assert "👤 Sinta Maharani\n📧 rudi@example.com\n📱 +6281311112222" in summary.text
    await kit.press(BUYER_ID, summary, "✅ Confirm and hold the seats")
    [order] = await kit.services.orders.pending_for_user(acct(BUYER_ID))
    assert (order.buyer.name, order.buyer.email, order.buyer.phone) == (
        "Sinta Maharani", "rudi@example.com", "+6281311112222")


async def test_a_stale_change_button_changes_nothing(kit: Bot) -> None:
    summary = await checkout_to_summary(kit)
    choice = await kit.tap(BUYER_ID, summary, "✏️ Change details")
    data = choice.button("👤 Name")["callback_data"]
    assert await kit.services.checkout.abandon(acct(BUYER_ID), data.split("|")[1])  # say, from another device
    assert await kit.answer_to(BUYER_ID, choice, data) == (
        "This purchase is no longer open. Start again from the event.")
    assert await kit.answer_to(BUYER_ID, choice, choice.button("« Back to the summary")["callback_data"]) == (
        "This purchase is no longer open. Start again from the event.")


async def test_confirming_twice_makes_one_order(kit: Bot) -> None:
    summary = await checkout_to_summary(kit)
    data = summary.button("✅ Confirm and hold the seats")["callback_data"]
    first = await kit.fake.press_button(BUYER_ID, summary.message_id, data)
    second = await kit.fake.press_button(BUYER_ID, summary.message_id, data)  # a double tap on a slow network
    await kit.pump()

    assert len(await kit.services.orders.pending_for_user(acct(BUYER_ID))) == 1
    answers = [kit.fake.callback_query(q.id).answer_text for q in (first, second)]
    assert answers == [None, "This purchase is no longer open. Start again from the event."]
    assert len([m for m in kit.sent(BUYER_ID) if "Seats held!" in (m.text or "")]) == 1


async def test_cancelling_the_draft_reserves_nothing(kit: Bot) -> None:
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    asked = await kit.tap(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")
    await kit.press(BUYER_ID, asked, "✖ Cancel")
    assert kit.now(BUYER_ID, asked).text == "Purchase cancelled. Nothing was reserved."
    [hint] = await kit.say(BUYER_ID, "Sinta")
    assert hint.text.startswith("Send /start to see the events")
    assert await kit.services.orders.pending_for_user(acct(BUYER_ID)) == []


async def test_a_free_order_gives_tickets_at_once_through_the_notifier(kit: Bot) -> None:
    summary = await checkout_to_summary(kit, event=WORKSHOP, presses=(f"c|{WORKSHOP}|FREE:1",))
    assert "Community seat (free): Free" in summary.text and "Total: Free" in summary.text
    assert "Midtrans" not in summary.text and "pay" not in summary.text.replace("Nothing to pay", "")
    assert "Nothing to pay: confirm and your tickets come right here." in summary.text

    [photo] = await kit.press(BUYER_ID, summary, "✅ Confirm: get my tickets")  # one message: the tickets

    done = kit.now(BUYER_ID, summary)
    assert "Order summary" in done.text and done.text.endswith("confirmed: your tickets follow.")
    assert done.buttons() == [] and "Confirmed!" not in done.text  # the summary, closed; not a second receipt
    [ticket] = await kit.services.tickets.for_user(acct(BUYER_ID))
    code = f"{ticket.id[:4]}-{ticket.id[4:8]}-{ticket.id[8:]}"
    receipt, caption = photo.caption.split("\n\n")
    assert receipt.startswith("🎉 Your free tickets") and "1 × Community seat (free)" in receipt
    assert photo.photo and caption.splitlines()[:4] == [
        "🎟 Workshop Desain UI untuk Pemula", "Community seat (free)", "👤 Sinta Maharani", code]
    image = Image.open(io.BytesIO(kit.fake.file_bytes(photo.photo_file_id)))
    [qr] = zxingcpp.read_barcodes(image)
    assert qr.text == f"https://t.me/KarcisBot?start=t_{ticket.id}"
    assert await kit.services.digests.send_due() == 1
    [sale] = kit.sent(ORGANISER_ID)
    assert "Sales since" in sale.text and "Sinta Maharani" in sale.text
    assert "• Community seat (free): +1 · sold 1/30" in sale.text
    order = await kit.services.orders.get(ticket.order_id)
    assert set(order.sent) == {"paid", "sale"} and order.notify_due_at is None


async def test_sold_out_names_the_tier_and_the_seats_left_and_keeps_the_draft(kit: Bot) -> None:
    summary = await checkout_to_summary(kit, presses=(f"c|{JAZZ}|VIP:1", f"c|{JAZZ}|VIP:2"))
    await kit.services.store.inventory.hold(tier_key(JAZZ, "VIP"), 49)  # someone else was faster

    refused = await kit.tap(BUYER_ID, summary, "✅ Confirm and hold the seats")

    assert refused.text == ("😕 Not enough seats: only 1 left for VIP (front lawn, welcome drink). "
                            "Change the quantity and try again.")
    await kit.press(BUYER_ID, refused, "🎟 Change tickets")
    assert "1 × VIP (front lawn, welcome drink)" in kit.now(BUYER_ID, refused).text
    assert (await kit.services.store.drafts.get(acct(BUYER_ID))).purchase.cart == {"VIP": 2}


async def test_too_many_pending_orders_is_said_before_the_details_and_points_at_the_orders(kit: Bot) -> None:
    for _ in range(3):
        await kit.services.orders.reserve(acct(BUYER_ID), JAZZ, {"REG": 1}, buyer())
    card = await choose(kit, await open_card(kit), EARLY_PLUS)

    refused = await kit.tap(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")  # before any detail is typed

    assert refused.text == "🧾 You already have 3 unpaid orders. Pay or cancel one of them first."
    assert await kit.services.checkout.current(acct(BUYER_ID)) is None
    [orders] = await kit.press(BUYER_ID, refused, "🧾 My orders")
    assert orders.text.startswith("🧾 Unpaid orders") and len(orders.inline_keyboard) == 6  # Pay, Cancel per order
    await cancel_listed(kit, orders, 1)  # cancel one
    offer = await kit.tap(BUYER_ID, refused, "🔁 Try again")
    summary = await kit.tap(BUYER_ID, offer, "✅ Use these details")
    await kit.press(BUYER_ID, summary, "✅ Confirm and hold the seats")
    assert len(await kit.services.orders.pending_for_user(acct(BUYER_ID))) == 3


async def test_a_limit_reached_while_typing_is_refused_at_confirm_and_keeps_the_draft(kit: Bot) -> None:
    for _ in range(2):
        await kit.services.orders.reserve(acct(BUYER_ID), JAZZ, {"REG": 1}, buyer())
    summary = await checkout_to_summary(kit)
    await kit.services.orders.reserve(acct(BUYER_ID), JAZZ, {"REG": 1}, buyer())  # another chat was faster

    refused = await kit.tap(BUYER_ID, summary, "✅ Confirm and hold the seats")

    assert refused.text == "🧾 You already have 3 unpaid orders. Pay or cancel one of them first."
    [orders] = await kit.press(BUYER_ID, refused, "🧾 My orders")
    await cancel_listed(kit, orders, 1)  # cancel one
    await kit.press(BUYER_ID, refused, "🔁 Try again")  # the same draft, put back
    assert len(await kit.services.orders.pending_for_user(acct(BUYER_ID))) == 3
    assert "Seats held!" in kit.now(BUYER_ID, refused).text


async def test_rate_limit_and_closed_sales_have_their_own_messages(kit: Bot) -> None:
    for _ in range(5):
        order = await kit.services.orders.reserve(acct(BUYER_ID), JAZZ, {"REG": 1}, buyer())
        await kit.services.orders.cancel(order.id, acct(BUYER_ID))
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    refused = await kit.tap(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")  # said before the details
    assert refused.text.startswith("⏳ Too many reservations in one minute (at most 5).")

    kit.clock.advance(minutes=2)
    offer = await kit.tap(BUYER_ID, refused, "🔁 Try again")
    summary = await kit.tap(BUYER_ID, offer, "✅ Use these details")
    kit.clock.advance(days=31)  # past the sales window
    closed = await kit.tap(BUYER_ID, summary, "✅ Confirm and hold the seats")
    assert closed.text == "⛔ Ticket sales for Jazz Senja di Taman: Malam Tahun Baru have ended."
    [card] = await kit.say(BUYER_ID, f"/start ev_{JAZZ}")
    assert "Ticket sales for this event have ended." in card.text and card.callback_data() == ["l|0"]


async def test_every_refusal_reason_has_a_message(kit: Bot) -> None:
    from handlers.telegram.buyer import refusal_message
    from storage.documents import PurchaseDraft

    draft = PurchaseDraft(nonce="N", event_id=JAZZ, cart={"VIP": 1})
    texts = set()
    for reason in RefusalReason:
        text, _ = await refusal_message(kit.services, "en", ReservationRefused(reason, tier="VIP", limit=2), draft)
        texts.add(text)
    assert len(texts) == len(RefusalReason)


async def test_payment_link_unavailable_keeps_the_seats_and_offers_a_retry(kit: Bot, monkeypatch) -> None:
    real = kit.services.payments.payment_link

    async def down(*args, **kwargs):
        raise PaymentLinkUnavailable("Midtrans is down")

    monkeypatch.setattr(kit.services.payments, "payment_link", down)
    summary = await checkout_to_summary(kit)
    sorry = await kit.tap(BUYER_ID, summary, "✅ Confirm and hold the seats")

    assert "the payment link is unavailable right now" in sorry.text
    [order] = await kit.services.orders.pending_for_user(acct(BUYER_ID))
    monkeypatch.setattr(kit.services.payments, "payment_link", real)
    pay = await kit.tap(BUYER_ID, sorry, "🔁 Try again")
    assert pay.button("💳 Pay Rp150.000")["url"].startswith(PAY_HOST)
    assert order.status == OrderStatus.PENDING


async def test_cancelling_an_order_releases_its_seats(kit: Bot) -> None:
    summary = await checkout_to_summary(kit)
    pay = await kit.tap(BUYER_ID, summary, "✅ Confirm and hold the seats")
    [order] = await kit.services.orders.pending_for_user(acct(BUYER_ID))

    await kit.press(BUYER_ID, pay, "✖ Cancel order")
    assert kit.now(BUYER_ID, pay).text.startswith(f"❓ Cancel order {order.id}?")  # one confirming tap
    assert (await kit.services.orders.get(order.id)).status == OrderStatus.PENDING
    await kit.press(BUYER_ID, kit.now(BUYER_ID, pay), "✖ Yes, cancel it")

    assert kit.now(BUYER_ID, pay).text.startswith(f"✖ Order {order.id} cancelled; the seats were released.")
    assert (await kit.services.orders.get(order.id)).status == OrderStatus.CANCELLED
    assert (await kit.services.store.inventory.get(tier_key(JAZZ, "EARLY"))).available == 100


async def test_orders_lists_pending_orders_with_pay_and_cancel(kit: Bot) -> None:
    [empty] = await kit.say(BUYER_ID, "/orders")
    assert empty.text.startswith("You have no unpaid orders")
    summary = await checkout_to_summary(kit)
    await kit.press(BUYER_ID, summary, "✅ Confirm and hold the seats")
    [order] = await kit.services.orders.pending_for_user(acct(BUYER_ID))

    [listing] = await kit.say(BUYER_ID, "/orders")

    assert order.id in listing.text and "Total Rp150.000 · pay before Tue, 1 Dec 2026 10:30 WIB" in listing.text
    [pay], [cancel] = listing.inline_keyboard
    assert f"#1 {order.id}" in listing.text  # the id in the message, its number on the buttons
    assert pay["text"] == "💳 #1 · Pay Rp150.000" and pay["url"] == order.payment["redirect_url"]
    assert cancel["text"] == "✖ Cancel #1" and cancel["callback_data"] == f"oc|{order.id}|l"


async def test_the_finish_link_shows_the_order_to_its_owner_only(kit: Bot) -> None:
    summary = await checkout_to_summary(kit)
    await kit.press(BUYER_ID, summary, "✅ Confirm and hold the seats")
    [order] = await kit.services.orders.pending_for_user(acct(BUYER_ID))

    [mine] = await kit.say(BUYER_ID, f"/start o_{order.id}")
    assert "Waiting for payment until Tue, 1 Dec 2026 10:30 WIB" in mine.text
    [theirs] = await kit.say(STRANGER_ID, f"/start o_{order.id}")
    assert theirs.text == "I can't find that order."

    await kit.services.orders.pay(order.id)
    [paid] = await kit.say(BUYER_ID, f"/start o_{order.id}")
    assert "Paid. Your tickets: /mytickets" in paid.text and paid.callback_data() == ["mt|0"]


async def test_mytickets_groups_by_event_pages_and_resends_a_qr(kit: Bot) -> None:
    for _ in range(3):
        order = await kit.services.orders.reserve(acct(BUYER_ID), JAZZ, {"EARLY": 4}, buyer())
        await kit.services.orders.pay(order.id)
    free = await kit.services.orders.reserve(acct(BUYER_ID), WORKSHOP, {"FREE": 1}, buyer())

    [page1] = await kit.say(BUYER_ID, "/mytickets")

    assert "Your tickets (page 1 of 2)" in page1.text and "Jazz Senja di Taman" in page1.text
    assert len([d for d in page1.callback_data() if d.startswith("q|")]) == 8
    await kit.press(BUYER_ID, page1, "▶")
    page2 = kit.now(BUYER_ID, page1)
    assert "page 2 of 2" in page2.text and "Workshop Desain UI untuk Pemula" in page2.text
    [ticket] = await kit.services.tickets.for_order(free.id)
    [photo] = await kit.press(BUYER_ID, page2, f"q|{ticket.id}")
    assert photo.photo and ticket.id[:4] in photo.caption


async def test_a_ticket_button_from_someone_else_is_refused(kit: Bot) -> None:
    order = await kit.services.orders.reserve(acct(BUYER_ID), WORKSHOP, {"FREE": 1}, buyer())
    [ticket] = await kit.services.tickets.for_order(order.id)
    [stranger_list] = await kit.say(STRANGER_ID, "/mytickets")
    assert stranger_list.text.startswith("You have no tickets yet")
    [help_message] = await kit.say(STRANGER_ID, "/help")  # any message of the bot's will carry a forged button
    kit.fake.message(STRANGER_ID, help_message.message_id).reply_markup = {
        "inline_keyboard": [[{"text": "forged", "callback_data": f"q|{ticket.id}"}]]}

    assert await kit.answer_to(STRANGER_ID, help_message, f"q|{ticket.id}") == "That ticket is not yours."
    assert [m for m in kit.sent(STRANGER_ID) if m.photo] == []


async def test_contact_steps_survive_in_the_draft_document(kit: Bot) -> None:
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    await kit.press(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")
    await kit.say(BUYER_ID, "Sinta Maharani")
    draft = (await kit.services.store.drafts.get(acct(BUYER_ID))).purchase
    assert draft.awaiting == ContactStep.EMAIL and draft.name == "Sinta Maharani" and draft.cart == {"EARLY": 1}


async def test_cancelling_at_the_phone_step_takes_the_share_keyboard_away(kit: Bot) -> None:
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    await kit.press(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")
    await kit.step(BUYER_ID, "Sinta")
    asked = await kit.step(BUYER_ID, "sinta@example.com")
    assert asked.reply_markup["keyboard"][1] == [{"text": "✖ Cancel"}]  # the prompt's Cancel is a keyboard button
    [dropped] = await kit.say(BUYER_ID, "✖ Cancel")
    assert dropped.text.startswith("Purchase cancelled. Nothing was reserved.")
    assert dropped.reply_markup == {"remove_keyboard": True}  # the keyboard goes with the purchase
    assert await kit.services.checkout.current(acct(BUYER_ID)) is None


async def test_names_with_emoji_sequences_pass_and_direction_overrides_are_refused(kit: Bot) -> None:
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    await kit.press(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")
    refused = await kit.step(BUYER_ID, "Sinta \u202eadmin")
    assert refused.text.startswith("⚠️ That name contains invisible characters that reverse the direction of text")
    refused = await kit.step(BUYER_ID, "Sinta\x1b[31m")
    assert refused.text.startswith("⚠️ That name contains invisible control characters.")
    email_q = await kit.step(BUYER_ID, "Sinta 👩\u200d🎤👍🏽🇮🇩")
    assert "Step 2 of 3" in email_q.text and "⚠️" not in email_q.text
    await kit.step(BUYER_ID, "sinta@example.com")
    summary = await kit.step(BUYER_ID, "0812 3456 7890")
    assert "👤 Sinta 👩\u200d🎤👍🏽🇮🇩" in summary.text


async def test_an_emoji_name_reaches_midtrans_cut_on_whole_characters(kit: Bot) -> None:
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    await kit.press(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")
    name = "SintaMaharaniPutriLestariAyu👩\u200d🎤"  # 28 letters and a 3-code-point sequence: over Midtrans's 30
    await give_details(kit, name=name)
    summary = [m for m in kit.sent(BUYER_ID) if "Order summary" in (m.text or "")][-1]
    pay = await kit.tap(BUYER_ID, summary, "✅ Confirm and hold the seats")
    [order] = await kit.services.orders.pending_for_user(acct(BUYER_ID))
    assert order.buyer.name == name and "Seats held!" in pay.text  # ours keeps it whole
    sent = kit.midtrans.transaction(order.id).customer_details["first_name"]
    assert sent == "SintaMaharaniPutriLestariAyu"  # Midtrans gets whole characters, no lone 👩 or joiner


async def test_changing_the_phone_can_go_back_with_the_keyboards_button(kit: Bot) -> None:
    summary = await checkout_to_summary(kit)
    asked = await kit.tap(BUYER_ID, await kit.tap(BUYER_ID, summary, "✏️ Change details"), "📱 Phone")
    back = await kit.step(BUYER_ID, "« Back to the summary")  # the keyboard's text button
    assert "Order summary" in back.text and "📱 +6281234567890" in back.text
    assert kit.sent(BUYER_ID)[-2].reply_markup == {"remove_keyboard": True} and back.message_id > asked.message_id
    typed_as_name = await kit.say(BUYER_ID, "✖ Cancel")  # not at the phone step any more: an ordinary text
    assert typed_as_name[0].text.startswith("Send /start")
    assert (await kit.services.checkout.current(acct(BUYER_ID))).awaiting.value == "confirm"


async def at_the_phone_step(kit: Bot) -> MessageRecord:
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    await kit.press(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")
    await kit.step(BUYER_ID, "Sinta Maharani")
    return await kit.step(BUYER_ID, "sinta@example.com")


async def test_sharing_ones_own_number_with_the_keyboard_button_fills_the_phone(kit: Bot) -> None:
    await at_the_phone_step(kit)
    shown = kit.fake.reply_keyboard(BUYER_ID)
    assert shown is not None and shown.contact_button()["text"] == "📱 Share my phone number"
    assert shown.markup["one_time_keyboard"] is True and shown.markup["resize_keyboard"] is True

    revision = kit.fake.revision
    shared = await kit.fake.press_keyboard_button(BUYER_ID, "📱 Share my phone number")
    await kit.pump()
    assert shared.contact["user_id"] == BUYER_ID and shared.reply_to_message_id == shown.message_id
    summary = kit.shown_since(BUYER_ID, revision)
    assert "Order summary" in summary.text and "📱 +6281200000001" in summary.text  # the fake user's number
    assert kit.fake.reply_keyboard(BUYER_ID) is None  # taken away (ReplyKeyboardRemove), not just hidden
    await kit.press(BUYER_ID, summary, "✅ Confirm and hold the seats")
    [order] = await kit.services.orders.pending_for_user(acct(BUYER_ID))
    assert order.buyer.phone == "+6281200000001"


async def test_someone_elses_contact_is_refused_and_the_button_offered_again(kit: Bot) -> None:
    await at_the_phone_step(kit)
    before = len(kit.sent(BUYER_ID))
    await kit.fake.send_contact(BUYER_ID, "+6281399998888", "Budi", contact_user_id=STRANGER_ID)  # forwarded
    await kit.pump()
    [refusal] = kit.sent(BUYER_ID)[before:]
    assert refusal.text.startswith("⚠️ That is someone else's contact.")
    assert refusal.reply_markup["keyboard"][0][0]["request_contact"] is True  # offered again
    await kit.fake.send_contact(BUYER_ID, "+6281399998888", "Budi")  # from the address book: no Telegram id
    await kit.pump()
    draft = await kit.services.checkout.current(acct(BUYER_ID))
    assert draft.phone is None and draft.awaiting.value == "phone"  # nothing changed
    assert kit.sent(BUYER_ID)[-1].text.startswith("⚠️ That is someone else's contact.")


async def test_a_contact_outside_the_phone_step_changes_nothing_and_clears_the_keyboard(kit: Bot) -> None:
    card = await choose(kit, await open_card(kit), EARLY_PLUS)
    await kit.press(BUYER_ID, card, f"k|{JAZZ}|EARLY:1")
    await kit.fake.send_contact(BUYER_ID, "+6281200000001", "Sinta", contact_user_id=BUYER_ID)
    await kit.pump()
    answer = kit.sent(BUYER_ID)[-1]
    assert answer.text.startswith("Send /start") and answer.reply_markup == {"remove_keyboard": True}
    assert (await kit.services.checkout.current(acct(BUYER_ID))).name is None  # the name step did not take it
