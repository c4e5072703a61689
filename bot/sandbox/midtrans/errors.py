"""The simulator's refusals: a Snap request refused, an unknown transaction, a payment or flow refused."""

from __future__ import annotations

from collections.abc import Sequence

# --------------------------------------------------------------------------------------------------------------
# Errors


class SnapValidationError(Exception):
    """A Snap create request was refused; `messages` are Snap's `error_messages`."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


class UnknownTransaction(KeyError):
    """No Snap transaction with that order id (or transaction id)."""


class PaymentRefused(Exception):
    """The payment page (or a `MidtransSimulator` flow) refuses; nothing changed, nothing was sent.

    `reason`: "expired" (past the Snap expiry), "finished" (already final), "invalid" (unknown outcome, method,
    bank or store, or a bad amount), "rejected" (Midtrans rejects this payment method for this transaction, e.g. a
    BNI VA for a phone that does not start with +62 or 0), "not_allowed" (the transition is not one Midtrans
    documents from the current status, e.g. a reversal of a card payment or a cancel after settlement).
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)
