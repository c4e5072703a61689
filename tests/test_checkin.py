"""Check-in at the door: distinct answers, and a double tap checks in once."""

from __future__ import annotations

import asyncio

from bot.checkin import CheckInStatus
from bot.services import Services
from bot.tickets import deep_link, format_code
from tests.conftest import ADMIN_ID, ORGANISER_ID, FakeClock
from tests.helpers import acct, buyer


async def paid_ticket(services: Services, user: int = 7):
    order = await services.orders.reserve(acct(user), "jazz-senja-2026", {"REG": 2}, buyer("Budi Santoso"))
    return (await services.orders.pay(order.id)).tickets


async def test_check_in_by_code_then_already_checked_in(services: Services, clock: FakeClock) -> None:
    ticket = (await paid_ticket(services))[0]
    checked_at = clock.now
    result = await services.checkin.check_in(format_code(ticket.id).lower(), acct(ORGANISER_ID))
    assert result.status == CheckInStatus.CHECKED_IN
    assert (result.ticket.holder_name, result.ticket.tier_name) == ("Budi Santoso", "Reguler")
    clock.advance(minutes=3)
    again = await services.checkin.check_in(deep_link("KarcisBot", ticket.id), acct(ORGANISER_ID))
    assert again.status == CheckInStatus.ALREADY_CHECKED_IN
    assert again.checked_in_at == checked_at
    assert again.checked_in_by == acct(ORGANISER_ID)


async def test_double_tap_checks_in_once(services: Services) -> None:
    ticket = (await paid_ticket(services))[0]
    results = await asyncio.gather(*(services.checkin.check_in(ticket.id, acct(ORGANISER_ID)) for _ in range(10)))
    statuses = [r.status for r in results]
    assert statuses.count(CheckInStatus.CHECKED_IN) == 1
    assert statuses.count(CheckInStatus.ALREADY_CHECKED_IN) == 9


async def test_unknown_code_and_other_peoples_events(services: Services) -> None:
    ticket = (await paid_ticket(services))[0]
    assert (await services.checkin.check_in("ABCD-EFGH-JKMN", acct(ORGANISER_ID))).status == CheckInStatus.UNKNOWN_CODE
    assert (await services.checkin.check_in("hello", acct(ORGANISER_ID))).status == CheckInStatus.UNKNOWN_CODE
    stranger = await services.checkin.check_in(ticket.id, acct(555))
    assert stranger.status == CheckInStatus.NOT_YOUR_EVENT and stranger.ticket is None
    assert (await services.store.tickets.get(ticket.id)).checked_in_at is None
    assert (await services.checkin.check_in(ticket.id, acct(ADMIN_ID))).status == CheckInStatus.CHECKED_IN


async def test_void_ticket_is_refused(services: Services) -> None:
    ticket = (await paid_ticket(services))[0]
    await services.orders.refund(ticket.order_id)
    result = await services.checkin.check_in(ticket.id, acct(ORGANISER_ID))
    assert result.status == CheckInStatus.VOID
    assert (await services.store.tickets.get(ticket.id)).checked_in_at is None
