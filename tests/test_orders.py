"""The order lifecycle: reservations, refusals, and every move out of pending."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import OrderNotFound, OrderNotPending, RefusalReason, ReservationRefused
from bot.orders import PayResult
from bot.services import Services
from storage.documents import OrderStatus, TicketStatus
from tests.conftest import FakeClock
from tests.helpers import acct, assert_invariant, buyer

JAZZ = "jazz-senja-2026"
WORKSHOP = "workshop-ui-bandung"


async def tier(services: Services, event: str, code: str):
    return await services.store.inventory.get(f"{event}:{code}")


async def test_reserve_holds_stock_and_creates_a_pending_order(services: Services, clock: FakeClock) -> None:
    order = await services.orders.reserve(acct(7), JAZZ, {"EARLY": 2, "VIP": 1}, buyer())
    assert order.status == OrderStatus.PENDING
    assert order.total == 2 * 150_000 + 750_000 and order.seats == 3
    assert order.expires_at == clock.now + timedelta(minutes=30)
    assert len(order.id) <= 50
    early = await tier(services, JAZZ, "EARLY")
    assert (early.available, early.pending, early.sold) == (98, 2, 0)
    stored = await services.orders.get(order.id)
    assert stored.buyer.name == "Sinta Maharani" and [line.tier for line in stored.lines] == ["EARLY", "VIP"]
    await assert_invariant(services)


@pytest.mark.parametrize(("event", "wanted", "reason", "tier_code"), [
    ("no-such-event", {"REG": 1}, RefusalReason.UNKNOWN_EVENT, None),
    (JAZZ, {"BALCONY": 1}, RefusalReason.UNKNOWN_TIER, "BALCONY"),
    (JAZZ, {"EARLY": 5}, RefusalReason.OVER_MAX_PER_ORDER, "EARLY"),
    (JAZZ, {"EARLY": -1}, RefusalReason.OVER_MAX_PER_ORDER, "EARLY"),
    (JAZZ, {}, RefusalReason.EMPTY_ORDER, None),
    (JAZZ, {"VIP": 0}, RefusalReason.EMPTY_ORDER, None),
])
async def test_refusals_name_the_reason_and_hold_nothing(
    services: Services, event: str, wanted: dict, reason: RefusalReason, tier_code: str | None,
) -> None:
    with pytest.raises(ReservationRefused) as caught:
        await services.orders.reserve(acct(7), event, wanted, buyer())
    assert caught.value.reason == reason and caught.value.tier == tier_code
    assert await services.orders.pending_for_user(acct(7)) == []
    await assert_invariant(services)


async def test_sales_not_open_before_the_window_and_closed_after_it(services: Services, clock: FakeClock) -> None:
    clock.now = datetime(2026, 10, 1, tzinfo=UTC)
    with pytest.raises(ReservationRefused) as caught:
        await services.orders.reserve(acct(7), JAZZ, {"REG": 1}, buyer())
    assert caught.value.reason == RefusalReason.SALES_NOT_OPEN
    clock.now = datetime(2026, 12, 31, 14, 30, tzinfo=UTC)  # 21:30 WIB, sales closed at 21:00
    with pytest.raises(ReservationRefused) as caught:
        await services.orders.reserve(acct(7), JAZZ, {"REG": 1}, buyer())
    assert caught.value.reason == RefusalReason.SALES_CLOSED


async def test_sold_out_tier_releases_the_tiers_already_held(services: Services) -> None:
    for user in range(25):
        await services.orders.reserve(acct(100 + user), JAZZ, {"VIP": 2}, buyer())
    with pytest.raises(ReservationRefused) as caught:
        await services.orders.reserve(acct(7), JAZZ, {"EARLY": 2, "REG": 3, "VIP": 1}, buyer())
    assert caught.value.reason == RefusalReason.SOLD_OUT and caught.value.tier == "VIP"
    assert caught.value.available == 0
    assert (await tier(services, JAZZ, "EARLY")).available == 100
    assert (await tier(services, JAZZ, "REG")).available == 400
    assert await services.orders.pending_for_user(acct(7)) == []
    # a refusal does not use up the buyer's limits
    for _ in range(3):
        await services.orders.reserve(acct(7), JAZZ, {"EARLY": 1}, buyer())
    await assert_invariant(services)


async def test_at_most_three_pending_orders_per_buyer(services: Services) -> None:
    orders = [await services.orders.reserve(acct(7), JAZZ, {"REG": 1}, buyer()) for _ in range(3)]
    with pytest.raises(ReservationRefused) as caught:
        await services.orders.reserve(acct(7), JAZZ, {"REG": 1}, buyer())
    assert caught.value.reason == RefusalReason.TOO_MANY_PENDING and caught.value.limit == 3
    await services.orders.cancel(orders[0].id, acct(7))
    await services.orders.reserve(acct(7), JAZZ, {"REG": 1}, buyer())
    await assert_invariant(services)


async def test_at_most_five_reservations_per_buyer_per_minute(services: Services, clock: FakeClock) -> None:
    for _ in range(5):
        order = await services.orders.reserve(acct(7), JAZZ, {"REG": 1}, buyer())
        await services.orders.cancel(order.id, acct(7))
        clock.advance(seconds=5)
    with pytest.raises(ReservationRefused) as caught:
        await services.orders.reserve(acct(7), JAZZ, {"REG": 1}, buyer())
    assert caught.value.reason == RefusalReason.RATE_LIMITED
    clock.advance(seconds=40)  # the first of the five is now over a minute old
    await services.orders.reserve(acct(7), JAZZ, {"REG": 1}, buyer())
    await assert_invariant(services)


async def test_free_orders_are_paid_with_tickets_at_once(services: Services) -> None:
    order = await services.orders.reserve(acct(7), WORKSHOP, {"FREE": 1}, buyer())
    assert order.status == OrderStatus.PAID
    tickets = await services.tickets.for_order(order.id)
    assert len(tickets) == 1 and tickets[0].tier == "FREE"
    free = await tier(services, WORKSHOP, "FREE")
    assert (free.available, free.pending, free.sold) == (29, 0, 1)
    assert await services.orders.pending_for_user(acct(7)) == []
    await assert_invariant(services)


async def test_pay_sells_the_seats_and_issues_one_ticket_per_seat(services: Services) -> None:
    order = await services.orders.reserve(acct(7), JAZZ, {"EARLY": 2, "REG": 1}, buyer())
    outcome = await services.orders.pay(order.id)
    assert outcome.result == PayResult.PAID and outcome.order.status == OrderStatus.PAID
    assert [t.tier for t in outcome.tickets] == ["EARLY", "EARLY", "REG"]
    again = await services.orders.pay(order.id)
    assert again.result == PayResult.ALREADY_PAID
    assert [t.id for t in again.tickets] == [t.id for t in outcome.tickets]
    assert (await tier(services, JAZZ, "EARLY")).sold == 2
    await assert_invariant(services)


async def test_duplicate_payments_racing_make_one_set_of_tickets(services: Services) -> None:
    order = await services.orders.reserve(acct(7), JAZZ, {"REG": 4}, buyer())
    outcomes = await asyncio.gather(*(services.orders.pay(order.id) for _ in range(10)))
    assert [o.result for o in outcomes].count(PayResult.PAID) == 1
    assert len(await services.tickets.for_order(order.id)) == 4
    await assert_invariant(services)


async def test_cancel_releases_and_only_the_owner_may_cancel(services: Services) -> None:
    order = await services.orders.reserve(acct(7), JAZZ, {"VIP": 2}, buyer())
    with pytest.raises(OrderNotFound):
        await services.orders.cancel(order.id, acct(8))
    cancelled = await services.orders.cancel(order.id, acct(7))
    assert cancelled.status == OrderStatus.CANCELLED
    assert (await tier(services, JAZZ, "VIP")).available == 50
    with pytest.raises(OrderNotPending) as caught:
        await services.orders.cancel(order.id, acct(7))
    assert caught.value.status == OrderStatus.CANCELLED
    await assert_invariant(services)


async def test_expire_due_reports_per_event_and_only_touches_due_orders(
    services: Services, clock: FakeClock,
) -> None:
    old = [await services.orders.reserve(acct(u), JAZZ, {"REG": 2}, buyer()) for u in (1, 2)]
    old.append(await services.orders.reserve(acct(3), WORKSHOP, {"PRO": 3}, buyer()))
    clock.advance(minutes=20)
    fresh = await services.orders.reserve(acct(4), JAZZ, {"REG": 1}, buyer())
    clock.advance(minutes=11)
    report = await services.orders.expire_due()
    assert sorted(o.id for o in report.orders) == sorted(o.id for o in old)
    assert report.seats == 7
    assert {k: (v.orders, v.seats) for k, v in report.per_event.items()} == {JAZZ: (2, 4), WORKSHOP: (1, 3)}
    assert (await services.orders.get(fresh.id)).status == OrderStatus.PENDING
    assert (await services.orders.expire_due()).orders == []
    await assert_invariant(services)


async def test_expiry_from_several_processes_expires_each_order_once(services: Services, clock: FakeClock) -> None:
    for user in range(30):
        await services.orders.reserve(acct(user), JAZZ, {"REG": 1}, buyer())
    clock.advance(minutes=31)
    reports = await asyncio.gather(*(services.orders.expire_due() for _ in range(4)))
    assert sum(len(r.orders) for r in reports) == 30
    assert (await tier(services, JAZZ, "REG")).available == 400
    await assert_invariant(services)


async def test_cancel_expire_and_pay_racing_have_one_winner(services: Services, clock: FakeClock) -> None:
    order = await services.orders.reserve(acct(7), JAZZ, {"VIP": 2}, buyer())
    clock.advance(minutes=31)
    results = await asyncio.gather(
        services.orders.cancel(order.id, acct(7)), services.orders.expire_due(), services.orders.pay(order.id),
        return_exceptions=True,
    )
    final = await services.orders.get(order.id)
    winner = final.history[0].status  # the one change out of pending
    assert winner in {OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.PAID}
    cancel_result, expiry_report, pay_outcome = results
    assert (winner == OrderStatus.CANCELLED) == (not isinstance(cancel_result, Exception))
    assert isinstance(cancel_result, (OrderNotPending, type(final)))
    assert len(expiry_report.orders) == (1 if winner == OrderStatus.EXPIRED else 0)
    assert pay_outcome.result == (PayResult.PAID if winner == OrderStatus.PAID else PayResult.PAID_LATE)
    await assert_invariant(services)


async def test_late_payment_holds_the_seats_again_when_free(services: Services, clock: FakeClock) -> None:
    order = await services.orders.reserve(acct(7), JAZZ, {"VIP": 2}, buyer())
    clock.advance(minutes=31)
    await services.orders.expire_due()
    outcome = await services.orders.pay(order.id)
    assert outcome.result == PayResult.PAID_LATE and outcome.order.status == OrderStatus.PAID
    assert "late payment" in outcome.order.history[-1].note
    assert len(outcome.tickets) == 2
    vip = await tier(services, JAZZ, "VIP")
    assert (vip.available, vip.pending, vip.sold) == (48, 0, 2)
    await assert_invariant(services)


async def test_late_payment_without_seats_needs_a_refund(services: Services, clock: FakeClock) -> None:
    order = await services.orders.reserve(acct(7), JAZZ, {"EARLY": 1, "VIP": 2}, buyer())
    clock.advance(minutes=31)
    await services.orders.expire_due()
    for user in range(25):
        await services.orders.reserve(acct(100 + user), JAZZ, {"VIP": 2}, buyer())
    outcome = await services.orders.pay(order.id)
    assert outcome.result == PayResult.NEEDS_REFUND and outcome.short_tier == "VIP"
    assert outcome.order.status == OrderStatus.NEEDS_REFUND and outcome.tickets == []
    assert (await tier(services, JAZZ, "EARLY")).available == 100  # the EARLY seat it took went back
    assert (await services.orders.pay(order.id)).result == PayResult.NOT_PAYABLE
    refunded = await services.orders.refund(order.id)
    assert refunded.status == OrderStatus.REFUNDED
    await assert_invariant(services)


async def test_refund_returns_the_seats_and_voids_the_tickets(services: Services) -> None:
    order = await services.orders.reserve(acct(7), JAZZ, {"REG": 2}, buyer())
    paid = await services.orders.pay(order.id)
    refunded = await services.orders.refund(order.id)
    assert refunded.status == OrderStatus.REFUNDED
    assert all(t.status == TicketStatus.VOID for t in await services.tickets.for_order(order.id))
    assert (await tier(services, JAZZ, "REG")).available == 400
    assert await services.orders.refund(order.id) is None
    assert (await services.orders.pay(order.id)).result == PayResult.NOT_PAYABLE
    assert paid.tickets
    await assert_invariant(services)


async def test_failed_payment_releases_and_a_later_success_is_late_paid(services: Services) -> None:
    order = await services.orders.reserve(acct(7), JAZZ, {"REG": 2}, buyer())
    failed = await services.orders.fail(order.id, note="deny")
    assert failed.status == OrderStatus.FAILED
    assert await services.orders.fail(order.id, note="deny") is None
    assert (await services.orders.pay(order.id)).result == PayResult.PAID_LATE
    await assert_invariant(services)


async def test_unknown_order_cannot_be_paid(services: Services) -> None:
    with pytest.raises(OrderNotFound):
        await services.orders.pay("KRC-0000-NOPE")


async def test_a_buyer_first_seen_through_their_details_can_still_reserve(services: Services) -> None:
    await services.store.users.remember_buyer(acct(77), buyer())
    order = await services.orders.reserve(acct(77), JAZZ, {"REG": 1}, buyer())
    assert order.status == OrderStatus.PENDING
