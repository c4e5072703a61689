"""Delivery under faults: every ticket of a paid order reaches its holder exactly once, whatever the timing of
the payment that issues them, and a delivery slower than its lease is not sent a second time. Both backends."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.notifications import LEASE, DeliveryService, Notice
from bot.outbox import Message
from bot.services import Services
from storage.tickets import TicketStore
from tests.conftest import FakeClock
from tests.helpers import buyer

JAZZ = "jazz-senja-2026"


@dataclass
class PartsNotifier:
    """Sends a notice part by part, as the Telegram notifier does (the receipt, then one photo per ticket; one
    text per other message), recording each part as sent; `during(part)` runs while a part is being sent."""

    name: str = "first"
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # (order, message, part)
    during: Callable[[str], Awaitable[None]] | None = None

    async def notify(self, notice: Notice) -> None:
        parts = ["buyer"]
        if notice.message == Message.PAID:
            parts += [f"ticket:{t.id}" for t in notice.tickets]
        for part in parts:
            if part in notice.delivered:
                continue
            if self.during is not None:
                await self.during(part)
            self.sent.append((notice.order.id, notice.message.value, part))
            await notice.sent(part)


def attach(services: Services, notifier: PartsNotifier) -> DeliveryService:
    services.delivery.notifier = notifier
    return services.delivery


def second_process(services: Services, clock: FakeClock, notifier: PartsNotifier) -> DeliveryService:
    """Another process's delivery service over the same database."""
    return DeliveryService(services.store, services.catalog, services.tickets, notifier, clock=clock)


async def test_a_delivery_between_the_payment_and_its_tickets_still_sends_every_ticket_once(
    services: Services, monkeypatch: pytest.MonkeyPatch,
) -> None:
    notifier = PartsNotifier()
    delivery = attach(services, notifier)
    order = await services.orders.reserve(1, JAZZ, {"EARLY": 3}, buyer())
    original = TicketStore.insert_seat
    stalled, gate = asyncio.Event(), asyncio.Event()
    paying: asyncio.Task[Any] | None = None
    inserts = 0

    async def slow_insert(self: TicketStore, ticket: Any) -> bool | None:
        nonlocal inserts
        if asyncio.current_task() is paying:
            inserts += 1
            if inserts == 2:  # one ticket is in, the rest wait (a slow or failing-over MongoDB)
                stalled.set()
                await gate.wait()
        return await original(self, ticket)

    monkeypatch.setattr(TicketStore, "insert_seat", slow_insert)
    paying = asyncio.ensure_future(services.orders.pay(order.id))
    await stalled.wait()
    await delivery.deliver(order.id)  # the webhook's delivery, or the periodic job, runs now
    gate.set()
    outcome = await paying
    await delivery.deliver_due()

    tickets = await services.tickets.for_order(order.id)
    assert len(tickets) == 3 and {t.id for t in outcome.tickets} == {t.id for t in tickets}
    photos = Counter(part for o, m, part in notifier.sent if m == "paid" and part.startswith("ticket:"))
    assert photos == Counter(f"ticket:{t.id}" for t in tickets)  # each ticket, exactly once
    assert [p for _, m, p in notifier.sent if m == "paid"].count("buyer") == 1
    assert (await services.orders.get(order.id)).outbox == {}


async def test_a_delivery_slower_than_its_lease_is_not_sent_twice(services: Services, clock: FakeClock) -> None:
    notifier, other = PartsNotifier(), PartsNotifier("second")
    delivery = attach(services, notifier)
    rival = second_process(services, clock, other)
    order = await services.orders.reserve(1, JAZZ, {"EARLY": 4}, buyer())
    await services.orders.pay(order.id)

    async def slow_part(part: str) -> None:
        clock.advance(seconds=LEASE.total_seconds() * 0.6)  # a backlog: each part takes most of a lease
        await rival.deliver_due()  # another process's delivery job runs meanwhile

    notifier.during = slow_part
    assert await delivery.deliver(order.id)
    assert other.sent == []
    assert len(notifier.sent) == len(set(notifier.sent)) == 1 + 4 + 1  # receipt, 4 photos, the sale notice
    done = await services.orders.get(order.id)
    assert done.outbox == {} and done.notify_due_at is None and done.delivery_lease_until is None


async def test_one_part_slower_than_the_lease_keeps_it_by_the_heartbeat(services: Services, clock: FakeClock) -> None:
    notifier, other = PartsNotifier(), PartsNotifier("second")
    delivery = attach(services, notifier)
    delivery._renew_every = 0.01  # the heartbeat, at test speed
    rival = second_process(services, clock, other)
    order = await services.orders.reserve(1, JAZZ, {"EARLY": 1}, buyer())
    await services.orders.pay(order.id)

    async def flood_wait(part: str) -> None:
        if part != "buyer" or notifier.sent:
            return
        clock.advance(seconds=LEASE.total_seconds() * 1.5)  # one call waits out a long flood limit
        for _ in range(2000):  # until the heartbeat has renewed the lease past now
            current = await services.store.orders.get(order.id)
            if current.delivery_lease_until and current.delivery_lease_until > clock.now:
                break
            await asyncio.sleep(0.005)
        await rival.deliver_due()

    notifier.during = flood_wait
    assert await delivery.deliver(order.id)
    assert other.sent == []
    assert len(notifier.sent) == len(set(notifier.sent)) == 3


async def test_a_delivery_that_lost_its_lease_stops_sending(services: Services, clock: FakeClock) -> None:
    notifier, other = PartsNotifier(), PartsNotifier("second")
    delivery = attach(services, notifier)
    rival = second_process(services, clock, other)
    order = await services.orders.reserve(1, JAZZ, {"EARLY": 2}, buyer())
    await services.orders.pay(order.id)

    async def frozen(part: str) -> None:
        if part == "buyer" and not notifier.sent:  # the process froze past its lease; the other took over
            clock.advance(seconds=LEASE.total_seconds() * 2)
            await rival.deliver_due()

    notifier.during = frozen
    assert not await delivery.deliver(order.id)
    # the frozen one sent the part it was sending when it froze, then stopped; the other sent everything once
    assert [p for _, _, p in notifier.sent] == ["buyer"]
    assert [(m, p.split(":")[0]) for _, m, p in other.sent] == [
        ("paid", "buyer"), ("paid", "ticket"), ("paid", "ticket"), ("sale", "buyer")]
    assert (await services.orders.get(order.id)).outbox == {}
