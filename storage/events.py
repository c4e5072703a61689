"""Events (the catalog): upserted by id from the events file."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING

from storage.documents import EventDoc


class EventStore:
    def __init__(self, collection: Any) -> None:
        self._c = collection

    async def get(self, event_id: str) -> EventDoc | None:
        return EventDoc.from_mongo(await self._c.find_one({"_id": event_id}))

    async def all(self) -> list[EventDoc]:
        cursor = self._c.find({}).sort("starts_at", ASCENDING)
        return [EventDoc.model_validate(raw) async for raw in cursor]

    async def upsert(self, event: EventDoc) -> None:
        doc = event.to_mongo()
        await self._c.replace_one({"_id": doc["_id"]}, doc, upsert=True)
