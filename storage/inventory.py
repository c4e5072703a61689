"""Ticket stock, one document per tier. Every change is one conditional `$inc` on one document.

capacity = available + pending + sold holds after every successful call; a call whose condition fails changes
nothing and returns False.
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument

from storage.documents import TierDoc


class InventoryStore:
    def __init__(self, collection: Any) -> None:
        self._c = collection

    async def get(self, tier_id: str) -> TierDoc | None:
        return TierDoc.from_mongo(await self._c.find_one({"_id": tier_id}))

    async def for_event(self, event_id: str) -> list[TierDoc]:
        return [TierDoc.model_validate(raw) async for raw in self._c.find({"event_id": event_id})]

    async def all(self) -> list[TierDoc]:
        return [TierDoc.model_validate(raw) async for raw in self._c.find({})]

    async def _move(self, tier_id: str, source: str, target: str | None, qty: int) -> bool:
        """Move `qty` seats from one counter to another (or out of capacity), only if `source` has them."""
        if qty <= 0:
            raise ValueError("quantity must be positive")
        inc = {source: -qty}
        if target is not None:
            inc[target] = qty
        result = await self._c.update_one({"_id": tier_id, source: {"$gte": qty}}, {"$inc": inc})
        return result.modified_count == 1

    async def hold(self, tier_id: str, qty: int) -> bool:
        """available → pending (a reservation)."""
        return await self._move(tier_id, "available", "pending", qty)

    async def release(self, tier_id: str, qty: int) -> bool:
        """pending → available (cancelled, expired, failed)."""
        return await self._move(tier_id, "pending", "available", qty)

    async def commit(self, tier_id: str, qty: int) -> bool:
        """pending → sold (paid)."""
        return await self._move(tier_id, "pending", "sold", qty)

    async def sell_directly(self, tier_id: str, qty: int) -> bool:
        """available → sold (a late payment re-holding seats its order had released)."""
        return await self._move(tier_id, "available", "sold", qty)

    async def unsell(self, tier_id: str, qty: int) -> bool:
        """sold → available (refunded)."""
        return await self._move(tier_id, "sold", "available", qty)

    async def create(self, tier: TierDoc) -> None:
        await self._c.insert_one(tier.to_mongo())

    async def update_definition(
        self, tier_id: str, *, expected_capacity: int, capacity: int, name: str, price: int, max_per_order: int
    ) -> TierDoc | None:
        """Change a tier's capacity by moving `available` by the difference; None if that would go below zero
        (capacity under pending + sold) or if the capacity changed meanwhile."""
        delta = capacity - expected_capacity
        query: dict[str, Any] = {"_id": tier_id, "capacity": expected_capacity}
        if delta < 0:
            query["available"] = {"$gte": -delta}
        raw = await self._c.find_one_and_update(
            query,
            {
                "$inc": {"capacity": delta, "available": delta},
                "$set": {"name": name, "price": price, "max_per_order": max_per_order, "active": True},
            },
            return_document=ReturnDocument.AFTER,
        )
        return TierDoc.from_mongo(raw)

    async def set_active(self, tier_id: str, active: bool) -> None:
        await self._c.update_one({"_id": tier_id}, {"$set": {"active": active}})

    async def repair(self, tier: TierDoc, *, available: int, pending: int, sold: int) -> bool:
        """Overwrite a tier's counters, only if they are still what `tier` says (reconcile's compare-and-set)."""
        result = await self._c.update_one(
            {"_id": tier.id, "capacity": tier.capacity, "available": tier.available, "pending": tier.pending,
             "sold": tier.sold},
            {"$set": {"available": available, "pending": pending, "sold": sold}},
        )
        return result.modified_count == 1
