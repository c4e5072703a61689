"""A Midtrans simulator: Snap, the Core API (status, cancel, expire, approve, deny, refund) and signed HTTP
notifications, served by aiohttp on 127.0.0.1.

It follows Midtrans's documentation (docs.midtrans.com; see also FIELD-NOTES.md, "Midtrans") closely enough that
the real `midtransclient` and our webhook cannot tell it from the sandbox, and it is never kinder than Midtrans:
where the docs disagree or are vague, the stricter reading wins. Each rule's source is quoted beside it.

Routes (Basic auth with the server key and an empty password, except the page and the QR image):

- `POST /snap/v1/transactions`: 201 `{"token", "redirect_url"}`, 400 `{"error_messages": [...]}`, 401.
- `GET /v2/{order_id or transaction_id}/status`: 404 "Transaction doesn't exist." until a payment method is chosen
  (Transaction Status Cycle, "Status When Using Snap API"), then the full status JSON with a `signature_key`.
- `POST /v2/{id}/cancel` (pending, or a card capture before settlement), `/expire` (pending), `/approve` and
  `/deny` (a card capture with fraud_status challenge): as the Core API; 412 "Merchant cannot modify the status of
  the transaction" otherwise; each success is notified.
- `POST /v2/{id}/refund` and `POST /v2/{id}/refund/online/direct`, body `{refund_key, amount, reason}`: see
  `MidtransState.refund_api` (200, or 404 / 400 / 406 / 412 / 414; a direct refund the bank rejects: "202").
- `GET /v2/{gopay|qris}/{transaction_id}/qr-code`: the PNG behind a pending `generate-qr-code` action.
- `GET /snap/v4/redirection/{token}`: the HTML payment page ("Sandbox — no real money moves"); its buttons post to
  `POST /snap/v4/redirection/{token}/simulate` and cover every flow below.

Flows (page buttons, and `MidtransSimulator` from Python):

- Paying by every payment type whose body the HTTP(S) Notification / Webhooks page documents ("Sample for Various
  Payment Methods"): bank_transfer with bank bca / bni / bri (`va_numbers`, `payment_amounts`) or permata
  (`permata_va_number`), echannel (`biller_code`, `bill_key`), cstore indomaret / alfamart (`store`,
  `payment_code`; Indomaret without fraud_status), gopay / shopeepay / qris (pending notifications carry `actions`,
  shaped as on the GoPay integration page; the status API shows them for ShopeePay only, as Get Transaction Status
  says; `actions_in_notifications = False` drops them), credit_card (capture with fraud_status accept,
  challenge or deny, or with none at all). Outcomes pay, fail, expire, challenge; `simulate_payment`.
- After a sale (Transaction Status Cycle): settlement → deny, the reversal (Permata, Mandiri bill, Indomaret only;
  `reverse`); capture → cancel (`cancel_after_payment`); settlement → partial_chargeback → chargeback
  (`chargeback`); settlement → partial_refund → refund from the dashboard (`dashboard_refund`) or the refund API,
  with `refund_amount` and the `refunds` array, notified twice (without and with `bank_confirmed_at`, as Refund
  Transactions says). A card capture is settled first where only a settlement may move on.
- Lost notifications (`notify=False`, `mute`, the page's "Pay, lose the notification"): the status changes, the
  status API tells the truth, nothing is sent. Duplicate and out-of-order deliveries: `notify(duplicates=…)`,
  `notify_snapshot`. Tampered or unsigned ones: `notify(body_overrides=…, sign=False)`.

Refusals:

- Snap create (JSON Objects, docs.midtrans.com/reference/json-objects): order_id over 50 or with other symbols than
  `-_~.`, or used before; gross_amount not a positive integer or not Σ price × quantity; item id / name / brand /
  category / merchant_name / url over 50 (UTF-8 bytes); customer fields over 255; address city over 100,
  postal_code / country_code over 10, country_code other than IDN; `callbacks.finish` over 255 or not a URL; expiry
  under 5 minutes or over 7 days (the docs also say 20 seconds; see MIN_SNAP_EXPIRY). A `|` in an item name is only
  "avoid[ed] … for Alfamart": Snap takes it, the Alfamart payment is rejected.
- A method outside the request's `enabled_payments` is not offered (PaymentRefused "invalid"; the page hides it).
- When the buyer pays (PaymentRefused "rejected", nothing changes, nothing is sent): BNI VA and a customer phone
  that does not start with +62 or 0 or is over 30 ("If passed incorrectly, trx will be rejected"); BCA VA and a
  name over 30; Alfamart and a `|` in an item name.
- A flow the docs do not allow from the current status or for the payment type: PaymentRefused "not_allowed"
  (page: 409); the Core API answers as documented.

An `expiry` without start_time counts from the first charge ("If not specified, transaction time will be used as
start time (when customer confirm payment channel)", Expire a Snap Session).

Status codes: `capture`/`settlement`/`authorize`/`refund`/`partial_refund`/`chargeback`/`partial_chargeback` "200"
(a challenged `capture` "201"), `pending` "201", `deny`/`expire`/`cancel` "202" (the Cancel API's own reply says
"200", its notification "202", as on the Cancel Transaction page). The same code is used in the
status API and in the notification for a given snapshot, so one `signature_key` fits both. (The Expire API's own
reply says "407", as Midtrans's does; the transaction it leaves behind, and its notification, say "202".)

The server key is never logged.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import hashlib
import hmac
import html
import json
import logging
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from importlib import resources
from string import Template
from types import TracebackType
from typing import Any, Final, Self

import aiohttp
from aiohttp import web
from yarl import URL

from bot.qr import render_png

logger = logging.getLogger(__name__)

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

    def __new__(cls) -> Self:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance  # type: ignore[return-value]

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


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------------------------------------------
# Errors and records


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


# --------------------------------------------------------------------------------------------------------------
# State: everything the simulator knows, and the rules for changing it


class MidtransState:
    """The simulator's memory and behaviour, shared by the HTTP handlers and `MidtransSimulator`."""

    def __init__(
        self,
        server_key: str,
        *,
        public_base_url: str | None = None,
        notification_url: str | None = None,
        clock: Clock | None = None,
        notify_timeout: float = DEFAULT_NOTIFY_TIMEOUT,
    ) -> None:
        if not server_key:
            raise ValueError("server_key must not be empty")
        self._server_key = server_key
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.notification_url = notification_url
        self.clock: Clock = clock or _utcnow
        self.notify_timeout = notify_timeout
        self.finish_link_rewrite: Callable[[str], str] | None = None
        """Where "Back to the merchant" really goes (the sandbox maps the bot's t.me link to its web chat)."""
        self.transactions: dict[str, SnapTransaction] = {}
        self.deliveries: list[Delivery] = []
        self.http: aiohttp.ClientSession | None = None
        self._by_token: dict[str, str] = {}
        self._by_transaction_id: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._refund_ids = 0
        self.router: web.UrlDispatcher | None = None
        """The app's router, for URLs in `actions` (set by `create_midtrans_app`)."""
        self.lost: list[tuple[str, int]] = []
        """(order_id, snapshot index) of every status change whose notification was lost (`notify=False`)."""
        self.actions_in_notifications = True
        """Whether pending GoPay / ShopeePay / QRIS notifications carry `actions`. The docs show `actions` on the
        Core API charge response (Integration: GoPay) and, for ShopeePay, on the status API; they show no pending
        e-wallet notification at all. Set False to check that a merchant copes without them."""
        self.muted: set[str] = set()
        """Orders whose every notification is lost, also those the HTTP APIs cause (`MidtransSimulator.mute`)."""
        self.banks_rejecting_refunds: set[str] = set()
        """Orders whose direct refunds the bank rejects (`MidtransSimulator.reject_direct_refunds`)."""

    def __repr__(self) -> str:
        return f"<MidtransState {len(self.transactions)} transactions, notification_url={self.notification_url!r}>"

    # -- auth and signatures

    def authorized(self, authorization: str | None) -> bool:
        """Whether an `Authorization` header is Basic with the server key as user and an empty password."""
        scheme, _, encoded = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            credentials = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(credentials, self._server_key.encode() + b":")

    def sign(self, order_id: str, status_code: str, gross_amount: str) -> str:
        return signature_key(order_id, status_code, gross_amount, self._server_key)

    # -- lookups

    def get(self, order_id: str) -> SnapTransaction:
        try:
            return self.transactions[order_id]
        except KeyError:
            raise UnknownTransaction(order_id) from None

    def find(self, order_or_transaction_id: str) -> SnapTransaction | None:
        """By order id, or by transaction id once a payment method was chosen (Midtrans accepts either)."""
        txn = self.transactions.get(order_or_transaction_id)
        if txn is None:
            order_id = self._by_transaction_id.get(order_or_transaction_id)
            txn = self.transactions.get(order_id) if order_id else None
            if txn is not None and not txn.history:
                return None
        return txn

    def by_token(self, token: str) -> SnapTransaction | None:
        order_id = self._by_token.get(token)
        return self.transactions.get(order_id) if order_id else None

    def status_body(self, order_id: str) -> JSON | None:
        """What `GET /v2/{order_id}/status` answers, or None while it would answer 404."""
        txn = self.find(order_id)
        if txn is None or txn.current is None:
            return None
        return _status_view(txn, txn.current)

    def is_expired(self, txn: SnapTransaction) -> bool:
        return self.clock() >= txn.expires_at

    def _lock(self, order_id: str) -> asyncio.Lock:
        """Serialises the page's flows and the Core API actions per order, so a double tap cannot pay twice."""
        return self._locks.setdefault(order_id, asyncio.Lock())

    # -- Snap create

    def create_transaction(self, body: object, *, origin: str | None = None) -> SnapTransaction:
        """Validate a Snap create body like Snap does and remember the transaction; SnapValidationError if not.

        `origin` (scheme://host[:port]) is where the request came in, for URLs in the transaction's `actions`.
        """
        if not isinstance(body, dict):
            raise SnapValidationError(["Request body is not a JSON object"])
        errors: list[str] = []
        details = body.get("transaction_details")
        if not isinstance(details, dict):
            raise SnapValidationError(["transaction_details is required"])

        order_id = details.get("order_id")
        if order_id is None or order_id == "":
            errors.append("transaction_details.order_id is required")
        elif not isinstance(order_id, str):
            errors.append("transaction_details.order_id must be a string")
        elif len(order_id) > 50:
            errors.append("transaction_details.order_id may not be greater than 50 characters")
        elif not ORDER_ID_RE.match(order_id):
            errors.append("transaction_details.order_id may only contain letters, digits, '-', '_', '~' and '.'")
        elif order_id in self.transactions:
            errors.append("transaction_details.order_id sudah digunakan")

        gross = details.get("gross_amount")
        if gross is None:
            errors.append("transaction_details.gross_amount is required")
        elif not _is_int(gross):
            errors.append("transaction_details.gross_amount must be an integer")
        elif gross < 1:
            errors.append("transaction_details.gross_amount must be greater than or equal to 1")

        items = body.get("item_details")
        item_list: list[JSON] = []
        if items is not None:
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                errors.append("item_details must be an array of objects")
            else:
                item_list = items
                item_errors = _item_errors(item_list)
                errors.extend(item_errors)
                if not item_errors and _is_int(gross):
                    total = sum(i["price"] * i["quantity"] for i in item_list)
                    if total != gross:
                        errors.append("transaction_details.gross_amount is not equal to the sum of item_details")

        now = self.clock()
        expires_at = now + DEFAULT_SNAP_EXPIRY
        expiry = body.get("expiry")
        if expiry is not None:
            parsed = _parse_expiry(expiry, now)
            if isinstance(parsed, str):
                errors.append(parsed)
            else:
                expires_at = parsed

        customer = body.get("customer_details")
        if customer is None:
            customer = {}
        if not isinstance(customer, dict):
            errors.append("customer_details must be an object")
            customer = {}
        else:
            errors.extend(_customer_errors(customer))
        callbacks = body.get("callbacks") or {}
        finish = callbacks.get("finish") if isinstance(callbacks, dict) else None
        if finish is not None and (not isinstance(finish, str) or not finish.startswith(("http://", "https://"))):
            errors.append("callbacks.finish must be a URL")
        elif isinstance(finish, str) and len(finish) > FINISH_URL_MAX:
            # Snap request body, callbacks object: finish "String(255)".
            errors.append(f"callbacks.finish may not be greater than {FINISH_URL_MAX} characters")

        if errors:
            raise SnapValidationError(errors)
        assert isinstance(order_id, str) and _is_int(gross)
        txn = SnapTransaction(
            order_id=order_id,
            gross_amount=gross,
            token=str(uuid.uuid4()),
            transaction_id=str(uuid.uuid4()),
            created_at=now,
            expires_at=expires_at,
            item_details=copy.deepcopy(item_list),
            customer_details=copy.deepcopy(customer),
            finish_url=finish,
            request_body=copy.deepcopy(body),
            origin=(self.public_base_url or origin or "http://127.0.0.1").rstrip("/"),
        )
        if isinstance(expiry, dict) and expiry.get("start_time") is None:
            txn.expiry_from_charge = expires_at - now
        self.transactions[order_id] = txn
        self._by_token[txn.token] = order_id
        self._by_transaction_id[txn.transaction_id] = order_id
        logger.info("snap: created %s for %s, expires %s WIB", order_id, format_rupiah(gross), _wib(expires_at))
        return txn

    # -- status changes

    def set_status(
        self,
        order_id: str,
        transaction_status: str,
        *,
        payment_type: str | None = None,
        fraud_status: str | None = None,
        gross_amount: int | str | None = None,
        extra: Mapping[str, Any] | None = None,
        bank: str | None = None,
        store: str | None = None,
    ) -> JSON:
        """Append a status snapshot (see `MidtransSimulator.set_status`) and return a copy of it."""
        txn = self.get(order_id)
        kind, bank, store = _method(payment_type or txn.payment_type or "bank_transfer",
                                    bank or (txn.bank if payment_type in (None, txn.payment_type) else None),
                                    store or (txn.store if payment_type in (None, txn.payment_type) else None))
        fraud = fraud_status if fraud_status is not None else _default_fraud_status(kind, transaction_status, store)
        code = status_code_for(transaction_status, fraud)
        now = self.clock()
        if (kind, bank, store) != (txn.payment_type, txn.bank, txn.store):
            txn.va_number = txn.payment_code = txn.bill_key = None  # another method: new payment details
        txn.payment_type, txn.bank, txn.store = kind, bank, store
        if txn.transaction_time is None:
            txn.transaction_time = now
            if txn.expiry_from_charge is not None:
                txn.expires_at = now + txn.expiry_from_charge
        if transaction_status == "settlement" and txn.settlement_time is None:
            txn.settlement_time = now
        _issue_payment_details(txn)

        snap: JSON = {
            "status_code": code,
            "status_message": _STATUS_FOUND,
            "transaction_id": txn.transaction_id,
            "order_id": txn.order_id,
            "merchant_id": MERCHANT_ID,
            "gross_amount": _amount_string(gross_amount if gross_amount is not None else txn.gross_amount),
            "currency": "IDR",
            "payment_type": kind,
            "transaction_time": _wib(txn.transaction_time),
            "transaction_status": transaction_status,
        }
        if fraud is not None:
            snap["fraud_status"] = fraud
        if txn.settlement_time is not None and transaction_status != "pending":
            snap["settlement_time"] = _wib(txn.settlement_time)
        if kind in _NON_CARD_TYPES:
            snap["expiry_time"] = _wib(txn.expires_at)
        snap.update(self._payment_type_fields(txn, transaction_status))
        if txn.refunds and transaction_status in {"refund", "partial_refund"}:
            # Get Transaction Status (docs.midtrans.com/reference/get-transaction-status): refund_amount
            # "Cumulative refund amount"; refunds "Only available on transaction status partial_refund or refund",
            # each {refund_chargeback_id, refund_amount, created_at, reason, refund_key, [refund_method,
            # bank_confirmed_at]}. Refund Transactions, sample "Notification": the same in the notification.
            snap["refund_amount"] = _amount_string(txn.refund_total)
            snap["refunds"] = copy.deepcopy(txn.refunds)
        for key, value in (extra or {}).items():
            if value is None:
                snap.pop(key, None)
            else:
                snap[key] = value
        if "signature_key" not in (extra or {}):
            snap["signature_key"] = self.sign(snap["order_id"], snap["status_code"], snap["gross_amount"])
        txn.history.append(snap)
        logger.info("midtrans: %s is now %s (%s, status_code %s)", order_id, transaction_status, kind, code)
        return _status_view(txn, snap)

    def _payment_type_fields(self, txn: SnapTransaction, transaction_status: str) -> JSON:
        """The fields a payment type adds to a status body (HTTP(S) Notification / Webhooks, "Sample for Various
        Payment Methods", docs.midtrans.com/docs/https-notification-webhooks)."""
        kind = txn.payment_type
        pending = transaction_status == "pending"
        if kind == "bank_transfer":
            if txn.bank == "permata":  # sample "Permata VA": "permata_va_number": "8562000087926752"
                return {"permata_va_number": txn.va_number}
            # samples "BCA VA" / "BNI VA" / "BRI VA": "va_numbers": [{"va_number", "bank"}], "payment_amounts"
            fields: JSON = {"va_numbers": [{"bank": txn.bank, "va_number": txn.va_number}], "payment_amounts": []}
            if transaction_status == "settlement" and txn.settlement_time is not None:
                # sample "BNI VA": "payment_amounts": [{"paid_at": …, "amount": "150000.00"}]
                fields["payment_amounts"] = [{"paid_at": _wib(txn.settlement_time),
                                              "amount": _amount_string(txn.gross_amount)}]
            return fields
        if kind == "echannel":  # sample "Mandiri Bill": "biller_code": "70012", "bill_key": "990000000260"
            return {"biller_code": "70012", "bill_key": txn.bill_key}
        if kind == "cstore":  # samples "Indomaret" / "Alfamart": "store", "payment_code"
            fields = {"store": txn.store, "payment_code": txn.payment_code}
            if txn.store == "indomaret" and transaction_status == "settlement":
                fields["approval_code"] = txn.transaction_id[:12].replace("-", "").upper()  # sample "Indomaret"
            return fields
        if kind == "credit_card":
            ok = transaction_status != "deny"
            fields = {
                "masked_card": "48111111-1114", "bank": "bni", "card_type": "credit", "eci": "05",
                "channel_response_code": "00" if ok else "05",
                "channel_response_message": "Approved" if ok else "Denied",
            }
            if ok:
                fields["approval_code"] = txn.transaction_id[:13].replace("-", "")
            return fields
        if kind == "qris":  # sample "QRIS": "transaction_type": "on-us", "issuer": "gopay", "acquirer": "gopay"
            fields = {"transaction_type": "on-us", "issuer": "gopay", "acquirer": "gopay"}
            if pending:
                fields["actions"] = self._actions(txn)
            return fields
        if kind in {"gopay", "shopeepay"} and pending:
            return {"actions": self._actions(txn)}
        return {}

    def _actions(self, txn: SnapTransaction) -> list[JSON]:
        """The `actions` of a pending e-wallet / QRIS transaction.

        Integration: GoPay (docs.midtrans.com, Core API "Sample Response"): "You will get the `actions` attribute
        to complete the transaction": generate-qr-code (GET …/v2/gopay/{transaction_id}/qr-code), deeplink-redirect,
        get-status (GET …/v2/{transaction_id}/status), cancel (POST …/v2/{transaction_id}/cancel). Get Transaction
        Status, "Sample Response - Pending (DANA & ShopeePay)": "actions": [{"name": "deeplink-redirect", "method":
        "GET", …}]. QRIS: generate-qr-code only. Here the QR image is served by the simulator and the deeplink
        opens its payment page, so a person in the sandbox can follow either.
        """
        base = txn.origin
        qr = {"name": "generate-qr-code", "method": "GET",
              "url": base + self._path("qr_code", kind=txn.payment_type or "gopay", id=txn.transaction_id)}
        page = base + self._path("snap_page", token=txn.token)
        deeplink = {"name": "deeplink-redirect", "method": "GET", "url": page}
        status = {"name": "get-status", "method": "GET", "url": base + self._path("status", id=txn.transaction_id)}
        cancel = {"name": "cancel", "method": "POST", "url": base + self._path("cancel", id=txn.transaction_id)}
        if txn.payment_type == "gopay":
            return [qr, deeplink, status, cancel]
        if txn.payment_type == "shopeepay":
            return [deeplink]
        return [qr]

    def _path(self, route: str, **parts: str) -> str:
        if self.router is None:
            return ""
        return str(self.router[route].url_for(**parts))

    # -- notifications

    def notification_body(
        self,
        order_id: str,
        index: int = -1,
        *,
        body_overrides: Mapping[str, Any] | None = None,
        sign: bool = True,
    ) -> JSON:
        """The notification Midtrans would POST for snapshot `index` (see `MidtransSimulator.notify`)."""
        txn = self.get(order_id)
        if not txn.history:
            raise ValueError(f"{order_id} has no status yet: Midtrans sends nothing before a payment method is chosen")
        try:
            body = copy.deepcopy(txn.history[index])
        except IndexError:
            raise IndexError(f"{order_id} has {len(txn.history)} snapshots; no index {index}") from None
        body["status_message"] = _NOTIFICATION_MESSAGE
        if not self.actions_in_notifications:
            body.pop("actions", None)
        for key, value in (body_overrides or {}).items():
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        if "signature_key" not in (body_overrides or {}):
            parts = (str(body.get("order_id", "")), str(body.get("status_code", "")), str(body.get("gross_amount", "")))
            body["signature_key"] = (
                self.sign(*parts) if sign else signature_key(*parts, "not-the-server-key-" + secrets.token_hex(8))
            )
        return body

    async def deliver(self, url: str, order_id: str, body: JSON, *, duplicates: int = 1) -> list[int | None]:
        """POST `body` to `url` `duplicates` times in a row; the HTTP statuses answered (None: no answer)."""
        if duplicates < 1:
            raise ValueError("duplicates must be at least 1")
        statuses: list[int | None] = []
        timeout = aiohttp.ClientTimeout(total=self.notify_timeout)
        session = self.http
        own_session = session is None or session.closed
        if own_session:
            session = aiohttp.ClientSession(timeout=timeout)
        assert session is not None
        try:
            for _ in range(duplicates):
                status, error = await _post_json(session, url, body, timeout)
                statuses.append(status)
                self.deliveries.append(Delivery(url, order_id, copy.deepcopy(body), status, error, self.clock()))
        finally:
            if own_session:
                await session.close()
        return statuses

    async def notify_snapshot(
        self,
        url: str | None,
        order_id: str,
        index: int = -1,
        *,
        duplicates: int = 1,
        body_overrides: Mapping[str, Any] | None = None,
        sign: bool = True,
    ) -> list[int | None]:
        target = url or self.notification_url
        if not target:
            raise ValueError("no url given and no notification_url set")
        body = self.notification_body(order_id, index, body_overrides=body_overrides, sign=sign)
        return await self.deliver(target, order_id, body, duplicates=duplicates)

    async def _notify_latest(self, order_id: str) -> list[Delivery]:
        """Send the newest snapshot to `notification_url`, if one is set (what Midtrans does on every change)."""
        if order_id in self.muted:
            self.lost.append((order_id, len(self.get(order_id).history) - 1))
            logger.info("midtrans: a notification for %s is lost (muted)", order_id)
            return []
        if not self.notification_url:
            logger.warning("midtrans: no notification_url set; %s changed but nobody was told", order_id)
            return []
        before = len(self.deliveries)
        await self.notify_snapshot(None, order_id)
        return self.deliveries[before:]

    async def _step(self, order_id: str, status: str, *, notify: bool, **kwargs: Any) -> tuple[JSON, list[Delivery]]:
        """One status change, notified unless `notify` is False (a lost notification: the status API still tells)."""
        snap = self.set_status(order_id, status, **kwargs)
        if not notify:
            self.lost.append((order_id, len(self.get(order_id).history) - 1))
            logger.info("midtrans: the %s notification for %s is lost (notify=False)", status, order_id)
            return snap, []
        return snap, await self._notify_latest(order_id)

    # -- the payment page's flows

    def payable(self, txn: SnapTransaction) -> None:
        """Raise PaymentRefused unless the buyer may still act on this transaction's payment page."""
        status = txn.transaction_status
        if status is not None and status != "pending":
            raise PaymentRefused("finished", f"This transaction is already {status}.")
        if self.is_expired(txn):
            raise PaymentRefused("expired", "This payment page has expired.")

    async def simulate_payment(
        self,
        order_id: str,
        outcome: str = "pay",
        *,
        payment_type: str = "bank_transfer",
        bank: str | None = None,
        store: str | None = None,
        fraud_status: str | None | _Default = DEFAULT,
        notify: bool = True,
    ) -> PaymentOutcome:
        """Move a transaction through the sequence a buyer would cause, notifying after each step."""
        if outcome not in OUTCOMES:
            raise PaymentRefused("invalid", f"outcome must be one of {', '.join(OUTCOMES)}")
        if payment_type not in PAYMENT_METHODS:
            raise PaymentRefused("invalid", f"payment_type must be one of {', '.join(PAYMENT_METHODS)}")
        try:
            kind, bank, store = _method(payment_type, bank, store)
        except ValueError as exc:
            raise PaymentRefused("invalid", str(exc)) from None
        if outcome == "challenge" and kind != "credit_card":
            raise PaymentRefused("invalid", "only a card payment can be challenged (fraud_status challenge)")
        txn = self.get(order_id)
        async with self._lock(order_id):
            self.payable(txn)
            _payment_rejection(txn, kind, bank, store)
            steps = _flow(outcome, kind)
            same_method = (txn.payment_type, txn.bank, txn.store) == (kind, bank, store)
            if txn.transaction_status == "pending" and same_method and steps[0][0] == "pending":
                steps = steps[1:]
            snapshots: list[JSON] = []
            deliveries: list[Delivery] = []
            for status, fraud in steps:
                extra: JSON | None = None
                if fraud_status is None:
                    extra = {"fraud_status": None}  # a body without fraud_status (e.g. a capture with none)
                elif isinstance(fraud_status, str):
                    fraud = fraud_status
                snap, sent = await self._step(order_id, status, notify=notify, payment_type=kind, bank=bank,
                                              store=store, fraud_status=fraud, extra=extra)
                snapshots.append(snap)
                deliveries.extend(sent)
        return PaymentOutcome(order_id, outcome, payment_type, snapshots, deliveries)

    # -- what happens after a sale

    def _paid(self, txn: SnapTransaction) -> str:
        """The status of a sold transaction, or PaymentRefused("not_allowed")."""
        status = txn.transaction_status
        if status is None:
            raise PaymentRefused("not_allowed", f"{txn.order_id} has no payment yet")
        return status

    async def reverse(self, order_id: str, *, notify: bool = True) -> PaymentOutcome:
        """settlement → deny: the payment provider reversed the payment (Transaction Status Cycle, "Reversal
        Case": Permata, Mandiri bill payment and Indomaret only; "This status change will trigger HTTP(s)
        notification")."""
        txn = self.get(order_id)
        async with self._lock(order_id):
            status = self._paid(txn)
            if status != "settlement":
                raise PaymentRefused("not_allowed", f"only a settlement can be reversed; {order_id} is {status}")
            method = (txn.payment_type, txn.bank if txn.payment_type == "bank_transfer" else txn.store)
            if method not in REVERSIBLE:
                raise PaymentRefused("not_allowed", "Midtrans documents reversals only for Permata VA, Mandiri bill "
                                                    f"payment and Indomaret; {order_id} was paid by {_label(txn)}")
            snap, sent = await self._step(order_id, "deny", notify=notify)
        return PaymentOutcome(order_id, "reverse", txn.payment_type or "", [snap], sent)

    async def cancel_after_payment(self, order_id: str, *, notify: bool = True) -> PaymentOutcome:
        """capture → cancel, as the merchant's Cancel API call or the dashboard does (Cancel Transaction: "Card
        payment can be voided with Cancel method if the transaction has not been settled"; "If transaction is
        already settled … you should perform refund instead")."""
        txn = self.get(order_id)
        async with self._lock(order_id):
            status = self._paid(txn)
            if status not in {"capture", "authorize"}:
                raise PaymentRefused("not_allowed", f"only a card capture can be cancelled after payment; {order_id}"
                                                    f" is {status} (a settlement is refunded instead)")
            snap, sent = await self._step(order_id, "cancel", notify=notify)
        return PaymentOutcome(order_id, "cancel", txn.payment_type or "", [snap], sent)

    def _settled_status(self, txn: SnapTransaction) -> str:
        """The status, counting a card capture (not challenged) as the settlement it becomes (see _settle_capture)."""
        status = self._paid(txn)
        if status == "capture" and (txn.current or {}).get("fraud_status") != "challenge":
            return "settlement"
        return status

    async def _settle_capture(self, txn: SnapTransaction, notify: bool) -> tuple[list[JSON], list[Delivery]]:
        """capture → settlement (Transaction Status Cycle: a capture "will be successfully settled on the next day"),
        before a refund or chargeback, which the docs allow only from settlement."""
        if txn.transaction_status == "capture" and txn.current and txn.current.get("fraud_status") != "challenge":
            snap, sent = await self._step(txn.order_id, "settlement", notify=notify)
            return [snap], sent
        return [], []

    async def chargeback(self, order_id: str, amount: int | None = None, *, notify: bool = True) -> PaymentOutcome:
        """settlement → chargeback, or partial_chargeback when `amount` is less than what is left (Transaction
        Status Cycle: settlement → "chargeback, partial_chargeback"; partial_chargeback → "chargeback")."""
        txn = self.get(order_id)
        async with self._lock(order_id):
            status = self._settled_status(txn)
            if status not in {"settlement", "partial_chargeback"}:
                raise PaymentRefused("not_allowed", f"a chargeback follows a settlement; {order_id} is {status}")
            amount = _amount(amount, txn)
            snaps, sent = await self._settle_capture(txn, notify)
            txn.chargeback_total += amount
            new = "chargeback" if txn.refundable == 0 else "partial_chargeback"
            snap, more = await self._step(order_id, new, notify=notify)
        return PaymentOutcome(order_id, new, txn.payment_type or "", [*snaps, snap], [*sent, *more])

    async def dashboard_refund(
        self, order_id: str, amount: int | None = None, *, reason: str = "refund from the dashboard",
        notify: bool = True,
    ) -> PaymentOutcome:
        """A refund made in the Midtrans dashboard (no refund_key of the merchant's): settlement → refund or
        partial_refund, with `refund_amount` and the `refunds` array."""
        txn = self.get(order_id)
        async with self._lock(order_id):
            status = self._settled_status(txn)
            if status not in {"settlement", "partial_refund"}:
                raise PaymentRefused("not_allowed", f"a refund follows a settlement; {order_id} is {status}")
            amount = _amount(amount, txn)
            snaps, sent = await self._settle_capture(txn, notify)
            more_snaps, more = await self._refund(txn, amount, reason, str(uuid.uuid4()), "offline", notify)
        return PaymentOutcome(order_id, txn.transaction_status or "", txn.payment_type or "",
                              [*snaps, *more_snaps], [*sent, *more])

    async def _refund(
        self, txn: SnapTransaction, amount: int, reason: str, refund_key: str, method: str, notify: bool,
    ) -> tuple[list[JSON], list[Delivery]]:
        """Record a refund and send the two notifications Midtrans sends for one.

        Refund Transactions: "Midtrans will return 2 refund post notifications to merchant - without and with
        bank_confirmed_at" (samples "Notification" and "Notification (Bank Confirmed)"). refund_method ("online"
        or "offline"): Get Transaction Status says it "is applied after Midtrans confirm the refund request", so
        it comes with bank_confirmed_at (the Refund page's first sample already has it; the stricter page wins).
        Here "online" for the refund API, "offline" for the dashboard.
        """
        now = self.clock()
        entry: JSON = {
            "refund_chargeback_id": self._next_refund_id(),
            "refund_amount": _amount_string(amount),
            "created_at": _wib(now),
            "reason": reason,
            "refund_key": refund_key,
        }
        txn.refunds.append(entry)
        txn.refund_total += amount
        status = "refund" if txn.refund_total == txn.gross_amount else "partial_refund"
        first, sent = await self._step(txn.order_id, status, notify=notify)
        entry["refund_method"] = method
        entry["bank_confirmed_at"] = _wib(self.clock())
        second, more = await self._step(txn.order_id, status, notify=notify)
        return [first, second], [*sent, *more]

    def _next_refund_id(self) -> int:
        self._refund_ids += 1
        return self._refund_ids

    # -- the Core API actions

    async def core_action(self, id_: str, action: str) -> tuple[int, JSON]:
        """`POST /v2/{id}/cancel|expire|approve|deny`: (HTTP status, body) as the Core API answers; notifies."""
        txn = self.find(id_)
        if txn is None or txn.current is None:
            return 404, dict(_NOT_FOUND)
        async with self._lock(txn.order_id):
            status, fraud = txn.transaction_status, txn.current.get("fraud_status")
            # Cancel Transaction: pending may be cancelled; a card capture "if the transaction has not been settled";
            # Transaction Status Cycle: "Cancelation can only be done before settlement". Expire: pending only.
            # Approve / Deny Transaction: a card capture with fraud_status challenge.
            allowed = {
                "cancel": status in {"pending", "capture", "authorize"},
                "expire": status == "pending",
                "approve": status == "capture" and fraud == "challenge",
                "deny": status == "capture" and fraud == "challenge",
            }[action]
            if not allowed:
                return 412, {"status_code": "412",
                             "status_message": "Merchant cannot modify the status of the transaction"}
            if action == "approve":
                snap = self.set_status(txn.order_id, "capture", fraud_status="accept")
            elif action == "deny":
                snap = self.set_status(txn.order_id, "deny", fraud_status="deny")
            else:
                snap = self.set_status(txn.order_id, action)
            await self._notify_latest(txn.order_id)
        reply = {k: snap[k] for k in ("transaction_id", "order_id", "payment_type", "transaction_time",
                                      "transaction_status", "gross_amount") if k in snap}
        if "fraud_status" in snap:
            reply["fraud_status"] = snap["fraud_status"]
        messages = {"expire": ("407", "Success, transaction has expired"),
                    "cancel": ("200", "Success, transaction is canceled"),
                    "approve": ("200", "Success, transaction is approved"),
                    "deny": ("200", "Success, transaction is denied")}
        code, message = messages[action]
        return 200, {"status_code": code, "status_message": message, **reply}

    async def refund_api(self, id_: str, body: object, *, direct: bool) -> tuple[int, JSON]:
        """`POST /v2/{id}/refund` and `/v2/{id}/refund/online/direct`: (HTTP status, body) as documented.

        Refund Transactions / Direct Refund Transaction (docs.midtrans.com/reference/refund-transaction,
        …/direct-refund-transaction): body {refund_key, amount, reason}, all optional; "for transactions with
        payment status Settlement. If transaction's status is still Pending Authorize or Capture please use Cancel
        API instead"; errors 412 "Merchant cannot modify the status of the transaction", 414 "Refund request is
        rejected due to invalid amount", 406 "Duplicate refund ID". A retry with a refund_key that already
        refunded answers 406 and refunds nothing (the key's purpose: "to avoid double refund attempt").
        """
        txn = self.find(id_)
        if txn is None or txn.current is None:
            return 404, dict(_NOT_FOUND)
        problems = _refund_body_errors(body)
        if problems:
            # Core API validation errors (Code 4xx page): status_code "400" with "validation_messages".
            return 400, {"status_code": "400", "status_message": "One or more parameters in the payload is invalid.",
                         "validation_messages": problems}
        assert isinstance(body, dict)
        async with self._lock(txn.order_id):
            refund_key = body.get("refund_key")
            if refund_key is not None and any(r["refund_key"] == refund_key for r in txn.refunds):
                return 406, {"status_code": "406", "status_message": "Duplicate refund ID"}
            status = txn.transaction_status
            if txn.payment_type not in REFUNDABLE_TYPES or status not in {"settlement", "partial_refund"}:
                return 412, {"status_code": "412",
                             "status_message": "Merchant cannot modify the status of the transaction"}
            amount = body.get("amount")
            amount = txn.refundable if amount is None else amount
            partial_refused = txn.payment_type == "shopeepay" and amount != txn.gross_amount
            # Refund Transactions, `amount`: "Shopeepay and OVO does not support partial refund at the moment."
            if not 1 <= amount <= txn.refundable or partial_refused:
                return 414, {"status_code": "414", "status_message": "Refund request is rejected due to invalid amount"}
            key = refund_key if refund_key is not None else str(uuid.uuid4())
            reason = str(body.get("reason") or "")
            if direct and txn.order_id in self.banks_rejecting_refunds:
                # Direct Refund Transaction, sample "Rejected Direct Refund": status_code "202", "Refund denied by
                # the bank", transaction_status unchanged, refund_amount "0.00"; "HTTP notification is sent only if
                # the refund is successful". The refund_key stays usable ("Reattempt of refunds may be needed if the
                # previous attempt failed").
                return 200, {
                    "status_code": "202", "status_message": "Refund denied by the bank",
                    "transaction_id": txn.transaction_id, "order_id": txn.order_id,
                    "gross_amount": _amount_string(txn.gross_amount), "payment_type": txn.payment_type,
                    "transaction_time": (txn.current or {}).get("transaction_time"), "transaction_status": status,
                    "refund_chargeback_id": self._next_refund_id(), "refund_amount": "0.00", "refund_key": key,
                }
            await self._refund(txn, amount, reason, key, "online", True)
            entry = txn.refunds[-1]
            snap = txn.current or {}
        reply: JSON = {
            "status_code": "200",
            "status_message": ("Success, refund request is approved by the bank" if direct
                               else "Success, refund request is approved"),
            "transaction_id": txn.transaction_id,
            "order_id": txn.order_id,
            "gross_amount": snap["gross_amount"],
            "payment_type": txn.payment_type,
            "transaction_time": snap["transaction_time"],
            "transaction_status": snap["transaction_status"],
            "refund_chargeback_id": entry["refund_chargeback_id"],
            # Direct Refund: refund_amount "Cumulative amount refunded"; Refund: "Total amount to be refunded" (the
            # partial-refund sample shows this request's amount).
            "refund_amount": _amount_string(txn.refund_total) if direct else entry["refund_amount"],
            "refund_key": key,
        }
        return 200, reply


def _status_view(txn: SnapTransaction, snap: JSON) -> JSON:
    """A copy of a snapshot as the status API shows it."""
    body = copy.deepcopy(snap)
    if txn.payment_type != "shopeepay":
        # Get Transaction Status, `actions`: "Will be returned only for DANA / ShopeePay payment type with "pending"
        # status." GoPay and QRIS `actions` come only with the charge (and, here, the notification).
        body.pop("actions", None)
    return body


def _method(payment_type: str, bank: str | None, store: str | None) -> tuple[str, str | None, str | None]:
    """(payment_type, bank, store) as Midtrans reports them; "permata" → bank_transfer with bank permata."""
    if payment_type == "permata":
        payment_type, bank = "bank_transfer", bank or "permata"
    if payment_type == "bank_transfer":
        bank = bank or "bca"
        if bank not in BANKS:
            raise ValueError(f"bank must be one of {', '.join(BANKS)}")
    elif bank is not None:
        raise ValueError(f"a bank is chosen only for bank_transfer, not {payment_type}")
    if payment_type == "cstore":
        store = store or "indomaret"
        if store not in STORES:
            raise ValueError(f"store must be one of {', '.join(STORES)}")
    elif store is not None:
        raise ValueError(f"a store is chosen only for cstore, not {payment_type}")
    return payment_type, bank, store


def _digits(n: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(n))


def _issue_payment_details(txn: SnapTransaction) -> None:
    """The VA number, bill key or payment code a buyer pays with, made once per method (lengths as in the samples
    of the Notification / Webhooks page)."""
    if txn.payment_type == "bank_transfer" and txn.va_number is None:
        txn.va_number = {"bca": _digits(11), "bni": "988" + _digits(13), "bri": _digits(18),
                         "permata": "8562" + _digits(12)}[txn.bank or "bca"]
    elif txn.payment_type == "echannel" and txn.bill_key is None:
        txn.bill_key = _digits(12)
    elif txn.payment_type == "cstore" and txn.payment_code is None:
        txn.payment_code = _digits(18)


def _label(txn: SnapTransaction) -> str:
    extra = txn.bank or txn.store
    return f"{txn.payment_type} ({extra})" if extra else str(txn.payment_type)


ENABLED_PAYMENT_NAMES: Final[Mapping[tuple[str, str | None], str]] = {
    ("bank_transfer", "bca"): "bca_va", ("bank_transfer", "bni"): "bni_va", ("bank_transfer", "bri"): "bri_va",
    ("bank_transfer", "permata"): "permata_va", ("echannel", None): "echannel", ("cstore", "indomaret"): "indomaret",
    ("cstore", "alfamart"): "alfamart", ("gopay", None): "gopay", ("shopeepay", None): "shopeepay",
    ("qris", None): "other_qris", ("credit_card", None): "credit_card",
}
"""Each method's name in Snap's `enabled_payments` (Request Body (JSON Parameter),
docs.midtrans.com/reference/request-body-json-parameter, "Complete request": "enabled_payments": ["credit_card", …,
"echannel", "permata_va", "bca_va", "bni_va", "bri_va", …, "gopay", "indomaret", …, "shopeepay", …, "other_qris"];
"alfamart" is not in that sample: the name merchants use for it, e.g. `"enabled_payments": ["alfamart", "indomaret"]`
in public integration code; unverified in the docs)."""


def offered(txn: SnapTransaction, kind: str, bank: str | None, store: str | None) -> bool:
    """Whether the Snap page offers this method: every one, unless the request named `enabled_payments`."""
    enabled = txn.request_body.get("enabled_payments")
    if not isinstance(enabled, list):
        return True
    return ENABLED_PAYMENT_NAMES.get((kind, bank or store)) in enabled


def _payment_rejection(txn: SnapTransaction, kind: str, bank: str | None, store: str | None) -> None:
    """PaymentRefused("rejected") where Midtrans documents that a method rejects this transaction's details."""
    if not offered(txn, kind, bank, store):
        raise PaymentRefused("invalid", f"{kind} ({bank or store or '-'}) is not among this transaction's "
                                        "enabled_payments, so Snap does not offer it")
    customer = txn.customer_details
    phone = customer.get("phone")
    if kind == "bank_transfer" and bank == "bni" and phone is not None:
        phone = str(phone)
        if len(phone) > BNI_PHONE_MAX or not BNI_PHONE_RE.match(phone):
            # Customer Details Object: "For BNI VA, phone number format should start with +62 or 0 + [area code]
            # with max char = 30. If passed incorrectly, trx will be rejected."
            raise PaymentRefused("rejected", "BNI virtual account rejects this transaction: the customer phone must "
                                             "start with +62 or 0 and be at most 30 characters")
    if kind == "bank_transfer" and bank == "bca":
        name = " ".join(str(customer.get(k, "")) for k in ("first_name", "last_name")).strip()
        if len(name) > BCA_VA_NAME_MAX:
            # Customer Details Object: "For BCA VA, limit the customer names (first_name and last_name), to only
            # 30 characters."
            raise PaymentRefused("rejected", "BCA virtual account rejects this transaction: the customer name "
                                             f"(first_name and last_name) is over {BCA_VA_NAME_MAX} characters")
    if kind == "cstore" and store == "alfamart" and any("|" in str(i.get("name", "")) for i in txn.item_details):
        # JSON Objects, Item Details Object: "Please avoid using vertical line (`|`) for Alfamart payment type."
        # Documented as something to avoid, not as a create-time refusal; the simulator refuses the Alfamart
        # payment so a test fails where Alfamart may.
        raise PaymentRefused("rejected", "Alfamart rejects this transaction: an item name contains '|'")


def _amount(amount: int | None, txn: SnapTransaction) -> int:
    left = txn.refundable
    if amount is None:
        return left
    if not _is_int(amount) or not 1 <= amount <= left:
        raise PaymentRefused("invalid", f"amount must be an integer from 1 to {left} (what is left of the payment)")
    return amount


def _refund_body_errors(body: object) -> list[str]:
    if not isinstance(body, dict):
        return ["Request body is not a JSON object"]
    problems = []
    key = body.get("refund_key")
    # Refund Transactions, refund_key: "Allowed characters are alphabets, numbers, dash (-), and underscore (_)."
    if key is not None and (not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,255}", key)):
        problems.append("refund_key may only contain letters, digits, '-' and '_'")
    amount = body.get("amount")
    if amount is not None and not _is_int(amount):
        problems.append("amount must be an integer (Long)")
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 255):
        problems.append("reason must be a string of at most 255 characters")  # "String(255)"
    return problems


def _item_errors(items: list[JSON]) -> list[str]:
    errors = []
    for n, item in enumerate(items):
        if not _is_int(item.get("price")):
            errors.append(f"item_details[{n}].price is required and must be an integer")
        quantity = item.get("quantity")
        if not _is_int(quantity) or quantity < 1:
            errors.append(f"item_details[{n}].quantity is required and must be a positive integer")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            errors.append(f"item_details[{n}].name is required")
        for key in ITEM_TEXT_FIELDS:
            value = item.get(key)
            if value is not None and len(str(value).encode()) > ITEM_FIELD_MAX_BYTES:
                errors.append(f"item_details {key.replace('_', ' ').capitalize()} too long")
    return errors


_CUSTOMER_FIELDS: Final = ("first_name", "last_name", "email", "phone")


def _customer_errors(customer: JSON) -> list[str]:
    """JSON Objects: customer fields String(255); Address Object lengths as ADDRESS_FIELD_MAX; country_code IDN."""
    errors = []
    for key in _CUSTOMER_FIELDS:
        value = customer.get(key)
        if value is not None and len(str(value)) > CUSTOMER_FIELD_MAX:
            errors.append(f"customer_details.{key} may not be greater than {CUSTOMER_FIELD_MAX} characters")
    for address in ("billing_address", "shipping_address"):
        fields = customer.get(address)
        if fields is None:
            continue
        if not isinstance(fields, dict):
            errors.append(f"customer_details.{address} must be an object")
            continue
        for key, limit in ADDRESS_FIELD_MAX.items():
            value = fields.get(key)
            if value is not None and len(str(value)) > limit:
                errors.append(f"customer_details.{address}.{key} may not be greater than {limit} characters")
        country = fields.get("country_code")
        if country is not None and country != "IDN":
            errors.append(f"customer_details.{address}.country_code must be IDN")
    return errors


def _parse_expiry(expiry: object, now: datetime) -> datetime | str:
    """When a Snap expiry ends (start_time + duration × unit), or an error message."""
    if not isinstance(expiry, dict):
        return "expiry must be an object"
    unit = _EXPIRY_UNITS.get(str(expiry.get("unit", "")).lower())
    if unit is None:
        return "expiry.unit must be one of day, hour, minute"
    duration = expiry.get("duration")
    if not _is_int(duration) or duration < 1:
        return "expiry.duration must be a positive integer"
    if not MIN_SNAP_EXPIRY <= duration * unit <= MAX_SNAP_EXPIRY:
        # MIN_SNAP_EXPIRY / MAX_SNAP_EXPIRY say where the bounds come from (the docs disagree on the minimum).
        return "expiry.duration must be between 5 minutes and 7 days"
    start = now
    start_time = expiry.get("start_time")
    if start_time is not None:
        try:
            start = datetime.strptime(str(start_time), "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            return "expiry.start_time must look like 2024-01-31 13:45:00 +0700"
    return start + duration * unit


def _default_fraud_status(payment_type: str, transaction_status: str, store: str | None = None) -> str | None:
    if payment_type == "credit_card":
        return "deny" if transaction_status == "deny" else "accept"
    if payment_type == "cstore" and store != "alfamart":
        return None  # sample "Indomaret" has no fraud_status; sample "Alfamart" has "accept"
    if payment_type in _NON_CARD_TYPES:
        return "accept"
    return None


def _flow(outcome: str, payment_type: str) -> list[tuple[str, str | None]]:
    """The (transaction_status, fraud_status) steps a buyer's choice produces, like Midtrans sends them."""
    card = payment_type == "credit_card"
    if outcome == "pay":
        return [("capture", "accept")] if card else [("pending", None), ("settlement", None)]
    if outcome == "challenge":
        return [("capture", "challenge")]
    if outcome == "fail":
        return [("deny", "deny")] if card else [("pending", None), ("deny", None)]
    return [("pending", None), ("expire", None)]


async def _post_json(
    session: aiohttp.ClientSession, url: str, body: JSON, timeout: aiohttp.ClientTimeout,
) -> tuple[int | None, str | None]:
    try:
        async with session.post(
            url, data=json.dumps(body), timeout=timeout,
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     "User-Agent": "Karcis-Midtrans-Simulator/1"},
        ) as resp:
            await resp.read()
            logger.info("midtrans: notified %s of %s %s → HTTP %s",
                        url, body.get("order_id"), body.get("transaction_status"), resp.status)
            return resp.status, None
    except (aiohttp.ClientError, TimeoutError) as exc:
        logger.warning("midtrans: notification for %s to %s failed: %r", body.get("order_id"), url, exc)
        return None, repr(exc)


# --------------------------------------------------------------------------------------------------------------
# HTTP: the aiohttp application

MIDTRANS_STATE: Final = web.AppKey("midtrans_state", MidtransState)
"""The simulator's state on a `create_midtrans_app` application."""


def create_midtrans_app(
    server_key: str,
    *,
    public_base_url: str | None = None,
    notification_url: str | None = None,
    clock: Clock | None = None,
    notify_timeout: float = DEFAULT_NOTIFY_TIMEOUT,
) -> web.Application:
    """The simulator as an aiohttp application; its state is `app[MIDTRANS_STATE]`.

    `public_base_url` (scheme://host[:port]) is where buyers reach this app; redirect URLs start with it. Unset,
    they start with the origin the Snap request was sent to.
    """
    state = MidtransState(
        server_key, public_base_url=public_base_url, notification_url=notification_url, clock=clock,
        notify_timeout=notify_timeout,
    )
    app = web.Application()
    app[MIDTRANS_STATE] = state
    state.router = app.router
    app.cleanup_ctx.append(_http_session)
    app.router.add_post("/snap/v1/transactions", _snap_create, name="snap_create")
    app.router.add_get("/v2/{id}/status", _status, name="status")
    app.router.add_post("/v2/{id}/cancel", _cancel, name="cancel")
    app.router.add_post("/v2/{id}/expire", _expire, name="expire")
    app.router.add_post("/v2/{id}/approve", _approve, name="approve")
    app.router.add_post("/v2/{id}/deny", _deny, name="deny")
    app.router.add_post("/v2/{id}/refund", _refund, name="refund")
    app.router.add_post("/v2/{id}/refund/online/direct", _direct_refund, name="direct_refund")
    app.router.add_get("/v2/{kind:gopay|qris}/{id}/qr-code", _qr_code, name="qr_code")
    app.router.add_get("/snap/v4/redirection/{token}", _page, name="snap_page")
    app.router.add_post("/snap/v4/redirection/{token}/simulate", _simulate, name="snap_simulate")
    return app


async def _http_session(app: web.Application) -> AsyncIterator[None]:
    state = app[MIDTRANS_STATE]
    state.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=state.notify_timeout))
    yield
    await state.http.close()
    state.http = None


def _json(status: int, body: JSON) -> web.Response:
    return web.json_response(body, status=status)


def _core_unauthorized() -> web.Response:
    return _json(401, {"status_code": "401",
                       "status_message": "Transaction cannot be authorized with the current client/server key.",
                       "id": str(uuid.uuid4())})


async def _snap_create(request: web.Request) -> web.Response:
    """Snap: create a transaction; 201 with token and redirect_url."""
    state = request.app[MIDTRANS_STATE]
    if not state.authorized(request.headers.get("Authorization")):
        return _json(401, {"error_messages": _SNAP_UNAUTHORIZED})
    try:
        body = await request.json()
    except ValueError:
        return _json(400, {"error_messages": ["Request body is not valid JSON"]})
    try:
        txn = state.create_transaction(body, origin=str(request.url.origin()))
    except SnapValidationError as exc:
        logger.info("snap: refused a create request: %s", exc)
        return _json(400, {"error_messages": exc.messages})
    path = request.app.router["snap_page"].url_for(token=txn.token)
    base = state.public_base_url or str(request.url.origin())
    return _json(201, {"token": txn.token, "redirect_url": f"{base}{path}"})


async def _status(request: web.Request) -> web.Response:
    """Core API: the transaction's status, or 404 before a payment method is chosen."""
    state = request.app[MIDTRANS_STATE]
    if not state.authorized(request.headers.get("Authorization")):
        return _core_unauthorized()
    body = state.status_body(request.match_info["id"])
    if body is None:
        return _json(404, {**_NOT_FOUND, "id": str(uuid.uuid4())})
    return _json(200, body)


async def _cancel(request: web.Request) -> web.Response:
    return await _core_action(request, "cancel")


async def _expire(request: web.Request) -> web.Response:
    return await _core_action(request, "expire")


async def _approve(request: web.Request) -> web.Response:
    return await _core_action(request, "approve")


async def _deny(request: web.Request) -> web.Response:
    return await _core_action(request, "deny")


async def _core_action(request: web.Request, action: str) -> web.Response:
    state = request.app[MIDTRANS_STATE]
    if not state.authorized(request.headers.get("Authorization")):
        return _core_unauthorized()
    status, body = await state.core_action(request.match_info["id"], action)
    return _json(status, body)


async def _refund(request: web.Request) -> web.Response:
    return await _refund_action(request, direct=False)


async def _direct_refund(request: web.Request) -> web.Response:
    return await _refund_action(request, direct=True)


async def _refund_action(request: web.Request, *, direct: bool) -> web.Response:
    """Core API: refund (or direct refund) a settled transaction; see `MidtransState.refund_api`."""
    state = request.app[MIDTRANS_STATE]
    if not state.authorized(request.headers.get("Authorization")):
        return _core_unauthorized()
    raw = await request.read()
    try:
        body: object = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return _json(400, {"status_code": "400", "status_message": "Request body is not valid JSON"})
    status, reply = await state.refund_api(request.match_info["id"], body, direct=direct)
    return _json(status, reply)


async def _qr_code(request: web.Request) -> web.Response:
    """The image behind a pending GoPay / QRIS `generate-qr-code` action: a QR of the payment page's address."""
    state = request.app[MIDTRANS_STATE]
    txn = state.find(request.match_info["id"])
    if txn is None or txn.payment_type != request.match_info["kind"] or txn.transaction_status != "pending":
        return _json(404, dict(_NOT_FOUND))
    page = txn.origin + str(request.app.router["snap_page"].url_for(token=txn.token))
    png = await asyncio.to_thread(render_png, page)
    return web.Response(body=png, content_type="image/png")


async def _page(request: web.Request) -> web.Response:
    """The Snap payment page: the order, and buttons to pay, fail or let it expire."""
    state = request.app[MIDTRANS_STATE]
    txn = state.by_token(request.match_info["token"])
    if txn is None:
        return _not_found_page()
    return web.Response(text=render_payment_page(state, txn, request), content_type="text/html")


async def _simulate(request: web.Request) -> web.Response:
    """A page button: run the chosen flow, notify, then show the page again (303, so a reload does not repeat it)."""
    state = request.app[MIDTRANS_STATE]
    txn = state.by_token(request.match_info["token"])
    if txn is None:
        return _not_found_page()
    form = await request.post()
    outcome = str(form.get("outcome", ""))
    try:
        await _run_page_outcome(state, txn, outcome, str(form.get("payment_type", "")))
    except PaymentRefused as exc:
        status = {"expired": 410, "finished": 409, "not_allowed": 409, "rejected": 422}.get(exc.reason, 400)
        text = render_payment_page(state, txn, request, notice=str(exc))
        return web.Response(text=text, status=status, content_type="text/html")
    raise web.HTTPSeeOther(request.app.router["snap_page"].url_for(token=txn.token))


PAGE_OUTCOMES: Final = (*OUTCOMES, "pay_lost", *AFTER_SALE, "approve", "deny_challenge")
"""Every button of the payment page ("pay_lost": pay, and every notification of it is lost)."""


async def _run_page_outcome(state: MidtransState, txn: SnapTransaction, outcome: str, choice: str) -> None:
    order_id = txn.order_id
    if outcome in OUTCOMES or outcome == "pay_lost":
        choice = choice or (f"{txn.payment_type}:{txn.bank or txn.store}" if txn.payment_type else "")
        payment_type, _, detail = choice.partition(":")
        bank = detail or None if payment_type == "bank_transfer" else None
        store = detail or None if payment_type == "cstore" else None
        if detail and bank is None and store is None:
            raise PaymentRefused("invalid", f"{payment_type} takes no bank or store")
        await state.simulate_payment(order_id, "pay" if outcome == "pay_lost" else outcome,
                                     payment_type=payment_type, bank=bank, store=store,
                                     notify=outcome != "pay_lost")
    elif outcome == "reverse":
        await state.reverse(order_id)
    elif outcome == "cancel":
        await state.cancel_after_payment(order_id)
    elif outcome in {"chargeback", "partial_chargeback"}:
        await state.chargeback(order_id, _partial_amount(txn) if outcome == "partial_chargeback" else None)
    elif outcome in {"refund", "partial_refund"}:
        await state.dashboard_refund(order_id, _partial_amount(txn) if outcome == "partial_refund" else None)
    elif outcome in {"approve", "deny_challenge"}:
        status, body = await state.core_action(order_id, "approve" if outcome == "approve" else "deny")
        if status != 200:
            raise PaymentRefused("not_allowed", body["status_message"])
    else:
        raise PaymentRefused("invalid", f"outcome must be one of {', '.join(PAGE_OUTCOMES)}")


def _partial_amount(txn: SnapTransaction) -> int:
    """The page's "partial" amount: one item's price when that is less than what is left, else half of it."""
    left = txn.refundable
    prices = [int(i["price"]) for i in txn.item_details if 0 < int(i["price"]) < left]
    if prices:
        return prices[0]
    if left < 2:
        raise PaymentRefused("not_allowed", "too little is left for a partial amount")
    return left // 2


# --------------------------------------------------------------------------------------------------------------
# The payment page


@cache
def _template() -> Template:
    text = resources.files("bot.sandbox").joinpath("static/midtrans_pay.html").read_text(encoding="utf-8")
    return Template(text)


def _not_found_page() -> web.Response:
    section = '<section class="card"><h2>Payment page not found</h2><p>This link is not valid.</p></section>'
    text = _template().safe_substitute(title="Not found", body=section)
    return web.Response(text=text, status=404, content_type="text/html")


def finish_redirect_url(txn: SnapTransaction) -> str | None:
    """`callbacks.finish` with `order_id`, `status_code` and `transaction_status` added, as Snap redirects."""
    if not txn.finish_url:
        return None
    query: dict[str, str] = {"order_id": txn.order_id}
    if txn.current is not None:
        query["status_code"] = txn.current["status_code"]
        query["transaction_status"] = txn.current["transaction_status"]
    return str(URL(txn.finish_url).update_query(query))


def render_payment_page(
    state: MidtransState, txn: SnapTransaction, request: web.Request, *, notice: str | None = None,
) -> str:
    """The HTML payment page for a transaction in its current state."""
    e = html.escape
    rows = "".join(
        f'<tr><td>{e(str(i["name"]))}<span class="muted"> × {int(i["quantity"])}</span></td>'
        f'<td class="num">{e(format_rupiah(int(i["price"]) * int(i["quantity"])))}</td></tr>'
        for i in txn.item_details
    )
    customer = txn.customer_details
    buyer = " ".join(str(customer.get(k, "")) for k in ("first_name", "last_name")).strip()
    parts = [
        '<section class="card">',
        f'<div class="label">Order</div><div class="order-id">{e(txn.order_id)}</div>',
        f'<div class="muted">{e(buyer)}</div>' if buyer else "",
        f'<table class="items">{rows}</table>' if rows else "",
        f'<div class="total"><span>Total</span><span class="amount">{e(format_rupiah(txn.gross_amount))}</span></div>',
        f'<div class="muted">Pay before {e(txn.expires_at.astimezone(WIB).strftime("%d %b %Y, %H:%M"))} WIB</div>',
        "</section>",
    ]
    if notice:
        parts.append(f'<section class="notice">{e(notice)}</section>')

    status = txn.transaction_status
    if status is not None and status != "pending":
        parts.append(_result_section(state, txn, request))
    elif state.is_expired(txn):
        parts.append('<section class="card result expired"><h2>Expired</h2>'
                     "<p>This payment page has expired. No payment can be made.</p></section>")
        parts.append(_finish_link(state, txn))
    else:
        parts.append(_choose_section(txn, request))
    title = e(f"Pay {format_rupiah(txn.gross_amount)} — {txn.order_id}")
    return _template().safe_substitute(title=title, body="\n".join(p for p in parts if p))


def _choose_section(txn: SnapTransaction, request: web.Request) -> str:
    e = html.escape
    action = request.app.router["snap_simulate"].url_for(token=txn.token)
    chosen = _page_choice(txn) or "bank_transfer:bca"
    shown = [(value, label) for value, label in PAGE_METHODS if _page_offers(txn, value)]
    if chosen not in {value for value, _ in shown} and shown:
        chosen = shown[0][0]
    options = "".join(
        f'<label class="method"><input type="radio" name="payment_type" value="{e(value)}"'
        f'{" checked" if value == chosen else ""}><span>{e(label)}</span></label>'
        for value, label in shown
    )
    waiting = ""
    if txn.transaction_status == "pending":
        waiting = f'<div class="pending">Waiting for payment via {e(_method_label(txn))}{_pay_details(txn)}</div>'
    return (
        f'<section class="card"><h2>Choose how to pay</h2>{waiting}'
        f'<form method="post" action="{e(str(action))}">'
        f'<div class="methods">{options}</div>'
        '<button class="btn pay" name="outcome" value="pay">Pay</button>'
        '<div class="row"><button class="btn fail" name="outcome" value="fail">Fail</button>'
        '<button class="btn expire" name="outcome" value="expire">Let expire</button></div>'
        '<div class="row"><button class="btn other" name="outcome" value="pay_lost">Pay, lose the notification'
        '</button><button class="btn other" name="outcome" value="challenge">Card: fraud challenge</button></div>'
        "</form></section>"
    )


def _page_offers(txn: SnapTransaction, value: str) -> bool:
    payment_type, _, detail = value.partition(":")
    return offered(txn, payment_type, detail or None, None)


def _page_choice(txn: SnapTransaction) -> str | None:
    if txn.payment_type is None:
        return None
    detail = txn.bank or txn.store
    return f"{txn.payment_type}:{detail}" if detail else txn.payment_type


def _method_label(txn: SnapTransaction) -> str:
    choice = _page_choice(txn)
    return dict(PAGE_METHODS).get(choice or "", choice or "")


def _pay_details(txn: SnapTransaction) -> str:
    """What a buyer needs to pay a pending transaction: the VA number, bill key, payment code or QR / app link."""
    e = html.escape
    current = txn.current or {}
    if txn.payment_type == "bank_transfer" and txn.va_number:
        return f" — VA number <b>{e(txn.va_number)}</b>"
    if txn.payment_type == "echannel":
        return f" — biller code <b>70012</b>, bill key <b>{e(txn.bill_key or '')}</b>"
    if txn.payment_type == "cstore":
        return f" — payment code <b>{e(txn.payment_code or '')}</b> at {e((txn.store or '').capitalize())}"
    links = [
        f'<a href="{e(a["url"])}">{e({"generate-qr-code": "QR code", "deeplink-redirect": "open the app"}[a["name"]])}'
        "</a>"
        for a in current.get("actions", []) if a["name"] in {"generate-qr-code", "deeplink-redirect"}
    ]
    return " — " + ", ".join(links) if links else ""


def _result_section(state: MidtransState, txn: SnapTransaction, request: web.Request) -> str:
    e = html.escape
    current = txn.current or {}
    status = current.get("transaction_status", "")
    fraud = current.get("fraud_status")
    paid = status == "settlement" or (status == "capture" and fraud in {"accept", None})
    reversed_ = status == "deny" and "settlement" in txn.statuses
    kind, title = (
        ("paid", "Payment successful") if paid
        else ("failed", "Payment reversed") if reversed_
        else ("expired", "Expired") if status == "expire"
        else ("failed", "Payment failed") if status in {"deny", "cancel"}
        else ("other", "Payment under fraud review") if status == "capture" and fraud == "challenge"
        else ("other", status.replace("_", " ").capitalize())
    )
    sent = [d for d in state.deliveries if d.order_id == txn.order_id]
    lost = [txn.history[i]["transaction_status"] for o, i in state.lost if o == txn.order_id]
    if sent or lost:
        items = "".join(
            f"<li><code>{e(str(d.transaction_status))}</code> → "
            f"{e(f'HTTP {d.http_status}' if d.http_status is not None else 'no answer')}</li>"
            for d in sent
        ) + "".join(f"<li><code>{e(s)}</code> → lost (never sent)</li>" for s in lost)
        deliveries = f'<div class="label">Notifications to the merchant</div><ul class="log">{items}</ul>'
    else:
        deliveries = '<p class="muted">No notification was sent (no notification URL is set).</p>'
    money = ""
    if txn.refund_total or txn.chargeback_total:
        money = (f'<p class="muted">Refunded {e(format_rupiah(txn.refund_total))}, charged back '
                 f"{e(format_rupiah(txn.chargeback_total))}, left {e(format_rupiah(txn.refundable))}</p>")
    return (
        f'<section class="card result {kind}"><h2>{e(title)}</h2>'
        f'<p>{e(format_rupiah(txn.gross_amount))} via {e(_method_label(txn))} — status <code>{e(status)}</code></p>'
        f"{money}{deliveries}</section>{_after_sale_section(txn, request)}{_finish_link(state, txn)}"
    )


def _after_sale_section(txn: SnapTransaction, request: web.Request) -> str:
    """Buttons for what Midtrans documents after this status (Transaction Status Cycle)."""
    e = html.escape
    current = txn.current or {}
    status, fraud = current.get("transaction_status"), current.get("fraud_status")
    sold = status == "settlement" or (status == "capture" and fraud != "challenge")
    buttons: list[tuple[str, str]] = []
    if status == "capture" and fraud == "challenge":
        buttons += [("approve", "Merchant approves"), ("deny_challenge", "Merchant denies")]
    method = (txn.payment_type, txn.bank if txn.payment_type == "bank_transfer" else txn.store)
    if status == "settlement" and method in REVERSIBLE:
        buttons.append(("reverse", "Reversal (settlement → deny)"))
    if status in {"capture", "authorize"}:
        buttons.append(("cancel", "Cancel (void the capture)"))
    partial_ok = txn.refundable >= 2
    if sold or status == "partial_chargeback":
        buttons.append(("chargeback", "Chargeback"))
        if partial_ok:
            buttons.append(("partial_chargeback", f"Partial chargeback ({format_rupiah(_safe_partial(txn))})"))
    if sold or status == "partial_refund":
        buttons.append(("refund", "Refund from the dashboard"))
        if partial_ok:
            label = f"Partial refund from the dashboard ({format_rupiah(_safe_partial(txn))})"
            buttons.append(("partial_refund", label))
    if not buttons:
        return ""
    action = request.app.router["snap_simulate"].url_for(token=txn.token)
    items = "".join(f'<button class="btn other" name="outcome" value="{e(v)}">{e(label)}</button>'
                    for v, label in buttons)
    return (f'<section class="card"><h2>After the sale</h2><p class="muted">What Midtrans, a bank or the dashboard '
            f'may do next. Each sends its notification.</p><form method="post" action="{e(str(action))}">'
            f'<div class="methods">{items}</div></form></section>')


def _safe_partial(txn: SnapTransaction) -> int:
    try:
        return _partial_amount(txn)
    except PaymentRefused:
        return 0


def _finish_link(state: MidtransState, txn: SnapTransaction) -> str:
    url = finish_redirect_url(txn)
    if url is None:
        return ""
    if state.finish_link_rewrite is not None:
        url = state.finish_link_rewrite(url)
    return f'<a class="btn back" href="{html.escape(url)}">Back to the merchant</a>'


# --------------------------------------------------------------------------------------------------------------
# Running it


class MidtransSimulator:
    """Runs `create_midtrans_app` on 127.0.0.1 (a free port by default) and drives it from Python.

        async with MidtransSimulator("SB-Mid-server-test", notification_url=url) as sim:
            snap.api_config.SNAP_SANDBOX_BASE_URL = sim.snap_base_url
            core.api_config.CORE_SANDBOX_BASE_URL = sim.api_base_url
    """

    def __init__(
        self,
        server_key: str,
        *,
        notification_url: str | None = None,
        public_base_url: str | None = None,
        port: int = 0,
        clock: Clock | None = None,
        notify_timeout: float = DEFAULT_NOTIFY_TIMEOUT,
    ) -> None:
        self.app = create_midtrans_app(
            server_key, public_base_url=public_base_url, notification_url=notification_url, clock=clock,
            notify_timeout=notify_timeout,
        )
        self.state = self.app[MIDTRANS_STATE]
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._used = False

    def __repr__(self) -> str:
        return f"<MidtransSimulator {self._base_url or 'not started'}>"

    async def start(self) -> None:
        if self._used:
            raise RuntimeError("a MidtransSimulator starts once; make a new one")
        self._used = True
        runner = web.AppRunner(self.app)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        self._base_url = f"http://127.0.0.1:{port}"
        logger.info("midtrans simulator listening on %s", self._base_url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- where it is

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`; also the Core API base (`CORE_SANDBOX_BASE_URL`)."""
        if self._base_url is None:
            raise RuntimeError("the simulator is not started")
        return self._base_url

    @property
    def api_base_url(self) -> str:
        return self.base_url

    @property
    def snap_base_url(self) -> str:
        """`<base_url>/snap/v1` (`SNAP_SANDBOX_BASE_URL`)."""
        return f"{self.base_url}/snap/v1"

    @property
    def notification_url(self) -> str | None:
        return self.state.notification_url

    @notification_url.setter
    def notification_url(self, url: str | None) -> None:
        self.state.notification_url = url

    # -- what it knows

    @property
    def transactions(self) -> Mapping[str, SnapTransaction]:
        return self.state.transactions

    @property
    def deliveries(self) -> list[Delivery]:
        """Every notification POST so far, oldest first."""
        return self.state.deliveries

    def transaction(self, order_id: str) -> SnapTransaction:
        """The Snap transaction for `order_id`; UnknownTransaction (a KeyError) if none."""
        return self.state.get(order_id)

    def status_body(self, order_id: str) -> JSON | None:
        """What the status API would answer now, or None while it answers 404."""
        return self.state.status_body(order_id)

    def payment_page_url(self, order_id: str) -> str:
        return f"{self.base_url}/snap/v4/redirection/{self.state.get(order_id).token}"

    def signature_key(self, order_id: str, status_code: str, gross_amount: str) -> str:
        return self.state.sign(order_id, status_code, gross_amount)

    # -- driving payments

    async def set_status(
        self,
        order_id: str,
        transaction_status: str,
        *,
        payment_type: str | None = None,
        fraud_status: str | None = None,
        gross_amount: int | str | None = None,
        extra: Mapping[str, Any] | None = None,
        bank: str | None = None,
        store: str | None = None,
    ) -> JSON:
        """Record a new status for `order_id` (no notification is sent) and return the new status body.

        `bank` / `store` choose the VA bank (bank_transfer) or the store (cstore), as in `simulate_payment`.

        `payment_type`: None keeps the one already chosen, else "bank_transfer". `fraud_status`: None gives the
        usual one for the payment type ("accept" for card, VA and e-wallets; "deny" for a denied card).
        `gross_amount` overrides the amount in this snapshot only (int → "N.00", str as is), signed as sent, to
        simulate a payment for another amount. `extra` sets fields after all that (None removes a field, e.g.
        `{"fraud_status": None}`); `signature_key` is computed last unless `extra` sets it.
        """
        return self.state.set_status(
            order_id, transaction_status, payment_type=payment_type, fraud_status=fraud_status,
            gross_amount=gross_amount, extra=extra, bank=bank, store=store,
        )

    async def notify(
        self,
        url: str | None,
        order_id: str,
        *,
        duplicates: int = 1,
        body_overrides: Mapping[str, Any] | None = None,
        sign: bool = True,
    ) -> list[int | None]:
        """POST the latest status of `order_id` as a notification to `url` (None: `notification_url`).

        Sent `duplicates` times in a row. Returns the HTTP status of each POST (None: no answer, e.g. timeout).
        `body_overrides` changes fields (None removes one); the body is then signed with the server key, or,
        with `sign=False`, with a wrong key, so the signature does not verify. Setting `signature_key` in
        `body_overrides` sends exactly that.
        """
        return await self.state.notify_snapshot(
            url, order_id, -1, duplicates=duplicates, body_overrides=body_overrides, sign=sign,
        )

    async def notify_snapshot(
        self,
        url: str | None,
        order_id: str,
        index: int,
        *,
        duplicates: int = 1,
        body_overrides: Mapping[str, Any] | None = None,
        sign: bool = True,
    ) -> list[int | None]:
        """Like `notify`, for `transaction(order_id).history[index]`: replays an older status, out of order."""
        return await self.state.notify_snapshot(
            url, order_id, index, duplicates=duplicates, body_overrides=body_overrides, sign=sign,
        )

    async def simulate_payment(
        self,
        order_id: str,
        outcome: str = "pay",
        *,
        payment_type: str = "bank_transfer",
        bank: str | None = None,
        store: str | None = None,
        fraud_status: str | None | _Default = DEFAULT,
        notify: bool = True,
    ) -> PaymentOutcome:
        """What the payment page's buttons do, from Python.

        outcome "pay": every non-card type → pending, settlement; credit_card → capture (fraud accept).
        "fail": → pending, deny (card: deny, fraud deny). "expire": → pending, expire. "challenge" (card only) →
        capture with fraud_status challenge (status_code 201; approve or deny it with the Core API).
        `payment_type`: one of PAYMENT_METHODS (bank_transfer, permata, echannel, cstore, gopay, shopeepay, qris,
        credit_card); `bank` for bank_transfer (bca — the default —, bni, bri, permata); `store` for cstore
        (indomaret — the default —, alfamart). `fraud_status`: DEFAULT gives the usual one; a string puts it in
        every snapshot this call adds; None leaves the field out (a card capture without fraud_status).
        Each step is notified to `notification_url` when `notify` and a URL is set; `notify=False` loses every
        notification of this call (the status API still answers the truth). PaymentRefused if the page would
        refuse (past its expiry, already final, unknown outcome or method; "rejected" for a BNI VA and a phone not
        starting with +62 or 0, a BCA VA and a name over 30, Alfamart and a `|` in an item name); UnknownTransaction
        if no such order.
        """
        return await self.state.simulate_payment(
            order_id, outcome, payment_type=payment_type, bank=bank, store=store, fraud_status=fraud_status,
            notify=notify,
        )

    async def reverse(self, order_id: str, *, notify: bool = True) -> PaymentOutcome:
        """settlement → deny, the "payment reversal" (Permata VA, Mandiri bill payment and Indomaret only, as the
        docs say). PaymentRefused("not_allowed") for any other status or payment type."""
        return await self.state.reverse(order_id, notify=notify)

    async def cancel_after_payment(self, order_id: str, *, notify: bool = True) -> PaymentOutcome:
        """capture → cancel (a card payment voided before settlement). PaymentRefused("not_allowed") after
        settlement: Midtrans says to refund instead (Core `POST /v2/{id}/cancel` answers 412 then too)."""
        return await self.state.cancel_after_payment(order_id, notify=notify)

    async def chargeback(self, order_id: str, amount: int | None = None, *, notify: bool = True) -> PaymentOutcome:
        """settlement → chargeback (all that is left) or partial_chargeback (`amount` less than that); a second
        chargeback of a partial_chargeback can complete it. A card capture is first settled (notified), as
        Midtrans settles it the next day. PaymentRefused otherwise."""
        return await self.state.chargeback(order_id, amount, notify=notify)

    async def dashboard_refund(
        self, order_id: str, amount: int | None = None, *, reason: str = "refund from the dashboard",
        notify: bool = True,
    ) -> PaymentOutcome:
        """A refund from the Midtrans dashboard: settlement/partial_refund → refund (all that is left) or
        partial_refund, with `refund_amount` (cumulative) and a new `refunds` entry whose refund_key Midtrans made
        (not Karcis's). Two notifications, without and with `bank_confirmed_at`, as Midtrans sends for a refund.
        A card capture is first settled (notified). PaymentRefused otherwise (e.g. over what is left)."""
        return await self.state.dashboard_refund(order_id, amount, reason=reason, notify=notify)

    def refunds(self, order_id: str) -> list[JSON]:
        """Every refund of `order_id` (refund API and dashboard), as the status body's `refunds` array lists them."""
        return copy.deepcopy(self.state.get(order_id).refunds)

    def mute(self, order_id: str, muted: bool = True) -> None:
        """Lose every notification of `order_id` from now on (`muted=False`: deliver again), also those the HTTP
        APIs cause (a refund API call, a Core cancel): the status changes, the status API tells, nothing is sent."""
        self.state.get(order_id)
        (self.state.muted.add if muted else self.state.muted.discard)(order_id)

    def reject_direct_refunds(self, order_id: str, rejected: bool = True) -> None:
        """The bank rejects `order_id`'s direct refunds: `/refund/online/direct` answers status_code "202" "Refund
        denied by the bank" and nothing changes (Direct Refund Transaction, sample "Rejected Direct Refund")."""
        self.state.get(order_id)
        target = self.state.banks_rejecting_refunds
        (target.add if rejected else target.discard)(order_id)

    @property
    def lost(self) -> list[tuple[str, int]]:
        """(order_id, snapshot index) of each status change whose notification was lost (`notify=False`)."""
        return self.state.lost
