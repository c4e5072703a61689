"""Delivery by channel: a `Notifier` that hands each notice to the channel its recipients are reached on
(docs/channels.md "Delivery by channel").

    router = ChannelRouter()                    built with the services (bot/services.py build_services)
    router.register("telegram", notifier)      each front door registers the notifier that talks through it
    await router.notify(notice)                 the DeliveryService calls it like any Notifier

Who is told what (`AUDIENCE`): the buyer, the event's organisers, the admins. The buyer is reached at the
address the order was placed from (`OrderDoc.buyer_address`; an order without one was placed on Telegram). A
staff member is reached at their first address whose channel has a notifier here, so a person known on two
channels is told once, on the first. Each channel's notifier gets the notice narrowed to the people it
reaches: `event.organisers` and `admin_ids` cut to those routed there, and the buyer's part (`buyer`) counted
as delivered where the buyer is not. Notifiers name the parts they send (`buyer`, `ticket:<code>`,
`user:<id>`...), so a retry after a half-done delivery sends only what is missing, channel by channel.

A recipient whose channels have no notifier in this process (a WhatsApp buyer while only the Telegram door is
open) leaves the notice owed: `notify` raises `ChannelMissing` after every reachable channel was served, with a
log line naming the channel, and the delivery service retries it with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from bot.links import TELEGRAM, channel_of
from bot.notifications import Notice, Notifier, Undeliverable
from bot.outbox import Message

log = logging.getLogger(__name__)

BUYER, ORGANISERS, ADMINS = "buyer", "organisers", "admins"
# Who each message is for (bot/outbox.py says the same in words); a kind not listed goes to everyone it may
# concern, which is safe: a notifier tells only the people its rendering of that kind addresses.
AUDIENCE: dict[Message, frozenset[str]] = {
    Message.PAID: frozenset({BUYER}),
    Message.SALE: frozenset({ORGANISERS}),
    Message.PAYMENT_PENDING: frozenset({BUYER}),
    Message.FAILED: frozenset({BUYER}),
    Message.EXPIRED: frozenset({BUYER}),
    Message.REFUNDED: frozenset({BUYER}),
    Message.NEEDS_REFUND: frozenset({BUYER, ADMINS}),
    Message.AMOUNT_MISMATCH: frozenset({ADMINS}),
    Message.PAYMENT_REVIEW: frozenset({ADMINS}),
    Message.REVERSED: frozenset({BUYER, ORGANISERS, ADMINS}),
    Message.PARTIAL_REFUND: frozenset({BUYER}),
    Message.REFUND_UNASSIGNED: frozenset({ADMINS}),
    Message.EXPIRED_UNCONFIRMED: frozenset({ADMINS}),
}
EVERYONE = frozenset({BUYER, ORGANISERS, ADMINS})
BUYER_PART = "buyer"  # the part name notifiers give the buyer's message


class ChannelMissing(Exception):
    """Someone the notice is for is reachable only on channels without a notifier in this process."""


def default_addresses(person: int | str) -> Sequence[str]:
    """A person's addresses, preferred first: a bare Telegram id (today's data) is `telegram:<id>`; an address
    (`whatsapp:+62...`) is itself. The account service replaces this once accounts hold several addresses."""
    if isinstance(person, int):
        return (f"{TELEGRAM}:{person}",)
    return (person,) if ":" in person else (f"{TELEGRAM}:{person}",)


class ChannelRouter:
    """A Notifier over one notifier per channel (`"telegram"`, `"whatsapp"`)."""

    def __init__(self, notifiers: dict[str, Notifier] | None = None, *,
                 addresses: Callable[[int | str], Sequence[str]] = default_addresses) -> None:
        self._notifiers: dict[str, Notifier] = dict(notifiers or {})
        self._addresses = addresses

    def register(self, channel: str, notifier: Notifier) -> None:
        self._notifiers[channel] = notifier

    def has(self, channel: str) -> bool:
        return channel in self._notifiers

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._notifiers)

    def _staff_channel(self, person: int | str) -> str | None:
        """The channel of the person's first address that has a notifier here (None: none has)."""
        addresses = self._addresses(person)
        for address in addresses:
            if channel_of(address) in self._notifiers:
                return channel_of(address)
        return None

    def route(self, notice: Notice) -> tuple[dict[str, Notice], list[str]]:
        """Each channel's narrowed notice, and the channels people are owed on that have no notifier here."""
        audience = AUDIENCE.get(notice.message, EVERYONE)
        only = notice.only  # a re-delivery: only the people whose copy failed
        if only is not None and BUYER not in only:
            audience = audience - {BUYER}
        buyer_channel = channel_of(getattr(notice.order, "buyer_address", None)) if BUYER in audience else None
        missing: list[str] = []
        if buyer_channel is not None and buyer_channel not in self._notifiers:
            missing.append(buyer_channel)
        staff: dict[str, dict[str, set[int | str]]] = {}
        groups: dict[str, Iterable[int | str]] = {
            ORGANISERS: (notice.event.organisers if notice.event else []) if ORGANISERS in audience else [],
            ADMINS: notice.admin_ids if ADMINS in audience else [],
        }
        for group, people in groups.items():
            for person in people:
                if only is not None and str(person) not in only:
                    continue
                channel = self._staff_channel(person)
                if channel is None:
                    missing.extend(channel_of(a) for a in self._addresses(person))
                    continue
                staff.setdefault(channel, {ORGANISERS: set(), ADMINS: set()})[group].add(person)
        routed: dict[str, Notice] = {}
        for channel in self._notifiers:
            to_buyer = channel == buyer_channel
            mine = staff.get(channel, {ORGANISERS: set(), ADMINS: set()})
            if not to_buyer and not mine[ORGANISERS] and not mine[ADMINS]:
                continue
            event = notice.event
            if event is not None and ORGANISERS in audience:
                event = event.model_copy(update={"organisers": [p for p in event.organisers
                                                                if p in mine[ORGANISERS]]})
            delivered = notice.delivered if to_buyer else notice.delivered | {BUYER_PART}
            routed[channel] = replace(notice, event=event, delivered=delivered,
                                      admin_ids=frozenset(p for p in notice.admin_ids if p in mine[ADMINS]))
        return routed, sorted(set(missing))

    async def notify(self, notice: Notice) -> None:
        """Hand the notice to each channel that reaches someone it is for; raise what failed after trying all
        (an ordinary failure first: it is retried; then a missing channel; then Undeliverable)."""
        routed, missing = self.route(notice)
        failure: Exception | None = None
        gone: Undeliverable | None = None
        for channel, narrowed in routed.items():
            try:
                await self._notifiers[channel].notify(narrowed)
            except Undeliverable as exc:
                gone = gone or exc
            except Exception as exc:  # noqa: BLE001 - raised below, after the other channels were tried
                failure = failure or exc
        if failure is not None:
            raise failure
        if missing:
            log.warning("order %s: %s is owed on %s, which has no notifier in this process (open: %s); it stays "
                        "owed and is retried", notice.order.id, notice.message.value, ", ".join(missing),
                        ", ".join(sorted(self._notifiers)) or "none")
            raise ChannelMissing(f"no notifier for {', '.join(missing)}")
        if gone is not None:
            raise gone
