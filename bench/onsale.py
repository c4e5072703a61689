"""onsale: N buyers (default 2,000) start within 10 s and buy through the real chat, against a Bot API that
enforces Telegram's limits, all in virtual time (bench/virtual_time.py), so the result does not depend on the
machine's load.

What runs is the product's: a PTB `Application` with the Karcis handlers (`handlers.telegram.register`), the update
processor (handlers/telegram/updates.py) and the rate limiter (handlers/telegram/rate_limit.py) that
`bot/runtime.py` installs, the
real services on the store given (`--store`, default the embedded one), the delivery service and its retry job
(every 15 s, as `bot/runtime.py` schedules it), and the Midtrans notification path (`PaymentService.
handle_notification`, then delivery in the background, as the webhook route does). Stand-ins:

- **Telegram**: the fake Bot API (`TelegramSimulator`, in process) behind `LimitedBotApi`, which answers 429
  with `retry_after` when a call would break Telegram's limits (the Bot FAQ: "avoid sending more than one
  message per second" in a chat, "short bursts" allowed; "not more than 30 messages per second or so" in bulk):
  per chat a token bucket of 3 refilled at 1/s, per bot at most 30 calls in any second; each call takes
  `--latency` seconds each way. Only calls with a `chat_id` that send or edit count (answering a button does not).
- **Midtrans Snap**: `InProcessSnap` makes a link after 0.3–1.2 s (seeded) and confirms a payment through the
  status API the payment service asks; notifications are signed as Midtrans signs them.
- **QR rendering** is replaced by one pre-rendered PNG (a worker process takes no virtual time).

Each buyer, from a seeded start within `--window` seconds, with seeded think times: `/start ev_<event>` → ➕ per
ticket → checkout → name → email → phone → confirm (the payment link) → pays after 20–60 s → tickets. A step
waits until the bot has handled the previous update (the update processor tells), as a person waits for the
answer. Reported: time from a buyer's `/start` to their payment link (max, p50, p95; it includes their own think
times, `think_s` says how much), each step's wait for its answer, time from paying to the last ticket photo,
429s (and the most in any minute), messages and MongoDB commands per purchase, the ratio of the time until the
last purchase's last message to the floor (the messages sent ÷ 30/s), and first-come order: the most any buyer's
wait for the bot (until the link, their own think time left out) was longer than that of a buyer who started
after them (max inversion, seconds; per step, how much an answer came after the answer to the same step sent
later: with replies served first come, first served by conversation, a later step of an early buyer goes first).

`--runtime before` runs what `bot/runtime.py` had before issue 10: one update at a time and `AIORateLimiter`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import math
import random
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.ext import AIORateLimiter, ApplicationBuilder, SimpleUpdateProcessor
from telegram.request import RequestData

from bench.chat import Mailboxes
from bench.common import (
    FIRST_BUYER_ID,
    ORGANISER_ID,
    Result,
    StoreInfo,
    TierDef,
    add_event,
    bench_settings,
    invariant_problems,
    percentile,
)
from bench.telegram_inproc import BASE_URL, FILE_URL, InProcessRequest
from bench.virtual_time import VirtualTimeLoop
from bot.jobs import DIGEST_JOB_INTERVAL
from bot.midtrans import signature_key, signature_valid
from bot.sandbox.telegram import TelegramSimulator
from bot.services import build_services
from handlers.telegram.rate_limit import KarcisRateLimiter
from handlers.telegram.updates import ChatOrderedUpdateProcessor
from storage.documents import OrderStatus

HELP = "an on-sale: N buyers within seconds through the real chat, against Telegram's limits, in virtual time"
loop_factory = VirtualTimeLoop  # bench/cli.py runs this benchmark on a virtual clock

EVENT = "bench-onsale"
TIER = "GA"
PRICE = 150_000
SERVER_KEY = "SB-Mid-server-karcis-onsale"
PAY_HOST = "https://pay.karcis-bench.example"
DELIVERY_INTERVAL = 15.0  # bot/jobs.py's delivery job
FLOOR_RATE = 30.0
GIVE_UP_AFTER = 4 * 3600.0  # virtual seconds: a run that has not finished by then reports what it has

# Telegram's limits as the stand-in enforces them (core.telegram.org/bots/faq, "My bot is hitting limits")
TG_CHAT_BURST = 3
TG_CHAT_RATE = 1.0
TG_BOT_PER_SECOND = 30


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--buyers", type=int, default=2000, help="buyers, each a first-time buyer in their own chat")
    p.add_argument("--window", type=float, default=10.0, help="seconds within which every buyer starts")
    p.add_argument("--tickets", type=int, default=1, help="tickets each buyer buys")
    p.add_argument("--seed", type=int, default=1, help="seed for start times, think times and latencies")
    p.add_argument("--latency", type=float, default=0.05, help="Bot API one-way latency, seconds")
    p.add_argument("--runtime", choices=("now", "before"), default="now",
                   help="now: bot/runtime.py's processor and limiter; before: one update at a time, AIORateLimiter")


# ---- Telegram with its limits ------------------------------------------------------------------------------------


def counts_toward_limits(method: str, params: dict[str, Any]) -> bool:
    return params.get("chat_id") is not None and method.lower().startswith(("send", "edit", "copy", "forward"))


class TelegramLimits:
    """Per chat a token bucket (burst 3, 1/s), per bot at most 30 in any second; on the loop's clock."""

    def __init__(self) -> None:
        self.chats: dict[int, tuple[float, float]] = {}  # chat → (tokens, at)
        self.last_second: deque[float] = deque()

    def take(self, chat: int, now: float) -> int | None:
        """None if the call may go (and it is counted), else the `retry_after` Telegram would answer."""
        while self.last_second and self.last_second[0] <= now - 1.0:
            self.last_second.popleft()
        tokens, at = self.chats.get(chat, (float(TG_CHAT_BURST), now))
        tokens = min(float(TG_CHAT_BURST), tokens + (now - at) * TG_CHAT_RATE)
        if tokens < 1.0:
            self.chats[chat] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / TG_CHAT_RATE))
        if len(self.last_second) >= TG_BOT_PER_SECOND:
            return max(1, math.ceil(self.last_second[0] + 1.0 - now))
        self.chats[chat] = (tokens - 1.0, now)
        self.last_second.append(now)
        return None


class LimitedBotApi(InProcessRequest):
    """The in-process fake Bot API, with latency and Telegram's limits; counts what it accepts and refuses."""

    def __init__(self, simulator: TelegramSimulator, rng: random.Random, latency: float) -> None:
        super().__init__(simulator)
        self.rng, self.latency = rng, latency
        self.limits = TelegramLimits()
        self.messages = 0
        self.calls: dict[str, int] = defaultdict(int)
        self.refused: list[float] = []                          # times of 429 answers
        self.photos: dict[int, list[float]] = defaultdict(list)  # chat → accepted sendPhoto times
        self.last_message_at = 0.0
        self.last_buyer_message_at = 0.0
        self.per_chat: dict[int, int] = defaultdict(int)

    def _leg(self) -> float:
        return self.latency * self.rng.uniform(0.8, 1.2)

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE, write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE, pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.json_parameters) if request_data else {}
        await asyncio.sleep(self._leg())
        self.calls[api_method] += 1
        counted = counts_toward_limits(api_method, params)
        if counted:
            chat = int(params["chat_id"])
            retry_after = self.limits.take(chat, loop.time())
            if retry_after is not None:
                self.refused.append(loop.time())
                await asyncio.sleep(self._leg())
                body = {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {retry_after}",
                        "parameters": {"retry_after": retry_after}}
                return 429, json.dumps(body).encode()
        status, answer = await super().do_request(url, method, request_data, read_timeout, write_timeout,
                                                  connect_timeout, pool_timeout)
        if counted and status == 200:
            self.messages += 1
            self.per_chat[chat] += 1
            self.last_message_at = loop.time()
            if chat != ORGANISER_ID:
                self.last_buyer_message_at = loop.time()
            if api_method == "sendPhoto":
                self.photos[chat].append(loop.time())
        await asyncio.sleep(self._leg())
        return status, answer


# ---- Midtrans Snap, in process ----------------------------------------------------------------------------------


class InProcessSnap:
    """What `PaymentService` asks of Midtrans: make a Snap link, verify a notification, tell a status."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.amounts: dict[str, int] = {}   # Midtrans order id → gross amount
        self.by_token: dict[str, str] = {}  # Snap token → Midtrans order id
        self.paid: set[str] = set()

    def verify(self, body: dict[str, Any]) -> bool:
        return signature_valid(body, SERVER_KEY)

    async def create_transaction(self, payload: dict[str, Any], *, budget: float | None = None) -> dict[str, Any]:
        await asyncio.sleep(self.rng.uniform(0.3, 1.2))  # always within the payment service's budget (seconds)
        details = payload["transaction_details"]
        token = uuid.UUID(int=self.rng.getrandbits(128)).hex
        self.amounts[details["order_id"]] = int(details["gross_amount"])
        self.by_token[token] = details["order_id"]
        return {"token": token, "redirect_url": f"{PAY_HOST}/snap/v4/redirection/{token}"}

    def _status(self, order_id: str) -> dict[str, Any]:
        return {"order_id": order_id, "transaction_status": "settlement", "status_code": "200",
                "gross_amount": f"{self.amounts[order_id]}.00", "payment_type": "bank_transfer",
                "transaction_id": hashlib.sha256(order_id.encode()).hexdigest()[:32], "fraud_status": "accept"}

    async def status(self, order_id: str, *, budget: float | None = None) -> dict[str, Any] | None:
        await asyncio.sleep(self.rng.uniform(0.1, 0.3))
        return self._status(order_id) if order_id in self.paid else None

    def pay(self, token: str) -> bytes:
        """The buyer pays: the settlement notification Midtrans would POST."""
        order_id = self.by_token[token]
        self.paid.add(order_id)
        body = self._status(order_id)
        body["signature_key"] = signature_key(order_id, "200", body["gross_amount"], SERVER_KEY)
        return json.dumps(body).encode()


# ---- MongoDB commands -------------------------------------------------------------------------------------------


class CommandCounter:
    """Counts the store's operations: a pymongo command listener on a server; on the embedded store, each outermost
    mongomock collection operation (what would be one command on a server; a cursor counts once)."""

    OPERATIONS = ("find", "find_one", "insert_one", "insert_many", "update_one", "update_many", "replace_one",
                  "delete_one", "delete_many", "find_one_and_update", "find_one_and_replace", "find_one_and_delete",
                  "count_documents", "aggregate", "distinct", "bulk_write")

    def __init__(self) -> None:
        self.count = 0
        self._depth = 0
        self._restore: list[tuple[Any, str, Any]] = []

    def install(self, store: StoreInfo) -> str:
        if store.kind == "memory":
            from mongomock.collection import Collection

            for name in self.OPERATIONS:
                original = getattr(Collection, name)
                self._restore.append((Collection, name, original))
                setattr(Collection, name, self._counted(original))
            return "embedded store: outermost mongomock operations"
        return "not counted on this store (a command listener must be set when the client is made)"

    def _counted(self, original: Callable[..., Any]) -> Callable[..., Any]:
        counter = self

        def operation(*args: Any, **kwargs: Any) -> Any:
            if counter._depth == 0:
                counter.count += 1
            counter._depth += 1
            try:
                return original(*args, **kwargs)
            finally:
                counter._depth -= 1
        return operation

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def uninstall(self) -> None:
        for owner, name, original in reversed(self._restore):
            setattr(owner, name, original)
        self._restore.clear()


# ---- the buyers -------------------------------------------------------------------------------------------------


class TrackedProcessor:
    """Wraps the update processor's `do_process_update` so that a buyer can wait until their update is handled."""

    def __init__(self, processor: Any) -> None:
        self.processor = processor
        self.handled: dict[int, asyncio.Future[float]] = {}
        original = processor.do_process_update

        async def tracked(update: object, coroutine: Awaitable[Any]) -> None:
            try:
                await original(update, coroutine)
            finally:
                if isinstance(update, Update):
                    future = self.handled.get(update.update_id)
                    if future is not None and not future.done():
                        future.set_result(asyncio.get_running_loop().time())

        processor.do_process_update = tracked


class Buyer:
    def __init__(self, uid: int, start: float) -> None:
        self.uid, self.start = uid, start
        self.think = 0.0
        self.think_to_link = 0.0
        self.steps: dict[str, tuple[float, float]] = {}  # step → (sent, answered)
        self.link_at: float | None = None
        self.token: str | None = None
        self.paid_at: float | None = None
        self.problem: str | None = None


class OnSale:
    def __init__(self, args: argparse.Namespace, telegram: TelegramSimulator, api: LimitedBotApi, app: Any,
                 tracked: TrackedProcessor, snap: InProcessSnap, services: Any, rng: random.Random,
                 counter: CommandCounter) -> None:
        self.args, self.telegram, self.api, self.app, self.counter = args, telegram, api, app, counter
        self.tracked, self.snap, self.services, self.rng = tracked, snap, services, rng
        self.mail = Mailboxes(telegram)
        self.deliveries: set[asyncio.Task[Any]] = set()
        from handlers.telegram.buyer import CART, CHECKOUT, CONFIRM

        self.cart, self.checkout, self.confirm = CART, CHECKOUT, CONFIRM

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    async def _handled(self, buyer: Buyer, step: str, act: Awaitable[Any]) -> None:
        sent = self._now()
        await act
        raw = self.mail.take(buyer.uid)
        update = Update.de_json(raw, self.app.bot)
        future = self.tracked.handled[update.update_id] = asyncio.get_running_loop().create_future()
        await self.app.update_queue.put(update)
        answered = await future
        del self.tracked.handled[update.update_id]
        buyer.steps[step] = (sent, answered)

    def _button(self, uid: int, prefix: str, suffix: str = "") -> tuple[int, str] | None:
        for message in reversed(self.telegram.messages(uid)):
            current = self.telegram.message(uid, message.message_id)
            for data in current.callback_data():
                if data.startswith(prefix + "|") and data.endswith(suffix):
                    return current.message_id, data
        return None

    def _link(self, uid: int) -> str | None:
        for message in reversed(self.telegram.messages(uid)):
            for button in self.telegram.message(uid, message.message_id).buttons():
                if button.get("url", "").startswith(PAY_HOST):
                    return button["url"]
        return None

    async def _think(self, buyer: Buyer, low: float, high: float) -> None:
        seconds = self.rng.uniform(low, high)
        buyer.think += seconds
        await asyncio.sleep(seconds)

    async def _press(self, buyer: Buyer, step: str, prefix: str, suffix: str = "") -> bool:
        found = self._button(buyer.uid, prefix, suffix)
        if found is None:
            buyer.problem = f"{step}: no {prefix}|…{suffix} button; chat:\n{self.telegram.transcript(buyer.uid)}"
            return False
        await self._think(buyer, 1.0, 3.0)
        await self._handled(buyer, step, self.telegram.press_button(buyer.uid, found[0], found[1]))
        return True

    async def _type(self, buyer: Buyer, step: str, text: str) -> None:
        await self._think(buyer, 3.0, 8.0)
        await self._handled(buyer, step, self.telegram.send_text(buyer.uid, text))

    async def buy(self, buyer: Buyer) -> None:
        try:
            await self._buy(buyer)
        except Exception as exc:  # noqa: BLE001 - reported, the other buyers go on
            buyer.problem = f"buyer {buyer.uid}: {type(exc).__name__}: {exc}"

    async def _buy(self, buyer: Buyer) -> None:
        await asyncio.sleep(buyer.start)
        n = buyer.uid - FIRST_BUYER_ID
        await self._handled(buyer, "start", self.telegram.send_text(buyer.uid, f"/start ev_{EVENT}"))
        for qty in range(1, self.args.tickets + 1):
            if not await self._press(buyer, f"choose{qty}" if qty > 1 else "choose", self.cart, f"{TIER}:{qty}"):
                return
        if not await self._press(buyer, "checkout", self.checkout):
            return
        await self._type(buyer, "name", f"Pembeli Nomor {n}")
        await self._type(buyer, "email", f"pembeli{n}@example.com")
        await self._type(buyer, "phone", "0812-3456-7890")
        if not await self._press(buyer, "confirm", self.confirm):
            return
        link = self._link(buyer.uid)
        if link is None:
            buyer.problem = f"no payment link; chat:\n{self.telegram.transcript(buyer.uid)}"
            return
        buyer.link_at = buyer.steps["confirm"][1]
        buyer.think_to_link = buyer.think
        buyer.token = link.rsplit("/", 1)[-1]
        await self._think(buyer, 20.0, 60.0)
        raw = self.snap.pay(buyer.token)
        buyer.paid_at = self._now()
        result = await self.services.payments.handle_notification(raw)
        if result.has_news and result.order_id:  # as webhooks/payment_notifications.py does
            task = asyncio.get_running_loop().create_task(self.services.delivery.deliver(result.order_id))
            self.deliveries.add(task)
            task.add_done_callback(self.deliveries.discard)

    async def job(self, stop: asyncio.Event, interval: float, work: Callable[[], Awaitable[Any]]) -> None:
        """A periodic job as bot/runtime.py schedules it on PTB's JobQueue (which runs on the wall clock)."""
        while not stop.is_set():
            await asyncio.sleep(interval)
            try:
                await work()
            except Exception:  # noqa: BLE001 - as bot/runtime.py: the next run retries
                continue

    async def owed(self) -> int:
        """Orders still owing a message, and organisers' digests with sales not yet sent (the benchmark's own
        question: not counted as the product's)."""
        with self.counter.paused():
            db = self.services.store.db
            orders = await db["orders"].count_documents({"notify_due_at": {"$type": "date"}})
            digests = await db["digests"].count_documents({"due_at": {"$type": "date"}})
            return orders + digests


# ---- the run ----------------------------------------------------------------------------------------------------


def max_inversion(pairs: list[tuple[float, float]]) -> float:
    """(came, waited) pairs: the most anyone waited longer than someone who came after them. With
    (sent, answered) pairs of one step: the most an answer came after the answer to that step sent later."""
    worst, earliest_later = 0.0, math.inf
    for _, answered in sorted(pairs, reverse=True):
        worst = max(worst, answered - earliest_later)
        earliest_later = min(earliest_later, answered)
    return worst


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"max": 0.0, "p50": 0.0, "p95": 0.0}
    return {"max": round(max(values), 1), "p50": round(percentile(values, 50), 1),
            "p95": round(percentile(values, 95), 1)}


async def _placeholder_qr(data: str) -> bytes:
    return _placeholder_qr.png  # type: ignore[attr-defined,no-any-return]


async def run(args: argparse.Namespace, store: StoreInfo) -> Result:
    import handlers.telegram
    from bot import qr

    loop = asyncio.get_running_loop()
    if not isinstance(loop, VirtualTimeLoop):
        raise SystemExit("bench onsale runs on a virtual clock: run it as `python -m bench onsale`")
    rng = random.Random(args.seed)
    telegram = TelegramSimulator()
    telegram.add_user(ORGANISER_ID, "Rani", language_code="en", started=True)
    buyers = [Buyer(FIRST_BUYER_ID + i, rng.uniform(0, args.window)) for i in range(args.buyers)]
    for buyer in buyers:
        telegram.add_user(buyer.uid, f"Pembeli {buyer.uid - FIRST_BUYER_ID}", language_code="en")

    epoch = dt.datetime.now(dt.UTC)
    started_at = loop.time()

    def clock() -> dt.datetime:
        return epoch + dt.timedelta(seconds=loop.time() - started_at)

    snap = InProcessSnap(random.Random(args.seed + 1))
    services = build_services(bench_settings(), store.store, clock=clock, gateway=snap)  # type: ignore[arg-type]
    await add_event(services, EVENT, [TierDef(TIER, PRICE, args.buyers * args.tickets + 10, max_per_order=10)])

    api = LimitedBotApi(telegram, random.Random(args.seed + 2), args.latency)
    if args.runtime == "now":
        processor: Any = ChatOrderedUpdateProcessor()
        limiter: Any = KarcisRateLimiter()
    else:
        processor, limiter = SimpleUpdateProcessor(1), AIORateLimiter(max_retries=3)
    tracked = TrackedProcessor(processor)
    app = (ApplicationBuilder().token(telegram.token).base_url(BASE_URL).base_file_url(FILE_URL)
           .request(api).get_updates_request(InProcessRequest(telegram)).updater(None).job_queue(None)
           .concurrent_updates(processor).rate_limiter(limiter).build())
    handlers.telegram.register(app, services)

    _placeholder_qr.png = qr.render_png("https://t.me/karcis_bench_bot?start=t_PLACEHOLDER")  # type: ignore[attr-defined]
    real_render, qr.render = qr.render, _placeholder_qr  # type: ignore[assignment]
    counter = CommandCounter()
    counted = counter.install(store)
    onsale = OnSale(args, telegram, api, app, tracked, snap, services, random.Random(args.seed + 3), counter)
    stop = asyncio.Event()
    try:
        await app.initialize()
        await app.start()
        api.messages, api.refused, api.calls = 0, [], defaultdict(int)
        counter.count = 0
        began = loop.time()
        jobs = [loop.create_task(onsale.job(stop, DELIVERY_INTERVAL, services.delivery.deliver_due))]
        jobs.append(loop.create_task(onsale.job(stop, DIGEST_JOB_INTERVAL, services.digests.send_due)))
        shoppers = asyncio.gather(*(onsale.buy(b) for b in buyers))
        done, _ = await asyncio.wait({shoppers}, timeout=GIVE_UP_AFTER)
        while loop.time() - began < GIVE_UP_AFTER and (onsale.deliveries or await onsale.owed()):
            await asyncio.sleep(1.0)
        finished = loop.time()
        stop.set()
        for job in jobs:
            job.cancel()
        if not done:
            shoppers.cancel()
    finally:
        counter.uninstall()
        qr.render = real_render  # type: ignore[assignment]
        await app.stop()
        await app.shutdown()

    # ---- figures
    paid = [b for b in buyers if b.paid_at is not None]
    link_waits = [b.link_at - b.start for b in buyers if b.link_at is not None]
    thinks = [b.think_to_link for b in buyers if b.link_at is not None]
    tickets_after_pay = []
    short = 0
    for b in paid:
        photos = api.photos.get(b.uid, [])
        if len(photos) >= args.tickets:
            tickets_after_pay.append(photos[args.tickets - 1] - b.paid_at)  # type: ignore[operator]
        else:
            short += 1
    steps = sorted({s for b in buyers for s in b.steps})
    answer_waits = {s: _stats([b.steps[s][1] - b.steps[s][0] for b in buyers if s in b.steps]) for s in steps}
    inversions = {s: round(max_inversion([b.steps[s] for b in buyers if s in b.steps]), 2) for s in steps}
    # first come, first served: a buyer's wait for the bot until their link (their own thinking left out) should
    # not be longer than that of a buyer who started after them
    bot_waits = [(b.start, b.link_at - b.start - b.think_to_link) for b in buyers if b.link_at is not None]
    inversion = round(max_inversion(bot_waits), 2)
    minutes: dict[int, int] = defaultdict(int)
    for at in api.refused:
        minutes[int((at - began) // 60)] += 1
    makespan = (api.last_message_at or finished) - began
    floor = api.messages / FLOOR_RATE
    sold = await store.store.db["orders"].count_documents({"event_id": EVENT, "status": OrderStatus.PAID.value})
    tickets = await store.store.db["tickets"].count_documents({"event_id": EVENT})
    problems = await invariant_problems(services)
    capacity = args.buyers * args.tickets + 10
    oversold = max(0, tickets - capacity)
    problems += [b.problem for b in buyers if b.problem][:3]
    if short:
        problems.append(f"{short} paid buyer(s) without all their tickets")
    purchases = max(len(paid), 1)
    busiest = max(api.per_chat.items(), key=lambda kv: kv[1], default=(0, 0))
    fields = {
        "buyers": args.buyers,
        "runtime": args.runtime,
        "links": len(link_waits),
        "link_s": _stats(link_waits),
        "think_s": _stats(thinks),
        "answer_wait_s": answer_waits,
        "paid": len(paid),
        "orders_paid": sold,
        "tickets_s": _stats(tickets_after_pay),
        "tickets_short": short,
        "http_429": len(api.refused),
        "http_429_max_per_minute": max(minutes.values(), default=0),
        "messages": api.messages,
        "messages_per_purchase": round(api.messages / purchases, 2),
        "calls_per_purchase": round(sum(api.calls.values()) / purchases, 2),
        "calls": dict(sorted(api.calls.items())),
        "busiest_chat_messages": busiest[1],
        "busiest_chat_is_organiser": busiest[0] == ORGANISER_ID,
        "mongodb_commands": counter.count,
        "mongodb_commands_per_purchase": round(counter.count / purchases, 1),
        "mongodb_commands_counted": counted,
        "makespan_s": round(makespan, 1),
        "buyers_done_s": round(api.last_buyer_message_at - began, 1),
        "floor_s": round(floor, 1),
        "ratio": round(makespan / floor, 3) if floor else 0.0,
        "bot_wait_s": _stats([w for _, w in bot_waits]),
        "max_inversion_s": inversion,
        "step_inversion_s": inversions,
        "still_owed": await onsale.owed(),
        "oversold": oversold,
        "invariant_ok": not problems,
        "virtual_seconds": round(finished - began, 1),
        "target": "ratio <= 1.25, a few 429s per minute at most, first-come order within 1 s",
    }
    fields["target_met"] = (fields["ratio"] <= 1.25 and fields["http_429_max_per_minute"] <= 5
                            and fields["max_inversion_s"] <= 1.0 and not problems)
    rows = [
        ("buyers (start within)", f"{args.buyers} ({args.window:g} s), {args.tickets} ticket(s) each, "
                                  f"runtime: {args.runtime}"),
        ("payment link after /start: max / p50 / p95 s", _triple(fields["link_s"])),
        ("  of it the buyer's own think time: max / p50 / p95 s", _triple(fields["think_s"])),
        ("  of it waiting for the bot: max / p50 / p95 s", _triple(fields["bot_wait_s"])),
        ("all tickets after paying: max / p50 / p95 s", _triple(fields["tickets_s"])),
        ("429 answers (most in one minute)", f"{fields['http_429']} ({fields['http_429_max_per_minute']})"),
        ("messages per purchase (all Bot API calls)",
         f"{fields['messages_per_purchase']} ({fields['calls_per_purchase']})"),
        ("MongoDB commands per purchase", fields["mongodb_commands_per_purchase"]),
        ("until the last message / floor (messages ÷ 30/s)",
         f"{fields['makespan_s']} s / {fields['floor_s']} s = {fields['ratio']}"),
        ("until the last message to a buyer s", fields["buyers_done_s"]),
        ("busiest chat's messages", f"{busiest[1]}{' (the organiser)' if fields['busiest_chat_is_organiser'] else ''}"),
        ("first come, first served: the most a buyer waited for the bot beyond a later one, s",
         fields["max_inversion_s"]),
        ("paid / orders paid / still owed / oversold",
         f"{len(paid)} / {sold} / {fields['still_owed']} / {oversold}"),
        ("invariant_ok", not problems), ("target", fields["target"]), ("target_met", fields["target_met"]),
    ]
    table = [[s, answer_waits[s]["p50"], answer_waits[s]["p95"], answer_waits[s]["max"], inversions[s]]
             for s in steps]
    return Result("onsale", {"buyers": args.buyers, "window": args.window, "tickets": args.tickets,
                             "seed": args.seed, "latency": args.latency, "runtime": args.runtime},
                  fields, rows, notes=[p for p in problems if p][:10],
                  sections=[("each step's wait for its answer (virtual seconds)",
                             ["step", "p50", "p95", "max", "answered after a later sender's"], table)])


def _triple(s: dict[str, float]) -> str:
    return f"{s['max']} / {s['p50']} / {s['p95']}"
