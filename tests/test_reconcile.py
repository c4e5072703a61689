"""Crash repair: a process that dies between an order's change and its stock move leaves drift that
reconcile() finds, reports and repairs."""

from __future__ import annotations

from bot.services import Services
from storage.documents import OrderStatus, TicketStatus
from tests.conftest import FakeClock
from tests.helpers import acct, assert_invariant, buyer


async def test_clean_state_reports_nothing(services: Services) -> None:
    order = await services.orders.reserve(acct(1), "jazz-senja-2026", {"REG": 2}, buyer())
    await services.orders.pay(order.id)
    report = await services.reconcile()
    assert not report.changed and report.lines() == []


async def test_crash_after_payment_transition_is_repaired(services: Services, clock: FakeClock) -> None:
    order = await services.orders.reserve(acct(1), "jazz-senja-2026", {"REG": 2, "VIP": 1}, buyer())
    # the process dies right after the order became paid: no stock move, no tickets, no counter update
    await services.store.orders.transition(order.id, OrderStatus.PENDING, OrderStatus.PAID, at=clock.now)
    report = await services.reconcile()
    assert sorted(r.tier_id for r in report.tiers) == ["jazz-senja-2026:REG", "jazz-senja-2026:VIP"]
    reg = next(r for r in report.tiers if r.tier_id.endswith("REG"))
    assert reg.before == (398, 2, 0) and reg.after == (398, 0, 2)
    assert report.tickets_issued == {order.id: 3}
    assert report.users == {acct(1): (1, 0)}
    await assert_invariant(services)
    assert not (await services.reconcile()).changed


async def test_crash_after_holding_stock_before_the_order_was_written(services: Services) -> None:
    await services.store.inventory.hold("jazz-senja-2026:VIP", 2)  # then the process died
    report = await services.reconcile()
    assert [(r.tier_id, r.before, r.after) for r in report.tiers] == [
        ("jazz-senja-2026:VIP", (48, 2, 0), (50, 0, 0))]
    await assert_invariant(services)


async def test_crash_after_refund_transition(services: Services, clock: FakeClock) -> None:
    order = await services.orders.reserve(acct(1), "jazz-senja-2026", {"EARLY": 1}, buyer())
    await services.orders.pay(order.id)
    await services.store.orders.transition(order.id, OrderStatus.PAID, OrderStatus.REFUNDED, at=clock.now)
    report = await services.reconcile()
    assert report.tickets_voided == {order.id: 1}
    assert [(r.before, r.after) for r in report.tiers] == [((99, 0, 1), (100, 0, 0))]
    tickets = await services.tickets.for_order(order.id)
    assert [t.status for t in tickets] == [TicketStatus.VOID]
    await assert_invariant(services)


async def test_settle_mode_repairs_drift_that_stays(services: Services) -> None:
    await services.store.inventory.hold("jazz-senja-2026:EARLY", 1)
    report = await services.reconcile(settle_seconds=0.01)
    assert [r.tier_id for r in report.tiers] == ["jazz-senja-2026:EARLY"]
    await assert_invariant(services)
