"""The checkout service (bot/checkout.py) on its own, over both stores: every step, every refusal, exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.checkout import Awaiting, CheckoutRefusal, CheckoutRefused, ConfirmRefused, Draft
from bot.errors import ContactField, InvalidContact, RefusalReason
from bot.services import Services
from storage.documents import ContactStep, OrderStatus, tier_key
from tests.conftest import FakeClock
from tests.helpers import acct, assert_invariant, buyer

JAZZ = "jazz-senja-2026"
WORKSHOP = "workshop-ui-bandung"
ME = acct(7)
OTHER = acct(8)


async def typed_through(services: Services, draft: Draft, name: str = "Sinta Maharani",
                        email: str = "sinta@example.com", phone: str = "0812-3456-7890") -> Draft:
    draft = await services.checkout.give(ME, draft.nonce, name)
    draft = await services.checkout.give(ME, draft.nonce, email)
    return await services.checkout.give(ME, draft.nonce, phone)


async def refused(reason: CheckoutRefusal, call) -> CheckoutRefused:
    with pytest.raises(CheckoutRefused) as caught:
        await call
    assert caught.value.reason == reason
    return caught.value


async def test_start_clamps_the_cart_and_asks_for_the_name(services: Services) -> None:
    draft = await services.checkout.start(ME, JAZZ, {"VIP": 5, "EARLY": 9, "BALCONY": 2, "REG": 0},
                                          prompt_message_id=41)

    assert draft.cart == {"EARLY": 4, "VIP": 2}  # max per order; unknown and zero tiers left out
    assert [(line.tier, line.qty, line.price) for line in draft.lines] == [("EARLY", 4, 150_000), ("VIP", 2, 750_000)]
    assert draft.total == 4 * 150_000 + 2 * 750_000 and draft.event.id == JAZZ
    assert draft.awaiting is Awaiting.NAME and draft.step == 1 and draft.last is None
    assert draft.prompt_message_id == 41
    assert await services.checkout.current(ME) == draft  # kept in MongoDB, not in the service


async def test_start_clamps_to_the_seats_left(services: Services) -> None:
    await services.store.inventory.hold(tier_key(JAZZ, "VIP"), 49)
    draft = await services.checkout.start(ME, JAZZ, {"VIP": 2})
    assert draft.cart == {"VIP": 1}


async def test_each_step_in_turn_then_the_summary(services: Services) -> None:
    draft = await services.checkout.start(ME, JAZZ, {"REG": 2})

    draft = await services.checkout.give(ME, draft.nonce, "  Sinta   Maharani ")
    assert (draft.awaiting, draft.step, draft.name) == (Awaiting.EMAIL, 2, "Sinta Maharani")
    draft = await services.checkout.give(ME, draft.nonce, "sinta@example.com")
    assert (draft.awaiting, draft.step, draft.email) == (Awaiting.PHONE, 3, "sinta@example.com")
    draft = await services.checkout.give(ME, draft.nonce, "0812-3456-7890")

    assert draft.awaiting is Awaiting.CONFIRM and draft.step is None
    assert draft.buyer is not None and draft.buyer.phone == "+6281234567890"
    await refused(CheckoutRefusal.NOT_AWAITING, services.checkout.give(ME, draft.nonce, "more"))


@pytest.mark.parametrize(("event", "cart", "reason"), [
    ("no-such-event", {"REG": 1}, CheckoutRefusal.UNKNOWN_EVENT),
    (JAZZ, {}, CheckoutRefusal.EMPTY_CART),
    (JAZZ, {"REG": 0, "BALCONY": 3}, CheckoutRefusal.EMPTY_CART),
    (JAZZ, {"REG": -2}, CheckoutRefusal.EMPTY_CART),
])
async def test_start_refusals_write_no_draft(services: Services, event: str, cart: dict,
                                             reason: CheckoutRefusal) -> None:
    await refused(reason, services.checkout.start(ME, event, cart))
    assert await services.checkout.current(ME) is None


async def test_start_refused_before_sales_open_and_after_they_close(services: Services, clock: FakeClock) -> None:
    clock.now = datetime(2026, 10, 1, tzinfo=UTC)
    await refused(CheckoutRefusal.SALES_NOT_OPEN, services.checkout.start(ME, JAZZ, {"REG": 1}))
    clock.now = datetime(2026, 12, 31, 14, 30, tzinfo=UTC)  # 21:30 WIB, sales closed at 21:00
    await refused(CheckoutRefusal.SALES_CLOSED, services.checkout.start(ME, JAZZ, {"REG": 1}))


async def test_a_sold_out_tier_alone_is_an_empty_cart(services: Services) -> None:
    await services.store.inventory.hold(tier_key(JAZZ, "VIP"), 50)
    await refused(CheckoutRefusal.EMPTY_CART, services.checkout.start(ME, JAZZ, {"VIP": 1}))


@pytest.mark.parametrize(("typed", "field", "problem"), [
    (["   "], ContactField.NAME, "empty"),
    (["12345"], ContactField.NAME, "no_letters"),
    (["Sinta", "not-an-email"], ContactField.EMAIL, "invalid"),
    (["Sinta", "sinta@example.com", "0812"], ContactField.PHONE, "too_short"),
    (["Sinta", "sinta@example.com", "call me"], ContactField.PHONE, "letters"),
])
async def test_each_mistake_is_refused_with_its_reason_and_changes_nothing(
    services: Services, typed: list[str], field: ContactField, problem: str,
) -> None:
    draft = await services.checkout.start(ME, JAZZ, {"REG": 1})
    for text in typed[:-1]:
        draft = await services.checkout.give(ME, draft.nonce, text)
    with pytest.raises(InvalidContact) as caught:
        await services.checkout.give(ME, draft.nonce, typed[-1])
    assert (caught.value.field, caught.value.problem) == (field, problem)
    assert await services.checkout.current(ME) == draft  # still awaiting the same detail


async def test_last_time_s_details_are_offered_and_used(services: Services) -> None:
    earlier = await services.orders.reserve(ME, JAZZ, {"REG": 1}, buyer("Sinta Lama"))
    await services.orders.cancel(earlier.id, ME)

    draft = await services.checkout.start(ME, JAZZ, {"EARLY": 1})
    assert draft.awaiting is Awaiting.CHOICE and draft.last is not None and draft.last.name == "Sinta Lama"
    assert (await services.checkout.current(ME)).last == draft.last

    draft = await services.checkout.use_last_details(ME, draft.nonce)
    assert draft.awaiting is Awaiting.CONFIRM and draft.buyer == buyer("Sinta Lama") and draft.last is None
    order = await services.checkout.confirm(ME, draft.nonce)
    assert order.buyer.name == "Sinta Lama"


async def test_use_last_without_earlier_details_is_refused(services: Services) -> None:
    draft = await services.checkout.start(ME, JAZZ, {"REG": 1})
    await refused(CheckoutRefusal.NO_LAST_DETAILS, services.checkout.use_last_details(ME, draft.nonce))
    assert await services.checkout.current(ME) == draft


async def test_new_details_after_the_offer_ask_every_one(services: Services) -> None:
    await services.store.users.remember_buyer(ME, buyer("Sinta Lama"))
    draft = await services.checkout.start(ME, JAZZ, {"REG": 1})
    draft = await services.checkout.new_details(ME, draft.nonce)
    assert draft.awaiting is Awaiting.NAME and draft.name is None
    draft = await typed_through(services, draft, name="Rudi Hartono")
    assert draft.awaiting is Awaiting.CONFIRM and draft.name == "Rudi Hartono"


async def test_change_one_field_keeps_the_others(services: Services) -> None:
    draft = await typed_through(services, await services.checkout.start(ME, JAZZ, {"REG": 1}))

    draft = await services.checkout.change(ME, draft.nonce, ContactField.EMAIL)
    assert draft.awaiting is Awaiting.EMAIL and draft.name == "Sinta Maharani" and draft.phone == "+6281234567890"
    draft = await services.checkout.give(ME, draft.nonce, "rudi@example.com")

    assert draft.awaiting is Awaiting.CONFIRM  # the others were kept: straight back to the summary
    assert (draft.name, draft.email, draft.phone) == ("Sinta Maharani", "rudi@example.com", "+6281234567890")
    with pytest.raises(ValueError):
        await services.checkout.change(ME, draft.nonce, "age")


async def test_set_cart_keeps_the_details_and_clamps(services: Services) -> None:
    draft = await services.checkout.start(ME, JAZZ, {"REG": 1})
    draft = await services.checkout.give(ME, draft.nonce, "Sinta")

    draft = await services.checkout.set_cart(ME, draft.nonce, {"VIP": 7, "REG": 1})
    assert draft.cart == {"REG": 1, "VIP": 2} and draft.name == "Sinta" and draft.awaiting is Awaiting.EMAIL
    await refused(CheckoutRefusal.EMPTY_CART, services.checkout.set_cart(ME, draft.nonce, {"VIP": 0}))
    assert (await services.checkout.current(ME)).cart == {"REG": 1, "VIP": 2}


async def test_confirm_reserves_and_ends_the_draft(services: Services, clock: FakeClock) -> None:
    draft = await typed_through(services, await services.checkout.start(ME, JAZZ, {"EARLY": 2}))

    order = await services.checkout.confirm(ME, draft.nonce)

    assert order.status == OrderStatus.PENDING and order.user_id == ME and order.total == 300_000
    assert order.buyer == buyer()
    assert await services.checkout.current(ME) is None
    await refused(CheckoutRefusal.DRAFT_GONE, services.checkout.confirm(ME, draft.nonce))
    await assert_invariant(services)


async def test_a_free_purchase_is_paid_at_once(services: Services) -> None:
    draft = await typed_through(services, await services.checkout.start(ME, WORKSHOP, {"FREE": 1}))
    order = await services.checkout.confirm(ME, draft.nonce)
    assert order.status == OrderStatus.PAID and len(await services.tickets.for_user(ME)) == 1


async def test_two_confirms_at_once_make_one_order(services: Services) -> None:
    draft = await typed_through(services, await services.checkout.start(ME, JAZZ, {"EARLY": 1}))

    results = await asyncio.gather(services.checkout.confirm(ME, draft.nonce),
                                   services.checkout.confirm(ME, draft.nonce), return_exceptions=True)

    orders = [r for r in results if not isinstance(r, BaseException)]
    gone = [r for r in results if isinstance(r, CheckoutRefused)]
    assert len(orders) == 1 and len(gone) == 1 and gone[0].reason == CheckoutRefusal.DRAFT_GONE
    assert [o.id for o in await services.orders.pending_for_user(ME)] == [orders[0].id]
    await assert_invariant(services)


async def test_confirm_before_the_details_is_refused_and_keeps_the_draft(services: Services) -> None:
    draft = await services.checkout.give(ME, (await services.checkout.start(ME, JAZZ, {"REG": 1})).nonce, "Sinta")
    await refused(CheckoutRefusal.DETAILS_MISSING, services.checkout.confirm(ME, draft.nonce))
    assert await services.checkout.current(ME) == draft
    assert await services.orders.pending_for_user(ME) == []


async def test_a_refused_reservation_puts_the_draft_back(services: Services) -> None:
    draft = await typed_through(services, await services.checkout.start(ME, JAZZ, {"VIP": 2}))
    await services.store.inventory.hold(tier_key(JAZZ, "VIP"), 49)  # someone else was faster

    with pytest.raises(ConfirmRefused) as caught:
        await services.checkout.confirm(ME, draft.nonce)

    assert caught.value.reason == RefusalReason.SOLD_OUT and caught.value.available == 1
    assert (caught.value.draft.nonce, caught.value.draft.event_id, caught.value.draft.cart) == (
        draft.nonce, JAZZ, {"VIP": 2})
    assert await services.checkout.current(ME) == draft  # back, so the buyer can change the cart
    draft = await services.checkout.set_cart(ME, draft.nonce, {"VIP": 1})
    order = await services.checkout.confirm(ME, draft.nonce)
    assert order.seats == 1  # (the 49 seats held above belong to no order, so no invariant check here)


async def test_a_failure_during_the_reservation_puts_the_draft_back(services: Services, monkeypatch) -> None:
    draft = await typed_through(services, await services.checkout.start(ME, JAZZ, {"REG": 1}))

    async def down(*args, **kwargs):
        raise ConnectionError("database went away")

    monkeypatch.setattr(services.orders, "reserve", down)
    with pytest.raises(ConnectionError):
        await services.checkout.confirm(ME, draft.nonce)
    assert await services.checkout.current(ME) == draft


async def test_abandon_forgets_the_draft_and_holds_nothing(services: Services) -> None:
    draft = await services.checkout.start(ME, JAZZ, {"REG": 1})

    assert await services.checkout.abandon(ME, draft.nonce) is True

    assert await services.checkout.current(ME) is None
    assert await services.checkout.abandon(ME, draft.nonce) is False
    await refused(CheckoutRefusal.DRAFT_GONE, services.checkout.give(ME, draft.nonce, "Sinta"))
    assert await services.orders.pending_for_user(ME) == []


async def test_a_stale_nonce_is_refused_everywhere_and_spares_the_newer_draft(services: Services) -> None:
    await services.store.users.remember_buyer(ME, buyer())
    old = await services.checkout.start(ME, JAZZ, {"REG": 1})
    new = await services.checkout.start(ME, JAZZ, {"EARLY": 2})  # started again: the old buttons are stale

    for call in (services.checkout.give(ME, old.nonce, "Sinta"),
                 services.checkout.use_last_details(ME, old.nonce),
                 services.checkout.new_details(ME, old.nonce),
                 services.checkout.change(ME, old.nonce, ContactField.NAME),
                 services.checkout.set_cart(ME, old.nonce, {"REG": 2}),
                 services.checkout.confirm(ME, old.nonce)):
        await refused(CheckoutRefusal.DRAFT_GONE, call)
    assert await services.checkout.abandon(ME, old.nonce) is False

    assert await services.checkout.current(ME) == new
    await services.checkout.confirm(ME, (await services.checkout.use_last_details(ME, new.nonce)).nonce)
    assert [o.lines[0].tier for o in await services.orders.pending_for_user(ME)] == ["EARLY"]


async def test_drafts_are_per_account(services: Services) -> None:
    mine = await services.checkout.start(ME, JAZZ, {"REG": 1})
    await refused(CheckoutRefusal.DRAFT_GONE, services.checkout.give(OTHER, mine.nonce, "Mallory"))
    assert await services.checkout.current(OTHER) is None and await services.checkout.current(ME) == mine


async def test_too_many_unpaid_orders_is_said_before_the_details(services: Services) -> None:
    for _ in range(3):
        await services.orders.reserve(ME, JAZZ, {"REG": 1}, buyer())

    refusal = await refused(CheckoutRefusal.TOO_MANY_PENDING, services.checkout.start(ME, JAZZ, {"REG": 1}))

    assert refusal.limit == 3 and await services.checkout.current(ME) is None
    [first, *_] = await services.orders.pending_for_user(ME)
    await services.orders.cancel(first.id, ME)
    assert (await services.checkout.start(ME, JAZZ, {"REG": 1})).awaiting is Awaiting.CHOICE


async def test_five_reservations_a_minute_is_said_before_the_details(services: Services, clock: FakeClock) -> None:
    for _ in range(5):
        order = await services.orders.reserve(ME, JAZZ, {"REG": 1}, buyer())
        await services.orders.cancel(order.id, ME)

    refusal = await refused(CheckoutRefusal.RATE_LIMITED, services.checkout.start(ME, JAZZ, {"REG": 1}))

    assert refusal.limit == 5
    clock.advance(seconds=61)
    assert (await services.checkout.start(ME, JAZZ, {"REG": 1})).awaiting is Awaiting.CHOICE


async def test_a_limit_reached_after_start_is_still_refused_at_confirm(services: Services) -> None:
    for _ in range(2):
        await services.orders.reserve(ME, JAZZ, {"REG": 1}, buyer())
    draft = await typed_through(services, await services.checkout.new_details(
        ME, (await services.checkout.start(ME, JAZZ, {"REG": 1})).nonce))
    await services.orders.reserve(ME, JAZZ, {"REG": 1}, buyer())  # another chat of the same account

    with pytest.raises(ConfirmRefused) as caught:
        await services.checkout.confirm(ME, draft.nonce)

    assert caught.value.reason == RefusalReason.TOO_MANY_PENDING
    assert await services.checkout.current(ME) == draft


async def test_give_without_a_nonce_answers_the_current_draft(services: Services) -> None:
    await refused(CheckoutRefusal.DRAFT_GONE, services.checkout.give(ME, None, "Sinta"))  # no draft at all
    draft = await services.checkout.start(ME, JAZZ, {"REG": 1})

    draft = await services.checkout.give(ME, None, "Sinta")  # a typed message names no draft

    assert draft.awaiting is Awaiting.EMAIL and draft.name == "Sinta"


async def test_change_one_detail_keeps_the_others_and_review_goes_back_unchanged(services: Services) -> None:
    draft = await services.checkout.start(ME, JAZZ, {"EARLY": 1})
    for text in ("Sinta", "sinta@example.com", "0812 3456 7890"):
        draft = await services.checkout.give(ME, draft.nonce, text)
    assert draft.awaiting is Awaiting.CONFIRM and draft.given is ContactStep.PHONE

    changing = await services.checkout.change(ME, draft.nonce, "email")
    assert changing.awaiting is Awaiting.EMAIL and changing.changing and changing.email == "sinta@example.com"
    back = await services.checkout.review(ME, draft.nonce)
    assert back.awaiting is Awaiting.CONFIRM and back.email == "sinta@example.com"

    await services.checkout.change(ME, draft.nonce, "email")
    done = await services.checkout.give(ME, None, "rudi@example.com")
    assert done.awaiting is Awaiting.CONFIRM and (done.name, done.email, done.phone) == (
        "Sinta", "rudi@example.com", "+6281234567890")


async def test_a_value_meant_for_the_phone_lands_nowhere_else(services: Services) -> None:
    draft = await services.checkout.start(ME, JAZZ, {"EARLY": 1})
    await refused(CheckoutRefusal.NOT_AWAITING,
                  services.checkout.give(ME, draft.nonce, "+6281234567890", expect=ContactStep.PHONE))
    assert (await services.checkout.current(ME)).name is None  # the name step did not take it
    await refused(CheckoutRefusal.DETAILS_MISSING, services.checkout.review(ME, draft.nonce))
