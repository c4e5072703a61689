"""The rules a Snap create request, a chosen payment method and a refund request must meet."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from bot.sandbox.midtrans.errors import PaymentRefused
from bot.sandbox.midtrans.records import SnapTransaction
from bot.sandbox.midtrans.rules import (
    _EXPIRY_UNITS,
    ADDRESS_FIELD_MAX,
    BCA_VA_NAME_MAX,
    BNI_PHONE_MAX,
    BNI_PHONE_RE,
    CUSTOMER_FIELD_MAX,
    ITEM_FIELD_MAX_BYTES,
    ITEM_TEXT_FIELDS,
    JSON,
    MAX_SNAP_EXPIRY,
    MIN_SNAP_EXPIRY,
    _is_int,
)

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
