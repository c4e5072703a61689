"""The order lifecycle as a state machine: hypothesis interleaves reservations, payments (late ones included),
cancellations, failures, expiry, refunds, check-ins and simulated crashes on a tiny event (3 + 2 seats, so it
sells out all the time), predicts the outcome of every call from the state before it, and after every step
checks the stock invariant, that no counter went negative, and that each buyer's pending-order counter equals
their pending orders.

A crash is "the process died between the order's write and the stock's (or tickets', or counter's) write": the
rule makes the first write(s) directly on the store, then runs `reconcile()`, which must repair everything, so
the invariants hold between rules.

Runs on the embedded in-memory store, and (fewer examples) over TCP: MONGODB_TEST_URI, or a mongoeco server.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from bot.checkin import CheckInStatus
from bot.config import Settings
from bot.errors import OrderNotFound, OrderNotPending, RefusalReason, ReservationRefused
from bot.event_file import parse_events
from bot.orders import MAX_PENDING_ORDERS, RELEASED, RESERVATIONS_PER_MINUTE, PayResult
from bot.services import Services
from bot.tickets import deep_link, format_code
from storage.documents import OrderDoc, OrderStatus, TicketDoc, TicketStatus, tier_key
from storage.store import close_store, open_store
from tests.conftest import ADMIN_ID, ORGANISER_ID, FakeClock, make_services
from tests.helpers import acct, assert_invariant, buyer

T = TypeVar("T")

EVENT_ID = "tiny-gig"
CAPACITY = {"A": 3, "B": 2}
MAX_PER_ORDER = {"A": 3, "B": 2}
USERS = ("telegram:501", "telegram:502", "telegram:503")  # account ids
STRANGER = "telegram:504"  # neither organiser nor admin
RESERVATION = timedelta(minutes=30)

TINY_EVENT = {"events": [{
    "id": EVENT_ID,
    "title": "Tiny gig",
    "venue": "Warung Kopi Senja, Yogyakarta",
    "starts_at": datetime(2027, 2, 1, 12, 0, tzinfo=UTC),
    "ends_at": datetime(2027, 2, 1, 15, 0, tzinfo=UTC),
    "organisers": [ORGANISER_ID],
    "tiers": [{"code": code, "name": f"Tier {code}", "price": 50_000 * (i + 1), "capacity": CAPACITY[code],
               "max_per_order": MAX_PER_ORDER[code]} for i, code in enumerate(CAPACITY)],
}]}


LEFT_PENDING = (OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.FAILED)


class LifecycleMachine(RuleBasedStateMachine):
    """One event, three buyers, a hand-moved clock; owns its event loop and its store."""

    uri: str | None = None  # None: the embedded store; else a MongoDB server (a fresh database per example)

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FakeClock()
        self.store = open_store(self.uri, f"karcis_sm_{uuid.uuid4().hex[:12]}")
        try:
            self.run(self.store.ensure_indexes())
            app_settings = Settings(_env_file=None, admin_ids=frozenset({ADMIN_ID}))  # type: ignore[call-arg]
            self.services: Services = self.run(make_services(self.store, app_settings, self.clock, events=False))
            self.run(self.services.catalog.import_events(parse_events(TINY_EVENT)))
        except BaseException:
            self.teardown()
            raise
        # What the calls so far say each order's status is, and each order as reserved; both in reservation
        # order (ids are random: hypothesis must pick "the 2nd order" again when it replays a case).
        self.status: dict[str, OrderStatus] = {}
        self.orders: dict[str, OrderDoc] = {}

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        try:
            if not self.store.embedded:
                self.run(self.store.db.client.drop_database(self.store.db.name))
        finally:
            close_store(self.store)
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    # ---- reading the state ---------------------------------------------------------------------------------

    async def _tiers(self) -> dict[str, tuple[int, int, int]]:
        """available, pending, sold per tier code."""
        out = {}
        for code in CAPACITY:
            tier = await self.store.inventory.get(tier_key(EVENT_ID, code))
            assert tier is not None
            out[code] = (tier.available, tier.pending, tier.sold)
        return out

    async def _snapshot(self) -> tuple[Any, ...]:
        """Everything a refused reservation must leave alone: stock, orders, tickets, and each buyer's pending
        count and reservations in the last minute. (Not the ones before: a claim's `$slice` may push out one
        that no longer counts, and giving the claim back cannot bring it back. Nor whether the user document
        exists: the first claim creates it.)"""
        orders = sorted([raw async for raw in self.store.db["orders"].find({})], key=lambda o: o["_id"])
        tickets = sorted([raw async for raw in self.store.db["tickets"].find({})], key=lambda t: t["_id"])
        window_start = self.clock() - timedelta(minutes=1)
        users = {}
        for user_id in (*USERS, STRANGER):
            user = await self.store.users.get(acct(user_id))
            in_window = [r for r in user.recent_reservations if r.at > window_start] if user else []
            users[user_id] = (user.pending_orders if user else 0, in_window)
        return await self._tiers(), orders, tickets, users

    async def _tickets(self) -> list[TicketDoc]:
        made = list(self.orders)  # in reservation order, then seat: ticket codes are random
        tickets = [TicketDoc.model_validate(raw) async for raw in self.store.db["tickets"].find({})]
        return sorted(tickets, key=lambda t: (made.index(t.order_id), t.seq))

    def _ids(self, statuses: Sequence[OrderStatus] | None = None) -> list[str]:
        return [i for i, s in self.status.items() if statuses is None or s in statuses]

    def _pick(self, data: st.DataObject, *prefer: Sequence[OrderStatus]) -> str | None:
        """A known order: from any status, or (as often, for each that has orders) from one `prefer` group."""
        pools = [ids for ids in (self._ids(group) for group in prefer) if ids] + [self._ids()]
        if not pools[-1]:
            return None
        pool = pools[data.draw(st.integers(0, len(pools) - 1), label="pool")] if len(pools) > 1 else pools[0]
        return data.draw(st.sampled_from(pool), label="order")

    @staticmethod
    def _short(tiers: dict[str, tuple[int, int, int]], order: OrderDoc) -> str | None:
        """The first of the order's tiers without enough free seats for it, or None if they all have them."""
        return next((line.tier for line in order.lines if tiers[line.tier][0] < line.qty), None)

    # ---- rules ---------------------------------------------------------------------------------------------

    @rule(user=st.sampled_from(USERS), tiers=st.sampled_from(["A", "B", "AB"]),
          qty_a=st.integers(1, MAX_PER_ORDER["A"]), qty_b=st.integers(1, MAX_PER_ORDER["B"]),
          oddity=st.integers(0, 11), tick_ms=st.integers(0, 3000))
    def reserve(self, user: int, tiers: str, qty_a: int, qty_b: int, oddity: int, tick_ms: int) -> None:
        qty_a, qty_b = (qty_a if "A" in tiers else 0), (qty_b if "B" in tiers else 0)
        if oddity == 11:  # now and then, one seat over a tier's max_per_order
            qty_a, qty_b = (qty_a, MAX_PER_ORDER["B"] + 1) if qty_b else (MAX_PER_ORDER["A"] + 1, qty_b)
        elif oddity == 10:  # or nothing at all
            qty_a = qty_b = 0
        self._reserve(user, {"A": qty_a, "B": qty_b}, tick_ms)

    @rule(tier=st.sampled_from(sorted(CAPACITY)), tick_ms=st.integers(0, 500))
    def reserve_one_more_seat(self, tier: str, tick_ms: int) -> None:
        """One keen buyer taps "reserve" again and again: runs into the pending-order and per-minute limits."""
        self._reserve(USERS[0], {tier: 1}, tick_ms)

    def _reserve(self, user: int, quantities: dict[str, int], tick_ms: int) -> None:
        # tick_ms may be 0: two reservations of one buyer in the same millisecond (a double tap) must not get in
        # each other's way (see test_refused_reservation_keeps_the_earlier_reservation_in_the_rate_window).
        now = self.clock.advance(milliseconds=tick_ms)
        before = self.run(self._snapshot())
        stock, _, _, users = before
        pending, recent = users[user]

        wanted = {c: q for c, q in quantities.items() if q}
        expected: RefusalReason | None = None
        if not wanted:
            expected = RefusalReason.EMPTY_ORDER
        elif any(q > MAX_PER_ORDER[c] for c, q in wanted.items()):
            expected = RefusalReason.OVER_MAX_PER_ORDER
        elif pending >= MAX_PENDING_ORDERS:
            expected = RefusalReason.TOO_MANY_PENDING
        elif len(recent) >= RESERVATIONS_PER_MINUTE:  # `recent` holds only those within the last minute
            expected = RefusalReason.RATE_LIMITED
        elif any(stock[c][0] < q for c, q in wanted.items()):
            expected = RefusalReason.SOLD_OUT

        try:
            order = self.run(self.services.orders.reserve(acct(user), EVENT_ID, quantities, buyer()))
        except ReservationRefused as refused:
            event(f"reserve: {refused.reason}")
            assert refused.reason == expected, (refused, expected)
            if expected is RefusalReason.SOLD_OUT:
                assert refused.tier == next(c for c in sorted(wanted) if stock[c][0] < wanted[c])
            assert self.run(self._snapshot()) == before, "a refused reservation changed something"
            return
        event("reserve: held")
        assert expected is None, f"expected {expected}, got {order}"
        assert order.status == OrderStatus.PENDING and order.user_id == user
        assert {line.tier: line.qty for line in order.lines} == wanted
        assert order.seats == sum(wanted.values())
        assert order.expires_at == now + RESERVATION
        after = self.run(self._tiers())
        for code in CAPACITY:
            available, held, sold = stock[code]
            qty = wanted.get(code, 0)
            assert after[code] == (available - qty, held + qty, sold)
        self.status[order.id] = OrderStatus.PENDING
        self.orders[order.id] = order

    @precondition(lambda self: bool(self.status))
    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        """Money arrives for a known order: pending, already paid (a duplicate), released (late), refunded..."""
        order_id = self._pick(data, (OrderStatus.PENDING,), RELEASED)
        if order_id is None:
            return
        order, status = self.orders[order_id], self.status[order_id]
        tiers = self.run(self._tiers())
        outcome = self.run(self.services.orders.pay(order_id, note="settlement"))
        event(f"pay of {status}: {outcome.result}")
        if status == OrderStatus.PENDING:
            assert outcome.result is PayResult.PAID
        elif status == OrderStatus.PAID:
            assert outcome.result is PayResult.ALREADY_PAID
        elif status in RELEASED:
            short = self._short(tiers, order)
            if short is None:
                assert outcome.result is PayResult.PAID_LATE, outcome
            else:
                assert outcome.result is PayResult.NEEDS_REFUND, outcome
                assert outcome.short_tier == short
        else:
            assert outcome.result is PayResult.NOT_PAYABLE

        if outcome.result in (PayResult.PAID, PayResult.PAID_LATE, PayResult.ALREADY_PAID):
            assert outcome.order.status == OrderStatus.PAID
            assert len(outcome.tickets) == order.seats
            assert all(t.status == TicketStatus.VALID for t in outcome.tickets)
            self.status[order_id] = OrderStatus.PAID
        else:
            assert self.run(self._tiers()) == tiers, "a payment that sold nothing moved stock"
            if outcome.result is PayResult.NEEDS_REFUND:
                self.status[order_id] = OrderStatus.NEEDS_REFUND

    @precondition(lambda self: bool(self.status))
    @rule(data=st.data(), by_owner=st.booleans())
    def cancel(self, data: st.DataObject, by_owner: bool) -> None:
        order_id = self._pick(data, (OrderStatus.PENDING,))
        if order_id is None:
            return
        owner = self.orders[order_id].user_id
        user = owner if by_owner else next(u for u in USERS if u != owner)
        status = self.status[order_id]
        try:
            cancelled = self.run(self.services.orders.cancel(order_id, acct(user)))
        except OrderNotFound:
            event("cancel: someone else's order")
            assert not by_owner
            return
        except OrderNotPending as refused:
            event("cancel: not pending")
            assert by_owner and status != OrderStatus.PENDING
            assert refused.status == status
            return
        event("cancel: cancelled")
        assert by_owner and status == OrderStatus.PENDING
        assert cancelled.status == OrderStatus.CANCELLED
        self.status[order_id] = OrderStatus.CANCELLED

    @precondition(lambda self: bool(self.status))
    @rule(data=st.data())
    def fail(self, data: st.DataObject) -> None:
        order_id = self._pick(data, (OrderStatus.PENDING,))
        if order_id is None:
            return
        failed = self.run(self.services.orders.fail(order_id, note="deny"))
        event(f"fail of {self.status[order_id]}")
        if self.status[order_id] == OrderStatus.PENDING:
            assert failed is not None and failed.status == OrderStatus.FAILED
            self.status[order_id] = OrderStatus.FAILED
        else:
            assert failed is None

    @precondition(lambda self: OrderStatus.PENDING in self.status.values())
    @rule(minutes=st.integers(5, 45))
    def expire(self, minutes: int) -> None:
        now = self.clock.advance(minutes=minutes)
        due = {i for i in self._ids([OrderStatus.PENDING]) if self.orders[i].expires_at <= now}
        report = self.run(self.services.orders.expire_due())
        event(f"expire: {min(len(due), 2)}{'+' if len(due) > 1 else ''} order(s)")
        assert {o.id for o in report.orders} == due
        assert report.seats == sum(self.orders[i].seats for i in due)
        for order_id in due:
            self.status[order_id] = OrderStatus.EXPIRED
        assert self.run(self.services.orders.expire_due()).orders == [], "expired twice"

    @precondition(lambda self: bool(self.status))
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        order_id = self._pick(data, (OrderStatus.PAID, OrderStatus.NEEDS_REFUND))
        if order_id is None:
            return
        status = self.status[order_id]
        refunded = self.run(self.services.orders.refund(order_id))
        event(f"refund of {status}")
        if status in (OrderStatus.PAID, OrderStatus.NEEDS_REFUND):
            assert refunded is not None and refunded.status == OrderStatus.REFUNDED
            self.status[order_id] = OrderStatus.REFUNDED
            tickets = self.run(self.services.tickets.for_order(order_id))
            assert all(t.status == TicketStatus.VOID for t in tickets)
        else:
            assert refunded is None

    @precondition(lambda self: any(s in (OrderStatus.PAID, OrderStatus.REFUNDED) for s in self.status.values()))
    @rule(data=st.data(), staff=st.sampled_from([ORGANISER_ID, ADMIN_ID, STRANGER]),
          form=st.sampled_from(["code", "dashed-lower", "link"]))
    def check_in(self, data: st.DataObject, staff: int, form: str) -> None:
        tickets = self.run(self._tickets())
        if not tickets:  # only orders refunded while waiting for a refund, which never had tickets
            return
        fresh = [t for t in tickets if t.status == TicketStatus.VALID and t.checked_in_at is None]
        pool = fresh if fresh and data.draw(st.booleans(), label="fresh") else tickets
        ticket = data.draw(st.sampled_from(pool), label="ticket")
        typed = {"code": ticket.id, "dashed-lower": format_code(ticket.id).lower(),
                 "link": deep_link("KarcisBot", ticket.id)}[form]
        result = self.run(self.services.checkin.check_in(typed, acct(staff)))
        event(f"check-in: {result.status}")
        if staff == STRANGER:
            assert result.status is CheckInStatus.NOT_YOUR_EVENT
        elif ticket.status == TicketStatus.VOID:
            assert result.status is CheckInStatus.VOID
        elif ticket.checked_in_at is not None:
            assert result.status is CheckInStatus.ALREADY_CHECKED_IN
            assert result.checked_in_at == ticket.checked_in_at
        else:
            assert result.status is CheckInStatus.CHECKED_IN
            assert result.checked_in_by == acct(staff) and result.checked_in_at == self.clock()
        after = self.run(self.store.tickets.get(ticket.id))
        assert after is not None and after.status == ticket.status, "checking in voided or revived a ticket"

    @precondition(lambda self: bool(self.status))
    @rule(data=st.data(), new=st.sampled_from(LEFT_PENDING))
    def crash_then_reconcile(self, data: st.DataObject, new: OrderStatus) -> None:
        """The process dies half-way through a change; reconcile() (as at the next start) repairs it."""
        store, now = self.store, self.clock()
        kinds = ["reserve"]  # buyer's slot claimed and a seat held; the order never written
        if self._ids([OrderStatus.PENDING]):
            kinds += ["leave_pending",     # order left pending; stock, counter (and tickets) not moved
                      "after_stock_move"]  # order left pending, stock moved; counter (and tickets) not
        if self._ids([OrderStatus.PAID]):
            kinds += ["refund"]            # paid order marked refunded; seats not returned, tickets not voided
        if self._ids(RELEASED):
            kinds += ["late_pay"]          # a released order's seats sold again; the order not marked paid
        kind = data.draw(st.sampled_from(kinds), label="crash")
        drift = False

        if kind in ("leave_pending", "after_stock_move"):
            order_id = data.draw(st.sampled_from(self._ids([OrderStatus.PENDING])), label="order")
            order = self.run(store.orders.transition(order_id, OrderStatus.PENDING, new, at=now, note="crash"))
            assert order is not None
            if kind == "after_stock_move":
                move = store.inventory.commit if new == OrderStatus.PAID else store.inventory.release
                for line in order.lines:
                    assert self.run(move(tier_key(EVENT_ID, line.tier), line.qty))
            self.status[order_id] = new
            drift = True  # the buyer's pending counter, at least
        elif kind == "refund":
            order_id = data.draw(st.sampled_from(self._ids([OrderStatus.PAID])), label="order")
            refunded = self.run(store.orders.transition(order_id, OrderStatus.PAID, OrderStatus.REFUNDED, at=now))
            assert refunded is not None
            self.status[order_id] = OrderStatus.REFUNDED
            drift = True
        elif kind == "reserve":
            user = data.draw(st.sampled_from(USERS), label="user")
            code = data.draw(st.sampled_from(sorted(CAPACITY)), label="tier")
            claimed = self.run(store.users.claim_reservation_slot(
                user, now, per_minute=RESERVATIONS_PER_MINUTE, max_pending=MAX_PENDING_ORDERS))
            if claimed is None:
                self.run(store.inventory.hold(tier_key(EVENT_ID, code), 1))
                drift = True  # the claimed slot, at least
        else:  # late_pay
            order_id = data.draw(st.sampled_from(self._ids(RELEASED)), label="order")
            order = self.orders[order_id]
            if self._short(self.run(self._tiers()), order) is None:
                for line in order.lines:
                    assert self.run(store.inventory.sell_directly(tier_key(EVENT_ID, line.tier), line.qty))
                drift = True

        report = self.run(self.services.reconcile())
        event(f"crash in {kind}: {'repaired' if drift else 'nothing to repair'}")
        assert report.changed == drift, report.lines()
        if kind in ("leave_pending", "after_stock_move") and new == OrderStatus.PAID:
            assert report.tickets_issued == {order_id: self.orders[order_id].seats}
        if kind == "refund":
            assert report.tickets_voided == {order_id: self.orders[order_id].seats}
        assert not self.run(self.services.reconcile()).changed, "a second reconcile still found drift"

    # ---- invariants ----------------------------------------------------------------------------------------

    @invariant()
    def stock_and_tickets_match_the_orders(self) -> None:
        self.run(assert_invariant(self.services))

    @invariant()
    def no_counter_negative(self) -> None:
        for code, (available, pending, sold) in self.run(self._tiers()).items():
            assert min(available, pending, sold) >= 0, (code, available, pending, sold)
            assert available + pending + sold == CAPACITY[code], (code, available, pending, sold)

    @invariant()
    def pending_counters_match_pending_orders(self) -> None:
        actual = self.run(self.store.orders.pending_count_by_user())
        counted = self.run(self.store.users.pending_counts())
        for user_id in set(actual) | set(counted):
            assert counted.get(user_id, 0) == actual.get(user_id, 0), (user_id, counted, actual)
            assert actual.get(user_id, 0) <= MAX_PENDING_ORDERS

    @invariant()
    def orders_are_where_the_calls_left_them(self) -> None:
        for order_id, status in self.status.items():
            order = self.run(self.store.orders.get(order_id))
            assert order is not None and order.status == status, (order_id, status, order)
            valid = [t for t in self.run(self.services.tickets.for_order(order_id)) if t.status == TicketStatus.VALID]
            assert len(valid) == (order.seats if status == OrderStatus.PAID else 0), (order_id, status, valid)


MEMORY_SETTINGS = settings(
    max_examples=60, stateful_step_count=30, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
WIRE_SETTINGS = settings(
    max_examples=12, stateful_step_count=25, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_lifecycle_state_machine_in_memory() -> None:
    run_state_machine_as_test(LifecycleMachine, settings=MEMORY_SETTINGS)


def test_lifecycle_state_machine_over_tcp(wire_uri: str) -> None:
    """The same machine against a MongoDB server (MONGODB_TEST_URI, or mongoeco; skipped when neither exists)."""

    class WireLifecycleMachine(LifecycleMachine):
        uri = wire_uri

    run_state_machine_as_test(WireLifecycleMachine, settings=WIRE_SETTINGS)


async def test_refused_reservation_keeps_the_earlier_reservation_in_the_rate_window(
    mem_services: Services, clock: FakeClock
) -> None:
    """Giving back a refused reservation's slot removes that claim only, even when an earlier reservation of the
    same user carries the same timestamp (claims are named, not matched by time)."""
    users = mem_services.store.users
    await mem_services.orders.reserve(acct(USERS[0]), "jazz-senja-2026", {"VIP": 2}, buyer())
    for n in range(24):  # the other 48 VIP seats
        await mem_services.orders.reserve(acct(600 + n), "jazz-senja-2026", {"VIP": 2}, buyer())
    before = await users.get(USERS[0])
    assert before is not None and [r.at for r in before.recent_reservations] == [clock()]

    with pytest.raises(ReservationRefused) as refused:  # same user, same millisecond: sold out
        await mem_services.orders.reserve(acct(USERS[0]), "jazz-senja-2026", {"VIP": 1}, buyer())
    assert refused.value.reason is RefusalReason.SOLD_OUT

    after = await users.get(USERS[0])
    assert after is not None and after.pending_orders == 1
    assert after.recent_reservations == before.recent_reservations
