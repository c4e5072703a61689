"""The catalog: importing events and their tiers, and reading what is on sale.

Event and tier *definitions* (titles, times, organisers, tier names, prices, limits) change only on import, so each
process keeps them in memory (see docs/catalog-cache.md). Stock never comes from that cache: `get()` reads the
tiers' counters from MongoDB on every call, and every seat moves by a conditional `$inc` on its tier document.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.accounts import account_id_of
from bot.clock import DEFAULT_ZONE, Clock, utcnow
from bot.errors import CapacityError
from bot.event_file import EventSpec, TierSpec
from storage.documents import EventDoc, EventStatus, TierDoc, tier_key
from storage.store import Store

log = logging.getLogger(__name__)

# How often a process asks MongoDB whether another process changed the catalog (one `_id` lookup). A definition
# can be this stale in a process that did not make the change; the process that imports sees it at once.
VERSION_CHECK_SECONDS = 5.0


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    capacity_changes: list[str] = field(default_factory=list)
    tiers_withdrawn: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EventWithTiers:
    event: EventDoc
    tiers: list[TierDoc]

    def tier(self, code: str) -> TierDoc | None:
        return next((t for t in self.tiers if t.code == code), None)


class SalesState(StrEnum):
    """Where an event's ticket sales stand, as a buyer is told it."""

    OPEN = "open"
    NOT_YET_OPEN = "not_yet_open"  # on sale, but its sales window opens later (`event.sales_open_at`)
    SOLD_OUT = "sold_out"          # open, and no tier has a seat left
    CLOSED = "closed"              # the window has ended, or the event is not on sale


def sales_state(event: EventDoc, now: datetime, tiers: Collection[TierDoc] | None = None) -> SalesState:
    """Whether sales are open, not open yet, or over; with the tiers (their stock), also whether all are sold."""
    if event.status != EventStatus.ON_SALE or now >= (event.sales_close_at or event.ends_at):
        return SalesState.CLOSED
    if event.sales_open_at and now < event.sales_open_at:
        return SalesState.NOT_YET_OPEN
    if tiers is not None and not any(tier.available > 0 for tier in tiers):
        return SalesState.SOLD_OUT
    return SalesState.OPEN


def is_public(event: EventDoc) -> bool:
    """Anyone may open the event by id (a deep link, a button): every event but a draft. Who may see a draft is
    bot/access.py's `may_see` (its organisers and the admins); to anyone else a draft is no event at all."""
    return event.status != EventStatus.DRAFT


def sales_open(event: EventDoc, now: datetime) -> bool:
    """On sale, inside the sales window (which by default runs until the event ends)."""
    return sales_state(event, now) is SalesState.OPEN


@dataclass(frozen=True)
class _Snapshot:
    """The definitions as loaded at one catalog version: events by start, active tiers per event in file order."""

    version: int
    events: list[EventDoc]
    listings: dict[str, EventWithTiers]


class Catalog:
    def __init__(self, store: Store, *, clock: Clock = utcnow, version_check_seconds: float = VERSION_CHECK_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._clock = clock
        self._check_every = version_check_seconds
        self._monotonic = monotonic
        self._snapshot: _Snapshot | None = None
        self._checked_at = 0.0
        self._loading: asyncio.Task[_Snapshot] | None = None
        self._generation = 0  # bumped by every local invalidation: a load begun before it is not kept
        self.on_links: Callable[[list[list[str]]], None] | None = None  # called with the organisers' links

    # ---- the definitions cache ---------------------------------------------------------------------------------

    def invalidate(self) -> None:
        """Forget the cached definitions: the next read loads them again."""
        self._generation += 1
        self._snapshot = None
        self._loading = None

    async def _definitions(self) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is not None and self._monotonic() - self._checked_at < self._check_every:
            return snapshot
        if snapshot is not None:
            self._checked_at = self._monotonic()  # one check per interval, however many callers wait meanwhile
            if await self._store.catalog_version.current() == snapshot.version and self._snapshot is snapshot:
                return snapshot
        return await self._load()

    async def _load(self) -> _Snapshot:
        """Load the definitions once for every caller waiting at the same time (on this event loop)."""
        loading = self._loading
        if loading is None or loading.done() or loading.get_loop() is not asyncio.get_running_loop():
            loading = self._loading = asyncio.get_running_loop().create_task(self._read(self._generation))
        return await asyncio.shield(loading)

    async def _read(self, generation: int) -> _Snapshot:
        # the version first: a write that lands after this read bumps it again, so the next check reloads
        version = await self._store.catalog_version.current()
        events = await self._store.events.all()
        tiers: dict[str, dict[str, TierDoc]] = {}
        for tier in await self._store.inventory.all():
            if tier.active:
                tiers.setdefault(tier.event_id, {})[tier.code] = tier
        listings = {}
        for event in events:
            by_code = tiers.get(event.id, {})
            listings[event.id] = EventWithTiers(event, [by_code[c] for c in event.tier_codes if c in by_code])
        snapshot = _Snapshot(version, events, listings)
        if generation == self._generation:
            self._snapshot, self._checked_at = snapshot, self._monotonic()
            self._loaded(events)
        return snapshot

    def _loaded(self, events: list[EventDoc]) -> None:
        """Tell the listener (the account link table, bot/accounts.py) the events' organiser links."""
        if self.on_links is not None:
            self.on_links([group for event in events for group in event.organiser_links])

    # ---- importing -------------------------------------------------------------------------------------------

    async def import_events(self, specs: list[EventSpec]) -> ImportReport:
        """Upsert every event and tier. Capacity changes are checked for all events before anything is written.
        Every process's cache sees the change: this one at once, the others at their next version check."""
        try:
            return await self._import(specs)
        finally:
            # also after a failure half-way: whatever was written must not hide behind a cache
            await self._store.catalog_version.bump()
            self.invalidate()

    async def _import(self, specs: list[EventSpec]) -> ImportReport:
        existing = {t.id: t for t in await self._store.inventory.all()}
        problems = []
        for number, spec in enumerate(specs, start=1):
            for place, tier in enumerate(spec.tiers, start=1):
                current = existing.get(tier_key(spec.id, tier.code))
                if current and tier.capacity < current.pending + current.sold:
                    problems.append(
                        f"  event #{number} ({spec.id}), tier #{place} ({tier.code}), capacity: {tier.capacity} is "
                        f"below the {current.pending + current.sold} seats already held or sold ({current.pending} "
                        f"pending, {current.sold} sold): write at least {current.pending + current.sold}"
                    )
        if problems:
            raise CapacityError("Capacity cannot shrink below what is sold; nothing was imported:\n"
                                + "\n".join(problems))
        report = ImportReport()
        known_events = {e.id for e in await self._store.events.all()}
        for spec in specs:
            (report.updated if spec.id in known_events else report.created).append(spec.id)
            await self._store.events.upsert(self._event_doc(spec))
            for tier in spec.tiers:
                await self._upsert_tier(spec.id, tier, existing.get(tier_key(spec.id, tier.code)), report)
            listed = {tier_key(spec.id, t.code) for t in spec.tiers}
            for old in (t for t in existing.values() if t.event_id == spec.id and t.id not in listed and t.active):
                await self._store.inventory.set_active(old.id, False)
                report.tiers_withdrawn.append(old.id)
        return report

    def _event_doc(self, spec: EventSpec) -> EventDoc:
        return EventDoc(
            id=spec.id, title=spec.title, description=spec.description, venue=spec.venue,
            starts_at=spec.starts_at, ends_at=spec.ends_at, organisers=[account_id_of(o) for o in spec.organisers],
            organiser_links=[list(o) for o in spec.organisers if len(o) > 1],
            sales_open_at=spec.sales.opens_at, sales_close_at=spec.sales.closes_at, status=spec.status,
            tier_codes=[t.code for t in spec.tiers], updated_at=self._clock(),
            organiser_languages={account_id_of(o): language for o in spec.organisers
                                 if (language := getattr(o, "language", None))},
            timezone=spec.timezone or DEFAULT_ZONE,
        )

    async def _upsert_tier(self, event_id: str, spec: TierSpec, current: TierDoc | None, report: ImportReport) -> None:
        inventory = self._store.inventory
        key = tier_key(event_id, spec.code)
        if current is None:
            await inventory.create(TierDoc(
                id=key, event_id=event_id, code=spec.code, name=spec.name, price=spec.price,
                capacity=spec.capacity, available=spec.capacity, max_per_order=spec.max_per_order,
            ))
            return
        updated = await inventory.update_definition(
            key, expected_capacity=current.capacity, capacity=spec.capacity, name=spec.name, price=spec.price,
            max_per_order=spec.max_per_order,
        )
        if updated is None:
            raise CapacityError(f"event ({event_id}): tiers.{spec.code}.capacity: seats were sold while importing; "
                                "run the import again")
        if spec.capacity != current.capacity:
            report.capacity_changes.append(f"{key}: {current.capacity} → {spec.capacity}")

    # ---- reading ---------------------------------------------------------------------------------------------

    async def get(self, event_id: str) -> EventWithTiers | None:
        """The event and its active tiers with their stock as MongoDB has it now (one query for the tiers)."""
        cached = (await self._definitions()).listings.get(event_id)
        if cached is None:
            return None
        tiers = {t.code: t for t in await self._store.inventory.for_event(event_id) if t.active}
        return EventWithTiers(cached.event, [tiers[c] for c in cached.event.tier_codes if c in tiers])

    async def definitions(self, event_id: str) -> EventWithTiers | None:
        """The event and its active tiers from the cache, with no query: names, prices, limits, times. Their
        counters (available, pending, sold) are as they were when the cache was loaded: never use them as stock."""
        return (await self._definitions()).listings.get(event_id)

    async def events(self) -> list[EventDoc]:
        return list((await self._definitions()).events)

    async def event(self, event_id: str) -> EventDoc | None:
        """One event's document from the cache (no query): what a door shows beside an order or a ticket."""
        listing = (await self._definitions()).listings.get(event_id)
        return listing.event if listing else None

    async def on_sale(self) -> list[EventDoc]:
        now = self._clock()
        return [e for e in (await self._definitions()).events if sales_open(e, now)]

    async def organised_by(self, accounts: Collection[str]) -> list[EventDoc]:
        """The events any of `accounts` (one person's account id and addresses) organises."""
        names = set(accounts)
        return [e for e in (await self._definitions()).events if not names.isdisjoint(e.organisers)]
