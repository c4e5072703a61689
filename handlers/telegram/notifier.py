"""The Telegram side of `bot.notifications`: what an order owes (bot.outbox.Message) becomes messages to the
buyer, the event's organisers or the admins, each in the recipient's language (kept on their user document).

A sale is not a message per organiser: it goes into each organiser's digest (bot/digest.py), which
`send_digest` renders. The buyer's receipt rides in the caption of their first ticket photo.

`Forbidden` (the user blocked the bot, or never started it) raises `Undeliverable`: the delivery service stops
retrying and the tickets stay retrievable with /mytickets. `RetryAfter` is waited out and the call tried once
more; any other error propagates, and the delivery service records it and retries later.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardMarkup
from telegram import Message as TgMessage
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.warnings import PTBDeprecationWarning

from bot.accounts import AccountId, telegram_id
from bot.digest import Digest
from bot.notifications import Notice, Undeliverable
from bot.outbox import Message
from bot.profiles import STAFF_LANGUAGE
from bot.refunds import RefundTicket
from bot.services import Services
from handlers.formatting import CAPTION_LIMIT, TEXT_LIMIT, local_when, visible_length, zone_of
from handlers.messages import Html, label, lang_of, t
from handlers.telegram.buyer import CART, TICKETS, refresh_offered
from handlers.telegram.keyboards import button, encode_cart, fits, markup, url_button
from handlers.telegram.order_messages import offered
from handlers.telegram.rate_limit import MAX_WAIT_SECONDS as LIMITER_MAX_WAIT
from handlers.telegram.rate_limit import Priority, WaitCapped, sending_as
from handlers.telegram.refunds import OPEN as REFUND_OPEN
from handlers.telegram.refunds import codes_text, unassigned_keyboard, unassigned_text
from handlers.telegram.shared import NO_PREVIEW, send, send_ticket, telegram_chat
from handlers.views import lines_text, payment_actions, payment_instructions, price, sale_digest, ticket_caption
from storage.documents import EventDoc, OrderDoc, TicketDoc, TicketStatus, VoidReason

log = logging.getLogger(__name__)

T = TypeVar("T")
Rendered = tuple[Html, InlineKeyboardMarkup | None]
# A longer flood wait is not slept through: the delivery job retries later. The same cap as the rate limiter's
# (handlers/telegram/rate_limit.py), which raises RetryAfter instead of waiting past it.
MAX_WAIT_SECONDS = LIMITER_MAX_WAIT


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        delay = exc.retry_after
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)


def delivered(notice: Notice, part: str) -> bool:
    """Whether the part was sent, also when an old process recorded it by Telegram id (`user:123` for
    `user:telegram:123`; storage/migrate.py rewrites those it finds at start)."""
    if part in notice.delivered:
        return True
    kind, _, who = part.partition(":")
    old = telegram_id(who) if who else None
    return old is not None and f"{kind}:{old}" in notice.delivered


# What goes first when the bot is busy (handlers/telegram/rate_limit.py): a reply to someone waiting (set by the update
# processor), then what buyers are owed, then notices to staff.
PRIORITIES = {Message.SALE: Priority.STAFF, Message.AMOUNT_MISMATCH: Priority.STAFF,
              Message.PAYMENT_REVIEW: Priority.STAFF, Message.REFUND_UNASSIGNED: Priority.STAFF,
              Message.EXPIRED_UNCONFIRMED: Priority.STAFF}


# The notices of an order leaving pending (or a paid one leaving paid): the messages that offered actions on it are
# edited to show its new state (handlers/telegram/buyer.py refresh_offered, at the rate limiter's lowest priority).
SETTLING = frozenset({Message.PAID, Message.FAILED, Message.EXPIRED, Message.REFUNDED, Message.NEEDS_REFUND,
                      Message.REVERSED})


class TelegramNotifier:
    """Implements `bot.notifications.Notifier` over a PTB `Bot`."""

    def __init__(self, bot: Bot, services: Services, *, max_wait: float = MAX_WAIT_SECONDS) -> None:
        self._bot = bot
        self._services = services
        self._max_wait = max_wait

    async def notify(self, notice: Notice) -> None:
        handlers: dict[Message, Callable[[Notice], Awaitable[None]]] = {
            Message.PAID: self._paid,
            Message.SALE: self._sale,
            Message.PAYMENT_PENDING: self._payment_pending,
            Message.FAILED: self._released,
            Message.EXPIRED: self._released,
            Message.REFUNDED: self._refunded,
            Message.NEEDS_REFUND: self._needs_refund,
            Message.AMOUNT_MISMATCH: self._amount_mismatch,
            Message.PAYMENT_REVIEW: self._payment_review,
            Message.REVERSED: self._reversed,
            Message.PARTIAL_REFUND: self._partial_refund,
            Message.REFUND_UNASSIGNED: self._refund_unassigned,
            Message.EXPIRED_UNCONFIRMED: self._expired_unconfirmed,
        }
        with sending_as(PRIORITIES.get(notice.message, Priority.BUYER)):
            await handlers[notice.message](notice)
        if notice.message in SETTLING:  # what it owed went out first; then the old buttons (docs/order-messages.md)
            await refresh_offered(self._bot, self._services, notice.order)

    # ---- sending -------------------------------------------------------------------------------------------

    async def _call(self, make: Callable[[], Awaitable[T]]) -> T:
        """One Bot API call: a flood wait is waited out and tried once more; a block is Undeliverable."""
        try:
            try:
                return await make()
            except RetryAfter as exc:
                wait = retry_seconds(exc)
                if wait > self._max_wait or isinstance(exc, WaitCapped):  # the rate limiter already waited
                    raise
                await asyncio.sleep(wait)
                return await make()
        except Forbidden as exc:
            raise Undeliverable(exc.message) from exc

    async def _lang(self, uid: AccountId) -> str:
        return lang_of(await self._services.profiles.language(uid))

    async def _staff_lang(self, uid: AccountId, event: EventDoc | None = None) -> str:
        """An organiser's or admin's language: their chat's, else the events file's for them (this event's
        first), else Indonesian; never English merely because they have not written yet (bot/profiles.py)."""
        profiles = self._services.profiles
        own = await profiles.language(uid)
        if own:
            return lang_of(own)
        return await profiles.file_language(uid, [event]) or STAFF_LANGUAGE

    def _chat(self, who: AccountId) -> int:
        """The Telegram chat of an account; Undeliverable if it has no Telegram address."""
        chat = telegram_chat(self._services, who)
        if chat is None:
            raise Undeliverable(f"{who} has no Telegram address")
        return chat

    def _buyer_chat(self, order: OrderDoc) -> int:
        """The chat the order was placed from (its buyer_address), else the buyer's account's Telegram chat."""
        placed = telegram_id(order.buyer_address) if order.buyer_address else None
        return placed if placed is not None else self._chat(order.user_id)

    async def _once(self, notice: Notice, part: str, make: Callable[[], Awaitable[object]]) -> None:
        """Send one part of a notice unless an earlier attempt already did; record it when sent."""
        if delivered(notice, part):
            return
        await self._call(make)
        await notice.sent(part)

    async def _to_buyer(self, notice: Notice, text: Html, keyboard: InlineKeyboardMarkup | None = None) -> None:
        await self._once(notice, "buyer", lambda: send(self._bot, self._buyer_chat(notice.order), text, keyboard))

    async def _to_staff(
        self, notice: Notice, recipients: Iterable[AccountId], render: Callable[[str], Html | Rendered], what: str,
    ) -> None:
        """Tell each recipient in their language (`render` gives the text, or the text and its buttons). One who
        blocked the bot is skipped; other failures are raised after everyone else was tried (a retry then tells
        only those not yet told)."""
        failure: Exception | None = None
        told = 0
        for uid in sorted(set(recipients)):
            rendered = render(await self._staff_lang(uid, notice.event))
            text, keyboard = rendered if isinstance(rendered, tuple) else (rendered, None)
            try:
                # awaited within this iteration, so the loop variables are the ones meant
                await self._once(notice, f"user:{uid}",
                                 lambda: send(self._bot, self._chat(uid), text, keyboard))  # noqa: B023
                told += 1
            except Undeliverable as exc:
                log.warning("%s: user %s cannot be reached (%s)", what, uid, exc)
            except Exception as exc:  # noqa: BLE001 - raised below, after the others were tried
                failure = failure or exc
        if failure is not None:
            raise failure
        if told == 0:
            log.warning("%s: nobody to tell (no reachable recipient)", what)

    # ---- the messages --------------------------------------------------------------------------------------

    def _title(self, notice: Notice) -> str:
        return notice.event.title if notice.event else notice.order.event_id

    async def _paid(self, notice: Notice) -> None:
        """One QR photo per ticket, the first captioned with the receipt (payment received, or a free order
        confirmed) and the My tickets button. A receipt too long for a caption (1024 characters), or one with no
        ticket to ride on yet, is sent as its own message first.

        Parts: `ticket:<id>` per photo. The receipt counts as delivered once `buyer` (its own message, also from
        before receipts rode in captions) or any ticket part is, since the first photo sent carries it."""
        order = notice.order
        lang = await self._lang(order.user_id)
        keyboard = markup([[button(label(lang, "btn.my_tickets"), TICKETS, "0")]])
        owed = [ticket for ticket in notice.tickets if f"ticket:{ticket.id}" not in notice.delivered]
        receipt_sent = "buyer" in notice.delivered or any(p.startswith("ticket:") for p in notice.delivered)
        lead: Html | None = None
        if not receipt_sent:
            values = {"order": order.id, "lines": lines_text(lang, order.lines),
                      "total": Html(price(lang, order.total))}
            lead = t(lang, "receipt.paid" if order.total else "receipt.free", **values)
            if not owed or visible_length(f"{lead}\n\n{ticket_caption(lang, owed[0], notice.event)}") > CAPTION_LIMIT:
                key = "notice.paid" if order.total else "notice.free"
                await self._to_buyer(notice, t(lang, key, title=self._title(notice), **values), keyboard)
                lead = None
        for ticket in owed:
            first, lead = lead, None
            # awaited right here, so the loop variables are the ones meant
            await self._once(notice, f"ticket:{ticket.id}", lambda: send_ticket(
                self._bot, self._buyer_chat(order), ticket, notice.event, lang, lead=first,  # noqa: B023
                markup=keyboard if first else None, links=self._services.links))  # noqa: B023

    async def _sale(self, notice: Notice) -> None:
        """Add the sale to each organiser's digest (stored before the part is recorded, so the SALE entry is
        marked sent only after every organiser's digest has it); the digest job sends it. An organiser told by
        a per-sale message before digests (`user:<id>` delivered) is not told again."""
        for uid in sorted(set(self._services.access.organisers(notice.event) if notice.event else [])):
            if delivered(notice, f"digest:{uid}") or delivered(notice, f"user:{uid}"):
                continue
            await self._services.digests.add_sale(uid, notice.order)
            await notice.sent(f"digest:{uid}")

    # ---- the organisers' sale digest (bot/digest.py) ---------------------------------------------------

    async def send_digest(self, digest: Digest, *, edit_message_id: int | None) -> int:
        """Edit the recent digest message to show `digest`, or send a new one when there is none, or it can no
        longer be edited (deleted, say). An edit that changes nothing means the message already shows it."""
        text = render_digest(await self._staff_lang(digest.recipient), digest)
        if edit_message_id is not None:
            try:
                await self._call(lambda: self._bot.edit_message_text(
                    text, chat_id=self._chat(digest.recipient), message_id=edit_message_id, parse_mode=ParseMode.HTML,
                    link_preview_options=NO_PREVIEW))
                return edit_message_id
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    return edit_message_id
                log.info("digest for %s: message %s cannot be edited (%s); sending a new one", digest.recipient,
                         edit_message_id, exc.message)
        sent = await self._call(lambda: send(self._bot, self._chat(digest.recipient), text))
        return sent.message_id

    async def _payment_pending(self, notice: Notice) -> None:
        """How to finish paying: virtual account number, bill key, payment code..."""
        lang = await self._lang(notice.order.user_id)
        instructions = notice.order.payment.get("instructions") or {}
        text, keyboard = (payment_instructions(lang, notice.order, instructions, zone=zone_of(notice.event)),
                          pending_keyboard(lang, notice.order, instructions))
        try:
            await self._instructions(notice, lang, text, keyboard)
        except BadRequest as exc:  # a button URL from Midtrans that Telegram refuses: the text still goes
            if keyboard is None:
                raise
            log.warning("order %s: Telegram refused the payment buttons (%s); sending the text alone",
                        notice.order.id, exc.message)
            await self._to_buyer(notice, text)

    async def _instructions(self, notice: Notice, lang: str, text: Html, keyboard: InlineKeyboardMarkup | None) -> None:
        """Send the payment instructions and record them as offering actions on the order (their buttons pay it),
        so that they are edited once it is paid or has failed (docs/order-messages.md)."""
        sent: list[TgMessage] = []

        async def make() -> TgMessage:
            message = await send(self._bot, self._buyer_chat(notice.order), text, keyboard)
            sent.append(message)
            return message

        await self._once(notice, "buyer", make)
        if sent and keyboard is not None:
            await self._services.order_messages.offered(
                notice.order.id, offered(sent[0].chat_id, sent[0].message_id, lang))

    async def _released(self, notice: Notice) -> None:
        """The hold ended or the payment failed: the seats were released (with a button to try again)."""
        order = notice.order
        lang = await self._lang(order.user_id)
        key = "notice.expired" if notice.message == Message.EXPIRED else "notice.failed"
        cart = encode_cart({line.tier: line.qty for line in order.lines})
        again = ([[button(label(lang, "btn.buy_again"), CART, order.event_id, cart)]]
                 if fits(CART, order.event_id, cart) else [])
        await self._to_buyer(notice, t(lang, key, order=order.id, title=self._title(notice),
                                       lines=lines_text(lang, order.lines)), markup(again))

    async def _refunded(self, notice: Notice) -> None:
        order = notice.order
        lang = await self._lang(order.user_id)
        await self._to_buyer(notice, t(lang, "notice.refunded", order=order.id, title=self._title(notice),
                                       total=Html(price(lang, order.total))))

    async def _needs_refund(self, notice: Notice) -> None:
        """The buyer: a refund is coming; the admins: refund this order."""
        order = notice.order
        lang = await self._lang(order.user_id)
        unreachable: Undeliverable | None = None
        try:
            await self._to_buyer(notice, t(lang, "notice.needs_refund.buyer", order=order.id,
                                           title=self._title(notice), total=Html(price(lang, order.total))))
        except Undeliverable as exc:
            unreachable = exc  # the admins must hear of it all the same
        tier = str(notice.detail.get("tier", ""))
        await self._to_staff(notice, notice.admin_ids, lambda lang: (t(
            lang, "notice.needs_refund.admin", order=order.id, title=self._title(notice),
            total=Html(price(lang, order.total)), tier=tier, buyer=order.buyer.name, email=order.buyer.email,
            phone=order.buyer.phone), refund_button(lang, order.id)), f"needs_refund {order.id}")
        if unreachable is not None:
            log.warning("order %s: the buyer cannot be told of the refund (%s)", order.id, unreachable)

    async def _amount_mismatch(self, notice: Notice) -> None:
        order = notice.order
        await self._to_staff(notice, notice.admin_ids, lambda lang: t(
            lang, "notice.amount_mismatch", order=order.id, title=self._title(notice),
            total=Html(price(lang, order.total)), reported=str(notice.detail.get("reported", "?")),
            status=str(notice.detail.get("status", "?"))), f"amount_mismatch {order.id}")

    async def _payment_review(self, notice: Notice) -> None:
        order = notice.order
        await self._to_staff(notice, notice.admin_ids, lambda lang: t(
            lang, "notice.review", order=order.id, title=self._title(notice), total=Html(price(lang, order.total)),
            method=str(order.payment.get("payment_type") or "?")), f"payment_review {order.id}")

    # ---- money after the sale (docs/money.md) ----------------------------------------------------------------

    async def _reversed(self, notice: Notice) -> None:
        """Money taken back after the sale: the buyer (tickets void, why); the organisers and the admins (with how
        many tickets were already checked in; the buyer's contact details for the admins only). The staff are told
        even when the buyer cannot be reached."""
        order, detail = notice.order, notice.detail
        status = str(detail.get("status") or order.payment.get("transaction_status") or "?")
        codes = [str(code) for code in detail.get("tickets") or []]  # the tickets it voided
        if not isinstance(detail.get("tickets"), list):  # older entries: every ticket not voided by a refund
            codes = [ticket.id for ticket in await self._services.tickets.for_order(order.id)
                     if ticket.status == TicketStatus.VALID or ticket.void_reason == VoidReason.REVERSED]
        amount = int(detail.get("amount") or order.total)

        def why(lang: str) -> Html:
            key = f"notice.reversed.{status}"
            return t(lang, key if status in REVERSAL_KINDS else "notice.reversed.other", status=status)

        def staff_text(lang: str, contact: bool) -> Html:
            details = t(lang, "notice.contact", email=order.buyer.email, phone=order.buyer.phone) if contact else ""
            return t(lang, "notice.reversed.staff", order=order.id, title=self._title(notice),
                     amount=price(lang, amount), why=why(lang), n=len(codes), codes=codes_text(codes) or "—",
                     checked_in=int(detail.get("checked_in") or 0), buyer=order.buyer.name, contact=Html(details))

        lang = await self._lang(order.user_id)
        key = "notice.reversed.buyer" if codes else "notice.reversed.buyer.no_tickets"
        unreachable: Undeliverable | None = None
        try:
            await self._to_buyer(notice, t(lang, key, order=order.id, title=self._title(notice), why=why(lang),
                                           codes=codes_text(codes)))
        except Undeliverable as exc:
            unreachable = exc
        admins = set(notice.admin_ids)
        organisers = set(self._services.access.organisers(notice.event) if notice.event else []) - admins
        failure: Exception | None = None
        for group, contact in ((organisers, False), (admins, True)):
            try:
                if group:
                    await self._to_staff(notice, group, partial(staff_text, contact=contact),
                                         f"reversed {order.id}")
            except Exception as exc:  # noqa: BLE001 - raised below, after the other group was tried
                failure = failure or exc
        if failure is not None:
            raise failure
        if unreachable is not None:
            log.warning("order %s: the buyer cannot be told of the reversal (%s)", order.id, unreachable)

    async def _partial_refund(self, notice: Notice) -> None:
        """Part of the money went back: which tickets are void now, and how much."""
        order, detail = notice.order, notice.detail
        lang = await self._lang(order.user_id)
        codes = [str(c) for c in detail.get("tickets") or []]
        amount = price(lang, int(detail.get("amount") or 0))
        key = "notice.partial_refund" if codes else "notice.partial_refund.no_tickets"
        await self._to_buyer(notice, t(lang, key, order=order.id, title=self._title(notice), amount=amount,
                                       codes=codes_text(codes)))

    async def _refund_unassigned(self, notice: Notice) -> None:
        """Admins: Midtrans refunded an amount without naming tickets; one button per valid ticket to void."""
        order = notice.order
        tickets = refund_tickets(order, await self._services.tickets.for_order(order.id))
        unassigned = order.unassigned_amount
        await self._to_staff(notice, notice.admin_ids, lambda lang: (
            unassigned_text(lang, order, self._title(notice), tickets, unassigned, zone=zone_of(notice.event)),
            unassigned_keyboard(lang, order, tickets, unassigned)), f"refund_unassigned {order.id}")

    async def _expired_unconfirmed(self, notice: Notice) -> None:
        """Admins: the hold ended while Midtrans could not be asked whether the order was paid."""
        order = notice.order
        since = notice.detail.get("since")
        moment = since if isinstance(since, datetime) else _iso(since)
        zone = zone_of(notice.event)
        await self._to_staff(notice, notice.admin_ids, lambda lang: t(
            lang, "notice.expired_unconfirmed", order=order.id, title=self._title(notice),
            total=Html(price(lang, order.total)), since=local_when(moment, zone, lang) if moment else "?"),
            f"expired_unconfirmed {order.id}")


REVERSAL_KINDS = ("deny", "cancel", "chargeback")


def pending_keyboard(lang: str, order: OrderDoc, instructions: Mapping[str, Any]) -> InlineKeyboardMarkup | None:
    """Open the e-wallet / show the QR when Midtrans gave them; and the payment page (after a declined card: to
    try another card or method on the same hold)."""
    rows = [[url_button(text, url)] for text, url in payment_actions(lang, order, instructions)]
    page = order.payment.get("redirect_url")
    if page:
        declined = order.payment.get("transaction_status") == "deny"
        rows.append([url_button(label(lang, "btn.try_other_method" if declined else "btn.payment_page"), page)])
    return markup(rows)


def refund_button(lang: str, order_id: str) -> InlineKeyboardMarkup | None:
    """💸 Refund: opens the refund screen under the notice (handlers/telegram/refunds.py)."""
    return markup([[button(label(lang, "btn.refund"), REFUND_OPEN, order_id)]])


def refund_tickets(order: OrderDoc, tickets: Iterable[TicketDoc]) -> list[RefundTicket]:
    """An order's tickets as the refund screens show them (price from the order's lines)."""
    prices = {line.tier: line.price for line in order.lines}
    claims = set(order.refund_claims)
    return [RefundTicket(code=ticket.id, tier=ticket.tier, tier_name=ticket.tier_name,
                         price=prices.get(ticket.tier, 0), status=ticket.status, checked_in_at=ticket.checked_in_at,
                         void_reason=ticket.void_reason, claimed=ticket.id in claims) for ticket in tickets]


def _iso(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def render_digest(lang: str, digest: Digest) -> Html:
    """The organiser's sale digest (handlers/views.py), kept within a message's 4096 characters."""
    return sale_digest(lang, digest, fits=lambda text: visible_length(text) <= TEXT_LIMIT)
