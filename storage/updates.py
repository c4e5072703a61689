"""Chat updates received from Telegram, kept until handled, so that an update Telegram considers delivered
(acknowledged by the next getUpdates offset, or answered 200 on the webhook) survives the process (docs/faults.md).

`_id` is Telegram's update_id. A handled update keeps a tombstone (`handled_at`) for a day, so that the same
update arriving again (Telegram re-sends what was not acknowledged before a crash) is recognised and dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

HANDLED_TTL_SECONDS = 24 * 3600


class UpdateStore:
    def __init__(self, collection: Any) -> None:
        self._c = collection

    async def keep(self, update_id: int, data: dict[str, Any], at: datetime) -> bool:
        """Store a received update; False if it was already received (then it is queued or handled already)."""
        try:
            await self._c.insert_one({"_id": update_id, "update": data, "received_at": at})
        except DuplicateKeyError:
            return False
        return True

    async def handled(self, update_id: int, at: datetime) -> None:
        await self._c.update_one({"_id": update_id}, {"$set": {"handled_at": at}, "$unset": {"update": ""}})

    async def unhandled(self, limit: int = 10_000) -> list[dict[str, Any]]:
        """Received and not yet handled, oldest first: what a process that died left behind."""
        cursor = self._c.find({"handled_at": {"$exists": False}}).sort("_id", ASCENDING).limit(limit)
        return [raw["update"] async for raw in cursor if "update" in raw]
