"""Drafts: what each chat is in the middle of (a purchase being filled in, a QR scan being awaited), one document
per user, so that a restart or a second instance continues where the buyer was. Old drafts expire by TTL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from storage.documents import ContactStep, DraftDoc, PurchaseDraft

DRAFT_TTL_SECONDS = 2 * 24 * 3600


class DraftStore:
    def __init__(self, collection: Any) -> None:
        self._c = collection

    async def get(self, user_id: str) -> DraftDoc | None:
        return DraftDoc.from_mongo(await self._c.find_one({"_id": user_id}))

    async def start_purchase(self, user_id: str, purchase: PurchaseDraft, *, at: datetime) -> None:
        """Begin a purchase draft, replacing any earlier one (the scan flag is left alone)."""
        await self._c.update_one(
            {"_id": user_id},
            {"$set": {"purchase": purchase.model_dump(mode="python"), "updated_at": at}},
            upsert=True,
        )

    async def update_purchase(
        self, user_id: str, nonce: str, fields: dict[str, Any], *, at: datetime,
        awaiting: ContactStep | None | object = ...,
    ) -> PurchaseDraft | None:
        """Set fields of the draft named `nonce` (and, if given, only while it awaits `awaiting`); the updated
        draft, or None if it was replaced, taken or moved on meanwhile."""
        query: dict[str, Any] = {"_id": user_id, "purchase.nonce": nonce}
        if awaiting is not ...:
            query["purchase.awaiting"] = awaiting.value if isinstance(awaiting, ContactStep) else awaiting
        raw = await self._c.find_one_and_update(
            query,
            {"$set": {**{f"purchase.{k}": v for k, v in fields.items()}, "updated_at": at}},
            return_document=ReturnDocument.AFTER,
        )
        doc = DraftDoc.from_mongo(raw)
        return doc.purchase if doc else None

    async def take_purchase(self, user_id: str, nonce: str) -> PurchaseDraft | None:
        """Remove the draft named `nonce` and return it: of two confirm presses, exactly one gets it."""
        raw = await self._c.find_one_and_update(
            {"_id": user_id, "purchase.nonce": nonce}, {"$set": {"purchase": None}},
            return_document=ReturnDocument.BEFORE,
        )
        doc = DraftDoc.from_mongo(raw)
        return doc.purchase if doc else None

    async def restore_purchase(self, user_id: str, purchase: PurchaseDraft, *, at: datetime) -> None:
        """Put back a taken draft whose reservation was refused, unless a newer draft was started meanwhile."""
        await self._c.update_one(
            {"_id": user_id, "purchase": None},
            {"$set": {"purchase": purchase.model_dump(mode="python"), "updated_at": at}},
        )

    async def drop_purchase(self, user_id: str, nonce: str | None = None) -> bool:
        """Forget the purchase draft (only the one named `nonce`, if given). True if there was one."""
        query: dict[str, Any] = {"_id": user_id, "purchase": {"$ne": None}}
        if nonce is not None:
            query["purchase.nonce"] = nonce
        result = await self._c.update_one(query, {"$set": {"purchase": None}})
        return result.modified_count == 1

    async def set_scan_until(self, user_id: str, until: datetime | None, *, at: datetime) -> None:
        """Treat the user's photos as QR scans until `until` (None: stop)."""
        await self._c.update_one({"_id": user_id}, {"$set": {"scan_until": until, "updated_at": at}}, upsert=True)
