"""Organisers' sale digests: a burst of sales becomes a few messages, every sale is in one, none is lost when a
send fails or a delivery is repeated. The domain over both stores with a recording sender; then the whole path
through the Telegram notifier and the fake Bot API."""

from __future__ import annotations

import re

import pytest

from bot.digest import LEASE, LISTED, Digest
from bot.notifications import Undeliverable
from bot.services import Services
from storage.documents import OrderDoc
from tests.conftest import BUYER_ID, ORGANISER_ID
from tests.handlers_kit import JAZZ, Bot
from tests.helpers import acct, buyer

OTHER_ORGANISER = 900000099


class Recorder:
    """A digest sender that keeps what it was asked to show, and can fail on demand."""

    def __init__(self) -> None:
        self.shown: list[tuple[Digest, int | None]] = []
        self.fail_next = 0
        self.unreachable: set[str] = set()
        self._next_id = 100

    async def send_digest(self, digest: Digest, *, edit_message_id: int | None) -> int:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("Bot API unreachable")
        if digest.recipient in self.unreachable:
            raise Undeliverable("bot was blocked by the user")
        self.shown.append((digest, edit_message_id))
        if edit_message_id is not None:
            return edit_message_id
        self._next_id += 1
        return self._next_id

    def messages(self) -> int:
        """New messages sent (edits of an earlier one not counted)."""
        return len([1 for _, edited in self.shown if edited is None])


async def paid_orders(services: Services, n: int, cart: dict[str, int] | None = None) -> list[OrderDoc]:
    """`n` paid orders of different buyers, a tenth of a second apart."""
    orders = []
    for i in range(n):
        services.clock.advance(seconds=0.1)  # type: ignore[attr-defined]
        order = await services.orders.reserve(BUYER_ID + 1000 + i, JAZZ, cart or {"EARLY": 1 + i % 2},
                                              buyer(f"Buyer {i:02d}"))
        outcome = await services.orders.pay(order.id)
        orders.append(outcome.order)
    return orders


@pytest.fixture
def recorder(services: Services) -> Recorder:
    sender = Recorder()
    services.digests.sender = sender
    return sender


def shown_orders(digests: list[Digest]) -> set[str]:
    return {sale.order_id for digest in digests for sale in digest.latest}


async def test_a_burst_of_fifty_sales_is_one_message_per_interval_with_every_sale_counted(
    services: Services, recorder: Recorder, clock,
) -> None:
    orders = await paid_orders(services, 50)
    for order in orders[:30]:
        assert await services.digests.add_sale(acct(ORGANISER_ID), order)

    assert await services.digests.send_due() == 1
    for order in orders[30:]:  # the burst goes on while the first digest is out
        await services.digests.add_sale(acct(ORGANISER_ID), order)
    assert await services.digests.send_due() == 0  # within the quiet interval: nothing more
    clock.advance(seconds=15)
    assert await services.digests.send_due() == 1
    clock.advance(seconds=15)
    assert await services.digests.send_due() == 0  # nothing left to say

    assert recorder.messages() == 1  # one message, edited once to cover the rest of the burst
    (first, first_edit), (last, last_edit) = recorder.shown
    assert first_edit is None and last_edit == 101
    assert first.orders == 30 and last.orders == 50  # the edited message covers the whole window
    [event] = last.events
    assert event.orders == 50 and event.seats == sum(o.seats for o in orders) == 75
    [early] = event.tiers
    assert (early.qty, early.sold, early.capacity) == (75, 75, 100)
    assert len(last.latest) == LISTED and last.unlisted == 50 - LISTED
    assert [s.order_id for s in last.latest] == [o.id for o in orders[-LISTED:]]  # the newest, by name and id
    doc = await services.store.digests.get(acct(ORGANISER_ID))
    assert doc.pending == {} and doc.due_at is None and set(doc.reported) == {o.id for o in orders}


async def test_a_failed_send_keeps_every_sale_pending_and_is_retried(
    services: Services, recorder: Recorder, clock,
) -> None:
    orders = await paid_orders(services, 5)
    for order in orders:
        await services.digests.add_sale(acct(ORGANISER_ID), order)
    recorder.fail_next = 1

    assert await services.digests.send_due() == 0
    assert set((await services.store.digests.get(acct(ORGANISER_ID))).pending) == {o.id for o in orders}
    clock.advance(seconds=10)
    assert await services.digests.send_due() == 0  # not before the retry delay
    clock.advance(seconds=30)
    assert await services.digests.send_due() == 1

    [(digest, _)] = recorder.shown
    assert digest.orders == 5 and shown_orders([digest]) == {o.id for o in orders}


async def test_a_crash_during_a_send_sends_it_again_after_the_lease(
    services: Services, recorder: Recorder, clock,
) -> None:
    [order] = await paid_orders(services, 1)
    await services.digests.add_sale(acct(ORGANISER_ID), order)
    now = clock()
    assert await services.store.digests.claim(acct(ORGANISER_ID), now=now, until=now + LEASE)  # then the process dies
    assert await services.digests.send_due() == 0  # held by the dead sender
    clock.advance(minutes=2, seconds=1)
    assert await services.digests.send_due() == 1
    assert shown_orders([d for d, _ in recorder.shown]) == {order.id}


async def test_a_sale_added_twice_is_counted_once_before_and_after_its_digest(
    services: Services, recorder: Recorder, clock,
) -> None:
    [order] = await paid_orders(services, 1)
    assert await services.digests.add_sale(acct(ORGANISER_ID), order)
    assert await services.digests.add_sale(acct(ORGANISER_ID), order)  # a repeated delivery before the digest: same key
    assert await services.digests.send_due() == 1
    assert not await services.digests.add_sale(acct(ORGANISER_ID), order)  # after it: already reported
    clock.advance(minutes=1)
    assert await services.digests.send_due() == 0
    [(digest, _)] = recorder.shown
    assert digest.orders == 1


async def test_each_organiser_has_a_digest_and_an_unreachable_one_does_not_hold_the_others(
    services: Services, recorder: Recorder, clock,
) -> None:
    orders = await paid_orders(services, 3)
    for order in orders:
        await services.digests.add_sale(acct(ORGANISER_ID), order)
        await services.digests.add_sale(acct(OTHER_ORGANISER), order)
    recorder.unreachable.add(acct(OTHER_ORGANISER))

    assert await services.digests.send_due() == 1
    assert [d.recipient for d, _ in recorder.shown] == [acct(ORGANISER_ID)]
    other = await services.store.digests.get(acct(OTHER_ORGANISER))
    assert other.pending == {} and other.due_at is None  # given up on, not retried for ever


async def test_a_new_message_once_the_last_one_is_old(services: Services, recorder: Recorder, clock) -> None:
    first, second = await paid_orders(services, 2)
    await services.digests.add_sale(acct(ORGANISER_ID), first)
    await services.digests.send_due()
    clock.advance(minutes=11)
    await services.digests.add_sale(acct(ORGANISER_ID), second.model_copy(update={"paid_at": clock()}))
    await services.digests.send_due()

    assert recorder.messages() == 2
    assert [d.orders for d, _ in recorder.shown] == [1, 1]  # the new message starts a new window


# ---- through Telegram -------------------------------------------------------------------------------------------


async def test_fifty_sales_reach_the_organiser_as_a_few_messages_naming_every_buyer(kit: Bot) -> None:
    services = kit.services
    orders = []
    for i in range(50):
        uid = BUYER_ID + 1000 + i
        kit.fake.add_user(uid, f"Buyer{i}", started=True)
        order = await services.orders.reserve(acct(uid), JAZZ, {"REG": 1}, buyer(f"Buyer {i:02d}"))
        kit.clock.advance(seconds=0.1)
        orders.append((await services.orders.pay(order.id)).order)
    # the first digest send is refused with a flood wait longer than the notifier sleeps through: it fails, the
    # sales stay pending, and a later run sends them
    kit.fake.inject_retry_after(61, count=1, methods=["sendMessage"])
    kit.expected_failures.append("Too Many Requests")

    for n, order in enumerate(orders):
        await services.delivery.deliver(order.id)
        if n % 10 == 9:  # the digest job runs now and then during the burst
            await services.digests.send_due()
            kit.clock.advance(seconds=5)
    for _ in range(6):
        kit.clock.advance(seconds=15)
        await services.digests.send_due()

    messages = kit.sent(ORGANISER_ID)
    assert len(kit.fake.calls_to("sendMessage")) - len(messages) == 1  # the refused one
    assert 1 <= len(messages) <= 3
    calls = [c for c in kit.fake.calls if c.ok and str(c.params.get("chat_id")) == str(ORGANISER_ID)]
    assert len(calls) <= 6  # sends and edits together, against 50 messages before digests
    text = messages[-1].text
    assert "Orders: 50 · seats: 50" in text and "• Reguler: +50 · sold 50/400" in text
    listed = re.findall(r"KRC-\d{4}-[A-Z0-9]{10}", text)
    assert listed == [o.id for o in reversed(orders[-LISTED:])]  # the newest first, with the buyer's name
    assert f"Buyer {49:02d}" in text and f"… and {50 - LISTED} earlier orders" in text
    for order in orders:
        stored = await services.orders.get(order.id)
        assert "sale" in stored.sent and stored.notify_due_at is None
    doc = await services.store.digests.get(acct(ORGANISER_ID))
    assert set(doc.reported) == {o.id for o in orders} and doc.pending == {}


async def test_an_organiser_who_deleted_the_digest_message_gets_a_new_one(kit: Bot) -> None:
    services = kit.services
    first = await services.orders.reserve(acct(BUYER_ID), JAZZ, {"REG": 1}, buyer())
    await services.orders.pay(first.id)
    await services.delivery.deliver(first.id)
    await services.digests.send_due()
    [digest] = kit.sent(ORGANISER_ID)
    await kit.fake.call("deleteMessage", {"chat_id": ORGANISER_ID, "message_id": digest.message_id})
    kit.expected_failures.append("message to edit not found")

    second = await services.orders.reserve(acct(BUYER_ID), JAZZ, {"VIP": 1}, buyer())
    await services.orders.pay(second.id)
    await services.delivery.deliver(second.id)
    kit.clock.advance(seconds=15)
    await services.digests.send_due()

    [again] = kit.sent(ORGANISER_ID)
    assert again.message_id != digest.message_id and "Orders: 2 · seats: 2" in again.text


async def test_the_digest_is_in_the_organisers_language(kit: Bot) -> None:
    await kit.say(ORGANISER_ID, "/start")
    await kit.services.store.users.remember_user(acct(ORGANISER_ID), language="id", name="Rani")
    order = await kit.services.orders.reserve(acct(BUYER_ID), JAZZ, {"EARLY": 2}, buyer())
    await kit.services.orders.pay(order.id)
    await kit.services.delivery.deliver(order.id)
    await kit.services.digests.send_due()

    text = kit.sent(ORGANISER_ID)[-1].text
    assert text.startswith("📊 Penjualan sejak 10:00 WIB\nPesanan: 1 · kursi: 2")
    assert "• Early Bird: +2 · terjual 2/100" in text and "Semua kategori: 2/550" in text


async def test_a_sale_is_in_the_digest_before_its_sale_message_is_marked_sent(kit: Bot, monkeypatch) -> None:
    services = kit.services
    order = await services.orders.reserve(acct(BUYER_ID), JAZZ, {"REG": 1}, buyer())
    await services.orders.pay(order.id)
    real = services.store.orders.__class__.release_delivery
    crashed: list[str] = []

    async def dies_once(self, order_id: str, **kw) -> bool:  # the release marks every message sent
        if "sale" in kw["sent"] and not crashed:
            crashed.append("sale")
            raise ConnectionError("the process died before the outbox entry was marked sent")
        return await real(self, order_id, **kw)

    monkeypatch.setattr(services.store.orders.__class__, "release_delivery", dies_once)
    with pytest.raises(ConnectionError):
        await services.delivery.deliver(order.id)
    assert list((await services.store.digests.get(acct(ORGANISER_ID))).pending) == [order.id]  # already safe
    kit.clock.advance(minutes=3)  # the dead process's lease runs out
    await services.delivery.deliver_due()  # the retry after the crash
    await services.digests.send_due()

    assert "sale" in (await services.orders.get(order.id)).sent
    [digest] = kit.sent(ORGANISER_ID)
    assert "Orders: 1 · seats: 1" in digest.text
