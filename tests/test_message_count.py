"""How many Bot API messages a purchase costs, counted at the fake Bot API: every call that sends a message or
changes one (sendMessage, sendPhoto, edits), not callback answers. The README quotes these figures."""

from __future__ import annotations

import json
from collections import Counter

from bot.sandbox.telegram import ApiCall
from tests.conftest import BUYER_ID, ORGANISER_ID
from tests.handlers_kit import JAZZ, Bot
from tests.helpers import acct, buyer

MESSAGE_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageCaption",
                             "editMessageReplyMarkup"})


def messages_since(kit: Bot, start: int) -> Counter[int]:
    """Messages sent or edited per chat, from the fake's call log since call number `start`."""
    per_chat: Counter[int] = Counter()
    calls: list[ApiCall] = kit.fake.calls[start:]
    for call in calls:
        if call.ok and call.method in MESSAGE_METHODS:
            per_chat[int(call.params["chat_id"])] += 1
    return per_chat


async def purchase(kit: Bot, seats: int) -> None:
    """A buyer goes from the event's deep link to their tickets: ➕ `seats` times, details (typed, or last
    time's), confirm, pay; then what the order owes is delivered."""
    [card] = await kit.say(BUYER_ID, f"/start ev_{JAZZ}")
    for qty in range(1, seats + 1):
        await kit.press(BUYER_ID, kit.now(BUYER_ID, card), f"c|{JAZZ}|EARLY:{qty}")
    await kit.press(BUYER_ID, kit.now(BUYER_ID, card), f"k|{JAZZ}|EARLY:{seats}")
    shown = [m for m in kit.sent(BUYER_ID) if m.text][-1]
    if "Use the details from last time" in shown.text:
        await kit.press(BUYER_ID, shown, "✅ Use these details")
    else:
        for answer in ("Sinta Maharani", "sinta@example.com", "0812-3456-7890"):
            await kit.say(BUYER_ID, answer)
    summary = [m for m in kit.sent(BUYER_ID) if m.from_bot and "Order summary" in (m.text or "")][-1]
    await kit.press(BUYER_ID, summary, "✅ Confirm and hold the seats")
    [order] = await kit.services.orders.pending_for_user(acct(BUYER_ID))
    await kit.midtrans.set_status(order.id, "settlement", payment_type="bank_transfer")
    body = kit.midtrans.state.notification_body(order.id)
    await kit.services.payments.handle_notification(json.dumps(body).encode())
    await kit.services.delivery.deliver(order.id)
    await flush_digests(kit)


async def flush_digests(kit: Bot) -> None:
    """The digest job runs once the sale is in (a quiet on-sale: this sale is the digest's only one)."""
    kit.clock.advance(minutes=1)
    await kit.services.digests.send_due()


async def count(kit: Bot, seats: int) -> tuple[int, int]:
    """Messages (sent or edited) in the buyer's chat and in the organiser's, for one purchase."""
    start = len(kit.fake.calls)
    await purchase(kit, seats)
    per_chat = messages_since(kit, start)
    return per_chat[BUYER_ID], per_chat[ORGANISER_ID]


# Before (commit ac2a656): buyer 10, organiser 1 (11); returning buyer 9 + 1; four tickets 16 + 1 (17).
# Buyer: card, ➕ (edit), the card edited into the name and email prompts, the phone prompt (a new message: it
# carries the share-my-number reply keyboard), the note that removes the keyboard, the summary (a new message
# below it), the summary edited into the payment link, the ticket photo with the receipt in its caption.
# Organiser: one digest message, here the
# only sale of its interval; in a burst it is one message (or edit) per 15 s for all the sales, about 0 each.
# Since issue 12 (docs/order-messages.md) one edit more: once paid, the payment-link message is edited to say so
# (its Pay and Cancel gone), at the rate limiter's lowest priority, after the tickets.


async def test_a_first_time_buyer_of_one_ticket(kit: Bot) -> None:
    assert await count(kit, 1) == (10, 1)  # 8 before the share-my-number keyboard's removal note and the paid edit


async def test_a_returning_buyer_of_one_ticket(kit: Bot) -> None:
    order = await kit.services.orders.reserve(acct(BUYER_ID), JAZZ, {"REG": 1}, buyer())
    await kit.services.orders.cancel(order.id, acct(BUYER_ID))
    assert await count(kit, 1) == (7, 1)  # the offer of last time's details and the summary replace the prompts


async def test_a_first_time_buyer_of_four_tickets(kit: Bot) -> None:
    assert await count(kit, 4) == (16, 1)  # three more ➕ edits and three more photos
