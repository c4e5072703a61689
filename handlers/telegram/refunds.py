"""Refunds from the chat: admins, and the organisers of an order's event, refund a whole order or chosen tickets
of it (`/refund ORDER`, or the 💸 button on an admin notice); admins match a refund Midtrans made without tickets
to the tickets it voids. The domain side is `bot.refunds.RefundService` (docs/money.md).

The screen's state rides in its buttons, never in this process:

    /refund KRC-… or ro|order ─▶ rs|order|sel|reason (toggle a ticket / whole order / pick a reason: edited in
    place) ─▶ rc|order|sel|reason|0 ─▶ refunded, or ⚠️ checked in ─▶ rc|…|1 ─▶ refunded
                                            ├▶ Midtrans refused: why (« Back)
                                            └▶ Midtrans unreachable: nothing changed (🔁 the same rc again)

`sel` is `*` (the whole order: every valid ticket) or a hex bitmask over the order's tickets in issue order; a
mask names void tickets too, so that a second tap on Confirm finds the refund the first one made (same tickets,
same refund_key) and shows it, instead of a second refund.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.refunds import RefundDone, RefundRefusal, RefundRefused, RefundTicket, RefundView, refund_key_for
from bot.tickets import format_code
from handlers.formatting import local_time, shorten, zone_of
from handlers.messages import Html, has, label, t
from handlers.telegram.keyboards import args, button, fits, markup, pattern
from handlers.telegram.shared import PRIVATE, Context, account, callback_query, edit, lang, reply, services_of
from handlers.views import price
from storage.documents import EventDoc, OrderDoc, OrderStatus, RefundRecord, RefundSource, RefundState

# ---- callback prefixes -------------------------------------------------------------------------------------------
OPEN = "ro"     # ro|<order>                       a new refund screen (from a notice)
SCREEN = "rs"   # rs|<order>|<sel>|<reason>        the screen with this choice (edited in place)
CONFIRM = "rc"  # rc|<order>|<sel>|<reason>|<ok>   refund now (ok "1": checked-in tickets confirmed)
CLOSE = "rq"    # rq|<order>                       close the screen, nothing refunded
ASSIGN = "ra"   # ra|<order>|<code>                void this ticket against a refund Midtrans made without tickets

WHOLE = "*"
NOTHING = "0"
NO_REASON = "-"
REASONS = ("buyer", "event", "twice", "mistake")  # refund.reason.<name>; the button carries the index
MAX_TOGGLES = 40  # ticket buttons on one screen (Telegram allows 100 buttons; the rest: "whole order")
ON, OFF = "☑", "☐"
ORDER_ID = re.compile(r"[A-Z0-9-]{4,40}")  # what /refund accepts (KRC-2612-7QF9MZTXW3); anything else: the usage


@dataclass(frozen=True)
class Choice:
    """What a refund screen's button carries."""

    order_id: str
    sel: str        # WHOLE, or a hex bitmask over view.tickets
    reason: str     # NO_REASON, or an index into REASONS
    confirmed: bool = False

    @property
    def whole(self) -> bool:
        return self.sel == WHOLE

    def picked(self, count: int) -> set[int] | None:
        """The indexes of the chosen tickets (all of them for WHOLE); None if the mask does not fit `count`."""
        if self.whole:
            return set(range(count))
        mask = int(self.sel, 16)
        if mask >> count:
            return None
        return {i for i in range(count) if mask >> i & 1}

    def data(self, prefix: str, *extra: str) -> tuple[str, ...]:
        return (prefix, self.order_id, self.sel, self.reason, *extra)

    def with_sel(self, sel: str) -> Choice:
        return Choice(self.order_id, sel, self.reason)

    def with_reason(self, reason: str) -> Choice:
        return Choice(self.order_id, self.sel, reason)

    @property
    def reason_key(self) -> str | None:
        return None if self.reason == NO_REASON else f"refund.reason.{REASONS[int(self.reason)]}"


def parse_choice(data: str | None) -> Choice | None:
    """The choice a button carries; None if it is not one (a forged or garbled button)."""
    parts = args(data)
    if len(parts) not in (3, 4) or not parts[0]:
        return None
    order_id, sel, reason = parts[:3]
    if sel != WHOLE and not (0 < len(sel) <= 16 and all(c in "0123456789abcdef" for c in sel)):
        return None
    if reason != NO_REASON and not (reason.isdigit() and int(reason) < len(REASONS)):
        return None
    return Choice(order_id, sel, reason, confirmed=len(parts) == 4 and parts[3] == "1")


def mask_of(indexes: set[int]) -> str:
    return format(sum(1 << i for i in indexes), "x")


# ---- texts and keyboards ---------------------------------------------------------------------------------------


def ticket_line(lang_: str, ticket: RefundTicket, zone: str) -> str:
    """One ticket of the order; a check-in time in `zone`, the event's."""
    values = {"code": format_code(ticket.code), "tier": ticket.tier_name, "price": Html(price(lang_, ticket.price))}
    if not ticket.valid:
        return t(lang_, "refund.ticket.void", **values)
    if ticket.claimed:
        return t(lang_, "refund.ticket.claimed", **values)
    if ticket.checked_in_at is not None:
        return t(lang_, "refund.ticket.in", time=local_time(ticket.checked_in_at, zone), **values)
    return t(lang_, "refund.ticket.valid", **values)


def chosen(view: RefundView, choice: Choice) -> list[RefundTicket]:
    """The valid, unclaimed tickets the choice names."""
    picked = choice.picked(len(view.tickets)) or set()
    return [ticket for i, ticket in enumerate(view.tickets) if i in picked and ticket.valid and not ticket.claimed]


def amount_of(view: RefundView, choice: Choice) -> int:
    if choice.whole:
        return view.refundable
    return min(view.refundable, sum(ticket.price for ticket in chosen(view, choice)))


def codes_text(codes: Sequence[str]) -> str:
    return ", ".join(format_code(code) for code in codes)


def screen_text(lang_: str, view: RefundView, event: EventDoc | None, choice: Choice) -> Html:
    order = view.order
    rows: list[str] = [t(lang_, "refund.head", order=order.id, title=event.title if event else order.event_id,
                        buyer=order.buyer.name, total=Html(price(lang_, order.total)))]
    if order.refunded_amount:
        rows.append(t(lang_, "refund.so_far", amount=price(lang_, order.refunded_amount)))
    if view.unassigned:
        rows.append(t(lang_, "refund.unassigned", amount=price(lang_, view.unassigned)))
    rows.append("")
    none = (t(lang_, "refund.needs_refund", total=Html(price(lang_, order.total)))
            if order.status == OrderStatus.NEEDS_REFUND else t(lang_, "refund.no_tickets"))
    rows += [ticket_line(lang_, ticket, zone_of(event)) for ticket in view.tickets] or [none]
    rows.append("")
    amount = amount_of(view, choice)
    if order.status not in (OrderStatus.PAID, OrderStatus.NEEDS_REFUND):
        rows.append(t(lang_, "refund.refused.not_paid", order=order.id, status=label(lang_, f"status.{order.status}")))
    elif view.refundable <= 0:
        rows.append(t(lang_, "refund.nothing_left"))
    elif amount <= 0:
        rows.append(t(lang_, "refund.pick"))
    else:
        picked = chosen(view, choice)
        what = (t(lang_, "refund.choice.whole") if choice.whole or not view.tickets
                else t(lang_, "refund.choice.tickets", n=len(picked), codes=codes_text([p.code for p in picked])))
        reason = label(lang_, choice.reason_key) if choice.reason_key else "—"
        rows.append(t(lang_, "refund.choice", amount=price(lang_, amount), what=what, reason=reason))
        if choice.reason_key is None:
            rows.append(t(lang_, "refund.pick_reason"))
    return Html("\n".join(rows))


def screen_keyboard(lang_: str, view: RefundView, choice: Choice) -> InlineKeyboardMarkup | None:
    """One toggle per refundable ticket, whole order, the reasons, Refund (when ready) and Close."""
    close = [button(label(lang_, "btn.refund_close"), CLOSE, choice.order_id)]
    rows = retry_rows(lang_, view)
    if view.refundable <= 0:
        return markup([*rows, close])
    count = len(view.tickets)
    picked = choice.picked(count) or set()
    toggles = [i for i, ticket in enumerate(view.tickets) if ticket.valid and not ticket.claimed]
    if len(toggles) > 1 and count <= 64:
        for i in toggles[:MAX_TOGGLES]:
            ticket = view.tickets[i]
            now = set(toggles) & picked
            flipped = now ^ {i}
            target = choice.with_sel(mask_of(flipped) if flipped else NOTHING)
            if not fits(*target.data(CONFIRM, "0")):
                continue
            mark = ON if i in now else OFF
            rows.append([button(label(lang_, "btn.refund_ticket", mark=mark, code=format_code(ticket.code),
                                      tier=shorten(ticket.tier_name, 24)), *target.data(SCREEN))])
    whole_target = choice.with_sel(NOTHING if choice.whole else WHOLE)
    rows.append([button(label(lang_, "btn.refund_whole", mark=ON if choice.whole else OFF,
                              amount=price(lang_, view.refundable)), *whole_target.data(SCREEN))])
    reasons = [button(label(lang_, "btn.refund_reason", mark="●" if choice.reason == str(i) else "○",
                            reason=label(lang_, f"refund.reason.{name}")), *choice.with_reason(str(i)).data(SCREEN))
               for i, name in enumerate(REASONS)]
    rows += [reasons[:2], reasons[2:]]
    amount = amount_of(view, choice)
    if amount > 0 and choice.reason_key is not None:
        rows.append([button(label(lang_, "btn.refund_confirm", amount=price(lang_, amount)),
                            *choice.data(CONFIRM, "0"))])
    rows.append(close)
    return markup(rows)


def retry_rows(lang_: str, view: RefundView) -> list[list[InlineKeyboardButton]]:
    """🔁 for each refund Karcis asked for and never heard back about (Midtrans was unreachable): asking again
    reuses its refund_key, so Midtrans refunds once."""
    index = {ticket.code: i for i, ticket in enumerate(view.tickets)}
    rows = []
    for record in view.refunds:
        if record.source != RefundSource.KARCIS or record.status != RefundState.REQUESTED:
            continue
        if not record.tickets or any(code not in index for code in record.tickets) or len(view.tickets) > 64:
            continue
        again = Choice(view.order.id, mask_of({index[code] for code in record.tickets}), "0", confirmed=True)
        rows.append([button(label(lang_, "btn.refund_ask_again", amount=price(lang_, record.amount)),
                            *again.data(CONFIRM, "1"))])
    return rows


def reason_text(lang_: str, stored: str) -> str:
    """A preset reason in the reader's language (it is stored, and sent to Midtrans, in English)."""
    for name in REASONS:
        if stored == label("en", f"refund.reason.{name}"):
            return label(lang_, f"refund.reason.{name}")
    return stored or "—"


def done_text(lang_: str, order: OrderDoc, record: RefundRecord) -> Html:
    """Exactly what a refund did: the amount, the tickets voided, the reason."""
    values = {"amount": price(lang_, record.amount), "order": order.id, "reason": reason_text(lang_, record.reason)}
    if order.status == OrderStatus.REFUNDED:
        return t(lang_, "refund.done.whole", **values)
    return t(lang_, "refund.done", codes=codes_text(record.tickets), n=len(record.tickets), **values)


def refusal_text(lang_: str, order_id: str, refusal: RefundRefused) -> Html:
    detail = refusal.detail
    values: dict[str, object] = {"order": order_id, "code": format_code(str(detail.get("code", ""))),
                                 "status": label(lang_, f"status.{detail.get('status')}")
                                 if has(f"status.{detail.get('status')}") else str(detail.get("status", "")),
                                 "codes": codes_text([str(c) for c in detail.get("codes", [])]),
                                 "n": len(detail.get("codes", [])),
                                 "why": str(detail.get("message") or detail.get("status") or "?")}
    key = f"refund.refused.{refusal.reason.value}"
    return t(lang_, key if has(key) else "refund.refused.not_allowed", **values)


def already_done(view: RefundView, choice: Choice) -> RefundRecord | None:
    """The refund an earlier tap on this same Confirm made, if it is done (a double tap, or a late retry)."""
    done = [r for r in view.refunds if r.source == RefundSource.KARCIS and r.status == RefundState.DONE]
    if choice.whole:
        return done[-1] if done and not any(ticket.valid for ticket in view.tickets) else None
    picked = choice.picked(len(view.tickets)) or set()
    key = refund_key_for(view.order.id, [ticket.code for i, ticket in enumerate(view.tickets) if i in picked])
    return next((r for r in done if r.refund_key == key), None)


# ---- the screen ----------------------------------------------------------------------------------------------


async def show_screen(update: Update, context: Context, order_id: str, choice: Choice | None = None,
                      *, in_place: bool = False) -> None:
    """The refund screen for `order_id`, as a new message or edited into the pressed one."""
    services, lang_, uid = services_of(context), lang(update), account(update, context)
    query = update.callback_query
    try:
        view = await services.refunds.view(order_id, by=uid)
    except RefundRefused as refusal:
        if query is not None:
            await query.answer(label(lang_, "alert.refund_not_allowed" if refusal.reason == RefundRefusal.NOT_ALLOWED
                                     else "alert.refund_gone"), show_alert=True)
        else:
            await reply(update, context, refusal_text(lang_, order_id, refusal))
        return
    if query is not None:
        await query.answer()
    order = view.order
    if choice is None or choice.picked(len(view.tickets)) is None:
        choice = Choice(order.id, WHOLE if not view.tickets else NOTHING, NO_REASON)
    event = await services.catalog.event(order.event_id)
    text, keyboard = screen_text(lang_, view, event, choice), screen_keyboard(lang_, view, choice)
    if in_place and query is not None:
        await edit(query, text, keyboard)
    else:
        await reply(update, context, text, keyboard)


async def refund_command(update: Update, context: Context) -> None:
    """`/refund ORDER`: the refund screen (admins; organisers for their own events)."""
    order_id = context.args[0].strip().upper() if context.args else ""
    if not ORDER_ID.fullmatch(order_id):
        await reply(update, context, t(lang(update), "refund.usage"))
        return
    await show_screen(update, context, order_id)


async def on_open(update: Update, context: Context) -> None:
    """The 💸 button on a notice: a new refund screen below it."""
    await show_screen(update, context, (args(callback_query(update).data) or [""])[0])


async def on_screen(update: Update, context: Context) -> None:
    """A toggle or a reason: the same screen with the new choice."""
    choice = parse_choice(callback_query(update).data)
    if choice is None:
        await callback_query(update).answer(label(lang(update), "alert.refund_gone"), show_alert=True)
        return
    await show_screen(update, context, choice.order_id, choice, in_place=True)


async def on_close(update: Update, context: Context) -> None:
    query = callback_query(update)
    await query.answer()
    await edit(query, t(lang(update), "refund.closed", order=(args(query.data) or [""])[0]))


async def on_confirm(update: Update, context: Context) -> None:
    """Refund the chosen tickets through Midtrans and say exactly what happened. A second tap on the same
    Confirm asks for the same refund (same tickets, same refund_key): it shows the refund once, never two."""
    query, services, lang_, uid = callback_query(update), services_of(context), lang(update), account(update, context)
    choice = parse_choice(query.data)
    if choice is None or choice.reason_key is None:
        await query.answer(label(lang_, "alert.refund_gone"), show_alert=True)
        return
    try:
        view = await services.refunds.view(choice.order_id, by=uid)
    except RefundRefused as refusal:
        await query.answer(label(lang_, "alert.refund_not_allowed" if refusal.reason == RefundRefusal.NOT_ALLOWED
                                 else "alert.refund_gone"), show_alert=True)
        return
    if (earlier := already_done(view, choice)) is not None:
        await query.answer()
        await edit(query, done_text(lang_, view.order, earlier))
        return
    # the valid tickets chosen, claimed ones too (so that a second tap, or a retry after Midtrans was
    # unreachable, names the same tickets and so the same refund_key); the whole order is every valid ticket
    picked = choice.picked(len(view.tickets)) or set()
    asked = [ticket for i, ticket in enumerate(view.tickets) if i in picked and ticket.valid]
    requested = {r.refund_key for r in view.refunds if r.status == RefundState.REQUESTED}
    if refund_key_for(view.order.id, [ticket.code for ticket in asked]) not in requested:
        asked = [ticket for ticket in asked if not ticket.claimed]  # claimed by another refund: not this one's
    if view.order.status == OrderStatus.NEEDS_REFUND:  # paid after its seats were gone: no tickets, all of it
        asked = []
    elif not asked:  # nothing of this choice can be refunded any more (voided meanwhile): the order as it is now
        await query.answer(label(lang_, "alert.refund_gone_tickets"), show_alert=True)
        event = await services.catalog.event(view.order.event_id)
        fresh = Choice(view.order.id, NOTHING, choice.reason)
        await edit(query, screen_text(lang_, view, event, fresh), screen_keyboard(lang_, view, fresh))
        return
    await query.answer()
    amount = min(sum(ticket.price for ticket in asked) if asked else view.order.total,
                 view.order.total - view.order.refunded_amount)
    await edit(query, t(lang_, "refund.working", amount=price(lang_, amount)))
    try:
        done: RefundDone = await services.refunds.refund(
            choice.order_id, [ticket.code for ticket in asked] if asked else None, by=uid,
            reason=label("en", choice.reason_key), confirm_checked_in=choice.confirmed)
    except RefundRefused as refusal:
        if refusal.reason != RefundRefusal.TICKET_BEING_REFUNDED:  # else the first tap is still at it: it answers
            await edit(query, *refused_screen(lang_, choice, refusal))
        return
    await edit(query, done_text(lang_, done.order, done.refund))
    await services.delivery.deliver(done.order.id)


def refused_screen(lang_: str, choice: Choice, refusal: RefundRefused) -> tuple[Html, InlineKeyboardMarkup | None]:
    """What a refused refund says, with the way on: confirm checked-in tickets, try again, back, close."""
    back = [button(label(lang_, "btn.refund_back"), *choice.data(SCREEN))]
    close = [button(label(lang_, "btn.refund_close"), CLOSE, choice.order_id)]
    match refusal.reason:
        case RefundRefusal.CHECKED_IN_NEEDS_CONFIRM:
            listed = [str(c) for c in refusal.detail.get("codes", [])]
            return (t(lang_, "refund.confirm_checked_in", codes=codes_text(listed), n=len(listed)),
                    markup([[button(label(lang_, "btn.refund_anyway"), *choice.data(CONFIRM, "1"))], back]))
        case RefundRefusal.MIDTRANS_REFUSED:
            why = str(refusal.detail.get("message") or refusal.detail.get("status") or "?")
            return t(lang_, "refund.midtrans_refused", order=choice.order_id, why=why), markup([back, close])
        case RefundRefusal.MIDTRANS_UNAVAILABLE:
            again = choice.data(CONFIRM, "1" if choice.confirmed else "0")
            return (t(lang_, "refund.midtrans_unavailable", order=choice.order_id),
                    markup([[button(label(lang_, "btn.refund_retry"), *again)], close]))
        case _:
            return refusal_text(lang_, choice.order_id, refusal), markup([back, close])


# ---- refunds Midtrans made without tickets (admins) ---------------------------------------------------------


def unassigned_text(lang_: str, order: OrderDoc, title: str, tickets: Sequence[RefundTicket], unassigned: int, *,
                    zone: str) -> Html:
    lines = Html("\n".join(ticket_line(lang_, ticket, zone) for ticket in tickets))
    values = {"order": order.id, "title": title, "refunded": price(lang_, order.refunded_amount), "tickets": lines}
    if unassigned <= 0:
        return t(lang_, "notice.refund_unassigned.done", **values)
    return t(lang_, "notice.refund_unassigned", total=Html(price(lang_, order.total)),
             amount=price(lang_, unassigned), **values)


def unassigned_keyboard(lang_: str, order: OrderDoc, tickets: Sequence[RefundTicket],
                        unassigned: int) -> InlineKeyboardMarkup | None:
    """One 🗑 button per valid ticket, while some refunded amount waits for tickets."""
    if unassigned <= 0:
        return None
    rows = [[button(label(lang_, "btn.assign_ticket", code=format_code(ticket.code), tier=shorten(ticket.tier_name, 20),
                          price=price(lang_, ticket.price)), ASSIGN, order.id, ticket.code)]
            for ticket in tickets if ticket.valid and not ticket.claimed and fits(ASSIGN, order.id, ticket.code)]
    return markup(rows[:MAX_TOGGLES])


async def on_assign(update: Update, context: Context) -> None:
    """Void one ticket against the refunded amount; the message then shows what is left (or that it is done)."""
    query, services, lang_, uid = callback_query(update), services_of(context), lang(update), account(update, context)
    parts = args(query.data)
    if len(parts) != 2:
        await query.answer(label(lang_, "alert.refund_gone"), show_alert=True)
        return
    order_id, code = parts
    try:
        view = await services.refunds.assign(order_id, code, by=uid)
        answer: str | None = label(lang_, "alert.assign_done")
    except RefundRefused as refusal:
        if refusal.reason not in (RefundRefusal.NOTHING_UNASSIGNED, RefundRefusal.TICKET_VOID,
                                  RefundRefusal.TICKET_BEING_REFUNDED):
            await query.answer(label(lang_, "alert.refund_not_allowed" if refusal.reason == RefundRefusal.NOT_ALLOWED
                                     else "alert.refund_gone"), show_alert=True)
            return
        answer = label(lang_, "alert.assign_done") if refusal.reason == RefundRefusal.TICKET_VOID else None
        view = await services.refunds.view(order_id, by=uid)  # someone else was quicker: show where it stands
    await query.answer(answer)
    event = await services.catalog.event(view.order.event_id)
    title = event.title if event else view.order.event_id
    await edit(query, unassigned_text(lang_, view.order, title, view.tickets, view.unassigned, zone=zone_of(event)),
               unassigned_keyboard(lang_, view.order, view.tickets, view.unassigned))
    await services.delivery.deliver(view.order.id)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("refund", refund_command, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(on_open, pattern=pattern(OPEN)))
    application.add_handler(CallbackQueryHandler(on_screen, pattern=pattern(SCREEN)))
    application.add_handler(CallbackQueryHandler(on_confirm, pattern=pattern(CONFIRM)))
    application.add_handler(CallbackQueryHandler(on_close, pattern=pattern(CLOSE)))
    application.add_handler(CallbackQueryHandler(on_assign, pattern=pattern(ASSIGN)))
