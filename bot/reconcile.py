"""Finishing what a crash (or a write still in flight) left half-done, exactly: stock, missing tickets and
per-user pending counters. See docs/faults.md for the rule and docs/stock-and-orders.md for the moves.

Every change is two writes (the order, then the stock). Each stock move names its order on the tier document
in the same update (`held.<order>`, `late.<order>~<nonce>`, `returned.<order>`), so a move happens at most once
per order and the tier says which orders its seats belong to. Reconcile therefore never recomputes counters
from totals that may be in flight; it finishes each order's move the order's status asks for, with the same
once-per-order update the service uses, so whichever of the two lands first wins and the other changes nothing:

- a hold whose order is paid (or was paid, then refunded) → commit; not pending and never paid → release;
  whose order does not exist (a hold that landed after its reservation gave up) → release;
- an order refunded after being paid whose tier has no `returned` entry → unsell;
- a late payment's sale whose order is paid → settle; not paid and older than LATE_GRACE → undo (a late
  payment sells before its order turns paid, so a young entry is a payment in flight and is left alone);
- pending ≠ Σ held (never written by Karcis itself) → pending := Σ held, compare-and-set.

Tiers made before the ledger get it once, from the orders (the old recount), at the first reconcile.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.clock import Clock, as_utc, utcnow
from bot.tickets import TicketService
from storage.documents import OrderDoc, OrderStatus, RefundState, TierDoc, VoidReason
from storage.inventory import TierLedger, order_of_attempt
from storage.store import Store

log = logging.getLogger(__name__)

# A late payment's sale older than this, whose order is still not paid, is a crash, not a payment in flight:
# far longer than any MongoDB call may take (storage/store.py timeouts are seconds).
LATE_GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class TierRepair:
    tier_id: str
    before: tuple[int, int, int]  # available, pending, sold
    after: tuple[int, int, int]


@dataclass
class ReconcileReport:
    tiers: list[TierRepair] = field(default_factory=list)
    moves: list[str] = field(default_factory=list)
    tickets_issued: dict[str, int] = field(default_factory=dict)
    tickets_voided: dict[str, int] = field(default_factory=dict)
    users: dict[str, tuple[int, int]] = field(default_factory=dict)
    sold_mismatch: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.tiers or self.tickets_issued or self.tickets_voided or self.users)

    def lines(self) -> list[str]:
        out = [f"tier {r.tier_id}: available/pending/sold {r.before} → {r.after}" for r in self.tiers]
        out += self.moves
        out += [f"order {o}: issued {n} missing ticket(s)" for o, n in self.tickets_issued.items()]
        out += [f"order {o}: voided {n} ticket(s) of a refunded order" for o, n in self.tickets_voided.items()]
        out += [f"user {u}: pending orders {a} → {b}" for u, (a, b) in self.users.items()]
        return out


def _counters(tier: TierDoc) -> tuple[int, int, int]:
    return tier.available, tier.pending, tier.sold


def _was_paid(order: OrderDoc) -> bool:
    return order.status == OrderStatus.PAID or any(h.status == OrderStatus.PAID for h in order.history)


# Orders whose seats, if they were sold, have all gone back to stock.
GIVEN_BACK = (OrderStatus.REFUNDED, OrderStatus.REVERSED)


def returned_seats(order: OrderDoc) -> dict[str, int]:
    """Seats per tier the order has given back to stock by refunds (what `returned.<order>` must say): all of
    them once refunded or reversed after being paid; while paid, those partial refunds returned."""
    if order.status in GIVEN_BACK and _was_paid(order):
        out: dict[str, int] = {}
        for line in order.lines:
            out[line.tier] = out.get(line.tier, 0) + line.qty
        return out
    if order.status == OrderStatus.PAID:
        back: dict[str, int] = {}
        for seats in order.returned:
            back[seats.tier] = back.get(seats.tier, 0) + seats.qty
        return back
    return {}


async def _start_ledgers(store: Store, ledgers: list[TierLedger], report: ReconcileReport) -> None:
    """Tiers from before the ledger: their held/returned maps and counters, from the orders."""
    legacy = [ledger for ledger in ledgers if not ledger.has_ledger]
    if not legacy:
        return
    pending_orders = await store.orders.with_status([OrderStatus.PENDING])
    paid_orders = await store.orders.with_status([OrderStatus.PAID])
    given_back = await store.orders.with_status([OrderStatus.PAID, *GIVEN_BACK])
    for ledger in legacy:
        tier = ledger.tier

        def seats(orders: list[OrderDoc], tier: TierDoc = tier) -> dict[str, int]:
            return {o.id: sum(line.qty for line in o.lines if line.tier == tier.code)
                    for o in orders if o.event_id == tier.event_id and any(line.tier == tier.code for line in o.lines)}

        returned = {o.id: n for o in given_back if o.event_id == tier.event_id
                    and (n := returned_seats(o).get(tier.code, 0)) > 0}
        held = seats(pending_orders)
        paid_ids = {p.id for p in paid_orders}
        sold = sum(seats(paid_orders).values()) - sum(n for o, n in returned.items() if o in paid_ids)
        pending = sum(held.values())
        if await store.inventory.start_ledger(tier, held, returned, pending=pending, sold=sold):
            after = (tier.capacity - pending - sold, pending, sold)
            if after != _counters(tier):
                report.tiers.append(TierRepair(tier.id, _counters(tier), after))


async def _finish_moves(store: Store, ledgers: list[TierLedger], now: datetime, report: ReconcileReport) -> set[str]:
    """Finish every order's stock move the order's status asks for; the tier ids touched."""
    wanted = {key for ledger in ledgers for key in ledger.held}
    wanted |= {order_of_attempt(key) for ledger in ledgers for key in ledger.late}
    orders = await store.orders.get_many(wanted)
    inventory = store.inventory
    touched: set[str] = set()

    async def did(moved: bool, tier_id: str, what: str) -> None:
        if moved:
            touched.add(tier_id)
            report.moves.append(what)

    for ledger in ledgers:
        tier = ledger.tier
        for order_id, qty in ledger.held.items():
            order = orders.get(order_id)
            if order is not None and order.status == OrderStatus.PENDING:
                continue
            if order is not None and _was_paid(order):
                await did(await inventory.commit(tier.id, qty, order_id), tier.id,
                          f"order {order_id}: committed its {qty} held seat(s) on {tier.id} ({order.status})")
            else:
                state = order.status if order else "no such order"
                await did(await inventory.release(tier.id, qty, order_id), tier.id,
                          f"order {order_id}: released its {qty} held seat(s) on {tier.id} ({state})")
        for attempt, (qty, at) in ledger.late.items():
            order = orders.get(order_of_attempt(attempt))
            if order is not None and order.status == OrderStatus.PAID:
                await inventory.settle_late(tier.id, attempt)
            elif at is None or as_utc(at) <= now - LATE_GRACE:
                await did(await inventory.unsell_late(tier.id, qty, attempt), tier.id,
                          f"late payment {attempt}: undid its sale of {qty} seat(s) on {tier.id} (order not paid)")

    by_tier = {ledger.tier.id: ledger for ledger in ledgers}
    for order in await store.orders.with_status([OrderStatus.PAID, *GIVEN_BACK]):
        for code, expected in returned_seats(order).items():
            ledger = by_tier.get(f"{order.event_id}:{code}")
            if ledger is None or order.id in ledger.held:
                continue
            actual = ledger.returned.get(order.id, 0)
            if expected > actual:
                await did(await inventory.unsell(ledger.tier.id, expected - actual, order.id, before=actual),
                          ledger.tier.id, f"order {order.id}: returned {expected - actual} refunded seat(s) on "
                          f"{ledger.tier.id} ({order.status})")
    return touched


async def _check_counters(store: Store, report: ReconcileReport) -> None:
    """pending must be Σ held (same document: exact); sold is compared with the paid orders and only reported
    (a payment between the two reads shows as a difference that is not one)."""
    ledgers = await store.inventory.ledgers()
    seats = await store.orders.seats_by_tier([OrderStatus.PAID])
    returned = await store.orders.returned_by_tier([OrderStatus.PAID])  # partial refunds (docs/money.md)
    for ledger in ledgers:
        tier = ledger.tier
        pending = sum(ledger.held.values())
        if ledger.has_ledger and pending != tier.pending:
            if pending + tier.sold > tier.capacity:
                log.error("tier %s: its holds and sales exceed its capacity", tier.id)
            elif await store.inventory.repair_pending(tier, pending):
                report.tiers.append(TierRepair(tier.id, _counters(tier),
                                               (tier.capacity - pending - tier.sold, pending, tier.sold)))
        late = sum(qty for qty, _ in ledger.late.values())
        expected = (seats.get((tier.event_id, tier.code, OrderStatus.PAID.value), 0)
                    - returned.get((tier.event_id, tier.code), 0))
        if tier.sold - late != expected:
            report.sold_mismatch[tier.id] = (tier.sold, expected)


async def _void_refunded_tickets(store: Store, report: ReconcileReport) -> None:
    """Tickets a finished partial refund named (or admins assigned to one) are void, even if a crash came
    between the order's update and the tickets' (docs/money.md)."""
    for order in await store.orders.with_refunds([OrderStatus.PAID]):
        codes = [c for r in order.refunds.values() if r.status != RefundState.REQUESTED for c in r.tickets]
        if codes and (voided := await store.tickets.void_codes(order.id, codes, reason=VoidReason.REFUNDED,
                                                              at=order.updated_at)):
            report.tickets_voided[order.id] = voided


async def _pending_counters(store: Store, settle_seconds: float, report: ReconcileReport) -> None:
    """Per-user pending counters against the pending orders; with `settle_seconds`, only a difference that
    stayed the same over two reads is repaired, and always with a compare-and-set on the counter read."""

    async def differences() -> dict[int, tuple[int, int]]:
        counted = await store.users.pending_counts()
        actual = await store.orders.pending_count_by_user()
        return {u: (n, actual.get(u, 0)) for u, n in counted.items() if n != actual.get(u, 0)}

    found = await differences()
    if found and settle_seconds > 0:
        await asyncio.sleep(settle_seconds)
        again = await differences()
        found = {u: v for u, v in again.items() if found.get(u) == v}
    for user_id, (counted, actual) in found.items():
        if await store.users.set_pending_count(user_id, actual, expected=counted):
            report.users[user_id] = (counted, actual)


async def reconcile(store: Store, tickets: TicketService, *, settle_seconds: float = 0.0,
                    clock: Clock = utcnow) -> ReconcileReport:
    """Finish half-done stock moves, issue missing tickets, void refunded ones, repair pending counters;
    report every change."""
    report = ReconcileReport()
    ledgers = await store.inventory.ledgers()
    await _start_ledgers(store, ledgers, report)
    if any(not ledger.has_ledger for ledger in ledgers):
        ledgers = await store.inventory.ledgers()
    before = {ledger.tier.id: _counters(ledger.tier) for ledger in ledgers}
    touched = await _finish_moves(store, ledgers, clock(), report)
    if touched:
        after = {ledger.tier.id: _counters(ledger.tier) for ledger in await store.inventory.ledgers()}
        report.tiers += [TierRepair(t, before[t], after[t]) for t in sorted(touched) if t in after]
    await _check_counters(store, report)

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

    await _pending_counters(store, settle_seconds, report)
    for line in report.lines():
        log.warning("reconcile: %s", line)
    for tier_id, (sold, expected) in report.sold_mismatch.items():
        log.info("reconcile: tier %s sold %d, paid orders %d (a change in flight, or older drift)",
                 tier_id, sold, expected)
    return report
