"""Checking tickets in at the door: one atomic update, so a double tap checks in once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.access import AccessService
from bot.accounts import AccountId
from bot.catalog import Catalog
from bot.clock import DEFAULT_ZONE, Clock, as_utc, utcnow
from bot.tickets import normalize_code
from storage.documents import EventDoc, TicketDoc, TicketStatus
from storage.store import Store


class CheckInStatus(StrEnum):
    CHECKED_IN = "checked_in"
    ALREADY_CHECKED_IN = "already_checked_in"
    UNKNOWN_CODE = "unknown_code"
    NOT_YOUR_EVENT = "not_your_event"
    VOID = "void"


@dataclass(frozen=True)
class CheckInResult:
    status: CheckInStatus
    ticket: TicketDoc | None = None
    event: EventDoc | None = None

    @property
    def checked_in_at(self) -> datetime | None:
        return self.ticket.checked_in_at if self.ticket else None

    @property
    def checked_in_by(self) -> AccountId | None:
        return self.ticket.checked_in_by if self.ticket else None


class Standing(StrEnum):
    """What a ticket's public page says of it."""

    VALID = "valid"
    USED = "used"
    VOID = "void"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PublicTicket:
    """A ticket as anyone holding its link may see it: its standing and its event, never who holds it, who
    bought it or who checked it in (a QR is shown around, photographed and forwarded)."""

    standing: Standing
    code: str | None = None
    event_title: str | None = None
    venue: str | None = None
    starts_at: datetime | None = None
    tier_name: str | None = None
    used_at: datetime | None = None
    timezone: str = DEFAULT_ZONE  # the event's: its start and the check-in time are shown in it


class CheckInService:
    def __init__(self, store: Store, catalog: Catalog, access: AccessService, *, clock: Clock = utcnow) -> None:
        self._store = store
        self._catalog = catalog
        self._access = access
        self._clock = clock

    def may_check_in(self, event: EventDoc, staff_id: AccountId) -> bool:
        return self._access.door_staff(staff_id, event)

    async def public_status(self, code_or_link: str) -> PublicTicket:
        """Where a ticket stands, for its public page (webhooks/ticket_page.py): reads only, changes nothing."""
        code = normalize_code(code_or_link)
        ticket = await self._store.tickets.get(code) if code else None
        if ticket is None:
            return PublicTicket(Standing.UNKNOWN)
        listing = await self._catalog.definitions(ticket.event_id)
        event = listing.event if listing else None
        if ticket.status == TicketStatus.VOID:
            standing = Standing.VOID
        elif ticket.checked_in_at is not None:
            standing = Standing.USED
        else:
            standing = Standing.VALID
        return PublicTicket(standing, ticket.id, event.title if event else None, event.venue if event else None,
                            event.starts_at if event else None, ticket.tier_name, ticket.checked_in_at,
                            event.timezone if event else DEFAULT_ZONE)

    async def check_in(self, code_or_link: str, staff_id: AccountId, *, read: TicketDoc | None = None) -> CheckInResult:
        """Check a ticket in by code (any case, dashes optional), deep-link payload or whole deep link. `read`:
        that ticket as the caller has just read it (saves reading it again; the check-in itself is conditional)."""
        code = normalize_code(code_or_link)
        ticket = read if read is not None and read.id == code else None
        if ticket is None and code:
            ticket = await self._store.tickets.get(code)
        if ticket is None:
            return CheckInResult(CheckInStatus.UNKNOWN_CODE)
        listing = await self._catalog.definitions(ticket.event_id)
        event = listing.event if listing else None
        if event is None or not self.may_check_in(event, staff_id):
            return CheckInResult(CheckInStatus.NOT_YOUR_EVENT)
        if ticket.status == TicketStatus.VOID:
            return CheckInResult(CheckInStatus.VOID, ticket, event)
        done = await self._store.tickets.check_in(ticket.id, by=staff_id, at=self._clock())
        if done is not None:
            return CheckInResult(CheckInStatus.CHECKED_IN, done, event)
        current = await self._store.tickets.get(ticket.id)
        if current is not None and current.status == TicketStatus.VOID:
            return CheckInResult(CheckInStatus.VOID, current, event)
        return CheckInResult(CheckInStatus.ALREADY_CHECKED_IN, current, event)

    # ---- scan mode: a staff member's photos are QR codes to check in, for a while ----------------------------

    async def start_scanning(self, staff_id: AccountId, *, window: timedelta) -> None:
        """Treat the staff member's photos as QR scans for `window` from now (each scan extends it)."""
        now = self._clock()
        await self._store.drafts.set_scan_until(staff_id, now + window, at=now)

    async def scanning(self, staff_id: AccountId) -> bool:
        """Whether the staff member is in scan mode now."""
        doc = await self._store.drafts.get(staff_id)
        return doc is not None and doc.scan_until is not None and as_utc(doc.scan_until) > self._clock()
