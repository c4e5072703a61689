"""Repairing what a crash can leave behind: stock counters, missing tickets and per-user pending counters are
recomputed from the orders, which are the record of truth.

Every change is two writes (the order's status, then the stock), so a process that dies between them leaves a
tier's counters off by that order. `reconcile()` recomputes each tier from the orders (pending = Σ seats of
pending orders, sold = Σ seats of paid orders, available = capacity − pending − sold) and writes the result with
a compare-and-set on the counters it read, so a tier that moved meanwhile is left for the next run. With
`settle_seconds` it reads twice and only repairs drift that stayed the same, so a change still in flight in
another process is never mistaken for a crash.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from bot.tickets import TicketService
from storage.documents import OrderStatus, RefundState, TierDoc, VoidReason
from storage.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TierRepair:
    tier_id: str
    before: tuple[int, int, int]  # available, pending, sold
    after: tuple[int, int, int]


@dataclass
class ReconcileReport:
    tiers: list[TierRepair] = field(default_factory=list)
    tickets_issued: dict[str, int] = field(default_factory=dict)
    tickets_voided: dict[str, int] = field(default_factory=dict)
    users: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.tiers or self.tickets_issued or self.tickets_voided or self.users)

    def lines(self) -> list[str]:
        out = [f"tier {r.tier_id}: available/pending/sold {r.before} → {r.after}" for r in self.tiers]
        out += [f"order {o}: issued {n} missing ticket(s)" for o, n in self.tickets_issued.items()]
        out += [f"order {o}: voided {n} ticket(s) of a refunded order" for o, n in self.tickets_voided.items()]
        out += [f"user {u}: pending orders {a} → {b}" for u, (a, b) in self.users.items()]
        return out


async def _stock_drift(store: Store) -> dict[str, tuple[TierDoc, tuple[int, int, int]]]:
    tiers = await store.inventory.all()
    seats = await store.orders.seats_by_tier([OrderStatus.PENDING, OrderStatus.PAID])
    returned = await store.orders.returned_by_tier([OrderStatus.PAID])  # partial refunds (docs/money.md)
    drift = {}
    for tier in tiers:
        pending = seats.get((tier.event_id, tier.code, OrderStatus.PENDING.value), 0)
        sold = seats.get((tier.event_id, tier.code, OrderStatus.PAID.value), 0) - returned.get(
            (tier.event_id, tier.code), 0)
        expected = (tier.capacity - pending - sold, pending, sold)
        if expected != (tier.available, tier.pending, tier.sold):
            drift[tier.id] = (tier, expected)
    return drift


async def _void_refunded_tickets(store: Store, report: ReconcileReport) -> None:
    """Tickets a finished partial refund named (or admins assigned to one) are void, even if a crash came
    between the order's update and the tickets' (docs/money.md)."""
    for order in await store.orders.with_refunds([OrderStatus.PAID]):
        codes = [c for r in order.refunds.values() if r.status != RefundState.REQUESTED for c in r.tickets]
        if codes and (voided := await store.tickets.void_codes(order.id, codes, reason=VoidReason.REFUNDED,
                                                              at=order.updated_at)):
            report.tickets_voided[order.id] = voided


async def reconcile(store: Store, tickets: TicketService, *, settle_seconds: float = 0.0) -> ReconcileReport:
    """Recompute stock, tickets and pending counters from the orders; repair and report every difference."""
    report = ReconcileReport()
    drift = await _stock_drift(store)
    if drift and settle_seconds > 0:
        await asyncio.sleep(settle_seconds)
        again = await _stock_drift(store)
        drift = {k: v for k, v in again.items() if k in drift and drift[k] == v}
    for tier, (available, pending, sold) in drift.values():
        if available < 0:
            log.error("tier %s has more seats pending and sold than its capacity", tier.id)
        if await store.inventory.repair(tier, available=available, pending=pending, sold=sold):
            report.tiers.append(TierRepair(tier.id, (tier.available, tier.pending, tier.sold),
                                           (available, pending, sold)))

    paid = await store.orders.with_status([OrderStatus.PAID])
    counts = await store.tickets.valid_count_by_order([o.id for o in paid])
    for order in paid:
        if counts.get(order.id, 0) < order.seats - sum(r.qty for r in order.returned):
            issued = await tickets.issue(order)
            report.tickets_issued[order.id] = len(issued) - counts.get(order.id, 0)
    for order in await store.orders.with_status([OrderStatus.REFUNDED, OrderStatus.REVERSED]):
        voided = await store.tickets.void_order(order.id)
        if voided:
            report.tickets_voided[order.id] = voided
    await _void_refunded_tickets(store, report)

    actual = await store.orders.pending_count_by_user()
    for user_id, counted in (await store.users.pending_counts()).items():
        if counted != actual.get(user_id, 0):
            await store.users.set_pending_count(user_id, actual.get(user_id, 0))
            report.users[user_id] = (counted, actual.get(user_id, 0))

    for line in report.lines():
        log.warning("reconcile: %s", line)
    return report
