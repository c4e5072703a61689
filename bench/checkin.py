"""checkin: the door. T paid tickets (written straight into the store through the storage layer) are scanned by
S door staff at once through `CheckInService.check_in` — as the deep link a phone camera reads from the QR, or
as the code typed by hand (lower case, with dashes) for every tenth. Then D tickets already in are scanned
again: the double-scan answer ("already checked in at HH:MM by ...") must be as quick and must not check in
twice."""

from __future__ import annotations

import argparse
import asyncio
import random
from datetime import UTC, datetime

from bench.common import (
    FIRST_BUYER_ID,
    ORGANISER_ID,
    Result,
    StoreInfo,
    TierDef,
    add_event,
    buyer,
    invariant_problems,
    ms,
    now_perf,
    percentile,
    rate,
    services_for,
)
from bot.checkin import CheckInStatus
from bot.tickets import deep_link, format_code, new_code
from storage.documents import OrderDoc, OrderLine, OrderStatus, TicketDoc, tier_key

HELP = "check-ins per second through the service, and the double-scan answer time"
EVENT = "bench-door"
TIER = "GA"
BOT = "KarcisBot"
CHUNK = 500  # documents per insert_many: one round trip each, well inside a server's socket timeout


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tickets", type=int, default=1_000, help="T: tickets sold (and scanned once each)")
    p.add_argument("--scanners", type=int, default=4, help="S: door staff scanning at the same time")
    p.add_argument("--double-scans", type=int, default=200, help="D: tickets scanned a second time")


STAFF = f"telegram:{ORGANISER_ID}"  # the organiser's account


async def _seed(services: object, store: StoreInfo, tickets: int) -> list[str]:
    """T one-seat paid orders with their tickets and the tier's stock, as `pay` would have left them."""
    await add_event(services, EVENT, [TierDef(TIER, 150_000, tickets)])  # type: ignore[arg-type]
    db = store.store.db
    await db["inventory"].update_one({"_id": tier_key(EVENT, TIER)},
                                     {"$inc": {"available": -tickets, "sold": tickets}})
    now = datetime.now(UTC).replace(microsecond=0)
    orders, docs, codes = [], [], []
    for i in range(tickets):
        order = OrderDoc(
            id=f"KRC-BENCH-{i:08d}", user_id=FIRST_BUYER_ID + i, event_id=EVENT,
            lines=[OrderLine(tier=TIER, name=f"Tier {TIER}", price=150_000, qty=1)], seats=1, total=150_000,
            buyer=buyer(i), status=OrderStatus.PAID, created_at=now, expires_at=now, updated_at=now, paid_at=now,
        )
        code = new_code()
        codes.append(code)
        orders.append(order.to_mongo())
        docs.append(TicketDoc(id=code, order_id=order.id, seq=1, event_id=EVENT, tier=TIER, tier_name=f"Tier {TIER}",
                              holder_name=order.buyer.name, user_id=order.user_id, issued_at=now).to_mongo())
    for start in range(0, tickets, CHUNK):
        await db["orders"].insert_many(orders[start:start + CHUNK])
        await db["tickets"].insert_many(docs[start:start + CHUNK])
    return codes


def _scanned_as(i: int, code: str) -> str:
    """What reaches the service: the QR's deep link, or (every tenth) the code as a person types it."""
    return format_code(code).lower() if i % 10 == 9 else deep_link(BOT, code)


async def run(args: argparse.Namespace, store: StoreInfo) -> Result:
    services = services_for(store.store)
    codes = await _seed(services, store, args.tickets)
    order = list(range(len(codes)))
    random.Random(7).shuffle(order)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in order:
        queue.put_nowait(i)
    latencies: list[float] = []
    outcomes: dict[str, int] = {}

    async def scanner() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            began = now_perf()
            result = await services.checkin.check_in(_scanned_as(i, codes[i]), STAFF)
            latencies.append(now_perf() - began)
            outcomes[result.status.value] = outcomes.get(result.status.value, 0) + 1

    began = now_perf()
    await asyncio.gather(*(scanner() for _ in range(args.scanners)))
    seconds = now_perf() - began

    doubles: list[float] = []
    double_ok = True
    for i in order[: min(args.double_scans, len(codes))]:
        t0 = now_perf()
        result = await services.checkin.check_in(deep_link(BOT, codes[i]), STAFF)
        doubles.append(now_perf() - t0)
        double_ok &= result.status == CheckInStatus.ALREADY_CHECKED_IN and result.checked_in_by == STAFF

    checked = await store.store.db["tickets"].count_documents({"event_id": EVENT, "checked_in_at": {"$ne": None}})
    once = outcomes.get(CheckInStatus.CHECKED_IN.value, 0) == len(codes) == checked
    problems = await invariant_problems(services)
    fields = {
        "checkins": len(codes),
        "seconds": round(seconds, 3),
        "per_second": rate(len(codes), seconds),
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": ms(percentile(latencies, 99)),
        "double_scans": len(doubles),
        "double_scan_p50_ms": ms(percentile(doubles, 50)),
        "double_scan_p99_ms": ms(percentile(doubles, 99)),
        "double_scan_ok": double_ok,
        "checked_in_once": once,
        "invariant_ok": not problems,
        "outcomes": outcomes,
    }
    rows = [("check-ins", len(codes)), ("scanners at once", args.scanners), ("seconds", round(seconds, 3)),
            ("per_second", fields["per_second"]), ("scan p50 ms", fields["p50_ms"]),
            ("scan p99 ms", fields["p99_ms"]), ("double scans", len(doubles)),
            ("double-scan p50 ms", fields["double_scan_p50_ms"]),
            ("double-scan p99 ms", fields["double_scan_p99_ms"]),
            ("double scans answered 'already checked in'", double_ok),
            ("every ticket checked in exactly once", once), ("invariant_ok", not problems)]
    return Result("checkin", {"tickets": args.tickets, "scanners": args.scanners,
                              "double_scans": args.double_scans}, fields, rows, notes=problems[:10])
