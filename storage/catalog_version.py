"""The catalog's version: one counter that every catalog write bumps, so that each process's cache of event and
tier definitions (bot/catalog.py) can tell cheaply, by one `_id` lookup, whether it is out of date."""

from __future__ import annotations

from typing import Any

VERSION_ID = "catalog"


class CatalogVersionStore:
    def __init__(self, collection: Any) -> None:
        self._c = collection

    async def current(self) -> int:
        """The version now; 0 before the first catalog write."""
        raw = await self._c.find_one({"_id": VERSION_ID}, {"version": 1})
        return int(raw.get("version", 0)) if raw else 0

    async def bump(self) -> None:
        """Say that the catalog changed (after the writes, so that a reader that sees the new version also sees
        what was written)."""
        await self._c.update_one({"_id": VERSION_ID}, {"$inc": {"version": 1}}, upsert=True)
