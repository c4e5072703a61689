"""Per-user purchase limits as counters on one document each, so a limit check never scans orders."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pymongo.errors import DuplicateKeyError

from storage.documents import Buyer, UserDoc


class SlotRefusal(StrEnum):
    RATE_LIMITED = "rate_limited"
    TOO_MANY_PENDING = "too_many_pending"


class UserStore:
    def __init__(self, collection: Any) -> None:
        self._c = collection

    async def get(self, user_id: str) -> UserDoc | None:
        return UserDoc.from_mongo(await self._c.find_one({"_id": user_id}))

    async def claim_reservation_slot(
        self, user_id: str, now: datetime, *, per_minute: int, max_pending: int, claim: str | None = None,
        buyer: Buyer | None = None,
    ) -> SlotRefusal | None:
        """Atomically count one more reservation in the last minute and one more pending order, if both stay
        within the limits, and remember `buyer` as the user's last contact details. None when claimed, else the
        limit that refused it. `claim` names this claim so that `return_reservation_slot` gives back exactly it.

        One command when claimed: an upsert whose filter holds the limits. A user first seen here is inserted
        with the claim; for a known user whose limits refuse, the upsert's insert collides on `_id`
        (DuplicateKeyError), which is the refusal (and nothing was written)."""
        window_start = now - timedelta(minutes=1)
        update: dict[str, Any] = {
            "$inc": {"pending_orders": 1},
            "$push": {"recent_reservations": {
                "$each": [{"at": now, "claim": claim or uuid.uuid4().hex}], "$slice": -per_minute}},
        }
        if buyer is not None:
            update["$set"] = {"last_buyer": buyer.model_dump()}
        update["$setOnInsert"] = self._defaults(user_id, exclude={"pending_orders", "recent_reservations",
                                                                  *update.get("$set", {})})
        query = {
            "_id": user_id,
            "pending_orders": {"$lt": max_pending},
            "$or": [
                {f"recent_reservations.{per_minute - 1}": {"$exists": False}},
                {"recent_reservations.0.at": {"$lte": window_start}},
            ],
        }
        for _ in range(2):  # two first claims of a new user at once: the loser's insert collides; ask again
            try:
                await self._c.update_one(query, update, upsert=True)
            except DuplicateKeyError:
                continue
            return None
        user = await self.get(user_id)
        if user is not None and user.pending_orders >= max_pending:
            return SlotRefusal.TOO_MANY_PENDING
        return SlotRefusal.RATE_LIMITED

    async def return_reservation_slot(self, user_id: str, claim: str) -> None:
        """Undo a claim whose reservation did not happen (sold out, say): it counts toward neither limit."""
        await self._c.update_one(
            {"_id": user_id, "recent_reservations.claim": claim},
            {"$inc": {"pending_orders": -1}, "$pull": {"recent_reservations": {"claim": claim}}},
        )

    async def pending_order_closed(self, user_id: str) -> None:
        await self._c.update_one({"_id": user_id, "pending_orders": {"$gt": 0}}, {"$inc": {"pending_orders": -1}})

    async def set_pending_count(self, user_id: str, count: int, *, expected: int) -> bool:
        """Set the pending-orders counter, only if it is still `expected` (reconcile's compare-and-set)."""
        result = await self._c.update_one({"_id": user_id, "pending_orders": expected},
                                          {"$set": {"pending_orders": count}})
        return result.modified_count == 1

    async def pending_counts(self) -> dict[str, int]:
        return {raw["_id"]: raw.get("pending_orders", 0) async for raw in self._c.find({}, {"pending_orders": 1})}

    async def remember_user(self, user_id: str, *, language: str | None, name: str | None) -> None:
        """Record the user's Telegram language code and display name: one upsert, no read (an update that
        changes nothing is a no-op on the server; the caller skips users whose values it wrote recently)."""
        await self._upsert(user_id, {"language": language, "name": name})

    async def remember_name(self, user_id: str, name: str) -> None:
        """Record the display name alone (a chat that reports a name and no language: WhatsApp)."""
        await self._upsert(user_id, {"name": name})

    async def remember_buyer(self, user_id: str, buyer: Buyer) -> None:
        await self._upsert(user_id, {"last_buyer": buyer.model_dump()})

    @staticmethod
    def _defaults(user_id: str, *, exclude: set[str]) -> dict[str, Any]:
        """A new user document's fields (the limit counters too, so a slot claim finds them), but `exclude`."""
        return {k: v for k, v in UserDoc(id=user_id).to_mongo().items() if k not in exclude and k != "_id"}

    async def _upsert(self, user_id: str, fields: dict[str, Any]) -> None:
        """Set `fields`; a user first seen here gets the other fields' defaults too."""
        update: dict[str, Any] = {"$setOnInsert": self._defaults(user_id, exclude=set(fields))}
        if fields:
            update["$set"] = fields
        await self._c.update_one({"_id": user_id}, update, upsert=True)
