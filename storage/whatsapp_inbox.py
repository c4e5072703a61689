"""What the WhatsApp webhook received, kept until handled: one document per received message id, and the
delivery statuses of the messages we sent.

`whatsapp_inbox`, one document per update to handle:

    _id          the message id Meta gave it (`wamid.…`), or `failed:<wamid>` for a failed status of ours: the
                 unique `_id` makes a redelivery a DuplicateKeyError, so it is handled once
    kind         "message" | "failed"
    wa_id        the person (a message's sender, a failed message's recipient): the worker that keeps their order
    raw          the update as Meta sent it (JSON text, bounded), until handled; then removed
    state        "pending" → "handled" | "failed" (gave up after `attempts`)
    received_at  when the webhook took it; unhandled ones are replayed in this order at start
    lease_until  a worker holds it until then (a crash frees it when the lease runs out); never null
    attempts     how many times handling was tried
    expire_at    set once handled or given up: the TTL index removes the document then (long after Meta's
                 redeliveries stop, so a late redelivery is still a duplicate). A pending one never expires.

A `window:<wa_id>` document (kind "closed", state "closed") records that Meta failed a free-form message to
the person with 131047 (outside the 24-hour window) at `received_at`: until they write again, `last_from` says
no window is open, so the retry goes as a template.

`whatsapp_statuses`, one document per message we sent that Meta reported on or the notifier recorded: the
latest status (never moved back by a late `sent` after `delivered`: `rank`), a short history and the first
errors; for a message the notifier sent, which copy it is (`order`, `kind`, `person`, `part`, `detail`,
`sent_at`, `recipient`), so a later `failed` status is matched to it. Removed by TTL 30 days after the last
update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

RAW_MAX = 64 * 1024
KEEP_HANDLED = timedelta(days=8)  # Meta retries a webhook for up to 7 days
KEEP_STATUSES = timedelta(days=30)
HISTORY_KEPT = 8
ERRORS_KEPT = 3

InboxKind = Literal["message", "failed"]
CLOSED = "closed"
# How far a status has come; a status never replaces a later one (Meta does not promise their order).
STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}

INBOX_INDEXES = [
    IndexModel([("expire_at", ASCENDING)], expireAfterSeconds=0, name="inbox_ttl"),
    IndexModel([("state", ASCENDING), ("received_at", ASCENDING)], name="inbox_pending"),
    IndexModel([("wa_id", ASCENDING), ("kind", ASCENDING), ("received_at", ASCENDING)], name="inbox_last_from"),
]
STATUS_INDEXES = [IndexModel([("updated_at", ASCENDING)], expireAfterSeconds=int(KEEP_STATUSES.total_seconds()),
                             name="status_ttl"),
                  IndexModel([("order", ASCENDING), ("kind", ASCENDING)], name="status_order", sparse=True)]


@dataclass(frozen=True)
class InboxEntry:
    id: str
    kind: InboxKind
    wa_id: str
    raw: str
    attempts: int


class WhatsAppInbox:
    """Over the database handle (`Store.db`): its two collections and their indexes."""

    def __init__(self, db: Any) -> None:
        self._inbox = db["whatsapp_inbox"]
        self._statuses = db["whatsapp_statuses"]

    async def ensure_indexes(self) -> None:
        await self._inbox.create_indexes(INBOX_INDEXES)
        await self._statuses.create_indexes(STATUS_INDEXES)

    async def receive(self, entry_id: str, kind: InboxKind, wa_id: str, raw: str, *, now: datetime) -> bool:
        """Keep an update until handled. False if it was received before (a redelivery): skip it."""
        if len(raw) > RAW_MAX:
            raise ValueError(f"update of {len(raw)} characters, at most {RAW_MAX}")
        try:
            await self._inbox.insert_one({"_id": entry_id, "kind": kind, "wa_id": wa_id, "raw": raw,
                                          "state": "pending", "received_at": now, "lease_until": now,
                                          "attempts": 0})
        except DuplicateKeyError:
            return False
        return True

    async def claim(self, entry_id: str, *, now: datetime, lease: timedelta) -> InboxEntry | None:
        """Hold a pending update for handling, unless another worker holds it or it is done."""
        doc = await self._inbox.find_one_and_update(
            {"_id": entry_id, "state": "pending", "lease_until": {"$type": "date", "$lte": now}},
            {"$set": {"lease_until": now + lease}, "$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        return InboxEntry(id=doc["_id"], kind=doc["kind"], wa_id=doc["wa_id"], raw=doc.get("raw", ""),
                          attempts=doc["attempts"])

    async def handled(self, entry_id: str, *, now: datetime) -> None:
        await self._inbox.update_one({"_id": entry_id}, {"$set": {"state": "handled", "expire_at": now + KEEP_HANDLED},
                                                         "$unset": {"raw": ""}})

    async def release(self, entry_id: str, *, retry_at: datetime) -> None:
        """Handling failed: try again after `retry_at`."""
        await self._inbox.update_one({"_id": entry_id, "state": "pending"}, {"$set": {"lease_until": retry_at}})

    async def give_up(self, entry_id: str, *, now: datetime, reason: str) -> None:
        """Handling kept failing: keep the update (for a person to look at) until the TTL removes it."""
        await self._inbox.update_one({"_id": entry_id}, {"$set": {"state": "failed", "reason": reason[:300],
                                                                  "expire_at": now + KEEP_HANDLED}})

    async def unhandled(self, *, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(id, wa_id) of the pending updates nobody holds, oldest first: what a crash left behind."""
        cursor = self._inbox.find({"state": "pending", "lease_until": {"$type": "date", "$lte": now}},
                                  {"_id": 1, "wa_id": 1}).sort("received_at", ASCENDING).limit(limit)
        return [(doc["_id"], doc.get("wa_id", "")) async for doc in cursor]

    async def state(self, entry_id: str) -> str | None:
        doc = await self._inbox.find_one({"_id": entry_id}, {"state": 1})
        return doc["state"] if doc else None

    async def last_from(self, wa_id: str) -> datetime | None:
        """When the person's latest message reached us (None: none in the last 8 days): the start of their
        24-hour customer-service window, for the notifier (handlers/whatsapp/notifier.py)."""
        doc = await self._inbox.find_one({"wa_id": wa_id, "kind": {"$in": ["message", CLOSED]}},
                                         {"received_at": 1, "kind": 1}, sort=[("received_at", DESCENDING)])
        if doc is None or doc.get("kind") == CLOSED:
            return None  # none, or Meta said the window closed after their last message (131047)
        received: datetime | None = doc.get("received_at")
        return received

    async def close_window(self, wa_id: str, *, at: datetime, now: datetime) -> None:
        """Meta failed a free-form message to the person with 131047 at `at`: no window until they write again."""
        await self._inbox.update_one(
            {"_id": f"window:{wa_id}"},
            {"$max": {"received_at": at}, "$set": {"kind": CLOSED, "wa_id": wa_id, "state": CLOSED,
                                                   "lease_until": at, "expire_at": now + KEEP_HANDLED}},
            upsert=True)

    async def record_sent(self, message_id: str, *, recipient: str, order: str, kind: str, person: str, part: str,
                          detail: dict[str, Any], now: datetime) -> None:
        """Which copy of which order's message a wamid is (the notifier, right after Meta accepted it)."""
        await self._statuses.update_one(
            {"_id": message_id},
            {"$set": {"order": order, "kind": kind, "person": person, "part": part, "detail": detail,
                      "recipient": recipient, "sent_at": now, "updated_at": now}},
            upsert=True)

    async def record_status(self, message_id: str, status: str, *, at: datetime, recipient: str | None,
                            errors: list[dict[str, Any]], now: datetime) -> None:
        """The latest status of a message we sent, with a short history (bounded). A status that comes after a
        later one (`sent` after `delivered`) goes into the history only."""
        rank = STATUS_RANK.get(status, 0)
        history = {"history": {"$each": [{"status": status, "at": at}], "$slice": -HISTORY_KEPT}}
        fields: dict[str, Any] = {"status": status, "status_at": at, "rank": rank, "updated_at": now}
        if recipient is not None:
            fields["recipient"] = recipient
        if errors:
            fields["errors"] = errors[:ERRORS_KEPT]
        try:
            await self._statuses.update_one(
                {"_id": message_id, "$or": [{"rank": {"$exists": False}}, {"rank": {"$lt": rank}}]},
                {"$set": fields, "$push": history}, upsert=True)
        except DuplicateKeyError:  # it exists with a later status: keep that one
            await self._statuses.update_one({"_id": message_id}, {"$set": {"updated_at": now}, "$push": history})

    async def arrived(self, order: str, kind: str, person: str) -> list[str]:
        """The parts of an order's message sent to one person that Meta has not reported failed."""
        cursor = self._statuses.find({"order": order, "kind": kind, "person": person, "status": {"$ne": "failed"}},
                                     {"part": 1}).limit(200)
        return [doc["part"] async for doc in cursor if isinstance(doc.get("part"), str)]

    async def status_of(self, message_id: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self._statuses.find_one({"_id": message_id})
        return doc
