"""Ticket stock, one document per tier. Every change is one conditional `$inc` on one document.

capacity = available + pending + sold holds after every successful call; a call whose condition fails changes
nothing and returns False.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from storage.documents import TierDoc

# Tier reads for the catalog leave the per-order ledger out: it can hold thousands of entries during an on-sale.
WITHOUT_LEDGER = {"held": 0, "late": 0, "returned": 0}


def ledger_key(order_id: str) -> str:
    """An order id as a field name in the ledger (order ids have no `.` or `$`; anything else is refused)."""
    if not order_id or "." in order_id or order_id.startswith("$"):
        raise ValueError(f"not usable as a ledger key: {order_id!r}")
    return order_id


LATE_SEPARATOR = "~"


def late_attempt(order_id: str, nonce: str) -> str:
    """Names one late-payment attempt for an order in the ledger (two racing attempts each undo only their own)."""
    return f"{order_id}{LATE_SEPARATOR}{nonce}"


def order_of_attempt(attempt: str) -> str:
    return attempt.split(LATE_SEPARATOR, 1)[0]


@dataclass(frozen=True)
class TierLedger:
    """A tier's counters and who they belong to: pending = Σ held; `late` seats are in sold."""

    tier: TierDoc
    held: dict[str, int] = field(default_factory=dict)
    late: dict[str, tuple[int, datetime | None]] = field(default_factory=dict)
    returned: dict[str, int] = field(default_factory=dict)
    has_ledger: bool = True


class InventoryStore:
    def __init__(self, collection: Any) -> None:
        self._c = collection

    async def get(self, tier_id: str) -> TierDoc | None:
        return TierDoc.from_mongo(await self._c.find_one({"_id": tier_id}, WITHOUT_LEDGER))

    async def for_event(self, event_id: str) -> list[TierDoc]:
        return [TierDoc.from_mongo(raw) async for raw in self._c.find({"event_id": event_id}, WITHOUT_LEDGER)]  # type: ignore[misc]

    async def all(self) -> list[TierDoc]:
        return [TierDoc.from_mongo(raw) async for raw in self._c.find({}, WITHOUT_LEDGER)]  # type: ignore[misc]

    async def _move(
        self, tier_id: str, source: str, target: str | None, qty: int, *,
        require: dict[str, Any] | None = None, record: dict[str, Any] | None = None, forget: tuple[str, ...] = (),
        count: dict[str, int] | None = None,
    ) -> bool:
        """Move `qty` seats from one counter to another (or out of capacity), only if `source` has them and the
        tier matches `require`; in the same update set `record` and unset `forget` (the per-order ledger)."""
        if qty <= 0:
            raise ValueError("quantity must be positive")
        inc = {source: -qty, **(count or {})}
        if target is not None:
            inc[target] = qty
        update: dict[str, Any] = {"$inc": inc}
        if record:
            update["$set"] = record
        if forget:
            update["$unset"] = {name: "" for name in forget}
        query = {"_id": tier_id, source: {"$gte": qty}, **(require or {})}
        result = await self._c.update_one(query, update)
        return result.modified_count == 1

    # Every move below takes the order it is for. With it, the move is recorded on the tier document in the same
    # update (`held.<order>`: seats a pending order holds; `late.<order>`: seats a late payment sold before its
    # order turned paid; `returned.<order>`: seats a refund gave back), so each move happens at most once per
    # order and reconcile can tell an order's move still in flight from a crash (docs/faults.md). Without an
    # order (tests, or seats taken by hand) the counters move and nothing is recorded.

    async def hold(self, tier_id: str, qty: int, order_id: str | None = None) -> bool:
        """available → pending (a reservation); recorded as `held.<order>`."""
        if order_id is None:
            return await self._move(tier_id, "available", "pending", qty)
        key = ledger_key(order_id)
        return await self._move(tier_id, "available", "pending", qty, require={f"held.{key}": {"$exists": False}},
                                record={f"held.{key}": qty})

    async def release(self, tier_id: str, qty: int, order_id: str | None = None) -> bool:
        """pending → available (cancelled, expired, failed, refused): only an order's own hold, once."""
        if order_id is None:
            return await self._move(tier_id, "pending", "available", qty)
        key = ledger_key(order_id)
        return await self._move(tier_id, "pending", "available", qty, require={f"held.{key}": qty},
                                forget=(f"held.{key}",))

    async def commit(self, tier_id: str, qty: int, order_id: str | None = None) -> bool:
        """pending → sold (paid): only an order's own hold, once."""
        if order_id is None:
            return await self._move(tier_id, "pending", "sold", qty)
        key = ledger_key(order_id)
        return await self._move(tier_id, "pending", "sold", qty, require={f"held.{key}": qty},
                                forget=(f"held.{key}",))

    async def sell_directly(self, tier_id: str, qty: int, attempt: str | None = None, *,
                            at: datetime | None = None) -> bool:
        """available → sold (a late payment re-taking seats its order had released); recorded as
        `late.<order>~<nonce>` (`late_attempt`) until the order is paid (`settle_late`) or the sale is undone
        (`unsell_late`)."""
        if attempt is None:
            return await self._move(tier_id, "available", "sold", qty)
        key = ledger_key(attempt)
        return await self._move(tier_id, "available", "sold", qty, require={f"late.{key}": {"$exists": False}},
                                record={f"late.{key}": {"qty": qty, "at": at}})

    async def settle_late(self, tier_id: str, attempt: str) -> None:
        """The late payment's order is paid: its seats are plainly sold now."""
        await self._c.update_one({"_id": tier_id}, {"$unset": {f"late.{ledger_key(attempt)}": ""}})

    async def unsell_late(self, tier_id: str, qty: int, attempt: str) -> bool:
        """sold → available: undo a late payment's sale (its order did not turn paid), once."""
        key = ledger_key(attempt)
        return await self._move(tier_id, "sold", "available", qty, require={f"late.{key}.qty": qty},
                                forget=(f"late.{key}",))

    async def unsell(self, tier_id: str, qty: int, order_id: str | None = None, *, before: int = 0) -> bool:
        """sold → available (refunded, in full or in part), counted in `returned.<order>`: only if that count is
        still `before` (the seats the order had given back before this refund), so each refund returns its
        seats once, and reconcile finishing it races the refund itself with the same condition."""
        if order_id is None:
            return await self._move(tier_id, "sold", "available", qty)
        key = ledger_key(order_id)
        require = {f"returned.{key}": before} if before else {f"returned.{key}": {"$exists": False}}
        return await self._move(tier_id, "sold", "available", qty, require=require, count={f"returned.{key}": qty})

    async def ledgers(self) -> list[TierLedger]:
        """Every tier's counters with its per-order ledger (for reconcile)."""
        out = []
        async for raw in self._c.find({}):
            out.append(TierLedger(
                tier=TierDoc.model_validate(raw), held=dict(raw.get("held") or {}),
                late={k: (v.get("qty", 0), v.get("at")) for k, v in (raw.get("late") or {}).items()},
                returned=dict(raw.get("returned") or {}), has_ledger="held" in raw,
            ))
        return out

    async def start_ledger(self, tier: TierDoc, held: dict[str, int], returned: dict[str, int], *,
                           pending: int, sold: int) -> bool:
        """Give a tier made before the ledger existed its `held` and `returned` maps and the counters the orders
        say, if its counters are still what `tier` says."""
        result = await self._c.update_one(
            {"_id": tier.id, "held": {"$exists": False}, "capacity": tier.capacity, "available": tier.available,
             "pending": tier.pending, "sold": tier.sold},
            {"$set": {"held": {ledger_key(k): v for k, v in held.items()},
                      "returned": {ledger_key(k): v for k, v in returned.items()},
                      "pending": pending, "sold": sold, "available": tier.capacity - pending - sold}},
        )
        return result.modified_count == 1

    async def repair_pending(self, tier: TierDoc, pending: int) -> bool:
        """Set pending to what the ledger says (available moves by the difference), if the counters are still
        what `tier` says."""
        result = await self._c.update_one(
            {"_id": tier.id, "capacity": tier.capacity, "available": tier.available, "pending": tier.pending,
             "sold": tier.sold},
            {"$set": {"pending": pending, "available": tier.capacity - pending - tier.sold}},
        )
        return result.modified_count == 1

    async def create(self, tier: TierDoc) -> None:
        await self._c.insert_one({**tier.to_mongo(), "held": {}})

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
