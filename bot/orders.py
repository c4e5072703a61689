"""The order lifecycle: reserving seats, and every move out of `pending` (paid, cancelled, expired, failed),
late payments, refunds. See docs/stock-and-orders.md for why no seat is ever sold twice.

The rule every method follows: first the order's status changes in one conditional update on (order id,
expected status), so of several racers exactly one wins; then only the winner moves stock.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.accounts import AccountId, Owners, only_itself
from bot.catalog import Catalog, SalesState, is_public, sales_state
from bot.clock import Clock, utcnow
from bot.errors import OrderNotFound, OrderNotPending, RefusalReason, ReservationRefused
from bot.outbox import Message, owe
from bot.tickets import ALPHABET, TicketService
from storage.documents import Buyer, OrderDoc, OrderLine, OrderStatus, TicketDoc, tier_key
from storage.inventory import late_attempt
from storage.store import Store
from storage.users import SlotRefusal

log = logging.getLogger(__name__)

RESERVATIONS_PER_MINUTE = 5
MAX_PENDING_ORDERS = 3
EXPIRY_BATCH = 500
EXPIRY_CHECKS_AT_ONCE = 8  # status API calls the sweep makes at once (orders with a Snap link)

# Orders whose seats went back to stock; money arriving for them is a late payment.
RELEASED = (OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.FAILED)

# Asked before the sweep expires an order (PaymentService.confirm_before_expiry): "expire", "unconfirmed"
# (expire and tell the admins Midtrans could not be asked), "keep" (ask again next sweep), "handled" (the
# answer moved the order). `reachable` is False once Midtrans failed in this sweep.
ExpiryCheck = Callable[..., Awaitable[str]]


def new_order_id(now_year_month: str) -> str:
    """`KRC-2611-7QF9MZTXW3`: short, unique (50 random bits), within Midtrans's order_id rules
    (≤ 50 chars of `A-Za-z0-9-_~.`)."""
    return f"KRC-{now_year_month}-" + "".join(secrets.choice(ALPHABET) for _ in range(10))


class PayResult(StrEnum):
    PAID = "paid"                    # this call paid it
    PAID_LATE = "paid_late"          # its hold had ended; the seats were free, so they were held again
    ALREADY_PAID = "already_paid"    # a duplicate: nothing changed
    NEEDS_REFUND = "needs_refund"    # money arrived but the seats are gone: an admin must refund
    NOT_PAYABLE = "not_payable"      # refunded or already flagged for refund: nothing changed


@dataclass(frozen=True)
class PayOutcome:
    result: PayResult
    order: OrderDoc
    tickets: list[TicketDoc] = field(default_factory=list)
    short_tier: str | None = None


@dataclass
class EventExpiry:
    orders: int = 0
    seats: int = 0


@dataclass
class ExpiryReport:
    orders: list[OrderDoc] = field(default_factory=list)
    seats: int = 0
    per_event: dict[str, EventExpiry] = field(default_factory=dict)

    def add(self, order: OrderDoc) -> None:
        self.orders.append(order)
        self.seats += order.seats
        event = self.per_event.setdefault(order.event_id, EventExpiry())
        event.orders += 1
        event.seats += order.seats


async def return_seats(store: Store, order: OrderDoc, per_tier: Mapping[str, int]) -> None:
    """sold → available for seats of `order` (a snapshot from before this refund), at most `per_tier[tier]` less
    what earlier partial refunds returned, each counted once on the tier (`returned.<order>`, docs/faults.md)."""
    before: dict[str, int] = {}
    for seats in order.returned:
        before[seats.tier] = before.get(seats.tier, 0) + seats.qty
    lines = {line.tier: line.qty for line in order.lines}
    for tier, qty in sorted(per_tier.items()):
        qty = min(qty, lines.get(tier, 0) - before.get(tier, 0))
        if qty > 0 and not await store.inventory.unsell(tier_key(order.event_id, tier), qty, order.id,
                                                        before=before.get(tier, 0)):
            log.info("order %s: %d seat(s) on %s:%s already returned", order.id, qty, order.event_id, tier)


class OrderService:
    def __init__(
        self, store: Store, catalog: Catalog, tickets: TicketService, *,
        reservation: timedelta = timedelta(minutes=30), clock: Clock = utcnow, owners: Owners = only_itself,
    ) -> None:
        self._store = store
        self._owners = owners  # every id a person's orders may be keyed by (bot/accounts.py)
        self._catalog = catalog
        self._tickets = tickets
        self._reservation = reservation
        self._clock = clock
        self.expiry_check: ExpiryCheck | None = None  # set by build_services (lost notifications, docs/money.md)
        self._seen_short: set[str] = set()  # tiers a hold found short in this process (see reserve)

    # ---- reading -------------------------------------------------------------------------------------------

    async def get(self, order_id: str) -> OrderDoc | None:
        return await self._store.orders.get(order_id)

    async def get_for_user(self, order_id: str, user_id: AccountId) -> OrderDoc:
        """The person's order (placed under their account id, or an address linked to it later)."""
        order = await self._store.orders.get(order_id)
        if order is None or order.user_id not in self._owners(user_id):
            raise OrderNotFound(order_id)
        return order

    async def pending_for_user(self, user_id: AccountId) -> list[OrderDoc]:
        return await self._store.orders.for_user(self._owners(user_id), [OrderStatus.PENDING])

    # ---- reserving -----------------------------------------------------------------------------------------

    async def reserve(self, user_id: AccountId, event_id: str, quantities: Mapping[str, int], buyer: Buyer, *,
                      address: str | None = None) -> OrderDoc:
        """Hold the seats and create a pending order (or, when it costs nothing, a paid one with tickets).
        `address`: the address the buyer ordered from (default: the account id, which is an address).

        Raises ReservationRefused with the reason; then nothing is held."""
        now = self._clock()
        listing = await self._catalog.definitions(event_id)  # names, prices, limits: stock is the hold's business
        if listing is None or not is_public(listing.event):  # a draft is no event to a buyer (bot/access.py)
            raise ReservationRefused(RefusalReason.UNKNOWN_EVENT)
        state = sales_state(listing.event, now)
        if state is SalesState.NOT_YET_OPEN:
            raise ReservationRefused(RefusalReason.SALES_NOT_OPEN)
        if state is not SalesState.OPEN:
            raise ReservationRefused(RefusalReason.SALES_CLOSED)
        wanted = {code: qty for code, qty in quantities.items() if qty != 0}
        if not wanted:
            raise ReservationRefused(RefusalReason.EMPTY_ORDER)
        lines = []
        for code in sorted(wanted):
            tier, qty = listing.tier(code), wanted[code]
            if tier is None:
                raise ReservationRefused(RefusalReason.UNKNOWN_TIER, tier=code)
            if qty < 0 or qty > tier.max_per_order:
                raise ReservationRefused(RefusalReason.OVER_MAX_PER_ORDER, tier=code, limit=tier.max_per_order)
            lines.append(OrderLine(tier=code, name=tier.name, price=tier.price, qty=qty))
        await self._refuse_if_seen_sold_out(user_id, event_id, lines)

        claim = secrets.token_hex(8)
        refusal = await self._store.users.claim_reservation_slot(  # also remembers the buyer's contact details
            user_id, now, per_minute=RESERVATIONS_PER_MINUTE, max_pending=MAX_PENDING_ORDERS, claim=claim,
            buyer=buyer,
        )
        if refusal is SlotRefusal.RATE_LIMITED:
            raise ReservationRefused(RefusalReason.RATE_LIMITED, limit=RESERVATIONS_PER_MINUTE)
        if refusal is SlotRefusal.TOO_MANY_PENDING:
            raise ReservationRefused(RefusalReason.TOO_MANY_PENDING, limit=MAX_PENDING_ORDERS)

        # The order is written before any stock moves, and each hold names it (docs/faults.md): a hold never
        # exists without its order, so reconcile can tell a reservation still in flight from a crash.
        order = OrderDoc(
            id=new_order_id(now.strftime("%y%m")), user_id=user_id, event_id=event_id, lines=lines,
            seats=sum(line.qty for line in lines), total=sum(line.amount for line in lines), buyer=buyer,
            status=OrderStatus.PENDING, created_at=now, expires_at=now + self._reservation, updated_at=now,
            buyer_address=address or user_id,
        )
        try:
            await self._store.orders.insert(order)
        except BaseException:
            await self._store.users.return_reservation_slot(user_id, claim)
            raise
        held: list[OrderLine] = []
        try:
            for line in lines:
                if not await self._store.inventory.hold(tier_key(event_id, line.tier), line.qty, order.id):
                    self._seen_short.add(tier_key(event_id, line.tier))
                    tier = await self._store.inventory.get(tier_key(event_id, line.tier))
                    raise ReservationRefused(RefusalReason.SOLD_OUT, tier=line.tier,
                                             available=tier.available if tier else 0)
                held.append(line)
        except BaseException:
            await self._undo_reservation(order, held, claim)
            raise
        if order.total == 0:
            return (await self.pay(order.id, note="free order")).order
        return order

    async def _undo_reservation(self, order: OrderDoc, held: list[OrderLine], claim: str) -> None:
        """A refused reservation: give back the seats it held, then forget the order (a crash half-way leaves a
        pending order the expiry sweep releases) and the buyer's slot."""
        for line in held:
            await self._store.inventory.release(tier_key(order.event_id, line.tier), line.qty, order.id)
        await self._store.orders.discard_unheld(order.id)
        await self._store.users.return_reservation_slot(order.user_id, claim)

    async def _refuse_if_seen_sold_out(self, user_id: AccountId, event_id: str, lines: list[OrderLine]) -> None:
        """In a sell-out most attempts find the tier empty. Once this process has seen a hold refused on one of
        the order's tiers, the attempt first reads the event's stock (one query) and, if it cannot fill the order,
        is refused before claiming anything (naming the first short tier), for a buyer clearly within the
        per-user limits (so that the refusal a buyer hears is the one the limits would give first). The refusal
        always rests on that fresh read; `_seen_short` only says when the read is worth making (a read that finds
        seats again forgets the tier). The conditional hold still decides every race."""
        if not any(tier_key(event_id, line.tier) in self._seen_short for line in lines):
            return
        stock = {tier.code: tier.available for tier in await self._store.inventory.for_event(event_id)}
        for line in lines:
            if stock.get(line.tier, 0) >= line.qty:
                self._seen_short.discard(tier_key(event_id, line.tier))
        short = next((line for line in lines if stock.get(line.tier, 0) < line.qty), None)
        if short is None:
            return
        user = await self._store.users.get(user_id)
        if user is None or (user.pending_orders < MAX_PENDING_ORDERS
                            and len(user.recent_reservations) < RESERVATIONS_PER_MINUTE):
            raise ReservationRefused(RefusalReason.SOLD_OUT, tier=short.tier, available=stock.get(short.tier, 0))

    # ---- leaving pending -----------------------------------------------------------------------------------

    async def _leave_pending(
        self, order_id: str, new: OrderStatus, note: str, *,
        extra_filter: dict[str, Any] | None = None, set_fields: dict[str, Any] | None = None,
    ) -> OrderDoc | None:
        """Move a pending order to `new`; if this call won, move its stock and free the buyer's pending slot."""
        order = await self._store.orders.transition(
            order_id, OrderStatus.PENDING, new, at=self._clock(), note=note,
            extra_filter=extra_filter, set_fields=set_fields,
        )
        if order is None:
            return None
        move = self._store.inventory.commit if new == OrderStatus.PAID else self._store.inventory.release
        for line in order.lines:
            if not await move(tier_key(order.event_id, line.tier), line.qty, order.id):
                # its hold was already moved (by reconcile finishing this very change)
                log.info("order %s: stock on %s:%s already moved to %s", order.id, order.event_id, line.tier, new)
        await self._store.users.pending_order_closed(order.user_id)
        return order

    async def pay(self, order_id: str, *, note: str = "", set_fields: dict[str, Any] | None = None) -> PayOutcome:
        """Money has arrived for the order: sell its seats and issue its tickets, exactly once.

        A payment for an order whose seats were released (expired, cancelled, failed) holds them again if they
        are still free; if not, the order needs a refund. A duplicate changes nothing."""
        now = self._clock()
        fields = {"paid_at": now, **(set_fields or {})}
        order = await self._leave_pending(order_id, OrderStatus.PAID, note or "payment received",
                                          set_fields={**fields, **owe(now, Message.PAID, Message.SALE)})
        if order is not None:
            return PayOutcome(PayResult.PAID, order, await self._tickets.issue(order, fresh=True))
        current = await self._store.orders.get(order_id)
        if current is None:
            raise OrderNotFound(order_id)
        if current.status == OrderStatus.PAID:
            return PayOutcome(PayResult.ALREADY_PAID, current, await self._tickets.issue(current))
        if current.status in RELEASED:
            return await self._pay_released(current, set_fields=fields)
        return PayOutcome(PayResult.NOT_PAYABLE, current)

    async def _pay_released(self, order: OrderDoc, *, set_fields: dict[str, Any]) -> PayOutcome:
        inventory = self._store.inventory
        taken: list[OrderLine] = []
        short: str | None = None
        now = self._clock()
        attempt = late_attempt(order.id, secrets.token_hex(4))
        for line in order.lines:
            if not await inventory.sell_directly(tier_key(order.event_id, line.tier), line.qty, attempt, at=now):
                short = line.tier
                break
            taken.append(line)
        if short is None:
            paid = await self._store.orders.transition(
                order.id, order.status, OrderStatus.PAID, at=now,
                note=f"late payment after {order.status}: seats held again",
                set_fields={**set_fields, **owe(now, Message.PAID, Message.SALE)},
            )
            if paid is not None:
                for line in taken:
                    await inventory.settle_late(tier_key(order.event_id, line.tier), attempt)
                return PayOutcome(PayResult.PAID_LATE, paid, await self._tickets.issue(paid, fresh=True))
        for line in taken:  # the seats are gone, or another call moved the order first: give back what we took
            await inventory.unsell_late(tier_key(order.event_id, line.tier), line.qty, attempt)
        if short is not None:
            now = self._clock()
            flagged = await self._store.orders.transition(
                order.id, order.status, OrderStatus.NEEDS_REFUND, at=now,
                note=f"late payment after {order.status}, but tier {short} has no seats left",
                set_fields={**set_fields, **owe(now, Message.NEEDS_REFUND, detail={"tier": short})},
            )
            if flagged is not None:
                return PayOutcome(PayResult.NEEDS_REFUND, flagged, short_tier=short)
        return await self.pay(order.id, set_fields=set_fields)

    async def cancel(self, order_id: str, user_id: AccountId) -> OrderDoc:
        """The buyer gives the seats back. Raises OrderNotFound or OrderNotPending."""
        await self.get_for_user(order_id, user_id)
        order = await self._leave_pending(order_id, OrderStatus.CANCELLED, "cancelled by the buyer")
        if order is None:
            raise OrderNotPending(order_id, (await self.get_for_user(order_id, user_id)).status)
        return order

    async def fail(self, order_id: str, *, note: str, set_fields: dict[str, Any] | None = None) -> OrderDoc | None:
        """The payment failed (denied, cancelled or expired at the payment provider): release the seats.
        None if the order had already left pending."""
        fields = {**(set_fields or {}), **owe(self._clock(), Message.FAILED)}
        return await self._leave_pending(order_id, OrderStatus.FAILED, note, set_fields=fields)

    async def expire_due(self, now: datetime | None = None) -> ExpiryReport:
        """Expire every pending order whose hold has ended and release its seats. Safe to run from several
        processes at once (each order is expired by exactly one); the work follows the number of due orders."""
        now = now or self._clock()
        report = ExpiryReport()
        kept = 0
        reachable = True
        while True:
            due = await self._store.orders.due_for_expiry(now, EXPIRY_BATCH, skip=kept)
            for start in range(0, len(due), EXPIRY_CHECKS_AT_ONCE):
                chunk = due[start:start + EXPIRY_CHECKS_AT_ONCE]
                if self.expiry_check is None:
                    decisions = ["expire"] * len(chunk)
                elif len(chunk) == 1:  # no task for a single order: the sweep yields no more than before
                    decisions = [await self.expiry_check(chunk[0], now, reachable=reachable)]
                else:  # a few status calls at a time: a sell-out's abandoned links do not stall the sweep
                    decisions = list(await asyncio.gather(
                        *(self.expiry_check(c, now, reachable=reachable) for c in chunk)))
                for candidate, decision in zip(chunk, decisions, strict=True):
                    if decision in ("keep", "unconfirmed"):
                        reachable = False  # Midtrans failed: the rest of this sweep does not call it
                    if decision == "keep":
                        kept += 1
                        continue
                    if decision == "handled":
                        continue
                    messages = [Message.EXPIRED]
                    if decision == "unconfirmed":
                        messages.append(Message.EXPIRED_UNCONFIRMED)
                    order = await self._leave_pending(
                        candidate.id, OrderStatus.EXPIRED, "reservation time ran out",
                        extra_filter={"expires_at": {"$lte": now}},
                        set_fields=owe(now, *messages, detail={"since": candidate.expires_at}
                                       if len(messages) > 1 else None),
                    )
                    if order is not None:
                        report.add(order)
            if len(due) < EXPIRY_BATCH:
                return report

    async def expire_order(self, order_id: str, *, note: str, set_fields: dict[str, Any] | None = None,
                           ) -> OrderDoc | None:
        """Midtrans reports the payment expired: a pending order is expired now (Message.EXPIRED, not FAILED).
        None if it had already left pending."""
        fields = {**(set_fields or {}), **owe(self._clock(), Message.EXPIRED)}
        return await self._leave_pending(order_id, OrderStatus.EXPIRED, note, set_fields=fields)

    async def refund(self, order_id: str, *, note: str = "refunded",
                     set_fields: dict[str, Any] | None = None) -> OrderDoc | None:
        """The money went back: a paid order's seats return to stock and its tickets become void.
        An order that was waiting for a refund just records it. None if the order was neither."""
        now = self._clock()
        fields = {**(set_fields or {}), **owe(now, Message.REFUNDED)}
        order = await self._store.orders.transition(
            order_id, OrderStatus.PAID, OrderStatus.REFUNDED, at=now, note=note, set_fields=fields,
        )
        if order is not None:
            await return_seats(self._store, order, {line.tier: line.qty for line in order.lines})
            await self._store.tickets.void_order(order.id)
            return order
        return await self._store.orders.transition(
            order_id, OrderStatus.NEEDS_REFUND, OrderStatus.REFUNDED, at=now, note=note, set_fields=fields,
        )
