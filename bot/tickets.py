"""Tickets: their codes, issuing one per paid seat (idempotently), and their QR images."""

from __future__ import annotations

import re
import secrets

from bot import qr
from bot.accounts import AccountId, Owners, only_itself
from bot.clock import Clock, utcnow
from storage.documents import OrderDoc, OrderStatus, TicketDoc
from storage.store import Store

# 32 symbols without look-alikes (no 0/O, 1/I): 12 of them carry 60 bits.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 12
GROUP = 4
PAYLOAD_PREFIX = "t_"
_CODE_RE = re.compile(f"^[{ALPHABET}]{{{CODE_LENGTH}}}$")
_PAYLOAD_RE = re.compile(r"start=([A-Za-z0-9_-]{1,64})")
_PAGE_RE = re.compile(r"^https?://[^\s?#]*/t/([A-Za-z0-9-]{1,64})/?(?:[?#]\S*)?$")  # PUBLIC_URL/t/<CODE>
_CHECK_IN_RE = re.compile(r"^/?check-?in(?:@\w+)?\s+", re.IGNORECASE)  # `checkin <code>`, as WhatsApp staff type it
MAX_INPUT = 512  # nothing longer can be a code or a ticket link: not even looked at


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """`K7QF9MZTXW3P` → `K7QF-9MZT-XW3P`, for reading aloud and typing."""
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def normalize_code(text: str) -> str | None:
    """The stored code for what a person typed or scanned: the code in any case, with or without dashes or
    spaces, `checkin <code>`, the deep-link payload, the whole deep link (`t.me/<bot>?start=t_<code>`, every QR
    sold before ticket pages), or the ticket page's link (`PUBLIC_URL/t/<CODE>`). None if it cannot be a
    ticket code."""
    if len(text) > MAX_INPUT:
        return None
    text = _CHECK_IN_RE.sub("", text.strip())
    page = _PAGE_RE.match(text)
    link = None if page else _PAYLOAD_RE.search(text)
    if page:
        text = page.group(1)
    elif link:
        text = link.group(1)
    if text.lower().startswith(PAYLOAD_PREFIX):
        text = text[len(PAYLOAD_PREFIX):]
    code = re.sub(r"[\s-]", "", text).upper()
    return code if _CODE_RE.match(code) else None


def deep_link_payload(code: str) -> str:
    return PAYLOAD_PREFIX + code


def deep_link(bot_username: str, code: str) -> str:
    """The Telegram deep link: opening it lands in the bot with `/start t_<code>`. What every QR carried before
    ticket pages, and still does without PUBLIC_URL (bot/links.py decides what a new QR carries)."""
    return f"https://t.me/{bot_username}?start={deep_link_payload(code)}"


async def render_qr(bot_username: str, code: str) -> bytes:
    """A QR of the Telegram deep link as PNG bytes, rendered off the event loop (bot/qr.py)."""
    return await qr.render(deep_link(bot_username, code))


async def render_link_qr(link: str) -> bytes:
    """A ticket's QR of `link` (bot/links.py `Links.ticket`) as PNG bytes, rendered off the event loop."""
    return await qr.render(link)


class TicketService:
    def __init__(self, store: Store, *, clock: Clock = utcnow, owners: Owners = only_itself) -> None:
        self._store = store
        self._clock = clock
        self._owners = owners  # every id a person's tickets may be keyed by (bot/accounts.py)

    async def issue(self, order: OrderDoc, *, fresh: bool = False) -> list[TicketDoc]:
        """One ticket per seat of a paid order. Issuing again returns the same tickets and makes none extra.

        `fresh`: the caller has just moved the order to paid, so it has no tickets yet and they need not be
        read first (if another call issued some meanwhile, the unique seat index says so and they are read)."""
        if order.status != OrderStatus.PAID:
            raise ValueError(f"tickets are only issued for paid orders; {order.id} is {order.status}")
        tickets = self._store.tickets
        existing = {} if fresh else {t.seq: t for t in await tickets.for_order(order.id)}
        issued = dict(existing)
        raced = False
        seq = 0
        for line in order.lines:
            for _ in range(line.qty):
                seq += 1
                if seq in existing:
                    continue
                while True:
                    ticket = TicketDoc(
                        id=new_code(), order_id=order.id, seq=seq, event_id=order.event_id, tier=line.tier,
                        tier_name=line.name, holder_name=order.buyer.name, user_id=order.user_id,
                        issued_at=self._clock(),
                    )
                    inserted = await tickets.insert_seat(ticket)
                    if inserted is not False:
                        break  # inserted, or (None) another process issued this seat first
                if inserted:
                    issued[seq] = ticket
                else:
                    raced = True
        if raced:
            return await tickets.for_order(order.id)
        return [issued[n] for n in sorted(issued)]

    async def for_order(self, order_id: str) -> list[TicketDoc]:
        return await self._store.tickets.for_order(order_id)

    async def for_user(self, user_id: AccountId) -> list[TicketDoc]:
        """The person's tickets, under their account id or an address linked to it later."""
        return await self._store.tickets.for_user(self._owners(user_id))

    async def get(self, code_or_link: str) -> TicketDoc | None:
        code = normalize_code(code_or_link)
        return None if code is None else await self._store.tickets.get(code)
