"""The embedded store finds documents by `_id` without a scan, and answers exactly what a scan answers."""

from __future__ import annotations

import pytest
from mongomock.collection import Collection

from storage.embedded import _scan
from storage.store import open_store

FILTERS = [
    {"_id": "a"}, {"_id": "a", "n": {"$gte": 2}}, {"_id": "a", "n": {"$gte": 5}}, {"_id": "zz"}, {"_id": 7},
    {"_id": 7, "tags": "x"}, {"_id": True}, {"_id": {"$in": ["a", "b"]}}, {"n": {"$gte": 2}}, {},
]


@pytest.mark.parametrize("query", FILTERS)
async def test_lookup_by_id_answers_what_the_scan_answers(query: dict) -> None:
    store = open_store(None, "karcis_embedded_test")
    collection = store.db["things"]
    await collection.delete_many({})
    await collection.insert_many([{"_id": "a", "n": 3}, {"_id": "b", "n": 1}, {"_id": 7, "tags": ["x", "y"]},
                                  {"_id": 1, "n": 9}])
    found = sorted(map(str, [d async for d in collection.find(query)]))
    raw = collection._AsyncMongoMockCollection__collection  # the mongomock collection behind the motor face
    scanned = sorted(map(str, _scan(raw, query)))
    assert found == scanned


async def test_updates_by_id_test_one_document_not_all(monkeypatch: pytest.MonkeyPatch) -> None:
    import mongomock.collection

    store = open_store(None, "karcis_embedded_test2")
    collection = store.db["counters"]
    await collection.delete_many({})
    await collection.insert_many([{"_id": i, "n": 0} for i in range(50)])
    tested: list[object] = []
    original = mongomock.collection.filter_applies

    def counting(filter: object, document: object, *args: object) -> bool:  # noqa: A002
        tested.append(document)
        return original(filter, document, *args)

    monkeypatch.setattr(mongomock.collection, "filter_applies", counting)
    result = await collection.update_one({"_id": 17, "n": {"$lt": 1}}, {"$inc": {"n": 1}})
    assert result.modified_count == 1
    assert len(tested) <= 1  # a scan would test all 50
    assert Collection._iter_documents.__module__ == "storage.embedded"


async def test_a_document_past_its_ttl_is_gone_when_looked_up_by_id() -> None:
    from datetime import UTC, datetime, timedelta

    store = open_store(None, "karcis_embedded_ttl")
    collection = store.db["drafts"]
    await collection.delete_many({})
    await collection.create_index("updated_at", expireAfterSeconds=60)
    old = datetime.now(UTC) - timedelta(minutes=5)
    await collection.insert_many([{"_id": 1, "updated_at": old}, {"_id": 2, "updated_at": datetime.now(UTC)}])
    assert await collection.find_one({"_id": 1}) is None
    assert (await collection.find_one({"_id": 2}))["_id"] == 2
