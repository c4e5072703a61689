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

Layout: `rules` (constants, status codes, the signature), `errors`, `records` (SnapTransaction, Delivery,
PaymentOutcome), `validation` (Snap requests, payment methods, refund bodies), `notifications` (status and
notification bodies per payment type, their delivery), `base`/`transactions`/`refunds` (the state: transactions, the
state machine, after-sale flows) composed into `state.MidtransState`, `page` (the payment page), `server`
(`create_midtrans_app`), `simulator` (`MidtransSimulator`).
"""

from __future__ import annotations

from bot.sandbox.midtrans.errors import PaymentRefused, SnapValidationError, UnknownTransaction
from bot.sandbox.midtrans.page import PAGE_OUTCOMES, finish_redirect_url, render_payment_page
from bot.sandbox.midtrans.records import Delivery, PaymentOutcome, SnapTransaction
from bot.sandbox.midtrans.rules import (
    ADDRESS_FIELD_MAX,
    AFTER_SALE,
    BANKS,
    BCA_VA_NAME_MAX,
    BNI_PHONE_MAX,
    BNI_PHONE_RE,
    CUSTOMER_FIELD_MAX,
    DEFAULT,
    DEFAULT_NOTIFY_TIMEOUT,
    DEFAULT_SNAP_EXPIRY,
    FINISH_URL_MAX,
    ITEM_FIELD_MAX_BYTES,
    ITEM_TEXT_FIELDS,
    JSON,
    MAX_SNAP_EXPIRY,
    MERCHANT_ID,
    MIN_SNAP_EXPIRY,
    ORDER_ID_RE,
    OUTCOMES,
    PAGE_METHODS,
    PAYMENT_METHODS,
    REFUNDABLE_TYPES,
    REVERSIBLE,
    STATUS_CODES,
    STORES,
    WIB,
    Clock,
    format_rupiah,
    signature_key,
    status_code_for,
)
from bot.sandbox.midtrans.server import MIDTRANS_STATE, create_midtrans_app
from bot.sandbox.midtrans.simulator import MidtransSimulator
from bot.sandbox.midtrans.state import MidtransState
from bot.sandbox.midtrans.validation import ENABLED_PAYMENT_NAMES, offered

__all__ = [
    "ADDRESS_FIELD_MAX",
    "AFTER_SALE",
    "BANKS",
    "BCA_VA_NAME_MAX",
    "BNI_PHONE_MAX",
    "BNI_PHONE_RE",
    "CUSTOMER_FIELD_MAX",
    "DEFAULT",
    "DEFAULT_NOTIFY_TIMEOUT",
    "DEFAULT_SNAP_EXPIRY",
    "ENABLED_PAYMENT_NAMES",
    "FINISH_URL_MAX",
    "ITEM_FIELD_MAX_BYTES",
    "ITEM_TEXT_FIELDS",
    "JSON",
    "MAX_SNAP_EXPIRY",
    "MERCHANT_ID",
    "MIDTRANS_STATE",
    "MIN_SNAP_EXPIRY",
    "ORDER_ID_RE",
    "OUTCOMES",
    "PAGE_METHODS",
    "PAGE_OUTCOMES",
    "PAYMENT_METHODS",
    "REFUNDABLE_TYPES",
    "REVERSIBLE",
    "STATUS_CODES",
    "STORES",
    "WIB",
    "Clock",
    "Delivery",
    "MidtransSimulator",
    "MidtransState",
    "PaymentOutcome",
    "PaymentRefused",
    "SnapTransaction",
    "SnapValidationError",
    "UnknownTransaction",
    "create_midtrans_app",
    "finish_redirect_url",
    "format_rupiah",
    "offered",
    "render_payment_page",
    "signature_key",
    "status_code_for",
]
