"""The messages that offer actions on an order, so that they can be made to tell the truth when it changes
(docs/order-messages.md).

A door records "message X in chat Y offers actions on order Z" (`offered`, `listed`) when it shows Pay/Cancel
or payment instructions; when the order leaves pending, whoever holds the changed order (the delivery of what it
owes, the cancel that won) asks `to_update(order)` and the door edits them. The records ride on the order
document, so reading them costs no query. A door that cannot edit what it sent (WhatsApp) records nothing: its
old buttons answer the truth when pressed. Also: the order a purchase draft was confirmed into (`draft_order`),
so that an old ✖ Cancel of that draft does not claim nothing was ordered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.accounts import AccountId, Owners, only_itself
from bot.clock import Clock, utcnow
from storage.documents import ActionMessage, MessageView, OrderDoc, OrderStatus
from storage.store import Store

KEEP = 6  # messages remembered per order (the newest); an older one's buttons still answer the truth
LISTED_PAID = 5  # paid orders the orders list shows (without buttons) under the unpaid ones
LISTED_PENDING = 10

__all__ = ["KEEP", "MessageView", "OfferedMessage", "OrderMessages", "OrdersListing"]


@dataclass(frozen=True)
class OfferedMessage:
    """A message in a chat, named the way its channel names it (`address` is the chat: `telegram:<chat id>`)."""

    address: str
    message_id: str
    view: MessageView = MessageView.ORDER
    lang: str = "en"

    @property
    def key(self) -> str:
        return f"{self.address}/{self.message_id}"


@dataclass(frozen=True)
class OrdersListing:
    pending: list[OrderDoc]  # oldest first, each with its actions
    paid: list[OrderDoc]     # newest first, without actions


class OrderMessages:
    def __init__(self, store: Store, *, clock: Clock = utcnow, owners: Owners = only_itself) -> None:
        self._store = store
        self._clock = clock
        self._owners = owners  # every id a person's orders may be keyed by (bot/accounts.py)

    async def offered(self, order_id: str, message: OfferedMessage, *, draft: str | None = None) -> None:
        """`message` offers actions on the order (one command; recording it again changes nothing)."""
        await self._store.order_messages.add([order_id], self._doc(message), keep=KEEP, draft_nonce=draft)

    async def listed(self, order_ids: Sequence[str], message: OfferedMessage) -> None:
        """`message` lists these orders with their actions (one command for all of them)."""
        await self._store.order_messages.add(order_ids, self._doc(message), keep=KEEP)

    async def confirmed_from(self, order_id: str, draft: str) -> None:
        """The order was confirmed from the purchase draft `draft` (a door that records no message)."""
        await self._store.order_messages.set_draft(order_id, draft)

    async def draft_order(self, account: AccountId, draft: str) -> OrderDoc | None:
        """The account's order confirmed from the draft named `draft`, if any was recorded."""
        return await self._store.order_messages.of_draft(self._owners(account), draft)

    async def listing(self, account: AccountId) -> OrdersListing:
        """The account's unpaid orders and its latest paid ones, in one query."""
        orders = await self._store.order_messages.listing(
            self._owners(account), [OrderStatus.PENDING, OrderStatus.PAID], LISTED_PENDING + LISTED_PAID)
        pending = sorted((o for o in orders if o.status == OrderStatus.PENDING), key=lambda o: o.created_at)
        paid = [o for o in orders if o.status == OrderStatus.PAID][:LISTED_PAID]
        return OrdersListing(pending[:LISTED_PENDING], paid)

    @staticmethod
    def to_update(order: OrderDoc, channel: str, *, skip: str | None = None) -> list[OfferedMessage]:
        """The messages on `channel` that offer actions on `order` and should now show its new state: none
        while it is pending (what they offer is still true). `skip`: a message key the caller edits itself."""
        if order.status == OrderStatus.PENDING:
            return []
        return [OfferedMessage(m.address, m.message_id, m.view, m.lang) for m in order.action_messages
                if m.address.startswith(channel + ":") and m.key != skip]

    def _doc(self, message: OfferedMessage) -> ActionMessage:
        return ActionMessage(key=message.key, address=message.address, message_id=message.message_id,
                             view=message.view, lang=message.lang, at=self._clock())
