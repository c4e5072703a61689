"""The buyer's journey on WhatsApp: events (a list, 10 rows, a "more" row), an event card with reply buttons, a
list of tiers then a list of quantities, contact details typed one at a time (last time's offered), a summary to
confirm (once, however often it is tapped), the payment link as a call-to-action button, tickets, orders, cancel.

WhatsApp's 3 buttons and 10 rows cannot carry a cart, so the cart lives in the account's purchase draft; every
reply id names only one choice (`qty:<tier>:<n>`) or the draft (`confirm:<nonce>`), so a stale or repeated tap
acts on nothing newer than it saw.
"""

from __future__ import annotations

import secrets

from bot.catalog import sales_open
from bot.contacts import clean_email, clean_name, clean_phone
from bot.errors import InvalidContact, OrderNotFound, OrderNotPending, RefusalReason, ReservationRefused
from bot.payments import PaymentLinkUnavailable, ReservationOver
from handlers.formatting import shorten, wib
from handlers.messages import has
from handlers.views import cart_lines, lines_text, order_status, price, summary
from handlers.whatsapp.chat import LIST_ROWS, Chat
from handlers.whatsapp.texts import plain, say, title
from handlers.whatsapp.views import (
    BUY,
    CANCEL,
    CHECKOUT,
    CONFIRM,
    DROP,
    EVENT,
    EVENTS,
    NEW_DETAILS,
    ORDERS,
    PAY,
    QTY,
    TICKET,
    TICKETS,
    USE_LAST,
    card_text,
    cart_text,
    reply_id,
    send_ticket,
)
from storage.documents import ContactStep, OrderDoc, OrderStatus, PurchaseDraft, TicketStatus

NEXT_STEP = {ContactStep.NAME: ContactStep.EMAIL, ContactStep.EMAIL: ContactStep.PHONE, ContactStep.PHONE: None}
CLEANERS = {ContactStep.NAME: clean_name, ContactStep.EMAIL: clean_email, ContactStep.PHONE: clean_phone}
EVENTS_PER_PAGE = LIST_ROWS - 1  # the tenth row is "more"
TICKETS_SENT = 10  # QR images re-sent by "tickets" at most (the rest: ask again)


def _nonce() -> str:
    return secrets.token_urlsafe(6)


# ---- browsing --------------------------------------------------------------------------------------------------


async def events(chat: Chat, args: list[str]) -> None:
    """The events on sale as a list; past nine, the tenth row opens the next page."""
    on_sale = await chat.services.catalog.on_sale()
    if not on_sale:
        await chat.text(say(chat.lang, "events.none"))
        return
    pages = -(-len(on_sale) // EVENTS_PER_PAGE)
    page = min(max(int(args[0]) if args and args[0].isdigit() else 0, 0), pages - 1)
    shown = on_sale[page * EVENTS_PER_PAGE:(page + 1) * EVENTS_PER_PAGE]
    rows: list[tuple[str, str, str | None]] = [
        (reply_id(EVENT, e.id), shorten(e.title, 24), shorten(f"{wib(e.starts_at, chat.lang)} · {e.venue}", 72))
        for e in shown]
    if pages > 1:
        following = (page + 1) % pages
        rows.append((reply_id(EVENTS, following), title(chat.lang, "wa.btn.more", 24),
                     title(chat.lang, "wa.btn.more_desc", 72, page=following + 1, pages=pages)))
    await chat.rows(say(chat.lang, "events.list"), title(chat.lang, "wa.btn.choose"), rows)


async def event(chat: Chat, args: list[str]) -> None:
    """The event card: title, time, venue, tiers and prices; Buy / Events."""
    listing = await chat.services.catalog.get(args[0]) if args else None
    if listing is None:
        await chat.text(say(chat.lang, "event.gone"))
        return
    open_ = sales_open(listing.event, chat.services.clock())
    buttons = [(reply_id(BUY, listing.event.id), title(chat.lang, "wa.btn.buy"))] if open_ else []
    buttons.append((reply_id(EVENTS, 0), title(chat.lang, "wa.btn.events")))
    await chat.buttons(card_text(chat.lang, listing, on_sale=open_)[:1024], buttons)


async def buy(chat: Chat, args: list[str]) -> None:
    """The tiers with seats left, as a list (a draft for this event is started, or kept if it is this event's)."""
    listing = await chat.services.catalog.get(args[0]) if args else None
    if listing is None or not sales_open(listing.event, chat.services.clock()):
        await chat.text(say(chat.lang, "event.gone" if listing is None else "card.sales_closed"))
        return
    draft = await chat.draft()
    if draft is None or draft.event_id != listing.event.id:
        await chat.start_draft(PurchaseDraft(nonce=_nonce(), event_id=listing.event.id, cart={}))
    rows: list[tuple[str, str, str | None]] = [
        (reply_id(QTY, tier.code), shorten(tier.name, 24),
         shorten(f"{price(chat.lang, tier.price)} · {plain(say(chat.lang, 'card.left', n=tier.available))}", 72))
        for tier in listing.tiers if tier.available > 0][:LIST_ROWS]
    if not rows:
        await chat.text(say(chat.lang, "refused.sold_out", tier=listing.event.title))
        return
    await chat.rows(say(chat.lang, "wa.tiers", title=listing.event.title), title(chat.lang, "wa.btn.choose"), rows)


async def quantity(chat: Chat, args: list[str]) -> None:
    """`qty:<tier>`: how many, as a list; `qty:<tier>:<n>`: that many in the cart, then the cart."""
    draft = await chat.draft()
    listing = await chat.services.catalog.get(draft.event_id) if draft else None
    tier = listing.tier(args[0]) if listing and args else None
    if draft is None or listing is None or tier is None:
        await chat.text(say(chat.lang, "wa.draft_gone"))
        return
    most = min(tier.max_per_order, tier.available, LIST_ROWS)
    if len(args) < 2:
        rows: list[tuple[str, str, str | None]] = [
            (reply_id(QTY, tier.code, n), shorten(say(chat.lang, "wa.qty_row", n=n, tier=tier.name), 24),
             price(chat.lang, n * tier.price)) for n in range(1, most + 1)]
        if not rows:
            await chat.text(say(chat.lang, "refused.sold_out", tier=tier.name))
            return
        await chat.rows(say(chat.lang, "wa.qty", tier=tier.name, price=price(chat.lang, tier.price)),
                        title(chat.lang, "wa.btn.choose"), rows)
        return
    qty = int(args[1]) if args[1].isdigit() else 0
    if not 1 <= qty <= most:
        await chat.text(say(chat.lang, "refused.over_max", tier=tier.name, n=most))
        return
    cart = {t.code: qty if t.code == tier.code else draft.cart.get(t.code, 0) for t in listing.tiers}
    cart = {code: n for code, n in cart.items() if n > 0}
    updated = await chat.update_draft(draft.nonce, {"cart": cart})
    if updated is None:
        await chat.text(say(chat.lang, "wa.draft_gone"))
        return
    await chat.buttons(cart_text(chat.lang, listing, cart), [
        (reply_id(CHECKOUT, updated.nonce), title(chat.lang, "wa.btn.checkout")),
        (reply_id(BUY, listing.event.id), title(chat.lang, "wa.btn.add")),
        (DROP, title(chat.lang, "wa.btn.cancel"))])


# ---- contact details -------------------------------------------------------------------------------------------


async def checkout(chat: Chat, args: list[str]) -> None:
    """Offer last time's details, or ask for the name."""
    draft = await chat.draft()
    if draft is None or not args or draft.nonce != args[0] or not draft.cart:
        await chat.text(say(chat.lang, "wa.draft_gone" if draft is None or not args or draft.nonce != args[0]
                            else "wa.cart_empty"))
        return
    user = await chat.services.store.users.get(chat.account)
    last = user.last_buyer if user else None
    if last is None:
        await ask(chat, await chat.update_draft(draft.nonce, {"awaiting": ContactStep.NAME.value}))
        return
    await chat.buttons(say(chat.lang, "contact.use_last", name=last.name, email=last.email, phone=last.phone), [
        (reply_id(USE_LAST, draft.nonce), title(chat.lang, "wa.btn.use_last")),
        (reply_id(NEW_DETAILS, draft.nonce), title(chat.lang, "wa.btn.new_details")),
        (DROP, title(chat.lang, "wa.btn.cancel"))])


async def use_last(chat: Chat, args: list[str]) -> None:
    user = await chat.services.store.users.get(chat.account)
    last = user.last_buyer if user else None
    draft = None
    if last is not None and args:
        draft = await chat.update_draft(args[0], {"name": last.name, "email": last.email, "phone": last.phone,
                                                  "awaiting": None})
    await show_summary(chat, draft)


async def new_details(chat: Chat, args: list[str]) -> None:
    draft = await chat.update_draft(args[0], {"name": None, "email": None, "phone": None,
                                              "awaiting": ContactStep.NAME.value}) if args else None
    await ask(chat, draft)


async def ask(chat: Chat, draft: PurchaseDraft | None, problem: str | None = None) -> None:
    if draft is None:
        await chat.text(say(chat.lang, "wa.draft_gone"))
        return
    question = say(chat.lang, f"contact.ask.{(draft.awaiting or ContactStep.NAME).value}")
    await chat.text(f"{problem}\n\n{question}" if problem else question)


async def typed(chat: Chat, draft: PurchaseDraft) -> None:
    """The contact detail the draft waits for; then the next question, or the summary."""
    step = draft.awaiting or ContactStep.NAME
    try:
        value = CLEANERS[step](chat.message.text or "")
    except InvalidContact as exc:
        key = f"contact.error.{exc.field.value}.{exc.problem}"
        await ask(chat, draft, say(chat.lang, key if has(key) else f"contact.error.{exc.field.value}.invalid"))
        return
    following = NEXT_STEP[step]
    updated = await chat.update_draft(draft.nonce, {step.value: value,
                                                    "awaiting": following.value if following else None},
                                      awaiting=step)
    if updated is None or following is not None:
        await ask(chat, updated)
    else:
        await show_summary(chat, updated)


async def show_summary(chat: Chat, draft: PurchaseDraft | None) -> None:
    listing = await chat.services.catalog.definitions(draft.event_id) if draft else None
    if draft is None or listing is None or not (draft.name and draft.email and draft.phone):
        await chat.text(say(chat.lang, "wa.draft_gone"))
        return
    text = plain(summary(chat.lang, listing.event, cart_lines(listing.tiers, draft.cart), draft.name, draft.email,
                         draft.phone))
    await chat.buttons(text[:1024], [(reply_id(CONFIRM, draft.nonce), title(chat.lang, "wa.btn.confirm")),
                                     (reply_id(NEW_DETAILS, draft.nonce), title(chat.lang, "wa.btn.change")),
                                     (DROP, title(chat.lang, "wa.btn.cancel"))])


async def drop(chat: Chat, args: list[str]) -> None:
    await chat.drop_draft()
    await chat.buttons(say(chat.lang, "purchase.dropped"), [(reply_id(EVENTS, 0), title(chat.lang, "wa.btn.events"))])


# ---- reserving and paying ----------------------------------------------------------------------------------------


async def confirm(chat: Chat, args: list[str]) -> None:
    """Reserve the draft's seats and send the payment link. The draft is taken atomically, so of any number of
    taps on Confirm exactly one reserves; the others are told it is done."""
    draft = await chat.take_draft(args[0]) if args else None
    buyer = draft.buyer if draft else None
    if draft is None or buyer is None:
        await chat.text(say(chat.lang, "wa.confirming"))
        return
    try:
        order = await chat.services.orders.reserve(chat.account, draft.event_id, draft.cart, buyer,
                                                   address=chat.address)
    except ReservationRefused as refusal:
        await chat.restore_draft(draft)
        await chat.text(refusal_text(chat, refusal))
        return
    except Exception:
        await chat.restore_draft(draft)  # nothing was held: the buyer can tap Confirm again
        raise
    if order.status == OrderStatus.PAID:
        await chat.text(say(chat.lang, "free.confirmed", order=order.id, lines=lines_text(chat.lang, order.lines)))
        await chat.services.delivery.deliver(order.id)
        return
    await offer_payment(chat, order)


def refusal_text(chat: Chat, refusal: ReservationRefused) -> str:
    n = refusal.limit or 0
    tier = refusal.tier or ""
    match refusal.reason:
        case RefusalReason.SOLD_OUT if refusal.available:
            return say(chat.lang, "refused.sold_out_left", tier=tier, n=refusal.available)
        case RefusalReason.SOLD_OUT:
            return say(chat.lang, "refused.sold_out", tier=tier)
        case RefusalReason.RATE_LIMITED:
            return say(chat.lang, "refused.rate_limited", n=n)
        case RefusalReason.TOO_MANY_PENDING:
            return say(chat.lang, "refused.too_many_pending", n=n)
        case RefusalReason.OVER_MAX_PER_ORDER:
            return say(chat.lang, "refused.over_max", tier=tier, n=n)
        case RefusalReason.EMPTY_ORDER:
            return say(chat.lang, "refused.empty")
        case _:
            return say(chat.lang, "refused.unknown_event")


async def offer_payment(chat: Chat, order: OrderDoc) -> None:
    """The Midtrans payment page as a call-to-action button (its finish link brings the buyer back here)."""
    services = chat.services
    try:
        finish = services.links.order_finish(order)  # `order <id>` typed into this chat
        link = await services.payments.payment_link(order.id, chat.account, finish_url=finish)
    except PaymentLinkUnavailable:
        await chat.buttons(say(chat.lang, "pay.unavailable", order=order.id, until=wib(order.expires_at, chat.lang)),
                           [(reply_id(PAY, order.id), title(chat.lang, "btn.try_again")),
                            (reply_id(CANCEL, order.id), title(chat.lang, "wa.btn.cancel"))])
        return
    except ReservationOver:
        await chat.text(say(chat.lang, "pay.over", order=order.id))
        return
    except OrderNotPending:
        await show_order(chat, [order.id])
        return
    body = say(chat.lang, "pay.link", order=order.id, lines=lines_text(chat.lang, order.lines),
               total=price(chat.lang, order.total), until=wib(order.expires_at, chat.lang))
    await chat.client.send_cta_url(chat.number, body[:1024], title(chat.lang, "wa.btn.pay",
                                                                   total=price(chat.lang, order.total)),
                                   link.redirect_url)


async def pay(chat: Chat, args: list[str]) -> None:
    try:
        order = await chat.services.orders.get_for_user(args[0] if args else "", chat.account)
    except OrderNotFound:
        await chat.text(say(chat.lang, "order.not_found"))
        return
    await offer_payment(chat, order)


async def cancel(chat: Chat, args: list[str]) -> None:
    """Cancel a pending order: its seats go back on sale."""
    try:
        order = await chat.services.orders.cancel(args[0] if args else "", chat.account)
    except OrderNotFound:
        await chat.text(say(chat.lang, "order.not_found"))
        return
    except OrderNotPending:
        await show_order(chat, args)
        return
    await chat.text(say(chat.lang, "order.cancelled", order=order.id, lines=lines_text(chat.lang, order.lines)))


async def show_order(chat: Chat, args: list[str]) -> None:
    """Where one order stands (`order <id>`: the payment finish link's text lands here)."""
    try:
        order = await chat.services.orders.get_for_user(args[0] if args else "", chat.account)
    except OrderNotFound:
        await chat.text(say(chat.lang, "order.not_found"))
        return
    listing = await chat.services.catalog.definitions(order.event_id)
    text = plain(order_status(chat.lang, order, listing.event if listing else None))
    if order.status == OrderStatus.PENDING:
        await chat.buttons(text[:1024], [(reply_id(PAY, order.id), title(chat.lang, "wa.btn.pay",
                                                                          total=price(chat.lang, order.total))),
                                         (reply_id(CANCEL, order.id), title(chat.lang, "wa.btn.cancel"))])
    elif order.status == OrderStatus.PAID:
        await chat.buttons(text[:1024], [(TICKETS, title(chat.lang, "wa.btn.tickets"))])
    else:
        await chat.text(text)


async def orders(chat: Chat, args: list[str]) -> None:
    """The unpaid orders as a list: each one's Pay row and Cancel row (five orders at most)."""
    pending = (await chat.services.orders.pending_for_user(chat.account))[:LIST_ROWS // 2]
    if not pending:
        await chat.text(say(chat.lang, "wa.orders.none"))
        return
    titles = {e.id: e.title for e in await chat.services.catalog.events()}
    blocks = [say(chat.lang, "orders.head")]
    rows: list[tuple[str, str, str | None]] = []
    for order in pending:
        blocks.append(say(chat.lang, "orders.item", order=order.id, title=titles.get(order.event_id, order.event_id),
                          lines=lines_text(chat.lang, order.lines), total=price(chat.lang, order.total),
                          until=wib(order.expires_at, chat.lang)))
        rows.append((reply_id(PAY, order.id), title(chat.lang, "wa.order.pay_row", 24,
                                                    total=price(chat.lang, order.total)), order.id))
        rows.append((reply_id(CANCEL, order.id), title(chat.lang, "wa.order.cancel_row", 24, order=order.id[-6:]),
                     order.id))
    await chat.rows("\n\n".join(blocks)[:4096], title(chat.lang, "wa.btn.choose"), rows)


async def tickets(chat: Chat, args: list[str]) -> None:
    """The buyer's valid tickets as QR images (the template's quick reply after a late payment lands here too)."""
    mine = [tk for tk in await chat.services.tickets.for_user(chat.account) if tk.status == TicketStatus.VALID]
    if args:
        mine = [tk for tk in mine if tk.id == args[0]]
    if not mine:
        await chat.text(say(chat.lang, "tickets.none").replace("/start", "events" if chat.lang == "en" else "acara"))
        return
    listings = {tk.event_id: await chat.services.catalog.definitions(tk.event_id) for tk in mine}
    shown = mine[-TICKETS_SENT:]
    await chat.text(say(chat.lang, "wa.tickets.sending", n=len(shown)))
    for ticket in shown:
        listing = listings[ticket.event_id]
        await send_ticket(chat.client, chat.number, ticket, listing.event if listing else None, chat.lang,
                          chat.services.links)


HANDLERS = {EVENTS: events, EVENT: event, BUY: buy, QTY: quantity, CHECKOUT: checkout, USE_LAST: use_last,
            NEW_DETAILS: new_details, CONFIRM: confirm, DROP: drop, PAY: pay, CANCEL: cancel, ORDERS: orders,
            TICKETS: tickets, TICKET: tickets, "order": show_order}
