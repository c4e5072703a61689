"""The money path over real HTTP on 127.0.0.1: payment links from the Midtrans simulator through midtransclient,
and signed notifications into the real aiohttp endpoint. After every test the stock invariant holds."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import aiohttp
import pytest
from pymongo.errors import ServerSelectionTimeoutError

from bot.config import Settings
from bot.errors import OrderNotPending
from bot.outbox import Message
from bot.payments import PaymentLinkUnavailable, ReservationOver
from storage.documents import OrderDoc, OrderStatus, TicketStatus
from storage.orders import OrderStore
from storage.store import Store
from tests.conftest import FakeClock
from tests.helpers import acct, assert_invariant, buyer
from tests.payment_stack import PaymentStack, payment_stack

JAZZ = "jazz-senja-2026"


@pytest.fixture
async def stack(store: Store, settings: Settings, clock: FakeClock) -> AsyncIterator[PaymentStack]:
    async with payment_stack(store, settings, clock) as built:
        yield built
        await built.settle()
        await assert_invariant(built.services)


async def reserve_with_link(stack: PaymentStack, user: int = 7, wanted: dict | None = None) -> OrderDoc:
    order = await stack.services.orders.reserve(acct(user), JAZZ, wanted or {"EARLY": 2}, buyer())
    await stack.services.payments.payment_link(order.id, acct(user), finish_url="https://t.me/KarcisBot?start=o_x")
    return order


async def post(stack: PaymentStack, data: bytes, content_type: str = "application/json") -> int:
    async with aiohttp.ClientSession() as session, session.post(
        stack.notification_url, data=data, headers={"Content-Type": content_type},
        timeout=aiohttp.ClientTimeout(total=10),
    ) as response:
        return response.status


async def log_outcomes(stack: PaymentStack, order_id: str) -> list[str]:
    return [e["outcome"] for e in await stack.services.store.payment_log.for_order(order_id)]


# ---- payment links ---------------------------------------------------------------------------------------------

async def test_payment_link_is_made_once_with_the_order_details(stack: PaymentStack) -> None:
    order = await stack.services.orders.reserve(acct(7), JAZZ, {"EARLY": 2, "VIP": 1}, buyer())
    link = await stack.services.payments.payment_link(order.id, acct(7), finish_url="https://t.me/KarcisBot?start=o_1")
    again = await stack.services.payments.payment_link(order.id, acct(7))
    assert again.redirect_url == link.redirect_url and again.reused and not link.reused
    assert len(stack.sim.transactions) == 1
    request = stack.sim.transaction(order.id).request_body
    assert request["transaction_details"] == {"order_id": order.id, "gross_amount": 1_050_000}
    assert sum(i["price"] * i["quantity"] for i in request["item_details"]) == 1_050_000
    assert request["customer_details"]["email"] == "sinta@example.com"
    assert request["expiry"]["unit"] == "minute" and request["expiry"]["duration"] == 30
    assert request["expiry"]["start_time"].endswith("+0700")
    assert request["callbacks"]["finish"] == "https://t.me/KarcisBot?start=o_1"
    stored = await stack.services.orders.get(order.id)
    assert stored.payment["redirect_url"] == link.redirect_url


def snap_end(request: dict) -> datetime:
    expiry = request["expiry"]
    start = datetime.strptime(expiry["start_time"], "%Y-%m-%d %H:%M:%S %z")
    return start + timedelta(minutes=expiry["duration"])


async def test_the_snap_page_ends_exactly_when_the_hold_ends(stack: PaymentStack) -> None:
    order = await stack.services.orders.reserve(acct(7), JAZZ, {"EARLY": 1}, buyer())
    stack.clock.advance(minutes=18, seconds=30, microseconds=250_000)
    await stack.services.payments.payment_link(order.id, acct(7))
    request = stack.sim.transaction(order.id).request_body
    assert request["expiry"]["unit"] == "minute" and request["expiry"]["duration"] == 12
    start = datetime.strptime(request["expiry"]["start_time"], "%Y-%m-%d %H:%M:%S %z")
    assert start <= stack.clock() and request["expiry"]["start_time"].endswith("+0700")
    # one deadline: the Snap page ends at the hold's end, never earlier (rounded up to the second)
    assert order.expires_at <= snap_end(request) < order.expires_at + timedelta(seconds=1)


async def test_snap_is_never_asked_for_less_than_five_minutes(stack: PaymentStack) -> None:
    order = await stack.services.orders.reserve(acct(7), JAZZ, {"EARLY": 1}, buyer())
    stack.clock.advance(minutes=27, seconds=40)
    await stack.services.payments.payment_link(order.id, acct(7))
    request = stack.sim.transaction(order.id).request_body
    assert request["expiry"]["duration"] == 5 and snap_end(request) >= order.expires_at
    other = await stack.services.orders.reserve(acct(8), JAZZ, {"EARLY": 1}, buyer())
    stack.clock.advance(minutes=29, seconds=30)
    with pytest.raises(ReservationOver):  # under a minute left: no link, the hold is about to end
        await stack.services.payments.payment_link(other.id, acct(8))


async def test_no_link_for_an_order_that_is_no_longer_pending(stack: PaymentStack) -> None:
    order = await stack.services.orders.reserve(acct(7), JAZZ, {"EARLY": 1}, buyer())
    await stack.services.orders.cancel(order.id, acct(7))
    with pytest.raises(OrderNotPending):
        await stack.services.payments.payment_link(order.id, acct(7))


async def test_midtrans_down_while_making_the_link_keeps_the_reservation(
    store: Store, settings: Settings, clock: FakeClock,
) -> None:
    async with payment_stack(store, settings, clock, gateway_timeout=0.5) as down:
        order = await down.services.orders.reserve(acct(7), JAZZ, {"EARLY": 2}, buyer())
        await down.sim.stop()  # Midtrans unreachable: connection refused on every attempt
        with pytest.raises(PaymentLinkUnavailable):
            await down.services.payments.payment_link(order.id, acct(7))
        stored = await down.services.orders.get(order.id)
        assert stored.status == OrderStatus.PENDING and "redirect_url" not in stored.payment
        assert (await down.services.store.inventory.get(f"{JAZZ}:EARLY")).pending == 2
        await assert_invariant(down.services)


async def test_a_lost_snap_answer_is_retried_under_a_new_midtrans_order_id(stack: PaymentStack) -> None:
    order = await stack.services.orders.reserve(acct(7), JAZZ, {"EARLY": 1}, buyer())
    # an earlier attempt reached Midtrans but its answer was lost: the order id is used up there
    await stack.services.payments._gateway.create_transaction({  # noqa: SLF001
        "transaction_details": {"order_id": order.id, "gross_amount": order.total}})
    link = await stack.services.payments.payment_link(order.id, acct(7))
    midtrans_id = (await stack.services.orders.get(order.id)).payment["midtrans_order_id"]
    assert midtrans_id == f"{order.id}~2" and link.redirect_url
    await stack.sim.simulate_payment(midtrans_id, "pay", payment_type="gopay")
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.PAID


# ---- happy paths -------------------------------------------------------------------------------------------------

async def test_bank_transfer_pending_then_settlement(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    outcome = await stack.sim.simulate_payment(order.id, "pay", payment_type="bank_transfer")
    assert [d.http_status for d in outcome.deliveries] == [200, 200]
    await stack.settle()
    paid = await stack.services.orders.get(order.id)
    assert paid.status == OrderStatus.PAID and paid.payment["payment_type"] == "bank_transfer"
    assert paid.payment["instructions"]["va_numbers"]
    assert len(await stack.services.tickets.for_order(order.id)) == 2
    pending_notice = stack.notifier.sent(Message.PAYMENT_PENDING)
    assert len(pending_notice) == 1 and pending_notice[0].order.payment["instructions"]["va_numbers"]
    [receipt] = stack.notifier.sent(Message.PAID)
    assert len(receipt.tickets) == 2
    assert len(stack.notifier.sent(Message.SALE)) == 1
    assert await log_outcomes(stack, order.id) == ["still_pending", "paid"]
    log = await stack.services.store.payment_log.for_order(order.id)
    assert all(e["verified"] and json.loads(e["raw"])["order_id"] == order.id for e in log)
    assert (await stack.services.orders.get(order.id)).outbox == {}


async def test_card_capture_accepted_is_paid(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.simulate_payment(order.id, "pay", payment_type="credit_card")
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.PAID
    assert await log_outcomes(stack, order.id) == ["paid"]


async def test_free_order_needs_no_midtrans_call(stack: PaymentStack) -> None:
    order = await stack.services.orders.reserve(acct(7), "workshop-ui-bandung", {"FREE": 1}, buyer())
    assert order.status == OrderStatus.PAID
    assert await stack.services.delivery.deliver(order.id)
    assert stack.sim.transactions == {} and len(stack.notifier.sent(Message.PAID)) == 1


# ---- what must never change an order ------------------------------------------------------------------------------

async def test_forged_signature_is_refused_and_recorded(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.set_status(order.id, "settlement")
    assert await stack.sim.notify(None, order.id, sign=False) == [401]
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.PENDING
    [entry] = await stack.services.store.payment_log.for_order(order.id)
    assert entry["verified"] is False and entry["outcome"] == "forged" and entry["http_status"] == 401


async def test_body_amount_tampered_but_signed_still_follows_the_status_api(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.set_status(order.id, "settlement")
    # a replayed body claiming another status: the status API's answer decides
    assert await stack.sim.notify(None, order.id, body_overrides={"transaction_status": "deny"}) == [200]
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.PAID


async def test_amount_mismatch_never_makes_tickets_and_alerts_admins(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.set_status(order.id, "settlement", gross_amount=1_000)
    assert await stack.sim.notify(None, order.id, duplicates=2) == [200, 200]
    await stack.settle()
    flagged = await stack.services.orders.get(order.id)
    assert flagged.status == OrderStatus.PENDING and flagged.payment["amount_mismatch"] == "1000.00"
    assert await stack.services.tickets.for_order(order.id) == []
    [alert] = stack.notifier.sent(Message.AMOUNT_MISMATCH)
    assert alert.detail["reported"] == "1000.00"
    assert await log_outcomes(stack, order.id) == ["amount_mismatch", "duplicate"]


async def test_unknown_order_is_404(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.set_status(order.id, "settlement")
    overrides = {"order_id": "KRC-0000-DOESNOTEXIST"}
    assert await stack.sim.notify(None, order.id, body_overrides=overrides) == [404]


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"order_id": 5}', b""])
async def test_non_json_is_400_and_recorded(stack: PaymentStack, body: bytes) -> None:
    assert await post(stack, body) == 400
    entries = [e async for e in stack.services.store.db["payment_log"].find({})]
    assert len(entries) == 1 and entries[0]["outcome"] == "bad_request"


async def test_oversized_body_is_400(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    big = json.dumps({"order_id": order.id, "padding": "x" * 70_000}).encode()
    assert await post(stack, big) == 400
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.PENDING


# ---- idempotent and ordered -------------------------------------------------------------------------------------

async def test_ten_duplicate_settlements_make_one_set_of_tickets_and_one_message(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack, wanted={"REG": 3})
    await stack.sim.set_status(order.id, "settlement")
    answers = await asyncio.gather(*(stack.sim.notify(None, order.id) for _ in range(10)))
    assert [a for batch in answers for a in batch] == [200] * 10
    await stack.settle()
    await stack.services.delivery.deliver_due()
    assert len(await stack.services.tickets.for_order(order.id)) == 3
    assert len(stack.notifier.sent(Message.PAID)) == 1 and len(stack.notifier.sent(Message.SALE)) == 1
    assert sorted(await log_outcomes(stack, order.id)) == ["duplicate"] * 9 + ["paid"]


async def test_pending_after_settlement_is_ignored(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.simulate_payment(order.id, "pay", payment_type="bank_transfer")
    await stack.settle()
    told_before = len(stack.notifier.sent(Message.PAYMENT_PENDING))
    assert await stack.sim.notify_snapshot(None, order.id, 0) == [200]  # the old `pending` arrives late
    await stack.settle()
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.PAID
    assert len(stack.notifier.sent(Message.PAYMENT_PENDING)) == told_before
    assert (await log_outcomes(stack, order.id))[-1] == "duplicate"


@pytest.mark.parametrize("payment_type", ["credit_card", "bank_transfer"])
async def test_a_declined_payment_keeps_the_hold_so_the_buyer_can_try_again(stack: PaymentStack,
                                                                            payment_type: str) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.simulate_payment(order.id, "fail", payment_type=payment_type)
    await stack.settle()
    kept = await stack.services.orders.get(order.id)
    assert kept.status == OrderStatus.PENDING and kept.payment["denied_at"] == stack.clock()
    assert (await stack.services.store.inventory.get(f"{JAZZ}:EARLY")).pending == 2
    assert stack.notifier.sent(Message.FAILED) == []
    assert (await log_outcomes(stack, order.id))[-1] == "denied"
    # the buyer tries again on the same Snap page (same order id) and pays
    await stack.sim.set_status(order.id, "settlement", payment_type="gopay")
    assert await stack.sim.notify(None, order.id) == [200]
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.PAID


async def test_midtrans_expire_is_expired_not_failed(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.simulate_payment(order.id, "expire", payment_type="bank_transfer")
    await stack.settle()
    expired = await stack.services.orders.get(order.id)
    assert expired.status == OrderStatus.EXPIRED
    assert (await stack.services.store.inventory.get(f"{JAZZ}:EARLY")).available == 100
    assert len(stack.notifier.sent(Message.EXPIRED)) == 1 and stack.notifier.sent(Message.FAILED) == []
    assert await log_outcomes(stack, order.id) == ["still_pending", "expired"]


async def test_midtrans_cancel_before_payment_fails_the_order(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.set_status(order.id, "pending", payment_type="bank_transfer")
    await stack.sim.set_status(order.id, "cancel", payment_type="bank_transfer")
    assert await stack.sim.notify(None, order.id) == [200]
    await stack.settle()
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.FAILED
    assert (await stack.services.store.inventory.get(f"{JAZZ}:EARLY")).available == 100
    assert len(stack.notifier.sent(Message.FAILED)) == 1


async def test_challenge_is_held_for_review_and_admins_told(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.set_status(order.id, "capture", payment_type="credit_card", fraud_status="challenge")
    assert await stack.sim.notify(None, order.id, duplicates=2) == [200, 200]
    await stack.settle()
    held = await stack.services.orders.get(order.id)
    assert held.status == OrderStatus.PENDING and held.payment["review"] is True
    assert len(stack.notifier.sent(Message.PAYMENT_REVIEW)) == 1
    assert await stack.services.tickets.for_order(order.id) == []
    await stack.sim.set_status(order.id, "capture", payment_type="credit_card", fraud_status="accept")
    await stack.sim.notify(None, order.id)
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.PAID


async def test_refund_voids_tickets_and_returns_seats(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.simulate_payment(order.id, "pay", payment_type="gopay")
    await stack.sim.set_status(order.id, "refund")
    assert await stack.sim.notify(None, order.id) == [200]
    await stack.settle()
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.REFUNDED
    assert {t.status for t in await stack.services.tickets.for_order(order.id)} == {TicketStatus.VOID}
    assert (await stack.services.store.inventory.get(f"{JAZZ}:EARLY")).available == 100
    assert len(stack.notifier.sent(Message.REFUNDED)) == 1


async def test_settlement_after_expiry_with_seats_left_is_paid_late(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    stack.clock.advance(minutes=31)
    await stack.services.orders.expire_due()
    await stack.sim.set_status(order.id, "settlement", payment_type="bank_transfer")
    assert await stack.sim.notify(None, order.id) == [200]
    await stack.settle()
    paid = await stack.services.orders.get(order.id)
    assert paid.status == OrderStatus.PAID and "late payment" in paid.history[-1].note
    assert len(await stack.services.tickets.for_order(order.id)) == 2
    assert await log_outcomes(stack, order.id) == ["paid_late"]


async def test_settlement_after_expiry_without_seats_needs_refund(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack, wanted={"VIP": 2})
    stack.clock.advance(minutes=31)
    await stack.services.orders.expire_due()
    for user in range(25):
        await stack.services.orders.reserve(acct(100 + user), JAZZ, {"VIP": 2}, buyer())
    await stack.sim.set_status(order.id, "settlement", payment_type="bank_transfer")
    assert await stack.sim.notify(None, order.id) == [200]
    await stack.settle()
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.NEEDS_REFUND
    [alert] = stack.notifier.sent(Message.NEEDS_REFUND)
    assert alert.detail == {"tier": "VIP"} and alert.admin_ids
    assert await stack.services.tickets.for_order(order.id) == []


# ---- failures of what we depend on ------------------------------------------------------------------------------

async def test_database_down_answers_503_and_the_retry_succeeds(
    stack: PaymentStack, monkeypatch: pytest.MonkeyPatch,
) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.set_status(order.id, "settlement")
    real_get = OrderStore.get

    async def unavailable(self: OrderStore, order_id: str) -> None:
        raise ServerSelectionTimeoutError("no servers available")

    monkeypatch.setattr(OrderStore, "get", unavailable)
    assert await stack.sim.notify(None, order.id) == [503]
    monkeypatch.setattr(OrderStore, "get", real_get)
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.PENDING
    assert await stack.sim.notify(None, order.id) == [200]  # Midtrans's retry
    await stack.settle()
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.PAID
    assert len(await stack.services.tickets.for_order(order.id)) == 2
    assert len(stack.notifier.sent(Message.PAID)) == 1


async def test_status_api_down_answers_503(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.set_status(order.id, "settlement")
    body = stack.sim.status_body(order.id)
    await stack.sim.stop()
    assert await post(stack, json.dumps(body).encode()) == 503
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.PENDING


async def test_failed_delivery_is_recorded_and_retried_until_it_succeeds(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    stack.notifier.failures_left = 3
    await stack.sim.simulate_payment(order.id, "pay", payment_type="credit_card")
    await stack.settle()
    owed = await stack.services.orders.get(order.id)
    assert owed.status == OrderStatus.PAID and set(owed.outbox) == {"paid", "sale"}
    assert owed.outbox["paid"].attempts == 1 and "unreachable" in owed.outbox["paid"].last_error
    assert await stack.services.delivery.deliver_due() == 0  # not due yet: backing off
    for _ in range(5):
        stack.clock.advance(minutes=10)
        await stack.services.delivery.deliver_due()
    delivered = await stack.services.orders.get(order.id)
    assert delivered.outbox == {} and delivered.notify_due_at is None and set(delivered.sent) == {"paid", "sale"}
    assert len(stack.notifier.sent(Message.PAID)) == 1


async def test_a_message_owed_during_a_slow_delivery_is_sent_once_after_it(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    stack.notifier.slow[Message.PAYMENT_PENDING] = 0.3  # e.g. a flood wait while sending the VA number
    await stack.sim.simulate_payment(order.id, "pay", payment_type="bank_transfer")
    await stack.settle()
    await stack.services.delivery.deliver_due()
    assert [n.message for n in stack.notifier.notices] == [Message.PAYMENT_PENDING, Message.PAID, Message.SALE]
    done = await stack.services.orders.get(order.id)
    assert done.outbox == {} and done.notify_due_at is None and done.delivery_lease_until is None


async def test_instructions_not_yet_sent_when_the_payment_lands_are_dropped(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    stack.notifier.failures_left = 1  # the VA instructions fail once, then the settlement arrives
    await stack.sim.simulate_payment(order.id, "pay", payment_type="bank_transfer")
    await stack.settle()
    stack.clock.advance(minutes=1)
    await stack.services.delivery.deliver_due()
    assert [n.message for n in stack.notifier.notices] == [Message.PAID, Message.SALE]
    assert "payment_pending" in (await stack.services.orders.get(order.id)).sent


async def test_blocked_buyer_is_given_up_on_but_keeps_the_tickets(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    stack.notifier.blocked.add(acct(7))
    await stack.sim.simulate_payment(order.id, "pay", payment_type="credit_card")
    await stack.settle()
    done = await stack.services.orders.get(order.id)
    assert done.outbox == {} and len(stack.notifier.sent(Message.SALE)) == 1
    assert len(await stack.services.tickets.for_user(acct(7))) == 2


async def test_health_and_readiness(stack: PaymentStack, monkeypatch: pytest.MonkeyPatch) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(stack.base_url + "/healthz") as response:
            assert response.status == 200
        async with session.get(stack.base_url + "/readyz") as response:
            assert response.status == 200

        async def no_ping(self: Store) -> bool:
            return False

        monkeypatch.setattr(Store, "ping", no_ping)
        async with session.get(stack.base_url + "/readyz") as response:
            assert response.status == 503
