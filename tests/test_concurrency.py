"""Many buyers at once: no seat is ever sold twice, a refused reservation holds nothing, and of several calls
racing to move one pending order out of `pending` exactly one wins and moves its stock exactly once.

Both backends. mongomock-motor's coroutines never suspend (each wraps a synchronous mongomock call), so on the
in-memory store `asyncio.gather` would simply run the calls one after the other. There the tests run over
`_interleaving`, a thin proxy that yields to the event loop (a seeded random number of times) before and after
every database call, so the calls really interleave between their writes, as they do over TCP.

Speed: the embedded store finds documents by `_id` without a scan (storage/embedded.py). The
mongoeco wire server scans the collection on every upsert too, which no test can patch, so against mongoeco the
rushes keep the same seats-to-buyers ratio with a quarter of the buyers (`_rush_buyers`); with
MONGODB_TEST_URI (a real MongoDB) they run at full size.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bot.config import Settings
from bot.errors import OrderNotPending, RefusalReason, ReservationRefused
from bot.event_file import parse_events
from bot.orders import PayResult
from bot.services import Services, build_services
from storage.documents import OrderDoc, OrderStatus, TicketStatus, tier_key
from storage.store import Store
from tests.conftest import ORGANISER_ID, FakeClock
from tests.helpers import acct, assert_invariant, buyer

Pause = Callable[[], Awaitable[None]]


# ---- making the in-memory backend interleave -------------------------------------------------------------------


def _pauser(seed: int) -> Pause:
    rng = random.Random(seed)

    async def pause() -> None:
        for _ in range(rng.randint(0, 2)):
            await asyncio.sleep(0)

    return pause


class _Proxy:
    """Delegates everything to `inner`; coroutine methods yield to the loop before and after the real call, and
    cursors that methods return are wrapped too (so `find(...).sort(...)` and `async for` interleave)."""

    def __init__(self, inner: Any, pause: Pause) -> None:
        self._inner = inner
        self._pause = pause

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if inspect.iscoroutinefunction(attr):
            async def call(*args: Any, **kwargs: Any) -> Any:
                await self._pause()
                result = await attr(*args, **kwargs)
                await self._pause()
                return result
            return call
        if callable(attr) and not isinstance(attr, type):
            def call_sync(*args: Any, **kwargs: Any) -> Any:
                result = attr(*args, **kwargs)
                return _Cursor(result, self._pause) if hasattr(result, "__anext__") else result
            return call_sync
        return attr


class _Cursor(_Proxy):
    def __aiter__(self) -> Any:
        return self._iterate()

    async def _iterate(self) -> Any:
        await self._pause()
        async for item in self._inner:
            yield item
        await self._pause()


class _Database(_Proxy):
    def __getitem__(self, name: str) -> _Proxy:
        return _Proxy(self._inner[name], self._pause)


def _interleaving(services: Services, settings: Settings, clock: FakeClock, seed: int) -> Services:
    """The same services over the same data; on the in-memory store, with every database call interleaving."""
    if not services.store.embedded:
        return services
    store = Store(db=_Database(services.store.db, _pauser(seed)), embedded=True)
    return build_services(settings, store, clock=clock)


def _rush_buyers(services: Services) -> int:
    """2,000 buyers, except against mongoeco (quadratic upserts, see the module docstring): 500."""
    return 2_000 if services.store.embedded or os.environ.get("MONGODB_TEST_URI") else 500


# ---- helpers ---------------------------------------------------------------------------------------------------


async def _create_event(services: Services, event_id: str, tiers: dict[str, int], *, max_per_order: int = 4) -> None:
    specs = parse_events({"events": [{
        "id": event_id,
        "title": f"Concurrency test {event_id}",
        "venue": "Gelora Bung Karno, Jakarta",
        "starts_at": datetime(2027, 3, 1, 12, 0, tzinfo=UTC),
        "ends_at": datetime(2027, 3, 1, 16, 0, tzinfo=UTC),
        "organisers": [ORGANISER_ID],
        "tiers": [{"code": code, "name": f"Tier {code}", "price": 100_000, "capacity": capacity,
                   "max_per_order": max_per_order} for code, capacity in tiers.items()],
    }]})
    await services.catalog.import_events(specs)


async def _pending_orders(services: Services, event_id: str) -> list[OrderDoc]:
    return [o for o in await services.store.orders.with_status([OrderStatus.PENDING]) if o.event_id == event_id]


async def _orders_of(services: Services, user_id: int) -> list[OrderDoc]:
    return await services.store.orders.for_user(acct(user_id))


async def _assert_user_clean(services: Services, user_id: int) -> None:
    """A refused reservation: no order, and the user's slot given back (no pending order, no reservation counted)."""
    assert await _orders_of(services, user_id) == []
    user = await services.store.users.get(acct(user_id))  # None: refused before claiming anything
    assert user is None or (user.pending_orders, user.recent_reservations) == (0, []), user


# ---- many buyers, one tier -------------------------------------------------------------------------------------


async def test_2000_buyers_for_100_seats(services: Services, settings: Settings, clock: FakeClock) -> None:
    event_id = "rush-hundred"
    buyers = _rush_buyers(services)
    seats = buyers // 20  # 100 seats for 2,000 buyers
    await _create_event(services, event_id, {"GA": seats}, max_per_order=1)
    racing = _interleaving(services, settings, clock, seed=2000)
    users = list(range(1_000_000, 1_000_000 + buyers))

    results = await asyncio.gather(
        *(racing.orders.reserve(acct(u), event_id, {"GA": 1}, buyer()) for u in users), return_exceptions=True
    )

    held = {u: r for u, r in zip(users, results, strict=True) if isinstance(r, OrderDoc)}
    refused = {u: r for u, r in zip(users, results, strict=True) if isinstance(r, ReservationRefused)}
    unexpected = [r for r in results if not isinstance(r, OrderDoc | ReservationRefused)]
    assert unexpected == []
    assert len(held) == seats
    assert len(refused) == buyers - seats
    assert {r.reason for r in refused.values()} == {RefusalReason.SOLD_OUT}
    assert {r.tier for r in refused.values()} == {"GA"}
    assert all(o.status == OrderStatus.PENDING and o.seats == 1 for o in held.values())
    assert len({o.id for o in held.values()}) == seats

    tier = await services.store.inventory.get(tier_key(event_id, "GA"))
    assert tier is not None
    assert (tier.capacity, tier.available, tier.pending, tier.sold) == (seats, 0, seats, 0)
    pending = await _pending_orders(services, event_id)
    assert sorted(o.user_id for o in pending) == sorted(acct(u) for u in held)
    counts = await services.store.users.pending_counts()
    assert {u: counts.get(acct(u), 0) for u in users} == {u: int(u in held) for u in users}
    for user_id in random.Random(7).sample(sorted(refused), 50):
        await _assert_user_clean(services, user_id)
    await assert_invariant(services)


# ---- many buyers, two tiers, mixed baskets ---------------------------------------------------------------------


async def test_2000_buyers_mixed_baskets_over_two_tiers(
    services: Services, settings: Settings, clock: FakeClock
) -> None:
    event_id = "rush-mixed"
    buyers = _rush_buyers(services)
    capacity = {"A": buyers // 40, "B": buyers // 40}  # 50 + 50 seats for 2,000 buyers
    await _create_event(services, event_id, capacity, max_per_order=2)
    racing = _interleaving(services, settings, clock, seed=4242)
    rng = random.Random(20261201)
    users = list(range(2_000_000, 2_000_000 + buyers))
    baskets: dict[int, dict[str, int]] = {}
    for user_id in users:
        kind = rng.choice(["A", "B", "AB"])
        baskets[user_id] = {code: rng.randint(1, 2) for code in kind}

    results = await asyncio.gather(
        *(racing.orders.reserve(acct(u), event_id, baskets[u], buyer()) for u in users), return_exceptions=True
    )

    held = {u: r for u, r in zip(users, results, strict=True) if isinstance(r, OrderDoc)}
    refused = {u: r for u, r in zip(users, results, strict=True) if isinstance(r, ReservationRefused)}
    unexpected = [r for r in results if not isinstance(r, OrderDoc | ReservationRefused)]
    assert unexpected == []
    assert len(held) + len(refused) == len(users)
    assert {r.reason for r in refused.values()} == {RefusalReason.SOLD_OUT}
    assert all(r.tier in baskets[u] for u, r in refused.items())
    assert held, "somebody must have got seats"
    # every kind of basket, multi-tier ones included, was refused at least once: the release path ran
    assert {"".join(sorted(baskets[u])) for u in refused} == {"A", "B", "AB"}

    # every held order is exactly the basket asked for
    for user_id, order in held.items():
        assert {line.tier: line.qty for line in order.lines} == baskets[user_id]
        assert order.seats == sum(baskets[user_id].values())

    # no tier oversold; the stock counters are exactly the seats of the pending orders
    pending = await _pending_orders(services, event_id)
    assert {o.id for o in pending} == {o.id for o in held.values()}
    for code, cap in capacity.items():
        tier = await services.store.inventory.get(tier_key(event_id, code))
        assert tier is not None
        in_orders = sum(line.qty for o in pending for line in o.lines if line.tier == code)
        assert tier.sold == 0
        assert tier.pending == in_orders <= cap, (tier, in_orders)
        assert tier.available == cap - in_orders >= 0, tier

    # each refused order (multi-tier ones included: the first tier's hold went back) held nothing
    multi_tier_refused = [u for u in refused if len(baskets[u]) == 2]
    assert multi_tier_refused
    for user_id in multi_tier_refused + rng.sample(sorted(refused), 30):
        await _assert_user_clean(services, user_id)
    counts = await services.store.users.pending_counts()
    assert {u: counts.get(acct(u), 0) for u in users} == {u: int(u in held) for u in users}
    await assert_invariant(services)


# ---- one pending order, several racers -------------------------------------------------------------------------

LEAVERS = {"cancel": OrderStatus.CANCELLED, "expire": OrderStatus.EXPIRED, "fail": OrderStatus.FAILED,
           "pay": OrderStatus.PAID}


async def _race(racing: Services, order: OrderDoc, contenders: list[str], rng: random.Random) -> dict[str, Any]:
    """Run the contenders at once on `order`, each after a random head start (so each gets to win sometimes);
    what each returned (or raised)."""
    starts = {name: rng.randint(0, 6) for name in contenders}

    async def after_start(name: str) -> Any:
        for _ in range(starts[name]):
            await asyncio.sleep(0 if racing.store.embedded else 0.0005)
        return await calls[name]()

    calls = {
        "cancel": lambda: racing.orders.cancel(order.id, acct(order.user_id)),
        "expire": lambda: racing.orders.expire_due(),
        "fail": lambda: racing.orders.fail(order.id, note="payment denied"),
        "pay": lambda: racing.orders.pay(order.id, note="settlement"),
    }
    outcomes = await asyncio.gather(*(after_start(name) for name in contenders), return_exceptions=True)
    return dict(zip(contenders, outcomes, strict=True))


def _winners(order: OrderDoc, outcomes: dict[str, Any]) -> list[str]:
    """The contenders that moved the order out of `pending` themselves."""
    won = []
    for name, outcome in outcomes.items():
        if isinstance(outcome, BaseException) and not isinstance(outcome, OrderNotPending):
            raise outcome
        if _moved_it(order, name, outcome):
            won.append(name)
    return won


def _moved_it(order: OrderDoc, name: str, outcome: Any) -> bool:
    """Whether this contender's call is the one that took `order` out of `pending`."""
    if name == "cancel":
        return isinstance(outcome, OrderDoc)
    if name == "expire":
        return order.id in {o.id for o in outcome.orders}
    if name == "fail":
        return outcome is not None
    return bool(outcome.result is PayResult.PAID)


async def _race_rounds(
    services: Services, settings: Settings, clock: FakeClock, *, with_pay: bool, rounds: int
) -> Counter[str]:
    event_id = "race-pay" if with_pay else "race-release"
    await _create_event(services, event_id, {"A": 5, "B": 5}, max_per_order=2)
    contenders = ["cancel", "expire", "fail"] + (["pay"] if with_pay else [])
    tally: Counter[str] = Counter()
    sold = {"A": 0, "B": 0}
    for n in range(rounds):
        racing = _interleaving(services, settings, clock, seed=n)
        user_id = 3_000_000 + n
        order = await services.orders.reserve(acct(user_id), event_id, {"A": 1, "B": 2}, buyer())
        clock.advance(minutes=31)  # past the order's expiry, so expire_due takes part
        order_of_play = contenders[n % len(contenders):] + contenders[:n % len(contenders)]

        outcomes = await _race(racing, order, order_of_play, random.Random(n))

        winners = _winners(order, outcomes)
        assert len(winners) == 1, (winners, outcomes)
        winner = winners[0]
        tally[winner] += 1
        final = await services.store.orders.get(order.id)
        assert final is not None
        # the first (and only) move out of pending is the winner's
        assert final.history[0].status == LEAVERS[winner], final.history
        for name, outcome in outcomes.items():
            if name == winner:
                continue
            if name == "cancel":
                assert isinstance(outcome, OrderNotPending)
            elif name == "fail":
                assert outcome is None
            elif name == "expire":
                assert order.id not in {o.id for o in outcome.orders}
            elif name == "pay":
                # money for a released order: its seats are still free, so it is paid late
                assert outcome.result is PayResult.PAID_LATE, outcome
        if with_pay:
            # the pay racer always ends with the order paid: either it won, or it re-held the released seats
            assert final.status == OrderStatus.PAID
            assert [h.status for h in final.history] == (
                [OrderStatus.PAID] if winner == "pay" else [LEAVERS[winner], OrderStatus.PAID])
            tickets = await services.tickets.for_order(order.id)
            assert len(tickets) == 3 and all(t.status == TicketStatus.VALID for t in tickets)
            sold["A"] += 1
            sold["B"] += 2
        else:
            assert final.status == LEAVERS[winner]
            assert len(final.history) == 1
            assert await services.tickets.for_order(order.id) == []

        # the stock moved exactly once: nothing left pending, nothing released twice
        for code in ("A", "B"):
            tier = await services.store.inventory.get(tier_key(event_id, code))
            assert tier is not None
            assert (tier.available, tier.pending, tier.sold) == (5 - sold[code], 0, sold[code]), tier
        user = await services.store.users.get(acct(user_id))
        assert user is not None and user.pending_orders == 0, user
        await assert_invariant(services)

        if with_pay and sold["B"] + 2 > 5:  # make room for the next round
            for paid in await services.store.orders.with_status([OrderStatus.PAID]):
                if paid.event_id == event_id:
                    assert await services.orders.refund(paid.id) is not None
            sold = {"A": 0, "B": 0}
            await assert_invariant(services)
    return tally


async def test_cancel_expire_fail_race_exactly_one_wins(
    services: Services, settings: Settings, clock: FakeClock
) -> None:
    tally = await _race_rounds(services, settings, clock, with_pay=False, rounds=12)
    assert sum(tally.values()) == 12
    if services.store.embedded:  # seeded interleavings (deterministic): every racer gets to win at least once
        assert set(tally) == {"cancel", "expire", "fail"}, tally


async def test_cancel_expire_fail_pay_race_exactly_one_wins(
    services: Services, settings: Settings, clock: FakeClock
) -> None:
    tally = await _race_rounds(services, settings, clock, with_pay=True, rounds=12)
    assert sum(tally.values()) == 12
    if services.store.embedded:
        assert set(tally) == {"cancel", "expire", "fail", "pay"}, tally


async def test_interleaving_proxy_really_interleaves(
    mem_services: Services, settings: Settings, clock: FakeClock
) -> None:
    """Guard for the harness itself: over the proxy, two reservations overlap (the second starts before the first
    has finished), which plain mongomock-motor never does."""
    services = mem_services
    racing = _interleaving(services, settings, clock, seed=1)
    await _create_event(services, "proxy-check", {"A": 10})
    trace: list[str] = []

    async def reserve(user_id: int) -> None:
        trace.append(f"start {user_id}")
        await racing.orders.reserve(acct(user_id), "proxy-check", {"A": 1}, buyer())
        trace.append(f"end {user_id}")

    await asyncio.gather(reserve(1), reserve(2))
    assert trace.index("start 2") < trace.index("end 1"), trace
    await assert_invariant(services)
