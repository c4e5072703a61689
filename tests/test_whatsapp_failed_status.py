"""A `failed` status Meta reports after accepting a send: the copy it was goes back to owed, like a Telegram
failure (docs/whatsapp.md "A failed status"), through the real service and the Cloud API simulator."""

from __future__ import annotations

import pytest

from bot.accounts import whatsapp_address
from bot.sandbox.whatsapp import SandboxError
from storage.documents import OrderDoc, OrderStatus
from storage.store import Store
from tests.conftest import FakeClock
from tests.test_whatsapp_door import buy_to_payment_link
from tests.whatsapp_stack import AYU, Stack, whatsapp_stack


async def paid_order(stack: Stack) -> OrderDoc:
    summary = await buy_to_payment_link(stack)
    await stack.tap(AYU, summary, "Konfirmasi")
    [order] = await stack.services.orders.pending_for_user(whatsapp_address(AYU))
    await stack.midtrans.simulate_payment(order.id, "pay", payment_type="gopay")
    await stack.settle()
    paid = await stack.services.orders.get(order.id)
    assert paid is not None and paid.status == OrderStatus.PAID and "paid" not in paid.outbox
    assert len(stack.images(AYU)) == 2
    stack.clock.advance(seconds=5)  # Meta's report comes a little after the send
    return paid


def images_to(stack: Stack, number: str) -> list[str]:
    """Every image sent, failed ones too."""
    return [m.id for m in stack.wa.all_messages_to(number) if m.type == "image"]


def templates_to(stack: Stack, number: str) -> list[str]:
    return [m.text or "" for m in stack.wa.all_messages_to(number) if m.type == "template"]


async def retry_due(stack: Stack) -> None:
    stack.clock.advance(minutes=1)
    await stack.services.delivery.deliver_due()
    await stack.settle()


async def test_a_ticket_failed_outside_the_window_is_owed_again_and_sent_as_the_template(
        memory_store: Store, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        order = await paid_order(stack)
        first, second = stack.images(AYU)
        await stack.wa.fail_message(first.id, 131047)  # Meta: outside the window after all
        await stack.settle()
        owed = await stack.services.orders.get(order.id)
        assert owed is not None and owed.outbox["paid"].redo == ["buyer"]
        assert "reported undelivered after sending" in caplog.text

        await retry_due(stack)
        [template] = templates_to(stack, AYU)  # the window is closed: the tickets template, not a free-form try
        assert order.id in template
        assert len(images_to(stack, AYU)) == 2
        done = await stack.services.orders.get(order.id)
        assert done is not None and "paid" not in done.outbox

        # the other image's failure, reported after the re-delivery that replaced it: nothing more is owed
        await stack.wa.fail_message(second.id, 131047)
        await stack.settle()
        await retry_due(stack)
        assert len(templates_to(stack, AYU)) == 1
        later = await stack.services.orders.get(order.id)
        assert later is not None and "paid" not in later.outbox

        mine = await stack.say(AYU, "tiket", lambda m: m.type == "image")  # her reply opens the window again
        assert mine.type == "image"


async def test_a_failed_status_delivered_twice_owes_once(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        order = await paid_order(stack)
        first, second = stack.images(AYU)
        stack.wa.pause_deliveries()
        await stack.wa.fail_message(first.id, 131047)
        await stack.wa.fail_message(second.id, 131047)
        failed = [d for d in stack.wa.deliveries(delivered=False)]
        await stack.wa.resume_deliveries(reverse=True)
        await stack.settle()
        for delivery in failed:  # Meta redelivers both
            await stack.wa.redeliver(delivery)
        await stack.settle()
        owed = await stack.services.orders.get(order.id)
        assert owed is not None and owed.outbox["paid"].redo == ["buyer"]
        await retry_due(stack)
        await retry_due(stack)
        assert len(templates_to(stack, AYU)) == 1
        with pytest.raises(SandboxError):
            await stack.wa.fail_message(first.id, 131047)  # Meta reports a message's failure once


async def test_a_failure_inside_the_window_resends_that_image_only(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        order = await paid_order(stack)
        first, _ = stack.images(AYU)
        await stack.wa.fail_message(first.id, 131000)  # "something went wrong": retried, free-form still
        await stack.settle()
        await retry_due(stack)
        images = [stack.wa.message(i) for i in images_to(stack, AYU)]
        assert len(images) == 3 and images[-1].content.get("caption") == first.content.get("caption")
        assert not templates_to(stack, AYU)
        done = await stack.services.orders.get(order.id)
        assert done is not None and "paid" not in done.outbox


async def test_undeliverable_after_sending_is_given_up_like_a_telegram_block(
        memory_store: Store, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        order = await paid_order(stack)
        first, _ = stack.images(AYU)
        await stack.wa.fail_message(first.id, 131026)
        await stack.settle()
        assert "cannot be delivered" in caplog.text and "giving up" in caplog.text
        after = await stack.services.orders.get(order.id)
        assert after is not None and "paid" not in after.outbox
        await retry_due(stack)
        assert len(images_to(stack, AYU)) == 2 and not templates_to(stack, AYU)


async def test_a_later_status_does_not_move_back(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        await paid_order(stack)
        first, _ = stack.images(AYU)
        inbox = stack.process.inbox
        await inbox.record_status(first.id, "sent", at=clock(), recipient=None, errors=[], now=clock())
        status = await inbox.status_of(first.id)
        assert status is not None and status["status"] == "delivered"  # "sent" came late: kept in the history
        assert status["order"] and status["part"].startswith("ticket:")
