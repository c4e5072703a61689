"""Typed refusals the services raise. Each carries a reason code; the front doors turn it into a message."""

from __future__ import annotations

from enum import StrEnum


class KarcisError(Exception):
    """Base of every refusal a service gives to a front door."""


class RefusalReason(StrEnum):
    UNKNOWN_EVENT = "unknown_event"
    SALES_CLOSED = "sales_closed"
    SALES_NOT_OPEN = "sales_not_open"  # the sales window opens later (the door says when)
    EMPTY_ORDER = "empty_order"
    UNKNOWN_TIER = "unknown_tier"
    OVER_MAX_PER_ORDER = "over_max_per_order"
    SOLD_OUT = "sold_out"
    RATE_LIMITED = "rate_limited"
    TOO_MANY_PENDING = "too_many_pending"


class ReservationRefused(KarcisError):
    """A reservation was not made; nothing was held."""

    def __init__(
        self, reason: RefusalReason, *, tier: str | None = None, limit: int | None = None,
        available: int | None = None,
    ) -> None:
        self.reason = reason
        self.tier = tier
        self.limit = limit
        self.available = available
        details = ", ".join(f"{k}={v}" for k, v in (("tier", tier), ("limit", limit), ("available", available))
                            if v is not None)
        super().__init__(f"{reason.value}" + (f" ({details})" if details else ""))


class OrderNotFound(KarcisError):
    """No such order, or not one of this user's."""


class OrderNotPending(KarcisError):
    """The order has already left `pending` (paid, expired, cancelled...), so it cannot be changed that way."""

    def __init__(self, order_id: str, status: str) -> None:
        self.order_id = order_id
        self.status = status
        super().__init__(f"order {order_id} is {status}")


class ContactField(StrEnum):
    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"


class InvalidContact(KarcisError):
    """A buyer's name, email or phone was not accepted; `problem` says what is wrong with it."""

    def __init__(self, field: ContactField, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field.value}: {problem}")


class EventsFileError(KarcisError):
    """The events file cannot be imported; the message lists every problem, by event and field."""


class CapacityError(EventsFileError):
    """A tier's capacity would fall below the seats already pending or sold."""


class CannotStart(KarcisError):  # noqa: N818 - read as a sentence: "cannot start: ..."
    """A command cannot start for a reason outside this process (Telegram or MongoDB unreachable): one line that
    says what failed, where, and what to do. The command line prints it and exits 1 (trying later may work)."""
