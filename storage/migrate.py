"""The start-up migration: documents written before accounts (integer Telegram user ids) get account ids.

Before accounts, a person was an integer Telegram user id in `orders.user_id`, `orders.refunds.*.by`, the
outbox's delivered parts (`user:<id>`, `digest:<id>`), `tickets.user_id`, `tickets.checked_in_by`,
`events.organisers`, and the `_id` of `users`, `drafts` and `digests`. Now each is an account id, a string
(`telegram:<id>`; see bot/accounts.py and docs/channels.md).

`migrate` runs at start, before reconcile. It is recorded in `meta{_id: "schema"}`, so a start after it costs one
`_id` lookup. Every step finds only the documents still in the old shape (`$type: "number"`), so it is idempotent
and a rerun after a crash half-way finishes the job; its cost follows the old documents (none: nothing but the
lookup). A document keyed by an integer (`users`, `drafts`, `digests`) is re-inserted under its string id before
the old one is deleted: a crash between the two leaves both, and the rerun (the insert refused as a duplicate)
deletes the old. Where a string-keyed copy already exists it is kept (it is the newer) and the old one dropped.
The models also read an integer as `telegram:<id>` (storage/documents.py), so a document an old process writes
during a rolling deploy still reads; the next start's migration would not see it (the schema is recorded), but
every reader accepts it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from pymongo.errors import BulkWriteError, DuplicateKeyError

log = logging.getLogger(__name__)

SCHEMA_ID = "schema"
ACCOUNTS = 2  # schema version: account ids (1, implicit: Telegram user ids)
BATCH = 500
OLD = {"$type": "number"}
DUPLICATE_KEY = 11000


def account(value: Any) -> Any:
    """The account id for an old integer id (anything else unchanged)."""
    return f"telegram:{int(value)}" if isinstance(value, int | float) and not isinstance(value, bool) else value


def _part(part: str) -> str:
    """An outbox delivered part named by the old integer id (`user:123`, `digest:123`) in the new form."""
    prefix, sep, rest = part.partition(":")
    if sep and prefix in ("user", "digest") and rest.isdigit():
        return f"{prefix}:telegram:{rest}"
    return part


@dataclass
class MigrationReport:
    skipped: bool = False  # already recorded in meta
    changed: dict[str, int] = field(default_factory=dict)  # documents rewritten, by collection

    def count(self, collection: str, n: int) -> None:
        if n:
            self.changed[collection] = self.changed.get(collection, 0) + n


async def migrate(db: Any) -> MigrationReport:
    """Bring every document to the current schema (see the module docstring); record it in meta."""
    meta = db["meta"]
    current = await meta.find_one({"_id": SCHEMA_ID})
    if current is not None and current.get("version", 0) >= ACCOUNTS:
        return MigrationReport(skipped=True)
    report = MigrationReport()
    await _orders(db["orders"], report)
    await _tickets(db["tickets"], report)
    await _events(db["events"], report)
    for name in ("users", "drafts", "digests"):
        report.count(name, await _rekey(db[name]))
    await meta.update_one({"_id": SCHEMA_ID}, {"$max": {"version": ACCOUNTS}}, upsert=True)
    if report.changed:
        log.warning("schema migration to account ids: %s", ", ".join(f"{n} {c}" for c, n in report.changed.items()))
    return report


async def _orders(orders: Any, report: MigrationReport) -> None:
    """Old orders in batches: one naming people beyond `user_id` (a refund's `by`, an outbox's delivered parts)
    is rewritten whole in one update; the others one update per buyer in the batch. Each update is conditional
    on the old id, so a rerun skips what is done."""
    while True:
        batch = await orders.find({"user_id": OLD}, {"user_id": 1, "refunds": 1, "outbox": 1}).limit(BATCH) \
            .to_list(BATCH)
        if not batch:
            return
        plain: dict[Any, list[Any]] = {}
        for raw in batch:
            fields = _order_fields(raw)
            if len(fields) > 2:
                done = await orders.update_one({"_id": raw["_id"], "user_id": raw["user_id"]}, {"$set": fields})
                report.count("orders", done.modified_count)
            else:
                plain.setdefault(raw["user_id"], []).append(raw["_id"])
        for uid, ids in plain.items():
            done = await orders.update_many({"_id": {"$in": ids}, "user_id": uid},
                                            {"$set": {"user_id": account(uid), "buyer_address": account(uid)}})
            report.count("orders", done.modified_count)


def _order_fields(raw: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {"user_id": account(raw["user_id"]), "buyer_address": account(raw["user_id"])}
    for key, record in (raw.get("refunds") or {}).items():
        if isinstance(record, dict) and record.get("by") is not None:
            fields[f"refunds.{key}.by"] = account(record["by"])
    for kind, entry in (raw.get("outbox") or {}).items():
        if isinstance(entry, dict) and entry.get("delivered"):
            fields[f"outbox.{kind}.delivered"] = [_part(p) for p in entry["delivered"]]
    return fields


async def _tickets(tickets: Any, report: MigrationReport) -> None:
    for name in ("user_id", "checked_in_by"):
        for uid in await tickets.distinct(name, {name: OLD}):
            done = await tickets.update_many({name: uid}, {"$set": {name: account(uid)}})
            report.count("tickets", done.modified_count)


async def _events(events: Any, report: MigrationReport) -> None:
    async for raw in events.find({"organisers": OLD}, {"organisers": 1}):
        done = await events.update_one({"_id": raw["_id"], "organisers": raw["organisers"]},
                                       {"$set": {"organisers": [account(o) for o in raw["organisers"]]}})
        report.count("events", done.modified_count)


async def _rekey(collection: Any) -> int:
    """Re-insert each integer-keyed document under its account id, then delete the old ones; in batches."""
    moved = 0
    while True:
        batch = await collection.find({"_id": OLD}).limit(BATCH).to_list(BATCH)
        if not batch:
            return moved
        copies = [{**raw, "_id": account(raw["_id"])} for raw in batch]
        try:
            await collection.insert_many(copies, ordered=False)
        except BulkWriteError as exc:  # a copy already there (a crash half-way, or written since): keep it
            if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise
        except DuplicateKeyError:
            pass
        await collection.delete_many({"_id": {"$in": [raw["_id"] for raw in batch]}})
        moved += len(batch)

