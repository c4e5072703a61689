"""Money Midtrans knows about, over real HTTP through the real endpoint (issue 9, docs/money.md): lost
notifications found by polling, reversals, chargebacks, refunds by amount from the dashboard and from the chat,
and the budgets Karcis answers within. Every test ends with the stock invariant checked (the `stack` fixture)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web

from bot.config import ConfigError, Settings, load_settings
from bot.midtrans import MidtransGateway
from bot.outbox import Message
from bot.payments import PaymentLinkUnavailable, customer_details, item_name
from bot.refunds import RefundRefusal, RefundRefused
from storage.documents import Buyer, OrderDoc, OrderStatus, RefundState, TicketStatus, VoidReason
from storage.store import Store
from tests.conftest import ADMIN_ID, FakeClock
from tests.helpers import acct, assert_invariant, buyer
from tests.payment_stack import SERVER_KEY, PaymentStack, payment_stack

JAZZ = "jazz-senja-2026"
ORGANISER = 900000002
STRANGER = 555


@pytest.fixture
async def stack(store: Store, settings: Settings, clock: FakeClock) -> AsyncIterator[PaymentStack]:
    async with payment_stack(store, settings, clock) as built:
        yield built
        await built.settle()
        await assert_invariant(built.services)


async def reserve_with_link(stack: PaymentStack, user: int = 7, wanted: dict | None = None) -> OrderDoc:
    order = await stack.services.orders.reserve(acct(user), JAZZ, wanted or {"EARLY": 2}, buyer())
    await stack.services.payments.payment_link(order.id, acct(user), finish_url="https://t.me/KarcisBot?start=o_x")
    return order


async def paid_order(stack: PaymentStack, payment_type: str = "gopay", wanted: dict | None = None,
                     **method: str) -> OrderDoc:
    order = await reserve_with_link(stack, wanted=wanted)
    await stack.sim.simulate_payment(order.id, "pay", payment_type=payment_type, **method)
    await stack.settle()
    paid = await stack.services.orders.get(order.id)
    assert paid.status == OrderStatus.PAID
    return paid


async def tickets_of(stack: PaymentStack, order_id: str) -> dict[str, TicketStatus]:
    return {t.id: t.status for t in await stack.services.tickets.for_order(order_id)}


async def tier(stack: PaymentStack, code: str = "EARLY") -> tuple[int, int, int]:
    t = await stack.services.store.inventory.get(f"{JAZZ}:{code}")
    return t.available, t.pending, t.sold


async def log_of(stack: PaymentStack, order_id: str) -> list[tuple[str, str]]:
    return [(e.get("source", "notification"), e["outcome"])
            for e in await stack.services.store.payment_log.for_order(order_id)]


def count_status_calls(stack: PaymentStack) -> list[str]:
    calls: list[str] = []
    gateway = stack.services.payments._gateway  # noqa: SLF001
    real = gateway.status

    async def counted(order_id: str, **kwargs: object) -> object:
        calls.append(order_id)
        return await real(order_id, **kwargs)

    gateway.status = counted  # type: ignore[method-assign]
    return calls


# ---- 1. lost notifications -----------------------------------------------------------------------------------

async def test_a_lost_notification_is_found_before_the_hold_is_expired(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.simulate_payment(order.id, "pay", payment_type="bank_transfer", notify=False)
    assert stack.sim.lost and not stack.sim.deliveries  # Midtrans's notifications never arrived
    stack.clock.advance(minutes=31)
    report = await stack.services.orders.expire_due()
    assert report.orders == []
    paid = await stack.services.orders.get(order.id)
    assert paid.status == OrderStatus.PAID and paid.payment["transaction_status"] == "settlement"
    assert set((await tickets_of(stack, order.id)).values()) == {TicketStatus.VALID}
    assert await tier(stack) == (98, 0, 2)
    [entry] = await stack.services.store.payment_log.for_order(order.id)
    assert entry["source"] == "poll" and entry["outcome"] == "paid" and entry["verified"]
    assert entry["confirmed"]["transaction_status"] == "settlement"
    await stack.services.delivery.deliver_due()
    assert len(stack.notifier.sent(Message.PAID)) == 1 and stack.notifier.sent(Message.EXPIRED) == []


async def test_an_order_without_a_chosen_method_expires_after_one_status_call(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    calls = count_status_calls(stack)
    stack.clock.advance(minutes=31)
    report = await stack.services.orders.expire_due()
    assert [o.id for o in report.orders] == [order.id] and calls == [order.id]  # Midtrans: 404, nothing chosen
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.EXPIRED
    assert await tier(stack) == (100, 0, 0)


async def test_midtrans_unreachable_keeps_the_hold_until_the_grace_then_admins_are_told(
    store: Store, settings: Settings, clock: FakeClock,
) -> None:
    async with payment_stack(store, settings, clock, gateway_timeout=0.5) as down:
        order = await reserve_with_link(down)
        no_link = await down.services.orders.reserve(acct(8), JAZZ, {"EARLY": 1}, buyer())
        await down.sim.stop()
        down.clock.advance(minutes=31)
        report = await down.services.orders.expire_due()
        assert [o.id for o in report.orders] == [no_link.id]  # nothing to ask Midtrans about: expired
        assert (await down.services.orders.get(order.id)).status == OrderStatus.PENDING
        assert await tier(down) == (98, 2, 0)
        down.clock.advance(minutes=60)  # PAYMENT_POLL_GRACE_MINUTES (60) after the hold ended
        report = await down.services.orders.expire_due()
        assert [o.id for o in report.orders] == [order.id]
        expired = await down.services.orders.get(order.id)
        assert expired.status == OrderStatus.EXPIRED
        assert set(expired.outbox) == {Message.EXPIRED.value, Message.EXPIRED_UNCONFIRMED.value}
        await down.services.delivery.deliver_due()
        assert len(down.notifier.sent(Message.EXPIRED_UNCONFIRMED)) == 1
        assert len(down.notifier.sent(Message.EXPIRED)) == 2
        assert await tier(down) == (100, 0, 0)
        await assert_invariant(down.services)


async def test_the_polling_job_finds_a_payment_and_a_late_one_and_costs_what_it_should(stack: PaymentStack) -> None:
    pending = await reserve_with_link(stack)
    late = await reserve_with_link(stack, user=8)
    await stack.services.orders.reserve(acct(9), JAZZ, {"EARLY": 1}, buyer())  # no link: never polled
    paid_by_notification = await paid_order(stack)
    calls = count_status_calls(stack)
    await stack.sim.simulate_payment(pending.id, "pay", payment_type="gopay", notify=False)

    assert (await stack.services.payments.poll_due()).asked == 0  # nothing due yet
    stack.clock.advance(minutes=10)
    report = await stack.services.payments.poll_due()
    assert report.outcomes == {"paid": 1, "no_transaction": 1} and report.asked == 2
    assert sorted(calls) == sorted([pending.id, late.id])  # the paid order is dropped without a call
    assert (await stack.services.orders.get(pending.id)).status == OrderStatus.PAID
    assert (await stack.services.orders.get(paid_by_notification.id)).poll_due_at is None
    assert (await log_of(stack, pending.id)) == [("poll", "paid")]

    # `late` expires (Midtrans had nothing), then the buyer pays on the still-open Snap page; nothing is sent
    stack.clock.advance(minutes=21)
    await stack.services.orders.expire_due()
    assert (await stack.services.orders.get(late.id)).status == OrderStatus.EXPIRED
    # the VA transfer made before the deadline settles at Midtrans only now, and its notification is lost
    await stack.sim.set_status(late.id, "settlement", payment_type="bank_transfer")
    stack.clock.advance(minutes=10)
    calls.clear()
    await stack.services.payments.poll_due()
    assert calls == [late.id]
    assert (await stack.services.orders.get(late.id)).status == OrderStatus.PAID
    assert (await log_of(stack, late.id))[-1] == ("poll", "paid_late")
    # a paid order is asked no more
    stack.clock.advance(hours=2)
    calls.clear()
    await stack.services.payments.poll_due()
    assert calls == []


async def test_an_unpaid_order_with_a_link_costs_twelve_status_calls_in_all(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    calls = count_status_calls(stack)
    seen: dict[str, int] = {}
    for step in range(1, 26 * 12):  # the sweep and the polling job every 5 minutes, for 26 hours
        stack.clock.advance(minutes=5)
        await stack.services.orders.expire_due()
        await stack.services.payments.poll_due()
        if step == 5:
            seen["pending"] = len(calls)  # 25 minutes in
        if step == 6:
            seen["expired"] = len(calls)
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.EXPIRED
    # every 10 minutes while pending; one before expiry; gaps of 10, 20, 40 min … 6 h, a last one at 24 h
    assert seen == {"pending": 2, "expired": 3} and len(calls) == 12 and set(calls) == {order.id}
    assert (await stack.services.orders.get(order.id)).poll_due_at is None


# ---- 2. money taken back after the sale ---------------------------------------------------------------------

async def test_an_indomaret_reversal_voids_the_tickets_and_tells_everyone(stack: PaymentStack) -> None:
    order = await paid_order(stack, "cstore", store="indomaret")
    [first, _] = await stack.services.tickets.for_order(order.id)
    await stack.services.checkin.check_in(first.id, acct(ORGANISER))
    await stack.sim.reverse(order.id)
    await stack.settle()
    reversed_ = await stack.services.orders.get(order.id)
    assert reversed_.status == OrderStatus.REVERSED
    tickets = await stack.services.tickets.for_order(order.id)
    assert {t.status for t in tickets} == {TicketStatus.VOID} and {t.void_reason for t in tickets} == {
        VoidReason.REVERSED}
    assert await tier(stack) == (100, 0, 0)
    [notice] = stack.notifier.sent(Message.REVERSED)
    assert notice.detail == {"status": "deny", "tickets": [t.id for t in tickets], "checked_in": 1,
                             "amount": 300_000}
    assert [o for _, o in await log_of(stack, order.id)][-1] == "reversed"
    # a duplicate changes nothing
    assert await stack.sim.notify(None, order.id) == [200]
    assert [o for _, o in await log_of(stack, order.id)][-1] == "duplicate"


async def test_a_card_cancelled_after_capture_is_reversed(stack: PaymentStack) -> None:
    order = await paid_order(stack, "credit_card")
    await stack.sim.cancel_after_payment(order.id)
    await stack.settle()
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.REVERSED
    assert set((await tickets_of(stack, order.id)).values()) == {TicketStatus.VOID}
    assert stack.notifier.sent(Message.REVERSED)[0].detail["status"] == "cancel"


async def test_a_chargeback_is_reversed_and_a_partial_one_waits_for_tickets(stack: PaymentStack) -> None:
    whole = await paid_order(stack, "credit_card")
    await stack.sim.chargeback(whole.id)
    await stack.settle()
    assert (await stack.services.orders.get(whole.id)).status == OrderStatus.REVERSED

    part = await paid_order(stack, "credit_card")
    await stack.sim.chargeback(part.id, 150_000)
    await stack.settle()
    # the simulator's partial_chargeback body names no amount (its docs show none): admins are told to look
    [unknown] = stack.notifier.sent(Message.REFUND_UNASSIGNED)
    assert unknown.detail["amount"] is None and unknown.detail["kind"] == "chargeback"
    # a body that lists the chargeback in `refunds` (entries carry refund_chargeback_id) is accounted by amount
    stack.notifier.notices.clear()
    await stack.sim.set_status(part.id, "partial_chargeback", extra={
        "refund_amount": "150000.00",
        "refunds": [{"refund_chargeback_id": 77, "refund_amount": "150000.00", "created_at": "2026-12-01 10:00:00",
                     "reason": "cardholder dispute", "refund_key": "cb-77"}]})
    assert await stack.sim.notify(None, part.id) == [200]
    await stack.settle()
    order = await stack.services.orders.get(part.id)
    assert order.status == OrderStatus.PAID and order.refunded_amount == 150_000
    assert set((await tickets_of(stack, part.id)).values()) == {TicketStatus.VALID}
    [alert] = [n for n in stack.notifier.sent(Message.REFUND_UNASSIGNED) if n.order.id == part.id]
    assert alert.detail["amount"] == 150_000 and alert.detail["kind"] == "chargeback"
    assert await tier(stack) == (98, 0, 2)


async def test_capture_without_fraud_status_is_paid(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    outcome = await stack.sim.simulate_payment(order.id, "pay", payment_type="credit_card", fraud_status=None)
    assert "fraud_status" not in outcome.statuses[-1]
    await stack.settle()
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.PAID
    assert len(await stack.services.tickets.for_order(order.id)) == 2


# ---- refunds from the Midtrans dashboard ----------------------------------------------------------------------

async def test_a_dashboard_partial_refund_keeps_tickets_until_admins_assign_them(stack: PaymentStack) -> None:
    order = await paid_order(stack, "gopay", wanted={"EARLY": 2, "VIP": 1})  # 150k × 2 + 750k
    await stack.sim.dashboard_refund(order.id, 150_000)
    await stack.settle()
    current = await stack.services.orders.get(order.id)
    assert current.status == OrderStatus.PAID and current.unassigned_amount == 150_000
    assert set((await tickets_of(stack, order.id)).values()) == {TicketStatus.VALID}
    assert len(stack.notifier.sent(Message.REFUND_UNASSIGNED)) == 1  # the second (bank confirmed) changes nothing
    assert [o for _, o in await log_of(stack, order.id)][-2:] == ["refund_unassigned", "duplicate"]

    with pytest.raises(RefundRefused) as refused:
        await stack.services.refunds.assign(order.id, "XXXX", by=acct(ORGANISER))
    assert refused.value.reason == RefundRefusal.NOT_ALLOWED
    view = await stack.services.refunds.view(order.id, by=acct(ADMIN_ID))
    early = next(t for t in view.tickets if t.tier == "EARLY")
    view = await stack.services.refunds.assign(order.id, early.code, by=acct(ADMIN_ID))
    assert view.unassigned == 0
    assert (await tickets_of(stack, order.id))[early.code] == TicketStatus.VOID
    assert await tier(stack) == (99, 0, 1)
    with pytest.raises(RefundRefused) as refused:
        await stack.services.refunds.assign(order.id, view.valid_tickets[0].code, by=acct(ADMIN_ID))
    assert refused.value.reason == RefundRefusal.NOTHING_UNASSIGNED
    await stack.services.delivery.deliver_due()
    [told] = stack.notifier.sent(Message.PARTIAL_REFUND)
    assert told.detail["tickets"] == [early.code] and told.detail["amount"] == 150_000

    # the rest refunded from the dashboard: the order is refunded, every ticket void
    await stack.sim.dashboard_refund(order.id)
    await stack.settle()
    done = await stack.services.orders.get(order.id)
    assert done.status == OrderStatus.REFUNDED and done.refunded_amount == done.total
    assert set((await tickets_of(stack, order.id)).values()) == {TicketStatus.VOID}
    assert await tier(stack) == (100, 0, 0) and await tier(stack, "VIP") == (50, 0, 0)
    assert len(stack.notifier.sent(Message.REFUNDED)) == 1


# ---- 3. refunds from the chat ------------------------------------------------------------------------------------

async def test_refunding_one_ticket_from_the_chat_voids_exactly_that_one(stack: PaymentStack) -> None:
    order = await paid_order(stack, "gopay")
    first, second = await stack.services.tickets.for_order(order.id)
    done = await stack.services.refunds.refund(order.id, [first.id.lower()], by=acct(ORGANISER), reason="cannot come")
    assert done.voided == [first.id] and not done.fully_refunded and not done.reused
    [midtrans_refund] = stack.sim.refunds(order.id)
    assert midtrans_refund["refund_key"] == done.refund.refund_key and midtrans_refund["refund_amount"] == "150000.00"
    await stack.settle()
    current = await stack.services.orders.get(order.id)
    assert current.status == OrderStatus.PAID and current.refunded_amount == 150_000
    assert current.refunds[done.refund.id].status == RefundState.DONE
    assert await tickets_of(stack, order.id) == {first.id: TicketStatus.VOID, second.id: TicketStatus.VALID}
    assert await tier(stack) == (99, 0, 1)
    assert len(stack.notifier.sent(Message.PARTIAL_REFUND)) == 1
    assert stack.notifier.sent(Message.REFUND_UNASSIGNED) == []  # Midtrans's notifications name our refund_key

    again = await stack.services.refunds.refund(order.id, [first.id], by=acct(ORGANISER), reason="cannot come")
    assert again.reused and len(stack.sim.refunds(order.id)) == 1  # a double tap refunds once
    rest = await stack.services.refunds.refund(order.id, None, by=acct(ADMIN_ID), reason="event moved")
    assert rest.fully_refunded and rest.voided == [second.id]
    await stack.settle()
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.REFUNDED
    assert await tier(stack) == (100, 0, 0)
    assert len(stack.notifier.sent(Message.REFUNDED)) == 1


async def test_a_double_tap_refunds_once(stack: PaymentStack) -> None:
    order = await paid_order(stack, "gopay")
    codes = list(await tickets_of(stack, order.id))
    results = await asyncio.gather(
        *(stack.services.refunds.refund(order.id, codes[:1], by=acct(ADMIN_ID), reason="x") for _ in range(2)),
        return_exceptions=True)
    assert len(stack.sim.refunds(order.id)) == 1
    assert any(not isinstance(r, Exception) for r in results)
    for result in results:
        assert not isinstance(result, Exception) or result.reason == RefundRefusal.TICKET_BEING_REFUNDED
    await stack.settle()
    assert (await stack.services.orders.get(order.id)).refunded_amount == 150_000


async def test_a_refund_midtrans_refuses_changes_nothing(stack: PaymentStack) -> None:
    order = await paid_order(stack, "bank_transfer")  # Midtrans's refund API does not serve bank transfers
    with pytest.raises(RefundRefused) as refused:
        await stack.services.refunds.refund(order.id, None, by=acct(ADMIN_ID), reason="x")
    assert refused.value.reason == RefundRefusal.MIDTRANS_REFUSED and refused.value.detail["status"] == 412
    assert "cannot modify" in refused.value.detail["message"]
    current = await stack.services.orders.get(order.id)
    assert current.refunds == {} and current.refund_claims == [] and current.refunded_amount == 0
    assert set((await tickets_of(stack, order.id)).values()) == {TicketStatus.VALID}
    assert await tier(stack) == (98, 0, 2)


async def test_who_may_refund_and_what(stack: PaymentStack) -> None:
    order = await paid_order(stack, "gopay")
    first, _ = await stack.services.tickets.for_order(order.id)
    for by, reason in ((STRANGER, RefundRefusal.NOT_ALLOWED),):
        with pytest.raises(RefundRefused) as refused:
            await stack.services.refunds.refund(order.id, None, by=acct(by), reason="x")
        assert refused.value.reason == reason
    with pytest.raises(RefundRefused) as refused:
        await stack.services.refunds.refund("KRC-0000-NOSUCHORDER", None, by=acct(ADMIN_ID), reason="x")
    assert refused.value.reason == RefundRefusal.NOT_FOUND
    other = await paid_order(stack, "gopay")
    other_ticket = (await stack.services.tickets.for_order(other.id))[0]
    with pytest.raises(RefundRefused) as refused:
        await stack.services.refunds.refund(order.id, [other_ticket.id], by=acct(ADMIN_ID), reason="x")
    assert refused.value.reason == RefundRefusal.TICKET_NOT_IN_ORDER
    await stack.services.checkin.check_in(first.id, acct(ORGANISER))
    with pytest.raises(RefundRefused) as refused:
        await stack.services.refunds.refund(order.id, [first.id], by=acct(ORGANISER), reason="x")
    assert refused.value.reason == RefundRefusal.CHECKED_IN_NEEDS_CONFIRM and refused.value.detail["codes"] == [
        first.id]
    assert stack.sim.refunds(order.id) == []
    done = await stack.services.refunds.refund(order.id, [first.id], by=acct(ORGANISER), reason="x",
                                               confirm_checked_in=True)
    assert done.voided == [first.id]
    with pytest.raises(RefundRefused) as refused:
        await stack.services.refunds.refund(order.id, [first.id, _.id], by=acct(ORGANISER), reason="x")
    assert refused.value.reason == RefundRefusal.TICKET_VOID
    pending = await reserve_with_link(stack, user=8)
    with pytest.raises(RefundRefused) as refused:
        await stack.services.refunds.refund(pending.id, None, by=acct(ADMIN_ID), reason="x")
    assert refused.value.reason == RefundRefusal.NOT_PAID


async def test_a_refund_whose_answer_was_lost_is_finished_by_asking_again(stack: PaymentStack) -> None:
    order = await paid_order(stack, "gopay")
    codes = list(await tickets_of(stack, order.id))
    gateway = stack.services.refunds._gateway  # noqa: SLF001
    real = gateway.refund

    async def answer_lost(*args: object, **kwargs: object) -> dict:
        await real(*args, **kwargs)
        from bot.midtrans import MidtransUnavailable
        raise MidtransUnavailable("read timed out")

    gateway.refund = answer_lost  # type: ignore[method-assign]
    url, stack.sim.notification_url = stack.sim.notification_url, None  # and its notifications are lost too
    with pytest.raises(RefundRefused) as refused:
        await stack.services.refunds.refund(order.id, codes[:1], by=acct(ADMIN_ID), reason="x")
    assert refused.value.reason == RefundRefusal.MIDTRANS_UNAVAILABLE
    requested = await stack.services.orders.get(order.id)
    assert [r.status for r in requested.refunds.values()] == [RefundState.REQUESTED]
    assert set((await tickets_of(stack, order.id)).values()) == {TicketStatus.VALID}
    gateway.refund = real  # type: ignore[method-assign]
    stack.sim.notification_url = url
    done = await stack.services.refunds.refund(order.id, codes[:1], by=acct(ADMIN_ID), reason="x")
    assert done.voided == codes[:1] and len(stack.sim.refunds(order.id)) == 1  # Midtrans: 406, already refunded
    assert (await tickets_of(stack, order.id))[codes[0]] == TicketStatus.VOID


# ---- 7. answering within the budget -----------------------------------------------------------------------------

@pytest.fixture
async def hung_url() -> AsyncIterator[str]:
    """An HTTP server that accepts every request and never answers."""
    gate = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await gate.wait()
        return web.Response(status=500)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hang)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    gate.set()
    await runner.cleanup()


async def test_a_hung_status_api_gets_a_503_within_the_budget(stack: PaymentStack, hung_url: str) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.set_status(order.id, "settlement", payment_type="gopay")
    body = stack.sim.state.notification_body(order.id)
    payments = stack.services.payments
    # the production gateway's timeouts and retries (3 attempts of 4 s) against a status API that never answers
    payments._gateway = MidtransGateway(SERVER_KEY, api_base_url=hung_url)  # noqa: SLF001
    payments._notification_budget = 2.0  # noqa: SLF001  (8 s in production; shorter keeps the test quick)
    async with aiohttp.ClientSession() as session, session.post(
        stack.notification_url, json=body, timeout=aiohttp.ClientTimeout(total=12),
    ) as response:
        assert response.status == 503  # answered (Midtrans retries a 503), not left to Midtrans's 15 s timeout
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.PENDING
    [entry] = await stack.services.store.payment_log.for_order(order.id)
    assert entry["outcome"] == "status_unavailable" and entry["http_status"] == 503


async def test_a_hung_snap_api_gives_try_again_within_the_link_budget(stack: PaymentStack, hung_url: str) -> None:
    order = await stack.services.orders.reserve(acct(7), JAZZ, {"EARLY": 1}, buyer())
    payments = stack.services.payments
    payments._gateway = MidtransGateway(SERVER_KEY, snap_base_url=hung_url)  # noqa: SLF001
    payments._link_budget = 1.0  # noqa: SLF001
    with pytest.raises(PaymentLinkUnavailable):
        await asyncio.wait_for(payments.payment_link(order.id, acct(7)), 10)
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.PENDING


# ---- 5. customer details Snap accepts ---------------------------------------------------------------------------

def test_item_names_fit_fifty_bytes_on_a_character_boundary_without_pipes() -> None:
    name = item_name("Tiket | VIP — Panggung Utama, Jakarta 🎷🎷🎷 Malam Tahun Baru")
    assert "|" not in name and len(name.encode()) <= 50
    assert name.startswith("Tiket / VIP — Panggung Utama")
    assert item_name("Early Bird") == "Early Bird"


@pytest.mark.parametrize(("phone", "sent"), [("+6281234567890", "+6281234567890"), ("081234567890", "081234567890"),
                                             ("62 812-3456-7890", "+6281234567890"), ("+14155550123", None),
                                             ("+44 20 7946 0958", None)])
def test_the_phone_is_sent_only_in_a_form_midtrans_accepts(phone: str, sent: str | None) -> None:
    details = customer_details(Buyer(name="Sinta", email="s@example.com", phone=phone))
    assert details.get("phone") == sent


async def test_a_foreign_phone_and_a_long_name_still_pay_by_bni_and_bca(stack: PaymentStack) -> None:
    long_buyer = Buyer(name="Raden Ajeng Kartini Djojo Adhiningrat Sosroningrat", email="k@example.com",
                       phone="+14155550123")
    for bank, user in (("bni", 7), ("bca", 8)):
        order = await stack.services.orders.reserve(acct(user), JAZZ, {"EARLY": 1}, long_buyer)
        await stack.services.payments.payment_link(order.id, acct(user))
        request = stack.sim.transaction(order.id).request_body
        assert "phone" not in request["customer_details"] and len(request["customer_details"]["first_name"]) <= 30
        await stack.sim.simulate_payment(order.id, "pay", payment_type="bank_transfer", bank=bank)
        await stack.settle()
        assert (await stack.services.orders.get(order.id)).status == OrderStatus.PAID


# ---- 6. one deadline --------------------------------------------------------------------------------------------

def test_reservation_minutes_below_the_snap_minimum_is_refused() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(_env_file=None, reservation_minutes=1)
    assert "RESERVATION_MINUTES" in str(error.value) and "5 minutes" in str(error.value)
    assert load_settings(_env_file=None, reservation_minutes=5).reservation_minutes == 5


# ---- 8. what the buyer reads ------------------------------------------------------------------------------------

async def test_gopay_pending_instructions_carry_the_actions(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.set_status(order.id, "pending", payment_type="gopay")
    assert await stack.sim.notify(None, order.id) == [200]
    await stack.settle()
    instructions = (await stack.services.orders.get(order.id)).payment["instructions"]
    names = {a["name"] for a in instructions["actions"]}
    assert "deeplink-redirect" in names and "generate-qr-code" in names
    [notice] = stack.notifier.sent(Message.PAYMENT_PENDING)
    assert notice.order.payment["instructions"]["actions"] == instructions["actions"]


async def test_poll_grace_is_configurable(store: Store, clock: FakeClock) -> None:
    settings = Settings(_env_file=None, admin_ids=frozenset({ADMIN_ID}), payment_poll_grace_minutes=0)  # type: ignore[call-arg]
    async with payment_stack(store, settings, clock, gateway_timeout=0.5) as down:
        order = await reserve_with_link(down)
        await down.sim.stop()
        down.clock.advance(minutes=31)
        await down.services.orders.expire_due()
        assert (await down.services.orders.get(order.id)).status == OrderStatus.EXPIRED
        await assert_invariant(down.services)
    assert timedelta(minutes=0) == down.services.payments._poll_grace  # noqa: SLF001


# ---- the books -------------------------------------------------------------------------------------------------

async def test_stats_keep_refunds_and_reversals_apart(stack: PaymentStack) -> None:
    refunded = await paid_order(stack, "gopay")
    await stack.services.refunds.refund(refunded.id, list(await tickets_of(stack, refunded.id))[:1], by=acct(ADMIN_ID),
                                        reason="x")
    reversed_ = await paid_order(stack, "cstore", store="indomaret")
    await stack.sim.reverse(reversed_.id)
    unassigned = await paid_order(stack, "gopay")
    await stack.sim.dashboard_refund(unassigned.id, 100_000)
    await stack.settle()
    [jazz] = await stack.services.stats.stats([JAZZ])
    early = next(t for t in jazz.tiers if t.code == "EARLY")
    assert (early.sold, early.revenue) == (3, 150_000 + 300_000)
    books = jazz.books
    assert (books.refunded, books.unassigned, books.refunded_orders) == (250_000, 100_000, 0)
    assert (books.reversed_orders, books.reversed) == (1, 300_000)


async def test_a_late_payment_whose_seats_are_gone_is_refunded_from_the_chat(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack, wanted={"VIP": 2})
    stack.clock.advance(minutes=31)
    await stack.services.orders.expire_due()
    for user in range(20, 45):  # the VIP tier sells out meanwhile
        await stack.services.orders.pay((await stack.services.orders.reserve(acct(user), JAZZ, {"VIP": 2}, buyer())).id)
    await stack.sim.set_status(order.id, "settlement", payment_type="gopay")  # the buyer paid in time after all
    assert await stack.sim.notify(None, order.id) == [200]
    await stack.settle()
    assert (await stack.services.orders.get(order.id)).status == OrderStatus.NEEDS_REFUND
    view = await stack.services.refunds.view(order.id, by=acct(ADMIN_ID))
    assert view.tickets == [] and view.refundable == 1_500_000
    done = await stack.services.refunds.refund(order.id, None, by=acct(ADMIN_ID), reason="sold out")
    assert done.fully_refunded and done.voided == []
    await stack.settle()
    refunded = await stack.services.orders.get(order.id)
    assert refunded.status == OrderStatus.REFUNDED and refunded.refunded_amount == 1_500_000
    assert stack.sim.refunds(order.id)[0]["refund_amount"] == "1500000.00"
    assert await tier(stack, "VIP") == (0, 0, 50)
    assert len(stack.notifier.sent(Message.REFUNDED)) == 1


async def test_actions_from_the_notification_survive_a_poll_that_lacks_them(stack: PaymentStack) -> None:
    order = await reserve_with_link(stack)
    await stack.sim.set_status(order.id, "pending", payment_type="qris")
    stack.clock.advance(minutes=10)
    await stack.services.payments.poll_due()  # the status API: no actions for QRIS
    assert "actions" not in (await stack.services.orders.get(order.id)).payment["instructions"]
    assert await stack.sim.notify(None, order.id) == [200]  # the notification has them: told again, with them
    assert "actions" in (await stack.services.orders.get(order.id)).payment["instructions"]
    stack.clock.advance(minutes=10)
    await stack.services.payments.poll_due()  # says less: nothing changes
    assert "actions" in (await stack.services.orders.get(order.id)).payment["instructions"]
    assert [o for _, o in await log_of(stack, order.id)] == ["still_pending", "still_pending", "duplicate"]


async def test_a_refund_whose_answer_and_notifications_were_lost_is_found_by_polling(stack: PaymentStack) -> None:
    order = await paid_order(stack, "gopay")
    codes = list(await tickets_of(stack, order.id))
    gateway = stack.services.refunds._gateway  # noqa: SLF001
    real = gateway.refund

    async def answer_lost(*args: object, **kwargs: object) -> dict:
        await real(*args, **kwargs)
        from bot.midtrans import MidtransUnavailable
        raise MidtransUnavailable("read timed out")

    gateway.refund = answer_lost  # type: ignore[method-assign]
    stack.sim.notification_url = None  # Midtrans's refund notifications are lost as well
    with pytest.raises(RefundRefused):
        await stack.services.refunds.refund(order.id, codes[:1], by=acct(ADMIN_ID), reason="x")
    assert (await tickets_of(stack, order.id))[codes[0]] == TicketStatus.VALID
    stack.clock.advance(minutes=5)
    report = await stack.services.payments.poll_due()
    assert report.outcomes == {"partial_refund": 1}
    current = await stack.services.orders.get(order.id)
    assert [r.status for r in current.refunds.values()] == [RefundState.DONE]
    assert (await tickets_of(stack, order.id))[codes[0]] == TicketStatus.VOID
    assert await tier(stack) == (99, 0, 1)
    assert (await log_of(stack, order.id))[-1] == ("poll", "partial_refund")
    stack.clock.advance(minutes=10)
    assert (await stack.services.payments.poll_due()).asked == 0  # done: asked no more
