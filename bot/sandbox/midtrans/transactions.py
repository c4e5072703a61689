"""The transaction state machine: Snap create, status changes, payment, cancel/expire/approve/deny."""

from __future__ import annotations

import copy
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from bot.sandbox.midtrans.errors import PaymentRefused, SnapValidationError
from bot.sandbox.midtrans.notifications import (
    Notifications,
    _default_fraud_status,
    _flow,
    _issue_payment_details,
    _method,
    _status_view,
)
from bot.sandbox.midtrans.records import Delivery, PaymentOutcome, SnapTransaction
from bot.sandbox.midtrans.rules import (
    _NON_CARD_TYPES,
    _NOT_FOUND,
    _STATUS_FOUND,
    DEFAULT,
    DEFAULT_SNAP_EXPIRY,
    FINISH_URL_MAX,
    JSON,
    MERCHANT_ID,
    ORDER_ID_RE,
    OUTCOMES,
    PAYMENT_METHODS,
    _amount_string,
    _Default,
    _is_int,
    _wib,
    format_rupiah,
    status_code_for,
)
from bot.sandbox.midtrans.validation import _customer_errors, _item_errors, _parse_expiry, _payment_rejection

logger = logging.getLogger(__name__)


class Transactions(Notifications):
    """The transaction state machine: Snap create, status changes, paying, the Core API's actions."""

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
        reply: JSON = {k: snap[k] for k in ("transaction_id", "order_id", "payment_type", "transaction_time",
                                            "transaction_status", "gross_amount") if k in snap}
        if "fraud_status" in snap:
            reply["fraud_status"] = snap["fraud_status"]
        messages = {"expire": ("407", "Success, transaction has expired"),
                    "cancel": ("200", "Success, transaction is canceled"),
                    "approve": ("200", "Success, transaction is approved"),
                    "deny": ("200", "Success, transaction is denied")}
        code, message = messages[action]
        return 200, {"status_code": code, "status_message": message, **reply}
