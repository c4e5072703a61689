"""Organisers hear of sales in digests, not one message per sale.

Telegram lets a bot send about one message per second into one chat, so a message per sale would cap an on-sale
at about 60 completed purchases a minute for each organiser. Instead a sale is added to each organiser's digest
(one document per recipient chat, storage/digests.py), and `send_due()`, run by a periodic job, sends each chat
at most one message per `interval` with the sales since the last one: per event and tier the seats sold, the
buyers and order ids (the latest listed, the rest counted), and sold / capacity as stock stands now. While the
last digest message is recent (`window`), it is edited to cover the new sales as well, so a busy on-sale is one
message that keeps itself up to date rather than a stream of notifications.

Each recipient's digest goes through their channel (`DigestRouter`: the first of the account's addresses whose
channel has a sender in this process, the rule the ChannelRouter follows for staff). A channel that cannot edit
a sent message (WhatsApp) answers `None` for the message id: the next digest then opens a new window and is a new
message with the sales since the last one, one message per interval at most.

Nothing is lost: the delivery of an order's SALE message adds the sale to the digest in MongoDB before the
order's outbox entry is marked sent, and a digest leaves `pending` only after its message went out. A failed send
keeps everything pending and is retried after `retry`; a crash during a send re-sends after `lease`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.accounts import AccountId
from bot.catalog import Catalog
from bot.clock import DEFAULT_ZONE, Clock, utcnow
from bot.links import channel_of
from bot.notifications import Undeliverable
from storage.digests import DigestEventCount, DigestLine, DigestSale, DigestTierCount, DigestWindow
from storage.documents import OrderDoc
from storage.store import Store

log = logging.getLogger(__name__)

INTERVAL = timedelta(seconds=15)  # at most one digest message (new or edited) per chat this often
WINDOW = timedelta(minutes=10)    # a digest message younger than this is edited rather than a new one sent
LEASE = timedelta(minutes=2)      # a send in progress (longer than the notifier sleeps on a 429: 60 s)
RETRY = timedelta(seconds=30)     # after a failed send
LISTED = 15                       # sales listed by buyer and order id; older ones in the window are counted


@dataclass(frozen=True)
class DigestTier:
    code: str
    name: str
    qty: int                 # seats of this tier sold in the digest's window
    sold: int | None = None  # as stock stands now (None: the tier is gone from the catalog)
    capacity: int | None = None


@dataclass(frozen=True)
class DigestEvent:
    event_id: str
    title: str
    orders: int
    seats: int
    tiers: list[DigestTier]
    sold: int | None = None  # all tiers of the event, now
    capacity: int | None = None
    starts_at: datetime | None = None  # None: the event is gone from the catalog
    timezone: str = DEFAULT_ZONE       # the event's, which its times are shown in


@dataclass(frozen=True)
class Digest:
    """One digest message: the sales since `since` (the window the message covers)."""

    recipient: AccountId
    since: datetime
    orders: int
    events: list[DigestEvent]
    latest: list[DigestSale] = field(default_factory=list)  # newest last

    @property
    def unlisted(self) -> int:
        return self.orders - len(self.latest)

    @property
    def zone(self) -> str:
        """The zone the digest's own time (`since`) is shown in: its events' zone when they share one; a digest
        over events in different zones is about no one event, and says WIB."""
        zones = {event.timezone for event in self.events}
        return zones.pop() if len(zones) == 1 else DEFAULT_ZONE


class DigestSender(Protocol):
    async def send_digest(self, digest: Digest, *, edit_message_id: int | None) -> int | None:
        """Show the digest: edit `edit_message_id` if given and still editable, else send a new message. The id
        of the message that shows it (None: a channel that cannot edit it, so the next digest is a new message).
        Raise Undeliverable if the recipient cannot be reached."""


class NoDigestSender:
    """Until a front door is attached, digests stay pending (and are retried)."""

    async def send_digest(self, digest: Digest, *, edit_message_id: int | None) -> int | None:
        raise RuntimeError("no digest sender attached yet")


class DigestRouter:
    """A DigestSender over one sender per channel (each door registers its own, as it does its notifier)."""

    def __init__(self, addresses: Callable[[str], Sequence[str]]) -> None:
        self._addresses = addresses
        self._senders: dict[str, DigestSender] = {}

    def register(self, channel: str, sender: DigestSender) -> None:
        self._senders[channel] = sender

    def has(self, channel: str) -> bool:
        return channel in self._senders

    async def send_digest(self, digest: Digest, *, edit_message_id: int | None) -> int | None:
        """Through the recipient's first address whose channel has a sender here; none: raise (kept pending and
        retried, as a notice owed on a channel whose door is closed in this process)."""
        addresses = self._addresses(digest.recipient)
        for address in addresses:
            sender = self._senders.get(channel_of(address))
            if sender is not None:
                return await sender.send_digest(digest, edit_message_id=edit_message_id)
        if not addresses:
            raise Undeliverable(f"{digest.recipient} has no address")
        channels = ", ".join(sorted({channel_of(a) for a in addresses}))
        raise RuntimeError(f"no digest sender for {channels} in this process")


def sale_of(order: OrderDoc) -> DigestSale:
    return DigestSale(order_id=order.id, event_id=order.event_id, buyer=order.buyer.name,
                      lines=[DigestLine(tier=line.tier, name=line.name, qty=line.qty) for line in order.lines],
                      at=order.paid_at or order.updated_at)


def merged(window: DigestWindow, sales: Iterable[DigestSale], now: datetime) -> DigestWindow:
    """The window with `sales` counted in (and listed, the newest `LISTED` kept)."""
    events = {key: count.model_copy(deep=True) for key, count in window.events.items()}
    latest = list(window.latest)
    orders = window.orders
    for sale in sales:
        count = events.setdefault(sale.event_id, DigestEventCount())
        count.orders += 1
        for line in sale.lines:
            tier = count.tiers.setdefault(line.tier, DigestTierCount(name=line.name))
            tier.qty += line.qty
            count.seats += line.qty
        latest.append(sale)
        orders += 1
    return DigestWindow(message_id=window.message_id, opened_at=window.opened_at, updated_at=now, orders=orders,
                        events=events, latest=latest[-LISTED:])


class DigestService:
    def __init__(self, store: Store, catalog: Catalog, sender: DigestSender | None = None, *,
                 clock: Clock = utcnow, interval: timedelta = INTERVAL, window: timedelta = WINDOW) -> None:
        self._store = store
        self._catalog = catalog
        self.sender: DigestSender = sender or NoDigestSender()
        self._clock = clock
        self._interval = interval
        self._window = window

    async def add_sale(self, recipient: AccountId, order: OrderDoc) -> bool:
        """Owe the paid `order` to the recipient's next digest (stored before this returns). False if it was
        already in one of their digest messages (a repeated delivery)."""
        return await self._store.digests.add(recipient, sale_of(order), now=self._clock())

    async def send_due(self, limit: int = 100) -> int:
        """Send (or edit) one digest message to each chat that has sales pending and whose quiet interval is
        over. Returns the messages sent or edited."""
        shown = 0
        for doc in await self._store.digests.due(self._clock(), limit):
            shown += await self._send(doc.id)
        return shown

    async def _send(self, recipient: AccountId) -> int:
        now = self._clock()
        claimed = await self._store.digests.claim(recipient, now=now, until=now + LEASE)
        if claimed is None:
            return 0  # another process is sending it, or it was sent a moment ago
        sales = sorted(claimed.pending.values(), key=lambda s: (s.at, s.order_id))
        if not sales:  # a crash between the two writes of `sent`
            await self._store.digests.sent(recipient, [], window=claimed.window, hold_until=now)
            return 0
        window = claimed.window
        if window is None or window.message_id is None or now - window.opened_at >= self._window:
            window = DigestWindow(opened_at=sales[0].at, updated_at=now)
        window = merged(window, sales, now)
        order_ids = [sale.order_id for sale in sales]
        try:
            message_id = await self.sender.send_digest(await self._digest(recipient, window),
                                                       edit_message_id=window.message_id)
        except Undeliverable as exc:
            log.warning("sale digest for %s cannot be delivered (%s); %d sale(s) dropped from it (they stay in "
                        "/stats)", recipient, exc, len(sales))
            await self._store.digests.sent(recipient, order_ids, window=None, hold_until=now + self._interval)
            return 0
        except Exception as exc:  # noqa: BLE001 - kept pending and retried
            log.warning("sale digest for %s failed (%s: %s); %d sale(s) stay pending, retried in %ss", recipient,
                        type(exc).__name__, exc, len(sales), int(RETRY.total_seconds()))
            await self._store.digests.release(recipient, hold_until=self._clock() + RETRY)
            return 0
        window = window.model_copy(update={"message_id": message_id})
        await self._store.digests.sent(recipient, order_ids, window=window, hold_until=self._clock() + self._interval)
        return 1

    async def _digest(self, recipient: AccountId, window: DigestWindow) -> Digest:
        events: list[DigestEvent] = []
        for event_id, count in window.events.items():
            listing = await self._catalog.get(event_id)
            stock = {tier.code: tier for tier in listing.tiers} if listing else {}
            tiers = [DigestTier(code, c.name, c.qty, stock[code].sold if code in stock else None,
                                stock[code].capacity if code in stock else None)
                     for code, c in count.tiers.items()]
            events.append(DigestEvent(
                event_id, listing.event.title if listing else event_id, count.orders, count.seats, tiers,
                sum(t.sold for t in listing.tiers) if listing else None,
                sum(t.capacity for t in listing.tiers) if listing else None,
                listing.event.starts_at if listing else None,
                listing.event.timezone if listing else DEFAULT_ZONE))
        return Digest(recipient, window.opened_at, window.orders, events, list(window.latest))
