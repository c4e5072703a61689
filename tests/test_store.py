"""The store: indexes created idempotently at every start, and readiness."""

from __future__ import annotations

from storage.store import INDEXES, Store


async def test_indexes_are_created_and_creating_them_again_changes_nothing(store: Store) -> None:
    await store.ensure_indexes()
    await store.ensure_indexes()
    for collection, models in INDEXES.items():
        names = set((await store.db[collection].index_information()).keys())
        assert {m.document["name"] for m in models} <= names, collection


async def test_the_expiry_and_ticket_lookups_have_their_indexes(store: Store) -> None:
    orders = await store.db["orders"].index_information()
    assert list(orders["status_expires"]["key"]) == [("status", 1), ("expires_at", 1)]
    tickets = await store.db["tickets"].index_information()
    assert tickets["one_ticket_per_seat"]["unique"] is True


async def test_ping(store: Store) -> None:
    assert await store.ping()


async def test_remember_user_creates_then_updates_and_keeps_the_rest(store: Store) -> None:
    users = store.users
    await users.remember_user(5, language="id", name="Sinta")
    first = await users.get(5)
    assert (first.language, first.name, first.pending_orders) == ("id", "Sinta", 0)
    await store.db["users"].update_one({"_id": 5}, {"$set": {"marker": 1}})
    await users.remember_user(5, language="id", name="Sinta")  # unchanged
    assert (await store.db["users"].find_one({"_id": 5}))["marker"] == 1
    await users.remember_user(5, language="en", name="Sinta M")
    assert ((await users.get(5)).language, (await users.get(5)).name) == ("en", "Sinta M")
