"""Reconcile against writes still in flight: every write of a reservation, a payment, an expiry, a refund and a
late payment is stalled in turn (as a slow or failing-over MongoDB does), reconcile runs in the middle, other
buyers take every seat to be had meanwhile and afterwards: no tier ever sells beyond its capacity, and the
invariant holds.

Reconcile runs with no settle time at all: it must not need one (docs/faults.md). Both backends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.errors import ReservationRefused
from bot.event_file import parse_events
from bot.services import Services
from storage.documents import OrderDoc, OrderStatus, tier_key
from storage.inventory import InventoryStore
from storage.orders import OrderStore
from storage.tickets import TicketStore
from storage.users import UserStore
from tests.conftest import ORGANISER_ID, FakeClock
from tests.helpers import assert_invariant, buyer

CAPACITY = 3
WRITES: dict[type, tuple[str, ...]] = {
    InventoryStore: ("hold", "release", "commit", "sell_directly", "settle_late", "unsell_late", "unsell"),
    OrderStore: ("insert", "transition", "discard_unheld"),
    UserStore: ("claim_reservation_slot", "return_reservation_slot", "pending_order_closed", "remember_buyer"),
    TicketStore: ("insert_seat", "void_order"),
}


class Stall:
    """Holds the n-th store write made by one task until `release()`; `names` records each write it saw."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.names: list[str] = []
        self.stalled = asyncio.Event()
        self.gate = asyncio.Event()
        self.task: asyncio.Task[Any] | None = None

    async def before(self, name: str) -> None:
        if asyncio.current_task() is not self.task:
            return
        self.names.append(name)
        if len(self.names) == self.n + 1:
            self.stalled.set()
            await self.gate.wait()


@contextlib.contextmanager
def stalling(monkeypatch: pytest.MonkeyPatch, stall: Stall) -> Iterator[None]:
    for cls, names in WRITES.items():
        for name in names:
            original = getattr(cls, name)

            def wrapped(self: Any, *args: Any, _original: Any = original, _name: str = name, **kw: Any) -> Any:
                async def run() -> Any:
                    await stall.before(_name)
                    return await _original(self, *args, **kw)
                return run()

            monkeypatch.setattr(cls, name, wrapped)
    try:
        yield
    finally:
        monkeypatch.undo()


async def tiny_event(services: Services, event_id: str) -> str:
    await services.catalog.import_events(parse_events({"events": [{
        "id": event_id, "title": f"Stall {event_id}", "venue": "Gedung Kesenian Jakarta",
        "starts_at": datetime(2027, 3, 1, 12, 0, tzinfo=UTC), "ends_at": datetime(2027, 3, 1, 16, 0, tzinfo=UTC),
        "organisers": [ORGANISER_ID],
        "tiers": [{"code": "T", "name": "Tier T", "price": 100_000, "capacity": CAPACITY, "max_per_order": 3}],
    }]}))
    return tier_key(event_id, "T")


Setup = Callable[[Services, FakeClock, str, int], Awaitable[OrderDoc | None]]


async def _reserve(services: Services, event_id: str, user: int) -> OrderDoc:
    return await services.orders.reserve(user, event_id, {"T": 2}, buyer())


async def _nothing(services: Services, clock: FakeClock, event_id: str, user: int) -> None:
    return None


async def _reserved(services: Services, clock: FakeClock, event_id: str, user: int) -> OrderDoc:
    return await _reserve(services, event_id, user)


async def _paid(services: Services, clock: FakeClock, event_id: str, user: int) -> OrderDoc:
    order = await _reserve(services, event_id, user)
    await services.orders.pay(order.id)
    return order


async def _overdue(services: Services, clock: FakeClock, event_id: str, user: int) -> OrderDoc:
    order = await _reserve(services, event_id, user)
    clock.advance(minutes=31)
    return order


async def _expired(services: Services, clock: FakeClock, event_id: str, user: int) -> OrderDoc:
    order = await _overdue(services, clock, event_id, user)
    await services.orders.expire_due()
    return order


SCENARIOS: dict[str, tuple[Setup, Callable[[Services, str, int, OrderDoc | None], Awaitable[object]]]] = {
    "reservation": (_nothing, lambda s, event_id, user, order: _reserve(s, event_id, user)),
    "payment": (_reserved, lambda s, event_id, user, order: s.orders.pay(order.id)),  # type: ignore[union-attr]
    "expiry": (_overdue, lambda s, event_id, user, order: s.orders.expire_due()),
    "refund": (_paid, lambda s, event_id, user, order: s.orders.refund(order.id)),  # type: ignore[union-attr]
    "late payment": (_expired, lambda s, event_id, user, order: s.orders.pay(order.id)),  # type: ignore[union-attr]
}


async def sell_out(services: Services, event_id: str, first_user: int) -> None:
    """Other buyers take and pay for every seat still to be had."""
    for user in range(first_user, first_user + CAPACITY + 2):
        try:
            order = await services.orders.reserve(user, event_id, {"T": 1}, buyer())
        except ReservationRefused:
            break
        await services.orders.pay(order.id)


async def paid_seats(services: Services, event_id: str) -> int:
    orders = await services.store.orders.with_status([OrderStatus.PAID])
    return sum(o.seats for o in orders if o.event_id == event_id)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_reconcile_during_each_stalled_write_never_oversells(
    services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, scenario: str,
) -> None:
    setup, operation = SCENARIOS[scenario]
    stalled_writes: list[str] = []
    for n in range(12):
        event_id, user = f"stall-{n}", 1000 + 100 * n
        tier_id = await tiny_event(services, event_id)
        order = await setup(services, clock, event_id, user)
        stall = Stall(n)
        with stalling(monkeypatch, stall):
            stall.task = asyncio.ensure_future(operation(services, event_id, user, order))
            stalled = asyncio.ensure_future(stall.stalled.wait())
            await asyncio.wait({stall.task, stalled}, return_when=asyncio.FIRST_COMPLETED)
            if stall.task.done():  # fewer than n + 1 writes: every one of them has been stalled
                stalled.cancel()
                break
            stalled_writes.append(stall.names[-1])
            await services.reconcile()  # the write is still in flight
            await sell_out(services, event_id, user + 1)  # and buyers come meanwhile
            stall.gate.set()
            with contextlib.suppress(ReservationRefused):  # the others were faster: refused, nothing held
                result = await stall.task
                order = result if isinstance(result, OrderDoc) else order
        await services.reconcile()
        if order is not None and (await services.orders.get(order.id)).status != OrderStatus.PAID:  # type: ignore[union-attr]
            await services.orders.pay(order.id)  # a (late) payment for it arrives now
        await sell_out(services, event_id, user + 50)
        await services.reconcile()
        tier = await services.store.inventory.get(tier_id)
        assert await paid_seats(services, event_id) <= CAPACITY, (scenario, stall.names)
        assert tier is not None and tier.sold <= CAPACITY and tier.available >= 0, (scenario, stall.names, tier)
        await assert_invariant(services)
    assert stalled_writes, "the operation made no write"
