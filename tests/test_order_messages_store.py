"""storage/order_messages.py on the embedded store and over the wire (mongoeco): the messages offering actions on
an order are recorded once, bounded, in one command for a whole list; the order a draft became; the orders list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.documents import ActionMessage, Buyer, MessageView, OrderDoc, OrderLine, OrderStatus
from storage.store import Store

AT = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def order(n: int, status: OrderStatus = OrderStatus.PENDING, user: str = "telegram:1") -> OrderDoc:
    at = AT + timedelta(minutes=n)
    return OrderDoc(_id=f"KRC-2612-{n:010d}", user_id=user, event_id="ev", seats=1, total=100, status=status,
                    lines=[OrderLine(tier="GA", name="GA", price=100, qty=1)],
                    buyer=Buyer(name="A", email="a@example.com", phone="+6281234567890"),
                    created_at=at, expires_at=at + timedelta(minutes=30), updated_at=at)


def message(mid: int, view: MessageView = MessageView.ORDER) -> ActionMessage:
    return ActionMessage(key=f"telegram:1/{mid}", address="telegram:1", message_id=str(mid), view=view, at=AT)


async def test_recorded_once_bounded_and_a_list_in_one_command(store: Store) -> None:
    a, b = order(1), order(2)
    for o in (a, b):
        await store.orders.insert(o)
    for mid in range(1, 6):
        await store.order_messages.add([a.id], message(mid), keep=3)
        await store.order_messages.add([a.id], message(mid), keep=3, draft_nonce="N1")
    await store.order_messages.add([a.id, b.id], message(9, MessageView.LIST), keep=3)
    await store.order_messages.add([a.id, b.id], message(9, MessageView.LIST), keep=3)

    got_a, got_b = await store.orders.get(a.id), await store.orders.get(b.id)
    assert [m.message_id for m in got_a.action_messages] == ["4", "5", "9"]
    assert [(m.message_id, m.view) for m in got_b.action_messages] == [("9", MessageView.LIST)]
    assert got_a.draft_nonce == "N1" and got_b.draft_nonce is None
    assert (await store.order_messages.of_draft("telegram:1", "N1")).id == a.id
    assert await store.order_messages.of_draft("telegram:2", "N1") is None


async def test_the_listing_puts_pending_first_then_the_newest_paid(store: Store) -> None:
    orders = [order(1, OrderStatus.PAID), order(2), order(3, OrderStatus.PAID), order(4, OrderStatus.CANCELLED),
              order(5, OrderStatus.PAID), order(6), order(7, user="telegram:2")]
    for o in orders:
        await store.orders.insert(o)
    listed = await store.order_messages.listing("telegram:1", [OrderStatus.PENDING, OrderStatus.PAID], 4)
    assert [o.id[-1] for o in listed] == ["6", "2", "5", "3"]
