"""webhook: Midtrans settlements over real HTTP on 127.0.0.1, through the whole notification endpoint of the
aiohttp app (`webhooks.app.create_app`): body limits, SHA-512 signature, the status API asked of the Midtrans
simulator through midtransclient (in a worker thread, over HTTP), the transition pending → paid, the stock
move, ticket issue, the payment log, and the delivery job started in the background (to a notifier that accepts
everything: Telegram is the `delivery` benchmark's business).

The baseline, in the same run and with the same client (C concurrent connections), is a bare aiohttp handler
on 127.0.0.1 that reads the body and answers 200. It runs before and after Karcis's endpoint; `bare_per_second`
is the mean of the two, so a machine that got busier meanwhile shows up as a gap between them.

N pending orders (one seat, one buyer each) are written straight into the store through the storage layer, and
their Snap transactions created and settled in the simulator in-process, so that only the notifications are
timed. The client and the app share this process and its event loop; the Midtrans simulator is served by its
own event loop in a thread of this process, standing in for a server elsewhere."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from bench.common import (
    FIRST_BUYER_ID,
    NullNotifier,
    Result,
    StoreInfo,
    TierDef,
    add_event,
    buyer,
    invariant_problems,
    midtrans_elsewhere,
    ms,
    now_perf,
    percentile,
    rate,
    services_for,
)
from bot.midtrans import MidtransGateway
from bot.sandbox.midtrans import MidtransSimulator
from storage.documents import OrderDoc, OrderLine, OrderStatus, ReservationClaim, UserDoc, tier_key
from webhooks.app import create_app
from webhooks.keys import BACKGROUND
from webhooks.payment_notifications import PATH

HELP = "signed Midtrans settlements over HTTP through the whole endpoint, against a bare aiohttp handler"
EVENT = "bench-pay"
TIER = "GA"
PRICE = 150_000
SERVER_KEY = "SB-Mid-server-karcis-bench"
WARMUP = 20


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--notifications", type=int, default=1_000, help="N: settlements sent (one per order)")
    p.add_argument("--concurrency", type=int, default=50, help="C: concurrent client connections")


async def seed_pending_orders(services: Any, store: StoreInfo, count: int, *, prefix: str, first_user: int,
                              lines: list[OrderLine] | None = None, event: str = EVENT) -> list[OrderDoc]:
    """`count` pending orders with their buyers' counters and the tier's stock, as `reserve` leaves them."""
    lines = lines or [OrderLine(tier=TIER, name=f"Tier {TIER}", price=PRICE, qty=1)]
    seats = sum(line.qty for line in lines)
    db = store.store.db
    for line in lines:
        await db["inventory"].update_one({"_id": tier_key(event, line.tier)},
                                         {"$inc": {"available": -count * line.qty, "pending": count * line.qty}})
    now = datetime.now(UTC).replace(microsecond=0)
    orders = [OrderDoc(
        id=f"KRC-{prefix}-{i:07d}", user_id=f"telegram:{first_user + i}", event_id=event, lines=lines, seats=seats,
        total=sum(line.amount for line in lines), buyer=buyer(i), status=OrderStatus.PENDING, created_at=now,
        expires_at=now + timedelta(minutes=30), updated_at=now,
    ) for i in range(count)]
    if orders:
        await db["orders"].insert_many([o.to_mongo() for o in orders])
        await db["users"].insert_many([  # the reservation's claim as `claim_reservation_slot` records it
            UserDoc(id=o.user_id, pending_orders=1, last_buyer=o.buyer,
                    recent_reservations=[ReservationClaim(at=o.created_at, claim=f"{i:016x}")]).to_mongo()
            for i, o in enumerate(orders)
        ])
    return orders


def settled_notification(sim: MidtransSimulator, order: OrderDoc) -> bytes:
    """Create the order's Snap transaction in the simulator, settle it, and return Midtrans's signed body."""
    sim.state.create_transaction({
        "transaction_details": {"order_id": order.id, "gross_amount": order.total},
        "item_details": [{"id": line.tier, "price": line.price, "quantity": line.qty, "name": line.name}
                         for line in order.lines],
        "customer_details": {"first_name": order.buyer.name, "email": order.buyer.email},
    })
    sim.state.set_status(order.id, "settlement", payment_type="bank_transfer")
    return json.dumps(sim.state.notification_body(order.id)).encode()


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def blast(url: str, bodies: list[bytes], concurrency: int) -> tuple[float, list[float], dict[int, int]]:
    """POST every body to `url` over `concurrency` connections; (seconds, latencies, answers by status)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    pending = iter(bodies)
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def client() -> None:
            for body in pending:
                began = now_perf()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                latencies.append(now_perf() - began)
                statuses[response.status] = statuses.get(response.status, 0) + 1

        began = now_perf()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return now_perf() - began, latencies, statuses


async def bare_app() -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post(PATH, handler)
    return app


async def run(args: argparse.Namespace, store: StoreInfo) -> Result:
    count, concurrency = args.notifications, args.concurrency
    notifier = NullNotifier()
    async with midtrans_elsewhere(SERVER_KEY) as sim:
        gateway = MidtransGateway(SERVER_KEY, snap_base_url=sim.snap_base_url, api_base_url=sim.api_base_url,
                                  timeout=10.0)
        services = services_for(store.store, gateway=gateway, notifier=notifier)
        await add_event(services, EVENT, [TierDef(TIER, PRICE, count + WARMUP)])
        warm = await seed_pending_orders(services, store, WARMUP, prefix="WARM", first_user=FIRST_BUYER_ID)
        orders = await seed_pending_orders(services, store, count, prefix="BENCH",
                                           first_user=FIRST_BUYER_ID + WARMUP)
        warm_bodies = [settled_notification(sim, o) for o in warm]
        bodies = [settled_notification(sim, o) for o in orders]

        bare_runner, bare_url = await serve(await bare_app())
        app = create_app(services, services.payments, services.delivery)
        karcis_runner, karcis_url = await serve(app)
        sim.notification_url = karcis_url + PATH
        try:
            await blast(bare_url + PATH, warm_bodies, min(concurrency, WARMUP))
            await blast(karcis_url + PATH, warm_bodies, min(concurrency, WARMUP))
            await app[BACKGROUND].drain()
            bare1, bare_lat1, bare_status1 = await blast(bare_url + PATH, bodies, concurrency)
            seconds, latencies, statuses = await blast(karcis_url + PATH, bodies, concurrency)
            drain_began = now_perf()
            await app[BACKGROUND].drain(timeout=120)
            drain_seconds = now_perf() - drain_began
            bare2, bare_lat2, bare_status2 = await blast(bare_url + PATH, bodies, concurrency)
        finally:
            await karcis_runner.cleanup()
            await bare_runner.cleanup()

    paid = await store.store.db["orders"].count_documents({"_id": {"$regex": "^KRC-BENCH-"},
                                                          "status": OrderStatus.PAID.value})
    tickets = await store.store.db["tickets"].count_documents({"event_id": EVENT})
    problems = await invariant_problems(services)
    if statuses.get(200, 0) != count or paid != count or tickets != count + WARMUP:
        problems.append(f"answers {statuses}, {paid} of {count} orders paid, {tickets} tickets")
    per_second = rate(count, seconds)
    bare_per_second = round((rate(count, bare1) + rate(count, bare2)) / 2, 1)
    ratio = round(per_second / bare_per_second, 3) if bare_per_second else 0.0
    p99 = ms(percentile(latencies, 99))
    fields = {
        "per_second": per_second,
        "bare_per_second": bare_per_second,
        "ratio": ratio,
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": p99,
        "bare_p50_ms": ms(percentile(bare_lat1 + bare_lat2, 50)),
        "bare_p99_ms": ms(percentile(bare_lat1 + bare_lat2, 99)),
        "bare_runs_per_second": [rate(count, bare1), rate(count, bare2)],
        "notifications": count,
        "concurrency": concurrency,
        "answers": {str(k): v for k, v in statuses.items()},
        "bare_answers": {str(k): bare_status1.get(k, 0) + bare_status2.get(k, 0)
                         for k in {*bare_status1, *bare_status2}},
        "orders_paid": paid,
        "notices_delivered": notifier.count,
        "background_drain_seconds": round(drain_seconds, 3),
        "invariant_ok": not problems,
        "target": "ratio >= 0.3 and p99 < 50 ms at 50 concurrent clients",
        "target_met": ratio >= 0.3 and p99 < 50 and not problems,
    }
    section = [["Karcis endpoint", per_second, fields["p50_ms"], p99],
               ["bare aiohttp 200", bare_per_second, fields["bare_p50_ms"], fields["bare_p99_ms"]]]
    rows = [("ratio (Karcis / bare)", ratio), ("orders paid", paid), ("answers", fields["answers"]),
            ("deliveries finished after the last answer in (s)", fields["background_drain_seconds"]),
            ("invariant_ok", not problems), ("target", fields["target"]), ("target_met", fields["target_met"])]
    return Result("webhook", {"notifications": count, "concurrency": concurrency}, fields, rows,
                  notes=problems[:10],
                  sections=[(f"{count:,} POSTs, {concurrency} concurrent clients",
                             ["endpoint", "per second", "p50 ms", "p99 ms"], section)])
