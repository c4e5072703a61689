"""Delivering the messages orders owe (see bot/outbox.py) through a Notifier, with retries until delivered.

The front door that talks to people (Telegram) implements `Notifier`. Delivery takes a short lease on the order
so two processes never send the same message at once; a failure is recorded on the order and retried with
backoff by `deliver_due()`, which a periodic job runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any, Protocol

from bot.catalog import Catalog
from bot.clock import Clock, utcnow
from bot.outbox import Message
from bot.tickets import TicketService
from storage.documents import EventDoc, OrderDoc, OrderStatus, TicketDoc, TierDoc
from storage.store import Store

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BACKOFF = (timedelta(seconds=10), timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2),
           timedelta(minutes=5), timedelta(minutes=10))


class Undeliverable(Exception):
    """The recipient can never receive it (blocked the bot, say): stop retrying; what it carried (tickets)
    stays available in the chat on request."""


async def _nothing_recorded(part: str) -> None:
    return None


@dataclass(frozen=True)
class Notice:
    """One message to deliver, with everything needed to write it.

    A message can have several parts (the receipt and one photo per ticket; one text per organiser). The
    notifier skips the parts in `delivered` and calls `sent(part)` after each one it sends, so that a retry
    after a failure half-way sends only what is missing."""

    message: Message
    order: OrderDoc
    event: EventDoc | None
    tiers: list[TierDoc] = field(default_factory=list)
    tickets: list[TicketDoc] = field(default_factory=list)
    admin_ids: frozenset[str] = frozenset()  # account ids
    detail: dict[str, Any] = field(default_factory=dict)
    delivered: frozenset[str] = frozenset()
    sent: Callable[[str], Awaitable[None]] = _nothing_recorded


class Notifier(Protocol):
    async def notify(self, notice: Notice) -> None:
        """Deliver the notice, or raise: Undeliverable to give up, anything else to be retried later."""


class DeliveryService:
    def __init__(
        self, store: Store, catalog: Catalog, tickets: TicketService, notifier: Notifier, *,
        admin_ids: Collection[str] = (), clock: Clock = utcnow,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._tickets = tickets
        self.notifier = notifier
        self._admins = frozenset(admin_ids)
        self._clock = clock

    async def deliver(self, order_id: str) -> bool:
        """Deliver what the order owes now, if it is due and nobody else is delivering it. True if all sent."""
        order = await self._store.orders.get(order_id)
        if order is None or order.notify_due_at is None or order.notify_due_at > self._clock():
            return False
        return await self._deliver(order)

    async def deliver_due(self, limit: int = 100) -> int:
        """Deliver every order whose messages are due (the periodic job). Returns the orders fully delivered."""
        done = 0
        for order in await self._store.orders.due_for_delivery(self._clock(), limit):
            done += await self._deliver(order)
        return done

    async def _deliver(self, order: OrderDoc) -> bool:
        now = self._clock()
        lease = now + LEASE
        claimed = await self._store.orders.claim_delivery(order.id, due=order.notify_due_at, now=now, until=lease)
        if claimed is None:
            return False
        listing = await self._catalog.get(claimed.event_id)
        remaining: list[int] = []
        for message in Message:
            entry = claimed.outbox.get(message.value)
            if entry is None:
                continue
            if message == Message.PAYMENT_PENDING and claimed.status != OrderStatus.PENDING:
                await self._store.orders.mark_sent(claimed.id, message.value, self._clock())  # overtaken: paid
                continue
            tickets = await self._tickets.for_order(claimed.id) if message == Message.PAID else []
            notice = Notice(message, claimed, listing.event if listing else None, listing.tiers if listing else [],
                            tickets, self._admins, entry.detail, frozenset(entry.delivered),
                            partial(self._store.orders.mark_part_sent, claimed.id, message.value))
            try:
                await self.notifier.notify(notice)
            except Undeliverable as exc:
                log.warning("order %s: %s cannot be delivered (%s); giving up", claimed.id, message.value, exc)
                await self._store.orders.mark_sent(claimed.id, message.value, self._clock())
            except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
                log.warning("order %s: delivering %s failed (%s: %s); will retry", claimed.id, message.value,
                            type(exc).__name__, exc)
                await self._store.orders.mark_attempt_failed(claimed.id, message.value, f"{type(exc).__name__}: {exc}")
                remaining.append(entry.attempts + 1)
            else:
                await self._store.orders.mark_sent(claimed.id, message.value, self._clock())
        next_at = None
        if remaining:
            next_at = self._clock() + BACKOFF[min(max(remaining) - 1, len(BACKOFF) - 1)]
        if not await self._store.orders.release_delivery(claimed.id, lease=lease, next_at=next_at):
            return await self.deliver(claimed.id)  # a new message was owed while this one was being sent
        return not remaining
