"""expiry: the sweep that releases unpaid holds. For each size P/D, P pending orders (one seat each, one buyer
each) are written straight into the store through the storage layer, D of them past their `expires_at`; then one
`OrderService.expire_due(now)` is timed, and a second, idle sweep (nothing left due: what runs every
EXPIRY_SWEEP_SECONDS most of the time). The cost should follow D, not P: the time per due order at 100k/1k
should be within 2x of 10k/100."""

from __future__ import annotations

import argparse
import copy
import random
from datetime import UTC, datetime, timedelta

from bench.common import FIRST_BUYER_ID, Result, StoreInfo, TierDef, add_event, buyer, ms, now_perf, services_for
from bot.tickets import ALPHABET
from storage.documents import OrderDoc, OrderLine, OrderStatus, ReservationClaim, UserDoc, tier_key
from storage.store import Store

HELP = "the expiry sweep with P pending orders of which D are due"
EVENT = "bench-expiry"
TIER = "GA"
CHUNK = 500  # documents per insert_many: one round trip each, well inside a server's socket timeout
COLLECTIONS = ("events", "inventory", "orders", "users", "tickets", "payment_log")


def _sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for part in text.split(","):
        pending, _, due = part.partition("/")
        sizes.append((int(pending), int(due)))
        if not 0 <= int(due) <= int(pending):
            raise argparse.ArgumentTypeError(f"{part}: D must be between 0 and P")
    return sizes


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", type=_sizes, default=_sizes("10000/100,100000/1000"),
                   help="comma-separated P/D pairs: pending orders / of which due")


async def _reset(store: Store) -> None:
    for name in COLLECTIONS:
        await store.db.drop_collection(name)
    await store.ensure_indexes()


async def _insert_many(collection: object, docs: list[dict]) -> None:
    for start in range(0, len(docs), CHUNK):
        await collection.insert_many(docs[start:start + CHUNK], ordered=False)  # type: ignore[attr-defined]


async def _seed(store: Store, pending: int, due: int, now: datetime) -> None:
    """P pending one-seat orders (D of them expired a minute ago, the rest expire in 20 minutes), the buyers'
    counters, and the tier's stock to match — as `reserve` would have left them."""
    services = services_for(store)
    await add_event(services, EVENT, [TierDef(TIER, 150_000, pending + 1_000)])
    tier = tier_key(EVENT, TIER)
    await store.db["inventory"].update_one({"_id": tier}, {"$inc": {"available": -pending, "pending": pending}})
    template = OrderDoc(
        id="x", user_id="telegram:1", event_id=EVENT,
        lines=[OrderLine(tier=TIER, name=f"Tier {TIER}", price=150_000, qty=1)],
        seats=1, total=150_000, buyer=buyer(0), status=OrderStatus.PENDING, created_at=now, expires_at=now,
        updated_at=now,
    ).to_mongo()
    user_template = UserDoc(id=0, pending_orders=1, last_buyer=buyer(0)).to_mongo()
    orders, users = [], []
    month = now.strftime("%y%m")
    rng = random.Random(pending * 7919 + due)  # ids in the product's format, made faster than new_order_id()
    # Spread the due orders evenly through the collection (not all at its start), so a sweep that scans would
    # have to look at everything to find them.
    step = pending / due if due else 0
    due_at = {int(k * step) for k in range(due)} if due else set()
    for i in range(pending):
        doc = copy.copy(template)
        doc["_id"] = f"KRC-{month}-" + "".join(rng.choices(ALPHABET, k=10))
        doc["user_id"] = f"telegram:{FIRST_BUYER_ID + i}"
        created = now - timedelta(minutes=31) if i in due_at else now - timedelta(minutes=10)
        doc["created_at"] = doc["updated_at"] = created
        doc["expires_at"] = created + timedelta(minutes=30)
        doc["history"] = []
        orders.append(doc)
        user = copy.copy(user_template)
        user["_id"] = f"telegram:{FIRST_BUYER_ID + i}"
        # the reservation's claim as `claim_reservation_slot` records it (`ReservationClaim{at, claim}`)
        user["recent_reservations"] = [ReservationClaim(at=created, claim=f"{i:016x}").model_dump()]
        users.append(user)
    await _insert_many(store.db["orders"], orders)
    await _insert_many(store.db["users"], users)


async def run(args: argparse.Namespace, store: StoreInfo) -> Result:
    sweeps = []
    problems: list[str] = []
    for pending, due in args.sizes:
        await _reset(store.store)
        now = datetime.now(UTC).replace(microsecond=0)
        began = now_perf()
        await _seed(store.store, pending, due, now)
        seed_seconds = now_perf() - began
        services = services_for(store.store)

        began = now_perf()
        report = await services.orders.expire_due(now)
        seconds = now_perf() - began
        began = now_perf()
        idle = await services.orders.expire_due(now)
        idle_seconds = now_perf() - began

        tier = await store.store.inventory.get(tier_key(EVENT, TIER))
        assert tier is not None
        if len(report.orders) != due or idle.orders:
            problems.append(f"{pending}/{due}: expired {len(report.orders)}, then {len(idle.orders)} more")
        if tier.pending != pending - due:
            problems.append(f"{pending}/{due}: tier pending {tier.pending}, expected {pending - due}")
        # The invariant, checked with counts (an aggregation over 100k orders on the embedded store takes
        # minutes): every order left pending holds its one seat, every expired one gave it back.
        orders = store.store.db["orders"]
        still = await orders.count_documents({"status": OrderStatus.PENDING.value})
        gone = await orders.count_documents({"status": OrderStatus.EXPIRED.value})
        if (still, gone) != (pending - due, due):
            problems.append(f"{pending}/{due}: {still} pending and {gone} expired orders after the sweep")
        if tier.capacity != tier.available + tier.pending + tier.sold or tier.pending != still:
            problems.append(f"{pending}/{due}: tier {tier.capacity} != {tier.available}+{tier.pending}+"
                            f"{tier.sold}, or pending != {still} pending orders")
        sweeps.append({
            "pending": pending, "due": due, "expired": len(report.orders), "seats_released": report.seats,
            "seconds": round(seconds, 4),
            "per_due_order_ms": ms(seconds / due) if due else None,
            "idle_sweep_seconds": round(idle_seconds, 4),
            "seed_seconds": round(seed_seconds, 2),
        })

    per_due = [s["per_due_order_ms"] for s in sweeps if s["per_due_order_ms"]]
    ratio = round(per_due[-1] / per_due[0], 2) if len(per_due) >= 2 and per_due[0] else None
    fields = {
        "sweeps": sweeps,
        "seconds_per_sweep": {f"{s['pending']}/{s['due']}": s["seconds"] for s in sweeps},
        "per_due_order_ms": {f"{s['pending']}/{s['due']}": s["per_due_order_ms"] for s in sweeps},
        "per_due_order_ratio": ratio,
        "invariant_ok": not problems,
        "target": "per due order, largest size within 2x of the smallest",
        "target_met": (ratio is not None and ratio <= 2.0 and not problems) if ratio is not None else None,
    }
    table = [[f"{s['pending']:,}/{s['due']:,}", s["expired"], s["seconds"], s["per_due_order_ms"] or "-",
              s["idle_sweep_seconds"], s["seed_seconds"]] for s in sweeps]
    rows = [("per_due_order_ratio (largest / smallest)", ratio if ratio is not None else "-"),
            ("invariant_ok", not problems), ("target", fields["target"]),
            ("target_met", fields["target_met"])]
    return Result(
        "expiry", {"sizes": ",".join(f"{p}/{d}" for p, d in args.sizes)}, fields, rows, notes=problems[:10],
        sections=[("sweeps", ["P/D", "expired", "sweep s", "ms/due order", "idle sweep s", "seed s"], table)],
    )
