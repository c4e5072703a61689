"""Checking tickets in at the door: one atomic update, so a double tap checks in once.

The door window: a ticket opened at the door (its link, a photo of its QR, `/checkin CODE`, a typed code) checks in
at once only from `DOOR_OPENS_HOURS_BEFORE` hours before the event starts until it ends (`DoorWindow`,
`at_door`). Outside it the answer is EARLY or LATE with the ticket, and the door asks for one confirming tap,
which calls `check_in` (no window: the staff member has said yes). docs/channels.md "The door window".
"""

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
    EARLY = "early"  # before the door window: not checked in, the door asks to confirm (at_door only)
    LATE = "late"    # after the event ended: likewise


@dataclass(frozen=True)
class DoorWindow:
    """When checking in needs no confirmation: from `opens_before` before the event starts until it ends."""

    opens_before: timedelta

    def opens_at(self, event: EventDoc) -> datetime:
        return as_utc(event.starts_at) - self.opens_before

    def status_at(self, event: EventDoc, now: datetime) -> CheckInStatus | None:
        """EARLY or LATE outside the window; None inside it (the ends are inside)."""
        if as_utc(now) < self.opens_at(event):
            return CheckInStatus.EARLY
        if as_utc(now) > as_utc(event.ends_at):
            return CheckInStatus.LATE
        return None


DEFAULT_WINDOW = DoorWindow(timedelta(hours=3))


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

    @property
    def needs_confirmation(self) -> bool:
        """Outside the door window: the ticket is not checked in until the staff member confirms."""
        return self.status in (CheckInStatus.EARLY, CheckInStatus.LATE)


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


class LinkRole(StrEnum):
    """Who opened a ticket's link, as far as that ticket is concerned."""

    DOOR = "door"      # staff: the link is a check-in (at_door), or "not your event" for another event's staff
    OWNER = "owner"    # the buyer the ticket was issued to: their ticket
    PUBLIC = "public"  # anyone else: the ticket's standing and event, nothing personal


@dataclass(frozen=True)
class LinkAnswer:
    """What opening a ticket's link (`/start t_<code>`, WhatsApp's `checkin <code>`) comes to for one person."""

    role: LinkRole
    check_in: CheckInResult | None = None  # DOOR
    ticket: TicketDoc | None = None        # OWNER
    event: EventDoc | None = None          # OWNER
    public: PublicTicket | None = None     # PUBLIC


class CheckInService:
    def __init__(self, store: Store, catalog: Catalog, access: AccessService, *, clock: Clock = utcnow,
                 window: DoorWindow = DEFAULT_WINDOW) -> None:
        self._store = store
        self._catalog = catalog
        self._access = access
        self._clock = clock
        self.window = window

    def may_check_in(self, event: EventDoc, staff_id: AccountId) -> bool:
        return self._access.door_staff(staff_id, event)

    async def public_status(self, code_or_link: str, *, read: TicketDoc | None = None) -> PublicTicket:
        """Where a ticket stands, for its public page (webhooks/ticket_page.py) and for anyone who opens its
        link in a chat: reads only, changes nothing. `read`: the ticket as the caller has just read it."""
        ticket, event = await self._ticket_and_event(code_or_link, read)
        if ticket is None:
            return PublicTicket(Standing.UNKNOWN)
        if ticket.status == TicketStatus.VOID:
            standing = Standing.VOID
        elif ticket.checked_in_at is not None:
            standing = Standing.USED
        else:
            standing = Standing.VALID
        return PublicTicket(standing, ticket.id, event.title if event else None, event.venue if event else None,
                            event.starts_at if event else None, ticket.tier_name, ticket.checked_in_at,
                            event.timezone if event else DEFAULT_ZONE)

    async def _ticket_and_event(self, code_or_link: str,
                                read: TicketDoc | None) -> tuple[TicketDoc | None, EventDoc | None]:
        """The ticket a code or link names (`read` if it is that one, else from the store) and its event."""
        code = normalize_code(code_or_link)
        ticket = read if read is not None and read.id == code else None
        if ticket is None and code:
            ticket = await self._store.tickets.get(code)
        if ticket is None:
            return None, None
        listing = await self._catalog.definitions(ticket.event_id)
        return ticket, listing.event if listing else None

    async def _admit(self, code_or_link: str, staff_id: AccountId,
                     read: TicketDoc | None) -> CheckInResult | tuple[TicketDoc, EventDoc]:
        """What every check-in asks first: the ticket (`read` if it is the one named, else from the store) and its
        event, if this person may check it in and it is not void; otherwise the answer (unknown, not yours, void)."""
        ticket, event = await self._ticket_and_event(code_or_link, read)
        if ticket is None:
            return CheckInResult(CheckInStatus.UNKNOWN_CODE)
        if event is None or not self.may_check_in(event, staff_id):
            return CheckInResult(CheckInStatus.NOT_YOUR_EVENT)
        if ticket.status == TicketStatus.VOID:
            return CheckInResult(CheckInStatus.VOID, ticket, event)
        return ticket, event

    async def check_in(self, code_or_link: str, staff_id: AccountId, *, read: TicketDoc | None = None) -> CheckInResult:
        """Check a ticket in by code (any case, dashes optional), deep-link payload or whole deep link. `read`:
        that ticket as the caller has just read it (saves reading it again; the check-in itself is conditional)."""
        gate = await self._admit(code_or_link, staff_id, read)
        if isinstance(gate, CheckInResult):
            return gate
        ticket, event = gate
        done = await self._store.tickets.check_in(ticket.id, by=staff_id, at=self._clock())
        if done is not None:
            return CheckInResult(CheckInStatus.CHECKED_IN, done, event)
        current = await self._store.tickets.get(ticket.id)
        if current is not None and current.status == TicketStatus.VOID:
            return CheckInResult(CheckInStatus.VOID, current, event)
        return CheckInResult(CheckInStatus.ALREADY_CHECKED_IN, current, event)

    async def at_door(self, code_or_link: str, staff_id: AccountId, *,
                      read: TicketDoc | None = None) -> CheckInResult:
        """Check a ticket in as the door does (a link, a photo, `/checkin`, a typed code): at once inside the
        event's door window; outside it EARLY or LATE with the ticket and its event, and nothing changes (the
        door asks, and a yes calls `check_in`). Unknown, not yours, void and already used answer as `check_in`."""
        gate = await self._admit(code_or_link, staff_id, read)
        if isinstance(gate, CheckInResult):
            return gate
        ticket, event = gate
        if ticket.checked_in_at is not None:
            return CheckInResult(CheckInStatus.ALREADY_CHECKED_IN, ticket, event)
        outside = self.window.status_at(event, self._clock())
        if outside is not None:
            return CheckInResult(outside, ticket, event)
        return await self.check_in(ticket.id, staff_id, read=ticket)

    async def open_link(self, code_or_link: str, account: AccountId) -> LinkAnswer:
        """A ticket's link opened in a chat: the event's door staff check it in (`at_door`); its buyer sees their
        ticket; other staff are told it is not their event (or unknown); anyone else learns where it stands and
        its event, with no personal data (`public_status`, as the ticket page)."""
        ticket, event = await self._ticket_and_event(code_or_link, None)
        if ticket is not None and event is not None and self.may_check_in(event, account):
            return LinkAnswer(LinkRole.DOOR, check_in=await self.at_door(ticket.id, account, read=ticket))
        if ticket is not None and self._access.is_owner(account, ticket.user_id):
            return LinkAnswer(LinkRole.OWNER, ticket=ticket, event=event)
        if await self._access.is_staff(account):
            return LinkAnswer(LinkRole.DOOR, check_in=await self.at_door(code_or_link, account, read=ticket))
        return LinkAnswer(LinkRole.PUBLIC, public=await self.public_status(code_or_link, read=ticket))

    # ---- scan mode: a staff member's photos are QR codes to check in, for a while ----------------------------

    async def start_scanning(self, staff_id: AccountId, *, window: timedelta) -> None:
        """Treat the staff member's photos as QR scans for `window` from now (each scan extends it)."""
        now = self._clock()
        await self._store.drafts.set_scan_until(staff_id, now + window, at=now)

    async def scanning(self, staff_id: AccountId) -> bool:
        """Whether the staff member is in scan mode now."""
        doc = await self._store.drafts.get(staff_id)
        return doc is not None and doc.scan_until is not None and as_utc(doc.scan_until) > self._clock()
