"""What the WhatsApp door shows, built from the shared views (handlers/views.py) and catalog: texts, and the QR
ticket as an uploaded image. Shared by the door's handlers and its notifier."""

from __future__ import annotations

from bot.catalog import EventWithTiers, SalesState
from bot.checkout import Draft
from bot.digest import Digest, DigestEvent
from bot.links import Links
from bot.tickets import render_link_qr
from handlers.formatting import TEXT_LIMIT, local_time, local_when, shorten
from handlers.views import event_card, lines_text, price, ticket_caption
from handlers.whatsapp.client import Sent, WhatsAppClient
from handlers.whatsapp.texts import plain, say
from storage.documents import EventDoc, TicketDoc

# Reply ids: what a tapped button or chosen row asks for (`<verb>:<argument>`; ids ≤ 200/256 characters).
EVENTS, EVENT, BUY, QTY, CHECKOUT, USE_LAST, NEW_DETAILS, CONFIRM, DROP = (
    "events", "event", "buy", "qty", "checkout", "last", "new", "confirm", "drop")
PAY, CANCEL, TICKETS, ORDERS, LANGUAGE, TICKET = "pay", "cancel", "tickets", "orders", "lang", "ticket"
# the summary's Change (which detail?), one detail again, back to the summary, the phone step's "Use +62…"
CHANGE, FIELD, REVIEW, OWN_NUMBER = "change", "field", "review", "number"


def reply_id(verb: str, *args: object) -> str:
    return ":".join([verb, *(str(a) for a in args)])


def parse_reply(reply: str | None) -> tuple[str, list[str]]:
    verb, *args = (reply or "").split(":")
    return verb, args


def card_text(lang: str, listing: EventWithTiers, *, on_sale: bool, sales: SalesState | None = None) -> str:
    """Title, venue, time, tiers with `Rp150.000` prices and seats left (the shared card, without its Telegram
    hint about ➕/➖ buttons); when sales are not open, whether they open later (and when), ended or sold out."""
    text = plain(event_card(lang, listing, {}, on_sale=on_sale, sales=sales))
    hint = plain(say(lang, "card.pick"))
    return text.removesuffix("\n\n" + hint)


def cart_text(lang: str, draft: Draft) -> str:
    return say(lang, "wa.cart", title=draft.event.title, lines=lines_text(lang, draft.lines),
               total=price(lang, draft.total))


async def send_ticket(client: WhatsAppClient, number: str, ticket: TicketDoc, event: EventDoc | None, lang: str,
                      links: Links, *, lead: str | None = None) -> Sent:
    """The ticket's QR (its channel-free link, docs/channels.md "Links") as an uploaded PNG, captioned."""
    image = await render_link_qr(links.ticket(ticket.id))
    media_id = await client.upload_image(image, mime_type="image/png", filename=f"{ticket.id}.png")
    caption = plain(ticket_caption(lang, ticket, event))
    if lead:
        caption = f"{lead}\n\n{caption}"
    return await client.send_image(number, media_id, caption=caption[:1024])


def digest_text(lang: str, digest: Digest) -> str:
    """The organiser's sale digest (the shared `digest.*` texts): per event and tier the seats sold with sold /
    capacity now, then the latest orders; fewer listed until it fits WhatsApp's 4096 characters."""
    head = say(lang, "digest.head", since=local_time(digest.since, digest.zone), orders=digest.orders,
               seats=sum(event.seats for event in digest.events))
    blocks = [head, *(_digest_event(lang, event) for event in digest.events)]
    listed = list(digest.latest)
    while True:
        lines = [say(lang, "digest.sale", buyer=shorten(sale.buyer, 40), order=sale.order_id,
                     seats=", ".join(f"{line.qty} × {shorten(line.name, 24)}" for line in sale.lines))
                 for sale in reversed(listed)]
        more = digest.orders - len(listed)
        tail = [say(lang, "digest.latest"), *lines] if lines else []
        if more:
            tail.append(say(lang, "wa.digest.more", n=more))
        text = "\n\n".join(blocks) + ("\n\n" + "\n".join(tail) if tail else "")
        if len(text) <= TEXT_LIMIT or not listed:
            return text if len(text) <= TEXT_LIMIT else head
        listed = listed[1:]


def _digest_event(lang: str, event: DigestEvent) -> str:
    lines = [say(lang, "digest.event", title=shorten(event.title, 64), orders=event.orders, seats=event.seats)]
    if event.starts_at is not None:
        lines.append(say(lang, "digest.event_when", when=local_when(event.starts_at, event.timezone, lang)))
    for tier in event.tiers:
        if tier.sold is None or tier.capacity is None:
            lines.append(say(lang, "digest.tier.gone", tier=tier.name, qty=tier.qty))
        else:
            lines.append(say(lang, "digest.tier", tier=tier.name, qty=tier.qty, sold=tier.sold,
                             capacity=tier.capacity))
    if event.sold is not None and event.capacity is not None:
        lines.append(say(lang, "digest.total", sold=event.sold, capacity=event.capacity))
    return "\n".join(lines)
