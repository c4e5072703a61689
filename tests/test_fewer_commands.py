"""Fewer MongoDB commands per action, and nothing less exact for it: the catalog's definitions cache
(bot/catalog.py, docs/catalog-cache.md: definitions from memory, an import seen here at once and elsewhere at the
next version check; stock, orders and limits always from MongoDB), the reservation's limit claim merged with its
upsert, the memo of written profiles, and the commands the hot actions send, counted on the wire."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from pymongo import monitoring

from bot.catalog import VERSION_CHECK_SECONDS, Catalog
from bot.errors import RefusalReason, ReservationRefused
from bot.event_file import load_events_file, parse_events
from bot.orders import MAX_PENDING_ORDERS
from bot.services import Services, build_services
from handlers.telegram.shared import WrittenProfiles
from storage.documents import Buyer, tier_key
from storage.store import Store, close_store, open_store
from storage.users import SlotRefusal
from tests.conftest import EXAMPLES, FakeClock
from tests.helpers import acct

JAZZ = "jazz-senja-2026"
ORIGINAL = "Jazz Senja di Taman: Malam Tahun Baru"


def buyer() -> Buyer:
    return Buyer(name="Sinta", email="sinta@example.com", phone="+6281234567890")


class Ticker:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def retitled(title: str) -> list:
    import yaml

    data = yaml.safe_load(EXAMPLES.read_text())
    data["events"][0]["title"] = title
    return parse_events(data)


async def test_another_process_import_is_seen_at_the_next_version_check(store: Store, clock: FakeClock) -> None:
    tick = Ticker()
    here = Catalog(store, clock=clock, monotonic=tick)
    elsewhere = Catalog(store, clock=clock)  # another process over the same database
    await elsewhere.import_events(load_events_file(EXAMPLES))
    assert (await here.definitions(JAZZ)).event.title == ORIGINAL

    await elsewhere.import_events(retitled("Jazz Senja 2026 (new line-up)"))
    assert (await elsewhere.definitions(JAZZ)).event.title == "Jazz Senja 2026 (new line-up)"  # its own: at once
    assert (await here.definitions(JAZZ)).event.title == ORIGINAL  # still within the interval
    tick.now += VERSION_CHECK_SECONDS
    assert (await here.definitions(JAZZ)).event.title == "Jazz Senja 2026 (new line-up)"
    assert "Jazz Senja 2026 (new line-up)" in [e.title for e in await here.events()]


async def test_stock_is_read_from_mongodb_on_every_get(services: Services) -> None:
    before = (await services.catalog.get(JAZZ)).tier("REG")
    assert await services.store.inventory.hold(tier_key(JAZZ, "REG"), 3)  # as another process would
    after = (await services.catalog.get(JAZZ)).tier("REG")
    assert (after.available, after.pending) == (before.available - 3, before.pending + 3)


async def test_a_reservation_takes_its_stock_from_mongodb_not_from_the_cache(services: Services) -> None:
    tier = (await services.catalog.definitions(JAZZ)).tier("VIP")  # the cache is loaded: VIP has seats
    assert tier.available > 0
    assert await services.store.inventory.hold(tier_key(JAZZ, "VIP"), tier.available)  # sold out meanwhile
    with pytest.raises(ReservationRefused) as refused:
        await services.orders.reserve(acct(7), JAZZ, {"VIP": 1}, buyer())
    assert refused.value.reason == RefusalReason.SOLD_OUT
    user = await services.store.users.get(acct(7))
    assert (user.pending_orders, user.recent_reservations) == (0, [])  # the claim was given back


async def test_once_a_tier_was_seen_short_a_sold_out_attempt_claims_nothing(services: Services) -> None:
    tier = (await services.catalog.get(JAZZ)).tier("VIP")
    assert await services.store.inventory.hold(tier_key(JAZZ, "VIP"), tier.available - 1)
    await services.orders.reserve(acct(20), JAZZ, {"VIP": 1}, buyer())  # the last seat
    for user in (21, 22):  # the first finds out by its hold (and gives its claim back); the second by a read
        with pytest.raises(ReservationRefused) as refused:
            await services.orders.reserve(acct(user), JAZZ, {"VIP": 1}, buyer())
        assert (refused.value.reason, refused.value.available) == (RefusalReason.SOLD_OUT, 0)
    assert (await services.store.users.get(acct(21))).pending_orders == 0
    assert await services.store.users.get(acct(22)) is None  # nothing was claimed, nothing written
    assert await services.store.inventory.release(tier_key(JAZZ, "VIP"), 2)  # seats come back
    order = await services.orders.reserve(acct(23), JAZZ, {"VIP": 2}, buyer())
    assert order.seats == 2


async def test_a_sold_out_refusal_names_the_first_short_tier_of_the_order(services: Services) -> None:
    listing = await services.catalog.get(JAZZ)
    for code in ("EARLY", "VIP"):
        assert await services.store.inventory.hold(tier_key(JAZZ, code), listing.tier(code).available)
    with pytest.raises(ReservationRefused):
        await services.orders.reserve(acct(24), JAZZ, {"VIP": 1}, buyer())  # the process has seen VIP short, not EARLY
    with pytest.raises(ReservationRefused) as refused:
        await services.orders.reserve(acct(25), JAZZ, {"EARLY": 1, "VIP": 1}, buyer())
    assert (refused.value.reason, refused.value.tier) == (RefusalReason.SOLD_OUT, "EARLY")


async def test_a_buyer_over_a_limit_hears_the_limit_even_when_the_tier_is_sold_out(services: Services) -> None:
    for _ in range(MAX_PENDING_ORDERS):
        await services.orders.reserve(acct(30), JAZZ, {"REG": 1}, buyer())
    tier = (await services.catalog.get(JAZZ)).tier("VIP")
    assert await services.store.inventory.hold(tier_key(JAZZ, "VIP"), tier.available)
    with pytest.raises(ReservationRefused):
        await services.orders.reserve(acct(31), JAZZ, {"VIP": 1}, buyer())  # the process sees VIP short
    with pytest.raises(ReservationRefused) as refused:
        await services.orders.reserve(acct(30), JAZZ, {"VIP": 1}, buyer())
    assert refused.value.reason == RefusalReason.TOO_MANY_PENDING


async def test_a_first_claim_creates_the_user_with_the_claim_and_the_buyer(store: Store, clock: FakeClock) -> None:
    users = store.users
    assert await users.claim_reservation_slot(41, clock(), per_minute=5, max_pending=3, claim="a",
                                              buyer=buyer()) is None
    user = await users.get(41)
    assert (user.pending_orders, [c.claim for c in user.recent_reservations], user.last_buyer) == (1, ["a"], buyer())
    assert user.language is None  # the other fields have their defaults


async def test_claims_refuse_with_the_limit_that_applies_and_write_nothing(store: Store, clock: FakeClock) -> None:
    users = store.users
    for n in range(3):
        assert await users.claim_reservation_slot(42, clock(), per_minute=5, max_pending=3, claim=f"c{n}") is None
    refused = await users.claim_reservation_slot(42, clock(), per_minute=5, max_pending=3, claim="x", buyer=buyer())
    assert refused is SlotRefusal.TOO_MANY_PENDING
    assert (await users.get(42)).last_buyer is None
    for n in range(2):
        assert await users.claim_reservation_slot(43, clock(), per_minute=2, max_pending=3, claim=f"d{n}") is None
    assert await users.claim_reservation_slot(43, clock(), per_minute=2, max_pending=3) is SlotRefusal.RATE_LIMITED
    assert (await users.get(43)).pending_orders == 2


async def test_a_new_users_first_claims_at_once_are_all_counted(store: Store, clock: FakeClock) -> None:
    """Both upserts may try to insert the user; the one that collides asks again and is counted (or refused)
    exactly like any other claim."""
    users = store.users
    results = await asyncio.gather(*(users.claim_reservation_slot(
        44, clock(), per_minute=5, max_pending=MAX_PENDING_ORDERS, claim=f"e{n}") for n in range(5)))
    assert results.count(None) == MAX_PENDING_ORDERS
    user = await users.get(44)
    assert user.pending_orders == MAX_PENDING_ORDERS == len(user.recent_reservations)


def test_written_profiles_skip_only_what_was_written_lately() -> None:
    tick = Ticker()
    profiles = WrittenProfiles(size=2, ttl=60, monotonic=tick)
    assert not profiles.unchanged(1, "id", "Sinta")
    profiles.written(1, "id", "Sinta")
    assert profiles.unchanged(1, "id", "Sinta")
    assert not profiles.unchanged(1, "en", "Sinta")  # the user changed their language
    assert not profiles.unchanged(1, "id", "Sinta W")
    tick.now += 60
    assert not profiles.unchanged(1, "id", "Sinta")  # another process may have written since
    profiles.written(1, "id", "Sinta")
    profiles.written(2, "en", "Budi")
    profiles.written(3, "en", "Citra")  # bounded: the least recently seen goes
    assert not profiles.unchanged(1, "id", "Sinta") and profiles.unchanged(3, "en", "Citra")


# ---- commands on the wire ------------------------------------------------------------------------------------


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in {"hello", "ismaster", "isMaster", "ping", "endSessions"}:
            self.names.append(f"{event.command_name} {event.command.get(event.command_name)}")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None

    def take(self) -> list[str]:
        names, self.names = self.names, []
        return names


@pytest.fixture
async def counted(wire_uri: str, settings, clock: FakeClock) -> AsyncIterator[tuple[Services, Commands]]:
    listener = Commands()
    opened = open_store(wire_uri, f"karcis_test_{uuid.uuid4().hex[:12]}", event_listeners=[listener])
    await opened.ensure_indexes()
    services = build_services(settings, opened, clock=clock)
    await services.catalog.import_events(load_events_file(EXAMPLES))
    try:
        yield services, listener
    finally:
        await opened.db.client.drop_database(opened.db.name)
        close_store(opened)


async def test_warm_reads_of_definitions_send_no_command(counted: tuple[Services, Commands]) -> None:
    services, commands = counted
    await services.catalog.events()  # loads
    commands.take()
    assert (await services.catalog.definitions(JAZZ)).event.id == JAZZ
    assert await services.catalog.on_sale() and await services.catalog.organised_by(["telegram:1"]) == []
    assert commands.take() == []
    assert (await services.catalog.get(JAZZ)).tier("REG") is not None
    assert commands.take() == ["find inventory"]  # the stock, and nothing else


async def test_a_reservation_is_a_claim_a_hold_per_tier_and_an_insert(counted: tuple[Services, Commands]) -> None:
    services, commands = counted
    await services.catalog.events()
    commands.take()
    await services.orders.reserve(acct(8), JAZZ, {"REG": 1}, buyer())
    # the order is written before its seats are held, so a hold always has its order (docs/faults.md)
    assert commands.take() == ["update users", "insert orders", "update inventory"]
    await services.orders.reserve(acct(9), JAZZ, {"REG": 1, "VIP": 2}, buyer())
    assert commands.take() == ["update users", "insert orders", "update inventory", "update inventory"]
