"""What the simulator remembers: a Snap transaction with its status history, a delivery, a payment outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.sandbox.midtrans.rules import JSON


@dataclass
class SnapTransaction:
    """One Snap transaction as the simulator remembers it. `history` holds every status snapshot, oldest first."""

    order_id: str
    gross_amount: int
    token: str
    transaction_id: str
    created_at: datetime
    expires_at: datetime
    item_details: list[JSON]
    customer_details: JSON
    finish_url: str | None
    request_body: JSON
    payment_type: str | None = None
    transaction_time: datetime | None = None
    settlement_time: datetime | None = None
    va_number: str | None = None
    history: list[JSON] = field(default_factory=list)
    bank: str | None = None
    """`bank_transfer`: bca, bni, bri or permata."""
    store: str | None = None
    """`cstore`: indomaret or alfamart."""
    payment_code: str | None = None
    bill_key: str | None = None
    origin: str = "http://127.0.0.1"
    """scheme://host[:port] the buyer reaches the simulator at (for `actions` URLs)."""
    refunds: list[JSON] = field(default_factory=list)
    """Every refund, as the `refunds` array of the status body lists them, oldest first."""
    refund_total: int = 0
    chargeback_total: int = 0
    expiry_from_charge: timedelta | None = None
    """An `expiry` without start_time: Expire a Snap Session: "If not specified, transaction time will be used as
    start time (when customer confirm payment channel)", so the payment's expiry restarts at the first charge."""

    @property
    def refundable(self) -> int:
        """What may still be refunded or charged back, in rupiah."""
        return self.gross_amount - self.refund_total - self.chargeback_total

    @property
    def current(self) -> JSON | None:
        """The latest status snapshot (what the status API answers), or None before a payment method is chosen."""
        return self.history[-1] if self.history else None

    @property
    def transaction_status(self) -> str | None:
        return self.history[-1]["transaction_status"] if self.history else None

    @property
    def statuses(self) -> list[str]:
        """Every `transaction_status` this transaction went through, oldest first."""
        return [snap["transaction_status"] for snap in self.history]


@dataclass(frozen=True)
class Delivery:
    """One notification POST: what was sent where, and what our server answered (`http_status` None: no answer)."""

    url: str
    order_id: str
    body: JSON
    http_status: int | None
    error: str | None
    at: datetime

    @property
    def transaction_status(self) -> str | None:
        return self.body.get("transaction_status")


@dataclass(frozen=True)
class PaymentOutcome:
    """What `simulate_payment` did: the snapshots it added and the notifications it sent (empty if no URL)."""

    order_id: str
    outcome: str
    payment_type: str
    statuses: list[JSON]
    deliveries: list[Delivery]
