"""The money path: payment links for pending orders, and Midtrans notifications turned into order changes.

Only a notification whose signature is right, confirmed by the status API (whose answer, not the notification's
body, decides), for the order's exact total, changes an order. Every notification is recorded in `payment_log`.
Because a notification can be lost, Karcis also asks the status API itself (before expiring an order with a Snap
link, and from a polling job) and applies the answer through the same path (docs/money.md). Money going back
after the sale is handed to bot/refunds.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from bot.accounts import AccountId
from bot.clock import JAKARTA, Clock, in_zone, utcnow
from bot.config import SNAP_MIN_EXPIRY_MINUTES
from bot.errors import KarcisError, OrderNotPending
from bot.graphemes import cut, cut_bytes
from bot.midtrans import MidtransGateway, MidtransRefused, MidtransUnavailable
from bot.orders import RELEASED, ExpiryCheck, OrderService, PayResult
from bot.outbox import Message, owe
from bot.refunds import AfterSale, RefundService
from bot.unverified import loggable, record_notification
from storage.documents import Buyer, OrderDoc, OrderLine, OrderStatus, RefundState
from storage.store import Store

log = logging.getLogger(__name__)

MAX_NOTIFICATION_BYTES = 64 * 1024
ATTEMPT_SEPARATOR = "~"  # `KRC-...~2`: a second Snap transaction for one order (the first id was used up)
MAX_INSTRUCTION_TEXT = 2048
INSTRUCTION_FIELDS = ("va_numbers", "permata_va_number", "bill_key", "biller_code", "payment_code", "store",
                      "actions", "qr_string", "expiry_time", "pdf_url")

# Midtrans waits at most 15 s for our answer ("aim under 5 s"); the whole handling of one notification, status
# API retries included, stays within this, or the answer is 503 and Midtrans retries later.
NOTIFICATION_BUDGET = 8.0
DATABASE_MARGIN = 1.5  # of that budget, kept for the writes after the status call
# A buyer waits in the chat for the payment link: the Snap call (retries included) gets this long.
PAYMENT_LINK_BUDGET = 6.0

# Snap: "expiry ... duration" — the docs give 5 minutes as the minimum on one page and 20 seconds on another;
# Karcis never asks for less than SNAP_MIN_EXPIRY_MINUTES (config refuses RESERVATION_MINUTES below it).
# Item names: Midtrans's PHP library cuts `name` at 50 bytes (substr), so measure in UTF-8 bytes and cut on a
# character boundary; `|` is documented as unsafe for Alfamart.
ITEM_NAME_MAX_BYTES = 50
ITEM_ID_MAX = 50
# BCA VA shows the customer name and accepts at most 30 characters; the method is chosen on the Snap page after
# the link is made, so the name always fits the strictest one.
CUSTOMER_NAME_MAX = 30
# BNI VA refuses a customer phone that does not start with +62 or 0; other numbers are left out.
_PHONE_ID = re.compile(r"^(\+62|0)[0-9]{7,14}$")

# Status polling (docs/money.md): how often, how many per run, for how long after the hold ended.
POLL_BATCH = 20
POLL_PENDING_EVERY = timedelta(minutes=10)
POLL_RELEASED_FIRST = timedelta(minutes=10)
POLL_RELEASED_MAX_GAP = timedelta(hours=6)
POLL_WINDOW = timedelta(hours=24)


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
    DENIED = "denied"                        # a declined card: the hold stands, Snap lets the buyer try again
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    PARTIAL_REFUND = "partial_refund"
    REFUND_UNASSIGNED = "refund_unassigned"
    REVERSED = "reversed"
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
        return self.outcome in NEWS


NEWS = frozenset({Outcome.PAID, Outcome.PAID_LATE, Outcome.NEEDS_REFUND, Outcome.STILL_PENDING, Outcome.FAILED,
                  Outcome.EXPIRED, Outcome.REFUNDED, Outcome.PARTIAL_REFUND, Outcome.REFUND_UNASSIGNED,
                  Outcome.REVERSED, Outcome.REVIEW, Outcome.AMOUNT_MISMATCH})
AFTER_SALE = {AfterSale.REVERSED: Outcome.REVERSED, AfterSale.REFUNDED: Outcome.REFUNDED,
              AfterSale.PARTIAL_REFUND: Outcome.PARTIAL_REFUND, AfterSale.UNASSIGNED: Outcome.REFUND_UNASSIGNED,
              AfterSale.NOTHING: Outcome.DUPLICATE}


@dataclass
class PollReport:
    """What one run of the polling job did."""

    asked: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    unreachable: bool = False


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


def item_name(name: str) -> str:
    """An item name Snap takes whole: no `|`, at most 50 UTF-8 bytes, cut on a character boundary."""
    clean = " ".join(name.replace("|", "/").split())
    if len(clean.encode()) <= ITEM_NAME_MAX_BYTES:
        return clean
    return cut_bytes(clean, ITEM_NAME_MAX_BYTES).rstrip()  # whole characters: no half emoji sequence


def customer_phone(phone: str) -> str | None:
    """The phone in a form every Snap method accepts (`+62…` or `0…`), or None to leave it out."""
    compact = re.sub(r"[\s().-]", "", phone)
    if compact.startswith("62") and not compact.startswith("620"):
        compact = "+" + compact
    return compact if _PHONE_ID.match(compact) else None


def customer_details(buyer: Buyer) -> dict[str, Any]:
    name = " ".join(buyer.name.split())
    if len(name) > CUSTOMER_NAME_MAX:
        # whole words where it can, and never half a character as a person sees it (`👩‍🎤` is 3 code points)
        start = cut(name, CUSTOMER_NAME_MAX)
        name = start.rsplit(" ", 1)[0] if " " in start else start
    details: dict[str, Any] = {"first_name": name, "email": buyer.email}
    if (phone := customer_phone(buyer.phone)) is not None:
        details["phone"] = phone
    return details


def snap_expiry(now: datetime, expires_at: datetime) -> dict[str, Any]:
    """Snap's `expiry` for a hold that ends at `expires_at`: the hold's end is the one deadline.

    Snap counts whole minutes from `start_time` (seconds precision), so the start is put up to a minute before
    now, such that start + duration = `expires_at` rounded up to the second: the Snap page ends at the hold's
    end, never earlier (at most 1 s later). Under 5 minutes left, Snap is asked for its minimum of 5 minutes
    from that start (the page outlives the hold; a payment then is a late payment, docs/stock-and-orders.md)."""
    end = expires_at if expires_at.microsecond == 0 else expires_at.replace(microsecond=0) + timedelta(seconds=1)
    minutes = max(1, math.ceil((end - now).total_seconds() / 60))
    start = end - timedelta(minutes=minutes)
    # Midtrans's own format, in Jakarta time whatever the event's zone (docs/time-zones.md)
    return {"start_time": in_zone(start, JAKARTA).strftime("%Y-%m-%d %H:%M:%S +0700"), "unit": "minute",
            "duration": max(minutes, SNAP_MIN_EXPIRY_MINUTES)}


def _items(lines: list[OrderLine]) -> list[dict[str, Any]]:
    return [{"id": line.tier[:ITEM_ID_MAX], "price": line.price, "quantity": line.qty, "name": item_name(line.name)}
            for line in lines]


def _bounded(value: Any, depth: int = 0) -> Any:
    """A copy of a JSON value cut to sizes a payment instruction needs (lists ≤ 8, strings ≤ 2,048 chars)."""
    if isinstance(value, str):
        return value[:MAX_INSTRUCTION_TEXT]
    if isinstance(value, list) and depth < 3:
        return [_bounded(v, depth + 1) for v in value[:8]]
    if isinstance(value, dict) and depth < 3:
        return {str(k)[:64]: _bounded(v, depth + 1) for k, v in list(value.items())[:16]}
    return value if isinstance(value, int | float | bool) or value is None else None


def payment_instructions(status: dict[str, Any], body: dict[str, Any] | None) -> dict[str, Any]:
    """How the buyer pays, from the status API's answer, completed from the signed notification for the same
    pending payment: the status API shows `actions` (GoPay/QRIS deeplink and QR image URL) only for ShopeePay
    ("Get Transaction Status"), while the pending notification carries them ("HTTP(S) Notification / Webhooks",
    GoPay and QRIS samples). The notification's signature was checked, and what is kept is bounded."""
    instructions = {k: _bounded(status[k]) for k in INSTRUCTION_FIELDS if k in status}
    same = (body is not None and body.get("transaction_status") == "pending"
            and body.get("payment_type") == status.get("payment_type")
            and body.get("transaction_id") == status.get("transaction_id"))
    if same:
        assert body is not None
        for key in INSTRUCTION_FIELDS:
            if key not in instructions and key in body:
                instructions[key] = _bounded(body[key])
    return instructions


class ExpiryDecision(StrEnum):
    EXPIRE = "expire"                  # nothing paid: expire it
    EXPIRE_UNCONFIRMED = "unconfirmed"  # Midtrans unreachable past the grace: expire, and tell the admins
    KEEP = "keep"                      # Midtrans unreachable: ask again next sweep
    HANDLED = "handled"                # Midtrans's answer moved the order (paid, expired, failed...)


class PaymentService:
    def __init__(self, store: Store, orders: OrderService, gateway: MidtransGateway, *, clock: Clock = utcnow,
                 refunds: RefundService | None = None, poll_grace: timedelta = timedelta(minutes=60),
                 notification_budget: float = NOTIFICATION_BUDGET, link_budget: float = PAYMENT_LINK_BUDGET) -> None:
        self._store = store
        self._orders = orders
        self._gateway = gateway
        self._clock = clock
        self._refunds = refunds
        self._poll_grace = poll_grace
        self._notification_budget = notification_budget
        self._link_budget = link_budget

    # ---- payment links ------------------------------------------------------------------------------------

    async def payment_link(self, order_id: str, user_id: AccountId, *, finish_url: str | None = None) -> PaymentLink:
        """The order's Snap payment link, made once; asking again returns the stored one.

        Raises OrderNotFound / OrderNotPending, ReservationOver, or PaymentLinkUnavailable (Midtrans down)."""
        order = await self._orders.get_for_user(order_id, user_id)
        if stored_link := _stored_link(order):
            return stored_link
        if order.status != OrderStatus.PENDING:
            raise OrderNotPending(order.id, order.status)
        if (order.expires_at - self._clock()).total_seconds() < 60:
            raise ReservationOver(order.id)
        midtrans_id = order.payment.get("midtrans_order_id") or order.id
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._link_budget
        for _ in range(3):
            budget = deadline - loop.time()
            if budget <= 0:
                raise PaymentLinkUnavailable(f"no Snap answer for {order.id} within {self._link_budget:g} s")
            try:
                created = await self._gateway.create_transaction(self._snap_payload(order, midtrans_id, finish_url),
                                                                 budget=budget)
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
                 "payment.midtrans_order_id": midtrans_id, "payment.link_created_at": self._clock(),
                 "poll_due_at": self._clock() + POLL_PENDING_EVERY},
            )
            if stored is None:  # another call stored its link first: use that one
                current = _stored_link(await self._orders.get_for_user(order_id, user_id))
                assert current is not None
                return current
            return PaymentLink(created["redirect_url"], created["token"], reused=False)
        raise PaymentLinkUnavailable(f"no usable Midtrans order id for {order.id}")

    def _snap_payload(self, order: OrderDoc, midtrans_id: str, finish_url: str | None) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "transaction_details": {"order_id": midtrans_id, "gross_amount": order.total},
            "item_details": _items(order.lines),
            "customer_details": customer_details(order.buyer),
            "expiry": snap_expiry(self._clock(), order.expires_at),
        }
        if finish_url:
            payload["callbacks"] = {"finish": finish_url}
        return payload

    # ---- notifications ------------------------------------------------------------------------------------

    async def handle_notification(self, raw: bytes) -> NotificationResult:
        """Apply one Midtrans notification and record it. Database errors propagate (the caller answers 503,
        and Midtrans retries; every step here is safe to repeat). The status API gets what is left of the
        notification budget; past it the answer is 503."""
        deadline = asyncio.get_running_loop().time() + self._notification_budget
        received_at = self._clock()
        entry: dict[str, Any] = {"received_at": received_at, "verified": False, "source": "notification"}
        result = await self._handle(raw, entry, deadline)
        await self._record(entry, result, raw)
        return result

    async def _record(self, entry: dict[str, Any], result: NotificationResult, raw: bytes | None = None) -> None:
        entry.update(outcome=result.outcome.value, http_status=result.http_status, order_id=result.order_id,
                     finished_at=self._clock())
        if raw is None:
            await self._store.payment_log.append(entry)
        else:  # a request from anyone: bounded until verified (bot/unverified.py)
            await record_notification(self._store.payment_log, entry, raw, full_limit=MAX_NOTIFICATION_BYTES)
        log.info("Midtrans %s for %s: %s", entry["source"], loggable(result.order_id or "?"), result.outcome.value)

    async def _handle(self, raw: bytes, entry: dict[str, Any], deadline: float) -> NotificationResult:
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
        budget = deadline - asyncio.get_running_loop().time() - DATABASE_MARGIN
        try:
            if budget <= 0:
                raise MidtransUnavailable("no time left for the status API")
            status = await asyncio.wait_for(self._gateway.status(midtrans_id, budget=budget), budget)
        except (MidtransUnavailable, MidtransRefused, TimeoutError) as exc:
            log.warning("status API for %s unavailable: %s", midtrans_id, exc or type(exc).__name__)
            return NotificationResult(Outcome.STATUS_UNAVAILABLE, order_id)
        if status is None:
            return NotificationResult(Outcome.UNCONFIRMED, order_id)
        return NotificationResult(await self._confirmed(order, midtrans_id, status, entry, body), order_id)

    async def _confirmed(self, order: OrderDoc, midtrans_id: str, status: dict[str, Any],
                         entry: dict[str, Any], body: dict[str, Any] | None = None) -> Outcome:
        """The one path from a status API answer to an order change, for notifications and polling alike.
        `body`: the signed notification, if any (only its payment instructions are read, never its status)."""
        entry["confirmed"] = {k: status.get(k) for k in ("transaction_status", "fraud_status", "gross_amount",
                                                          "payment_type", "transaction_id", "status_code",
                                                          "refund_amount")}
        return await self._apply(order, midtrans_id, status, body)

    async def _apply(self, order: OrderDoc, midtrans_id: str, status: dict[str, Any],
                     body: dict[str, Any] | None = None) -> Outcome:
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

        after_sale = order.status in (OrderStatus.PAID, OrderStatus.NEEDS_REFUND)
        # "Transaction Status Cycle" (docs.midtrans.com/docs/transaction-status-cycle): success is `settlement`,
        # or `capture` and, if fraud_status exists, `accept`.
        if transaction_status == "settlement" or (transaction_status == "capture"
                                                  and fraud_status in (None, "", "accept")):
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
            instructions = payment_instructions(status, body)
            keys = sorted(instructions)
            # told again only for another method, or when this answer says more (a poll without `actions`
            # followed by the notification with them); a repeat or a poll saying less changes nothing
            told = await self._store.orders.update_fields_if(
                order.id, {"status": OrderStatus.PENDING.value,
                           "$or": [{"payment.instructions_for": {"$ne": status.get("payment_type")}},
                                   {"payment.instructions_keys": {"$not": {"$all": keys}}}]},
                {**payment, "payment.instructions": instructions, "payment.instructions_keys": keys,
                 "payment.instructions_for": status.get("payment_type"), **owe(now, Message.PAYMENT_PENDING)},
            )
            return Outcome.STILL_PENDING if told else Outcome.DUPLICATE
        # Money taken back after the sale: a cstore `deny` after settlement (payment reversal), a merchant
        # `cancel` after capture/settlement, a `chargeback` ("Transaction Status Cycle": settlement → chargeback,
        # deny*; capture → cancel).
        if after_sale and transaction_status in {"deny", "cancel", "chargeback"}:
            if self._refunds is None:
                return Outcome.IGNORED
            reversed_ = await self._refunds.reverse(order, transaction_status=transaction_status,
                                                    set_fields=payment)
            return Outcome.REVERSED if reversed_ else Outcome.DUPLICATE
        if transaction_status in {"refund", "partial_refund", "partial_chargeback"}:
            if self._refunds is None:
                return Outcome.IGNORED
            return AFTER_SALE[await self._refunds.apply_report(order, status, set_fields=payment)]
        if transaction_status == "deny":
            # A declined card on the Snap page: the buyer may try another card or method on the same page and
            # the same order id (Snap keeps the transaction open until its expiry), so the hold stands; the
            # expiry sweep ends it if nothing else arrives.
            kept = await self._store.orders.update_fields_if(
                order.id, {"status": OrderStatus.PENDING.value, "payment.denied_at": None},
                {**payment, "payment.denied_at": now})
            return Outcome.DENIED if kept else Outcome.DUPLICATE
        if transaction_status == "expire":
            expired = await self._orders.expire_order(order.id, note="Midtrans expire", set_fields=payment)
            return Outcome.EXPIRED if expired else Outcome.DUPLICATE
        if transaction_status in {"cancel", "failure"}:
            failed = await self._orders.fail(order.id, note=f"Midtrans {transaction_status}", set_fields=payment)
            return Outcome.FAILED if failed else Outcome.DUPLICATE
        return Outcome.IGNORED

    # ---- asking Midtrans when no notification came ---------------------------------------------------------

    async def _poll(self, order: OrderDoc, *, budget: float | None = None) -> Outcome | None:
        """Ask the status API about the order's Snap transaction and apply the answer exactly as a notification
        would (payment_log entry marked `source: "poll"`). None if Midtrans has no such transaction.
        Raises MidtransUnavailable."""
        midtrans_id = order.payment.get("midtrans_order_id") or order.id
        entry: dict[str, Any] = {"received_at": self._clock(), "verified": True, "source": "poll", "raw": None,
                                 "midtrans_order_id": midtrans_id, "notified_status": None}
        try:
            status = await self._gateway.status(midtrans_id, budget=budget)
        except MidtransRefused as exc:
            raise MidtransUnavailable(str(exc)) from None
        outcome = None
        if status is not None:
            outcome = await self._confirmed(order, midtrans_id, status, entry)
            await self._record(entry, NotificationResult(outcome, order.id))
        current = await self._store.orders.get(order.id)  # asked now: the next ask follows from what it is now
        await self._store.orders.set_poll(order.id, self._next_poll(current, self._clock()) if current else None)
        return outcome

    async def confirm_before_expiry(self, order: OrderDoc, now: datetime, *, reachable: bool = True) -> ExpiryDecision:
        """Before the sweep expires a pending order that has a Snap transaction, ask Midtrans: a payment whose
        notification was lost pays it instead. `reachable=False`: Midtrans already failed in this sweep."""
        if not order.payment.get("midtrans_order_id"):
            return ExpiryDecision.EXPIRE
        if reachable:
            try:
                outcome = await self._poll(order, budget=self._link_budget)
            except MidtransUnavailable as exc:
                log.warning("order %s: status API unreachable before expiry (%s)", order.id, exc)
            else:
                if outcome is None:  # no payment method was ever chosen
                    return ExpiryDecision.EXPIRE
                current = await self._store.orders.get(order.id)
                if current is not None and current.status != OrderStatus.PENDING:
                    return ExpiryDecision.HANDLED
                return ExpiryDecision.EXPIRE
        if now - order.expires_at >= self._poll_grace:
            return ExpiryDecision.EXPIRE_UNCONFIRMED
        return ExpiryDecision.KEEP

    def expiry_check(self) -> ExpiryCheck:
        """The check `OrderService.expire_due` runs before expiring an order (wired in build_services)."""
        return self.confirm_before_expiry

    async def poll_due(self, limit: int = POLL_BATCH) -> PollReport:
        """The polling job: ask the status API about orders pending with a link and orders released in the last
        24 h (they may still settle), at most `limit` per run, least recently asked first. The cost follows the
        number of such orders (the poll_due index), never all orders."""
        now = self._clock()
        report = PollReport()
        for order in await self._store.orders.due_for_poll(now, limit):
            next_at = self._next_poll(order, now)
            if next_at is None:
                await self._store.orders.set_poll(order.id, None)
                continue
            if report.unreachable:  # Midtrans failed earlier in this run: do not hammer it
                continue
            report.asked += 1
            try:
                outcome = await self._poll(order, budget=self._link_budget)
            except MidtransUnavailable as exc:
                log.warning("polling: status API unreachable (%s); next run retries", exc)
                report.unreachable = True
                continue
            key = outcome.value if outcome is not None else "no_transaction"
            report.outcomes[key] = report.outcomes.get(key, 0) + 1
        return report

    @staticmethod
    def _next_poll(order: OrderDoc, now: datetime) -> datetime | None:
        """When to ask again: every 10 minutes while pending (or while a refund Karcis asked for is unanswered);
        after the hold ended, at gaps that double (10 min, 20, 40, … at most 6 h) until 24 h after it; never for an
        order that is settled one way or another."""
        if order.status == OrderStatus.PAID and any(
                r.status == RefundState.REQUESTED and now < r.at + POLL_WINDOW for r in order.refunds.values()):
            return now + POLL_PENDING_EVERY  # a refund whose answer never came: Midtrans's refunds list decides
        if not order.payment.get("midtrans_order_id"):
            return None
        if order.status == OrderStatus.PENDING:
            return now + POLL_PENDING_EVERY
        end = order.expires_at + POLL_WINDOW
        if order.status not in RELEASED or now >= end:
            return None
        age = max(now - min(order.expires_at, order.updated_at), POLL_RELEASED_FIRST)
        return min(now + min(age, POLL_RELEASED_MAX_GAP), end)  # the last ask is at the window's end
