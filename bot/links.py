"""The links Karcis hands out: what a ticket's QR carries, the door staff's way into their chat, and where the
payment page sends the buyer back. Built here, in the domain, from the settings (docs/channels.md "Links").

    Links.from_settings(settings)
      ticket(code)                      PUBLIC_URL/t/<CODE> when PUBLIC_URL is set, else t.me/<bot>?start=t_<code>
      telegram_check_in(code)           t.me/<bot>?start=t_<code>             (None: no Telegram bot known)
      whatsapp_check_in(code)           wa.me/<number>?text=checkin%20<code>  (None: no WhatsApp number set)
                                        (both through `check_in_rewrite` when one is set: the sandbox's)
      payment_finish(order_id, buyer_address)   back to the channel the order was placed from

Why the QR carries a page and not a chat link (when there is a public URL): a ticket bought on WhatsApp is
checked in at a Telegram door, and the other way round; a phone camera opens any https link, and the page hands
the code to whichever chat the staff member uses. Without PUBLIC_URL (Telegram polling on a laptop) nothing
public can serve the page, so the QR keeps today's Telegram deep link. Every QR already sold is a t.me link, and
`bot.tickets.normalize_code` reads both forms.

The Telegram bot's username is a fact of the Telegram door (getMe): the composition root sets
`telegram_username` once the bot is up; a Telegram caller may also pass it.

`check_in_rewrite` is unset in production. The sandbox (bot/sandbox/runner.py) sets it, because its Telegram and
WhatsApp are local stand-ins that t.me and wa.me links never reach: it turns the ticket page's check-in links into
links to its own web chat, or drops the ones it cannot serve. The QR itself is never rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from bot.config import Settings
from storage.documents import OrderDoc

TELEGRAM = "telegram"
WHATSAPP = "whatsapp"
TICKET_PAYLOAD = "t_"   # /start t_<code>: check a ticket in (the organiser's Telegram door)
ORDER_PAYLOAD = "o_"    # /start o_<order>: one order (where Midtrans's finish link lands on Telegram)
PAGE_PATH = "/t/"       # GET /t/<CODE>: the ticket's public page (webhooks/ticket_page.py)
WHATSAPP_CHECK_IN = "checkin"  # the text a staff member sends on WhatsApp: `checkin <code>`
WHATSAPP_ORDER = "order"       # the text the buyer sends on WhatsApp after paying: `order <order>`


def channel_of(address: str | None) -> str:
    """The channel of an address (`telegram:<id>`, `whatsapp:+62...`); no address (an order placed before
    addresses existed, or a bare Telegram id) is Telegram."""
    if address and ":" in address:
        return address.split(":", 1)[0]
    return TELEGRAM


def _wa_me(number: str, text: str) -> str:
    """A WhatsApp click-to-chat link: `https://wa.me/<number>?text=<text>`, the number in international format
    with digits only (no `+`, spaces or dashes), the text percent-encoded (WhatsApp FAQ "How to use click to
    chat": "Use https://wa.me/<number> where the <number> is a full phone number in international format. Omit
    any zeroes, brackets, or dashes"; "https://wa.me/whatsappphonenumber?text=urlencodedtext")."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"https://wa.me/{digits}?text={quote(text, safe='')}"


@dataclass
class Links:
    public_url: str | None = None         # PUBLIC_URL, without a trailing slash
    whatsapp_number: str | None = None    # WHATSAPP_DISPLAY_NUMBER: the business number people chat with
    telegram_username: str | None = None  # the Telegram bot's username, once the Telegram door knows it
    check_in_rewrite: Callable[[str], str | None] | None = None  # the sandbox only: where check-in links lead

    @classmethod
    def from_settings(cls, settings: Settings) -> Links:
        public = settings.public_url.rstrip("/") if settings.public_url else None
        return cls(public_url=public, whatsapp_number=settings.whatsapp_display_number)

    def _bot(self, telegram_username: str | None) -> str | None:
        return telegram_username or self.telegram_username

    def ticket_page(self, code: str) -> str | None:
        return f"{self.public_url}{PAGE_PATH}{code}" if self.public_url else None

    def ticket(self, code: str, *, telegram_username: str | None = None) -> str:
        """What a new ticket's QR carries."""
        page = self.ticket_page(code)
        if page is not None:
            return page
        link = self._telegram_start(code, telegram_username)
        if link is None:
            raise RuntimeError("a ticket link needs PUBLIC_URL or the Telegram bot's username")
        return link

    def _telegram_start(self, code: str, telegram_username: str | None) -> str | None:
        bot = self._bot(telegram_username)
        return f"https://t.me/{bot}?start={TICKET_PAYLOAD}{code}" if bot else None

    def _check_in(self, link: str | None) -> str | None:
        if link is None or self.check_in_rewrite is None:
            return link
        return self.check_in_rewrite(link)

    def telegram_check_in(self, code: str, *, telegram_username: str | None = None) -> str | None:
        """The door staff's way to check `code` in from Telegram (the ticket page's button)."""
        return self._check_in(self._telegram_start(code, telegram_username))

    def whatsapp_check_in(self, code: str) -> str | None:
        """The door staff's way to check `code` in from WhatsApp (the ticket page's button)."""
        link = _wa_me(self.whatsapp_number, f"{WHATSAPP_CHECK_IN} {code}") if self.whatsapp_number else None
        return self._check_in(link)

    def payment_finish(self, order_id: str, buyer_address: str | None = None, *,
                       telegram_username: str | None = None) -> str | None:
        """Where Midtrans sends the buyer after paying: back into the chat the order was placed from, onto the
        order. None when that channel has no link to give (Midtrans then shows its own finish page)."""
        if channel_of(buyer_address) == WHATSAPP:
            return _wa_me(self.whatsapp_number, f"{WHATSAPP_ORDER} {order_id}") if self.whatsapp_number else None
        bot = self._bot(telegram_username)
        return f"https://t.me/{bot}?start={ORDER_PAYLOAD}{order_id}" if bot else None

    def order_finish(self, order: OrderDoc, *, telegram_username: str | None = None) -> str | None:
        """`payment_finish` for an order, to the address it was placed from (`OrderDoc.buyer_address`; an order
        without one, written before addresses existed, was placed on Telegram)."""
        address = getattr(order, "buyer_address", None)
        return self.payment_finish(order.id, address if isinstance(address, str) else None,
                                   telegram_username=telegram_username)
