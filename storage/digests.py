"""Sale digests: what each organiser's chat is owed about recent sales, one document per recipient chat.

    pending     the sales not yet in a digest message, by order id (adding the same order twice sets the same key)
    reported    the latest order ids already in a digest message, so a repeated add is not counted again
    window      what the last digest message shows (edited while it is recent); its message id
    due_at      set while `pending` may hold something: the digest job looks for it
    hold_until  no digest is sent before then: the quiet interval after the last one, or a send in progress

Every change is one atomic update of the one document; nothing is read first and written back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from storage.documents import AccountRef, Document

REPORTED_KEPT = 1000  # order ids remembered per chat after their digest went out (a late repeat of an add)


class DigestLine(BaseModel):
    tier: str
    name: str
    qty: int


class DigestSale(BaseModel):
    order_id: str
    event_id: str
    buyer: str
    lines: list[DigestLine]
    at: datetime


class DigestTierCount(BaseModel):
    name: str
    qty: int = 0


class DigestEventCount(BaseModel):
    orders: int = 0
    seats: int = 0
    tiers: dict[str, DigestTierCount] = Field(default_factory=dict, description="by tier code")


class DigestWindow(BaseModel):
    """The sales one digest message shows: counted in full, the latest few listed."""

    message_id: int | None = None
    opened_at: datetime
    updated_at: datetime
    orders: int = 0
    events: dict[str, DigestEventCount] = Field(default_factory=dict, description="by event id")
    latest: list[DigestSale] = Field(default_factory=list, description="the newest sales, newest last")


class DigestDoc(Document):
    id: AccountRef = Field(alias="_id", description="the recipient (an account id)")
    pending: dict[str, DigestSale] = Field(default_factory=dict)
    reported: list[str] = Field(default_factory=list)
    window: DigestWindow | None = None
    due_at: datetime | None = None
    hold_until: datetime


class DigestStore:
    def __init__(self, collection: Any) -> None:
        self._c = collection

    async def get(self, chat_id: str) -> DigestDoc | None:
        return DigestDoc.from_mongo(await self._c.find_one({"_id": chat_id}))

    async def add(self, chat_id: str, sale: DigestSale, *, now: datetime) -> bool:
        """Owe `sale` to the chat's next digest. False if that order was already in a digest message."""
        try:
            await self._c.update_one(
                {"_id": chat_id, "reported": {"$ne": sale.order_id}},
                {
                    "$set": {f"pending.{sale.order_id}": sale.model_dump(mode="python")},
                    "$min": {"due_at": now},
                    "$setOnInsert": {"hold_until": now},
                },
                upsert=True,
            )
        except DuplicateKeyError:  # the chat's document exists and has reported this order: nothing to add
            return False
        return True

    async def due(self, now: datetime, limit: int) -> list[DigestDoc]:
        """Chats with sales pending whose quiet interval is over."""
        cursor = self._c.find({"due_at": {"$type": "date", "$lte": now}, "hold_until": {"$lte": now}}).limit(limit)
        return [DigestDoc.model_validate(raw) async for raw in cursor]

    async def claim(self, chat_id: str, *, now: datetime, until: datetime) -> DigestDoc | None:
        """Hold the chat's digest until `until` (a send in progress), if nobody holds it; the document."""
        raw = await self._c.find_one_and_update(
            {"_id": chat_id, "hold_until": {"$lte": now}}, {"$set": {"hold_until": until}},
            return_document=ReturnDocument.AFTER,
        )
        return DigestDoc.from_mongo(raw)

    async def sent(self, chat_id: str, order_ids: list[str], *, window: DigestWindow | None,
                   hold_until: datetime) -> None:
        """The digest message went out with `order_ids`: they leave `pending` and are remembered as reported."""
        update: dict[str, Any] = {
            "$set": {"hold_until": hold_until,
                     "window": window.model_dump(mode="python") if window is not None else None},
        }
        if order_ids:
            update["$unset"] = {f"pending.{order_id}": "" for order_id in order_ids}
            update["$push"] = {"reported": {"$each": order_ids, "$slice": -REPORTED_KEPT}}
        await self._c.update_one({"_id": chat_id}, update)
        await self._c.update_one({"_id": chat_id, "pending": {}}, {"$unset": {"due_at": ""}})

    async def release(self, chat_id: str, *, hold_until: datetime) -> None:
        """A send failed: try again after `hold_until`; what was pending stays pending."""
        await self._c.update_one({"_id": chat_id}, {"$set": {"hold_until": hold_until}})
