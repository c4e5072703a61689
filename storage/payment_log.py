"""The append-only record of every payment notification, verified or not."""

from __future__ import annotations

from typing import Any


class PaymentLog:
    def __init__(self, collection: Any) -> None:
        self._c = collection

    async def append(self, entry: dict[str, Any]) -> None:
        await self._c.insert_one(dict(entry))

    async def for_order(self, order_id: str) -> list[dict[str, Any]]:
        return [raw async for raw in self._c.find({"order_id": order_id}).sort("received_at", 1)]
