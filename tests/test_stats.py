"""Stats per event and tier, by aggregation."""

from __future__ import annotations

from bot.services import Services
from tests.conftest import ORGANISER_ID
from tests.helpers import acct, buyer


async def test_stats_count_stock_revenue_and_check_ins(services: Services) -> None:
    paid = await services.orders.reserve(acct(1), "jazz-senja-2026", {"EARLY": 2, "VIP": 1}, buyer())
    tickets = (await services.orders.pay(paid.id)).tickets
    await services.orders.reserve(acct(2), "jazz-senja-2026", {"REG": 3}, buyer())
    refunded = await services.orders.reserve(acct(3), "jazz-senja-2026", {"EARLY": 1}, buyer())
    await services.orders.pay(refunded.id)
    await services.orders.refund(refunded.id)
    await services.checkin.check_in(tickets[0].id, acct(ORGANISER_ID))

    jazz = (await services.stats.stats(["jazz-senja-2026"]))[0]
    rows = {t.code: (t.capacity, t.available, t.pending, t.sold, t.revenue, t.checked_in) for t in jazz.tiers}
    assert rows == {
        "EARLY": (100, 98, 0, 2, 300_000, 1),
        "REG": (400, 397, 3, 0, 0, 0),
        "VIP": (50, 49, 0, 1, 750_000, 0),
    }
    assert [t.code for t in jazz.tiers] == ["EARLY", "REG", "VIP"]
    assert (jazz.sold, jazz.revenue, jazz.checked_in, jazz.capacity) == (3, 1_050_000, 1, 550)
    everything = await services.stats.stats()
    assert [s.event.id for s in everything] == ["jazz-senja-2026", "kecak-uluwatu-2027", "workshop-ui-bandung"]
    assert everything[1].revenue == 0 and everything[1].sold == 0
