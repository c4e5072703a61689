"""Tickets: one per paid seat, unique per (order, seat number), looked up by code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from storage.documents import TicketDoc, TicketStatus, VoidReason


class TicketStore:
    def __init__(self, collection: Any) -> None:
        self._c = collection

    async def insert_seat(self, ticket: TicketDoc) -> bool | None:
        """Insert one seat's ticket. True: inserted; None: that seat already has a ticket;
        False: the code is taken by another ticket (pick another code and try again)."""
        try:
            await self._c.insert_one(ticket.to_mongo())
        except DuplicateKeyError:
            if await self._c.find_one({"order_id": ticket.order_id, "seq": ticket.seq}, {"_id": 1}):
                return None
            return False
        return True

    async def get(self, code: str) -> TicketDoc | None:
        return TicketDoc.from_mongo(await self._c.find_one({"_id": code}))

    async def for_order(self, order_id: str) -> list[TicketDoc]:
        cursor = self._c.find({"order_id": order_id}).sort("seq", ASCENDING)
        return [TicketDoc.model_validate(raw) async for raw in cursor]

    async def for_user(self, user_id: str | Sequence[str]) -> list[TicketDoc]:
        """A person's tickets: keyed by `user_id`, or by any of several ids (an account's id and linked addresses)."""
        who: Any = user_id if isinstance(user_id, str) else (
            user_id[0] if len(user_id) == 1 else {"$in": list(user_id)})
        cursor = self._c.find({"user_id": who}).sort([("event_id", ASCENDING), ("issued_at", ASCENDING)])
        return [TicketDoc.model_validate(raw) async for raw in cursor]

    async def check_in(self, code: str, *, by: str, at: datetime) -> TicketDoc | None:
        """Mark a valid, not yet checked-in ticket as checked in; None if it was not (one atomic update)."""
        raw = await self._c.find_one_and_update(
            {"_id": code, "status": TicketStatus.VALID.value, "checked_in_at": None},
            {"$set": {"checked_in_at": at, "checked_in_by": by}},
            return_document=ReturnDocument.AFTER,
        )
        return TicketDoc.from_mongo(raw)

    async def void_order(self, order_id: str, *, reason: VoidReason | None = None,
                         at: datetime | None = None) -> int:
        fields: dict[str, Any] = {"status": TicketStatus.VOID.value}
        if reason is not None:
            fields.update(void_reason=reason.value, voided_at=at)
        result = await self._c.update_many({"order_id": order_id, "status": TicketStatus.VALID.value}, {"$set": fields})
        return result.modified_count

    async def void_codes(self, order_id: str, codes: list[str], *, reason: VoidReason, at: datetime) -> int:
        """Void these valid tickets of the order (a refund naming them); returns how many changed."""
        result = await self._c.update_many(
            {"_id": {"$in": codes}, "order_id": order_id, "status": TicketStatus.VALID.value},
            {"$set": {"status": TicketStatus.VOID.value, "void_reason": reason.value, "voided_at": at}},
        )
        return result.modified_count

    async def counts_by_tier(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(valid tickets, checked in) per (event id, tier code), by aggregation."""
        pipeline = [
            {"$match": {"status": TicketStatus.VALID.value}},
            {"$group": {
                "_id": {"event": "$event_id", "tier": "$tier"},
                "valid": {"$sum": 1},
                "checked_in": {"$sum": {"$cond": [{"$ifNull": ["$checked_in_at", False]}, 1, 0]}},
            }},
        ]
        rows = await self._c.aggregate(pipeline).to_list(None)
        return {(r["_id"]["event"], r["_id"]["tier"]): (r["valid"], r["checked_in"]) for r in rows}

    async def valid_count_by_order(self, order_ids: list[str]) -> dict[str, int]:
        pipeline = [
            {"$match": {"order_id": {"$in": order_ids}, "status": TicketStatus.VALID.value}},
            {"$group": {"_id": "$order_id", "n": {"$sum": 1}}},
        ]
        return {r["_id"]: r["n"] for r in await self._c.aggregate(pipeline).to_list(None)}
