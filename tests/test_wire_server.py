"""Storage operations Karcis relies on, over a real MongoDB wire connection.

Runs against ``$MONGODB_TEST_URI`` when set, else against a mongoeco server started
from ``.venv-mongoeco`` (see ``.ci/mongoeco-venv.sh``); skips when neither is there.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import pytest_asyncio
from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorDatabase
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from tests.mongo_server import MongoecoServer, find_mongoeco_python

MONGODB_TEST_URI = os.environ.get("MONGODB_TEST_URI")

pytestmark = pytest.mark.skipif(
    MONGODB_TEST_URI is None and find_mongoeco_python() is None,
    reason="no MongoDB to test against: set MONGODB_TEST_URI or run .ci/mongoeco-venv.sh "
    "(needs Python 3.13) to create .venv-mongoeco",
)

Document = dict[str, Any]


@pytest.fixture(scope="module")
def mongo_uri() -> Iterator[str]:
    """``$MONGODB_TEST_URI``, or a mongoeco server started for this module."""
    if MONGODB_TEST_URI:
        yield MONGODB_TEST_URI
        return
    with MongoecoServer() as server:
        yield server.uri


@pytest_asyncio.fixture
async def db(mongo_uri: str) -> AsyncIterator[AsyncIOMotorDatabase[Document]]:
    """A fresh, uniquely named database, dropped afterwards."""
    client: AsyncIOMotorClient[Document] = AsyncIOMotorClient(
        mongo_uri, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    name = f"karcis_test_{uuid.uuid4().hex[:12]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        client.close()


async def test_ping(db: AsyncIOMotorDatabase[Document]) -> None:
    reply = await db.client.admin.command("ping")
    assert reply["ok"] == 1


async def test_unique_index_rejects_duplicates(db: AsyncIOMotorDatabase[Document]) -> None:
    tickets = db.tickets
    await tickets.create_index([("code", ASCENDING)], unique=True)
    await tickets.insert_one({"code": "KRC-1"})
    with pytest.raises(DuplicateKeyError):
        await tickets.insert_one({"code": "KRC-1"})
    assert await tickets.count_documents({}) == 1


async def test_concurrent_conditional_decrements_never_oversell(
    db: AsyncIOMotorDatabase[Document],
) -> None:
    inventory = db.inventory
    tier = "tier-vip"
    await inventory.insert_one({"_id": tier, "available": 100, "pending": 0})

    async def reserve_one() -> bool:
        doc = await inventory.find_one_and_update(
            {"_id": tier, "available": {"$gte": 1}},
            {"$inc": {"available": -1, "pending": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return doc is not None

    results = await asyncio.gather(*(reserve_one() for _ in range(200)))

    assert sum(results) == 100
    assert await inventory.find_one({"_id": tier}) == {"_id": tier, "available": 0, "pending": 100}


async def test_push_each_slice_with_bounded_array_filter(db: AsyncIOMotorDatabase[Document]) -> None:
    events = db.events
    await events.insert_one({"_id": "capped", "recent": []})
    await events.insert_one({"_id": "rolling", "recent": [0, 1, 2]})

    # Append only while fewer than 5 entries exist: "recent.4" is the 5th element.
    matched = 0
    for value in range(7):
        result = await events.update_one(
            {"_id": "capped", "recent.4": {"$exists": False}},
            {"$push": {"recent": {"$each": [value], "$slice": -5}}},
        )
        matched += result.matched_count
    assert matched == 5
    assert (await events.find_one({"_id": "capped"}) or {})["recent"] == [0, 1, 2, 3, 4]
    assert await events.count_documents({"recent.4": {"$exists": False}}) == 1
    assert await events.count_documents({"recent.4": {"$exists": True}}) == 1

    # $slice keeps the newest N when more are pushed at once.
    await events.update_one({"_id": "rolling"}, {"$push": {"recent": {"$each": [3, 4, 5], "$slice": -4}}})
    assert (await events.find_one({"_id": "rolling"}) or {})["recent"] == [2, 3, 4, 5]


async def test_aggregate_unwind_group_sum_of_products(db: AsyncIOMotorDatabase[Document]) -> None:
    orders = db.orders
    await orders.insert_many(
        [
            {"event": "konser", "items": [{"qty": 2, "price": 150_000}, {"qty": 1, "price": 300_000}]},
            {"event": "konser", "items": [{"qty": 3, "price": 150_000}]},
            {"event": "seminar", "items": [{"qty": 4, "price": 50_000}]},
        ]
    )
    pipeline: list[Document] = [
        {"$unwind": "$items"},
        {
            "$group": {
                "_id": "$event",
                "revenue": {"$sum": {"$multiply": ["$items.qty", "$items.price"]}},
                "tickets": {"$sum": "$items.qty"},
            }
        },
        {"$sort": {"_id": 1}},
    ]
    rows = await orders.aggregate(pipeline).to_list(None)
    assert rows == [
        {"_id": "konser", "revenue": 1_050_000, "tickets": 6},
        {"_id": "seminar", "revenue": 200_000, "tickets": 4},
    ]


async def test_create_index_twice_is_idempotent(db: AsyncIOMotorDatabase[Document]) -> None:
    orders = db.orders
    spec = [("user_id", ASCENDING), ("created_at", ASCENDING)]
    first = await orders.create_index(spec, unique=True, name="user_created")
    second = await orders.create_index(spec, unique=True, name="user_created")
    assert first == second == "user_created"
    info = await orders.index_information()
    assert sorted(info) == ["_id_", "user_created"]
    assert info["user_created"].get("unique") is True


async def test_datetimes_round_trip_tz_aware(db: AsyncIOMotorDatabase[Document]) -> None:
    stamps = db.stamps
    wib = timezone(timedelta(hours=7), "WIB")
    utc_moment = datetime(2025, 3, 1, 12, 30, 45, 123_456, tzinfo=UTC)
    jakarta_moment = datetime(2025, 3, 1, 19, 30, 45, 123_000, tzinfo=wib)
    await stamps.insert_one({"_id": 1, "utc": utc_moment, "wib": jakarta_moment})

    doc = await stamps.find_one({"_id": 1})
    assert doc is not None
    # BSON dates are UTC milliseconds: sub-millisecond digits are dropped.
    assert doc["utc"] == utc_moment.replace(microsecond=123_000)
    assert doc["wib"] == jakarta_moment
    for key in ("utc", "wib"):
        assert doc[key].utcoffset() == timedelta(0)

    # Range queries compare instants regardless of the zone they were written in.
    since = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert await stamps.count_documents({"wib": {"$gte": since}}) == 1
