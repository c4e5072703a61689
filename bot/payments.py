"""The money path: payment links for pending orders, and Midtrans notifications turned into order changes.

Only a notification whose signature is right, confirmed by the status API (whose answer, not the notification's
body, decides), for the order's exact total, changes an order. Every notification is recorded in `payment_log`.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from bot.clock import Clock, to_wib, utcnow
from bot.errors import KarcisError, OrderNotPending
from bot.midtrans import MidtransGateway, MidtransRefused, MidtransUnavailable
from bot.orders import OrderService, PayResult
from bot.outbox import Message, owe
from bot.unverified import loggable, record_notification
from storage.documents import OrderDoc, OrderStatus
from storage.store import Store

log = logging.getLogger(__name__)

MAX_NOTIFICATION_BYTES = 64 * 1024
ITEM_NAME_MAX = 50  # Midtrans truncates longer item names
ATTEMPT_SEPARATOR = "~"  # `KRC-...~2`: a second Snap transaction for one order (the first id was used up)
INSTRUCTION_FIELDS = ("va_numbers", "permata_va_number", "bill_key", "biller_code", "payment_code", "store",
                      "actions", "expiry_time", "pdf_url")


class PaymentLinkUnavailable(KarcisError):
    """Midtrans could not be reached to make a payment link; the reservation stands and the buyer may retry."""


class ReservationOver(KarcisError):
    """The order's hold has ended (or is about to): no payment link is made for it."""


@dataclass(frozen=True)
class PaymentLink:
    redirect_url: str
    token: str
    reused: bool


class Outcome(StrEnum):
    """What a notification did, and so what Midtrans is answered."""

    BAD_REQUEST = "bad_request"              # 400
    FORGED = "forged"                        # 401
    UNKNOWN_ORDER = "unknown_order"          # 404
    UNCONFIRMED = "unconfirmed"              # 404: the status API knows no such transaction
    STATUS_UNAVAILABLE = "status_unavailable"  # 503: Midtrans retries
    PAID = "paid"
    PAID_LATE = "paid_late"
    NEEDS_REFUND = "needs_refund"
    DUPLICATE = "duplicate"
    STILL_PENDING = "still_pending"
    FAILED = "failed"
    REFUNDED = "refunded"
    REVIEW = "review"
    AMOUNT_MISMATCH = "amount_mismatch"
    IGNORED = "ignored"


HTTP_STATUS = {Outcome.BAD_REQUEST: 400, Outcome.FORGED: 401, Outcome.UNKNOWN_ORDER: 404,
               Outcome.UNCONFIRMED: 404, Outcome.STATUS_UNAVAILABLE: 503}


@dataclass(frozen=True)
class NotificationResult:
    outcome: Outcome
    order_id: str | None = None

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.outcome, 200)

    @property
    def has_news(self) -> bool:
        """Something was owed to someone: delivery should run now."""
        return self.outcome in {Outcome.PAID, Outcome.PAID_LATE, Outcome.NEEDS_REFUND, Outcome.STILL_PENDING,
                                Outcome.FAILED, Outcome.REFUNDED, Outcome.REVIEW, Outcome.AMOUNT_MISMATCH}


def _stored_link(order: OrderDoc) -> PaymentLink | None:
    """The link an earlier call made and stored on the order, if any."""
    if not order.payment.get("redirect_url"):
        return None
    return PaymentLink(order.payment["redirect_url"], order.payment["token"], reused=True)


def our_order_id(midtrans_order_id: str) -> str:
    return midtrans_order_id.split(ATTEMPT_SEPARATOR, 1)[0]


def _amount(text: object) -> Decimal | None:
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return None


class PaymentService:
    def __init__(self, store: Store, orders: OrderService, gateway: MidtransGateway, *, clock: Clock = utcnow) -> None:
        self._store = store
        self._orders = orders
        self._gateway = gateway
        self._clock = clock

    # ---- payment links ------------------------------------------------------------------------------------

    async def payment_link(self, order_id: str, user_id: int, *, finish_url: str | None = None) -> PaymentLink:
        """The order's Snap payment link, made once; asking again returns the stored one.

        Raises OrderNotFound / OrderNotPending, ReservationOver, or PaymentLinkUnavailable (Midtrans down)."""
        order = await self._orders.get_for_user(order_id, user_id)
        if stored_link := _stored_link(order):
            return stored_link
        if order.status != OrderStatus.PENDING:
            raise OrderNotPending(order.id, order.status)
        minutes_left = math.floor((order.expires_at - self._clock()).total_seconds() / 60)
        if minutes_left < 1:
            raise ReservationOver(order.id)
        midtrans_id = order.payment.get("midtrans_order_id") or order.id
        for _ in range(3):
            try:
                created = await self._gateway.create_transaction(self._snap_payload(order, midtrans_id,
                                                                                    minutes_left, finish_url))
            except MidtransUnavailable as exc:
                raise PaymentLinkUnavailable(str(exc)) from None
            except MidtransRefused as exc:
                if not any("order_id" in m for m in exc.messages):
                    log.error("Midtrans refused the Snap request for %s: %s", order.id, exc)
                    raise PaymentLinkUnavailable(str(exc)) from None
                # that order_id was used by an earlier attempt whose answer we never got (or by a racing call)
                if stored_link := _stored_link(await self._orders.get_for_user(order_id, user_id)):
                    return stored_link
                attempt = int(midtrans_id.partition(ATTEMPT_SEPARATOR)[2] or 1) + 1
                midtrans_id = f"{order.id}{ATTEMPT_SEPARATOR}{attempt}"
                continue
            stored = await self._store.orders.update_fields_if(
                order.id, {"payment.redirect_url": None},
                {"payment.token": created["token"], "payment.redirect_url": created["redirect_url"],
                 "payment.midtrans_order_id": midtrans_id, "payment.link_created_at": self._clock()},
            )
            if stored is None:  # another call stored its link first: use that one
                current = _stored_link(await self._orders.get_for_user(order_id, user_id))
                assert current is not None
                return current
            return PaymentLink(created["redirect_url"], created["token"], reused=False)
        raise PaymentLinkUnavailable(f"no usable Midtrans order id for {order.id}")

    def _snap_payload(self, order: OrderDoc, midtrans_id: str, minutes: int, finish_url: str | None) -> dict[str, Any]:
        start = to_wib(self._clock()).strftime("%Y-%m-%d %H:%M:%S +0700")
        payload: dict[str, Any] = {
            "transaction_details": {"order_id": midtrans_id, "gross_amount": order.total},
            "item_details": [
                {"id": line.tier, "price": line.price, "quantity": line.qty, "name": line.name[:ITEM_NAME_MAX]}
                for line in order.lines
            ],
            "customer_details": {"first_name": order.buyer.name, "email": order.buyer.email,
                                 "phone": order.buyer.phone},
            "expiry": {"start_time": start, "unit": "minute", "duration": minutes},
        }
        if finish_url:
            payload["callbacks"] = {"finish": finish_url}
        return payload

    # ---- notifications ------------------------------------------------------------------------------------

    async def handle_notification(self, raw: bytes) -> NotificationResult:
        """Apply one Midtrans notification and record it. Database errors propagate (the caller answers 503,
        and Midtrans retries; every step here is safe to repeat)."""
        received_at = self._clock()
        entry: dict[str, Any] = {"received_at": received_at, "verified": False}
        result = await self._handle(raw, entry)
        entry.update(outcome=result.outcome.value, http_status=result.http_status, order_id=result.order_id,
                     finished_at=self._clock())
        await record_notification(self._store.payment_log, entry, raw, full_limit=MAX_NOTIFICATION_BYTES)
        log.info("Midtrans notification for %s: %s", loggable(result.order_id or "?"), result.outcome.value)
        return result

    async def _handle(self, raw: bytes, entry: dict[str, Any]) -> NotificationResult:
        if len(raw) > MAX_NOTIFICATION_BYTES:
            return NotificationResult(Outcome.BAD_REQUEST)
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
            return NotificationResult(Outcome.BAD_REQUEST)
        if not isinstance(body, dict) or not isinstance(body.get("order_id"), str):
            return NotificationResult(Outcome.BAD_REQUEST)
        midtrans_id = body["order_id"]
        order_id = our_order_id(midtrans_id)
        entry.update(midtrans_order_id=midtrans_id, notified_status=body.get("transaction_status"))
        if not self._gateway.verify(body):
            log.warning("Midtrans notification for %s has a wrong signature", loggable(midtrans_id))
            return NotificationResult(Outcome.FORGED, order_id)
        entry["verified"] = True
        order = await self._store.orders.get(order_id)
        if order is None:
            return NotificationResult(Outcome.UNKNOWN_ORDER, order_id)
        try:
            status = await self._gateway.status(midtrans_id)
        except (MidtransUnavailable, MidtransRefused) as exc:
            log.warning("status API for %s unavailable: %s", midtrans_id, exc)
            return NotificationResult(Outcome.STATUS_UNAVAILABLE, order_id)
        if status is None:
            return NotificationResult(Outcome.UNCONFIRMED, order_id)
        entry["confirmed"] = {k: status.get(k) for k in ("transaction_status", "fraud_status", "gross_amount",
                                                          "payment_type", "transaction_id", "status_code")}
        return NotificationResult(await self._apply(order, midtrans_id, status), order_id)

    async def _apply(self, order: OrderDoc, midtrans_id: str, status: dict[str, Any]) -> Outcome:
        transaction_status = str(status.get("transaction_status", ""))
        fraud_status = status.get("fraud_status")
        now = self._clock()
        payment = {
            "payment.transaction_id": status.get("transaction_id"),
            "payment.payment_type": status.get("payment_type"),
            "payment.transaction_status": transaction_status,
            "payment.fraud_status": fraud_status,
            "payment.updated_at": now,
        }
        amount = _amount(status.get("gross_amount"))
        if amount != Decimal(order.total):
            if await self._store.orders.update_fields_if(
                order.id, {"payment.amount_mismatch": None},
                {"payment.amount_mismatch": str(status.get("gross_amount")),
                 **owe(now, Message.AMOUNT_MISMATCH, detail={"reported": str(status.get("gross_amount")),
                                                             "status": transaction_status})},
            ) is None:
                return Outcome.DUPLICATE
            log.error("order %s: Midtrans reports %s but the order total is %d; no tickets issued",
                      order.id, status.get("gross_amount"), order.total)
            return Outcome.AMOUNT_MISMATCH

        if transaction_status == "settlement" or (transaction_status == "capture" and fraud_status == "accept"):
            outcome = await self._orders.pay(order.id, note=f"Midtrans {transaction_status} ({midtrans_id})",
                                             set_fields=payment)
            return {PayResult.PAID: Outcome.PAID, PayResult.PAID_LATE: Outcome.PAID_LATE,
                    PayResult.NEEDS_REFUND: Outcome.NEEDS_REFUND, PayResult.ALREADY_PAID: Outcome.DUPLICATE,
                    PayResult.NOT_PAYABLE: Outcome.IGNORED}[outcome.result]
        if transaction_status == "capture" and fraud_status == "challenge":
            flagged = await self._store.orders.update_fields_if(
                order.id, {"payment.review": None, "status": OrderStatus.PENDING.value},
                {**payment, "payment.review": True, **owe(now, Message.PAYMENT_REVIEW)},
            )
            return Outcome.REVIEW if flagged else Outcome.DUPLICATE
        if transaction_status == "pending":
            instructions = {k: status[k] for k in INSTRUCTION_FIELDS if k in status}
            told = await self._store.orders.update_fields_if(
                order.id, {"payment.instructions_for": {"$ne": status.get("payment_type")},
                           "status": OrderStatus.PENDING.value},
                {**payment, "payment.instructions": instructions,
                 "payment.instructions_for": status.get("payment_type"), **owe(now, Message.PAYMENT_PENDING)},
            )
            return Outcome.STILL_PENDING if told else Outcome.DUPLICATE
        if transaction_status in {"deny", "cancel", "expire", "failure"}:
            failed = await self._orders.fail(order.id, note=f"Midtrans {transaction_status}", set_fields=payment)
            return Outcome.FAILED if failed else Outcome.DUPLICATE
        if transaction_status in {"refund", "partial_refund"}:
            refunded = await self._orders.refund(order.id, note=f"Midtrans {transaction_status}", set_fields=payment)
            return Outcome.REFUNDED if refunded else Outcome.DUPLICATE
        return Outcome.IGNORED
