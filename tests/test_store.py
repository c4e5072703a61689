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
