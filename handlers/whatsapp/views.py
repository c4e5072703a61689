"""What the WhatsApp door shows, built from the shared views (handlers/views.py) and catalog: texts, and the QR
ticket as an uploaded image. Shared by the door's handlers and its notifier."""

from __future__ import annotations

from bot.catalog import EventWithTiers, SalesState
from bot.checkout import Draft
from bot.digest import Digest
from bot.links import Links
from bot.tickets import render_link_qr
from handlers.formatting import TEXT_LIMIT
from handlers.views import event_card, lines_text, price, sale_digest, ticket_caption
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
    """The organiser's sale digest (handlers/views.py), in WhatsApp's marks, within its 4096 characters."""
    return plain(sale_digest(lang, digest, fits=lambda text: len(plain(text)) <= TEXT_LIMIT, more="wa.digest.more"))
