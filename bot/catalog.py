"""The catalog: importing events and their tiers, and reading what is on sale."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import Clock, utcnow
from bot.errors import CapacityError
from bot.event_file import EventSpec, TierSpec
from storage.documents import EventDoc, EventStatus, TierDoc, tier_key
from storage.store import Store

log = logging.getLogger(__name__)


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


def sales_open(event: EventDoc, now: datetime) -> bool:
    """On sale, inside the sales window (which by default runs until the event ends)."""
    if event.status != EventStatus.ON_SALE:
        return False
    if event.sales_open_at and now < event.sales_open_at:
        return False
    return now < (event.sales_close_at or event.ends_at)


class Catalog:
    def __init__(self, store: Store, *, clock: Clock = utcnow) -> None:
        self._store = store
        self._clock = clock

    async def import_events(self, specs: list[EventSpec]) -> ImportReport:
        """Upsert every event and tier. Capacity changes are checked for all events before anything is written."""
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
            starts_at=spec.starts_at, ends_at=spec.ends_at, organisers=spec.organisers,
            sales_open_at=spec.sales.opens_at, sales_close_at=spec.sales.closes_at, status=spec.status,
            tier_codes=[t.code for t in spec.tiers], updated_at=self._clock(),
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

    async def get(self, event_id: str) -> EventWithTiers | None:
        event = await self._store.events.get(event_id)
        if event is None:
            return None
        tiers = {t.code: t for t in await self._store.inventory.for_event(event_id) if t.active}
        return EventWithTiers(event, [tiers[c] for c in event.tier_codes if c in tiers])

    async def events(self) -> list[EventDoc]:
        return await self._store.events.all()

    async def on_sale(self) -> list[EventDoc]:
        now = self._clock()
        return [e for e in await self._store.events.all() if sales_open(e, now)]

    async def organised_by(self, user_id: int) -> list[EventDoc]:
        return [e for e in await self._store.events.all() if user_id in e.organisers]
