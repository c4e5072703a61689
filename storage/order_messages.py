"""Which messages offer actions on an order (docs/order-messages.md): kept on the order document itself, in
`action_messages` (bounded, newest last), so that whoever holds the order after a status change (the delivery,
the cancel that won) knows them without another query. Also the purchase draft an order was confirmed from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import DESCENDING

from storage.documents import ActionMessage, OrderDoc, OrderStatus
from storage.orders import _one_of


class OrderMessageStore:
    """Over the `orders` collection: only the `action_messages` and `draft_nonce` fields."""

    def __init__(self, collection: Any) -> None:
        self._c = collection

    async def add(self, order_ids: Sequence[str], message: ActionMessage, *, keep: int,
                  draft_nonce: str | None = None) -> None:
        """Record `message` on each order (one command for any number of orders): appended unless that message
        is already recorded there, only the newest `keep` kept. `draft_nonce` is set with it (one order only)."""
        ids = list(dict.fromkeys(order_ids))
        if not ids:
            return
        update: dict[str, Any] = {"$push": {"action_messages": {"$each": [message.model_dump(mode="python")],
                                                                 "$slice": -keep}}}
        if draft_nonce is not None:
            update["$set"] = {"draft_nonce": draft_nonce}
        query: dict[str, Any] = {"action_messages.key": {"$ne": message.key}}
        if len(ids) == 1:
            result = await self._c.update_one({"_id": ids[0], **query}, update)
            if result.matched_count == 0 and draft_nonce is not None:  # already recorded: the nonce alone
                await self._c.update_one({"_id": ids[0]}, {"$set": {"draft_nonce": draft_nonce}})
        else:
            await self._c.update_many({"_id": {"$in": ids}, **query}, update)

    async def set_draft(self, order_id: str, draft_nonce: str) -> None:
        await self._c.update_one({"_id": order_id}, {"$set": {"draft_nonce": draft_nonce}})

    async def of_draft(self, user_id: str | Sequence[str], draft_nonce: str) -> OrderDoc | None:
        """The user's order confirmed from the draft `draft_nonce` (the user_orders index narrows it to the user;
        `user_id` may be several ids: an account's id and its linked addresses)."""
        return OrderDoc.from_mongo(await self._c.find_one({"user_id": _one_of(user_id), "draft_nonce": draft_nonce}))

    async def listing(self, user_id: str | Sequence[str], statuses: Sequence[OrderStatus],
                      limit: int) -> list[OrderDoc]:
        """The user's orders in `statuses`, by status (descending: `pending` before `paid`), newest first within
        one, at most `limit`: one query over the user_orders index (user_id, status, created_at)."""
        cursor = (self._c.find({"user_id": _one_of(user_id), "status": {"$in": [s.value for s in statuses]}})
                  .sort([("status", DESCENDING), ("created_at", DESCENDING)]).limit(limit))
        return [OrderDoc.model_validate(raw) async for raw in cursor]
