"""What every benchmark shares: opening the store, wiring the services, a bench event, timing, machine facts,
and printing a result as a human table or as one JSON object."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import re
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import Settings
from bot.event_file import EventSpec
from bot.notifications import Notice
from bot.services import Services, build_services
from storage.documents import Buyer, OrderStatus
from storage.store import Store, close_store, open_store

ORGANISER_ID = 700000001
ADMIN_ID = 700000002
FIRST_BUYER_ID = 710000000


# ---- the machine -----------------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """The facts a result needs to be compared with another: cores, CPU, Python, and how busy the machine was."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 0
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "nproc": cores,
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
        "load_avg_at_start": load,
    }


# ---- timing ----------------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), by linear interpolation between the closest ranks; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


class LoopLagMonitor:
    """A ticker on the event loop: how late it wakes up is how long something held the loop.

    `async with LoopLagMonitor() as lag: ...` then `lag.max_ms`, `lag.p99_ms`."""

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.interval)
            self.lags.append(max(0.0, loop.time() - before - self.interval))

    async def __aenter__(self) -> LoopLagMonitor:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    @property
    def max_ms(self) -> float:
        return ms(max(self.lags, default=0.0))

    @property
    def p99_ms(self) -> float:
        return ms(percentile(self.lags, 99))


# ---- the store -------------------------------------------------------------------------------------------------


def redact_uri(uri: str) -> str:
    """A MongoDB URI fit to print: no user or password."""
    return re.sub(r"//[^@/]*@", "//***@", uri)


@dataclass
class StoreInfo:
    store: Store
    kind: str     # memory | mongoeco | mongodb
    label: str    # what the result says, never a password


@asynccontextmanager
async def opened_store(spec: str, *, event_listeners: Sequence[Any] = ()) -> AsyncIterator[StoreInfo]:
    """`memory`: the embedded in-memory store (what runs when MONGODB_URI is unset); `mongoeco`: a mongoeco wire
    server started for this run (needs .venv-mongoeco); anything else: a MongoDB URI. A database on a server is
    made for this run and dropped after it. `event_listeners` (pymongo monitoring) go on a server's client."""
    if spec == "memory":
        store = open_store(None, "karcis_bench")
        await store.ensure_indexes()
        try:
            yield StoreInfo(store, "memory", "memory (embedded mongomock-motor)")
        finally:
            close_store(store)
        return
    server = None
    if spec == "mongoeco":
        from tests.mongo_server import MongoecoServer, find_mongoeco_python

        python = find_mongoeco_python()
        if python is None:
            raise SystemExit("--store mongoeco needs .venv-mongoeco (run .ci/mongoeco-venv.sh) or "
                             "KARCIS_MONGOECO_PYTHON")
        server = MongoecoServer(python)
        uri = await asyncio.to_thread(server.start)
        kind, label = "mongoeco", "mongoeco wire server (memory engine) on 127.0.0.1"
    else:
        uri = spec
        kind, label = "mongodb", f"MongoDB at {redact_uri(uri)}"
    store = open_store(uri, f"karcis_bench_{uuid.uuid4().hex[:10]}", event_listeners=event_listeners)
    try:
        await store.ensure_indexes()
        yield StoreInfo(store, kind, label)
    finally:
        with contextlib.suppress(Exception):  # a failed cleanup must not hide the result
            await store.db.client.drop_database(store.db.name)
        close_store(store)
        if server is not None:
            await asyncio.to_thread(server.stop)


# ---- Midtrans, elsewhere ----------------------------------------------------------------------------------------


@asynccontextmanager
async def midtrans_elsewhere(server_key: str, **kwargs: Any) -> AsyncIterator[Any]:
    """The Midtrans simulator on 127.0.0.1, served by its own event loop in its own thread: it stands in for a
    server on another machine, so its work does not queue behind (or in front of) Karcis's on Karcis's loop.
    Its state (`sim.state`) may be prepared from this thread before the traffic starts."""
    from bot.sandbox.midtrans import MidtransSimulator

    ready = threading.Event()
    box: dict[str, Any] = {}

    def serve() -> None:
        loop = asyncio.new_event_loop()
        box["loop"] = loop
        try:
            box["sim"] = MidtransSimulator(server_key, **kwargs)
            loop.run_until_complete(box["sim"].start())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting side
            box["error"] = exc
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(box["sim"].stop())
        loop.close()

    thread = threading.Thread(target=serve, name="midtrans-simulator", daemon=True)
    thread.start()
    await asyncio.to_thread(ready.wait, 20)
    if "error" in box:
        raise box["error"]
    try:
        yield box["sim"]
    finally:
        box["loop"].call_soon_threadsafe(box["loop"].stop)
        await asyncio.to_thread(thread.join, 20)


# ---- services and data -----------------------------------------------------------------------------------------


def bench_settings() -> Settings:
    return Settings(_env_file=None, admin_ids=frozenset({ADMIN_ID}))  # type: ignore[call-arg]


class NullNotifier:
    """Accepts every notice (the benchmarks that do not measure Telegram must not wait on it)."""

    def __init__(self) -> None:
        self.count = 0

    async def notify(self, notice: Notice) -> None:
        self.count += 1


def services_for(store: Store, **kwargs: Any) -> Services:
    return build_services(bench_settings(), store, **kwargs)


def buyer(n: int) -> Buyer:
    return Buyer(name=f"Pembeli {n}", email=f"pembeli{n}@example.com", phone="+6281234567890")


@dataclass(frozen=True)
class TierDef:
    code: str
    price: int
    capacity: int
    max_per_order: int = 10


async def add_event(services: Services, event_id: str, tiers: Iterable[TierDef], *,
                    title: str = "Konser Benchmark", starts_in: timedelta = timedelta(days=60)) -> None:
    """An event on sale now (it starts in 60 days, or `starts_in`), with the bench organiser, through the catalog."""
    starts = datetime.now(UTC).replace(microsecond=0) + starts_in
    spec = EventSpec.model_validate({
        "id": event_id, "title": title, "description": "An event made by the benchmark suite.",
        "venue": "Gelora Bung Karno, Jakarta", "starts_at": starts, "ends_at": starts + timedelta(hours=4),
        "organisers": [ORGANISER_ID],
        "tiers": [{"code": t.code, "name": f"Tier {t.code}", "price": t.price, "capacity": t.capacity,
                   "max_per_order": t.max_per_order} for t in tiers],
    })
    await services.catalog.import_events([spec])


async def invariant_problems(services: Services) -> list[str]:
    """The sales-core invariant, per tier: capacity = available + pending + sold, pending and sold equal the
    seats of pending and paid orders, valid tickets equal sold, nothing negative. Empty when it holds."""
    store = services.store
    seats = await store.orders.seats_by_tier([OrderStatus.PENDING, OrderStatus.PAID])
    tickets = await store.tickets.counts_by_tier()
    problems = []
    for tier in await store.inventory.all():
        key = (tier.event_id, tier.code)
        if tier.capacity != tier.available + tier.pending + tier.sold:
            problems.append(f"{tier.id}: capacity {tier.capacity} != {tier.available}+{tier.pending}+{tier.sold}")
        if min(tier.available, tier.pending, tier.sold) < 0:
            problems.append(f"{tier.id}: negative counter")
        if tier.pending != seats.get((*key, OrderStatus.PENDING.value), 0):
            problems.append(f"{tier.id}: pending {tier.pending} != pending orders' seats")
        if tier.sold != seats.get((*key, OrderStatus.PAID.value), 0):
            problems.append(f"{tier.id}: sold {tier.sold} != paid orders' seats")
        if tier.sold != tickets.get(key, (0, 0))[0]:
            problems.append(f"{tier.id}: sold {tier.sold} != valid tickets {tickets.get(key, (0, 0))[0]}")
    return problems


# ---- results ---------------------------------------------------------------------------------------------------


@dataclass
class Result:
    """One benchmark's outcome: `fields` go into the JSON object as they are; `rows` make the human table."""

    benchmark: str
    params: dict[str, Any]
    fields: dict[str, Any]
    rows: list[tuple[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sections: list[tuple[str, list[str], list[list[Any]]]] = field(default_factory=list)

    def to_json(self, store: StoreInfo, machine: dict[str, Any], seconds: float) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            **self.fields,
            "params": self.params,
            "store": store.kind,
            "store_detail": store.label,
            "python": machine["python"],
            "machine": machine,
            "wall_seconds": round(seconds, 3),
            "notes": self.notes,
        }


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), line]
    for row, raw_row in zip(cells, rows, strict=True):
        out.append("  ".join(
            c.rjust(w) if i and isinstance(raw, (int, float)) else c.ljust(w)
            for i, (c, raw, w) in enumerate(zip(row, raw_row, widths, strict=True))
        ).rstrip())
    return "\n".join(out)


def print_result(result: Result, store: StoreInfo, machine: dict[str, Any], seconds: float, *,
                 as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_json(store, machine, seconds), sort_keys=False, default=str))
        return
    print(f"== bench {result.benchmark} ==")
    print(f"store:   {store.label}")
    print(f"machine: {machine['nproc']} cores, {machine['cpu']}, Python {machine['python']}, "
          f"load {machine['load_avg_at_start']}")
    print("params:  " + ", ".join(f"{k}={v}" for k, v in result.params.items()))
    print()
    for title, headers, rows in result.sections:
        print(title)
        print(format_table(headers, rows))
        print()
    print(format_table(["metric", "value"], result.rows or list(result.fields.items())))
    for note in result.notes:
        print(f"note: {note}")
    print(f"(wall time {seconds:.1f} s)")
    sys.stdout.flush()


def now_perf() -> float:
    return time.perf_counter()
