"""Sales figures per event and tier, by aggregation over stock, orders and tickets."""

from __future__ import annotations

from dataclasses import dataclass

from storage.documents import EventDoc, OrderStatus
from storage.store import Store


@dataclass(frozen=True)
class TierStats:
    code: str
    name: str
    price: int
    capacity: int
    available: int
    pending: int
    sold: int
    revenue: int  # paid orders, less the seats partial refunds gave back
    checked_in: int


@dataclass(frozen=True)
class Books:
    """Money that went back, kept apart: refunds (Karcis's or Midtrans's) and reversals (docs/money.md)."""

    refunded_orders: int = 0   # orders wholly refunded
    refunded: int = 0          # rupiah refunded, whole and partial
    unassigned: int = 0        # of that, rupiah refunded from paid orders without tickets chosen yet
    reversed_orders: int = 0   # reversals, cancels after payment, chargebacks
    reversed: int = 0          # rupiah taken back by them


@dataclass(frozen=True)
class EventStats:
    event: EventDoc
    tiers: list[TierStats]
    books: Books = Books()

    @property
    def capacity(self) -> int:
        return sum(t.capacity for t in self.tiers)

    @property
    def sold(self) -> int:
        return sum(t.sold for t in self.tiers)

    @property
    def pending(self) -> int:
        return sum(t.pending for t in self.tiers)

    @property
    def available(self) -> int:
        return sum(t.available for t in self.tiers)

    @property
    def revenue(self) -> int:
        return sum(t.revenue for t in self.tiers)

    @property
    def checked_in(self) -> int:
        return sum(t.checked_in for t in self.tiers)


class StatsService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def stats(self, event_ids: list[str] | None = None) -> list[EventStats]:
        """Figures for the given events (all events when None), in start order."""
        events = [e for e in await self._store.events.all() if event_ids is None or e.id in event_ids]
        if not events:
            return []
        revenue = await self._store.orders.revenue_by_tier()
        returned = await self._store.orders.returned_revenue_by_tier()
        money = await self._store.orders.money_by_event()
        tickets = await self._store.tickets.counts_by_tier()
        tiers_by_event: dict[str, list] = {}
        for tier in await self._store.inventory.all():
            tiers_by_event.setdefault(tier.event_id, []).append(tier)
        result = []
        for event in events:
            order = {code: i for i, code in enumerate(event.tier_codes)}
            rows = sorted(tiers_by_event.get(event.id, []), key=lambda t: order.get(t.code, len(order)))
            result.append(EventStats(event, [
                TierStats(
                    code=t.code, name=t.name, price=t.price, capacity=t.capacity, available=t.available,
                    pending=t.pending, sold=t.sold,
                    revenue=revenue.get((event.id, t.code), 0) - returned.get((event.id, t.code), 0),
                    checked_in=tickets.get((event.id, t.code), (0, 0))[1],
                )
                for t in rows
            ], _books(event.id, money, returned)))
        return result


def _books(event_id: str, money: dict[tuple[str, str], tuple[int, int, int]],
           returned: dict[tuple[str, str], int]) -> Books:
    paid = money.get((event_id, OrderStatus.PAID.value), (0, 0, 0))
    refunded = money.get((event_id, OrderStatus.REFUNDED.value), (0, 0, 0))
    reversed_ = money.get((event_id, OrderStatus.REVERSED.value), (0, 0, 0))
    returned_here = sum(amount for (event, _), amount in returned.items() if event == event_id)
    return Books(refunded_orders=refunded[0], refunded=refunded[1] + paid[2],
                 unassigned=max(0, paid[2] - returned_here), reversed_orders=reversed_[0],
                 reversed=reversed_[1] - reversed_[2])
