"""The start-up migration to account ids, on documents in the shape today's version writes them (integer Telegram
ids), on both stores: once, idempotent, and finished by a rerun after a crash half-way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.services import Services
from storage import migrate as migration
from storage.documents import OrderStatus
from storage.migrate import SCHEMA_ID, migrate

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
JAZZ = "jazz-senja-2026"
BUYERS = (900000101, 900000102, 900000103)
ORGANISER, ADMIN = 900000002, 900000003


def old_order(n: int, uid: int, status: str = "paid", **extra: Any) -> dict[str, Any]:
    """An order as today's OrderDoc.to_mongo() writes it: `user_id` a Telegram id (int)."""
    return {
        "_id": f"KRC-2612-OLD{n:07d}", "user_id": uid, "event_id": JAZZ,
        "lines": [{"tier": "REG", "name": "Reguler", "price": 250000, "qty": 1}], "seats": 1, "total": 250000,
        "buyer": {"name": "Sinta", "email": "sinta@example.com", "phone": "+6281234567890"}, "status": status,
        "created_at": NOW, "expires_at": NOW + timedelta(minutes=30), "updated_at": NOW,
        "paid_at": NOW if status == "paid" else None, "history": [], "payment": {}, "outbox": {}, "sent": {},
        "notify_due_at": None, "delivery_lease_until": None, "refunded_amount": 0, "refunds": {},
        "refund_claims": [], "returned": [], "poll_due_at": None, **extra,
    }


def old_ticket(code: str, order_id: str, uid: int, checked_by: int | None = None) -> dict[str, Any]:
    return {"_id": code, "order_id": order_id, "seq": 1, "event_id": JAZZ, "tier": "REG", "tier_name": "Reguler",
            "holder_name": "Sinta", "user_id": uid, "status": "valid", "issued_at": NOW,
            "checked_in_at": NOW if checked_by else None, "checked_in_by": checked_by, "void_reason": None,
            "voided_at": None}


async def seed_old_shape(services: Services) -> None:
    """Today's documents: three buyers' orders (one with a refund and an outbox half delivered by id), their
    tickets (one checked in), their user, draft and digest documents, and an event with integer organisers."""
    db = services.store.db
    refund = {"id": "k1", "refund_key": "k1", "amount": 250000, "tickets": [], "ticket_amount": 0,
              "source": "karcis", "kind": "refund", "by": ADMIN, "reason": "", "at": NOW, "status": "done"}
    outbox = {"sale": {"created_at": NOW, "attempts": 1, "last_error": None, "detail": {},
                       "delivered": [f"digest:{ORGANISER}", "user:424242"]},
              "paid": {"created_at": NOW, "attempts": 1, "last_error": None, "detail": {},
                       "delivered": ["buyer", "ticket:TCKTAAAAAA"]}}
    await db["orders"].insert_many([
        old_order(1, BUYERS[0], refunds={"k1": refund}, refunded_amount=0),
        old_order(2, BUYERS[0], outbox=outbox, notify_due_at=NOW),
        old_order(3, BUYERS[1], status="pending"),
        *(old_order(10 + i, BUYERS[2]) for i in range(5)),
    ])
    await db["tickets"].insert_many([
        old_ticket("TCKTAAAAAA", "KRC-2612-OLD0000002", BUYERS[0], checked_by=ORGANISER),
        *(old_ticket(f"TCKTB{i:05d}", f"KRC-2612-OLD{10 + i:07d}", BUYERS[2]) for i in range(5)),
    ])
    await db["users"].insert_many([
        {"_id": BUYERS[1], "pending_orders": 1, "recent_reservations": [], "language": "id", "name": "Budi",
         "last_buyer": {"name": "Budi", "email": "budi@example.com", "phone": "+6281111111111"}},
        *({"_id": uid, "pending_orders": 0, "recent_reservations": [], "language": "en", "name": f"U{uid}",
           "last_buyer": None} for uid in (BUYERS[0], BUYERS[2], ORGANISER)),
    ])
    await db["drafts"].insert_one({"_id": BUYERS[0], "purchase": {
        "nonce": "n1", "event_id": JAZZ, "cart": {"REG": 1}, "awaiting": "email", "name": "Sinta"},
        "scan_until": None, "updated_at": NOW})
    await db["digests"].insert_one({"_id": ORGANISER, "pending": {}, "reported": ["KRC-2612-OLD0000001"],
                                    "window": None, "due_at": None, "hold_until": NOW})
    await db["events"].update_one({"_id": JAZZ}, {"$set": {"organisers": [ORGANISER, 900000004]}})


async def assert_migrated(services: Services) -> None:
    db, store = services.store.db, services.store
    for name, field in (("orders", "user_id"), ("tickets", "user_id"), ("tickets", "checked_in_by"),
                        ("users", "_id"), ("drafts", "_id"), ("digests", "_id"), ("events", "organisers")):
        assert await db[name].count_documents({field: {"$type": "number"}}) == 0, (name, field)
    assert await db["orders"].count_documents({}) == 8
    assert await db["tickets"].count_documents({}) == 6
    assert await db["users"].count_documents({}) == 4 and await db["drafts"].count_documents({}) == 1

    sinta, budi, third = (f"telegram:{u}" for u in BUYERS)
    assert [o.id for o in await store.orders.for_user(budi)] == ["KRC-2612-OLD0000003"]
    assert len(await store.orders.for_user(third)) == 5 and len(await store.tickets.for_user(third)) == 5
    refunded = await store.orders.get("KRC-2612-OLD0000001")
    assert refunded.refunds["k1"].by == f"telegram:{ADMIN}" and refunded.buyer_address == sinta
    half = await store.orders.get("KRC-2612-OLD0000002")
    assert half.outbox["sale"].delivered == [f"digest:telegram:{ORGANISER}", "user:telegram:424242"]
    assert half.outbox["paid"].delivered == ["buyer", "ticket:TCKTAAAAAA"]
    checked = await store.tickets.get("TCKTAAAAAA")
    assert (checked.user_id, checked.checked_in_by) == (sinta, f"telegram:{ORGANISER}")
    user = await store.users.get(budi)
    assert (user.pending_orders, user.language, user.last_buyer.name) == (1, "id", "Budi")
    draft = await store.drafts.get(sinta)
    assert draft.purchase.nonce == "n1" and draft.purchase.name == "Sinta"
    digest = await store.digests.get(f"telegram:{ORGANISER}")
    assert digest.reported == ["KRC-2612-OLD0000001"]
    event = await store.events.get(JAZZ)
    assert event.organisers == [f"telegram:{ORGANISER}", "telegram:900000004"]
    assert await db["meta"].find_one({"_id": SCHEMA_ID}) == {"_id": SCHEMA_ID, "version": migration.ACCOUNTS}


async def test_todays_documents_are_rewritten_once(services: Services) -> None:
    await seed_old_shape(services)
    report = await migrate(services.store.db)
    assert report.changed == {"orders": 8, "tickets": 7, "events": 1, "users": 4, "drafts": 1, "digests": 1}
    await assert_migrated(services)

    # the services work on them as on new ones
    services.catalog.invalidate()
    budi = f"telegram:{BUYERS[1]}"
    [pending] = await services.orders.pending_for_user(budi)
    assert (await services.orders.cancel(pending.id, budi)).status == OrderStatus.CANCELLED
    assert (await services.store.users.get(budi)).pending_orders == 0
    assert JAZZ in [e.id for e in await services.access.organised_events(f"telegram:{ORGANISER}")]

    again = await migrate(services.store.db)
    assert again.skipped and again.changed == {}


async def test_a_store_with_nothing_old_is_only_recorded(services: Services) -> None:
    report = await migrate(services.store.db)
    assert not report.skipped and report.changed == {}
    assert (await migrate(services.store.db)).skipped


class Crash(Exception):
    pass


class _Collection:
    """A collection that crashes on the `nth` call of `method` (the process dies there)."""

    def __init__(self, real: Any, plan: dict[str, int]) -> None:
        self._real, self._plan = real, plan

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        if name not in self._plan:
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._plan[name] -= 1
            if self._plan[name] == 0:
                raise Crash(name)
            return await attr(*args, **kwargs)
        return call


class CrashingDb:
    def __init__(self, real: Any, collection: str, method: str, nth: int) -> None:
        self._real, self._collection, self._plan = real, collection, {method: nth}

    def __getitem__(self, name: str) -> Any:
        real = self._real[name]
        return _Collection(real, self._plan) if name == self._collection else real


@pytest.mark.parametrize(("collection", "method", "nth"), [
    ("orders", "update_many", 2),     # some orders rewritten, not all
    ("tickets", "update_many", 3),    # some buyers' tickets rewritten, not the check-ins
    ("users", "delete_many", 1),      # users copied under their new id, the old ones not yet deleted
    ("users", "insert_many", 2),      # one batch moved, the next not copied
    ("digests", "insert_many", 1),    # everything but the digests
    ("meta", "update_one", 1),        # all done but not recorded
])
async def test_a_crash_half_way_is_finished_by_the_next_start(
    services: Services, monkeypatch: pytest.MonkeyPatch, collection: str, method: str, nth: int,
) -> None:
    monkeypatch.setattr(migration, "BATCH", 2)  # several batches, so that a crash can fall between two
    await seed_old_shape(services)
    with pytest.raises(Crash):
        await migrate(CrashingDb(services.store.db, collection, method, nth))
    assert await services.store.db["meta"].find_one({"_id": SCHEMA_ID}) is None  # not recorded: runs again

    report = await migrate(services.store.db)
    assert not report.skipped
    await assert_migrated(services)
    assert (await migrate(services.store.db)).skipped
