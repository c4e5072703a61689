"""Buyers: browse events, pick tickets, give contact details, confirm, pay; see orders and tickets.

The conversation lives in callback data (the event and the cart ride in the buttons) and in the purchase draft the
checkout service keeps (`services.checkout`, bot/checkout.py: contact details being typed, and which message shows
the purchase), never in this process: a restart or a second instance continues it. This module only parses and
renders; every checkout step, refusal and the exactly-once confirm are the service's.

One message carries the purchase: the event card becomes the first prompt (or the offer of last time's details),
each typed answer edits that prompt into the next step, then the summary, then the payment link. The buyer's typed
answers are their own messages; the bot sends a new message only when it has none it can edit (see `show_step`).

    /start ─▶ events ─▶ c|event|cart (➕/➖ per tier) ─▶ k|event|cart ─▶ u|draft (last details) or name, email,
    phone as messages ─▶ summary ─▶ y|draft ─▶ reserve ─▶ payment link (op|order to retry, oc|order to cancel)
    summary ─▶ ch|draft (which detail?) ─▶ cf|draft|field ─▶ that one typed again ─▶ summary (sm|draft: back)

The phone step offers Telegram's reply keyboard with a `request_contact` button ("Share my phone number"). A
reply keyboard rides only on a sent message (edits take inline keyboards only, and a message has one
reply_markup), so the phone prompt is a new message carrying it, with Cancel as the keyboard's second, text
button. A shared contact is taken only when it is the sender's own (`contact.user_id`); once the phone is given,
a short note with ReplyKeyboardRemove takes the keyboard away and the summary comes below it, as a new message.
One message more than editing in place; no old prompt is deleted (a delete costs a call to the chat like a
message does, handlers/telegram/rate_limit.py), and a stale Cancel on one says the purchase is gone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.accounts import TELEGRAM, AccountId, telegram_address
from bot.catalog import EventWithTiers, SalesState, sales_state
from bot.checkout import Awaiting, CheckoutRefusal, CheckoutRefused, ConfirmRefused, Draft, DraftRef, clamp_cart
from bot.errors import InvalidContact, OrderNotFound, OrderNotPending, RefusalReason, ReservationRefused
from bot.order_messages import MessageView, OfferedMessage
from bot.payments import PaymentLinkUnavailable, ReservationOver
from bot.services import Services
from bot.tickets import format_code
from handlers.formatting import local_date, local_when, paginate, shorten, zone_of
from handlers.messages import Html, has, label, t
from handlers.telegram.keyboards import (
    args,
    button,
    decode_cart,
    encode_cart,
    fits,
    markup,
    page_buttons,
    pattern,
    url_button,
)
from handlers.telegram.order_messages import edit_offered, offered
from handlers.telegram.shared import (
    NO_PREVIEW,
    PRIVATE,
    Context,
    account,
    callback_query,
    chat_id,
    edit,
    is_admin,
    lang,
    message_of,
    organised_events,
    reply,
    send_ticket,
    services_of,
    user_id,
)
from handlers.views import (
    cart_lines,
    event_card,
    lines_text,
    order_status,
    payment_actions,
    payment_instructions,
    price,
    summary,
)
from storage.documents import ContactStep, EventDoc, OrderDoc, OrderStatus, PurchaseDraft, TicketStatus

# ---- callback prefixes -------------------------------------------------------------------------------------------
EVENTS = "l"        # l|<page>            the events on sale
CART = "c"          # c|<event>|<cart>    an event card with this selection (➕/➖ edit it in place)
NOOP = "n"          # n|<why>             a button that only explains itself
CHECKOUT = "k"      # k|<event>|<cart>    on to the contact details
USE_LAST = "u"      # u|<draft>           use the contact details from last time
NEW_DETAILS = "w"   # w|<draft>           type the contact details
CONFIRM = "y"       # y|<draft>           reserve the seats
DROP = "x"          # x|<draft>           abandon the purchase
CHANGE = "ch"       # ch|<draft>          the summary's Change: which detail?
CHANGE_FIELD = "cf" # cf|<draft>|<field>  type that one detail again (name, email or phone), keep the others
SUMMARY = "sm"      # sm|<draft>          back to the summary, nothing changed
PAY = "op"          # op|<order>[|l]      the payment link (again)
CANCEL = "oc"       # oc|<order>[|l]      cancel a pending order: asks first (l: pressed in the orders list)
CANCEL_YES = "ok"   # ok|<order>          cancel it: the confirming tap
LISTED = "l"        # the last part of a Pay/Cancel pressed in the orders list: answered under it
ORDERS = "mo"       # mo                  my pending orders
TICKETS = "mt"      # mt|<page>           my tickets
QR = "q"            # q|<code>            re-send one ticket's QR

# ---- deep-link payloads (/start <payload>) ---------------------------------------------------------------------
EVENT_PAYLOAD = "ev_"
ORDER_PAYLOAD = "o_"
TICKET_LINK = filters.Regex(r"^/start(?:@\w+)?\s+t_")  # handled by the organiser module (check-in at the door)

EVENTS_PER_PAGE = 8
TICKETS_PER_PAGE = 8
ORDERS_SHOWN = 10
ASKED = (Awaiting.NAME, Awaiting.EMAIL, Awaiting.PHONE)  # the steps a typed message answers


def with_qty(listing: EventWithTiers, cart: Mapping[str, int], code: str, qty: int) -> dict[str, int]:
    """The cart with one tier's quantity changed, in the event's tier order (one cart, one callback data)."""
    return {t.code: qty if t.code == code else cart.get(t.code, 0) for t in listing.tiers}


# ---- keyboards ---------------------------------------------------------------------------------------------------


def card_keyboard(lang_: str, listing: EventWithTiers, cart: dict[str, int], on_sale: bool,
                  sales: SalesState | None = None) -> InlineKeyboardMarkup:
    """Per tier ➖ [name · qty] ➕, bounded by max per order and seats left; then checkout and back. Before sales
    open, one button that says when they do."""
    event_id = listing.event.id
    rows: list[list[InlineKeyboardButton]] = []
    opens = listing.event.sales_open_at
    if sales is SalesState.NOT_YET_OPEN and opens is not None:
        when = local_when(opens, listing.event.timezone, lang_)
        rows.append([button(label(lang_, "btn.sales_open_on", when=when), NOOP, "o")])
    if on_sale:
        for tier in listing.tiers:
            qty = cart.get(tier.code, 0)
            name = shorten(tier.name, 28)
            if tier.available <= 0 and qty == 0:
                rows.append([button(label(lang_, "btn.sold_out", tier=name), NOOP, "s")])
                continue
            less = with_qty(listing, cart, tier.code, qty - 1)
            more = with_qty(listing, cart, tier.code, qty + 1)
            minus = button("➖", CART, event_id, encode_cart(less)) if qty > 0 else button("·", NOOP)
            if qty >= tier.max_per_order:
                plus = button("·", NOOP, "m")
            elif qty >= tier.available:
                plus = button("·", NOOP, "s")
            elif not fits(CHECKOUT, event_id, encode_cart(more)):
                plus = button("·", NOOP, "t")
            else:
                plus = button("➕", CART, event_id, encode_cart(more))
            middle = button(f"{name} · {qty}" if qty else name, NOOP)
            rows.append([minus, middle, plus])
        if cart:
            total = sum(line.amount for line in cart_lines(listing.tiers, cart))
            rows.append([button(label(lang_, "btn.checkout", total=price(lang_, total)), CHECKOUT, event_id,
                                encode_cart(cart))])
    rows.append([button(label(lang_, "btn.events"), EVENTS, "0")])
    return InlineKeyboardMarkup(rows)


def draft_buttons(lang_: str, nonce: str) -> list[InlineKeyboardButton]:
    return [button(label(lang_, "btn.cancel_purchase"), DROP, nonce)]


def pay_buttons(lang_: str, order: OrderDoc) -> list[list[InlineKeyboardButton]]:
    """Pay (the stored link, or a button that makes one) and cancel, for a pending order."""
    url = order.payment.get("redirect_url")
    pay_text = label(lang_, "btn.pay", total=price(lang_, order.total))
    pay = url_button(pay_text, url) if url else button(pay_text, PAY, order.id)
    return [[pay], [button(label(lang_, "btn.cancel_order"), CANCEL, order.id)]]


# ---- showing events ------------------------------------------------------------------------------------------------


EVENT_TITLE_IN_BUTTON = 24  # characters of the title after the date: about 43 in all, a phone's button width


def event_button_text(lang_: str, event: EventDoc) -> str:
    """`Thu, 31 Dec 2026 · Jazz Senja di Taman: Ma…`: the date first. Telegram's clients cut a label too wide for
    its button at the end, with an ellipsis, and a phone at 375 px fits about 40 characters: a date after a long
    title is what gets cut. First, it is always seen; the title (whole on the event's card) is cut to fit."""
    return f"{local_date(event.starts_at, event.timezone, lang_)} · {cut_at_a_word(event.title, EVENT_TITLE_IN_BUTTON)}"


def cut_at_a_word(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut after a whole word (when one ends in the second half) with `…`."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" :;,.·-–—") + "…"


async def events_page(services: Services, lang_: str, page: int) -> tuple[Html, InlineKeyboardMarkup | None]:
    events = await services.catalog.on_sale()
    if not events:
        return t(lang_, "events.none"), None
    pages = max(1, -(-len(events) // EVENTS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = events[page * EVENTS_PER_PAGE:(page + 1) * EVENTS_PER_PAGE]
    rows = [[button(event_button_text(lang_, e), CART, e.id, "")] for e in shown]
    rows.append(page_buttons(EVENTS, page, pages))
    return t(lang_, "events.list"), markup(rows)


async def card(services: Services, lang_: str, event_id: str, cart: Mapping[str, int],
               viewer: AccountId) -> tuple[Html, InlineKeyboardMarkup] | None:
    """The event card with this selection, or None if there is no such event (or it is a draft `viewer` may not
    see: bot/access.py)."""
    listing = await services.access.event_for(viewer, event_id)
    if listing is None:
        return None
    sales = sales_state(listing.event, services.clock(), listing.tiers)
    on_sale = sales in (SalesState.OPEN, SalesState.SOLD_OUT)
    clamped = clamp_cart(listing, cart) if on_sale else {}
    return (event_card(lang_, listing, clamped, on_sale=on_sale, sales=sales),
            card_keyboard(lang_, listing, clamped, on_sale, sales))


async def start(update: Update, context: Context) -> None:
    """Welcome and the events on sale; `ev_<id>` opens one event, `o_<order>` shows one order."""
    services, lang_ = services_of(context), lang(update)
    payload = context.args[0] if context.args else ""
    if payload.startswith(EVENT_PAYLOAD):
        shown = await card(services, lang_, payload[len(EVENT_PAYLOAD):], {}, account(update, context))
        if shown is not None:
            await reply(update, context, *shown)
            return
        await reply(update, context, t(lang_, "event.gone"))
    elif payload.startswith(ORDER_PAYLOAD):
        await show_order(update, context, payload[len(ORDER_PAYLOAD):])
        return
    text, keyboard = await events_page(services, lang_, 0)
    welcome = t(lang_, "welcome", name=update.effective_user.first_name if update.effective_user else "")
    await reply(update, context, Html(welcome + "\n\n" + text), keyboard)


async def on_events(update: Update, context: Context) -> None:
    """Replace the message with a page of the events on sale."""
    query = callback_query(update)
    await query.answer()
    page = args(query.data)[0] if args(query.data) else "0"
    text, keyboard = await events_page(services_of(context), lang(update), int(page) if page.isdigit() else 0)
    await edit(query, text, keyboard)


async def on_cart(update: Update, context: Context) -> None:
    """Show the event card with the selection the button carries (➕/➖ land here)."""
    query, lang_ = callback_query(update), lang(update)
    parts = args(query.data)
    cart = decode_cart(parts[1]) if len(parts) == 2 else None
    shown = (await card(services_of(context), lang_, parts[0], cart, account(update, context))
             if cart is not None else None)
    if shown is None:
        await query.answer(label(lang_, "alert.event_gone"), show_alert=True)
        return
    await query.answer()
    await edit(query, *shown)


async def on_noop(update: Update, context: Context) -> None:
    """Explain a button that does nothing (a tier's name, a limit reached)."""
    query, lang_ = callback_query(update), lang(update)
    why = (args(query.data) or [""])[0]
    key = {"m": "alert.max_per_order", "s": "alert.no_seats", "t": "alert.cart_full",
           "o": "alert.sales_not_open_soon"}.get(why, "alert.use_buttons")
    await query.answer(label(lang_, key))


# ---- contact details -------------------------------------------------------------------------------------------


async def refuse_step(update: Update, context: Context, refusal: CheckoutRefused,
                      event_id: str = "", cart: Mapping[str, int] | None = None) -> None:
    """A checkout step the service refused: an alert on the pressed button; the two purchase limits (said before
    any detail is typed) replace the pressed message with the way forward."""
    query, lang_ = callback_query(update), lang(update)
    if refusal.reason in (CheckoutRefusal.TOO_MANY_PENDING, CheckoutRefusal.RATE_LIMITED):
        await query.answer()
        retry = [button(label(lang_, "btn.try_again"), CHECKOUT, event_id, encode_cart(cart or {}))]
        if refusal.reason is CheckoutRefusal.TOO_MANY_PENDING:
            await show_result(update, context, t(lang_, "refused.too_many_pending", n=refusal.limit or 0),
                              markup([[button(label(lang_, "btn.my_orders"), ORDERS)], retry]))
        else:
            await show_result(update, context, t(lang_, "refused.rate_limited", n=refusal.limit or 0),
                              markup([retry]))
        return
    if refusal.reason is CheckoutRefusal.SALES_NOT_OPEN:
        await query.answer(await sales_not_open_alert(services_of(context), lang_, event_id), show_alert=True)
        return
    key = {CheckoutRefusal.UNKNOWN_EVENT: "alert.event_gone", CheckoutRefusal.SALES_CLOSED: "alert.sales_closed",
           CheckoutRefusal.EMPTY_CART: "alert.cart_empty"}.get(refusal.reason, "alert.draft_gone")
    await query.answer(label(lang_, key), show_alert=True)


async def sales_not_open_alert(services: Services, lang_: str, event_id: str) -> str:
    """`Ticket sales have not opened yet: they open on <date time zone>.`"""
    event = await services.catalog.event(event_id) if event_id else None
    if event is None or event.sales_open_at is None:
        return label(lang_, "alert.sales_not_open_soon")
    return label(lang_, "alert.sales_not_open", when=local_when(event.sales_open_at, event.timezone, lang_))


async def on_checkout(update: Update, context: Context) -> None:
    """Start the purchase of the chosen tickets and ask for contact details, offering last time's."""
    query, services = callback_query(update), services_of(context)
    parts = args(query.data)
    cart = decode_cart(parts[1]) if len(parts) == 2 else None
    if cart is None:
        await query.answer(label(lang(update), "alert.event_gone"), show_alert=True)
        return
    try:
        draft = await services.checkout.start(account(update, context), parts[0], cart,
                                              prompt_message_id=query.message.message_id if query.message else None)
    except CheckoutRefused as refusal:
        await refuse_step(update, context, refusal, parts[0], cart)
        return
    await query.answer()
    await show_draft(update, context, draft)


async def show_draft(update: Update, context: Context, draft: Draft, problem: Html | None = None) -> None:
    """The step the purchase awaits: last time's details offered, a contact detail asked, or the summary."""
    lang_ = lang(update)
    if draft.given is ContactStep.PHONE:  # the phone step's reply keyboard goes; what follows comes below it
        await close_phone_step(update, context, draft)
        if draft.awaiting is Awaiting.CONFIRM:
            await send_summary(update, context, draft, below=True)
        else:
            await ask(update, context, draft, below=True)
    elif draft.awaiting is Awaiting.CONFIRM:
        await send_summary(update, context, draft)
    elif draft.awaiting is Awaiting.CHOICE and draft.last is not None:
        last = draft.last
        keyboard = markup([[button(label(lang_, "btn.use_last"), USE_LAST, draft.nonce)],
                           [button(label(lang_, "btn.new_details"), NEW_DETAILS, draft.nonce)],
                           draft_buttons(lang_, draft.nonce)])
        await show_step(update, context, draft,
                        t(lang_, "contact.use_last", name=last.name, email=last.email, phone=last.phone), keyboard)
    else:
        await ask(update, context, draft, problem)


async def show_step(update: Update, context: Context, draft: Draft, text: Html,
                    keyboard: InlineKeyboardMarkup | None, *, below: bool = False) -> None:
    """Show the purchase's next step in its one message, edited in place: the pressed message (a button), or the
    draft's prompt message (a typed answer). A new message is sent, and its id kept in the draft, only when there
    is nothing Telegram lets us edit: an old draft without one, a message the buyer deleted, or an edit that would
    change nothing (the same mistake typed twice: the buyer must see that the bot answered). `below`: the bot
    sent a message after the prompt (the note that took the share keyboard away), so the step comes as a new
    message at the bottom. Old prompts are left as they are: deleting one costs a call like any message."""
    query = update.callback_query
    pressed = query.message.message_id if query is not None and query.message is not None else None
    target = pressed or draft.prompt_message_id
    if below:
        sent = await reply(update, context, text, keyboard)
        await remember_prompt(update, context, draft, sent.message_id)
        return
    if target is not None:
        try:
            await context.bot.edit_message_text(text, chat_id=chat_id(update), message_id=target,
                                                parse_mode=ParseMode.HTML, reply_markup=keyboard,
                                                link_preview_options=NO_PREVIEW)
        except BadRequest as exc:
            if pressed is not None and "not modified" in exc.message.lower():
                return  # a double tap: the message already shows this step
            if pressed is not None and "not found" not in exc.message.lower():
                raise
        else:
            if target != draft.prompt_message_id:
                await remember_prompt(update, context, draft, target)
            return
    sent = await reply(update, context, text, keyboard)
    await remember_prompt(update, context, draft, sent.message_id)


async def remember_prompt(update: Update, context: Context, draft: Draft, message_id: int) -> None:
    await services_of(context).checkout.remember_prompt(account(update, context), draft.nonce, message_id)


async def show_result(update: Update, context: Context, text: Html,
                      keyboard: InlineKeyboardMarkup | None = None) -> int:
    """What a pressed button led to, in place of the pressed message (the summary becomes the payment link); a
    new message when the update is not a button press, or the pressed message cannot be edited. The id of the
    message that shows it."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard,
                                          link_preview_options=NO_PREVIEW)
            return query.message.message_id
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return query.message.message_id
            if "not found" not in exc.message.lower() and "no text" not in exc.message.lower():
                raise
    return (await reply(update, context, text, keyboard)).message_id


async def ask(update: Update, context: Context, draft: Draft, problem: Html | None = None, *,
              below: bool = False) -> None:
    """Ask for the contact detail the draft is waiting for (after saying what was wrong, if anything); one
    detail being changed says what it is now, with a way back to the summary. The phone step is `ask_phone`."""
    lang_ = lang(update)
    step = draft.awaiting.value if draft.awaiting in ASKED else Awaiting.NAME.value
    if draft.changing:
        text = t(lang_, f"contact.change.{step}", current=getattr(draft, step))
    else:
        text = t(lang_, f"contact.ask.{step}")
    if step == Awaiting.PHONE.value:
        await ask_phone(update, context, draft, text, problem, offer=problem is None)
        return
    rows = [draft_buttons(lang_, draft.nonce)]
    if draft.changing:
        rows.insert(0, [button(label(lang_, "btn.back_to_summary"), SUMMARY, draft.nonce)])
    await show_step(update, context, draft, Html(f"{problem}\n\n{text}") if problem else text, markup(rows),
                    below=below)


async def ask_phone(update: Update, context: Context, draft: Draft, question: Html, problem: Html | None, *,
                    offer: bool) -> None:
    """The phone step. `offer`: a new prompt carrying the share-my-number keyboard (a reply keyboard rides only
    on a sent message, never on an edit) below the old prompt; its Cancel (or, while changing the phone, Back to
    the summary) is a keyboard button too, as the prompt can carry no inline one. Otherwise (a typed mistake)
    the prompt's text is edited and the keyboard stays as it is."""
    lang_ = lang(update)
    text = Html(f"{question}\n\n{t(lang_, 'contact.share.offer')}")
    text = Html(f"{problem}\n\n{text}") if problem else text
    if not offer:
        await show_step(update, context, draft, text, None)
        return
    sent = await context.bot.send_message(chat_id(update), text, parse_mode=ParseMode.HTML,
                                          reply_markup=share_keyboard(lang_, changing=draft.changing),
                                          link_preview_options=NO_PREVIEW)
    await remember_prompt(update, context, draft, sent.message_id)


def share_keyboard(lang_: str, *, changing: bool = False) -> ReplyKeyboardMarkup:
    """The button that sends the user's own phone number as a contact (Telegram asks them first), and Cancel
    (or Back to the summary) as a text button; hidden once used (one_time_keyboard), as small as it can be
    (resize_keyboard)."""
    second = label(lang_, "btn.back_to_summary" if changing else "btn.cancel_purchase")
    return ReplyKeyboardMarkup([[KeyboardButton(label(lang_, "contact.share.button"), request_contact=True)],
                                [KeyboardButton(second)]],
                               one_time_keyboard=True, resize_keyboard=True,
                               input_field_placeholder=label(lang_, "contact.share.placeholder"))


async def offer_share(update: Update, context: Context, text: Html, draft: Draft) -> None:
    await context.bot.send_message(chat_id(update), text, parse_mode=ParseMode.HTML,
                                   reply_markup=share_keyboard(lang(update), changing=draft.changing))


async def on_phone_keyboard_text(update: Update, context: Context, draft: Draft, text: str) -> bool:
    """The share keyboard's Cancel or Back to the summary, which arrive as typed text; True if it was one."""
    lang_, services, uid = lang(update), services_of(context), account(update, context)
    if text == label(lang_, "btn.cancel_purchase"):
        await services.checkout.abandon(uid, draft.nonce)
        await context.bot.send_message(chat_id(update), Html(t(lang_, "purchase.dropped") + "\n\n" +
                                                             t(lang_, "hint.start")),
                                       parse_mode=ParseMode.HTML, reply_markup=ReplyKeyboardRemove())
        return True
    if text == label(lang_, "btn.back_to_summary") and draft.changing:
        try:
            back = await services.checkout.review(uid, draft.nonce)
        except CheckoutRefused:
            return False
        await close_phone_step(update, context, back)
        await send_summary(update, context, back, below=True)
        return True
    return False


async def close_phone_step(update: Update, context: Context, draft: Draft) -> None:
    """The phone is given: a short note of it that takes the reply keyboard away (ReplyKeyboardRemove rides on
    a message, and that message can carry nothing else)."""
    await context.bot.send_message(chat_id(update), t(lang(update), "contact.share.noted", phone=draft.phone or ""),
                                   parse_mode=ParseMode.HTML, reply_markup=ReplyKeyboardRemove())


async def on_contact(update: Update, context: Context) -> None:
    """A shared contact at the phone step: the sender's own number (the share button's), never someone else's
    (a forwarded or attached contact); then the summary, as after a typed number."""
    services, lang_, uid = services_of(context), lang(update), account(update, context)
    contact = message_of(update).contact
    draft = await services.checkout.current(uid)
    if draft is None or draft.awaiting is not Awaiting.PHONE:
        await context.bot.send_message(chat_id(update), t(lang_, "hint.start"), parse_mode=ParseMode.HTML,
                                       reply_markup=ReplyKeyboardRemove())  # a keyboard left from a dropped draft
        return
    if contact is None or contact.user_id != user_id(update):
        await offer_share(update, context, t(lang_, "contact.share.not_yours"), draft)
        return
    number = contact.phone_number.strip()
    try:  # Telegram gives the number in international form, with or without its +
        updated = await services.checkout.give(uid, draft.nonce, number if number.startswith("+") else "+" + number,
                                               expect=ContactStep.PHONE)
    except InvalidContact as exc:  # a landline, say: the keyboard is hidden now, so offer it again
        question = t(lang_, "contact.change.phone", current=draft.phone) if draft.changing else \
            t(lang_, "contact.ask.phone")
        await ask_phone(update, context, draft, question, contact_problem(lang_, exc), offer=True)
        return
    except CheckoutRefused:  # moved on meanwhile (a typed answer, a button)
        await reply(update, context, t(lang_, "hint.start"))
        return
    await show_draft(update, context, updated)


async def draft_step(update: Update, context: Context,
                     step: Callable[[AccountId, str], Awaitable[Draft]]) -> None:
    """A button that moves the draft named by its data (`<prefix>|<draft>|...`) one step: the checkout service's
    `step(account, draft)`, then whatever the draft asks for next; a refusal (an old button) says why."""
    query = callback_query(update)
    try:
        draft = await step(account(update, context), (args(query.data) or [""])[0])
    except CheckoutRefused as refusal:
        await refuse_step(update, context, refusal)
        return
    await query.answer()
    await show_draft(update, context, draft)


async def on_use_last(update: Update, context: Context) -> None:
    """Fill the draft with last time's contact details and show the summary."""
    await draft_step(update, context, services_of(context).checkout.use_last_details)


async def on_new_details(update: Update, context: Context) -> None:
    """Start typing the contact details: ask for the name."""
    await draft_step(update, context, services_of(context).checkout.new_details)


async def on_text(update: Update, context: Context) -> None:
    """Take the contact detail the draft waits for; ask for the next one, or show the summary."""
    services, lang_, uid = services_of(context), lang(update), account(update, context)
    text = message_of(update).text or ""
    if text in (label(lang_, "btn.cancel_purchase"), label(lang_, "btn.back_to_summary")):
        draft = await services.checkout.current(uid)  # the share keyboard's text buttons, at the phone step
        if draft is not None and draft.awaiting is Awaiting.PHONE and \
                await on_phone_keyboard_text(update, context, draft, text):
            return
    try:
        updated = await services.checkout.give(uid, None, text)
    except InvalidContact as exc:
        draft = await services.checkout.current(uid)
        if draft is not None:
            await ask(update, context, draft, problem=contact_problem(lang_, exc))
            return
        await reply(update, context, t(lang_, "hint.start"))
        return
    except CheckoutRefused:  # no draft, none waiting for a detail, or moved on meanwhile (another answer, a button)
        await reply(update, context, t(lang_, "hint.start"))
        return
    await show_draft(update, context, updated)


def contact_problem(lang_: str, exc: InvalidContact) -> Html:
    key = f"contact.error.{exc.field.value}.{exc.problem}"
    return t(lang_, key if has(key) else f"contact.error.{exc.field.value}.invalid")


async def send_summary(update: Update, context: Context, draft: Draft, *, below: bool = False) -> None:
    """Tickets, total and contact details, with Confirm / Change details / Cancel (a free order's Confirm says
    the tickets come at once)."""
    lang_ = lang(update)
    if not draft.name or not draft.email or not draft.phone:
        await reply(update, context, t(lang_, "event.gone"))
        return
    keyboard = markup([[button(label(lang_, "btn.confirm_free" if draft.free else "btn.confirm"), CONFIRM,
                                draft.nonce)],
                       [button(label(lang_, "btn.change_details"), CHANGE, draft.nonce)],
                       draft_buttons(lang_, draft.nonce)])
    await show_step(update, context, draft, summary(lang_, draft.event, draft.lines, draft.name, draft.email,
                                                    draft.phone), keyboard, below=below)


async def on_change(update: Update, context: Context) -> None:
    """The summary's Change: which detail (the others stay), or back to the summary."""
    query, lang_, services = callback_query(update), lang(update), services_of(context)
    nonce = (args(query.data) or [""])[0]
    draft = await services.checkout.current(account(update, context))
    if draft is None or draft.nonce != nonce or draft.buyer is None:
        await query.answer(label(lang_, "alert.draft_gone"), show_alert=True)
        return
    await query.answer()
    keyboard = markup([[button(label(lang_, f"btn.change.{f.value}"), CHANGE_FIELD, nonce, f.value)
                        for f in (ContactStep.NAME, ContactStep.EMAIL, ContactStep.PHONE)],
                       [button(label(lang_, "btn.back_to_summary"), SUMMARY, nonce)],
                       draft_buttons(lang_, nonce)])
    await show_step(update, context, draft, t(lang_, "contact.change.choose"), keyboard)


async def on_change_field(update: Update, context: Context) -> None:
    """Ask for one detail again, showing what it is now; once typed, the summary again."""
    query, checkout = callback_query(update), services_of(context).checkout
    parts = args(query.data)
    if len(parts) != 2 or parts[1] not in {f.value for f in ContactStep}:
        await query.answer(label(lang(update), "alert.draft_gone"), show_alert=True)
        return
    await draft_step(update, context, lambda uid, nonce: checkout.change(uid, nonce, parts[1]))


async def on_summary(update: Update, context: Context) -> None:
    """Back to the summary with the details as they are (from the choice of detail, or from changing one)."""
    await draft_step(update, context, services_of(context).checkout.review)


async def on_drop(update: Update, context: Context) -> None:
    """Abandon the purchase draft; nothing was held."""
    query, lang_, services = callback_query(update), lang(update), services_of(context)
    nonce, uid = (args(query.data) or [""])[0], account(update, context)
    draft = await services.checkout.current(uid)
    if await services.checkout.abandon(uid, nonce):
        await query.answer()
        await edit(query, t(lang_, "purchase.dropped"), markup([[button(label(lang_, "btn.events"), EVENTS, "0")]]))
        if draft is not None and draft.nonce == nonce and draft.awaiting is Awaiting.PHONE:
            # the share-my-number keyboard must not outlive the purchase
            await context.bot.send_message(chat_id(update), t(lang_, "contact.share.closed"),
                                           parse_mode=ParseMode.HTML, reply_markup=ReplyKeyboardRemove())
        return
    await drop_closed(update, context, nonce)


async def drop_closed(update: Update, context: Context, nonce: str) -> None:
    """An old ✖ Cancel of a purchase that is no longer open: the truth about what it became."""
    query, lang_, services = callback_query(update), lang(update), services_of(context)
    order = await services.order_messages.draft_order(account(update, context), nonce)
    if order is None:  # abandoned, replaced by a newer purchase (or confirmed by a process that did not say)
        await query.answer(label(lang_, "purchase.closed"), show_alert=True)
        await edit(query, t(lang_, "purchase.closed"), markup([[button(label(lang_, "btn.my_orders"), ORDERS)],
                                                                [button(label(lang_, "btn.events"), EVENTS, "0")]]))
        return
    if order.status != OrderStatus.PENDING:
        await answer_truth(update, context, order)
        return
    await query.answer(truth(lang_, order, await services.catalog.event(order.event_id)), show_alert=True)
    text, keyboard, _ = await order_view(services, lang_, order.id, order.user_id)
    await edit(query, text, keyboard)
    if query.message is not None:
        await remember(update, context, order.id, query.message.message_id)


# ---- reserving and paying ----------------------------------------------------------------------------------------


async def on_confirm(update: Update, context: Context) -> None:
    """Reserve the confirmed draft's seats; then the payment link, or the tickets at once when free."""
    query, lang_, services = callback_query(update), lang(update), services_of(context)
    try:
        order = await services.checkout.confirm(account(update, context), (args(query.data) or [""])[0],
                                                address=telegram_address(user_id(update)))
    except CheckoutRefused as refusal:  # the other tap of a double tap, or a stale summary
        await refuse_step(update, context, refusal)
        return
    except ConfirmRefused as refusal:  # nothing held; the draft is back
        await query.answer()
        await show_result(update, context, *await refusal_message(services, lang_, refusal, refusal.draft))
        return
    await query.answer()
    # the summary becomes the payment link (its Confirm stays pressable until a reservation is made)
    if order.status == OrderStatus.PAID:  # free: the tickets, with their receipt, are the one confirmation
        await show_result(update, context, free_done(lang_, order, await services.catalog.event(order.event_id)))
        await services.delivery.deliver(order.id)
        return
    await offer_payment(update, context, order, draft=(args(query.data) or [""])[0])


def free_done(lang_: str, order: OrderDoc, event: EventDoc | None) -> Html:
    """A confirmed free order's summary: as it was, its last line saying the tickets follow, no buttons."""
    if event is None:
        return t(lang_, "summary.free_done", order=order.id)
    return summary(lang_, event, order.lines, order.buyer.name, order.buyer.email, order.buyer.phone,
                   closing=t(lang_, "summary.free_done", order=order.id))


async def refusal_message(services: Services, lang_: str, refusal: ReservationRefused,
                          draft: DraftRef | PurchaseDraft) -> tuple[Html, InlineKeyboardMarkup | None]:
    """A clear message for every reason a reservation is refused, with the way forward as buttons."""
    listing = await services.catalog.definitions(draft.event_id)
    tier = listing.tier(refusal.tier) if listing and refusal.tier else None
    tier_name = tier.name if tier else (refusal.tier or "")
    back = [button(label(lang_, "btn.change_tickets"), CART, draft.event_id, encode_cart(draft.cart))]
    retry = [button(label(lang_, "btn.try_again"), CONFIRM, draft.nonce)]
    events = [button(label(lang_, "btn.events"), EVENTS, "0")]
    match refusal.reason:
        case RefusalReason.SOLD_OUT if refusal.available:
            return t(lang_, "refused.sold_out_left", tier=tier_name, n=refusal.available), markup([back])
        case RefusalReason.SOLD_OUT:
            return t(lang_, "refused.sold_out", tier=tier_name), markup([back])
        case RefusalReason.RATE_LIMITED:
            return t(lang_, "refused.rate_limited", n=refusal.limit or 0), markup([retry])
        case RefusalReason.TOO_MANY_PENDING:
            return (t(lang_, "refused.too_many_pending", n=refusal.limit or 0),
                    markup([[button(label(lang_, "btn.my_orders"), ORDERS)], retry]))
        case RefusalReason.OVER_MAX_PER_ORDER:
            return t(lang_, "refused.over_max", tier=tier_name, n=refusal.limit or 0), markup([back])
        case RefusalReason.UNKNOWN_TIER:
            return t(lang_, "refused.unknown_tier", tier=tier_name), markup([back])
        case RefusalReason.EMPTY_ORDER:
            return t(lang_, "refused.empty"), markup([back])
        case RefusalReason.SALES_CLOSED:
            title = listing.event.title if listing else draft.event_id
            return t(lang_, "refused.sales_closed", title=title), markup([events])
        case RefusalReason.SALES_NOT_OPEN if listing and listing.event.sales_open_at:
            event = listing.event
            opens = local_when(listing.event.sales_open_at, event.timezone, lang_)
            return t(lang_, "refused.sales_not_open", title=event.title, when=opens), markup([back])
        case RefusalReason.SALES_NOT_OPEN:
            return t(lang_, "alert.sales_not_open_soon"), markup([events])
        case _:
            return t(lang_, "refused.unknown_event"), markup([events])


async def offer_payment(update: Update, context: Context, order: OrderDoc, *, draft: str | None = None,
                        in_place: bool = True) -> None:
    """The payment link as a button, when the hold ends, and a cancel button; a retry if Midtrans is down. In
    place of the pressed message (the summary, a retry, an order's Pay), or a new one (`in_place=False`: a Pay
    pressed in the orders list, which stays a list). The message is recorded as offering actions on the order
    (docs/order-messages.md), with the draft it was confirmed from."""
    services, lang_ = services_of(context), lang(update)
    show = show_result if in_place else reply_id
    zone = zone_of(await services.catalog.event(order.event_id))
    try:
        finish = services.links.order_finish(order, telegram_username=context.bot.username)  # back to this chat
        link = await services.payments.payment_link(order.id, order.user_id, finish_url=finish)
    except PaymentLinkUnavailable:
        keyboard = markup([[button(label(lang_, "btn.try_again"), PAY, order.id)],
                           [button(label(lang_, "btn.cancel_order"), CANCEL, order.id)]])
        shown = await show(update, context, t(lang_, "pay.unavailable", order=order.id,
                                              until=Html(local_when(order.expires_at, zone, lang_))), keyboard)
        await remember(update, context, order.id, shown, draft=draft)
        return
    except ReservationOver:
        await show(update, context, t(lang_, "pay.over", order=order.id))
        return
    except OrderNotPending:
        current = await services.orders.get_for_user(order.id, order.user_id)
        await show(update, context, *await settled_view(services, lang_, current))
        return
    keyboard = markup([[url_button(label(lang_, "btn.pay", total=price(lang_, order.total)), link.redirect_url)],
                       [button(label(lang_, "btn.cancel_order"), CANCEL, order.id)]])
    shown = await show(update, context, t(lang_, "pay.link", order=order.id, lines=lines_text(lang_, order.lines),
                                          total=Html(price(lang_, order.total)),
                                          until=Html(local_when(order.expires_at, zone, lang_))), keyboard)
    await remember(update, context, order.id, shown, draft=draft)


async def reply_id(update: Update, context: Context, text: Html, keyboard: InlineKeyboardMarkup | None = None) -> int:
    """A new message in the chat; its id."""
    return (await reply(update, context, text, keyboard)).message_id


async def remember(update: Update, context: Context, order_id: str, message_id: int, *,
                   view: MessageView = MessageView.ORDER, draft: str | None = None) -> None:
    """The message offers actions on the order: edit it when the order changes (docs/order-messages.md)."""
    await services_of(context).order_messages.offered(
        order_id, offered(chat_id(update), message_id, lang(update), view), draft=draft)


def truth(lang_: str, order: OrderDoc, event: EventDoc | None = None) -> str:
    """What is true of an order an old button points at, for the alert the press is answered with."""
    return label(lang_, f"order.truth.{order.status.value}", order=order.id,
                 until=local_when(order.expires_at, zone_of(event), lang_))


async def settled_view(services: Services, lang_: str, order: OrderDoc) -> tuple[Html, InlineKeyboardMarkup | None]:
    """An order that is no longer pending, as a message that offers only what is still possible: the tickets of a
    paid order; buying again after a release."""
    text = order_status(lang_, order, await services.catalog.event(order.event_id))
    rows: list[list[InlineKeyboardButton]] = []
    if order.status == OrderStatus.PAID:
        rows = [[button(label(lang_, "btn.my_tickets"), TICKETS, "0")]]
    elif order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.FAILED):
        cart = encode_cart({line.tier: line.qty for line in order.lines})
        if fits(CART, order.event_id, cart):
            rows.append([button(label(lang_, "btn.buy_again"), CART, order.event_id, cart)])
        rows.append([button(label(lang_, "btn.events"), EVENTS, "0")])
    return text, markup(rows)


async def refresh_offered(bot: Bot, services: Services, order: OrderDoc, *, skip: str | None = None) -> int:
    """Edit the messages that offer actions on `order` to show its new state (nothing while it is pending): a
    one-order message becomes `settled_view`, an orders list is listed again. The number edited."""
    async def render(message: OfferedMessage) -> tuple[Html, InlineKeyboardMarkup | None]:
        if message.view == MessageView.LIST:
            text, keyboard, _ = await orders_text(services, message.lang, order.user_id)
            return text, keyboard
        return await settled_view(services, message.lang, order)

    return await edit_offered(bot, services.order_messages.to_update(order, TELEGRAM, skip=skip), render)


async def answer_truth(update: Update, context: Context, order: OrderDoc, *, listed: bool = False) -> None:
    """An old button pointed at an order that is no longer pending: say what is true, and let the pressed message
    show it (a list is listed again)."""
    query, lang_, services = callback_query(update), lang(update), services_of(context)
    await query.answer(truth(lang_, order, await services.catalog.event(order.event_id)), show_alert=True)
    if listed:
        text, keyboard, _ = await orders_text(services, lang_, order.user_id)
        await edit(query, text, keyboard)
    else:
        await edit(query, *await settled_view(services, lang_, order))


def from_list(data: str | None) -> bool:
    """The button was in the orders list (`op|<order>|l`, `oc|<order>|l`)."""
    parts = args(data)
    return len(parts) > 1 and parts[1] == LISTED


async def pending_order(update: Update, context: Context) -> OrderDoc | None:
    """The pending order a Pay or Cancel button names, the press answered; None when it is gone or no longer
    pending, with the truth about it said instead."""
    query, lang_, services = callback_query(update), lang(update), services_of(context)
    try:
        order = await services.orders.get_for_user((args(query.data) or [""])[0], account(update, context))
    except OrderNotFound:
        await query.answer(label(lang_, "alert.order_gone"), show_alert=True)
        return None
    if order.status != OrderStatus.PENDING:
        await answer_truth(update, context, order, listed=from_list(query.data))
        return None
    await query.answer()
    return order


async def on_pay(update: Update, context: Context) -> None:
    """Make (or fetch) the payment link of a pending order; the truth about one that is not."""
    if (order := await pending_order(update, context)) is not None:
        await offer_payment(update, context, order, in_place=not from_list(callback_query(update).data))


async def on_cancel(update: Update, context: Context) -> None:
    """Ask for one confirming tap before cancelling a pending order (in place, or under the orders list)."""
    query, lang_ = callback_query(update), lang(update)
    if (order := await pending_order(update, context)) is None:
        return
    text = t(lang_, "order.cancel_ask", order=order.id, lines=lines_text(lang_, order.lines),
             total=Html(price(lang_, order.total)))
    keyboard = markup([[button(label(lang_, "btn.cancel_yes"), CANCEL_YES, order.id)],
                       [button(label(lang_, "btn.cancel_keep"), PAY, order.id)]])
    if from_list(query.data):
        shown = await reply_id(update, context, text, keyboard)
    else:
        shown = await show_result(update, context, text, keyboard)
    await remember(update, context, order.id, shown)


async def on_cancel_confirmed(update: Update, context: Context) -> None:
    """Cancel a pending order: its seats go back on sale; the other messages offering it say so."""
    query, lang_, services = callback_query(update), lang(update), services_of(context)
    order_id, uid = (args(query.data) or [""])[0], account(update, context)
    try:
        order = await services.orders.cancel(order_id, uid)
    except OrderNotFound:
        await query.answer(label(lang_, "alert.order_gone"), show_alert=True)
        return
    except OrderNotPending:
        await answer_truth(update, context, await services.orders.get_for_user(order_id, uid))
        return
    await query.answer(label(lang_, "alert.cancelled"))
    await edit(query, t(lang_, "order.cancelled", order=order.id, lines=lines_text(lang_, order.lines)),
               markup([[button(label(lang_, "btn.events"), EVENTS, "0")]]))
    pressed = offered(chat_id(update), query.message.message_id, lang_) if query.message else None
    await refresh_offered(context.bot, services, order, skip=pressed.key if pressed else None)


async def show_order(update: Update, context: Context, order_id: str) -> None:
    """Where one of the user's orders stands (the Midtrans finish link lands here)."""
    services, lang_ = services_of(context), lang(update)
    text, keyboard, pending = await order_view(services, lang_, order_id, account(update, context))
    sent = await reply(update, context, text, keyboard)
    if pending:
        await remember(update, context, order_id, sent.message_id)


async def order_view(services: Services, lang_: str, order_id: str,
                     uid: AccountId) -> tuple[Html, InlineKeyboardMarkup | None, bool]:
    """One order as its owner sees it, and whether it offers actions (it is pending)."""
    try:
        order = await services.orders.get_for_user(order_id, uid)
    except OrderNotFound:
        return t(lang_, "order.not_found"), None, False
    if order.status != OrderStatus.PENDING:
        return *await settled_view(services, lang_, order), False
    event = await services.catalog.event(order.event_id)
    text = order_status(lang_, order, event)
    rows = pay_buttons(lang_, order)
    instructions = order.payment.get("instructions") or {}
    if instructions or order.payment.get("transaction_status") == "deny":  # how to finish paying
        text = Html(text + "\n\n" + payment_instructions(lang_, order, instructions, zone=zone_of(event)))
        rows = [[url_button(name, url)] for name, url in payment_actions(lang_, order, instructions)] + rows
    return text, markup(rows), True


# ---- orders and tickets ----------------------------------------------------------------------------------------


async def orders_text(services: Services, lang_: str,
                      uid: AccountId) -> tuple[Html, InlineKeyboardMarkup | None, list[str]]:
    """The unpaid orders, numbered, each with Pay and Cancel naming its number (the id is in the text; short
    labels keep the amount visible on a phone); then the latest paid ones, without buttons. And the ids of the
    orders whose buttons it shows."""
    listing = await services.order_messages.listing(uid)
    if not listing.pending and not listing.paid:
        return t(lang_, "orders.none"), None, []
    events = {e.id: e for e in await services.catalog.events()}
    blocks: list[str] = [t(lang_, "orders.head") if listing.pending else t(lang_, "orders.none_unpaid")]
    rows: list[list[InlineKeyboardButton]] = []
    for n, order in enumerate(listing.pending[:ORDERS_SHOWN], start=1):
        event = events.get(order.event_id)
        blocks.append(t(lang_, "orders.item_n", n=n, order=order.id, title=event.title if event else order.event_id,
                        lines=lines_text(lang_, order.lines), total=Html(price(lang_, order.total)),
                        until=Html(local_when(order.expires_at, zone_of(event), lang_))))
        url = order.payment.get("redirect_url")
        pay_text = label(lang_, "btn.pay_n", n=n, total=price(lang_, order.total))
        rows.append([url_button(pay_text, url) if url else button(pay_text, PAY, order.id, LISTED)])
        rows.append([button(label(lang_, "btn.cancel_n", n=n), CANCEL, order.id, LISTED)])
    if listing.paid:
        paid = [t(lang_, "orders.paid_item", order=o.id, total=Html(price(lang_, o.total)),
                  title=events[o.event_id].title if o.event_id in events else o.event_id) for o in listing.paid]
        blocks.append("\n".join([t(lang_, "orders.paid_head"), *paid]))
    return paginate(blocks)[0], markup(rows), [o.id for o in listing.pending[:ORDERS_SHOWN]]


async def orders_command(update: Update, context: Context) -> None:
    """The user's unpaid orders, each with Pay and Cancel, and the latest paid ones; the message is recorded on
    each unpaid order it lists, so it is listed again when one of them changes."""
    services, lang_ = services_of(context), lang(update)
    text, keyboard, listed = await orders_text(services, lang_, account(update, context))
    sent = await reply(update, context, text, keyboard)
    if listed:
        await services.order_messages.listed(
            listed, offered(chat_id(update), sent.message_id, lang_, MessageView.LIST))


async def on_orders(update: Update, context: Context) -> None:
    """The pending orders, from a button."""
    await callback_query(update).answer()
    await orders_command(update, context)


async def tickets_page(services: Services, lang_: str, uid: AccountId,
                       page: int) -> tuple[Html, InlineKeyboardMarkup | None]:
    """A page of the user's tickets grouped by event, with a button per valid ticket to re-send its QR."""
    tickets = await services.tickets.for_user(uid)
    if not tickets:
        return t(lang_, "tickets.none"), None
    events: dict[str, EventDoc] = {e.id: e for e in await services.catalog.events()}
    tickets.sort(key=lambda tk: (events[tk.event_id].starts_at if tk.event_id in events else tk.issued_at,
                                 tk.event_id, tk.issued_at, tk.seq))
    pages = -(-len(tickets) // TICKETS_PER_PAGE)
    page = min(max(page, 0), pages - 1)
    shown = tickets[page * TICKETS_PER_PAGE:(page + 1) * TICKETS_PER_PAGE]
    parts: list[str] = [t(lang_, "tickets.head", page=page + 1, pages=pages)]
    rows: list[list[InlineKeyboardButton]] = []
    current_event = None
    for ticket in shown:
        if ticket.event_id != current_event:
            current_event = ticket.event_id
            event = events.get(ticket.event_id)
            parts.append("\n" + t(lang_, "tickets.event", title=event.title if event else ticket.event_id,
                                  when=Html(local_when(event.starts_at, event.timezone, lang_)) if event else ""))
        state = ("void" if ticket.status == TicketStatus.VOID
                 else "in" if ticket.checked_in_at else "valid")
        parts.append(t(lang_, f"tickets.item.{state}", tier=ticket.tier_name, code=format_code(ticket.id),
                       holder=ticket.holder_name))
        if ticket.status == TicketStatus.VALID:
            rows.append([button(f"🎟 {shorten(ticket.tier_name, 24)} · {format_code(ticket.id)}", QR, ticket.id)])
    rows.append(page_buttons(TICKETS, page, pages))
    return paginate(["\n".join(parts)])[0], markup(rows)


async def mytickets_command(update: Update, context: Context) -> None:
    """The user's tickets by event, each with a button that re-sends its QR."""
    await reply(update, context, *await tickets_page(services_of(context), lang(update), account(update, context), 0))


async def on_tickets_page(update: Update, context: Context) -> None:
    """Another page of the user's tickets."""
    query = callback_query(update)
    await query.answer()
    page = (args(query.data) or ["0"])[0]
    text, keyboard = await tickets_page(services_of(context), lang(update), account(update, context),
                                        int(page) if page.isdigit() else 0)
    if isinstance(query.message, Message) and query.message.photo:
        await reply(update, context, text, keyboard)
    else:
        await edit(query, text, keyboard)


async def on_qr(update: Update, context: Context) -> None:
    """Re-send one of the user's tickets as a QR photo."""
    query, lang_, services = callback_query(update), lang(update), services_of(context)
    ticket = await services.tickets.get((args(query.data) or [""])[0])
    if ticket is None or ticket.user_id != account(update, context):
        await query.answer(label(lang_, "alert.not_your_ticket"), show_alert=True)
        return
    await query.answer()
    await send_ticket(context.bot, query.message.chat.id if query.message else user_id(update), ticket,
                      await services.catalog.event(ticket.event_id), lang_, links=services.links)


async def help_command(update: Update, context: Context) -> None:
    """What each command does, for the user's role."""
    services, lang_, uid = services_of(context), lang(update), account(update, context)
    text = t(lang_, "help.buyer")
    if is_admin(services, uid) or await organised_events(services, uid):
        text = Html(text + "\n\n" + t(lang_, "help.organiser"))
    if is_admin(services, uid):
        text = Html(text + "\n\n" + t(lang_, "help.admin"))
    await reply(update, context, text)


async def on_other_message(update: Update, context: Context) -> None:
    """Anything else (a sticker, a file): point at /start."""
    await reply(update, context, t(lang(update), "hint.start"))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("start", start, filters=PRIVATE & ~TICKET_LINK))
    application.add_handler(CommandHandler("orders", orders_command, filters=PRIVATE))
    application.add_handler(CommandHandler("mytickets", mytickets_command, filters=PRIVATE))
    application.add_handler(CommandHandler("help", help_command, filters=PRIVATE))
    for prefix, callback in ((EVENTS, on_events), (CART, on_cart), (NOOP, on_noop), (CHECKOUT, on_checkout),
                             (USE_LAST, on_use_last), (NEW_DETAILS, on_new_details), (CONFIRM, on_confirm),
                             (CHANGE, on_change), (CHANGE_FIELD, on_change_field), (SUMMARY, on_summary),
                             (DROP, on_drop), (PAY, on_pay), (CANCEL, on_cancel), (CANCEL_YES, on_cancel_confirmed),
                             (ORDERS, on_orders),
                             (TICKETS, on_tickets_page), (QR, on_qr)):
        application.add_handler(CallbackQueryHandler(callback, pattern=pattern(prefix)))
    application.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, on_text))
    application.add_handler(MessageHandler(PRIVATE & filters.CONTACT, on_contact))


def register_fallback(application: Application) -> None:
    """Last in line: whatever no other handler took (an unknown command, a sticker)."""
    application.add_handler(MessageHandler(PRIVATE, on_other_message))
