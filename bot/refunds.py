"""Refunds by amount: refunds started from the chat (through Midtrans's refund API) and refunds Midtrans reports
without Karcis asking (a dashboard refund, a partial chargeback), whose tickets admins assign. See docs/money.md.

Who may refund: admins, and the organisers of the order's event. A refund names its tickets; Karcis voids exactly
those when Midtrans accepts, returns their seats to stock and tells the buyer. A refund Midtrans refuses changes
nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from bot.access import AccessService
from bot.accounts import AccountId
from bot.catalog import Catalog
from bot.clock import Clock, utcnow
from bot.errors import KarcisError
from bot.midtrans import MidtransGateway, MidtransRefused, MidtransUnavailable
from bot.outbox import Message, owe
from bot.tickets import normalize_code
from storage.documents import (
    OrderDoc,
    OrderStatus,
    RefundRecord,
    RefundSource,
    RefundState,
    ReturnedSeats,
    StatusChange,
    TicketDoc,
    TicketStatus,
    VoidReason,
    tier_key,
)
from storage.store import Store

log = logging.getLogger(__name__)

REASON_MAX = 200  # what we store and send to Midtrans as the refund reason


class RefundRefusal(StrEnum):
    NOT_FOUND = "not_found"                      # no such order
    NOT_ALLOWED = "not_allowed"                  # only admins, and organisers of the order's event
    NOT_PAID = "not_paid"                        # the order is not paid (detail: status)
    NOTHING_TO_REFUND = "nothing_to_refund"      # no valid ticket left to refund
    TICKET_NOT_IN_ORDER = "ticket_not_in_order"  # detail: code
    TICKET_VOID = "ticket_void"                  # detail: code
    TICKET_BEING_REFUNDED = "ticket_being_refunded"  # another refund has claimed it (detail: code)
    CHECKED_IN_NEEDS_CONFIRM = "checked_in_needs_confirm"  # detail: codes; ask again with confirm_checked_in
    MIDTRANS_REFUSED = "midtrans_refused"        # detail: status (HTTP/Midtrans code), message (Midtrans's words)
    MIDTRANS_UNAVAILABLE = "midtrans_unavailable"  # nothing known changed; asking again reuses the refund_key
    NOTHING_UNASSIGNED = "nothing_unassigned"    # assign(): no refunded amount waits for tickets


class RefundRefused(KarcisError):
    """A refund (or an assignment) was not made. `detail` carries the reason's specifics."""

    def __init__(self, reason: RefundRefusal, **detail: Any) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(reason.value + (f" {detail}" if detail else ""))


@dataclass(frozen=True)
class RefundTicket:
    code: str
    tier: str
    tier_name: str
    price: int
    status: TicketStatus
    checked_in_at: datetime | None = None
    void_reason: VoidReason | None = None
    claimed: bool = False  # a refund in progress has claimed it

    @property
    def valid(self) -> bool:
        return self.status == TicketStatus.VALID

    @property
    def checked_in(self) -> bool:
        return self.checked_in_at is not None


@dataclass(frozen=True)
class RefundView:
    """What a refund screen shows: the order, each ticket, what can still be refunded and what waits for tickets."""

    order: OrderDoc
    tickets: list[RefundTicket]
    refundable: int   # rupiah that a refund from the chat may still return (valid, unclaimed tickets, capped)
    unassigned: int   # rupiah Midtrans refunded that no voided ticket accounts for yet
    refunds: list[RefundRecord] = field(default_factory=list)

    @property
    def valid_tickets(self) -> list[RefundTicket]:
        return [t for t in self.tickets if t.valid]


@dataclass(frozen=True)
class RefundDone:
    order: OrderDoc
    refund: RefundRecord
    voided: list[str]        # ticket codes voided by this call
    fully_refunded: bool     # the order is now `refunded`
    reused: bool = False     # a retry / double tap: this refund was already done


def refund_key_for(order_id: str, codes: Sequence[str]) -> str:
    """The idempotent refund_key of a refund of these tickets: a retry or a double tap reuses it.
    `R` + 16 hex characters of SHA-256 over the order and its sorted ticket codes."""
    digest = hashlib.sha256(f"{order_id}|{','.join(sorted(codes))}".encode()).hexdigest()[:16]
    return f"R{digest}"


REFUNDABLE = (OrderStatus.PAID, OrderStatus.NEEDS_REFUND)


class AfterSale(StrEnum):
    """What a Midtrans report about money going back did to the order."""

    REVERSED = "reversed"
    REFUNDED = "refunded"
    PARTIAL_REFUND = "partial_refund"
    UNASSIGNED = "refund_unassigned"
    NOTHING = "nothing"  # already known (a duplicate, or a refund Karcis recorded itself)


# Midtrans's Refund API serves credit_card, gopay, shopeepay, dana, ovo, QRIS, kredivo and akulaku ("Refund
# Transactions", docs.midtrans.com/reference/refund-transaction); Direct Refund serves GoPay, QRIS, ShopeePay,
# Credit Card, Akulaku and Kredivo ("Direct Refund Transaction"). Neither page names a payment type that only the
# direct endpoint serves, so every refund uses the Refund API unless its type is listed here.
DIRECT_REFUND_TYPES: frozenset[str] = frozenset()
MIDTRANS_REFUND_BUDGET = 8.0  # seconds for the whole refund call (an admin waits in the chat)
REFUND_POLL_AFTER = timedelta(minutes=5)  # a refund left unanswered is looked up by the polling job
_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


def _rupiah(value: object) -> int:
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return 0


def _record_id_for_report(entry: dict[str, Any]) -> str:
    """A storage-safe id for a refund Midtrans reported (its refund_chargeback_id, else its refund_key)."""
    raw = str(entry.get("refund_chargeback_id") or entry.get("refund_key") or entry.get("created_at") or "x")
    return "m" + _SAFE_ID.sub("_", raw)[:64]


class RefundService:
    def __init__(self, store: Store, catalog: Catalog, gateway: MidtransGateway, *,
                 access: AccessService, clock: Clock = utcnow) -> None:
        self._store = store
        self._catalog = catalog
        self._gateway = gateway
        self._access = access
        self._clock = clock

    # ---- who may, and what there is ------------------------------------------------------------------------

    async def _order_for(self, order_id: str, by: AccountId, *, admins_only: bool = False) -> OrderDoc:
        order = await self._store.orders.get(order_id)
        if order is None:
            raise RefundRefused(RefundRefusal.NOT_FOUND, order_id=order_id)
        if self._access.is_admin(by):
            return order
        if not admins_only:
            listing = await self._catalog.get(order.event_id)
            if listing is not None and self._access.organises(by, listing.event):
                return order
        raise RefundRefused(RefundRefusal.NOT_ALLOWED)

    def _tickets(self, order: OrderDoc, docs: list[TicketDoc]) -> list[RefundTicket]:
        prices = {line.tier: line.price for line in order.lines}
        claimed = set(order.refund_claims)
        return [RefundTicket(code=t.id, tier=t.tier, tier_name=t.tier_name, price=prices.get(t.tier, 0),
                             status=t.status, checked_in_at=t.checked_in_at, void_reason=t.void_reason,
                             claimed=t.id in claimed and t.status == TicketStatus.VALID)
                for t in docs]

    @staticmethod
    def _left(order: OrderDoc) -> int:
        """Rupiah not yet refunded nor being refunded."""
        requested = sum(r.amount for r in order.refunds.values() if r.status == RefundState.REQUESTED)
        return max(0, order.total - order.refunded_amount - requested)

    async def view(self, order_id: str, *, by: AccountId) -> RefundView:
        """Raises RefundRefused(NOT_FOUND | NOT_ALLOWED)."""
        order = await self._order_for(order_id, by)
        tickets = self._tickets(order, await self._store.tickets.for_order(order.id))
        refundable = 0
        if order.status == OrderStatus.PAID:
            refundable = min(self._left(order), sum(t.price for t in tickets if t.valid and not t.claimed))
        elif order.status == OrderStatus.NEEDS_REFUND:  # paid after its seats were gone: no tickets, all back
            refundable = self._left(order)
        return RefundView(order, tickets, refundable, order.unassigned_amount, order.refund_list)

    # ---- refunds from the chat -----------------------------------------------------------------------------

    async def refund(self, order_id: str, ticket_codes: Sequence[str] | None, *, by: AccountId, reason: str,
                     confirm_checked_in: bool = False) -> RefundDone:
        """Refund these tickets (None: every valid ticket) through Midtrans; void them when it accepts.

        Raises RefundRefused; a refusal changes nothing (MIDTRANS_UNAVAILABLE leaves the refund `requested`,
        its tickets valid: asking again reuses its refund_key)."""
        order = await self._order_for(order_id, by)
        if order.status not in REFUNDABLE:
            raise RefundRefused(RefundRefusal.NOT_PAID, status=order.status.value)
        tickets = {t.code: t for t in self._tickets(order, await self._store.tickets.for_order(order.id))}
        whole_without_tickets = order.status == OrderStatus.NEEDS_REFUND
        if whole_without_tickets:
            if ticket_codes:
                raise RefundRefused(RefundRefusal.TICKET_NOT_IN_ORDER, code=ticket_codes[0])
            chosen = []
        elif ticket_codes is None:
            chosen = [t for t in tickets.values() if t.valid and not t.claimed]
            if not chosen:
                raise RefundRefused(RefundRefusal.NOTHING_TO_REFUND)
        else:
            chosen = []
            for typed in dict.fromkeys(ticket_codes):
                code = normalize_code(typed) or typed
                ticket = tickets.get(code)
                if ticket is None:
                    raise RefundRefused(RefundRefusal.TICKET_NOT_IN_ORDER, code=typed)
                chosen.append(ticket)
            if not chosen:
                raise RefundRefused(RefundRefusal.NOTHING_TO_REFUND)
        codes = sorted(t.code for t in chosen)
        key = refund_key_for(order.id, codes)
        existing = order.refunds.get(key)
        if existing is not None and existing.status == RefundState.DONE:
            return RefundDone(order, existing, [], order.status == OrderStatus.REFUNDED, reused=True)
        if existing is None:
            for ticket in chosen:
                if not ticket.valid:
                    raise RefundRefused(RefundRefusal.TICKET_VOID, code=ticket.code)
                if ticket.claimed:
                    raise RefundRefused(RefundRefusal.TICKET_BEING_REFUNDED, code=ticket.code)
        checked_in = [t.code for t in chosen if t.checked_in]
        if checked_in and not confirm_checked_in:
            raise RefundRefused(RefundRefusal.CHECKED_IN_NEEDS_CONFIRM, codes=checked_in)

        record = existing
        if record is None:
            wanted = self._left(order) if whole_without_tickets else sum(t.price for t in chosen)
            amount = min(wanted, self._left(order))
            if amount <= 0:
                raise RefundRefused(RefundRefusal.NOTHING_TO_REFUND)
            record = RefundRecord(id=key, refund_key=key, amount=amount, tickets=codes,
                                  ticket_amount=sum(t.price for t in chosen), source=RefundSource.KARCIS,
                                  by=by, reason=reason.strip()[:REASON_MAX], at=self._clock(),
                                  status=RefundState.REQUESTED)
            started = await self._store.orders.change_if(
                order.id, {"status": order.status.value, f"refunds.{key}": {"$exists": False},
                           **self._store.orders.unclaimed(codes)},
                set_fields={f"refunds.{key}": record.model_dump(mode="python")}, claim=codes,
            )
            if started is None:  # a racing refund (or a double tap) got there first: let it decide
                return await self._after_race(order.id, key, codes)
        midtrans_id = order.payment.get("midtrans_order_id") or order.id
        try:
            try:
                await self._gateway.refund(
                    midtrans_id, refund_key=key, amount=record.amount, reason=record.reason or "refund",
                    direct=order.payment.get("payment_type") in DIRECT_REFUND_TYPES, budget=MIDTRANS_REFUND_BUDGET)
            except MidtransRefused as exc:
                # 406 "Duplicate refund ID": Midtrans already made this refund (an earlier answer was lost)
                if exc.status != 406 or not await self._midtrans_has(midtrans_id, key):
                    raise
        except MidtransRefused as exc:
            await self._store.orders.change_if(
                order.id, {f"refunds.{key}.status": RefundState.REQUESTED.value},
                unset=[f"refunds.{key}"], unclaim=codes)
            log.warning("Midtrans refused refund %s of order %s: %s", key, order.id, exc)
            raise RefundRefused(RefundRefusal.MIDTRANS_REFUSED, status=exc.status,
                                message="; ".join(exc.messages)[:300]) from None
        except MidtransUnavailable:
            log.warning("Midtrans unreachable for refund %s of order %s; it stays requested", key, order.id)
            # the polling job asks the status API soon: a refund Midtrans did make is finished from its list
            await self._store.orders.set_poll(order.id, self._clock() + REFUND_POLL_AFTER)
            raise RefundRefused(RefundRefusal.MIDTRANS_UNAVAILABLE) from None
        done = await self._complete(order.id, key)
        if done is None:  # Midtrans's refund notification completed it while we waited for the answer
            return await self._after_race(order.id, key, codes, ours=True)
        return done

    async def _midtrans_has(self, midtrans_id: str, key: str) -> bool:
        """Whether Midtrans's status lists a refund with this refund_key (MidtransUnavailable if it cannot say)."""
        status = await self._gateway.status(midtrans_id, budget=MIDTRANS_REFUND_BUDGET)
        refunds = (status or {}).get("refunds") or []
        return any(isinstance(r, dict) and r.get("refund_key") == key for r in refunds)

    async def _after_race(self, order_id: str, key: str, codes: list[str], *, ours: bool = False) -> RefundDone:
        """`ours`: this call asked Midtrans, and a notification finished the bookkeeping first."""
        order = await self._store.orders.get(order_id)
        assert order is not None
        record = order.refunds.get(key)
        if record is not None and record.status == RefundState.DONE:
            return RefundDone(order, record, list(record.tickets) if ours else [],
                              order.status == OrderStatus.REFUNDED, reused=not ours)
        if record is not None:
            raise RefundRefused(RefundRefusal.TICKET_BEING_REFUNDED, code=codes[0] if codes else None)
        if order.status not in REFUNDABLE:
            raise RefundRefused(RefundRefusal.NOT_PAID, status=order.status.value)
        claimed = [c for c in codes if c in order.refund_claims]
        raise RefundRefused(RefundRefusal.TICKET_BEING_REFUNDED, code=(claimed or codes)[0])

    async def _complete(self, order_id: str, key: str) -> RefundDone | None:
        """Midtrans accepted refund `key`: mark it done, void its tickets, return their seats, tell the buyer.
        None if it was not `requested` any more."""
        order = await self._store.orders.get(order_id)
        if order is None or key not in order.refunds or order.refunds[key].status != RefundState.REQUESTED:
            return None
        record = order.refunds[key]
        now = self._clock()
        tickets = {t.id: t for t in await self._store.tickets.for_order(order.id)}
        still_valid = [c for c, t in tickets.items() if t.status == TicketStatus.VALID and c not in record.tickets]
        fully = order.refunded_amount + record.amount >= order.total or not still_valid
        seats_sold = order.status == OrderStatus.PAID  # a needs_refund order holds no seats and has no tickets
        per_tier = Counter(tickets[c].tier for c in record.tickets if c in tickets)
        prices = {line.tier: line.price for line in order.lines}
        refunded_total = order.refunded_amount + record.amount
        fields: dict[str, Any] = {f"refunds.{key}.status": RefundState.DONE.value, "updated_at": now}
        push: dict[str, list[Any]] = {}
        if fully:
            fields.update(status=OrderStatus.REFUNDED.value,
                          **owe(now, Message.REFUNDED, detail={"amount": refunded_total, "refund_id": key}))
            push["history"] = [StatusChange(status=OrderStatus.REFUNDED, at=now,
                                            note=f"refunded from the chat ({key})").model_dump(mode="python")]
        else:
            fields.update(owe(now, Message.PARTIAL_REFUND, detail={
                "refund_id": key, "amount": record.amount, "tickets": record.tickets,
                "refunded_total": refunded_total}))
            push["returned"] = [ReturnedSeats(tier=t, qty=n, price=prices.get(t, 0), refund_id=key)
                                .model_dump(mode="python") for t, n in sorted(per_tier.items())]
        changed = await self._store.orders.change_if(
            order.id, {f"refunds.{key}.status": RefundState.REQUESTED.value, "status": order.status.value},
            set_fields=fields, inc={"refunded_amount": record.amount}, push=push)
        if changed is None:
            return None
        if not seats_sold:
            pass  # the money of a needs_refund order went back: nothing to void, no seat to return
        elif fully:
            await self._void_rest(order, VoidReason.REFUNDED, now)
        else:
            await self._store.tickets.void_codes(order.id, record.tickets, reason=VoidReason.REFUNDED, at=now)
            await self._return_seats(order, per_tier)
        log.info("order %s: refund %s of %d done (%s)", order.id, key, record.amount,
                 "all refunded" if fully else f"{len(record.tickets)} ticket(s) void")
        return RefundDone(changed, changed.refunds[key], list(record.tickets), fully)

    # ---- refunds Midtrans reported without tickets ----------------------------------------------------------

    async def assign(self, order_id: str, ticket_code: str, *, by: AccountId) -> RefundView:
        """Void one ticket against the oldest refund Midtrans reported without tickets (admins only).

        Raises RefundRefused(NOT_FOUND | NOT_ALLOWED | NOTHING_UNASSIGNED | TICKET_NOT_IN_ORDER | TICKET_VOID |
        TICKET_BEING_REFUNDED)."""
        order = await self._order_for(order_id, by, admins_only=True)
        waiting = [r for r in order.refund_list if r.status == RefundState.UNASSIGNED]
        if order.status != OrderStatus.PAID or not waiting:
            raise RefundRefused(RefundRefusal.NOTHING_UNASSIGNED)
        code = normalize_code(ticket_code) or ticket_code
        ticket = await self._store.tickets.get(code)
        if ticket is None or ticket.order_id != order.id:
            raise RefundRefused(RefundRefusal.TICKET_NOT_IN_ORDER, code=ticket_code)
        if ticket.status != TicketStatus.VALID:
            raise RefundRefused(RefundRefusal.TICKET_VOID, code=code)
        if code in order.refund_claims:
            raise RefundRefused(RefundRefusal.TICKET_BEING_REFUNDED, code=code)
        record = waiting[0]
        price = next((line.price for line in order.lines if line.tier == ticket.tier), 0)
        now = self._clock()
        covered = record.ticket_amount + price >= record.amount
        fields: dict[str, Any] = {f"refunds.{record.id}.ticket_amount": record.ticket_amount + price,
                                  "updated_at": now}
        if covered:
            fields[f"refunds.{record.id}.status"] = RefundState.DONE.value
            fields.update(owe(now, Message.PARTIAL_REFUND, detail={
                "refund_id": record.id, "amount": record.amount, "tickets": [*record.tickets, code],
                "refunded_total": order.refunded_amount}))
        changed = await self._store.orders.change_if(
            order.id, {"status": OrderStatus.PAID.value, f"refunds.{record.id}.status": RefundState.UNASSIGNED.value,
                       f"refunds.{record.id}.ticket_amount": record.ticket_amount,
                       **self._store.orders.unclaimed([code])},
            set_fields=fields, claim=[code],
            push={f"refunds.{record.id}.tickets": [code],
                  "returned": [ReturnedSeats(tier=ticket.tier, qty=1, price=price, refund_id=record.id)
                               .model_dump(mode="python")]})
        if changed is None:  # another admin's tap changed it first: show what is there now
            return await self.view(order.id, by=by)
        await self._store.tickets.void_codes(order.id, [code], reason=VoidReason.REFUNDED, at=now)
        await self._return_seats(order, Counter({ticket.tier: 1}))
        return await self.view(order.id, by=by)

    async def apply_report(self, order: OrderDoc, status: dict[str, Any], *,
                           set_fields: dict[str, Any]) -> AfterSale:
        """Apply a confirmed Midtrans status of `refund`, `partial_refund` or `partial_chargeback`."""
        transaction_status = str(status.get("transaction_status"))
        kind = "chargeback" if "chargeback" in transaction_status else "refund"
        entries = [e for e in status.get("refunds") or [] if isinstance(e, dict)]
        by_key = {r.refund_key: r for r in order.refunds.values() if r.refund_key}
        result = AfterSale.NOTHING
        for entry in entries[:50]:  # refunds Karcis started: finish them (a notification may beat our answer)
            ours = by_key.get(str(entry.get("refund_key") or ""))
            if ours is not None and ours.status == RefundState.REQUESTED and (
                    done := await self._complete(order.id, ours.id)):
                result = AfterSale.REFUNDED if done.fully_refunded else AfterSale.PARTIAL_REFUND
        if result is not AfterSale.NOTHING:
            order = await self._store.orders.get(order.id) or order
        if order.status == OrderStatus.NEEDS_REFUND and transaction_status == "refund":
            now = self._clock()
            done = await self._store.orders.transition(
                order.id, OrderStatus.NEEDS_REFUND, OrderStatus.REFUNDED, at=now, note="Midtrans refund",
                set_fields={**set_fields, "refunded_amount": order.total,
                            **owe(now, Message.REFUNDED, detail={"amount": order.total})})
            return AfterSale.REFUNDED if done else AfterSale.NOTHING
        if order.status != OrderStatus.PAID:
            return result
        if not entries and _rupiah(status.get("refund_amount")) > order.refunded_amount:
            entries = [{"refund_amount": _rupiah(status.get("refund_amount")) - order.refunded_amount,
                        "refund_key": f"total-{_rupiah(status.get('refund_amount'))}"}]
        fresh = [e for e in entries if str(e.get("refund_key") or "") not in by_key
                 and _record_id_for_report(e) not in order.refunds]
        if not fresh and transaction_status == "partial_chargeback":
            # Chargebacks share the `refunds` array (its entries carry `refund_chargeback_id`); a body that names
            # no amount still tells the admins, once per transaction status change, to look in the dashboard.
            now = self._clock()
            told = await self._store.orders.update_fields_if(
                order.id, {"status": OrderStatus.PAID.value, "payment.chargeback_reported": None},
                {**set_fields, "payment.chargeback_reported": now,
                 **owe(now, Message.REFUND_UNASSIGNED, detail={"amount": None, "kind": kind,
                                                               "refunded_total": order.refunded_amount})})
            return AfterSale.UNASSIGNED if told else AfterSale.NOTHING
        for entry in entries[:50]:
            key = str(entry.get("refund_key") or "")
            if key and key in by_key:
                continue
            record_id = _record_id_for_report(entry)
            current = await self._store.orders.get(order.id)
            if current is None or record_id in current.refunds or current.status != OrderStatus.PAID:
                continue
            amount = _rupiah(entry.get("refund_amount"))
            if amount <= 0:
                continue
            now = self._clock()
            whole = transaction_status == "refund"  # everything goes back: no tickets to choose
            record = RefundRecord(id=record_id, refund_key=key or None, amount=amount, source=RefundSource.MIDTRANS,
                                  kind=kind, reason=str(entry.get("reason") or "")[:REASON_MAX], at=now,
                                  status=RefundState.DONE if whole else RefundState.UNASSIGNED)
            fields = {f"refunds.{record_id}": record.model_dump(mode="python"), "updated_at": now, **set_fields}
            if not whole:
                fields.update(owe(now, Message.REFUND_UNASSIGNED, detail={
                    "refund_id": record_id, "amount": current.unassigned_amount + amount,
                    "refunded_total": current.refunded_amount + amount, "kind": kind}))
            added = await self._store.orders.change_if(
                order.id, {"status": OrderStatus.PAID.value, f"refunds.{record_id}": {"$exists": False}},
                set_fields=fields, inc={"refunded_amount": amount})
            if added is not None and not whole:
                result = AfterSale.UNASSIGNED
                log.warning("order %s: Midtrans reports a %s of %d that Karcis did not start; admins must "
                            "choose its tickets", order.id, kind, amount)
        current = await self._store.orders.get(order.id)
        if (current is not None and transaction_status == "refund" and current.status == OrderStatus.PAID
                and await self._refund_whole(current, set_fields)):
            return AfterSale.REFUNDED
        return result

    async def _refund_whole(self, order: OrderDoc, set_fields: dict[str, Any]) -> bool:
        """Midtrans refunded everything: the order is refunded, every ticket void, every seat back."""
        now = self._clock()
        settled = {f"refunds.{r.id}.status": RefundState.DONE.value for r in order.refunds.values()
                   if r.status == RefundState.UNASSIGNED}
        done = await self._store.orders.transition(
            order.id, OrderStatus.PAID, OrderStatus.REFUNDED, at=now, note="Midtrans refund",
            set_fields={**set_fields, **settled, "refunded_amount": order.total,
                        **owe(now, Message.REFUNDED, detail={"amount": order.total})})
        if done is None:
            return False
        if settled:
            await self._store.orders.change_if(order.id, {}, unset=[f"outbox.{Message.REFUND_UNASSIGNED.value}"])
        await self._void_rest(order, VoidReason.REFUNDED, now)
        return True

    # ---- money taken back after the sale ----------------------------------------------------------------------

    async def reverse(self, order: OrderDoc, *, transaction_status: str, set_fields: dict[str, Any]) -> bool:
        """A payment reversal, a cancel after payment or a chargeback: the order is `reversed`, every ticket
        void, every seat back; the buyer, the organisers and the admins are told (with how many tickets were
        already checked in). False if it was not paid (or needing a refund) any more."""
        now = self._clock()
        tickets = await self._store.tickets.for_order(order.id)
        valid = [t for t in tickets if t.status == TicketStatus.VALID]
        detail = {"status": transaction_status, "tickets": [t.id for t in valid],
                  "checked_in": sum(1 for t in valid if t.checked_in_at is not None),
                  "amount": order.total - order.refunded_amount}
        done = await self._store.orders.transition(
            order.id, [OrderStatus.PAID, OrderStatus.NEEDS_REFUND], OrderStatus.REVERSED, at=now,
            note=f"Midtrans {transaction_status} after payment",
            set_fields={**set_fields, **owe(now, Message.REVERSED, detail=detail)})
        if done is None:
            return False
        if order.status == OrderStatus.PAID:
            await self._void_rest(order, VoidReason.REVERSED, now)
        log.warning("order %s: Midtrans %s after payment; %d ticket(s) void (%d checked in)", order.id,
                    transaction_status, len(valid), detail["checked_in"])
        return True

    # ---- stock --------------------------------------------------------------------------------------------------

    async def _void_rest(self, order: OrderDoc, reason: VoidReason, now: datetime) -> None:
        """Void every valid ticket and return every seat the order still holds as sold (lines − returned)."""
        await self._store.tickets.void_order(order.id, reason=reason, at=now)
        remaining = Counter({line.tier: line.qty for line in order.lines})
        for returned in order.returned:
            remaining[returned.tier] -= returned.qty
        await self._return_seats(order, +remaining)

    async def _return_seats(self, order: OrderDoc, per_tier: Counter[str]) -> None:
        """sold → available, one conditional `$inc` per tier (docs/stock-and-orders.md)."""
        for tier, qty in sorted(per_tier.items()):
            if qty > 0 and not await self._store.inventory.unsell(tier_key(order.event_id, tier), qty):
                log.error("stock drift on %s:%s returning %d seat(s) of order %s; reconcile() will repair it",
                          order.event_id, tier, qty, order.id)
