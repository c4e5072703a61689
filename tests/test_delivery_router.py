"""Delivery by channel (bot/delivery_router.py): each notice goes to the channel of its recipients' addresses,
a person on two channels is told once, and a channel with no notifier leaves the message owed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.delivery_router import ChannelMissing, ChannelRouter
from bot.notifications import Notice, Undeliverable
from bot.outbox import Message
from bot.services import Services
from storage.documents import Buyer, EventDoc, OrderDoc, OrderLine, OrderStatus
from tests.conftest import ADMIN_ID, ORGANISER_ID
from tests.helpers import acct, buyer
from tests.payment_stack import RecordingNotifier

WA_BUYER = "whatsapp:+6281111111111"
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
ORGANISER, OTHER, ADMIN = acct(ORGANISER_ID), acct(55), acct(ADMIN_ID)  # account ids


def order(address: str | None = None) -> OrderDoc:
    doc = OrderDoc(_id="KRC-2612-TEST", user_id=7, event_id="gig",
                   lines=[OrderLine(tier="REG", name="Reguler", qty=1, price=100_000)], seats=1, total=100_000,
                   buyer=Buyer(name="Sinta", email="s@example.com", phone="+6281234567890"), created_at=NOW,
                   expires_at=NOW, status=OrderStatus.PAID, updated_at=NOW)
    # OrderDoc.buyer_address arrives with accounts (docs/channels.md); until then the router reads it if present
    return doc if address is None else doc.model_copy(update={"buyer_address": address})


EVENT = EventDoc(_id="gig", title="Gig", venue="Hall", starts_at=NOW, ends_at=NOW, organisers=[ORGANISER, OTHER])


def notice(message: Message, address: str | None = None, *, admins: frozenset[str] = frozenset({ADMIN}),
           delivered: frozenset[str] = frozenset()) -> Notice:
    return Notice(message, order(address), EVENT, admin_ids=admins, delivered=delivered)


def both() -> tuple[ChannelRouter, RecordingNotifier, RecordingNotifier]:
    telegram, whatsapp = RecordingNotifier(), RecordingNotifier()
    return ChannelRouter({"telegram": telegram, "whatsapp": whatsapp}), telegram, whatsapp


async def test_a_buyer_message_goes_to_the_channel_the_order_was_placed_from() -> None:
    router, telegram, whatsapp = both()
    await router.notify(notice(Message.PAID))  # an order written before addresses: Telegram
    await router.notify(notice(Message.EXPIRED, "telegram:7"))
    await router.notify(notice(Message.PAID, WA_BUYER))
    assert [n.message for n in telegram.notices] == [Message.PAID, Message.EXPIRED]
    assert [n.message for n in whatsapp.notices] == [Message.PAID]
    assert "buyer" not in whatsapp.notices[0].delivered


async def test_staff_are_told_on_their_first_reachable_address_and_a_person_on_both_channels_once() -> None:
    addresses: dict[int | str, Sequence[str]] = {
        ORGANISER: (f"telegram:{ORGANISER_ID}", "whatsapp:+6282222222222"),  # on both: told on Telegram
        OTHER: ("whatsapp:+6283333333333",),
        ADMIN: ("whatsapp:+6284444444444", f"telegram:{ADMIN_ID}"),           # on both: told on WhatsApp
    }
    telegram, whatsapp = RecordingNotifier(), RecordingNotifier()
    router = ChannelRouter({"telegram": telegram, "whatsapp": whatsapp}, addresses=addresses.__getitem__)
    await router.notify(notice(Message.REVERSED, "telegram:7"))  # buyer, organisers and admins
    [on_telegram], [on_whatsapp] = telegram.notices, whatsapp.notices
    assert on_telegram.event is not None and on_telegram.event.organisers == [ORGANISER]
    assert on_telegram.admin_ids == frozenset() and "buyer" not in on_telegram.delivered
    assert on_whatsapp.event is not None and on_whatsapp.event.organisers == [OTHER]
    assert on_whatsapp.admin_ids == frozenset({ADMIN})
    assert "buyer" in on_whatsapp.delivered  # the buyer is on Telegram: WhatsApp sends them nothing
    assert EVENT.organisers == [ORGANISER, OTHER]  # the original is not narrowed


async def test_a_channel_with_nobody_to_tell_is_not_called() -> None:
    router, telegram, whatsapp = both()
    await router.notify(notice(Message.SALE, WA_BUYER))  # organisers only, both on Telegram
    await router.notify(notice(Message.AMOUNT_MISMATCH, WA_BUYER))  # admins only
    assert [n.message for n in telegram.notices] == [Message.SALE, Message.AMOUNT_MISMATCH]
    assert whatsapp.notices == []


async def test_a_missing_channel_raises_after_the_others_are_served(caplog: pytest.LogCaptureFixture) -> None:
    telegram = RecordingNotifier()
    router = ChannelRouter({"telegram": telegram})
    with pytest.raises(ChannelMissing, match="whatsapp"):
        await router.notify(notice(Message.NEEDS_REFUND, WA_BUYER))
    [told] = telegram.notices  # the admins (Telegram) were told; the WhatsApp buyer is still owed
    assert told.admin_ids == frozenset({ADMIN}) and "buyer" in told.delivered
    assert "no notifier in this process" in caplog.text and "whatsapp" in caplog.text
    with pytest.raises(ChannelMissing):
        await ChannelRouter().notify(notice(Message.PAID))  # no door attached yet: owed, as before


async def test_an_ordinary_failure_wins_over_undeliverable() -> None:
    telegram, whatsapp = RecordingNotifier(failures_left=1), RecordingNotifier(blocked={acct(7)})
    router = ChannelRouter({"telegram": telegram, "whatsapp": whatsapp},
                           addresses=lambda p: ("telegram:1",) if p == ADMIN else ("whatsapp:+62",))
    with pytest.raises(ConnectionError):
        await router.notify(notice(Message.NEEDS_REFUND, WA_BUYER))
    with pytest.raises(Undeliverable):
        await router.notify(notice(Message.NEEDS_REFUND, WA_BUYER))


async def test_through_the_delivery_service_a_missing_channel_leaves_the_message_owed(
    mem_services: Services,
) -> None:
    """build_services builds the router; with no door registered, a free order's tickets stay owed until the
    Telegram notifier is registered, then go once."""
    router = mem_services.delivery.notifier
    assert isinstance(router, ChannelRouter) and router.channels == frozenset()
    placed = await mem_services.orders.reserve(acct(7), "jazz-senja-2026", {"REG": 1}, buyer())
    await mem_services.orders.pay(placed.id)
    assert await mem_services.delivery.deliver(placed.id) is False
    owed = await mem_services.orders.get(placed.id)
    assert owed is not None and Message.PAID.value in owed.outbox and owed.outbox[Message.PAID.value].attempts == 1
    telegram = RecordingNotifier()
    router.register("telegram", telegram)  # the door opens; the retry (due again after its backoff) delivers
    await mem_services.store.db["orders"].update_one({"_id": placed.id}, {"$set": {"notify_due_at": NOW}})
    assert await mem_services.delivery.deliver_due() == 1
    assert [n.message for n in telegram.notices].count(Message.PAID) == 1
    delivered = await mem_services.orders.get(placed.id)
    assert delivered is not None and Message.PAID.value not in delivered.outbox


async def test_a_re_delivery_goes_only_to_the_people_whose_copy_failed() -> None:
    router, telegram, whatsapp = both()
    reversed_ = notice(Message.REVERSED, WA_BUYER)
    await router.notify(replace(reversed_, only=frozenset({"buyer"})))
    assert not telegram.notices  # the organisers and the admin (Telegram) had theirs
    [to_buyer] = whatsapp.notices
    assert "buyer" not in to_buyer.delivered and not to_buyer.admin_ids
    assert to_buyer.event is not None and not to_buyer.event.organisers

    await router.notify(replace(reversed_, only=frozenset({OTHER})))
    [to_other] = telegram.notices
    assert to_other.event is not None and to_other.event.organisers == [OTHER] and not to_other.admin_ids
    assert "buyer" in to_other.delivered and len(whatsapp.notices) == 1
