"""Refunds by amount: refunds started from the chat (through Midtrans's refund API) and refunds Midtrans reports
without Karcis asking (a dashboard refund, a partial chargeback), whose tickets admins assign. See docs/money.md.

Who may refund: admins, and the organisers of the order's event. A refund names its tickets; Karcis voids exactly
those when Midtrans accepts, returns their seats to stock and tells the buyer. A refund Midtrans refuses changes
nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.catalog import Catalog
from bot.clock import Clock, utcnow
from bot.errors import KarcisError
from bot.midtrans import MidtransGateway
from storage.documents import (
    OrderDoc,
    RefundRecord,
    TicketStatus,
    VoidReason,
)
from storage.store import Store

log = logging.getLogger(__name__)

REASON_MAX = 200  # what we store and send to Midtrans as the refund reason


class RefundRefusal(StrEnum):
    NOT_FOUND = "not_found"                      # no such order
    NOT_ALLOWED = "not_allowed"                  # only admins, and organisers of the order's event
    NOT_PAID = "not_paid"                        # the order is not paid (detail: status)
    NOTHING_TO_REFUND = "nothing_to_refund"      # no valid ticket left to refund
    TICKET_NOT_IN_ORDER = "ticket_not_in_order"  # detail: code
    TICKET_VOID = "ticket_void"                  # detail: code
    TICKET_BEING_REFUNDED = "ticket_being_refunded"  # another refund has claimed it (detail: code)
    CHECKED_IN_NEEDS_CONFIRM = "checked_in_needs_confirm"  # detail: codes; ask again with confirm_checked_in
    MIDTRANS_REFUSED = "midtrans_refused"        # detail: status (HTTP/Midtrans code), message (Midtrans's words)
    MIDTRANS_UNAVAILABLE = "midtrans_unavailable"  # nothing known changed; asking again reuses the refund_key
    NOTHING_UNASSIGNED = "nothing_unassigned"    # assign(): no refunded amount waits for tickets


class RefundRefused(KarcisError):
    """A refund (or an assignment) was not made. `detail` carries the reason's specifics."""

    def __init__(self, reason: RefundRefusal, **detail: Any) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(reason.value + (f" {detail}" if detail else ""))


@dataclass(frozen=True)
class RefundTicket:
    code: str
    tier: str
    tier_name: str
    price: int
    status: TicketStatus
    checked_in_at: datetime | None = None
    void_reason: VoidReason | None = None
    claimed: bool = False  # a refund in progress has claimed it

    @property
    def valid(self) -> bool:
        return self.status == TicketStatus.VALID

    @property
    def checked_in(self) -> bool:
        return self.checked_in_at is not None


@dataclass(frozen=True)
class RefundView:
    """What a refund screen shows: the order, each ticket, what can still be refunded and what waits for tickets."""

    order: OrderDoc
    tickets: list[RefundTicket]
    refundable: int   # rupiah that a refund from the chat may still return (valid, unclaimed tickets, capped)
    unassigned: int   # rupiah Midtrans refunded that no voided ticket accounts for yet
    refunds: list[RefundRecord] = field(default_factory=list)

    @property
    def valid_tickets(self) -> list[RefundTicket]:
        return [t for t in self.tickets if t.valid]


@dataclass(frozen=True)
class RefundDone:
    order: OrderDoc
    refund: RefundRecord
    voided: list[str]        # ticket codes voided by this call
    fully_refunded: bool     # the order is now `refunded`
    reused: bool = False     # a retry / double tap: this refund was already done


def refund_key_for(order_id: str, codes: Sequence[str]) -> str:
    """The idempotent refund_key of a refund of these tickets: a retry or a double tap reuses it.
    `R` + 16 hex characters of SHA-256 over the order and its sorted ticket codes."""
    digest = hashlib.sha256(f"{order_id}|{','.join(sorted(codes))}".encode()).hexdigest()[:16]
    return f"R{digest}"


class RefundService:
    def __init__(self, store: Store, catalog: Catalog, gateway: MidtransGateway, *,
                 admin_ids: Collection[int] = (), clock: Clock = utcnow) -> None:
        self._store = store
        self._catalog = catalog
        self._gateway = gateway
        self._admins = frozenset(admin_ids)
        self._clock = clock

    async def view(self, order_id: str, *, by: int) -> RefundView:
        """Raises RefundRefused(NOT_FOUND | NOT_ALLOWED)."""
        raise NotImplementedError

    async def refund(self, order_id: str, ticket_codes: Sequence[str] | None, *, by: int, reason: str,
                     confirm_checked_in: bool = False) -> RefundDone:
        """Refund these tickets (None: every valid ticket) through Midtrans; void them when it accepts."""
        raise NotImplementedError

    async def assign(self, order_id: str, ticket_code: str, *, by: int) -> RefundView:
        """Void one ticket against a refund Midtrans reported without tickets (admins only)."""
        raise NotImplementedError
