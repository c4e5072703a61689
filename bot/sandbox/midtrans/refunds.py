"""After a sale: reversal, cancel after payment, chargebacks, dashboard refunds and the refund API."""

from __future__ import annotations

import uuid

from bot.sandbox.midtrans.errors import PaymentRefused
from bot.sandbox.midtrans.notifications import _label
from bot.sandbox.midtrans.records import Delivery, PaymentOutcome, SnapTransaction
from bot.sandbox.midtrans.rules import _NOT_FOUND, JSON, REFUNDABLE_TYPES, REVERSIBLE, _amount_string, _wib
from bot.sandbox.midtrans.transactions import Transactions
from bot.sandbox.midtrans.validation import _amount, _refund_body_errors


class AfterSale(Transactions):
    """What may happen after a sale: reversal, cancel after payment, chargebacks, refunds (dashboard and API)."""

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
