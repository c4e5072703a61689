"""The shape of every document Karcis keeps in MongoDB, as pydantic models.

Storage owns the persisted schema; the services above read and write these models and never raw dicts.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _account_ref(value: object) -> object:
    """Documents written before accounts name people by Telegram user id: an int reads as `telegram:<id>`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"telegram:{value}"
    return value


# An account id (bot/accounts.py): a string, the address the person is known by (`telegram:<id>`,
# `whatsapp:<E.164>`). An integer (today's documents, or a rolling deploy's old process) reads as a Telegram id.
AccountRef = Annotated[str, BeforeValidator(_account_ref)]


class Document(BaseModel):
    """A MongoDB document: `_id` is exposed as `id`."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    def to_mongo(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="python")

    @classmethod
    def from_mongo(cls, raw: dict[str, Any] | None) -> Self | None:
        return None if raw is None else cls.model_validate(raw)


class EventStatus(StrEnum):
    DRAFT = "draft"
    ON_SALE = "on_sale"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class EventDoc(Document):
    id: str = Field(alias="_id")
    title: str
    description: str = ""
    venue: str
    starts_at: datetime
    ends_at: datetime
    organisers: list[AccountRef] = Field(default_factory=list, description="account ids")
    organiser_links: list[list[str]] = Field(
        default_factory=list, description="organisers named by several addresses: each one's addresses")
    sales_open_at: datetime | None = None
    sales_close_at: datetime | None = None
    status: EventStatus = EventStatus.ON_SALE
    tier_codes: list[str] = Field(default_factory=list, description="display order")
    updated_at: datetime | None = None
    organiser_languages: dict[str, str] = Field(
        default_factory=dict, description="account id → the language (id/en) the events file gives that organiser")
    timezone: str = Field(default="Asia/Jakarta", description="IANA zone its times are shown in (WIB, WITA, WIT); "
                          "documents from before zones are Jakarta's")


def tier_key(event_id: str, code: str) -> str:
    """The `_id` of a tier's inventory document."""
    return f"{event_id}:{code}"


class TierDoc(Document):
    """One ticket tier of one event, and its stock: capacity = available + pending + sold."""

    id: str = Field(alias="_id")
    event_id: str
    code: str
    name: str
    price: int
    capacity: int
    available: int
    pending: int = 0
    sold: int = 0
    max_per_order: int
    active: bool = True


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"
    NEEDS_REFUND = "needs_refund"
    REFUNDED = "refunded"
    REVERSED = "reversed"  # the money was taken back after a sale (cstore reversal, cancel after capture, chargeback)


class Buyer(BaseModel):
    name: str
    email: str
    phone: str


class OrderLine(BaseModel):
    tier: str
    name: str
    price: int
    qty: int

    @property
    def amount(self) -> int:
        return self.price * self.qty


class StatusChange(BaseModel):
    status: OrderStatus
    at: datetime
    note: str = ""


class OutboxEntry(BaseModel):
    """A message owed to the buyer, the organisers or the admins about an order, until it is delivered."""

    created_at: datetime
    attempts: int = 0
    last_error: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    delivered: list[str] = Field(default_factory=list, description="parts already sent (a retry skips them)")
    redo: list[str] = Field(default_factory=list, description=(
        "a re-delivery: only these people are owed it (`buyer` or an account id), because a channel reported "
        "their copy failed after sending (WhatsApp's `failed` status); empty: everyone it is for"))


class RefundSource(StrEnum):
    KARCIS = "karcis"      # started from the chat through Midtrans's refund API
    MIDTRANS = "midtrans"  # reported by Midtrans without Karcis asking (dashboard refund, partial chargeback)


class RefundState(StrEnum):
    REQUESTED = "requested"    # Karcis asked Midtrans; the answer is not known yet (its tickets are claimed)
    DONE = "done"              # accounted for: its tickets are void and their seats are back in stock
    UNASSIGNED = "unassigned"  # Midtrans reported money back without tickets: admins choose which tickets to void


class RefundRecord(BaseModel):
    """One refund (or partial chargeback) of an order, by amount. See docs/money.md."""

    id: str = Field(description="storage-safe key of this record in OrderDoc.refunds")
    refund_key: str | None = Field(description="Midtrans's refund_key (ours for refunds Karcis started)")
    amount: int = Field(description="rupiah that went back")
    tickets: list[str] = Field(default_factory=list, description="ticket codes voided for it")
    ticket_amount: int = Field(default=0, description="Σ price of `tickets`")
    source: RefundSource
    kind: str = Field(default="refund", description="refund or chargeback")
    by: AccountRef | None = Field(default=None, description="the account that asked for it (None: from Midtrans)")
    reason: str = ""
    at: datetime
    status: RefundState

    @property
    def unassigned(self) -> int:
        """Rupiah of this refund not yet matched by voided tickets (only for UNASSIGNED records)."""
        return max(0, self.amount - self.ticket_amount) if self.status == RefundState.UNASSIGNED else 0


class ReturnedSeats(BaseModel):
    """Seats of a still-paid order given back to stock by a refund (reconcile subtracts them from `sold`)."""

    tier: str
    qty: int
    price: int
    refund_id: str


class OrderDoc(Document):
    id: str = Field(alias="_id")
    user_id: AccountRef
    event_id: str
    lines: list[OrderLine]
    seats: int
    total: int
    buyer: Buyer
    status: OrderStatus
    created_at: datetime
    expires_at: datetime
    updated_at: datetime
    paid_at: datetime | None = None
    history: list[StatusChange] = Field(default_factory=list)
    payment: dict[str, Any] = Field(default_factory=dict, description="the payment link and what Midtrans told us")
    outbox: dict[str, OutboxEntry] = Field(default_factory=dict, description="messages owed, by kind")
    sent: dict[str, datetime] = Field(default_factory=dict, description="messages delivered, by kind")
    notify_due_at: datetime | None = Field(default=None, description="when the outbox should next be delivered")
    delivery_lease_until: datetime | None = Field(default=None, description="a delivery in progress holds it")
    refunded_amount: int = Field(default=0, description="rupiah that went back, as Midtrans last reported")
    refunds: dict[str, RefundRecord] = Field(default_factory=dict, description="by RefundRecord.id")
    refund_claims: list[str] = Field(default_factory=list, description="ticket codes a refund has claimed")
    returned: list[ReturnedSeats] = Field(default_factory=list, description="seats given back while still paid")
    poll_due_at: datetime | None = Field(default=None, description="when the status API should next be asked")
    buyer_address: AccountRef | None = Field(
        default=None, description="the address the order was placed from (None: before accounts, so Telegram's)")
    redone: dict[str, dict[str, datetime]] = Field(
        default_factory=dict, description="kind → person → when a failed copy was owed again (bot/notifications.py)")

    @property
    def refund_list(self) -> list[RefundRecord]:
        return sorted(self.refunds.values(), key=lambda r: r.at)

    @property
    def unassigned_amount(self) -> int:
        return sum(r.unassigned for r in self.refunds.values())


class TicketStatus(StrEnum):
    VALID = "valid"
    VOID = "void"


class VoidReason(StrEnum):
    REFUNDED = "refunded"  # its money went back (a refund naming it, or the whole order refunded)
    REVERSED = "reversed"  # the order's payment was reversed or charged back


class TicketDoc(Document):
    id: str = Field(alias="_id", description="the ticket code, upper case, without dashes")
    order_id: str
    seq: int
    event_id: str
    tier: str
    tier_name: str
    holder_name: str
    user_id: AccountRef
    status: TicketStatus = TicketStatus.VALID
    issued_at: datetime
    checked_in_at: datetime | None = None
    checked_in_by: AccountRef | None = None
    void_reason: VoidReason | None = None
    voided_at: datetime | None = None


class ReservationClaim(BaseModel):
    at: datetime
    claim: str


class UserDoc(Document):
    """Per-user counters that keep the purchase limits cheap, the contact details used last time, and what the
    chat needs to address the user (Telegram language code and display name, refreshed on every update)."""

    id: AccountRef = Field(alias="_id")
    pending_orders: int = 0
    recent_reservations: list[ReservationClaim] = Field(default_factory=list)
    last_buyer: Buyer | None = None
    language: str | None = Field(default=None, description="Telegram language_code, e.g. 'id' or 'en-GB'")
    name: str | None = Field(default=None, description="Telegram display name, to say who checked a ticket in")


class ContactStep(StrEnum):
    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"


class PurchaseDraft(BaseModel):
    """A purchase between choosing tickets and confirming: the chat's memory, kept here and not in a process."""

    nonce: str = Field(description="names this draft in callback data, so a stale button cannot act on a newer one")
    event_id: str
    cart: dict[str, int]
    awaiting: ContactStep | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    prompt_message_id: int | None = Field(
        default=None, description="the bot's message that shows this purchase's prompts and summary, edited in "
        "place; None (drafts from before it was kept): the next step sends a new one")

    @property
    def buyer(self) -> Buyer | None:
        if self.name and self.email and self.phone:
            return Buyer(name=self.name, email=self.email, phone=self.phone)
        return None


class DraftDoc(Document):
    """What a chat is in the middle of, per user: a purchase draft, and whether the next photo is a QR scan."""

    id: AccountRef = Field(alias="_id")
    purchase: PurchaseDraft | None = None
    scan_until: datetime | None = None
    updated_at: datetime
