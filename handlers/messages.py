"""Every text Karcis says in Telegram, in English and Indonesian: one catalog, one dict per language.

    t(lang, key, **values)      HTML for parse_mode=HTML; every value is escaped unless it is `Html`
    label(lang, key, **values)  plain text, for buttons, callback answers and command descriptions
    lang_of(language_code)      "id" for Telegram language codes starting with "id", else "en"

Templates use `str.format` fields. Both languages have the same keys and the same fields (tests check it, and
that every template is valid Telegram HTML).

Counts: a field whose format spec holds `|` is a plural choice, not a value. `{n} {n:ticket|tickets}` shows
`1 ticket` / `2 tickets`: the language's rule (PLURAL_RULES) turns the count into the index of the form to use
(one for 1, other for the rest; Indonesian nouns do not inflect for number, so `{n} tiket` needs no choice, but
an Indonesian template may still choose where its wording changes: `{n:orang ini|orang-orang ini}`). A count that
is not a whole number (a test's hostile value) takes the last form.
"""

from __future__ import annotations

import html
import string
from collections.abc import Callable, Mapping

DEFAULT = "en"


def _one_other(n: int) -> int:
    return 0 if n == 1 else 1


# The plural rule of each language: a count → the index of the form to use among `{n:form0|form1}`. English
# nouns take one (n = 1) / other. Indonesian nouns do not change with number (CLDR: only `other`), so its
# templates write `{n} tiket` with no choice; but its wording can still depend on one or many (`orang ini` /
# `orang-orang ini`, `tiketnya` / `tiket mereka`), so it has the same two-way rule for the choices it makes.
# An index past the forms given takes the last one.
PLURAL_RULES: dict[str, Callable[[int], int]] = {"en": _one_other, "id": _one_other}


class Html(str):
    """Text that already is valid Telegram HTML: inserted as is."""


def lang_of(language_code: str | None) -> str:
    return "id" if language_code and language_code.lower().startswith("id") else DEFAULT


def _escaped(value: object) -> str:
    return value if isinstance(value, Html) else html.escape(str(value), quote=False)


def _count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.lstrip("-").isdigit() else None


def plural_form(lang: str, count: object, forms: str) -> str:
    """The form of `forms` (`one|other`, written in the catalog) that `count` takes in `lang`."""
    choices = forms.split("|")
    n = _count(count)
    index = PLURAL_RULES[lang](n) if n is not None else len(choices) - 1
    return choices[min(index, len(choices) - 1)]


class _Renderer(string.Formatter):
    """`str.format` with plural choices (`{n:one|other}`), each plain value passed through `escape`."""

    def __init__(self, lang: str, escape: Callable[[object], str]) -> None:
        self._lang = lang
        self._escape = escape

    def format_field(self, value: object, format_spec: str) -> str:
        if "|" in format_spec:
            return plural_form(self._lang, value, format_spec)
        return self._escape(value) if not format_spec else self._escape(format(value, format_spec))


def render(lang: str, template: str, values: Mapping[str, object], escape: Callable[[object], str] = str) -> str:
    return _Renderer(lang, escape).vformat(template, (), values)


def t(lang: str, key: str, /, **values: object) -> Html:
    """The HTML message `key` in `lang`, with `values` escaped into it."""
    return Html(render(lang, CATALOG[lang][key], values, _escaped))


def label(lang: str, key: str, /, **values: object) -> str:
    """The plain-text `key` in `lang` (no HTML is parsed where it goes)."""
    return render(lang, CATALOG[lang][key], values)


def has(key: str) -> bool:
    return key in CATALOG[DEFAULT]


EN: dict[str, str] = {
    # ---- time ----
    "time.weekdays": "Mon Tue Wed Thu Fri Sat Sun",
    "time.months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    # ---- commands (menus) ----
    "cmd.start": "Events on sale",
    "cmd.mytickets": "My tickets",
    "cmd.orders": "Unpaid orders: pay or cancel",
    "cmd.help": "Help",
    "cmd.checkin": "Check a ticket in by its code",
    "cmd.scan": "Check in from a photo of the QR",
    "cmd.stats": "Sales figures",
    "cmd.expire": "Release the seats of holds that have ended",
    # ---- buttons ----
    "btn.sold_out": "{tier} · sold out",
    "btn.checkout": "Continue · {total}",
    "btn.events": "« Events",
    "btn.cancel_purchase": "✖ Cancel",
    "btn.pay": "💳 Pay {total}",
    "btn.pay_order": "💳 Pay …{order} · {total}",
    "btn.cancel_order": "✖ Cancel order",
    "btn.cancel_short": "✖ Cancel",
    "btn.use_last": "✅ Use these details",
    "btn.new_details": "✏️ Enter other details",
    "btn.confirm": "✅ Confirm and hold the seats",
    "btn.change_details": "✏️ Change details",
    "btn.change_tickets": "🎟 Change tickets",
    "btn.try_again": "🔁 Try again",
    "btn.my_orders": "🧾 My orders",
    "btn.my_tickets": "🎟 My tickets",
    "btn.buy_again": "🎟 Buy again",
    # ---- callback answers ----
    "alert.event_gone": "This event is no longer available.",
    "alert.max_per_order": "One order can hold no more of this ticket.",
    "alert.no_seats": "No more seats left in this tier.",
    "alert.cart_full": "This order cannot hold another kind of ticket; buy it in a second order.",
    "alert.use_buttons": "Use ➕ and ➖ to choose how many.",
    "alert.sales_closed": "Ticket sales for this event have ended.",
    "alert.cart_empty": "Choose at least one ticket first.",
    "alert.draft_gone": "This purchase is no longer open. Start again from the event.",
    "alert.order_gone": "Order not found.",
    "alert.cancelled": "Order cancelled.",
    "alert.not_your_ticket": "That ticket is not yours.",
    # ---- browsing ----
    "welcome": "👋 Hi {name}! This is <b>Karcis</b>: event tickets, paid with Midtrans, delivered here as QR codes.",
    "events.list": "🎫 <b>Events on sale</b>: tap one to see its tickets.",
    "events.none": "There are no events on sale right now.",
    "event.gone": "That event is not available.",
    "card.head": "<b>{title}</b>\n🗓 {when}\n📍 {venue}",
    "card.tiers": "🎟 <b>Tickets</b>",
    "card.tier": "• {tier}: {price} · {left}",
    "card.left": "{n} left",
    "card.sold_out": "sold out",
    "card.selection": "🛒 <b>Your selection</b>\n{lines}\n<b>Total: {total}</b>",
    "card.pick": "Choose how many with ➕ and ➖.",
    "card.sales_closed": "⛔ Ticket sales for this event have ended.",
    # ---- sales not open yet, over, sold out: each said as it is, a time in the event's zone (time-zones.md) ----
    "card.sales_not_open": "⏳ Ticket sales open on {when}.",
    "card.sold_out_all": "😕 Every ticket for this event is sold out.",
    "btn.sales_open_on": "⏳ Sales open {when}",
    "alert.sales_not_open": "Ticket sales have not opened yet: they open on {when}.",
    "alert.sales_not_open_soon": "Ticket sales have not opened yet: the card says when.",
    "refused.sales_not_open": "⏳ Ticket sales for <b>{title}</b> open on {when}.",
    "price.free": "Free",
    "order.line": "{qty} × {tier}: {amount}",
    # ---- contact details ----
    "contact.use_last": "👤 Use the details from last time?\n\nName: <b>{name}</b>\nEmail: {email}\nPhone: {phone}",
    "contact.ask.name": "👤 <b>Step 1 of 3</b>: what name should be on the tickets?",
    "contact.ask.email": "📧 <b>Step 2 of 3</b>: your email address (for the receipt)?",
    "contact.ask.phone": "📱 <b>Step 3 of 3</b>: your mobile number, e.g. 0812 3456 7890?",
    "contact.error.name.empty": "⚠️ The name is empty.",
    "contact.error.name.too_long": "⚠️ That name is too long (80 characters at most).",
    "contact.error.name.no_letters": "⚠️ A name needs letters.",
    "contact.error.name.control_characters": "⚠️ That name contains invisible control characters.",
    "contact.error.name.invalid": "⚠️ That name cannot be used.",
    "contact.error.email.invalid": "⚠️ That is not a valid email address (like name@example.com).",
    "contact.error.phone.not_a_number": "⚠️ That is not a phone number: use digits, like 0812 3456 7890.",
    "contact.error.phone.too_short": (
        "⚠️ That phone number is too short: an Indonesian mobile number looks like 0812 3456 7890 (10 to 13 digits)."
    ),
    "contact.error.phone.too_long": (
        "⚠️ That phone number is too long: an Indonesian mobile number looks like 0812 3456 7890 (10 to 13 digits)."
    ),
    "contact.error.phone.invalid": (
        "⚠️ That number does not fit its country code: check the digits after the +."
    ),
    "contact.error.phone.not_mobile": "⚠️ Please give a mobile number; a landline cannot receive messages.",
    "summary": (
        "🧾 <b>Order summary</b>\n<b>{title}</b>\n🗓 {when}\n\n{lines}\n<b>Total: {total}</b>\n\n"
        "👤 {name}\n📧 {email}\n📱 {phone}\n\n{closing}"
    ),
    "purchase.dropped": "Purchase cancelled. Nothing was reserved.",
    "hint.start": "Send /start to see the events, /mytickets for your tickets, /help for more.",
    # ---- checkout-flow: phone mistakes, sharing the phone, changing one detail, the summary's last line ----
    "contact.error.name.direction_controls": (
        "⚠️ That name contains invisible characters that reverse the direction of text (like U+202E). "
        "Type it without them."
    ),
    "contact.error.phone.empty": "⚠️ No number there: type your mobile number, like 0812 3456 7890.",
    "contact.error.phone.letters": "⚠️ A phone number has no letters: type digits only, like 0812 3456 7890.",
    "contact.error.phone.missing_plus": (
        "⚠️ That looks like a number from abroad: start it with + and the country code, like +61 412 345 678. "
        "An Indonesian mobile number looks like 0812 3456 7890."
    ),
    "contact.error.phone.unknown_country": (
        "⚠️ No country has that code after the +. An Indonesian mobile number looks like 0812 3456 7890 "
        "or +62 812 3456 7890."
    ),
    "contact.error.phone.not_indonesian": (
        "⚠️ That is not an Indonesian mobile number: one looks like 0812 3456 7890 (08, then 8 to 11 digits). "
        "From abroad? Start with + and your country code."
    ),
    "contact.share.offer": (
        "📱 Tap <b>Share my phone number</b> below to use this Telegram account's number, or type it."
    ),
    "contact.share.button": "📱 Share my phone number",
    "contact.share.placeholder": "0812 3456 7890",
    "contact.share.not_yours": (
        "⚠️ That is someone else's contact. Tap <b>Share my phone number</b> to send your own, or type your number."
    ),
    "contact.share.noted": "📱 Phone number: {phone}",
    "contact.share.closed": "📱 No phone number needed any more.",
    "contact.change.choose": "✏️ <b>Change details</b>: which one? The others stay as they are.",
    "contact.change.name": "👤 The name on the tickets, instead of <b>{current}</b>?",
    "contact.change.email": "📧 Your email address, instead of {current}?",
    "contact.change.phone": "📱 Your mobile number, instead of {current}?",
    "btn.change.name": "👤 Name",
    "btn.change.email": "📧 Email",
    "btn.change.phone": "📱 Phone",
    "btn.back_to_summary": "« Back to the summary",
    "btn.confirm_free": "✅ Confirm: get my tickets",
    "summary.pay": "Confirm to hold the seats, then pay with Midtrans.",
    "summary.free": "Nothing to pay: confirm and your tickets come right here.",
    "summary.free_done": "✅ Order <code>{order}</code> confirmed: your tickets follow.",
    # ---- reserving ----
    "refused.sold_out_left": (
        "😕 Not enough seats: only {n} left for <b>{tier}</b>. Change the quantity and try again."
    ),
    "refused.sold_out": "😕 <b>{tier}</b> is sold out.",
    "refused.rate_limited": "⏳ Too many reservations in one minute (at most {n}). Wait a moment, then try again.",
    "refused.too_many_pending": (
        "🧾 You already have {n} unpaid {n:order|orders}. Pay or cancel {n:it|one of them} first."
    ),
    "refused.over_max": "At most {n} × <b>{tier}</b> per order.",
    "refused.unknown_tier": "<b>{tier}</b> is no longer on sale.",
    "refused.empty": "Choose at least one ticket.",
    "refused.sales_closed": "⛔ Ticket sales for <b>{title}</b> have ended.",
    "refused.unknown_event": "That event is no longer available.",
    "refused.staff_only": "🙏 Sorry, this command is for event organisers.",
    "refused.admin_only": "🙏 Sorry, this command is for Karcis admins.",
    # ---- paying ----
    "pay.link": (
        "✅ <b>Seats held!</b> Order <code>{order}</code>\n{lines}\n<b>Total: {total}</b>\n\n"
        "⏰ Pay before <b>{until}</b>; after that the seats are released."
    ),
    "pay.unavailable": (
        "⚠️ Your seats are held (order <code>{order}</code>, until {until}), but the payment link is unavailable "
        "right now. Try again in a moment."
    ),
    "pay.over": "⌛ The hold on order <code>{order}</code> has ended; it can no longer be paid.",
    "pay.va": "• {bank} virtual account: <code>{number}</code>",
    "pay.bill": "• Mandiri bill payment: company code <code>{biller}</code>, bill key <code>{bill_key}</code>",
    "pay.store": "• Pay at {store} with the code <code>{code}</code>",
    "pay.pdf": '• <a href="{url}">Payment instructions (PDF)</a>',
    "pay.expiry": "⏰ Pay before {until}",
    "pay.no_details": "Follow the steps on the payment page.",
    # ---- orders ----
    "order.cancelled": "✖ Order <code>{order}</code> cancelled; the seats were released.\n{lines}",
    "order.not_found": "I can't find that order.",
    "order.status.pending": (
        "🧾 Order <code>{order}</code>: <b>{title}</b>\n{lines}\n<b>Total: {total}</b>\n\n"
        "⏳ Waiting for payment until <b>{until}</b>."
    ),
    "order.status.paid": "✅ Order <code>{order}</code>: <b>{title}</b>\n{lines}\n\nPaid. Your tickets: /mytickets",
    "order.status.cancelled": "✖ Order <code>{order}</code> (<b>{title}</b>) was cancelled; its seats were released.",
    "order.status.expired": (
        "⌛ Order <code>{order}</code> (<b>{title}</b>) was not paid in time; its seats were released."
    ),
    "order.status.failed": (
        "❌ The payment for order <code>{order}</code> (<b>{title}</b>) failed; its seats were "
        "released."
    ),
    "order.status.needs_refund": (
        "💸 Order <code>{order}</code> (<b>{title}</b>): your payment arrived after the seats were gone. "
        "{total} will be refunded to you."
    ),
    "order.status.refunded": (
        "💸 Order <code>{order}</code> (<b>{title}</b>) was refunded ({total}); its tickets are "
        "void."
    ),
    "orders.none": "You have no unpaid orders. Your tickets: /mytickets",
    "orders.head": "🧾 <b>Unpaid orders</b>",
    "orders.item": "<code>{order}</code>: <b>{title}</b>\n{lines}\nTotal {total} · pay before {until}",
    # ---- the messages that offer actions on an order (docs/order-messages.md; order-buttons) ----
    "order.truth.paid": "Order {order} is already paid — your tickets are in this chat.",
    "order.truth.expired": "This hold expired at {until}; its seats were released.",
    "order.truth.failed": "The payment for order {order} failed; its seats were released.",
    "order.truth.cancelled": "Order {order} was already cancelled; its seats were released.",
    "order.truth.needs_refund": "Order {order} was paid after its seats were gone; a refund is on its way.",
    "order.truth.refunded": "Order {order} was refunded; its tickets are void.",
    "order.truth.reversed": "The payment for order {order} was taken back; its tickets are void.",
    "order.truth.pending": "This purchase is already order {order}, waiting for payment.",
    "purchase.closed": "This purchase is no longer open. Your unpaid orders: /orders",
    "order.cancel_ask": (
        "❓ Cancel order <code>{order}</code>?\n{lines}\n<b>Total: {total}</b>\n\nIts seats go back on sale."
    ),
    "btn.cancel_yes": "✖ Yes, cancel it",
    "btn.cancel_keep": "↩ Keep it",
    "btn.pay_n": "💳 #{n} · Pay {total}",
    "btn.cancel_n": "✖ Cancel #{n}",
    "orders.item_n": "<b>#{n}</b> <code>{order}</code>: <b>{title}</b>\n{lines}\nTotal {total} · pay before {until}",
    "orders.none_unpaid": "🧾 You have no unpaid orders.",
    "orders.paid_head": "✅ <b>Paid</b> (your tickets: /mytickets)",
    "orders.paid_item": "<code>{order}</code>: <b>{title}</b> · {total}",
    # ---- tickets ----
    "tickets.none": "You have no tickets yet. /start to see the events.",
    "tickets.head": "🎟 <b>Your tickets</b> (page {page} of {pages}): tap one to get its QR again.",
    "tickets.event": "<b>{title}</b> · {when}",
    "tickets.item.valid": "• {tier} · <code>{code}</code> · {holder}",
    "tickets.item.in": "• {tier} · <code>{code}</code> · {holder} · ✅ checked in",
    "tickets.item.void": "• <s>{tier} · {code}</s> · {holder} · void",
    "ticket.caption": "🎟 <b>{title}</b>\n{tier}\n👤 {holder}\n<code>{code}</code>\n🗓 {when}",
    "ticket.void": "❌ <b>VOID</b>",
    # ---- at the door ----
    "checkin.ok": "✅ <b>Checked in</b>: {holder}, {tier}\n{title}",
    "checkin.already": "⚠️ <b>Already checked in</b> at {time} by {by}\n{holder}, {tier}",
    "checkin.void": "❌ <b>Void ticket</b>\n{holder}, {tier}",
    "checkin.not_yours": "❌ <b>Not your event</b>",
    "checkin.unknown": "❌ <b>Unknown code</b>",
    "checkin.usage": "Send <code>/checkin CODE</code>: the code under the QR, or the ticket's link.",
    # ---- the door window, a typed code at the door, a ticket's link opened by anyone (bot/checkin.py) ----
    "checkin.early": "⏳ <b>This event starts on {when}</b>: check in anyway?\n{holder}, {tier}\n{title}",
    "checkin.late": "⏳ <b>This event ended on {when}</b>: check in anyway?\n{holder}, {tier}\n{title}",
    "btn.checkin_anyway": "✅ Check in anyway",
    "checkin.answered": "✅ Already checked in.",
    "checkin.typed_code": (
        "To check this ticket in, send <code>/checkin CODE</code>, or /scan first: in scan mode a typed code "
        "checks in too."),
    "ticket.public.valid": "🎟 <b>Valid ticket</b>, not used yet\n{title}\n{tier} · {when}",
    "ticket.public.used": "⚠️ <b>Already used</b>: checked in {at}\n{title}\n{tier} · {when}",
    "ticket.public.void": "❌ <b>Void ticket</b>: it no longer lets anyone in\n{title}\n{tier} · {when}",
    "ticket.public.unknown": "❔ <b>No such ticket.</b> Check the code under the QR: 12 letters and digits.",
    "ticket.public.door": "Only the event's door staff can check it in.",
    # ---- the ticket's public page (webhooks/ticket_page.py; plain text, escaped by the page) ----
    "page.title": "Karcis ticket {code}",
    "page.valid": "Valid ticket",
    "page.used": "Already used",
    "page.used_at": "Checked in {when}",
    "page.void": "Void ticket",
    "page.unknown": "No such ticket",
    "page.unknown_hint": "Check the code under the QR: 12 letters and digits.",
    "page.event": "{title}",
    "page.when": "{when} · {venue}",
    "page.staff": "Door staff: check it in from your chat",
    "page.telegram": "Check in with Telegram",
    "page.whatsapp": "Check in with WhatsApp",
    "page.no_changes": "This page only shows the ticket; checking in happens in the staff member's chat.",
    "scan.ready": (
        "📷 Send a photo of the ticket's QR code, or type its code. Scan mode stays on for 15 minutes after each "
        "scan."),
    "scan.first": "To check a ticket in from a photo, send /scan first (or write /scan as the photo's caption).",
    "scan.no_code": "❌ <b>No QR code found</b> in that photo. Try again, closer and sharper.",
    "photo.not_expected": "I can't do anything with photos. /start to see the events.",
    # ---- figures ----
    "stats.head": "📊 <b>{title}</b> · {when}",
    "stats.tier": (
        "• {tier}: sold {sold}/{capacity} · held {pending} · left {available} · checked in {checked_in} · {revenue}"
    ),
    "stats.total": (
        "<b>Total</b>: sold {sold}/{capacity} · held {pending} · left {available} · checked in {checked_in} · "
        "<b>{revenue}</b>"
    ),
    "stats.none": "No events yet.",
    "expire.none": "Nothing to expire: no hold has ended.",
    "expire.done": "⌛ <b>{orders}</b> {orders:order|orders} expired, <b>{seats}</b> {seats:seat|seats} released.",
    "expire.event": "• {title}: {orders} {orders:order|orders}, {seats} {seats:seat|seats}",
    # ---- help and errors ----
    "help.buyer": (
        "<b>Karcis</b>\n/start: events on sale\n/mytickets: your tickets (QR codes)\n"
        "/orders: unpaid orders, to pay or cancel\n/help: this help"
    ),
    "help.organiser": (
        "<b>Organisers</b>\n/checkin CODE: check a ticket in\n/scan: then send a photo of a QR\n"
        "/stats: sales of your events\n/refund ORDER: refund an order of your event, or some of its tickets\n"
        "Opening a ticket's QR with your phone camera also checks it in; in /scan mode, so does typing its code. "
        "Outside the event's door window (from a few hours before it starts until it ends) you are asked to "
        "confirm first."
    ),
    "help.admin": (
        "<b>Admins</b>\n/expire: release now the seats of unpaid orders whose hold has ended (the bot also "
        "does this by itself regularly; holds still running are left alone)\n/stats: every event\n"
        "/refund ORDER: refund any order"
    ),
    "error.generic": "😵 Sorry, something went wrong. Please try again in a moment.",
    # ---- notices ----
    "notice.paid": (
        "💳 <b>Payment received</b>: order <code>{order}</code>\n<b>{title}</b>\n{lines}\nTotal {total}\n\n"
        "Your tickets follow. Show the QR at the door."
    ),
    "notice.free": (
        "🎉 <b>Your free tickets</b>: order <code>{order}</code>\n<b>{title}</b>\n{lines}\n\n"
        "Show the QR at the door."
    ),
    "notice.sale": (
        "💰 <b>New sale</b>: <b>{title}</b>\n{lines}\n👤 {buyer}\n<code>{order}</code>\n\n"
        "<b>Sold so far</b>\n{figures}\nAll tiers: {sold}/{capacity}"
    ),
    "notice.sale.tier": "• {tier}: {sold}/{capacity}",
    # onsale-messages: the receipt in the first ticket photo's caption, and the organisers' sale digest
    "receipt.paid": "💳 <b>Payment received</b>: order <code>{order}</code>\n{lines}\nTotal {total}",
    "receipt.free": "🎉 <b>Your free tickets</b>: order <code>{order}</code>\n{lines}",
    "digest.head": "📊 <b>Sales since {since}</b>\nOrders: {orders} · seats: {seats}",
    "digest.event": "<b>{title}</b> · orders: {orders} · seats: {seats}",
    "digest.event_when": "🗓 {when}",
    "digest.tier": "• {tier}: +{qty} · sold {sold}/{capacity}",
    "digest.tier.gone": "• {tier}: +{qty}",
    "digest.total": "All tiers: {sold}/{capacity}",
    "digest.latest": "<b>Latest</b>",
    "digest.sale": "• {buyer} · {seats} · <code>{order}</code>",
    "digest.more": "… and {n} earlier {n:order|orders} in this digest (/stats for the totals)",
    "notice.expired": (
        "⌛ Order <code>{order}</code> for <b>{title}</b> was not paid in time; the seats were released.\n{lines}"
    ),
    "notice.failed": (
        "❌ The payment for order <code>{order}</code> (<b>{title}</b>) failed; the seats were "
        "released.\n{lines}"
    ),
    "notice.refunded": "💸 Order <code>{order}</code> (<b>{title}</b>) was refunded: {total}. Its tickets are void.",
    "notice.needs_refund.buyer": (
        "💸 Your payment for order <code>{order}</code> (<b>{title}</b>) arrived after the seats were gone. "
        "We are sorry: {total} will be refunded to you."
    ),
    "notice.needs_refund.admin": (
        "🚨 <b>Refund needed</b>: order <code>{order}</code>\n<b>{title}</b>, {total}\n"
        "Paid after tier {tier} sold out.\n👤 {buyer} · {email} · {phone}"
    ),
    "notice.amount_mismatch": (
        "🚨 <b>Amount mismatch</b>: order <code>{order}</code> ({title})\n"
        "Order total {total}, Midtrans reported {reported} ({status}). No tickets were issued."
    ),
    "notice.review": (
        "🔎 <b>Payment held for review</b>: order <code>{order}</code> ({title}), {total}, {method}. "
        "Check it in the Midtrans dashboard."
    ),
    # ---- refunds, reversals, payment details (issue 9, money-chat) ----
    "cmd.refund": "Refund an order or some of its tickets",
    "refund.usage": (
        "Send <code>/refund ORDER</code> with the order number, e.g. <code>/refund "
        "KRC-2612-7QF9MZTXW3</code>."
    ),
    "refund.head": "💸 <b>Refund</b> order <code>{order}</code>\n<b>{title}</b>\n👤 {buyer} · paid {total}",
    "refund.so_far": "Refunded so far: {amount}",
    "refund.unassigned": "⚠️ {amount} refunded in Midtrans is not yet matched to tickets.",
    "refund.ticket.valid": "• <code>{code}</code> {tier}: {price}",
    "refund.ticket.in": "• <code>{code}</code> {tier}: {price} · ✅ checked in {time}",
    "refund.ticket.claimed": "• <code>{code}</code> {tier}: {price} · ⏳ refund under way",
    "refund.ticket.void": "• <s>{code} {tier}</s> · void",
    "refund.no_tickets": "No tickets were issued for this order.",
    "refund.pick": "Choose the tickets to refund (or the whole order) and a reason.",
    "refund.pick_reason": "Now choose a reason.",
    "refund.choice": "Refund <b>{amount}</b> for {what}.\nReason: {reason}",
    "refund.choice.whole": "the whole order",
    "refund.choice.tickets": "{n} {n:ticket|tickets}: {codes}",
    "refund.nothing_left": "Nothing is left to refund on this order.",
    "refund.working": "⏳ Asking Midtrans to refund {amount}…",
    "refund.confirm_checked_in": (
        "⚠️ <b>Already checked in</b>: {codes}. {n:This person is|These people are} (or {n:was|were}) at the "
        "event.\nRefund {n:their ticket|their tickets} anyway?"
    ),
    "refund.done": (
        "✅ <b>Refunded {amount}</b> for order <code>{order}</code>: {n:ticket|tickets} {codes} {n:is|are} void, "
        "{n:its seat is|their seats are} back on sale.\nReason: {reason}"
    ),
    "refund.done.whole": (
        "✅ <b>Refunded {amount}</b>: order <code>{order}</code> is fully refunded; all its tickets are "
        "void.\nReason: {reason}"
    ),
    "refund.midtrans_refused": (
        "❌ <b>Midtrans refused the refund</b> of order <code>{order}</code>: {why}\nNothing changed."
    ),
    "refund.midtrans_unavailable": (
        "⚠️ <b>Midtrans could not be reached</b>: nothing changed for order <code>{order}</code>, and the tickets "
        "stay valid. Try again in a moment: trying again never refunds twice."
    ),
    "refund.refused.not_found": "I can't find the order <code>{order}</code>.",
    "refund.refused.not_allowed": "🙏 Sorry: only admins, and the organisers of its event, can refund this order.",
    "refund.refused.not_paid": "Order <code>{order}</code> is {status}: there is no payment to refund.",
    "refund.refused.nothing_to_refund": "Order <code>{order}</code> has no valid ticket left to refund.",
    "refund.refused.ticket_not_in_order": "Ticket <code>{code}</code> is not part of order <code>{order}</code>.",
    "refund.refused.ticket_void": "Ticket <code>{code}</code> is already void.",
    "refund.refused.ticket_being_refunded": "A refund of ticket <code>{code}</code> is already under way.",
    "refund.refused.nothing_unassigned": (
        "Every refunded rupiah of order <code>{order}</code> is already matched to tickets."
    ),
    "refund.refused.checked_in_needs_confirm": (
        "{n:Ticket|Tickets} {codes} {n:is|are} checked in: confirm again to refund {n:it|them}."
    ),
    "refund.refused.midtrans_refused": "Midtrans refused: {why}",
    "refund.refused.midtrans_unavailable": "Midtrans could not be reached: nothing changed.",
    "refund.closed": "Refund of order <code>{order}</code> closed; nothing was refunded.",
    "refund.reason.buyer": "The buyer asked",
    "refund.reason.event": "Event changed or cancelled",
    "refund.reason.twice": "Paid twice",
    "refund.reason.mistake": "Sold by mistake",
    "btn.refund": "💸 Refund",
    "btn.refund_ticket": "{mark} {code} · {tier}",
    "btn.refund_whole": "{mark} Whole order · {amount}",
    "btn.refund_reason": "{mark} {reason}",
    "btn.refund_confirm": "💸 Refund {amount}",
    "btn.refund_anyway": "⚠️ Yes, refund them too",
    "btn.refund_back": "« Back",
    "btn.refund_close": "✖ Close",
    "btn.refund_retry": "🔁 Try again",
    "btn.assign_ticket": "🗑 Void {code} · {tier} · {price}",
    "alert.refund_not_allowed": "Only admins and this event's organisers can refund it.",
    "alert.refund_gone": "This order can't be found any more.",
    "alert.assign_done": "Voided.",
    "alert.refund_gone_tickets": "Those tickets can no longer be refunded; here is the order as it is now.",
    "btn.refund_ask_again": "🔁 Ask Midtrans again: {amount}",
    "refund.needs_refund": "⚠️ Paid after its seats were gone: no tickets were issued, so all {total} goes back.",
    "status.pending": "waiting for payment",
    "status.paid": "paid",
    "status.cancelled": "cancelled",
    "status.expired": "expired",
    "status.failed": "failed",
    "status.needs_refund": "waiting for a refund",
    "status.refunded": "refunded",
    "status.reversed": "reversed",
    "order.status.reversed": (
        "↩️ Order <code>{order}</code> (<b>{title}</b>): the payment ({total}) was taken back; its tickets are void."
    ),
    "pay.pending.bank": "🏦 <b>Finish your payment</b> for order <code>{order}</code> ({total}):\n{rows}",
    "pay.pending.store": "🏪 <b>Pay at the store</b> for order <code>{order}</code> ({total}):\n{rows}",
    "pay.pending.wallet": "📱 <b>Finish your payment</b> for order <code>{order}</code> ({total}):\n{rows}",
    "pay.pending.other": "💳 <b>Finish your payment</b> for order <code>{order}</code> ({total}):\n{rows}",
    "pay.store_howto": "Show the code to the cashier and pay the exact amount.",
    "pay.wallet.gopay": "• Open GoPay with the button below, or scan the QR code with GoPay.",
    "pay.wallet.shopeepay": "• Open ShopeePay with the button below to pay.",
    "pay.wallet.qris": "• Show the QRIS code (button below) and scan it with any e-wallet or mobile banking app.",
    "pay.wallet.other": "• Open your e-wallet with the button below.",
    "pay.wallet.page": "• Open the payment page (💳 button below): it shows the QR code and opens the app.",
    "pay.declined": (
        "❌ <b>The card was declined</b> for order <code>{order}</code> ({total}).\n"
        "Your seats are still held until <b>{until}</b>: try another card or another payment method."
    ),
    "btn.open_gopay": "📱 Open GoPay",
    "btn.open_shopeepay": "📱 Open ShopeePay",
    "btn.open_wallet": "📱 Open the app",
    "btn.show_qr": "🔳 Show the QR code",
    "btn.payment_page": "💳 Payment page",
    "btn.try_other_method": "💳 Try another card or method",
    "notice.reversed.buyer": (
        "↩️ <b>Payment reversed</b>: order <code>{order}</code> (<b>{title}</b>)\n{why}\n"
        "Your tickets for it are void: {codes}."
    ),
    "notice.reversed.staff": (
        "🚨 <b>Payment reversed</b>: order <code>{order}</code>\n<b>{title}</b>, {amount}\n{why}\n"
        "{n} {n:ticket|tickets} void: {codes}\nAlready checked in: {checked_in}\n👤 {buyer}{contact}"
    ),
    "notice.reversed.buyer.no_tickets": "↩️ <b>Payment reversed</b>: order <code>{order}</code> (<b>{title}</b>)\n{why}",
    "notice.contact": " · {email} · {phone}",
    "notice.reversed.deny": "The store reversed the payment after it was made.",
    "notice.reversed.cancel": "The payment was cancelled after it was made.",
    "notice.reversed.chargeback": "The bank or card issuer took the payment back (chargeback).",
    "notice.reversed.other": "Midtrans reports the money went back ({status}).",
    "notice.partial_refund": (
        "💸 <b>Part of your order was refunded</b>: order <code>{order}</code> (<b>{title}</b>), {amount}.\n"
        "Void now: {codes}. Your other tickets stay valid."
    ),
    "notice.partial_refund.no_tickets": (
        "💸 <b>Part of your order was refunded</b>: order <code>{order}</code> (<b>{title}</b>), {amount}. "
        "You will be told which tickets it covers."
    ),
    "notice.refund_unassigned": (
        "🚨 <b>Refund without tickets</b>: order <code>{order}</code>\n<b>{title}</b>, paid {total}\n"
        "Midtrans reports {refunded} refunded; <b>{amount}</b> of it is not yet matched to tickets. "
        "Choose the tickets to void:\n{tickets}"
    ),
    "notice.refund_unassigned.done": (
        "✅ Order <code>{order}</code> (<b>{title}</b>): every refunded rupiah ({refunded}) is now matched to "
        "void tickets.\n{tickets}"
    ),
    "notice.expired_unconfirmed": (
        "⚠️ <b>Expired unconfirmed</b>: order <code>{order}</code> (<b>{title}</b>), {total}\n"
        "Midtrans could not be reached to confirm whether it was paid before the hold ended ({since}), so the "
        "seats were released. If the buyer paid, a late settlement still reaches Karcis; check the Midtrans "
        "dashboard."
    ),
}

ID: dict[str, str] = {
    # ---- waktu ----
    "time.weekdays": "Sen Sel Rab Kam Jum Sab Min",
    "time.months": "Jan Feb Mar Apr Mei Jun Jul Agu Sep Okt Nov Des",
    # ---- perintah (menu) ----
    "cmd.start": "Acara yang dijual",
    "cmd.mytickets": "Tiket saya",
    "cmd.orders": "Pesanan belum dibayar: bayar atau batalkan",
    "cmd.help": "Bantuan",
    "cmd.checkin": "Check-in tiket dengan kodenya",
    "cmd.scan": "Check-in dari foto QR",
    "cmd.stats": "Statistik penjualan",
    "cmd.expire": "Lepas kursi dari penahanan yang sudah berakhir",
    # ---- tombol ----
    "btn.sold_out": "{tier} · habis",
    "btn.checkout": "Lanjut · {total}",
    "btn.events": "« Acara",
    "btn.cancel_purchase": "✖ Batal",
    "btn.pay": "💳 Bayar {total}",
    "btn.pay_order": "💳 Bayar …{order} · {total}",
    "btn.cancel_order": "✖ Batalkan pesanan",
    "btn.cancel_short": "✖ Batalkan",
    "btn.use_last": "✅ Pakai data ini",
    "btn.new_details": "✏️ Isi data lain",
    "btn.confirm": "✅ Konfirmasi dan tahan kursi",
    "btn.change_details": "✏️ Ubah data",
    "btn.change_tickets": "🎟 Ubah tiket",
    "btn.try_again": "🔁 Coba lagi",
    "btn.my_orders": "🧾 Pesanan saya",
    "btn.my_tickets": "🎟 Tiket saya",
    "btn.buy_again": "🎟 Beli lagi",
    # ---- jawaban tombol ----
    "alert.event_gone": "Acara ini sudah tidak tersedia.",
    "alert.max_per_order": "Itu jumlah maksimum tiket ini dalam satu pesanan.",
    "alert.no_seats": "Tidak ada kursi tersisa di kategori ini.",
    "alert.cart_full": "Pesanan ini tidak bisa menampung jenis tiket lain; beli di pesanan kedua.",
    "alert.use_buttons": "Gunakan ➕ dan ➖ untuk memilih jumlah.",
    "alert.sales_closed": "Penjualan tiket acara ini sudah berakhir.",
    "alert.cart_empty": "Pilih minimal satu tiket dulu.",
    "alert.draft_gone": "Pembelian ini sudah tidak aktif. Mulai lagi dari acaranya.",
    "alert.order_gone": "Pesanan tidak ditemukan.",
    "alert.cancelled": "Pesanan dibatalkan.",
    "alert.not_your_ticket": "Tiket itu bukan milik Anda.",
    # ---- melihat acara ----
    "welcome": (
        "👋 Halo {name}! Ini <b>Karcis</b>: tiket acara, dibayar lewat Midtrans, dikirim ke sini sebagai kode "
        "QR."
    ),
    "events.list": "🎫 <b>Acara yang dijual</b>: ketuk salah satu untuk melihat tiketnya.",
    "events.none": "Belum ada acara yang dijual saat ini.",
    "event.gone": "Acara itu tidak tersedia.",
    "card.head": "<b>{title}</b>\n🗓 {when}\n📍 {venue}",
    "card.tiers": "🎟 <b>Tiket</b>",
    "card.tier": "• {tier}: {price} · {left}",
    "card.left": "sisa {n}",
    "card.sold_out": "habis",
    "card.selection": "🛒 <b>Pilihan Anda</b>\n{lines}\n<b>Total: {total}</b>",
    "card.pick": "Pilih jumlahnya dengan ➕ dan ➖.",
    "card.sales_closed": "⛔ Penjualan tiket untuk acara ini sudah berakhir.",
    # ---- penjualan belum dibuka, sudah berakhir, habis: waktu di zona acara (time-zones.md) ----
    "card.sales_not_open": "⏳ Penjualan tiket dibuka pada {when}.",
    "card.sold_out_all": "😕 Semua tiket acara ini sudah habis.",
    "btn.sales_open_on": "⏳ Dibuka {when}",
    "alert.sales_not_open": "Penjualan tiket belum dibuka: dibuka pada {when}.",
    "alert.sales_not_open_soon": "Penjualan tiket belum dibuka: waktunya ada di kartu acara.",
    "refused.sales_not_open": "⏳ Penjualan tiket <b>{title}</b> dibuka pada {when}.",
    "price.free": "Gratis",
    "order.line": "{qty} × {tier}: {amount}",
    # ---- data pembeli ----
    "contact.use_last": (
        "👤 Pakai data dari pembelian sebelumnya?\n\nNama: <b>{name}</b>\nEmail: {email}\nTelepon: "
        "{phone}"
    ),
    "contact.ask.name": "👤 <b>Langkah 1 dari 3</b>: nama siapa yang dicantumkan di tiket?",
    "contact.ask.email": "📧 <b>Langkah 2 dari 3</b>: alamat email Anda (untuk bukti pembayaran)?",
    "contact.ask.phone": "📱 <b>Langkah 3 dari 3</b>: nomor HP Anda, misalnya 0812 3456 7890?",
    "contact.error.name.empty": "⚠️ Nama masih kosong.",
    "contact.error.name.too_long": "⚠️ Nama itu terlalu panjang (maksimal 80 karakter).",
    "contact.error.name.no_letters": "⚠️ Nama harus mengandung huruf.",
    "contact.error.name.control_characters": "⚠️ Nama itu mengandung karakter kontrol yang tidak terlihat.",
    "contact.error.name.invalid": "⚠️ Nama itu tidak bisa dipakai.",
    "contact.error.email.invalid": "⚠️ Alamat email itu tidak valid (contoh: nama@contoh.com).",
    "contact.error.phone.not_a_number": "⚠️ Itu bukan nomor telepon: gunakan angka, misalnya 0812 3456 7890.",
    "contact.error.phone.too_short": (
        "⚠️ Nomor telepon itu terlalu pendek: nomor HP Indonesia seperti 0812 3456 7890 (10 sampai 13 digit)."
    ),
    "contact.error.phone.too_long": (
        "⚠️ Nomor telepon itu terlalu panjang: nomor HP Indonesia seperti 0812 3456 7890 (10 sampai 13 digit)."
    ),
    "contact.error.phone.invalid": (
        "⚠️ Nomor itu tidak cocok dengan kode negaranya: periksa angka setelah tanda +."
    ),
    "contact.error.phone.not_mobile": "⚠️ Mohon masukkan nomor HP; telepon rumah tidak bisa menerima pesan.",
    "summary": (
        "🧾 <b>Ringkasan pesanan</b>\n<b>{title}</b>\n🗓 {when}\n\n{lines}\n<b>Total: {total}</b>\n\n"
        "👤 {name}\n📧 {email}\n📱 {phone}\n\n{closing}"
    ),
    "purchase.dropped": "Pembelian dibatalkan. Tidak ada yang dipesan.",
    "hint.start": "Kirim /start untuk melihat acara, /mytickets untuk tiket Anda, /help untuk bantuan.",
    # ---- checkout-flow: kesalahan nomor, berbagi nomor, mengubah satu data, baris akhir ringkasan ----
    "contact.error.name.direction_controls": (
        "⚠️ Nama itu mengandung karakter tak terlihat yang membalik arah teks (seperti U+202E). "
        "Ketik tanpa karakter itu."
    ),
    "contact.error.phone.empty": "⚠️ Belum ada nomor: ketik nomor HP Anda, misalnya 0812 3456 7890.",
    "contact.error.phone.letters": "⚠️ Nomor telepon tidak berisi huruf: ketik angka saja, misalnya 0812 3456 7890.",
    "contact.error.phone.missing_plus": (
        "⚠️ Sepertinya itu nomor luar negeri: awali dengan + dan kode negaranya, misalnya +61 412 345 678. "
        "Nomor HP Indonesia seperti 0812 3456 7890."
    ),
    "contact.error.phone.unknown_country": (
        "⚠️ Tidak ada negara dengan kode itu setelah tanda +. Nomor HP Indonesia seperti 0812 3456 7890 "
        "atau +62 812 3456 7890."
    ),
    "contact.error.phone.not_indonesian": (
        "⚠️ Itu bukan nomor HP Indonesia: nomor HP seperti 0812 3456 7890 (08, lalu 8 sampai 11 digit). "
        "Dari luar negeri? Awali dengan + dan kode negara Anda."
    ),
    "contact.share.offer": (
        "📱 Ketuk <b>Bagikan nomor HP saya</b> di bawah untuk memakai nomor akun Telegram ini, atau ketik nomornya."
    ),
    "contact.share.button": "📱 Bagikan nomor HP saya",
    "contact.share.placeholder": "0812 3456 7890",
    "contact.share.not_yours": (
        "⚠️ Itu kontak orang lain. Ketuk <b>Bagikan nomor HP saya</b> untuk mengirim kontak Anda sendiri, "
        "atau ketik nomor Anda."
    ),
    "contact.share.noted": "📱 Nomor HP: {phone}",
    "contact.share.closed": "📱 Nomor HP tidak diperlukan lagi.",
    "contact.change.choose": "✏️ <b>Ubah data</b>: yang mana? Data lainnya tetap.",
    "contact.change.name": "👤 Nama di tiket, sebagai ganti <b>{current}</b>?",
    "contact.change.email": "📧 Alamat email Anda, sebagai ganti {current}?",
    "contact.change.phone": "📱 Nomor HP Anda, sebagai ganti {current}?",
    "btn.change.name": "👤 Nama",
    "btn.change.email": "📧 Email",
    "btn.change.phone": "📱 Telepon",
    "btn.back_to_summary": "« Kembali ke ringkasan",
    "btn.confirm_free": "✅ Konfirmasi: ambil tiket",
    "summary.pay": "Konfirmasi untuk menahan kursi, lalu bayar lewat Midtrans.",
    "summary.free": "Tidak ada yang perlu dibayar: konfirmasi dan tiket Anda langsung dikirim ke sini.",
    "summary.free_done": "✅ Pesanan <code>{order}</code> dikonfirmasi: tiket Anda menyusul.",
    # ---- memesan ----
    "refused.sold_out_left": (
        "😕 Kursi tidak cukup: hanya tersisa {n} untuk <b>{tier}</b>. Ubah jumlahnya lalu coba lagi."
    ),
    "refused.sold_out": "😕 <b>{tier}</b> sudah habis.",
    "refused.rate_limited": (
        "⏳ Terlalu banyak pemesanan dalam satu menit (maksimal {n}). Tunggu sebentar, lalu coba "
        "lagi."
    ),
    "refused.too_many_pending": (
        "🧾 Anda sudah punya {n} pesanan yang belum dibayar. Bayar atau batalkan {n:pesanan itu|salah satunya} "
        "dulu."
    ),
    "refused.over_max": "Maksimal {n} × <b>{tier}</b> per pesanan.",
    "refused.unknown_tier": "<b>{tier}</b> sudah tidak dijual.",
    "refused.empty": "Pilih minimal satu tiket.",
    "refused.sales_closed": "⛔ Penjualan tiket <b>{title}</b> sudah berakhir.",
    "refused.unknown_event": "Acara itu sudah tidak tersedia.",
    "refused.staff_only": "🙏 Maaf, perintah ini khusus untuk penyelenggara acara.",
    "refused.admin_only": "🙏 Maaf, perintah ini khusus untuk admin Karcis.",
    # ---- membayar ----
    "pay.link": (
        "✅ <b>Kursi sudah ditahan!</b> Pesanan <code>{order}</code>\n{lines}\n<b>Total: {total}</b>\n\n"
        "⏰ Bayar sebelum <b>{until}</b>; setelah itu kursi dilepas."
    ),
    "pay.unavailable": (
        "⚠️ Kursi Anda sudah ditahan (pesanan <code>{order}</code>, sampai {until}), tetapi tautan pembayaran "
        "sedang tidak tersedia. Coba lagi sebentar lagi."
    ),
    "pay.over": "⌛ Waktu penahanan pesanan <code>{order}</code> sudah berakhir; pesanan ini tidak bisa dibayar lagi.",
    "pay.va": "• Virtual account {bank}: <code>{number}</code>",
    "pay.bill": "• Mandiri Bill: kode perusahaan <code>{biller}</code>, kode bayar <code>{bill_key}</code>",
    "pay.store": "• Bayar di {store} dengan kode <code>{code}</code>",
    "pay.pdf": '• <a href="{url}">Petunjuk pembayaran (PDF)</a>',
    "pay.expiry": "⏰ Bayar sebelum {until}",
    "pay.no_details": "Ikuti langkah di halaman pembayaran.",
    # ---- pesanan ----
    "order.cancelled": "✖ Pesanan <code>{order}</code> dibatalkan; kursinya sudah dilepas.\n{lines}",
    "order.not_found": "Pesanan itu tidak ditemukan.",
    "order.status.pending": (
        "🧾 Pesanan <code>{order}</code>: <b>{title}</b>\n{lines}\n<b>Total: {total}</b>\n\n"
        "⏳ Menunggu pembayaran sampai <b>{until}</b>."
    ),
    "order.status.paid": "✅ Pesanan <code>{order}</code>: <b>{title}</b>\n{lines}\n\nLunas. Tiket Anda: /mytickets",
    "order.status.cancelled": "✖ Pesanan <code>{order}</code> (<b>{title}</b>) dibatalkan; kursinya sudah dilepas.",
    "order.status.expired": (
        "⌛ Pesanan <code>{order}</code> (<b>{title}</b>) tidak dibayar tepat waktu; kursinya sudah dilepas."
    ),
    "order.status.failed": "❌ Pembayaran pesanan <code>{order}</code> (<b>{title}</b>) gagal; kursinya sudah dilepas.",
    "order.status.needs_refund": (
        "💸 Pesanan <code>{order}</code> (<b>{title}</b>): pembayaran Anda masuk setelah kursi habis. "
        "Dana {total} akan dikembalikan kepada Anda."
    ),
    "order.status.refunded": (
        "💸 Pesanan <code>{order}</code> (<b>{title}</b>) sudah di-refund ({total}); tiketnya tidak berlaku lagi."
    ),
    "orders.none": "Tidak ada pesanan yang belum dibayar. Tiket Anda: /mytickets",
    "orders.head": "🧾 <b>Pesanan belum dibayar</b>",
    "orders.item": "<code>{order}</code>: <b>{title}</b>\n{lines}\nTotal {total} · bayar sebelum {until}",
    # ---- the messages that offer actions on an order (docs/order-messages.md; order-buttons) ----
    "order.truth.paid": "Pesanan {order} sudah lunas — tiket Anda ada di chat ini.",
    "order.truth.expired": "Waktu penahanan ini habis pada {until}; kursinya sudah dilepas.",
    "order.truth.failed": "Pembayaran pesanan {order} gagal; kursinya sudah dilepas.",
    "order.truth.cancelled": "Pesanan {order} sudah dibatalkan; kursinya sudah dilepas.",
    "order.truth.needs_refund": "Pesanan {order} dibayar setelah kursinya habis; dananya sedang dikembalikan.",
    "order.truth.refunded": "Dana pesanan {order} sudah dikembalikan; tiketnya tidak berlaku.",
    "order.truth.reversed": "Pembayaran pesanan {order} ditarik kembali; tiketnya tidak berlaku.",
    "order.truth.pending": "Pembelian ini sudah menjadi pesanan {order}, menunggu pembayaran.",
    "purchase.closed": "Pembelian ini sudah tidak terbuka. Pesanan yang belum dibayar: /orders",
    "order.cancel_ask": (
        "❓ Batalkan pesanan <code>{order}</code>?\n{lines}\n<b>Total: {total}</b>\n\nKursinya akan dijual lagi."
    ),
    "btn.cancel_yes": "✖ Ya, batalkan",
    "btn.cancel_keep": "↩ Tetap pesan",
    "btn.pay_n": "💳 #{n} · Bayar {total}",
    "btn.cancel_n": "✖ Batalkan #{n}",
    "orders.item_n": "<b>#{n}</b> <code>{order}</code>: <b>{title}</b>\n{lines}\nTotal {total} · bayar sebelum {until}",
    "orders.none_unpaid": "🧾 Tidak ada pesanan yang belum dibayar.",
    "orders.paid_head": "✅ <b>Lunas</b> (tiket Anda: /mytickets)",
    "orders.paid_item": "<code>{order}</code>: <b>{title}</b> · {total}",
    # ---- tiket ----
    "tickets.none": "Anda belum punya tiket. /start untuk melihat acara.",
    "tickets.head": "🎟 <b>Tiket Anda</b> (halaman {page} dari {pages}): ketuk tiket untuk menampilkan QR-nya lagi.",
    "tickets.event": "<b>{title}</b> · {when}",
    "tickets.item.valid": "• {tier} · <code>{code}</code> · {holder}",
    "tickets.item.in": "• {tier} · <code>{code}</code> · {holder} · ✅ sudah masuk",
    "tickets.item.void": "• <s>{tier} · {code}</s> · {holder} · tidak berlaku",
    "ticket.caption": "🎟 <b>{title}</b>\n{tier}\n👤 {holder}\n<code>{code}</code>\n🗓 {when}",
    "ticket.void": "❌ <b>TIDAK BERLAKU</b>",
    # ---- di pintu masuk ----
    "checkin.ok": "✅ <b>Check-in berhasil</b>: {holder}, {tier}\n{title}",
    "checkin.already": "⚠️ <b>Sudah check-in</b> pukul {time} oleh {by}\n{holder}, {tier}",
    "checkin.void": "❌ <b>Tiket tidak berlaku</b>\n{holder}, {tier}",
    "checkin.not_yours": "❌ <b>Bukan acara Anda</b>",
    "checkin.unknown": "❌ <b>Kode tidak dikenal</b>",
    "checkin.usage": "Kirim <code>/checkin KODE</code>: kode di bawah QR, atau tautan tiketnya.",
    # ---- the door window, a typed code at the door, a ticket's link opened by anyone (bot/checkin.py) ----
    "checkin.early": "⏳ <b>Acara ini mulai {when}</b>: tetap check-in?\n{holder}, {tier}\n{title}",
    "checkin.late": "⏳ <b>Acara ini sudah berakhir {when}</b>: tetap check-in?\n{holder}, {tier}\n{title}",
    "btn.checkin_anyway": "✅ Tetap check-in",
    "checkin.answered": "✅ Sudah check-in.",
    "checkin.typed_code": (
        "Untuk check-in tiket ini, kirim <code>/checkin KODE</code>, atau /scan dulu: dalam mode pindai, kode "
        "yang diketik juga langsung check-in."),
    "ticket.public.valid": "🎟 <b>Tiket berlaku</b>, belum dipakai\n{title}\n{tier} · {when}",
    "ticket.public.used": "⚠️ <b>Sudah dipakai</b>: check-in {at}\n{title}\n{tier} · {when}",
    "ticket.public.void": "❌ <b>Tiket tidak berlaku</b>: tidak bisa dipakai masuk\n{title}\n{tier} · {when}",
    "ticket.public.unknown": "❔ <b>Tiket tidak ditemukan.</b> Periksa kode di bawah QR: 12 huruf dan angka.",
    "ticket.public.door": "Hanya petugas pintu acara ini yang bisa melakukan check-in.",
    # ---- the ticket's public page (webhooks/ticket_page.py; plain text, escaped by the page) ----
    "page.title": "Tiket Karcis {code}",
    "page.valid": "Tiket berlaku",
    "page.used": "Sudah dipakai",
    "page.used_at": "Check-in {when}",
    "page.void": "Tiket tidak berlaku",
    "page.unknown": "Tiket tidak ditemukan",
    "page.unknown_hint": "Periksa kode di bawah QR: 12 huruf dan angka.",
    "page.event": "{title}",
    "page.when": "{when} · {venue}",
    "page.staff": "Petugas pintu: check-in dari chat Anda",
    "page.telegram": "Check-in dengan Telegram",
    "page.whatsapp": "Check-in dengan WhatsApp",
    "page.no_changes": "Halaman ini hanya menampilkan tiket; check-in dilakukan di chat petugas.",
    "scan.ready": (
        "📷 Kirim foto kode QR tiket, atau ketik kodenya. Mode pindai tetap aktif 15 menit setelah setiap "
        "pindaian."),
    "scan.first": "Untuk check-in dari foto, kirim /scan dulu (atau tulis /scan sebagai keterangan foto).",
    "scan.no_code": "❌ <b>Kode QR tidak ditemukan</b> di foto itu. Coba lagi, lebih dekat dan lebih jelas.",
    "photo.not_expected": "Saya tidak bisa memproses foto. /start untuk melihat acara.",
    # ---- angka ----
    "stats.head": "📊 <b>{title}</b> · {when}",
    "stats.tier": (
        "• {tier}: terjual {sold}/{capacity} · ditahan {pending} · sisa {available} · masuk {checked_in} · {revenue}"
    ),
    "stats.total": (
        "<b>Total</b>: terjual {sold}/{capacity} · ditahan {pending} · sisa {available} · masuk {checked_in} · "
        "<b>{revenue}</b>"
    ),
    "stats.none": "Belum ada acara.",
    "expire.none": "Tidak ada yang kedaluwarsa: belum ada penahanan yang berakhir.",
    "expire.done": "⌛ <b>{orders}</b> pesanan kedaluwarsa, <b>{seats}</b> kursi dilepas.",
    "expire.event": "• {title}: {orders} pesanan, {seats} kursi",
    # ---- bantuan dan kesalahan ----
    "help.buyer": (
        "<b>Karcis</b>\n/start: acara yang dijual\n/mytickets: tiket Anda (kode QR)\n"
        "/orders: pesanan belum dibayar, untuk dibayar atau dibatalkan\n/help: bantuan ini"
    ),
    "help.organiser": (
        "<b>Penyelenggara</b>\n/checkin KODE: check-in tiket\n/scan: lalu kirim foto QR\n"
        "/stats: penjualan acara Anda\n/refund PESANAN: refund pesanan acara Anda, atau sebagian tiketnya\n"
        "Membuka QR tiket dengan kamera HP juga melakukan check-in; dalam mode /scan, mengetik kodenya juga. "
        "Di luar jam pintu acara (dari beberapa jam sebelum mulai sampai selesai) Anda diminta konfirmasi dulu."
    ),
    "help.admin": (
        "<b>Admin</b>\n/expire: lepas sekarang kursi pesanan belum dibayar yang penahanannya sudah berakhir "
        "(bot juga melakukannya sendiri secara berkala; penahanan yang masih berjalan tidak disentuh)\n"
        "/stats: semua acara\n/refund PESANAN: refund pesanan mana pun"
    ),
    "error.generic": "😵 Maaf, terjadi kesalahan. Silakan coba lagi sebentar lagi.",
    # ---- pemberitahuan ----
    "notice.paid": (
        "💳 <b>Pembayaran diterima</b>: pesanan <code>{order}</code>\n<b>{title}</b>\n{lines}\nTotal {total}\n\n"
        "Tiket Anda menyusul. Tunjukkan QR-nya di pintu masuk."
    ),
    "notice.free": (
        "🎉 <b>Tiket gratis Anda</b>: pesanan <code>{order}</code>\n<b>{title}</b>\n{lines}\n\n"
        "Tunjukkan QR-nya di pintu masuk."
    ),
    "notice.sale": (
        "💰 <b>Penjualan baru</b>: <b>{title}</b>\n{lines}\n👤 {buyer}\n<code>{order}</code>\n\n"
        "<b>Terjual sejauh ini</b>\n{figures}\nSemua kategori: {sold}/{capacity}"
    ),
    "notice.sale.tier": "• {tier}: {sold}/{capacity}",
    # onsale-messages: bukti pembayaran di keterangan foto tiket pertama, dan ringkasan penjualan penyelenggara
    "receipt.paid": "💳 <b>Pembayaran diterima</b>: pesanan <code>{order}</code>\n{lines}\nTotal {total}",
    "receipt.free": "🎉 <b>Tiket gratis Anda</b>: pesanan <code>{order}</code>\n{lines}",
    "digest.head": "📊 <b>Penjualan sejak {since}</b>\nPesanan: {orders} · kursi: {seats}",
    "digest.event": "<b>{title}</b> · pesanan: {orders} · kursi: {seats}",
    "digest.event_when": "🗓 {when}",
    "digest.tier": "• {tier}: +{qty} · terjual {sold}/{capacity}",
    "digest.tier.gone": "• {tier}: +{qty}",
    "digest.total": "Semua kategori: {sold}/{capacity}",
    "digest.latest": "<b>Terbaru</b>",
    "digest.sale": "• {buyer} · {seats} · <code>{order}</code>",
    "digest.more": "… dan {n} pesanan sebelumnya dalam ringkasan ini (/stats untuk totalnya)",
    "notice.expired": (
        "⌛ Pesanan <code>{order}</code> untuk <b>{title}</b> tidak dibayar tepat waktu; kursinya sudah dilepas.\n"
        "{lines}"
    ),
    "notice.failed": (
        "❌ Pembayaran pesanan <code>{order}</code> (<b>{title}</b>) gagal; kursinya sudah dilepas.\n{lines}"
    ),
    "notice.refunded": (
        "💸 Pesanan <code>{order}</code> (<b>{title}</b>) sudah di-refund: {total}. Tiketnya tidak berlaku lagi."
    ),
    "notice.needs_refund.buyer": (
        "💸 Pembayaran Anda untuk pesanan <code>{order}</code> (<b>{title}</b>) masuk setelah kursi habis. "
        "Mohon maaf: dana {total} akan dikembalikan kepada Anda."
    ),
    "notice.needs_refund.admin": (
        "🚨 <b>Perlu refund</b>: pesanan <code>{order}</code>\n<b>{title}</b>, {total}\n"
        "Dibayar setelah kategori {tier} habis.\n👤 {buyer} · {email} · {phone}"
    ),
    "notice.amount_mismatch": (
        "🚨 <b>Jumlah tidak cocok</b>: pesanan <code>{order}</code> ({title})\n"
        "Total pesanan {total}, Midtrans melaporkan {reported} ({status}). Tiket tidak diterbitkan."
    ),
    "notice.review": (
        "🔎 <b>Pembayaran ditahan untuk ditinjau</b>: pesanan <code>{order}</code> ({title}), {total}, {method}. "
        "Periksa di dasbor Midtrans."
    ),
    # ---- refund, pembatalan pembayaran, rincian pembayaran (issue 9, money-chat) ----
    "cmd.refund": "Refund pesanan atau sebagian tiketnya",
    "refund.usage": (
        "Kirim <code>/refund PESANAN</code> dengan nomor pesanan, misalnya <code>/refund "
        "KRC-2612-7QF9MZTXW3</code>."
    ),
    "refund.head": "💸 <b>Refund</b> pesanan <code>{order}</code>\n<b>{title}</b>\n👤 {buyer} · dibayar {total}",
    "refund.so_far": "Sudah di-refund: {amount}",
    "refund.unassigned": "⚠️ {amount} yang di-refund di Midtrans belum dicocokkan dengan tiket.",
    "refund.ticket.valid": "• <code>{code}</code> {tier}: {price}",
    "refund.ticket.in": "• <code>{code}</code> {tier}: {price} · ✅ sudah masuk {time}",
    "refund.ticket.claimed": "• <code>{code}</code> {tier}: {price} · ⏳ refund sedang diproses",
    "refund.ticket.void": "• <s>{code} {tier}</s> · tidak berlaku",
    "refund.no_tickets": "Belum ada tiket yang diterbitkan untuk pesanan ini.",
    "refund.pick": "Pilih tiket yang di-refund (atau seluruh pesanan) dan alasannya.",
    "refund.pick_reason": "Sekarang pilih alasannya.",
    "refund.choice": "Refund <b>{amount}</b> untuk {what}.\nAlasan: {reason}",
    "refund.choice.whole": "seluruh pesanan",
    "refund.choice.tickets": "{n} tiket: {codes}",
    "refund.nothing_left": "Tidak ada lagi yang bisa di-refund dari pesanan ini.",
    "refund.working": "⏳ Meminta Midtrans me-refund {amount}…",
    "refund.confirm_checked_in": (
        "⚠️ <b>Sudah check-in</b>: {codes}. {n:Orang ini|Orang-orang ini} sedang (atau pernah) berada di acara.\n"
        "Tetap refund {n:tiketnya|tiket mereka}?"
    ),
    "refund.done": (
        "✅ <b>Refund {amount} berhasil</b> untuk pesanan <code>{order}</code>: {n} tiket ({codes}) tidak "
        "berlaku lagi, kursinya dijual kembali.\nAlasan: {reason}"
    ),
    "refund.done.whole": (
        "✅ <b>Refund {amount} berhasil</b>: pesanan <code>{order}</code> sudah di-refund penuh; semua "
        "tiketnya tidak berlaku lagi.\nAlasan: {reason}"
    ),
    "refund.midtrans_refused": (
        "❌ <b>Midtrans menolak refund</b> pesanan <code>{order}</code>: {why}\nTidak ada yang berubah."
    ),
    "refund.midtrans_unavailable": (
        "⚠️ <b>Midtrans tidak bisa dihubungi</b>: tidak ada yang berubah pada pesanan <code>{order}</code>, dan "
        "tiketnya tetap berlaku. Coba lagi sebentar lagi: mencoba lagi tidak akan me-refund dua kali."
    ),
    "refund.refused.not_found": "Pesanan <code>{order}</code> tidak ditemukan.",
    "refund.refused.not_allowed": "🙏 Maaf: hanya admin dan penyelenggara acaranya yang bisa me-refund pesanan ini.",
    "refund.refused.not_paid": "Pesanan <code>{order}</code> berstatus {status}: tidak ada pembayaran untuk di-refund.",
    "refund.refused.nothing_to_refund": "Pesanan <code>{order}</code> tidak punya tiket berlaku yang bisa di-refund.",
    "refund.refused.ticket_not_in_order": "Tiket <code>{code}</code> bukan bagian dari pesanan <code>{order}</code>.",
    "refund.refused.ticket_void": "Tiket <code>{code}</code> sudah tidak berlaku.",
    "refund.refused.ticket_being_refunded": "Refund tiket <code>{code}</code> sedang diproses.",
    "refund.refused.nothing_unassigned": (
        "Semua dana yang di-refund dari pesanan <code>{order}</code> sudah dicocokkan dengan tiket."
    ),
    "refund.refused.checked_in_needs_confirm": (
        "{n} tiket ({codes}) sudah check-in: konfirmasi sekali lagi untuk me-refund-nya."
    ),
    "refund.refused.midtrans_refused": "Midtrans menolak: {why}",
    "refund.refused.midtrans_unavailable": "Midtrans tidak bisa dihubungi: tidak ada yang berubah.",
    "refund.closed": "Refund pesanan <code>{order}</code> ditutup; tidak ada yang di-refund.",
    "refund.reason.buyer": "Permintaan pembeli",
    "refund.reason.event": "Acara berubah atau batal",
    "refund.reason.twice": "Terbayar dua kali",
    "refund.reason.mistake": "Salah jual",
    "btn.refund": "💸 Refund",
    "btn.refund_ticket": "{mark} {code} · {tier}",
    "btn.refund_whole": "{mark} Seluruh pesanan · {amount}",
    "btn.refund_reason": "{mark} {reason}",
    "btn.refund_confirm": "💸 Refund {amount}",
    "btn.refund_anyway": "⚠️ Ya, refund juga",
    "btn.refund_back": "« Kembali",
    "btn.refund_close": "✖ Tutup",
    "btn.refund_retry": "🔁 Coba lagi",
    "btn.assign_ticket": "🗑 Batalkan {code} · {tier} · {price}",
    "alert.refund_not_allowed": "Hanya admin dan penyelenggara acara ini yang bisa me-refund-nya.",
    "alert.refund_gone": "Pesanan ini sudah tidak ditemukan.",
    "alert.assign_done": "Dibatalkan.",
    "alert.refund_gone_tickets": "Tiket itu sudah tidak bisa di-refund; ini keadaan pesanannya sekarang.",
    "btn.refund_ask_again": "🔁 Minta Midtrans lagi: {amount}",
    "refund.needs_refund": (
        "⚠️ Dibayar setelah kursinya habis: tidak ada tiket yang diterbitkan, jadi seluruh {total} dikembalikan."
    ),
    "status.pending": "menunggu pembayaran",
    "status.paid": "lunas",
    "status.cancelled": "dibatalkan",
    "status.expired": "kedaluwarsa",
    "status.failed": "gagal",
    "status.needs_refund": "menunggu refund",
    "status.refunded": "sudah di-refund",
    "status.reversed": "pembayaran dibatalkan",
    "order.status.reversed": (
        "↩️ Pesanan <code>{order}</code> (<b>{title}</b>): pembayarannya ({total}) ditarik kembali; tiketnya tidak "
        "berlaku lagi."
    ),
    "pay.pending.bank": "🏦 <b>Selesaikan pembayaran</b> pesanan <code>{order}</code> ({total}):\n{rows}",
    "pay.pending.store": "🏪 <b>Bayar di gerai</b> untuk pesanan <code>{order}</code> ({total}):\n{rows}",
    "pay.pending.wallet": "📱 <b>Selesaikan pembayaran</b> pesanan <code>{order}</code> ({total}):\n{rows}",
    "pay.pending.other": "💳 <b>Selesaikan pembayaran</b> pesanan <code>{order}</code> ({total}):\n{rows}",
    "pay.store_howto": "Tunjukkan kode ini ke kasir dan bayar sesuai jumlahnya.",
    "pay.wallet.gopay": "• Buka GoPay dengan tombol di bawah, atau pindai kode QR-nya dengan GoPay.",
    "pay.wallet.shopeepay": "• Buka ShopeePay dengan tombol di bawah untuk membayar.",
    "pay.wallet.qris": "• Tampilkan kode QRIS (tombol di bawah) lalu pindai dengan e-wallet atau m-banking apa pun.",
    "pay.wallet.other": "• Buka e-wallet Anda dengan tombol di bawah.",
    "pay.wallet.page": "• Buka halaman pembayaran (tombol 💳 di bawah): di sana ada kode QR dan tautan ke aplikasinya.",
    "pay.declined": (
        "❌ <b>Kartu ditolak</b> untuk pesanan <code>{order}</code> ({total}).\n"
        "Kursi Anda masih ditahan sampai <b>{until}</b>: coba kartu lain atau metode pembayaran lain."
    ),
    "btn.open_gopay": "📱 Buka GoPay",
    "btn.open_shopeepay": "📱 Buka ShopeePay",
    "btn.open_wallet": "📱 Buka aplikasinya",
    "btn.show_qr": "🔳 Tampilkan kode QR",
    "btn.payment_page": "💳 Halaman pembayaran",
    "btn.try_other_method": "💳 Coba kartu atau metode lain",
    "notice.reversed.buyer": (
        "↩️ <b>Pembayaran dibatalkan</b>: pesanan <code>{order}</code> (<b>{title}</b>)\n{why}\n"
        "Tiket Anda untuk pesanan ini tidak berlaku lagi: {codes}."
    ),
    "notice.reversed.staff": (
        "🚨 <b>Pembayaran dibatalkan</b>: pesanan <code>{order}</code>\n<b>{title}</b>, {amount}\n{why}\n"
        "{n} tiket tidak berlaku: {codes}\nSudah check-in: {checked_in}\n👤 {buyer}{contact}"
    ),
    "notice.reversed.buyer.no_tickets": (
        "↩️ <b>Pembayaran dibatalkan</b>: pesanan <code>{order}</code> (<b>{title}</b>)\n{why}"
    ),
    "notice.contact": " · {email} · {phone}",
    "notice.reversed.deny": "Gerai membatalkan pembayaran setelah pembayaran dilakukan.",
    "notice.reversed.cancel": "Pembayaran dibatalkan setelah dilakukan.",
    "notice.reversed.chargeback": "Bank atau penerbit kartu menarik kembali pembayaran (chargeback).",
    "notice.reversed.other": "Midtrans melaporkan dananya kembali ({status}).",
    "notice.partial_refund": (
        "💸 <b>Sebagian pesanan Anda di-refund</b>: pesanan <code>{order}</code> (<b>{title}</b>), {amount}.\n"
        "Tidak berlaku lagi: {codes}. Tiket Anda yang lain tetap berlaku."
    ),
    "notice.partial_refund.no_tickets": (
        "💸 <b>Sebagian pesanan Anda di-refund</b>: pesanan <code>{order}</code> (<b>{title}</b>), {amount}. "
        "Kami akan memberi tahu tiket mana yang termasuk."
    ),
    "notice.refund_unassigned": (
        "🚨 <b>Refund tanpa tiket</b>: pesanan <code>{order}</code>\n<b>{title}</b>, dibayar {total}\n"
        "Midtrans melaporkan {refunded} di-refund; <b>{amount}</b> di antaranya belum dicocokkan dengan tiket. "
        "Pilih tiket yang dibatalkan:\n{tickets}"
    ),
    "notice.refund_unassigned.done": (
        "✅ Pesanan <code>{order}</code> (<b>{title}</b>): semua dana yang di-refund ({refunded}) sudah "
        "dicocokkan dengan tiket yang dibatalkan.\n{tickets}"
    ),
    "notice.expired_unconfirmed": (
        "⚠️ <b>Kedaluwarsa tanpa konfirmasi</b>: pesanan <code>{order}</code> (<b>{title}</b>), {total}\n"
        "Midtrans tidak bisa dihubungi untuk memastikan apakah pesanan ini sudah dibayar sebelum penahanan "
        "berakhir ({since}), jadi kursinya dilepas. Jika pembeli sudah membayar, settlement yang terlambat tetap "
        "sampai ke Karcis; periksa dasbor Midtrans."
    ),
}

# ---- the WhatsApp door (handlers/whatsapp/): only what differs from Telegram (no slash commands, no inline
# keyboards; WhatsApp shows *bold* itself, handlers/whatsapp/texts.py turns <b> into it) ----
WA_EN: dict[str, str] = {
    "wa.menu": (
        "🎫 <b>Karcis</b>\nSend <b>events</b> to see what is on sale, <b>tickets</b> for your tickets, "
        "<b>orders</b> for unpaid orders, <b>bahasa</b> for Indonesian."),
    "wa.staff_menu": "Door staff: send <b>checkin CODE</b> or a photo of the QR; <b>stats</b> for sales figures.",
    "wa.language": "Language: English. Send <b>bahasa</b> for Indonesian.",
    "wa.btn.events": "Events",
    "wa.btn.more": "More events",
    "wa.btn.more_desc": "Page {page} of {pages}",
    "wa.btn.choose": "Choose",
    "wa.btn.buy": "Buy tickets",
    "wa.btn.add": "Add tickets",
    "wa.btn.checkout": "Continue",
    "wa.btn.cancel": "Cancel",
    "wa.btn.use_last": "Use these",
    "wa.btn.new_details": "Other details",
    "wa.btn.confirm": "Confirm",
    "wa.btn.change": "Change details",
    # checkout-flow
    "wa.btn.use_number": "Use {number}",
    "wa.ask.phone.known": "Tap <b>Use {number}</b> for this WhatsApp number, or type another one.",
    "wa.btn.change.name": "Name",
    "wa.btn.change.email": "Email",
    "wa.btn.change.phone": "Phone",
    "wa.btn.confirm_free": "Get my tickets",
    "wa.btn.back_to_summary": "Back to summary",
    "wa.btn.pay": "Pay {total}",
    "wa.btn.tickets": "My tickets",
    "wa.btn.orders": "My orders",
    "wa.btn.language": "Bahasa Indonesia",
    "wa.tiers": "🎟 Which ticket for <b>{title}</b>?",
    "wa.qty": "How many <b>{tier}</b> ({price} each)?",
    "wa.qty_row": "{n} × {tier}",
    "wa.cart": "🛒 <b>{title}</b>\n{lines}\n<b>Total: {total}</b>",
    "wa.cart_empty": "Choose a ticket first.",
    "wa.draft_gone": "That purchase is no longer open. Send <b>events</b> to start again.",
    "wa.confirming": "⏳ Order already confirmed: send <b>orders</b> to see it.",
    "wa.hint": "Send <b>events</b> to see the events, <b>tickets</b> for your tickets, <b>orders</b> for orders.",
    "wa.checkin.usage": "Send <b>checkin CODE</b> (the code under the QR), or a photo of the QR.",
    "wa.btn.checkin_anyway": "Check in anyway",  # door-rules: the door window's confirming reply button
    "wa.scan.none": "⚠️ I could not read a QR code in that photo. Try again closer, or type <b>checkin CODE</b>.",
    "wa.orders.none": "You have no unpaid orders.",
    "wa.order.pay_row": "Pay {total}",
    "wa.order.cancel_row": "Cancel {order}",
    # order-buttons: the cancel confirmation and the numbered orders list (titles ≤ 20, rows ≤ 24)
    "wa.btn.cancel_yes": "Yes, cancel",
    "wa.btn.cancel_keep": "Keep order",
    "wa.order.pay_n": "#{n} Pay {total}",
    "wa.order.cancel_n": "#{n} Cancel",
    "wa.purchase.closed": "This purchase is no longer open. Send <b>orders</b> to see your unpaid orders.",
    "wa.tickets.sending": "🎟 {n} {n:ticket|tickets}: {n:its QR code follows|the QR codes follow}.",
    "wa.page": "🎟 Ticket page: {url}",
    "wa.sale": "🎉 Sale: order <code>{order}</code> for <b>{title}</b>\n{lines}\nTotal {total}",
    # wa-leftovers: the sale digest on WhatsApp (a new message per interval: WhatsApp cannot edit one)
    "wa.digest.more": "… and {n} earlier {n:order|orders} in this digest (<b>stats</b> for the totals)",
    "wa.notice.other": "Karcis: order <code>{order}</code> ({title}): {what}.",
    # ---- texts-lists: what happened to an order, in words, for wa.notice.other (never the internal name) ----
    "wa.what.paid": "payment received",
    "wa.what.sale": "sold",
    "wa.what.payment_pending": "waiting for the payment",
    "wa.what.failed": "the payment failed; the seats were released",
    "wa.what.expired": "not paid in time; the seats were released",
    "wa.what.refunded": "refunded; its tickets are void",
    "wa.what.needs_refund": "paid after the seats were gone: the buyer must be refunded",
    "wa.what.amount_mismatch": "Midtrans reported a different amount; no tickets were issued",
    "wa.what.payment_review": "the payment is held for review; check the Midtrans dashboard",
    "wa.what.reversed": "the payment was taken back; its tickets are void",
    "wa.what.partial_refund": "part of it was refunded; those tickets are void",
    "wa.what.refund_unassigned": "Midtrans refunded part of it; choose the tickets to void with /refund on Telegram",
    "wa.what.expired_unconfirmed": "expired while Midtrans could not be reached; check the Midtrans dashboard",
    "wa.what.other": "changed; send orders to see it",
    "wa.qty.free": "How many <b>{tier}</b> (free)?",
    "wa.tickets.none": "You have no tickets yet. Send <b>events</b> to see what is on sale.",
}

WA_ID: dict[str, str] = {
    "wa.menu": (
        "🎫 <b>Karcis</b>\nKirim <b>acara</b> untuk melihat acara yang dijual, <b>tiket</b> untuk tiket Anda, "
        "<b>pesanan</b> untuk pesanan yang belum dibayar, <b>english</b> for English."),
    "wa.staff_menu": "Petugas pintu: kirim <b>checkin KODE</b> atau foto QR; <b>stats</b> untuk angka penjualan.",
    "wa.language": "Bahasa: Indonesia. Send <b>english</b> for English.",
    "wa.btn.events": "Acara",
    "wa.btn.more": "Acara lainnya",
    "wa.btn.more_desc": "Halaman {page} dari {pages}",
    "wa.btn.choose": "Pilih",
    "wa.btn.buy": "Beli tiket",
    "wa.btn.add": "Tambah tiket",
    "wa.btn.checkout": "Lanjut",
    "wa.btn.cancel": "Batal",
    "wa.btn.use_last": "Pakai data ini",
    "wa.btn.new_details": "Isi data lain",
    "wa.btn.confirm": "Konfirmasi",
    "wa.btn.change": "Ubah data",
    # checkout-flow
    "wa.btn.use_number": "Pakai {number}",
    "wa.ask.phone.known": "Ketuk <b>Pakai {number}</b> untuk nomor WhatsApp ini, atau ketik nomor lain.",
    "wa.btn.change.name": "Nama",
    "wa.btn.change.email": "Email",
    "wa.btn.change.phone": "Telepon",
    "wa.btn.confirm_free": "Ambil tiket",
    "wa.btn.back_to_summary": "Kembali ke ringkasan",
    "wa.btn.pay": "Bayar {total}",
    "wa.btn.tickets": "Tiket saya",
    "wa.btn.orders": "Pesanan saya",
    "wa.btn.language": "English",
    "wa.tiers": "🎟 Tiket mana untuk <b>{title}</b>?",
    "wa.qty": "Berapa tiket <b>{tier}</b> ({price} per tiket)?",
    "wa.qty_row": "{n} × {tier}",
    "wa.cart": "🛒 <b>{title}</b>\n{lines}\n<b>Total: {total}</b>",
    "wa.cart_empty": "Pilih tiket dulu.",
    "wa.draft_gone": "Pembelian itu sudah tidak aktif. Kirim <b>acara</b> untuk mulai lagi.",
    "wa.confirming": "⏳ Pesanan sudah dikonfirmasi: kirim <b>pesanan</b> untuk melihatnya.",
    "wa.hint": "Kirim <b>acara</b> untuk melihat acara, <b>tiket</b> untuk tiket Anda, <b>pesanan</b> untuk pesanan.",
    "wa.checkin.usage": "Kirim <b>checkin KODE</b> (kode di bawah QR), atau foto QR-nya.",
    "wa.btn.checkin_anyway": "Tetap check-in",  # door-rules: the door window's confirming reply button
    "wa.scan.none": "⚠️ Tidak ada kode QR yang terbaca di foto itu. Coba lebih dekat, atau ketik <b>checkin KODE</b>.",
    "wa.orders.none": "Tidak ada pesanan yang belum dibayar.",
    "wa.order.pay_row": "Bayar {total}",
    "wa.order.cancel_row": "Batalkan {order}",
    # order-buttons: the cancel confirmation and the numbered orders list (titles ≤ 20, rows ≤ 24)
    "wa.btn.cancel_yes": "Ya, batalkan",
    "wa.btn.cancel_keep": "Tetap pesan",
    "wa.order.pay_n": "#{n} Bayar {total}",
    "wa.order.cancel_n": "#{n} Batalkan",
    "wa.purchase.closed": "Pembelian ini sudah tidak terbuka. Kirim <b>pesanan</b> untuk melihat pesanan Anda.",
    "wa.tickets.sending": "🎟 {n} tiket: kode QR menyusul.",
    "wa.page": "🎟 Halaman tiket: {url}",
    "wa.sale": "🎉 Terjual: pesanan <code>{order}</code> untuk <b>{title}</b>\n{lines}\nTotal {total}",
    # wa-leftovers: the sale digest on WhatsApp (a new message per interval: WhatsApp cannot edit one)
    "wa.digest.more": "… dan {n} pesanan sebelumnya dalam ringkasan ini (<b>stats</b> untuk totalnya)",
    "wa.notice.other": "Karcis: pesanan <code>{order}</code> ({title}): {what}.",
    # ---- texts-lists: apa yang terjadi pada pesanan, untuk wa.notice.other ----
    "wa.what.paid": "pembayaran diterima",
    "wa.what.sale": "terjual",
    "wa.what.payment_pending": "menunggu pembayaran",
    "wa.what.failed": "pembayaran gagal; kursinya sudah dilepas",
    "wa.what.expired": "tidak dibayar tepat waktu; kursinya sudah dilepas",
    "wa.what.refunded": "sudah di-refund; tiketnya tidak berlaku lagi",
    "wa.what.needs_refund": "dibayar setelah kursi habis: pembeli harus di-refund",
    "wa.what.amount_mismatch": "Midtrans melaporkan jumlah yang berbeda; tiket tidak diterbitkan",
    "wa.what.payment_review": "pembayaran ditahan untuk ditinjau; periksa dasbor Midtrans",
    "wa.what.reversed": "pembayarannya ditarik kembali; tiketnya tidak berlaku lagi",
    "wa.what.partial_refund": "sebagian di-refund; tiket-tiket itu tidak berlaku lagi",
    "wa.what.refund_unassigned": "Midtrans me-refund sebagian; pilih tiket yang dibatalkan dengan /refund di Telegram",
    "wa.what.expired_unconfirmed": "kedaluwarsa saat Midtrans tidak bisa dihubungi; periksa dasbor Midtrans",
    "wa.what.other": "berubah; kirim pesanan untuk melihatnya",
    "wa.qty.free": "Berapa tiket <b>{tier}</b> (gratis)?",
    "wa.tickets.none": "Anda belum punya tiket. Kirim <b>acara</b> untuk melihat acara yang dijual.",
}

EN.update(WA_EN)
ID.update(WA_ID)

CATALOG: dict[str, dict[str, str]] = {"en": EN, "id": ID}
