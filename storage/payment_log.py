"""The append-only record of every payment notification, verified or not."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument


class PaymentLog:
    def __init__(self, collection: Any) -> None:
        self._c = collection

    async def append(self, entry: dict[str, Any]) -> None:
        await self._c.insert_one(dict(entry))

    async def append_unverified(self, entry: dict[str, Any], *, window: datetime, keep: int) -> bool:
        """Count an unverified notification in its window's summary document (`_id` `unverified:<window>`: how
        many, by outcome, and bytes received), and keep it as a row only if it is among the first `keep` of the
        window. True if kept as a row."""
        summary = await self._c.find_one_and_update(
            {"_id": f"unverified:{window.isoformat()}"},
            {"$inc": {"count": 1, f"outcomes.{entry.get('outcome', 'unknown')}": 1,
                      "bytes": int(entry.get("raw_bytes", 0))},
             "$setOnInsert": {"summary": "unverified notifications", "window_start": window},
             "$max": {"last_at": entry.get("received_at")}},
            upsert=True, return_document=ReturnDocument.AFTER,
        )
        if summary["count"] > keep:
            return False
        await self._c.insert_one(dict(entry))
        return True

    async def unverified_summaries(self) -> list[dict[str, Any]]:
        return [raw async for raw in self._c.find({"summary": "unverified notifications"}).sort("window_start", 1)]

    async def for_order(self, order_id: str) -> list[dict[str, Any]]:
        return [raw async for raw in self._c.find({"order_id": order_id}).sort("received_at", 1)]
