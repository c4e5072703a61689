"""Texts shared by the chat handlers and the notifier, built from the catalog: event cards, order lines, ticket
captions, check-in answers, payment instructions, sales figures. Pure functions: no I/O, no keyboards."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from bot.catalog import EventWithTiers, SalesState
from bot.checkin import CheckInResult, CheckInStatus, PublicTicket, Standing
from bot.clock import WIB
from bot.digest import Digest, DigestEvent
from bot.stats import EventStats
from bot.tickets import format_code
from handlers.formatting import CAPTION_LIMIT, TEXT_LIMIT, fit_between, local_time, local_when, rupiah, shorten, zone_of
from handlers.messages import Html, label, t
from storage.documents import EventDoc, OrderDoc, OrderLine, TicketDoc, TicketStatus, TierDoc


def price(lang: str, amount: int) -> str:
    return rupiah(amount) if amount else t(lang, "price.free")


def cart_lines(tiers: Iterable[TierDoc], cart: Mapping[str, int]) -> list[OrderLine]:
    """The cart as order lines, in the event's tier order (unknown tiers left out)."""
    return [OrderLine(tier=tier.code, name=tier.name, price=tier.price, qty=cart[tier.code])
            for tier in tiers if cart.get(tier.code, 0) > 0]


def lines_text(lang: str, lines: Iterable[OrderLine]) -> Html:
    return Html("\n".join(t(lang, "order.line", qty=line.qty, tier=line.name, amount=price(lang, line.amount))
                          for line in lines))


def event_card(lang: str, listing: EventWithTiers, cart: Mapping[str, int], *, on_sale: bool,
               sales: SalesState | None = None) -> Html:
    """Title, time, venue, description, each tier with price and seats left, and the selection so far; when
    sales are not open, which it is: not yet (and when they open), over, or sold out. `sales` says which
    (without it, `on_sale` False is taken as over)."""
    event = listing.event
    zone = event.timezone
    state = sales or (SalesState.OPEN if on_sale else SalesState.CLOSED)
    head = t(lang, "card.head", title=event.title, when=Html(local_when(event.starts_at, zone, lang)),
             venue=event.venue)
    tiers = []
    for tier in listing.tiers:
        left = t(lang, "card.left", n=tier.available) if tier.available > 0 else t(lang, "card.sold_out")
        tiers.append(t(lang, "card.tier", tier=tier.name, price=Html(price(lang, tier.price)), left=left))
    tail = "\n\n" + t(lang, "card.tiers") + "\n" + "\n".join(tiers)
    lines = cart_lines(listing.tiers, cart)
    if lines:
        total = sum(line.amount for line in lines)
        tail += "\n\n" + t(lang, "card.selection", lines=lines_text(lang, lines), total=Html(price(lang, total)))
    if state is SalesState.NOT_YET_OPEN and event.sales_open_at is not None:
        tail += "\n\n" + sales_not_open(lang, event)
    elif state is SalesState.SOLD_OUT:
        tail += "\n\n" + t(lang, "card.sold_out_all")
    elif state is not SalesState.OPEN or not on_sale:
        tail += "\n\n" + t(lang, "card.sales_closed")
    elif not lines:
        tail += "\n\n" + t(lang, "card.pick")
    description = event.description.strip()
    if description:
        head = Html(head + "\n\n")
    return fit_between(head, description, tail, limit=TEXT_LIMIT)


def sales_not_open(lang: str, event: EventDoc) -> Html:
    """`⏳ Ticket sales open on Min, 1 Nov 2026 10:00 WITA.`"""
    opens = event.sales_open_at
    return t(lang, "card.sales_not_open", when=Html(local_when(opens, event.timezone, lang)) if opens else "?")


def summary(lang: str, event: EventDoc, lines: list[OrderLine], name: str, email: str, phone: str, *,
            closing: Html | None = None) -> Html:
    """The order before Confirm: its last line says what Confirm does (hold and pay, or free tickets at once);
    `closing` replaces it (a confirmed free order's summary says so)."""
    total = sum(line.amount for line in lines)
    if closing is None:
        closing = t(lang, "summary.pay" if total else "summary.free")
    return t(lang, "summary", title=event.title, when=Html(local_when(event.starts_at, event.timezone, lang)),
             lines=lines_text(lang, lines), total=Html(price(lang, total)), name=name, email=email, phone=phone,
             closing=closing)


def ticket_caption(lang: str, ticket: TicketDoc, event: EventDoc | None) -> Html:
    title = event.title if event else ticket.event_id
    head = t(lang, "ticket.caption", title=title, tier=ticket.tier_name, holder=ticket.holder_name,
             code=format_code(ticket.id),
             when=Html(local_when(event.starts_at, event.timezone, lang)) if event else "")
    if ticket.status == TicketStatus.VOID:
        head = Html(t(lang, "ticket.void") + "\n" + head)
    venue = event.venue if event else ""
    return fit_between(head + ("\n📍 " if venue else ""), venue, "", limit=CAPTION_LIMIT)


def checkin_answer(lang: str, result: CheckInResult, by_name: str | None = None) -> Html:
    """Unmistakable at a glance: ✅ name, tier / ⚠️ already, when, by whom / ❌ why not."""
    ticket, event = result.ticket, result.event
    who = {"holder": ticket.holder_name, "tier": ticket.tier_name} if ticket else {}
    title = event.title if event else ""
    match result.status:
        case CheckInStatus.CHECKED_IN:
            return t(lang, "checkin.ok", title=title, **who)
        case CheckInStatus.ALREADY_CHECKED_IN:
            at = result.checked_in_at
            return t(lang, "checkin.already", time=local_time(at, zone_of(event)) if at else "?",
                     by=by_name or str(result.checked_in_by or "?"), title=title, **who)
        case CheckInStatus.VOID:
            return t(lang, "checkin.void", title=title, **who)
        case CheckInStatus.EARLY if event is not None:
            return t(lang, "checkin.early", when=Html(local_when(event.starts_at, event.timezone, lang)), title=title,
                     **who)
        case CheckInStatus.LATE if event is not None:
            return t(lang, "checkin.late", when=Html(local_when(event.ends_at, event.timezone, lang)), title=title,
                     **who)
        case CheckInStatus.NOT_YOUR_EVENT:
            return t(lang, "checkin.not_yours")
        case _:
            return t(lang, "checkin.unknown")


def public_ticket(lang: str, ticket: PublicTicket) -> Html:
    """A ticket's standing for anyone who opens its link in a chat (what its public page says): valid, already
    used, void or no such ticket, and its event; never who holds it or who checked it in."""
    if ticket.standing == Standing.UNKNOWN:
        return t(lang, "ticket.public.unknown")
    starts = local_when(ticket.starts_at, ticket.timezone, lang) if ticket.starts_at else ""
    values: dict[str, Any] = {"title": ticket.event_title or "", "tier": ticket.tier_name or "", "when": Html(starts)}
    if ticket.standing == Standing.USED:
        values["at"] = Html(local_when(ticket.used_at, ticket.timezone, lang)) if ticket.used_at else "?"
    text = t(lang, f"ticket.public.{ticket.standing.value}", **values)
    if ticket.standing == Standing.VALID:
        text = Html(text + "\n\n" + t(lang, "ticket.public.door"))
    return text


def order_status(lang: str, order: OrderDoc, event: EventDoc | None) -> Html:
    """Where an order stands, for its owner."""
    title = event.title if event else order.event_id
    values: dict[str, Any] = {"order": order.id, "title": title, "lines": lines_text(lang, order.lines),
                              "total": Html(price(lang, order.total)),
                              "until": Html(local_when(order.expires_at, zone_of(event), lang))}
    return t(lang, f"order.status.{order.status.value}", **values)


WALLET_TYPES = ("gopay", "shopeepay", "qris")
PAYMENT_KINDS = {"bank_transfer": "bank", "echannel": "bank", "permata": "bank", "cstore": "store",
                 **{wallet: "wallet" for wallet in WALLET_TYPES}}
# Midtrans's `actions` a buyer may open (docs.midtrans.com, GoPay/QRIS/ShopeePay charge and status responses:
# "generate-qr-code" is the QR image URL, "deeplink-redirect" opens the e-wallet app). The others
# ("get-status", "cancel") are server-to-server API calls and are never shown.
QR_ACTIONS = ("generate-qr-code", "generate-qr-code-v2")
DEEPLINK_ACTIONS = ("deeplink-redirect",)
OPEN_APP = {"gopay": "btn.open_gopay", "shopeepay": "btn.open_shopeepay"}


def _payment_type(order: OrderDoc, instructions: Mapping[str, Any]) -> str:
    return str(instructions.get("payment_type") or order.payment.get("payment_type")
               or order.payment.get("instructions_for") or "")


def _openable(url: object) -> bool:
    """Telegram opens only http(s) and tg links from a button; an app scheme (gojek://) cannot be one."""
    return isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= 2048


def payment_actions(lang: str, order: OrderDoc, instructions: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The buttons (label, URL) that finish an e-wallet payment: open the app (deeplink), show the QR."""
    kind = _payment_type(order, instructions)
    found: list[tuple[str, str]] = []
    for action in instructions.get("actions") or []:
        if not isinstance(action, Mapping) or not _openable(action.get("url")):
            continue
        name = action.get("name")
        if name in DEEPLINK_ACTIONS:
            found.append((label(lang, OPEN_APP.get(kind, "btn.open_wallet")), action["url"]))
        elif name in QR_ACTIONS and not any(text == label(lang, "btn.show_qr") for text, _ in found):
            found.append((label(lang, "btn.show_qr"), action["url"]))
    return found


def payment_instructions(lang: str, order: OrderDoc, instructions: Mapping[str, Any], *, zone: str) -> Html:
    """How to finish a pending payment: virtual account numbers, bill key, store payment code, the e-wallet
    (its buttons come from `payment_actions`); or, after a declined card, that the seats are still held. Times
    in `zone`, the order's event's (`zone_of(event)`)."""
    if order.payment.get("transaction_status") == "deny":
        return t(lang, "pay.declined", order=order.id, total=Html(price(lang, order.total)),
                 until=Html(local_when(order.expires_at, zone, lang)))
    kind = _payment_type(order, instructions)
    rows: list[str] = []
    for va in instructions.get("va_numbers") or []:
        if isinstance(va, Mapping) and va.get("va_number"):
            rows.append(t(lang, "pay.va", bank=str(va.get("bank", "")).upper(), number=va["va_number"]))
    if instructions.get("permata_va_number"):
        rows.append(t(lang, "pay.va", bank="PERMATA", number=instructions["permata_va_number"]))
    if instructions.get("bill_key"):
        rows.append(t(lang, "pay.bill", biller=instructions.get("biller_code", ""), bill_key=instructions["bill_key"]))
    if instructions.get("payment_code"):
        rows.append(t(lang, "pay.store", store=str(instructions.get("store") or "").title(),
                      code=instructions["payment_code"]))
        rows.append(t(lang, "pay.store_howto"))
    if payment_actions(lang, order, instructions):
        rows.append(t(lang, f"pay.wallet.{kind}" if kind in WALLET_TYPES else "pay.wallet.other"))
    elif kind in WALLET_TYPES:  # Midtrans gave no QR or app link: the payment page shows them
        rows.append(t(lang, "pay.wallet.page"))
    pdf = instructions.get("pdf_url")
    if _openable(pdf):
        rows.append(t(lang, "pay.pdf", url=Html(html.escape(str(pdf), quote=True))))
    expiry = _midtrans_time(instructions.get("expiry_time"))
    if expiry is not None:
        rows.append(t(lang, "pay.expiry", until=Html(local_when(expiry, zone, lang))))
    if not rows:
        rows.append(t(lang, "pay.no_details"))
    header = f"pay.pending.{PAYMENT_KINDS.get(kind, 'other')}"
    return t(lang, header, order=order.id, total=Html(price(lang, order.total)), rows=Html("\n".join(rows)))


def _midtrans_time(text: object) -> datetime | None:
    """Midtrans times are `YYYY-MM-DD HH:MM:SS` in Jakarta time, whatever the event's zone."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text.strip()[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=WIB)
    except ValueError:
        return None


def stats_block(lang: str, stats: EventStats) -> Html:
    """One event's figures: per tier capacity, sold, pending, available, checked in, revenue; then the total."""
    rows = [t(lang, "stats.head", title=stats.event.title,
              when=Html(local_when(stats.event.starts_at, stats.event.timezone, lang)))]
    for tier in stats.tiers:
        rows.append(t(lang, "stats.tier", tier=tier.name, sold=tier.sold, capacity=tier.capacity,
                      pending=tier.pending, available=tier.available, checked_in=tier.checked_in,
                      revenue=rupiah(tier.revenue)))
    rows.append(t(lang, "stats.total", sold=stats.sold, capacity=stats.capacity, pending=stats.pending,
                  available=stats.available, checked_in=stats.checked_in, revenue=rupiah(stats.revenue)))
    return Html("\n".join(rows))


def sale_digest(lang: str, digest: Digest, *, fits: Callable[[Html], bool], more: str = "digest.more") -> Html:
    """The organiser's sale digest: sales since the window opened, per event and tier with sold / capacity now,
    then the latest orders by buyer and order id, earlier ones counted (`more`: that line's key); fewer listed
    until the door's `fits` says it fits one message (both doors render this one text)."""
    head = t(lang, "digest.head", since=local_time(digest.since, digest.zone), orders=digest.orders,
             seats=sum(event.seats for event in digest.events))
    blocks = [head, *(_digest_event(lang, event) for event in digest.events)]
    listed = list(digest.latest)
    while True:
        lines = [t(lang, "digest.sale", buyer=shorten(sale.buyer, 40), order=sale.order_id,
                   seats=", ".join(f"{line.qty} × {shorten(line.name, 24)}" for line in sale.lines))
                 for sale in reversed(listed)]
        unlisted = digest.orders - len(listed)
        tail = [t(lang, "digest.latest"), *lines] if lines else []
        if unlisted:
            tail.append(t(lang, more, n=unlisted))
        text = Html("\n\n".join(blocks) + ("\n\n" + "\n".join(tail) if tail else ""))
        if fits(text) or not listed:
            return text if fits(text) else Html(head)
        listed = listed[1:]


def _digest_event(lang: str, event: DigestEvent) -> Html:
    lines = [t(lang, "digest.event", title=shorten(event.title, 64), orders=event.orders, seats=event.seats)]
    if event.starts_at is not None:
        lines.append(t(lang, "digest.event_when", when=local_when(event.starts_at, event.timezone, lang)))
    for tier in event.tiers:
        if tier.sold is None or tier.capacity is None:
            lines.append(t(lang, "digest.tier.gone", tier=tier.name, qty=tier.qty))
        else:
            lines.append(t(lang, "digest.tier", tier=tier.name, qty=tier.qty, sold=tier.sold, capacity=tier.capacity))
    if event.sold is not None and event.capacity is not None:
        lines.append(t(lang, "digest.total", sold=event.sold, capacity=event.capacity))
    return Html("\n".join(lines))
