"""Orders. A status change is one conditional update on (order id, expected status): exactly one racer wins."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument

from storage.documents import OrderDoc, OrderStatus, StatusChange


def _one_of(ids: str | Sequence[str]) -> Any:
    """A `user_id` condition: the id itself, or `$in` several."""
    if isinstance(ids, str):
        return ids
    return ids[0] if len(ids) == 1 else {"$in": list(ids)}


class OrderStore:
    def __init__(self, collection: Any) -> None:
        self._c = collection

    async def insert(self, order: OrderDoc) -> None:
        await self._c.insert_one(order.to_mongo())

    async def discard_unheld(self, order_id: str) -> None:
        """Forget a reservation that was refused after its order was written (it holds nothing, was never shown)."""
        await self._c.delete_one({"_id": order_id, "status": OrderStatus.PENDING.value})

    async def get_many(self, order_ids: Iterable[str]) -> dict[str, OrderDoc]:
        """The orders that exist among `order_ids`, by id (reconcile's view of the ledger's orders)."""
        ids = list(set(order_ids))
        if not ids:
            return {}
        return {raw["_id"]: OrderDoc.model_validate(raw) async for raw in self._c.find({"_id": {"$in": ids}})}

    async def get(self, order_id: str) -> OrderDoc | None:
        return OrderDoc.from_mongo(await self._c.find_one({"_id": order_id}))

    async def transition(
        self,
        order_id: str,
        expected: OrderStatus | Iterable[OrderStatus],
        new: OrderStatus,
        *,
        at: datetime,
        note: str = "",
        extra_filter: dict[str, Any] | None = None,
        set_fields: dict[str, Any] | None = None,
    ) -> OrderDoc | None:
        """Move the order to `new` if it is in `expected`; the updated order, or None if another change won."""
        statuses = [expected] if isinstance(expected, OrderStatus) else list(expected)
        query: dict[str, Any] = {"_id": order_id, "status": {"$in": [s.value for s in statuses]}}
        query.update(extra_filter or {})
        change = StatusChange(status=new, at=at, note=note).model_dump(mode="python")
        raw = await self._c.find_one_and_update(
            query,
            {"$set": {"status": new.value, "updated_at": at, **(set_fields or {})}, "$push": {"history": change}},
            return_document=ReturnDocument.AFTER,
        )
        return OrderDoc.from_mongo(raw)

    async def update_fields_if(
        self, order_id: str, condition: dict[str, Any], fields: dict[str, Any]
    ) -> OrderDoc | None:
        """Set fields only if the order matches `condition` (one atomic update); None if it did not."""
        raw = await self._c.find_one_and_update(
            {"_id": order_id, **condition}, {"$set": fields}, return_document=ReturnDocument.AFTER
        )
        return OrderDoc.from_mongo(raw)

    async def due_for_expiry(self, now: datetime, limit: int, *, skip: int = 0) -> list[OrderDoc]:
        """Pending orders whose hold has ended, oldest first (served by the status + expires_at index);
        `skip`: the first ones the caller decided to keep this time."""
        cursor = (
            self._c.find({"status": OrderStatus.PENDING.value, "expires_at": {"$lte": now}})
            .sort([("expires_at", ASCENDING), ("_id", ASCENDING)])
            .skip(skip)
            .limit(limit)
        )
        return [OrderDoc.model_validate(raw) async for raw in cursor]

    # ---- refunds by amount and status polling (docs/money.md) ------------------------------------------------

    async def change_if(
        self, order_id: str, condition: dict[str, Any], *, set_fields: dict[str, Any] | None = None,
        inc: dict[str, int] | None = None, push: dict[str, list[Any]] | None = None,
        claim: list[str] | None = None, unclaim: list[str] | None = None, unset: list[str] | None = None,
    ) -> OrderDoc | None:
        """One atomic update of an order that matches `condition`: set fields, add to counters, append to
        lists (`push`: field → items), claim or give back ticket codes in `refund_claims`, unset fields.
        The updated order, or None if it did not match."""
        update: dict[str, Any] = {}
        if set_fields:
            update["$set"] = set_fields
        if inc:
            update["$inc"] = inc
        if push:
            update["$push"] = {k: {"$each": v} for k, v in push.items()}
        if claim:
            update["$addToSet"] = {"refund_claims": {"$each": claim}}
        if unclaim:
            update["$pull"] = {"refund_claims": {"$in": unclaim}}
        if unset:
            update["$unset"] = {k: "" for k in unset}
        raw = await self._c.find_one_and_update({"_id": order_id, **condition}, update,
                                                return_document=ReturnDocument.AFTER)
        return OrderDoc.from_mongo(raw)

    @staticmethod
    def unclaimed(codes: list[str]) -> dict[str, Any]:
        """A condition: none of these ticket codes is claimed by a refund."""
        return {"refund_claims": {"$nin": codes}}

    async def due_for_poll(self, now: datetime, limit: int) -> list[OrderDoc]:
        """Orders whose Midtrans status should be asked now, oldest due first (served by the poll_due index)."""
        cursor = (self._c.find({"poll_due_at": {"$lte": now, "$type": "date"}})
                  .sort("poll_due_at", ASCENDING).limit(limit))
        return [OrderDoc.model_validate(raw) async for raw in cursor]

    async def set_poll(self, order_id: str, at: datetime | None) -> None:
        await self._c.update_one({"_id": order_id}, {"$set": {"poll_due_at": at}})

    async def returned_by_tier(self, statuses: Iterable[OrderStatus]) -> dict[tuple[str, str], int]:
        """Σ seats given back by refunds per (event id, tier code) over orders in `statuses`."""
        pipeline = [
            {"$match": {"status": {"$in": [s.value for s in statuses]}, "returned.0": {"$exists": True}}},
            {"$unwind": "$returned"},
            {"$group": {"_id": {"event": "$event_id", "tier": "$returned.tier"}, "seats": {"$sum": "$returned.qty"}}},
        ]
        rows = await self._c.aggregate(pipeline).to_list(None)
        return {(r["_id"]["event"], r["_id"]["tier"]): r["seats"] for r in rows}

    async def returned_revenue_by_tier(self) -> dict[tuple[str, str], int]:
        """Σ price × qty given back by partial refunds per (event id, tier code), over paid orders."""
        pipeline = [
            {"$match": {"status": OrderStatus.PAID.value, "returned.0": {"$exists": True}}},
            {"$unwind": "$returned"},
            {"$group": {"_id": {"event": "$event_id", "tier": "$returned.tier"},
                        "amount": {"$sum": {"$multiply": ["$returned.price", "$returned.qty"]}}}},
        ]
        rows = await self._c.aggregate(pipeline).to_list(None)
        return {(r["_id"]["event"], r["_id"]["tier"]): r["amount"] for r in rows}

    async def money_by_event(self) -> dict[tuple[str, str], tuple[int, int, int]]:
        """(orders, Σ total, Σ refunded_amount) per (event id, status), for the books."""
        pipeline = [
            {"$group": {"_id": {"event": "$event_id", "status": "$status"}, "n": {"$sum": 1},
                        "total": {"$sum": "$total"}, "refunded": {"$sum": {"$ifNull": ["$refunded_amount", 0]}}}},
        ]
        rows = await self._c.aggregate(pipeline).to_list(None)
        return {(r["_id"]["event"], r["_id"]["status"]): (r["n"], r["total"], r["refunded"]) for r in rows}

    async def with_refunds(self, statuses: Iterable[OrderStatus]) -> list[OrderDoc]:
        """Orders in `statuses` that have a refund record (reconcile voids the tickets those name)."""
        cursor = self._c.find({"status": {"$in": [s.value for s in statuses]}, "refund_claims.0": {"$exists": True}})
        return [OrderDoc.model_validate(raw) async for raw in cursor]

    async def for_user(self, user_id: str | Sequence[str],
                       statuses: Iterable[OrderStatus] | None = None) -> list[OrderDoc]:
        """A person's orders: keyed by `user_id`, or by any of several ids (an account's id and linked addresses)."""
        query: dict[str, Any] = {"user_id": _one_of(user_id)}
        if statuses is not None:
            query["status"] = {"$in": [s.value for s in statuses]}
        cursor = self._c.find(query).sort("created_at", ASCENDING)
        return [OrderDoc.model_validate(raw) async for raw in cursor]

    async def with_status(self, statuses: Iterable[OrderStatus]) -> list[OrderDoc]:
        cursor = self._c.find({"status": {"$in": [s.value for s in statuses]}})
        return [OrderDoc.model_validate(raw) async for raw in cursor]

    async def seats_by_tier(self, statuses: Iterable[OrderStatus]) -> dict[tuple[str, str, str], int]:
        """Σ qty per (event id, tier code, status) over orders in `statuses`, by aggregation."""
        pipeline = [
            {"$match": {"status": {"$in": [s.value for s in statuses]}}},
            {"$unwind": "$lines"},
            {"$group": {
                "_id": {"event": "$event_id", "tier": "$lines.tier", "status": "$status"},
                "seats": {"$sum": "$lines.qty"},
            }},
        ]
        rows = await self._c.aggregate(pipeline).to_list(None)
        return {(r["_id"]["event"], r["_id"]["tier"], r["_id"]["status"]): r["seats"] for r in rows}

    async def revenue_by_tier(self) -> dict[tuple[str, str], int]:
        """Σ price × qty per (event id, tier code) over paid orders."""
        pipeline = [
            {"$match": {"status": OrderStatus.PAID.value}},
            {"$unwind": "$lines"},
            {"$group": {
                "_id": {"event": "$event_id", "tier": "$lines.tier"},
                "revenue": {"$sum": {"$multiply": ["$lines.price", "$lines.qty"]}},
            }},
        ]
        rows = await self._c.aggregate(pipeline).to_list(None)
        return {(r["_id"]["event"], r["_id"]["tier"]): r["revenue"] for r in rows}

    async def pending_count_by_user(self) -> dict[str, int]:
        pipeline = [
            {"$match": {"status": OrderStatus.PENDING.value}},
            {"$group": {"_id": "$user_id", "n": {"$sum": 1}}},
        ]
        return {r["_id"]: r["n"] for r in await self._c.aggregate(pipeline).to_list(None)}

    # ---- the outbox of messages an order owes ----------------------------------------------------------------

    async def due_for_delivery(self, now: datetime, limit: int) -> list[OrderDoc]:
        cursor = self._c.find({"notify_due_at": {"$lte": now}}).sort("notify_due_at", ASCENDING).limit(limit)
        return [OrderDoc.model_validate(raw) async for raw in cursor]

    async def claim_delivery(self, order_id: str, *, now: datetime, until: datetime) -> OrderDoc | None:
        """Take the order's outbox for delivery until `until` (a lease), if it is due and nobody holds a lease on
        it. Meanwhile it is due again at `until`, so a delivery that dies is retried after its lease ends."""
        raw = await self._c.find_one_and_update(
            {"_id": order_id, "notify_due_at": {"$type": "date", "$lte": now},
             "$or": [{"delivery_lease_until": None}, {"delivery_lease_until": {"$lte": now}}]},
            {"$set": {"notify_due_at": until, "delivery_lease_until": until}},
            return_document=ReturnDocument.AFTER,
        )
        return OrderDoc.from_mongo(raw)

    async def renew_delivery(self, order_id: str, *, lease: datetime, until: datetime,
                             part: tuple[str, str] | None = None) -> bool:
        """Extend a delivery lease still held (`lease` is its current end) to `until`, recording in the same
        update the part (kind, part) just sent. False if the lease is no longer this delivery's."""
        update: dict[str, Any] = {"$set": {"delivery_lease_until": until}}
        if part is not None:
            update["$addToSet"] = {f"outbox.{part[0]}.delivered": part[1]}
        result = await self._c.update_one({"_id": order_id, "delivery_lease_until": lease}, update)
        return result.matched_count == 1  # (a renewal to the same instant modifies nothing, and still holds)

    async def mark_part_sent(self, order_id: str, kind: str, part: str) -> None:
        """Record one part of a message as sent outside a delivery (an older delivery's record, say)."""
        await self._c.update_one({"_id": order_id, f"outbox.{kind}": {"$exists": True}},
                                 {"$addToSet": {f"outbox.{kind}.delivered": part}})

    async def reowe(self, order_id: str, kind: str, *, part: str, person: str, entry: dict[str, Any],
                    sent_at: datetime, now: datetime, stamp: str | None = None) -> str:
        """Owe again one person's copy of a message a channel reported failed after sending it (`part` was sent
        at `sent_at`), unless a delivery holds the order's lease. One conditional update:

        - the message is still owed to everyone (its first delivery is not over): `part` is taken out of
          `delivered`, so the retry sends it;
        - it is owed as a re-delivery already: `part` out of `delivered`, `person` added to `redo`;
        - it was delivered: `entry` (a re-delivery, `redo: [person]`, its `delivered` the person's copies that
          did arrive) goes back in the outbox, unless it was owed again under `stamp` (default: the part) after
          `sent_at` (a later report about a copy that re-delivery has replaced; a stamp naming the person says
          the re-delivery replaces all their copies, as WhatsApp's tickets template does).

        Returns "owed", "covered" (nothing to do), "busy" (a delivery holds the lease: ask again later) or "gone"
        (no such order). Every case makes the order due now; none can owe the same copy twice."""
        box = f"outbox.{kind}"
        free = {"$or": [{"delivery_lease_until": None}, {"delivery_lease_until": {"$lte": now}}]}
        stamp = f"redone.{kind}.{stamp or part}"
        due = {"notify_due_at": now}
        for _ in range(3):
            result = await self._c.update_one(
                {"_id": order_id, **free, box: {"$exists": True}, f"{box}.redo.0": {"$exists": False}},
                {"$pull": {f"{box}.delivered": part}, "$set": due})
            if result.matched_count:
                return "owed"
            result = await self._c.update_one(
                {"_id": order_id, **free, f"{box}.redo.0": {"$exists": True}},
                {"$pull": {f"{box}.delivered": part}, "$addToSet": {f"{box}.redo": person}, "$set": due})
            if result.matched_count:
                return "owed"
            result = await self._c.update_one(
                {"_id": order_id, box: {"$exists": False},
                 "$and": [free, {"$or": [{stamp: {"$exists": False}}, {stamp: {"$lt": sent_at}}]}]},
                {"$set": {box: {**entry, "redo": [person]}, stamp: now, **due}})
            if result.matched_count:
                return "owed"
            raw = await self._c.find_one({"_id": order_id}, {"delivery_lease_until": 1, box: 1})
            if raw is None:
                return "gone"
            lease = raw.get("delivery_lease_until")
            if lease is not None and (lease if lease.tzinfo else lease.replace(tzinfo=UTC)) > now:
                return "busy"
            if kind not in raw.get("outbox", {}):
                return "covered"
        return "busy"  # the outbox changed under each try: let the caller come back

    async def release_delivery(
        self, order_id: str, *, lease: datetime, due: datetime, next_at: datetime | None,
        sent: dict[str, datetime], failed: dict[str, str],
    ) -> bool:
        """End a delivery lease in one update: the kinds `sent` leave the outbox, the `failed` ones count an
        attempt, the next attempt is at `next_at` (None: nothing owed). False if a change owed a new message
        meanwhile (it made the order due again, and that stands; the caller should deliver again) or the lease
        was lost."""
        fields: dict[str, Any] = {"delivery_lease_until": None, **{f"sent.{k}": at for k, at in sent.items()},
                                  **{f"outbox.{k}.last_error": e[:500] for k, e in failed.items()}}
        update: dict[str, Any] = {"$set": fields}
        if sent:
            update["$unset"] = {f"outbox.{k}": "" for k in sent}
        if failed:
            update["$inc"] = {f"outbox.{k}.attempts": 1 for k in failed}
        query = {"_id": order_id, "delivery_lease_until": lease}
        result = await self._c.update_one({**query, "notify_due_at": due},
                                          {**update, "$set": {**fields, "notify_due_at": next_at}})
        if result.modified_count == 1:
            return True
        await self._c.update_one(query, update)
        return False
