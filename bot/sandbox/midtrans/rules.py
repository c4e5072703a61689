"""Midtrans's constants and small rules: status codes, payment methods, field limits, the signature, rupiah."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final, TypeGuard

Clock = Callable[[], datetime]
JSON = dict[str, Any]

WIB: Final = timezone(timedelta(hours=7), "WIB")
MERCHANT_ID: Final = "G000000000"
DEFAULT_SNAP_EXPIRY: Final = timedelta(hours=24)
DEFAULT_NOTIFY_TIMEOUT: Final = 15.0

ORDER_ID_RE: Final = re.compile(r"^[A-Za-z0-9\-_~.]{1,50}$")

STATUS_CODES: Final[Mapping[str, str]] = {
    "authorize": "200",
    "capture": "200",
    "settlement": "200",
    "pending": "201",
    "deny": "202",
    "cancel": "202",  # Cancel Transaction, "Sample Response - Success Notification": "status_code": "202"
    "expire": "202",
    "refund": "200",
    "partial_refund": "200",
    "chargeback": "200",
    "partial_chargeback": "200",
}
"""`status_code` for each `transaction_status` (a `capture` with `fraud_status` "challenge" is "201")."""

PAYMENT_METHODS: Final[Mapping[str, str]] = {
    "bank_transfer": "Bank transfer (VA)",
    "permata": "Permata VA",
    "echannel": "Mandiri bill payment",
    "cstore": "Indomaret / Alfamart",
    "gopay": "GoPay (e-wallet)",
    "shopeepay": "ShopeePay",
    "qris": "QRIS",
    "credit_card": "Card",
}
"""The payment types `simulate_payment` (and the page) accept → label. "permata" is a shorthand for
`bank_transfer` with bank "permata": Midtrans reports a Permata VA as `"payment_type": "bank_transfer"` with a
`permata_va_number` (HTTP(S) Notification / Webhooks, docs.midtrans.com/docs/https-notification-webhooks,
sample "Permata VA")."""

BANKS: Final = ("bca", "bni", "bri", "permata")
"""`bank` for `bank_transfer` (Notification / Webhooks page, samples "BCA VA", "BNI VA", "BRI VA", "Permata VA")."""
STORES: Final = ("indomaret", "alfamart")
"""`store` for `cstore` (the same page's samples "Indomaret" and "Alfamart")."""

PAGE_METHODS: Final[tuple[tuple[str, str], ...]] = (
    ("bank_transfer:bca", "Bank transfer (VA) — BCA"),
    ("bank_transfer:bni", "Bank transfer (VA) — BNI"),
    ("bank_transfer:bri", "Bank transfer (VA) — BRI"),
    ("bank_transfer:permata", "Bank transfer (VA) — Permata"),
    ("echannel", "Mandiri bill payment"),
    ("cstore:indomaret", "Indomaret"),
    ("cstore:alfamart", "Alfamart"),
    ("gopay", "GoPay (e-wallet)"),
    ("shopeepay", "ShopeePay"),
    ("qris", "QRIS"),
    ("credit_card", "Card"),
)
"""The payment page's choices: `payment_type[:bank or store]` → label."""

OUTCOMES: Final = ("pay", "fail", "expire", "challenge")
"""What the page's buttons (and `simulate_payment`) can make happen before a sale ("challenge": card only)."""

AFTER_SALE: Final = ("reverse", "cancel", "chargeback", "partial_chargeback", "refund", "partial_refund")
"""What the page's buttons can make happen after a sale (see `MidtransSimulator.reverse` and the others)."""

REFUNDABLE_TYPES: Final = frozenset({"credit_card", "gopay", "shopeepay", "qris"})
"""Payment types the refund API accepts, of those the simulator knows. Refund Transactions
(docs.midtrans.com/reference/refund-transaction): "Refund transaction is supported only for credit_card, gopay,
shopeepay, dana, ovo, QRIS, kredivo and akulaku". Direct Refund Transaction (…/reference/direct-refund-transaction):
"only supported for GoPay, QRIS, ShopeePay, Credit Card, Akulaku and Kredivo" — the same four here. Which endpoint:
both pages say "Merchant can now just use 1 refund endpoint `/refund` for all refund usecases. Direct Refund endpoint
however can still be used for existing merchants", so both endpoints take all four (for cards the direct one names
BCA, MAYBANK, BNI and BRI acquirers; the simulator's cards are BNI)."""

REVERSIBLE: Final = frozenset({("bank_transfer", "permata"), ("echannel", None), ("cstore", "indomaret")})
"""(payment_type, bank or store) whose settlement may turn into deny. Transaction Status Cycle
(docs.midtrans.com/docs/transaction-status-cycle), "Reversal Case": "Known specific to payment methods of Permata
Bank Transfer, Mandiri Bill Payment, and Indomaret … settlement can later change into deny … usually within the span
of 1-5 minutes". (Not Alfamart: the page does not name it.)"""

MIN_SNAP_EXPIRY: Final = timedelta(minutes=5)
"""The shortest Snap `expiry` the simulator accepts. The docs disagree: Expire a Snap Session
(docs.midtrans.com/reference/expire-a-snap-session): "Minimum accepted expiry is 5 mins, max is 7 days."; JSON
Objects (docs.midtrans.com/reference/json-objects), Expiry Object: "The minimum expiry for the Snap token is 20
seconds. If the expiry sent is less than 20 seconds. The Snap will respond to validation errors." The stricter one
(5 minutes) wins here."""
MAX_SNAP_EXPIRY: Final = timedelta(days=7)
"""The longest Snap `expiry`: "max is 7 days" (Expire a Snap Session). JSON Objects says a longer one is cut to 7
days ("The Snap token will still expire 7 days after creation"); refused here, the stricter reading."""

ITEM_FIELD_MAX_BYTES: Final = 50
"""JSON Objects (docs.midtrans.com/reference/json-objects), Item Details Object: id, name, brand, category,
merchant_name and url are "String(50)"; Snap answers "item_details Name too long" (as a merchant's log quotes it,
zakiachsan27/CallExpert docs/archive/FIXES_MIDTRANS_VALIDATION.md). Measured in UTF-8 bytes, as Midtrans's own PHP
client cuts names (`substr($name, 0, 50)` is byte-wise), so a 50-character name with "—" in it is refused here:
never kinder than Midtrans."""
ITEM_TEXT_FIELDS: Final = ("id", "name", "brand", "category", "merchant_name", "url")
CUSTOMER_FIELD_MAX: Final = 255
"""JSON Objects, Customer Details Object: first_name, last_name, email, phone "String(255)"; Address Object:
first_name, last_name, email, phone, address "String(255)", city "String(100)", postal_code and country_code
"String(10)". Customer Details Object (Core API, docs.midtrans.com/reference/customer-details-object):
country_code "Currently only IDN is supported"."""
ADDRESS_FIELD_MAX: Final[Mapping[str, int]] = {
    "first_name": 255, "last_name": 255, "email": 255, "phone": 255, "address": 255, "city": 100,
    "postal_code": 10, "country_code": 10,
}
FINISH_URL_MAX: Final = 255
"""JSON Objects, Callbacks Object: finish "String(255)"."""
BCA_VA_NAME_MAX: Final = 30
"""JSON Objects, Customer Details Object: "For BCA VA, limit the customer names (first_name and last_name), to
only 30 characters." Applied to "first_name last_name" together (the stricter reading) when a buyer pays by BCA VA."""
BNI_PHONE_RE: Final = re.compile(r"^(\+62|0)[0-9 ()\-]*$")
"""JSON Objects, Customer Details Object: "For BNI VA, phone number format should start with +62 or 0 + [area code]
with max char = 30. If passed incorrectly, trx will be rejected." Checked when a buyer pays by BNI VA."""
BNI_PHONE_MAX: Final = 30


class _Default:
    """The type of `DEFAULT`, the "usual value" marker where None already means something (e.g. "omit it")."""

    _instance: _Default | None = None

    def __new__(cls) -> _Default:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Final = _Default()
"""`simulate_payment(fraud_status=DEFAULT)`: the usual fraud_status; `None` leaves the field out of the body."""

_STATUS_FOUND = "Success, transaction is found"
_NOTIFICATION_MESSAGE = "midtrans payment notification"
_NOT_FOUND: Final[JSON] = {"status_code": "404", "status_message": "Transaction doesn't exist."}
_SNAP_UNAUTHORIZED: Final = [
    "Access denied due to unauthorized transaction, please check client or server key",
    "Visit https://snap-docs.midtrans.com/#request-headers for more details",
]
_EXPIRY_UNITS: Final[Mapping[str, timedelta]] = {
    "minute": timedelta(minutes=1), "minutes": timedelta(minutes=1),
    "hour": timedelta(hours=1), "hours": timedelta(hours=1),
    "day": timedelta(days=1), "days": timedelta(days=1),
}
_NON_CARD_TYPES: Final = frozenset({"bank_transfer", "echannel", "permata", "gopay", "qris", "shopeepay", "cstore"})


def signature_key(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """Midtrans's `signature_key`: hex SHA-512 of `order_id + status_code + gross_amount + server_key`."""
    return hashlib.sha512(f"{order_id}{status_code}{gross_amount}{server_key}".encode()).hexdigest()


def status_code_for(transaction_status: str, fraud_status: str | None = None) -> str:
    """The `status_code` Midtrans sends with a `transaction_status`; ValueError for an unknown status."""
    if transaction_status not in STATUS_CODES:
        raise ValueError(f"unknown transaction_status {transaction_status!r}; known: {', '.join(STATUS_CODES)}")
    if transaction_status == "capture" and fraud_status == "challenge":
        return "201"
    return STATUS_CODES[transaction_status]


def format_rupiah(amount: int) -> str:
    """`150000` → `Rp150.000` (Indonesian thousands separator); negative amounts get a leading minus."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")


def _amount_string(amount: int | str) -> str:
    return amount if isinstance(amount, str) else f"{amount}.00"


def _wib(moment: datetime) -> str:
    return moment.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
