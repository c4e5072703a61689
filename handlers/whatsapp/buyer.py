"""The buyer's journey on WhatsApp: events (a list, 10 rows, a "more" row), an event card with reply buttons, a
list of tiers then a list of quantities, contact details typed one at a time (last time's offered), a summary to
confirm (once, however often it is tapped), the payment link as a call-to-action button, tickets, orders, cancel.

WhatsApp's 3 buttons and 10 rows cannot carry a cart, so the cart lives in the checkout service's draft
(bot/checkout.py, `set_cart`); every reply id names only one choice (`qty:<event>:<tier>:<n>`) or the draft
(`confirm:<nonce>`), so a stale or repeated tap acts on nothing newer than it saw.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.accounts import AccountId
from bot.catalog import SalesState, sales_state
from bot.checkout import Awaiting, CheckoutRefusal, CheckoutRefused, ConfirmRefused, Draft
from bot.contacts import clean_phone
from bot.errors import InvalidContact, OrderNotFound, OrderNotPending, RefusalReason, ReservationRefused
from bot.payments import PaymentLinkUnavailable, ReservationOver
from handlers.formatting import local_when, shorten, zone_of
from handlers.messages import has
from handlers.views import lines_text, order_status, price, sales_not_open, summary
from handlers.whatsapp.chat import LIST_ROWS, Chat
from handlers.whatsapp.texts import plain, say, title
from handlers.whatsapp.views import (
    BUY,
    CANCEL,
    CHANGE,
    CHECKOUT,
    CONFIRM,
    DROP,
    EVENT,
    EVENTS,
    FIELD,
    NEW_DETAILS,
    ORDERS,
    OWN_NUMBER,
    PAY,
    QTY,
    REVIEW,
    TICKET,
    TICKETS,
    USE_LAST,
    card_text,
    cart_text,
    reply_id,
    send_ticket,
)
from storage.documents import ContactStep, EventDoc, OrderDoc, OrderStatus, TicketStatus

ASKED = (Awaiting.NAME, Awaiting.EMAIL, Awaiting.PHONE)  # the steps a typed message answers
SHOW_ORDER = "order"  # order:<id>: where one order stands (also the text the payment finish link sends)
CANCEL_YES = "cancelok"  # cancelok:<order>: the confirming tap of a cancel
EVENTS_PER_PAGE = LIST_ROWS - 1  # the tenth row is "more"
TICKETS_SENT = 10  # QR images re-sent by "tickets" at most (the rest: ask again)


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
        (reply_id(EVENT, e.id), shorten(e.title, 24),
         shorten(f"{local_when(e.starts_at, e.timezone, chat.lang)} · {e.venue}", 72))
        for e in shown]
    if pages > 1:
        following = (page + 1) % pages
        rows.append((reply_id(EVENTS, following), title(chat.lang, "wa.btn.more", 24),
                     title(chat.lang, "wa.btn.more_desc", 72, page=following + 1, pages=pages)))
    await chat.rows(say(chat.lang, "events.list"), title(chat.lang, "wa.btn.choose"), rows)


async def event(chat: Chat, args: list[str]) -> None:
    """The event card: title, time, venue, tiers and prices; Buy / Events."""
    listing = await chat.services.access.event_for(chat.account, args[0]) if args else None
    if listing is None:
        await chat.text(say(chat.lang, "event.gone"))
        return
    sales = sales_state(listing.event, chat.services.clock(), listing.tiers)
    open_ = sales is SalesState.OPEN
    buttons = [(reply_id(BUY, listing.event.id), title(chat.lang, "wa.btn.buy"))] if open_ else []
    buttons.append((reply_id(EVENTS, 0), title(chat.lang, "wa.btn.events")))
    await chat.buttons(card_text(chat.lang, listing, on_sale=open_, sales=sales)[:1024], buttons)


async def buy(chat: Chat, args: list[str]) -> None:
    """The tiers with seats left, as a list."""
    listing = await chat.services.access.event_for(chat.account, args[0]) if args else None
    if listing is None:
        await chat.text(say(chat.lang, "event.gone"))
        return
    sales = sales_state(listing.event, chat.services.clock())
    if sales is not SalesState.OPEN:
        await chat.text(sales_text(chat.lang, sales, listing.event))
        return
    rows: list[tuple[str, str, str | None]] = [
        (reply_id(QTY, listing.event.id, tier.code), shorten(tier.name, 24),
         shorten(f"{price(chat.lang, tier.price)} · {plain(say(chat.lang, 'card.left', n=tier.available))}", 72))
        for tier in [tier for tier in listing.tiers if tier.available > 0][:LIST_ROWS]]
    if not rows:
        await chat.text(say(chat.lang, "card.sold_out_all"))
        return
    await chat.rows(say(chat.lang, "wa.tiers", title=listing.event.title), title(chat.lang, "wa.btn.choose"), rows)


async def quantity(chat: Chat, args: list[str]) -> None:
    """`qty:<event>:<tier>`: how many, as a list; `qty:<event>:<tier>:<n>`: that many in the purchase's cart
    (started now, or the one in progress for this event), then the cart with Continue / Add tickets / Cancel."""
    checkout = chat.services.checkout
    listing = await chat.services.access.event_for(chat.account, args[0]) if args else None
    tier = listing.tier(args[1]) if listing and len(args) > 1 else None
    if listing is None or tier is None:
        await chat.text(say(chat.lang, "event.gone"))
        return
    most = min(tier.max_per_order, tier.available, LIST_ROWS)
    if len(args) < 3:
        rows: list[tuple[str, str, str | None]] = [
            (reply_id(QTY, listing.event.id, tier.code, n), shorten(say(chat.lang, "wa.qty_row", n=n, tier=tier.name),
                                                                   24), price(chat.lang, n * tier.price))
            for n in range(1, most + 1)]
        if not rows:
            await chat.text(say(chat.lang, "refused.sold_out", tier=tier.name))
            return
        await chat.rows(say(chat.lang, "wa.qty" if tier.price else "wa.qty.free", tier=tier.name,
                            price=price(chat.lang, tier.price)),
                        title(chat.lang, "wa.btn.choose"), rows)
        return
    qty = int(args[2]) if args[2].isdigit() else 0
    if not 1 <= qty <= most:
        await chat.text(say(chat.lang, "refused.over_max", tier=tier.name, n=most))
        return
    current = await checkout.current(chat.account)
    try:
        if current is not None and current.event_id == listing.event.id:
            draft = await checkout.set_cart(chat.account, current.nonce, {**current.cart, tier.code: qty})
        else:
            draft = await checkout.start(chat.account, listing.event.id, {tier.code: qty})
    except CheckoutRefused as refusal:
        await chat.text(checkout_refusal_text(chat, refusal, listing.event))
        return
    await chat.buttons(cart_text(chat.lang, draft), [
        (reply_id(CHECKOUT, draft.nonce), title(chat.lang, "wa.btn.checkout")),
        (reply_id(BUY, listing.event.id), title(chat.lang, "wa.btn.add")),
        (reply_id(DROP, draft.nonce), title(chat.lang, "wa.btn.cancel"))])


def sales_text(lang: str, sales: SalesState, event: EventDoc | None) -> str:
    """Why the tickets cannot be bought: sales open later (and when, in the event's zone), have ended, sold out."""
    if sales is SalesState.NOT_YET_OPEN and event is not None and event.sales_open_at is not None:
        return plain(sales_not_open(lang, event))
    if sales is SalesState.SOLD_OUT:
        return say(lang, "card.sold_out_all")
    if sales is SalesState.NOT_YET_OPEN:
        return say(lang, "alert.sales_not_open_soon")
    return say(lang, "card.sales_closed")


def checkout_refusal_text(chat: Chat, refusal: CheckoutRefused, event: EventDoc | None = None) -> str:
    """`event`: the purchase's event, which says when sales open (else the text says the card does)."""
    match refusal.reason:
        case CheckoutRefusal.TOO_MANY_PENDING:
            return say(chat.lang, "refused.too_many_pending", n=refusal.limit or 0)
        case CheckoutRefusal.RATE_LIMITED:
            return say(chat.lang, "refused.rate_limited", n=refusal.limit or 0)
        case CheckoutRefusal.SALES_CLOSED:
            return say(chat.lang, "card.sales_closed")
        case CheckoutRefusal.SALES_NOT_OPEN:
            return sales_text(chat.lang, SalesState.NOT_YET_OPEN, event)
        case CheckoutRefusal.UNKNOWN_EVENT:
            return say(chat.lang, "event.gone")
        case CheckoutRefusal.EMPTY_CART:
            return say(chat.lang, "wa.cart_empty")
        case _:
            return say(chat.lang, "wa.draft_gone")


# ---- contact details -------------------------------------------------------------------------------------------


async def checkout(chat: Chat, args: list[str]) -> None:
    """Continue from the cart: last time's details offered, or the name asked."""
    draft = await chat.services.checkout.current(chat.account)
    if draft is None or not args or draft.nonce != args[0]:
        await chat.text(say(chat.lang, "wa.draft_gone"))
        return
    await show_step(chat, draft)


async def show_step(chat: Chat, draft: Draft, problem: str | None = None) -> None:
    """The step the purchase awaits: last time's details offered, a contact detail asked, or the summary."""
    if draft.awaiting is Awaiting.CONFIRM:
        await show_summary(chat, draft)
    elif draft.awaiting is Awaiting.CHOICE and draft.last is not None:
        last = draft.last
        await chat.buttons(say(chat.lang, "contact.use_last", name=last.name, email=last.email, phone=last.phone),
                           [(reply_id(USE_LAST, draft.nonce), title(chat.lang, "wa.btn.use_last")),
                            (reply_id(NEW_DETAILS, draft.nonce), title(chat.lang, "wa.btn.new_details")),
                            (reply_id(DROP, draft.nonce), title(chat.lang, "wa.btn.cancel"))])
    else:
        await ask(chat, draft, problem)


def own_number(chat: Chat) -> str | None:
    """The number this person writes from (Meta's wa_id), when it can be a buyer's phone."""
    try:
        return clean_phone(chat.number)
    except InvalidContact:
        return None


async def ask(chat: Chat, draft: Draft, problem: str | None = None) -> None:
    """Ask for the awaited detail (after what was wrong, if anything). The phone step offers the number this
    chat comes from as a button beside typing another; a detail being changed says what it is now and offers the
    way back to the summary."""
    step = draft.awaiting.value if draft.awaiting in ASKED else Awaiting.NAME.value
    if draft.changing:
        question = say(chat.lang, f"contact.change.{step}", current=getattr(draft, step))
    else:
        question = say(chat.lang, f"contact.ask.{step}")
    buttons: list[tuple[str, str]] = []
    number = own_number(chat) if step == Awaiting.PHONE.value else None
    if number is not None:
        question += "\n\n" + say(chat.lang, "wa.ask.phone.known", number=number)
        buttons.append((reply_id(OWN_NUMBER, draft.nonce), title(chat.lang, "wa.btn.use_number", number=number)))
    if draft.changing:
        buttons.append((reply_id(REVIEW, draft.nonce), title(chat.lang, "wa.btn.back_to_summary")))
    body = f"{problem}\n\n{question}" if problem else question
    if not buttons:
        await chat.text(body)
        return
    buttons.append((reply_id(DROP, draft.nonce), title(chat.lang, "wa.btn.cancel")))
    await chat.buttons(body[:1024], buttons)


async def use_own_number(chat: Chat, args: list[str]) -> None:
    """`number:<nonce>`: the phone is the number this chat comes from."""
    number = own_number(chat)
    try:
        if number is None:  # a button from before; the number cannot be a phone
            raise CheckoutRefused(CheckoutRefusal.NOT_AWAITING)
        draft = await chat.services.checkout.give(chat.account, args[0] if args else "", number,
                                                  expect=ContactStep.PHONE)
    except CheckoutRefused as refusal:
        current = await chat.services.checkout.current(chat.account)
        if refusal.reason is CheckoutRefusal.NOT_AWAITING and current is not None and args and \
                current.nonce == args[0]:
            await show_step(chat, current)  # tapped again after the step: where the purchase is now
            return
        await chat.text(checkout_refusal_text(chat, refusal))
        return
    await show_step(chat, draft)


async def change(chat: Chat, args: list[str]) -> None:
    """`change:<nonce>`, the summary's Change details: which one (the others are kept)."""
    draft = await chat.services.checkout.current(chat.account)
    nonce = args[0] if args else ""
    if draft is None or draft.nonce != nonce or draft.buyer is None:
        await chat.text(say(chat.lang, "wa.draft_gone"))
        return
    await chat.buttons(say(chat.lang, "contact.change.choose"), [
        (reply_id(FIELD, nonce, f.value), title(chat.lang, f"wa.btn.change.{f.value}"))
        for f in (ContactStep.NAME, ContactStep.EMAIL, ContactStep.PHONE)])


async def change_field(chat: Chat, args: list[str]) -> None:
    """`field:<nonce>:<name|email|phone>`: that one detail asked again; once given, the summary."""
    if len(args) != 2 or args[1] not in {f.value for f in ContactStep}:
        await chat.text(say(chat.lang, "wa.draft_gone"))
        return
    checkout = chat.services.checkout
    await draft_step(chat, args, lambda account, nonce: checkout.change(account, nonce, args[1]))


async def review(chat: Chat, args: list[str]) -> None:
    """`review:<nonce>`: back to the summary, the details unchanged."""
    await draft_step(chat, args, chat.services.checkout.review)


async def use_last(chat: Chat, args: list[str]) -> None:
    await draft_step(chat, args, chat.services.checkout.use_last_details)


async def new_details(chat: Chat, args: list[str]) -> None:
    await draft_step(chat, args, chat.services.checkout.new_details)


async def draft_step(chat: Chat, args: list[str], step: Callable[[AccountId, str], Awaitable[Draft]]) -> None:
    """A reply naming a draft (`<id>:<draft>:...`) moves it one step: the checkout service's `step(account,
    draft)`, then whatever the draft asks for next; a refusal (an old button) says why."""
    try:
        draft = await step(chat.account, args[0] if args else "")
    except CheckoutRefused as refusal:
        await chat.text(checkout_refusal_text(chat, refusal))
        return
    await show_step(chat, draft)


async def typed(chat: Chat, draft: Draft) -> None:
    """The contact detail the draft waits for; then the next question, or the summary."""
    try:
        updated = await chat.services.checkout.give(chat.account, draft.nonce, chat.message.text or "")
    except InvalidContact as exc:
        key = f"contact.error.{exc.field.value}.{exc.problem}"
        await show_step(chat, draft, say(chat.lang, key if has(key) else f"contact.error.{exc.field.value}.invalid"))
        return
    except CheckoutRefused as refusal:
        await chat.text(checkout_refusal_text(chat, refusal))
        return
    await show_step(chat, updated)


async def show_summary(chat: Chat, draft: Draft) -> None:
    if not (draft.name and draft.email and draft.phone):
        await show_step(chat, draft)
        return
    text = plain(summary(chat.lang, draft.event, draft.lines, draft.name, draft.email, draft.phone))
    confirm_title = title(chat.lang, "wa.btn.confirm_free" if draft.free else "wa.btn.confirm")
    await chat.buttons(text[:1024], [(reply_id(CONFIRM, draft.nonce), confirm_title),
                                     (reply_id(CHANGE, draft.nonce), title(chat.lang, "wa.btn.change")),
                                     (reply_id(DROP, draft.nonce), title(chat.lang, "wa.btn.cancel"))])


async def drop(chat: Chat, args: list[str]) -> None:
    """Abandon the purchase; an old Cancel of a purchase that is no longer open tells what it became."""
    nonce = args[0] if args else ""
    if await chat.services.checkout.abandon(chat.account, nonce):
        await chat.buttons(say(chat.lang, "purchase.dropped"),
                           [(reply_id(EVENTS, 0), title(chat.lang, "wa.btn.events"))])
        return
    order = await chat.services.order_messages.draft_order(chat.account, nonce)
    if order is None:
        await chat.text(say(chat.lang, "wa.purchase.closed"))
    elif order.status == OrderStatus.PENDING:
        await show_order(chat, [order.id], lead=await truth(chat, order))
    else:
        await tell_truth(chat, order)


# ---- reserving and paying ----------------------------------------------------------------------------------------


async def confirm(chat: Chat, args: list[str]) -> None:
    """Reserve the draft's seats and send the payment link. The checkout takes the draft atomically, so of any
    number of taps on Confirm exactly one reserves; the others are told it is done."""
    try:
        order = await chat.services.checkout.confirm(chat.account, args[0] if args else "", address=chat.address)
    except CheckoutRefused as refusal:
        gone = refusal.reason is CheckoutRefusal.DRAFT_GONE
        await chat.text(say(chat.lang, "wa.confirming") if gone else checkout_refusal_text(chat, refusal))
        return
    except ConfirmRefused as refusal:  # nothing held; the draft is back
        await chat.text(refusal_text(chat, refusal, await chat.services.catalog.event(refusal.draft.event_id)))
        return
    if order.status == OrderStatus.PAID:  # free: the receipt and the QR images (the notifier's) are the answer
        await chat.services.delivery.deliver(order.id)
        return
    await chat.services.order_messages.confirmed_from(order.id, args[0])  # an old Cancel of the draft says so
    await offer_payment(chat, order)


def refusal_text(chat: Chat, refusal: ReservationRefused, event: EventDoc | None = None) -> str:
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
        case RefusalReason.SALES_NOT_OPEN:
            return sales_text(chat.lang, SalesState.NOT_YET_OPEN, event)
        case RefusalReason.SALES_CLOSED:
            return sales_text(chat.lang, SalesState.CLOSED, event)
        case _:
            return say(chat.lang, "refused.unknown_event")


async def offer_payment(chat: Chat, order: OrderDoc) -> None:
    """The Midtrans payment page as a call-to-action button (its finish link brings the buyer back here)."""
    services = chat.services
    zone = zone_of(await services.catalog.event(order.event_id))
    try:
        finish = services.links.order_finish(order)  # `order <id>` typed into this chat
        link = await services.payments.payment_link(order.id, chat.account, finish_url=finish)
    except PaymentLinkUnavailable:
        until = local_when(order.expires_at, zone, chat.lang)
        await chat.buttons(say(chat.lang, "pay.unavailable", order=order.id, until=until),
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
               total=price(chat.lang, order.total), until=local_when(order.expires_at, zone, chat.lang))
    await chat.client.send_cta_url(chat.number, body[:1024], title(chat.lang, "wa.btn.pay",
                                                                   total=price(chat.lang, order.total)),
                                   link.redirect_url)


async def truth(chat: Chat, order: OrderDoc) -> str:
    """What is true of an order an old button points at (WhatsApp cannot edit the message it is on)."""
    return say(chat.lang, f"order.truth.{order.status.value}", order=order.id,
               until=local_when(order.expires_at, zone_of(await chat.services.catalog.event(order.event_id)),
                                chat.lang))


async def tell_truth(chat: Chat, order: OrderDoc) -> None:
    """An old button pointed at an order that is no longer pending: the truth, then where it stands."""
    await show_order(chat, [order.id], lead=await truth(chat, order))


async def pending_order(chat: Chat, args: list[str]) -> OrderDoc | None:
    """The pending order a Pay or Cancel reply names; None when it is gone or no longer pending, with the truth
    about it said instead."""
    try:
        order = await chat.services.orders.get_for_user(args[0] if args else "", chat.account)
    except OrderNotFound:
        await chat.text(say(chat.lang, "order.not_found"))
        return None
    if order.status != OrderStatus.PENDING:
        await tell_truth(chat, order)
        return None
    return order


async def pay(chat: Chat, args: list[str]) -> None:
    if (order := await pending_order(chat, args)) is not None:
        await offer_payment(chat, order)


async def cancel(chat: Chat, args: list[str]) -> None:
    """Ask for one confirming tap before cancelling a pending order (the body names the order: button titles
    have 20 characters)."""
    if (order := await pending_order(chat, args)) is None:
        return
    await chat.buttons(say(chat.lang, "order.cancel_ask", order=order.id, lines=lines_text(chat.lang, order.lines),
                           total=price(chat.lang, order.total))[:1024],
                       [(reply_id(CANCEL_YES, order.id), title(chat.lang, "wa.btn.cancel_yes")),
                        (reply_id(SHOW_ORDER, order.id), title(chat.lang, "wa.btn.cancel_keep"))])


async def cancel_confirmed(chat: Chat, args: list[str]) -> None:
    """Cancel a pending order: its seats go back on sale."""
    order_id = args[0] if args else ""
    try:
        order = await chat.services.orders.cancel(order_id, chat.account)
    except OrderNotFound:
        await chat.text(say(chat.lang, "order.not_found"))
        return
    except OrderNotPending:
        await tell_truth(chat, await chat.services.orders.get_for_user(order_id, chat.account))
        return
    await chat.text(say(chat.lang, "order.cancelled", order=order.id, lines=lines_text(chat.lang, order.lines)))


async def show_order(chat: Chat, args: list[str], *, lead: str | None = None) -> None:
    """Where one order stands (`order <id>`: the payment finish link's text lands here); after `lead`, if given."""
    try:
        order = await chat.services.orders.get_for_user(args[0] if args else "", chat.account)
    except OrderNotFound:
        await chat.text(say(chat.lang, "order.not_found"))
        return
    listing = await chat.services.catalog.definitions(order.event_id)
    text = plain(order_status(chat.lang, order, listing.event if listing else None))
    if lead:
        text = f"{lead}\n\n{text}"
    if order.status == OrderStatus.PENDING:
        await chat.buttons(text[:1024], [(reply_id(PAY, order.id), title(chat.lang, "wa.btn.pay",
                                                                          total=price(chat.lang, order.total))),
                                         (reply_id(CANCEL, order.id), title(chat.lang, "wa.btn.cancel"))])
    elif order.status == OrderStatus.PAID:
        await chat.buttons(text[:1024], [(TICKETS, title(chat.lang, "wa.btn.tickets"))])
    else:
        await chat.text(text)


async def orders(chat: Chat, args: list[str]) -> None:
    """The unpaid orders as a list, numbered: each one's Pay row and Cancel row (five orders at most), the order
    named in the body and in each row's description; the latest paid orders in the body, without rows."""
    listing = await chat.services.order_messages.listing(chat.account)
    pending = listing.pending[:LIST_ROWS // 2]
    if not pending and not listing.paid:
        await chat.text(say(chat.lang, "wa.orders.none"))
        return
    known = {e.id: e for e in await chat.services.catalog.events()}
    titles = {e.id: e.title for e in known.values()}
    blocks = [say(chat.lang, "orders.head" if pending else "orders.none_unpaid")]
    rows: list[tuple[str, str, str | None]] = []
    for n, order in enumerate(pending, start=1):
        blocks.append(say(chat.lang, "orders.item_n", n=n, order=order.id,
                          title=titles.get(order.event_id, order.event_id), lines=lines_text(chat.lang, order.lines),
                          total=price(chat.lang, order.total),
                          until=local_when(order.expires_at, zone_of(known.get(order.event_id)), chat.lang)))
        rows.append((reply_id(PAY, order.id), title(chat.lang, "wa.order.pay_n", 24, n=n,
                                                    total=price(chat.lang, order.total)), order.id))
        rows.append((reply_id(CANCEL, order.id), title(chat.lang, "wa.order.cancel_n", 24, n=n), order.id))
    if listing.paid:
        blocks.append("\n".join([say(chat.lang, "orders.paid_head").replace("/mytickets", tickets_word(chat)),
                                 *(say(chat.lang, "orders.paid_item", order=o.id, total=price(chat.lang, o.total),
                                       title=titles.get(o.event_id, o.event_id)) for o in listing.paid)]))
    text = "\n\n".join(blocks)[:4096]
    if rows:
        await chat.rows(text, title(chat.lang, "wa.btn.choose"), rows)
    else:
        await chat.text(text)


def tickets_word(chat: Chat) -> str:
    """What to send for one's tickets on WhatsApp (the catalog's texts name the Telegram command)."""
    return "tickets" if chat.lang == "en" else "tiket"


async def tickets(chat: Chat, args: list[str]) -> None:
    """The buyer's valid tickets as QR images (the template's quick reply after a late payment lands here too)."""
    mine = [tk for tk in await chat.services.tickets.for_user(chat.account) if tk.status == TicketStatus.VALID]
    if args:
        mine = [tk for tk in mine if tk.id == args[0]]
    if not mine:
        await chat.text(say(chat.lang, "wa.tickets.none"))
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
            CHANGE: change, FIELD: change_field, REVIEW: review, OWN_NUMBER: use_own_number,
            TICKETS: tickets, TICKET: tickets, SHOW_ORDER: show_order, CANCEL_YES: cancel_confirmed}
