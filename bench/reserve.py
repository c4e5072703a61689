"""reserve: N buyers (distinct Telegram users) press "buy" at once for one seat each of a tier with M seats,
through the sales core's `OrderService.reserve` — the per-user limits, the conditional `$inc` hold, the order
insert. Every attempt runs as its own task, all started together. Afterwards the stock is checked: no seat
held twice (`oversold` = 0) and the invariant (capacity = available + pending + sold, pending = Σ pending
orders' seats) intact."""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter

from bench.common import (
    FIRST_BUYER_ID,
    Result,
    StoreInfo,
    TierDef,
    add_event,
    buyer,
    invariant_problems,
    now_perf,
    rate,
    services_for,
)
from bot.errors import ReservationRefused
from storage.documents import tier_key

HELP = "N concurrent buyers on M seats through the sales-core reserve"
EVENT = "bench-onsale"
TIER = "GA"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--buyers", type=int, default=10_000, help="N: concurrent buyers, one attempt each")
    p.add_argument("--seats", type=int, default=1_000, help="M: seats in the tier")


async def run(args: argparse.Namespace, store: StoreInfo) -> Result:
    services = services_for(store.store)
    await add_event(services, EVENT, [TierDef(TIER, 150_000, args.seats, max_per_order=4)])
    outcomes: Counter[str] = Counter()
    buyers = [(f"telegram:{FIRST_BUYER_ID + i}", buyer(i)) for i in range(args.buyers)]

    async def attempt(user_id: str, who: object) -> None:
        try:
            await services.orders.reserve(user_id, EVENT, {TIER: 1}, who)  # type: ignore[arg-type]
        except ReservationRefused as refusal:
            outcomes[refusal.reason.value] += 1
        else:
            outcomes["reserved"] += 1

    began = now_perf()
    await asyncio.gather(*(attempt(u, b) for u, b in buyers))
    seconds = now_perf() - began

    tier = await store.store.inventory.get(tier_key(EVENT, TIER))
    assert tier is not None
    reserved = outcomes.pop("reserved", 0)
    problems = await invariant_problems(services)
    held = tier.pending + tier.sold
    oversold = max(0, reserved - args.seats, held - tier.capacity)
    if reserved != held:
        problems.append(f"{reserved} reservations succeeded but the tier holds {held}")
    fields = {
        "attempts": args.buyers,
        "reserved": reserved,
        "oversold": oversold,
        "invariant_ok": not problems,
        "seconds": round(seconds, 3),
        "per_second": rate(args.buyers, seconds),
        "refused": dict(sorted(outcomes.items())),
        "tier_after": {"capacity": tier.capacity, "available": tier.available, "pending": tier.pending,
                       "sold": tier.sold},
        "target_per_second": 5000,
        "target_met": oversold == 0 and not problems and rate(args.buyers, seconds) >= 5000,
    }
    rows = [
        ("attempts", args.buyers), ("reserved", reserved), ("oversold", oversold),
        ("invariant_ok", not problems), ("seconds", round(seconds, 3)),
        ("per_second", fields["per_second"]), ("µs per attempt", round(seconds / max(args.buyers, 1) * 1e6, 1)),
        *((f"refused: {k}", v) for k, v in sorted(outcomes.items())),
        ("target", "0 oversold, >= 5,000 attempts/s on the in-memory store"),
        ("target_met", fields["target_met"]),
    ]
    return Result("reserve", {"buyers": args.buyers, "seats": args.seats}, fields, rows,
                  notes=problems[:10])
