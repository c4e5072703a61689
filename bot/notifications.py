"""Delivering the messages orders owe (see bot/outbox.py) through a Notifier, with retries until delivered.

The front door that talks to people (Telegram) implements `Notifier`. Delivery takes a lease on the order so two
processes never send the same message at once, and renews it with every part sent and by a heartbeat, so a slow
delivery keeps it (docs/faults.md); a failure is recorded on the order and retried with backoff by
`deliver_due()`, which a periodic job runs. A paid order's tickets are issued by the delivery itself if the
payment has not finished issuing them, so "payment received" always carries every ticket.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from bot.catalog import Catalog
from bot.clock import Clock, utcnow
from bot.outbox import Message
from bot.tickets import TicketService
from storage.documents import EventDoc, OrderDoc, OrderStatus, OutboxEntry, TicketDoc, TierDoc
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
    only: frozenset[str] | None = None  # a re-delivery: only these people (`buyer`, account ids); None: everyone


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
        self._renew_every = LEASE.total_seconds() / 4

    async def deliver(self, order_id: str) -> bool:
        """Deliver what the order owes now, if it is due and nobody else is delivering it. True if all sent."""
        claimed = await self._claim(order_id)
        return False if claimed is None else await self._deliver(claimed)

    async def deliver_due(self, limit: int = 100) -> int:
        """Deliver every order whose messages are due (the periodic job). Returns the orders fully delivered."""
        done = 0
        for order in await self._store.orders.due_for_delivery(self._clock(), limit):
            claimed = await self._claim(order.id)
            if claimed is not None:
                done += await self._deliver(claimed)
        return done

    async def owe_again(self, order_id: str, message: Message, *, person: str, part: str, sent_at: datetime,
                        reason: str, detail: dict[str, Any] | None = None, arrived: Collection[str] = (),
                        whole: bool = False) -> bool:
        """A channel reported, after sending, that one person's copy of `message` (`part`, sent at `sent_at`)
        never arrived (WhatsApp's `failed` status): owe it to that person again, and the delivery job retries
        it as it retries any failed delivery (through the channel's own rules: WhatsApp sends a template
        outside the 24-hour window). `person` is `buyer` or a staff account id. True if it is owed again (or
        already was); False if there is nothing to owe (no such order, or a later re-delivery replaced that
        copy). `arrived`: that person's other parts of it that did arrive (a re-delivery skips them); `whole`: the
        re-delivery replaces all of the person's copies (a failure of another one sent before it needs nothing).
        Raises DeliveryBusy while a delivery of the order is in progress: ask again after it."""
        now = self._clock()
        entry = OutboxEntry(created_at=now, detail=detail or {}, last_error=reason[:500], attempts=1,
                            delivered=sorted(set(arrived) - {part}))
        outcome = await self._store.orders.reowe(order_id, message.value, part=part, person=person,
                                                 entry=entry.model_dump(mode="python"), sent_at=sent_at, now=now,
                                                 stamp=f"person:{person}" if whole else part)
        if outcome == "busy":
            raise DeliveryBusy(order_id)
        if outcome == "owed":
            log.warning("order %s: %s to %s was reported undelivered after sending (%s); owed again, the "
                        "delivery job retries it", order_id, message.value, _who(person), reason[:200])
            return True
        log.info("order %s: a failure report for %s to %s needs nothing (%s)", order_id, message.value,
                 _who(person), outcome)
        return False

    async def _claim(self, order_id: str) -> OrderDoc | None:
        now = self._clock()
        return await self._store.orders.claim_delivery(order_id, now=now, until=now + LEASE)

    async def _deliver(self, claimed: OrderDoc) -> bool:
        """Send each message the claimed order owes. The lease is renewed with every part sent (in the same
        update that records the part) and by a heartbeat while a part is slow, so a delivery slower than LEASE
        keeps it; one that loses it anyway (its process stalled) stops at once and leaves the rest to the new
        holder."""
        assert claimed.delivery_lease_until is not None and claimed.notify_due_at is not None
        lease = _Lease(self._store, claimed.id, claimed.delivery_lease_until, self._clock)
        listing = await self._catalog.get(claimed.event_id)
        sent: dict[str, datetime] = {}
        failed: dict[str, str] = {}
        attempts: list[int] = []
        heartbeat = asyncio.ensure_future(lease.keep_alive(self._renew_every))
        try:
            for message in Message:
                entry = claimed.outbox.get(message.value)
                if entry is None:
                    continue
                if message == Message.PAYMENT_PENDING and claimed.status != OrderStatus.PENDING:
                    sent[message.value] = self._clock()  # overtaken: the order was paid meanwhile
                    continue
                try:
                    tickets = await self._tickets_of(claimed) if message == Message.PAID else []
                    notice = Notice(message, claimed, listing.event if listing else None,
                                    listing.tiers if listing else [], tickets, self._admins, entry.detail,
                                    frozenset(entry.delivered), partial(lease.part_sent, message.value),
                                    frozenset(entry.redo) if entry.redo else None)
                    await self.notifier.notify(notice)
                except Undeliverable as exc:
                    log.warning("order %s: %s cannot be delivered (%s); giving up", claimed.id, message.value, exc)
                    sent[message.value] = self._clock()
                except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
                    log.warning("order %s: delivering %s failed (%s: %s); will retry", claimed.id, message.value,
                                type(exc).__name__, exc)
                    failed[message.value] = f"{type(exc).__name__}: {exc}"
                    attempts.append(entry.attempts + 1)
                else:
                    sent[message.value] = self._clock()
        except LeaseLost:
            log.warning("order %s: delivery lease lost (the delivery was too slow); its new holder goes on",
                        claimed.id)
            return False
        finally:
            heartbeat.cancel()
        next_at = None
        if attempts:
            next_at = self._clock() + BACKOFF[min(max(attempts) - 1, len(BACKOFF) - 1)]
        async with lease.lock:
            released = await self._store.orders.release_delivery(
                claimed.id, lease=lease.until, due=claimed.notify_due_at, next_at=next_at, sent=sent, failed=failed)
        if not released:
            return await self.deliver(claimed.id)  # a new message was owed while this one was being sent
        return not failed

    async def _tickets_of(self, order: OrderDoc) -> list[TicketDoc]:
        """A paid order's tickets, every one of them: issued here if the payment that owed this message has not
        finished issuing them yet (issuing is idempotent), so "payment received" never goes out short."""
        if order.status == OrderStatus.PAID:
            return await self._tickets.issue(order)
        return await self._tickets.for_order(order.id)


class DeliveryBusy(Exception):
    """A delivery of the order is in progress: a change to its outbox must wait until it is over."""


def _who(person: str) -> str:
    """A person as a log line may name them: `buyer`, or an account's channel and the first digits."""
    return person if person == "buyer" else person[:person.find(":") + 5] + "…"


class LeaseLost(BaseException):  # noqa: N818 - not an error of the work, a signal to stop it
    """This delivery no longer holds its lease: stop sending. A BaseException, so that no notifier's
    `except Exception` carries on sending to the next recipient."""


class _Lease:
    """One delivery's lease on an order: renewed with every part sent, and by `keep_alive` meanwhile."""

    def __init__(self, store: Store, order_id: str, until: datetime, clock: Clock) -> None:
        self._orders = store.orders
        self._order_id = order_id
        self._clock = clock
        self.until = until
        self.lock = asyncio.Lock()
        self.lost = False

    async def renew(self, part: tuple[str, str] | None = None) -> None:
        async with self.lock:
            if self.lost:
                raise LeaseLost(self._order_id)
            until = self._clock() + LEASE
            if not await self._orders.renew_delivery(self._order_id, lease=self.until, until=until, part=part):
                self.lost = True
                raise LeaseLost(self._order_id)
            self.until = until

    async def part_sent(self, kind: str, part: str) -> None:
        await self.renew((kind, part))

    async def keep_alive(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.renew()
            except LeaseLost:
                return
            except Exception as exc:  # noqa: BLE001 - the next renewal (or part sent) tries again
                log.warning("order %s: renewing the delivery lease failed (%s)", self._order_id, type(exc).__name__)
