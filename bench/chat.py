"""chat: the buyer's hot path as Telegram updates through the real python-telegram-bot `Application.process_update`
with the Karcis handlers (`handlers.telegram.register`), the Bot API answered in-process by the fake
(bench/telegram_inproc.py, no HTTP), the Midtrans simulator (on its own event loop in a thread, standing in for a
server elsewhere) making the payment link over HTTP on 127.0.0.1. Each first-time buyer sends
seven updates: `/start ev_<event>` (the event card) → ➕ one ticket (the card is edited) → checkout → name →
email → phone (the summary) → confirm (seats held, Snap transaction, the message with the payment link button).

The baseline, in the same run, through the same `process_update` path and the same in-process Bot API: a PTB echo
handler (`MessageHandler(filters.TEXT, reply_text(text))`) fed as many text updates with the same number of
buyers at once. `ratio` = Karcis updates/s ÷ echo updates/s. Latencies are per update, `process_update` alone (the
fake making the user's update is not counted, for either), measured one buyer at a time so that no update waits
behind another buyer's: with the Bot API in-process nothing but the Midtrans call ever yields the event loop, so
with C buyers at once each update would wait for the other buyers' whole turns. The throughput (and the ratio) is
measured with C buyers at once, so that a buyer's wait on Midtrans overlaps the others' updates."""

from __future__ import annotations

import argparse
import asyncio
from collections import defaultdict
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bench.common import (
    FIRST_BUYER_ID,
    ORGANISER_ID,
    Result,
    StoreInfo,
    TierDef,
    add_event,
    invariant_problems,
    midtrans_elsewhere,
    ms,
    now_perf,
    percentile,
    rate,
    services_for,
)
from bench.telegram_inproc import BASE_URL, FILE_URL, InProcessRequest
from bot.midtrans import MidtransGateway
from bot.sandbox.telegram import MessageRecord, TelegramSimulator
from storage.documents import OrderStatus

HELP = "the buyer's hot path as PTB updates with the Karcis handlers, against a PTB echo handler"
EVENT = "bench-chat"
TIER = "GA"
PRICE = 150_000
SERVER_KEY = "SB-Mid-server-karcis-bench"
PAY_HOST = "https://pay.karcis-bench.example"
STEPS = ("start", "choose", "checkout", "name", "email", "phone", "confirm")
WARMUP_BUYERS = 3


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--buyers", type=int, default=150, help="first-time buyers, seven updates each")
    p.add_argument("--concurrency", type=int, default=10, help="buyers chatting at the same time")


def _handlers() -> Any:
    try:
        import handlers.telegram
    except ImportError as exc:
        raise SystemExit(f"bench chat needs the Telegram handlers (handlers.telegram.register): {exc}") from None
    if not hasattr(handlers.telegram, "register"):
        raise SystemExit("bench chat needs handlers.telegram.register(application, services)")
    return handlers.telegram


def build_application(telegram: TelegramSimulator) -> Application:
    return (ApplicationBuilder().token(telegram.token).base_url(BASE_URL).base_file_url(FILE_URL)
            .request(InProcessRequest(telegram)).get_updates_request(InProcessRequest(telegram))
            .updater(None).build())


class Mailboxes:
    """The fake's update queue, sorted per user, so that buyers chatting at once each get their own updates."""

    def __init__(self, telegram: TelegramSimulator) -> None:
        self.telegram = telegram
        self.boxes: dict[int, list[dict[str, Any]]] = defaultdict(list)

    def take(self, uid: int) -> dict[str, Any]:
        for raw in self.telegram.take_updates():
            payload = raw.get("message") or raw.get("callback_query") or {}
            self.boxes[payload["from"]["id"]].append(raw)
        return self.boxes[uid].pop(0)


class Lane:
    """Feeds one user's updates to an application and times `process_update` alone."""

    def __init__(self, app: Application, telegram: TelegramSimulator, mail: Mailboxes,
                 timings: dict[str, list[float]]) -> None:
        self.app, self.telegram, self.mail, self.timings = app, telegram, mail, timings

    async def feed(self, uid: int, step: str) -> None:
        update = Update.de_json(self.mail.take(uid), self.app.bot)
        began = now_perf()
        await self.app.process_update(update)
        self.timings[step].append(now_perf() - began)

    async def say(self, uid: int, text: str, step: str) -> MessageRecord | None:
        await self.telegram.send_text(uid, text)
        await self.feed(uid, step)
        return self.telegram.last_message(uid)

    async def press(self, uid: int, message: MessageRecord, prefix: str, step: str) -> MessageRecord | None:
        current = self.telegram.message(uid, message.message_id)
        data = [d for d in current.callback_data() if d.startswith(prefix + "|")]
        if not data:
            raise RuntimeError(f"{step}: no {prefix}| button on #{message.message_id}: {current.callback_data()}; "
                               f"chat:\n{self.telegram.transcript(uid)}")
        await self.telegram.press_button(uid, message.message_id, data[0])
        await self.feed(uid, step)
        return self.telegram.last_message(uid)


async def buy(lane: Lane, uid: int, prefixes: dict[str, str]) -> MessageRecord:
    """One first-time buyer, from the deep link to the payment link."""
    card = await lane.say(uid, f"/start ev_{EVENT}", "start")
    assert card is not None
    choose = next((d for d in lane.telegram.message(uid, card.message_id).callback_data()
                   if d.startswith(prefixes["cart"] + "|") and d.endswith(f"{TIER}:1")), None)
    if choose is None:
        raise RuntimeError(f"no ➕ {TIER} button on the card: {card.callback_data()}")
    await lane.telegram.press_button(uid, card.message_id, choose)
    await lane.feed(uid, "choose")
    asked = await lane.press(uid, card, prefixes["checkout"], "checkout")
    assert asked is not None
    await lane.say(uid, f"Pembeli Nomor {uid - FIRST_BUYER_ID}", "name")
    await lane.say(uid, f"pembeli{uid}@example.com", "email")
    summary = await lane.say(uid, "0812-3456-7890", "phone")
    assert summary is not None
    paid = await lane.press(uid, summary, prefixes["confirm"], "confirm")
    assert paid is not None
    if not any(b.get("url", "").startswith(PAY_HOST) for b in paid.buttons()):
        raise RuntimeError(f"no payment link at the end; chat:\n{lane.telegram.transcript(uid)}")
    return paid


async def run_lanes(count: int, lanes: int, work: Any) -> float:
    queue = list(range(count))
    queue.reverse()

    async def lane() -> None:
        while queue:
            await work(queue.pop())

    began = now_perf()
    await asyncio.gather(*(lane() for _ in range(min(lanes, max(count, 1)))))
    return now_perf() - began


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


async def run(args: argparse.Namespace, store: StoreInfo) -> Result:
    telegram_door = _handlers()
    from handlers.telegram.buyer import CART, CHECKOUT, CONFIRM

    prefixes = {"cart": CART, "checkout": CHECKOUT, "confirm": CONFIRM}
    telegram = TelegramSimulator()
    telegram.add_user(ORGANISER_ID, "Rani", language_code="en", started=True)
    total = WARMUP_BUYERS + 2 * args.buyers
    for i in range(total):
        telegram.add_user(FIRST_BUYER_ID + i, f"Pembeli {i}", language_code="en")
    mail = Mailboxes(telegram)

    async with midtrans_elsewhere(SERVER_KEY, public_base_url=PAY_HOST) as midtrans:
        gateway = MidtransGateway(SERVER_KEY, snap_base_url=midtrans.snap_base_url,
                                  api_base_url=midtrans.api_base_url, timeout=10.0)
        services = services_for(store.store, gateway=gateway)
        await add_event(services, EVENT, [TierDef(TIER, PRICE, total + 10, max_per_order=4)])

        # ---- Karcis: a latency pass (one buyer at a time, so no update waits behind another's), then a
        # throughput pass (C buyers at once, so one buyer's wait on Midtrans overlaps another's updates)
        app = build_application(telegram)
        telegram_door.register(app, services)
        await app.initialize()
        timings: dict[str, list[float]] = defaultdict(list)
        busy: dict[str, list[float]] = defaultdict(list)
        next_buyer = iter(range(FIRST_BUYER_ID, FIRST_BUYER_ID + total))
        try:
            warm = Lane(app, telegram, mail, defaultdict(list))
            for _ in range(WARMUP_BUYERS):
                await buy(warm, next(next_buyer), prefixes)
            lane = Lane(app, telegram, mail, timings)
            latency_seconds = await run_lanes(args.buyers, 1, lambda i: buy(lane, next(next_buyer), prefixes))
            lane = Lane(app, telegram, mail, busy)
            seconds = await run_lanes(args.buyers, args.concurrency, lambda i: buy(lane, next(next_buyer), prefixes))
        finally:
            await app.shutdown()

        # ---- the echo baseline: as many text updates, the same two passes
        echo_app = build_application(telegram)
        echo_app.add_handler(MessageHandler(filters.TEXT, echo))
        await echo_app.initialize()
        echo_timings: dict[str, list[float]] = defaultdict(list)
        echo_busy: dict[str, list[float]] = defaultdict(list)
        try:
            def chat(lane: Lane) -> Any:
                async def talk(i: int) -> None:
                    uid = FIRST_BUYER_ID + i % total
                    for step in STEPS:
                        await lane.say(uid, f"/start ev_{EVENT}" if step == "start" else f"{step} {uid}", "echo")
                return talk

            await run_lanes(5, 5, chat(Lane(echo_app, telegram, mail, defaultdict(list))))  # warm-up
            await run_lanes(args.buyers, 1, chat(Lane(echo_app, telegram, mail, echo_timings)))
            echo_seconds = await run_lanes(args.buyers, args.concurrency,
                                           chat(Lane(echo_app, telegram, mail, echo_busy)))
        finally:
            await echo_app.shutdown()

    updates = sum(len(v) for v in busy.values())
    echo_updates = len(echo_busy["echo"])
    pending = await store.store.db["orders"].count_documents({"event_id": EVENT,
                                                             "status": OrderStatus.PENDING.value})
    problems = await invariant_problems(services)
    if pending != total:
        problems.append(f"{pending} pending orders, {total} buyers confirmed")
    failed = [f"{c.method}: {c.description}" for c in telegram.calls if not c.ok]
    if failed:
        problems.append(f"{len(failed)} Bot API calls refused, e.g. {failed[:3]}")
    everything = [x for v in timings.values() for x in v]
    per_second = rate(updates, seconds)
    echo_per_second = rate(echo_updates, echo_seconds)
    ratio = round(per_second / echo_per_second, 3) if echo_per_second else 0.0
    by_step = {step: {"p50_ms": ms(percentile(timings[step], 50)), "p99_ms": ms(percentile(timings[step], 99))}
               for step in STEPS}
    fields = {
        "updates_per_second": per_second,
        "echo_updates_per_second": echo_per_second,
        "ratio": ratio,
        "p50_ms": ms(percentile(everything, 50)),
        "p99_ms": ms(percentile(everything, 99)),
        "echo_p50_ms": ms(percentile(echo_timings["echo"], 50)),
        "echo_p99_ms": ms(percentile(echo_timings["echo"], 99)),
        "by_step": by_step,
        "updates": updates,
        "sequential_updates_per_second": rate(sum(len(v) for v in timings.values()), latency_seconds),
        "buyers": args.buyers,
        "concurrency": args.concurrency,
        "orders_pending": pending,
        "invariant_ok": not problems,
        "target": "ratio >= 0.5",
        "target_met": ratio >= 0.5 and not problems,
    }
    table = [[step, len(timings[step]), by_step[step]["p50_ms"], by_step[step]["p99_ms"]] for step in STEPS]
    table.append(["all Karcis updates", len(everything), fields["p50_ms"], fields["p99_ms"]])
    table.append(["echo handler", len(echo_timings["echo"]), fields["echo_p50_ms"], fields["echo_p99_ms"]])
    rows = [(f"updates_per_second (Karcis, {args.concurrency} buyers at once)", per_second),
            ("echo_updates_per_second (same)", echo_per_second),
            ("ratio", ratio), ("invariant_ok", not problems), ("target", fields["target"]),
            ("target_met", fields["target_met"])]
    return Result("chat", {"buyers": args.buyers, "concurrency": args.concurrency}, fields, rows, notes=problems[:10],
                  sections=[("process_update per update, one buyer at a time", ["step", "updates", "p50 ms", "p99 ms"],
                             table)])
