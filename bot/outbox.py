"""The messages an order can owe, written in the same update as the change that causes them, so a crash can
delay a message but never lose it. `bot.notifications` delivers them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from storage.documents import OutboxEntry


class Message(StrEnum):
    PAID = "paid"                        # buyer: payment received, one QR ticket per seat
    SALE = "sale"                        # organisers: a sale
    PAYMENT_PENDING = "payment_pending"  # buyer: how to finish paying (VA number, ...)
    FAILED = "failed"                    # buyer: the payment failed, seats released
    EXPIRED = "expired"                  # buyer: the hold ended, seats released
    REFUNDED = "refunded"                # buyer: refunded, tickets void
    NEEDS_REFUND = "needs_refund"        # buyer and admins: paid after the seats were gone
    AMOUNT_MISMATCH = "amount_mismatch"  # admins: Midtrans reported a different amount
    PAYMENT_REVIEW = "payment_review"    # admins: card payment held for fraud review
    # Issue 9 (docs/money.md says what each carries in `detail`):
    REVERSED = "reversed"                # buyer, organisers, admins: money taken back after the sale, tickets void
    PARTIAL_REFUND = "partial_refund"    # buyer: part of the order refunded, those tickets void
    REFUND_UNASSIGNED = "refund_unassigned"  # admins: Midtrans refunded an amount; choose the tickets to void
    EXPIRED_UNCONFIRMED = "expired_unconfirmed"  # admins: expired while Midtrans could not be asked


def owe(now: datetime, *messages: Message, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """`$set` fields that add `messages` to an order's outbox and make it due for delivery now."""
    entry = OutboxEntry(created_at=now, detail=detail or {}).model_dump(mode="python")
    fields: dict[str, Any] = {f"outbox.{m.value}": entry for m in messages}
    if messages:
        fields["notify_due_at"] = now
    return fields
