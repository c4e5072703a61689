"""Assertions and builders shared by the tests."""

from __future__ import annotations

from bot.services import Services
from storage.documents import Buyer, OrderStatus, TicketStatus


def buyer(name: str = "Sinta Maharani") -> Buyer:
    return Buyer(name=name, email="sinta@example.com", phone="+6281234567890")


async def assert_invariant(services: Services) -> None:
    """For every tier: capacity = available + pending + sold; pending and sold match the orders; valid
    tickets match sold; nothing negative."""
    store = services.store
    seats = await store.orders.seats_by_tier([OrderStatus.PENDING, OrderStatus.PAID])
    returned = await store.orders.returned_by_tier([OrderStatus.PAID])  # seats partial refunds gave back
    tickets = await store.tickets.counts_by_tier()
    for tier in await store.inventory.all():
        key = (tier.event_id, tier.code)
        assert tier.capacity == tier.available + tier.pending + tier.sold, tier
        assert min(tier.available, tier.pending, tier.sold) >= 0, tier
        assert tier.pending == seats.get((*key, OrderStatus.PENDING.value), 0), tier
        assert tier.sold == seats.get((*key, OrderStatus.PAID.value), 0) - returned.get(key, 0), tier
        assert tier.sold == tickets.get(key, (0, 0))[0], (tier, tickets.get(key))
    for raw in [t async for t in store.db["tickets"].find({"status": TicketStatus.VALID.value})]:
        order = await store.orders.get(raw["order_id"])
        assert order is not None and order.status == OrderStatus.PAID, raw


def acct(uid: int | str) -> str:
    """The account id of a Telegram user id (tests name people by Telegram ids; services take account ids)."""
    return uid if isinstance(uid, str) else f"telegram:{uid}"
