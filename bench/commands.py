"""commands: the MongoDB commands each action costs, counted on the wire with a pymongo `CommandListener` on the
motor client, beside the fewest that action needs (and why). Needs a server: a mongoeco wire server started for
the run (the default), or `--store <MongoDB URI>`; the embedded store has no wire to listen on.

The chat steps go through the real python-telegram-bot `Application.process_update` with the Karcis handlers,
the Bot API answered in-process by the fake (bench/telegram_inproc.py) and the Midtrans simulator making the
payment link over HTTP: a first-time buyer sends `/start`, opens the event card, presses ➕, checks out, types
name, email and phone, confirms (seats held, Snap transaction, payment link). Then Midtrans settles the order
(`PaymentService.handle_notification`, what the webhook endpoint calls), the delivery job sends what the order
owes (`DeliveryService.deliver`, through the Telegram notifier), the organiser scans a ticket (`/start t_<code>`),
and the expiry sweep expires due orders. `reserve` is also counted alone (`OrderService.reserve`, 1 and 2 tiers).
A buyer who left the payment page presses Pay in /orders (the link is made then). `reserve, sold out` is an
attempt on a tier this process has already seen short (the first such attempt learns it from its hold).

Each action runs once warm (the process has read the catalog once before), so a count is what every further
such action costs. The catalog's version check (one `_id` lookup per process every few seconds, see
docs/catalog-cache.md) is counted apart, not inside whichever action it happened to fall in."""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo import monitoring

from bench.chat import Lane, Mailboxes, build_application
from bench.common import (
    FIRST_BUYER_ID,
    ORGANISER_ID,
    Result,
    StoreInfo,
    TierDef,
    add_event,
    buyer,
    invariant_problems,
    midtrans_elsewhere,
    services_for,
)
from bot.errors import RefusalReason, ReservationRefused
from bot.midtrans import MidtransGateway
from bot.sandbox.telegram import MessageRecord, TelegramSimulator

HELP = "MongoDB commands per action (reserve, each chat step, settlement, delivery, check-in, sweep) vs the minimum"
DEFAULT_STORE = "mongoeco"
EVENT = "bench-commands"
SERVER_KEY = "SB-Mid-server-karcis-bench"
PAY_HOST = "https://pay.karcis-bench.example"
TARGET_RATIO = 1.5
VERSION_COLLECTION = "meta"  # storage/catalog_version.py: the catalog version document
NOT_COUNTED = {"hello", "ismaster", "isMaster", "ping", "endSessions", "saslStart", "saslContinue", "buildInfo"}


@dataclass(frozen=True)
class Minimum:
    commands: int
    why: str


# The fewest commands each action needs, given the house's rules (stock, orders and limits always read from
# MongoDB; every stock move a conditional `$inc` on one tier document; definitions from the per-process cache).
MINIMUM: dict[str, Minimum] = {
    "reserve, 1 tier": Minimum(3, "claim the per-user limits (one conditional upsert that also stores the contact "
                                  "details); hold the seats (conditional $inc); insert the order"),
    "reserve, 2 tiers": Minimum(4, "the claim; one hold per tier (each tier is its own stock document); insert"),
    "reserve, sold out": Minimum(2, "read the stock (one query: it cannot fill the order); read the buyer's counters "
                                    "(a buyer over a limit hears the limit first); nothing claimed"),
    "chat: /start": Minimum(1, "a first-time user is recorded (language, name) so notices reach them in their "
                               "language; the events list comes from the cached catalog"),
    "chat: event card": Minimum(1, "the tiers' stock, read now (one query by event)"),
    "chat: ➕": Minimum(1, "the stock again: the card shows what is left"),
    "chat: checkout": Minimum(2, "read the user (last time's contact details); write the purchase draft"),
    "chat: name": Minimum(2, "read the draft (which detail it waits for decides how the text is read); write it"),
    "chat: email": Minimum(2, "as for the name"),
    "chat: phone (summary)": Minimum(2, "as for the name; the summary's names and prices come from the cache"),
    "chat: confirm": Minimum(5, "take the draft; reserve (3); store the Snap payment link on the order"),
    "chat: /orders": Minimum(1, "the user's pending orders (one query)"),
    "chat: pay button": Minimum(2, "read the order (whose, still pending, any link made already); store the link"),
    "settlement notification": Minimum(6, "read the order (unknown orders are refused before asking Midtrans, "
                                          "and its total checked); move it pending→paid; commit its seats per tier; "
                                          "close the buyer's pending slot; insert the tickets (one insert_many); "
                                          "log the notification"),
    "delivery job": Minimum(4, "claim the order's delivery lease (returns the order and what it owes); read its "
                               "tickets; record what was sent; release the lease (per the issue: 4)"),
    "check-in (/start t_<code>)": Minimum(2, "read the ticket (its event decides who may check it in); one "
                                             "conditional update marks it checked in"),
}
SWEEP_DUE = 10


def sweep_minimum(due: int) -> Minimum:
    return Minimum(1 + 3 * due, f"find the due orders (1); per order: move it pending→expired, release its seats "
                               f"(one tier each here), close the buyer's pending slot (3 × {due})")


class CommandCounter(monitoring.CommandListener):
    """Every command sent to the server, as (command name, collection), since the last `take()`."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.version_checks = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in NOT_COUNTED:
            return
        target = event.command.get(event.command_name)
        collection = target if isinstance(target, str) else ""
        if collection == VERSION_COLLECTION and event.command_name == "find":
            self.version_checks += 1  # the catalog's periodic version check: counted apart
            return
        self.seen.append((event.command_name, collection))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None

    def take(self) -> list[tuple[str, str]]:
        seen, self.seen = self.seen, []
        return seen


def describe(commands: list[tuple[str, str]]) -> str:
    counts = Counter(f"{name} {collection}".strip() for name, collection in commands)
    return ", ".join(f"{what} ×{n}" if n > 1 else what for what, n in counts.items())


def store_options(args: argparse.Namespace) -> dict[str, Any]:
    """How bench/cli.py opens the store for this benchmark: with the counter listening on the client."""
    args.counter = CommandCounter()
    return {"event_listeners": [args.counter]}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sweep-due", type=int, default=SWEEP_DUE, help="due orders in the expiry sweep")


class Actions:
    """Runs one action at a time and keeps its commands."""

    def __init__(self, counter: CommandCounter) -> None:
        self.counter = counter
        self.counts: dict[str, list[tuple[str, str]]] = {}

    async def measure(self, name: str, action: Any) -> Any:
        self.counter.take()
        try:
            return await action
        finally:
            self.counts[name] = self.counter.take()


def buttons(telegram: TelegramSimulator, uid: int, message: MessageRecord, prefix: str) -> list[str]:
    return [d for d in telegram.message(uid, message.message_id).callback_data() if d.startswith(prefix + "|")]


async def run(args: argparse.Namespace, store: StoreInfo) -> Result:
    if store.kind == "memory":
        raise SystemExit("bench commands counts commands on the wire: use --store mongoeco or a MongoDB URI")
    counter: CommandCounter = args.counter
    from handlers.telegram import register
    from handlers.telegram.buyer import CART, CHECKOUT, CONFIRM, PAY

    telegram = TelegramSimulator()
    telegram.add_user(ORGANISER_ID, "Rani", language_code="en", started=True)
    uids = [FIRST_BUYER_ID + i for i in range(6 + args.sweep_due)]
    accounts = [f"telegram:{uid}" for uid in uids]
    for uid in uids:
        telegram.add_user(uid, f"Pembeli {uid - FIRST_BUYER_ID}", language_code="id", started=True)
    mail = Mailboxes(telegram)
    actions = Actions(counter)

    async with midtrans_elsewhere(SERVER_KEY, public_base_url=PAY_HOST) as midtrans:
        gateway = MidtransGateway(SERVER_KEY, snap_base_url=midtrans.snap_base_url,
                                  api_base_url=midtrans.api_base_url, timeout=10.0)
        services = services_for(store.store, gateway=gateway)
        await add_event(services, EVENT, [TierDef("GA", 150_000, 100, max_per_order=4),
                                          TierDef("VIP", 450_000, 100, max_per_order=4),
                                          TierDef("LAST", 900_000, 1, max_per_order=1)],
                        starts_in=timedelta(hours=2))  # inside its door window: /start t_ checks in at once
        app = build_application(telegram)
        register(app, services)
        await app.initialize()
        lane = Lane(app, telegram, mail, defaultdict(list))  # its latencies are not this benchmark's business
        try:
            counter.take()
            checks = counter.version_checks
            await services.catalog.events()  # the first read after start loads the catalog
            load = len(counter.take()) + counter.version_checks - checks
            await lane.say(ORGANISER_ID, "/help", "warm")  # the organiser is known to this process

            # ---- reserve alone
            await actions.measure("reserve, 1 tier", services.orders.reserve(accounts[0], EVENT, {"GA": 1}, buyer(0)))
            await actions.measure("reserve, 2 tiers",
                                  services.orders.reserve(accounts[1], EVENT, {"GA": 1, "VIP": 1}, buyer(1)))
            await services.orders.reserve(accounts[3], EVENT, {"LAST": 1}, buyer(3))  # the last seat
            for late in accounts[4:6]:  # the first learns it from its hold; the next is what a sell-out costs
                try:
                    await actions.measure("reserve, sold out", services.orders.reserve(late, EVENT, {"LAST": 1},
                                                                                      buyer(4)))
                except ReservationRefused as refused:
                    if refused.reason != RefusalReason.SOLD_OUT:
                        raise
                else:
                    raise RuntimeError("a seat was sold twice")

            # ---- a first-time buyer through the chat
            uid = uids[2]
            welcome = await actions.measure("chat: /start", lane.say(uid, "/start", "start"))
            assert welcome is not None
            open_card = next(d for d in buttons(telegram, uid, welcome, CART) if d.startswith(f"{CART}|{EVENT}|"))
            await telegram.press_button(uid, welcome.message_id, open_card)
            await actions.measure("chat: event card", lane.feed(uid, "card"))
            card = telegram.message(uid, welcome.message_id)
            plus = next(d for d in buttons(telegram, uid, card, CART) if d.endswith("GA:1"))
            await telegram.press_button(uid, card.message_id, plus)
            await actions.measure("chat: ➕", lane.feed(uid, "plus"))
            checkout = buttons(telegram, uid, card, CHECKOUT)[0]
            await telegram.press_button(uid, card.message_id, checkout)
            await actions.measure("chat: checkout", lane.feed(uid, "checkout"))
            await actions.measure("chat: name", lane.say(uid, "Sinta Wulandari", "name"))
            await actions.measure("chat: email", lane.say(uid, "sinta@example.com", "email"))
            summary = await actions.measure("chat: phone (summary)", lane.say(uid, "0812-3456-7890", "phone"))
            assert summary is not None
            paid_link = await actions.measure("chat: confirm", lane.press(uid, summary, CONFIRM, "confirm"))
            assert paid_link is not None
            if not any(b.get("url", "").startswith(PAY_HOST) for b in paid_link.buttons()):
                raise RuntimeError(f"no payment link after confirm:\n{telegram.transcript(uid)}")
            order = (await services.orders.pending_for_user(accounts[2]))[0]

            # ---- a second order of the same buyer, its link not made yet: Pay from /orders
            await services.orders.reserve(accounts[2], EVENT, {"VIP": 1}, buyer(2))
            orders_list = await actions.measure("chat: /orders", lane.say(uid, "/orders", "orders"))
            assert orders_list is not None
            await actions.measure("chat: pay button", lane.press(uid, orders_list, PAY, "pay"))

            # ---- Midtrans settles the first order; the delivery job sends what it owes
            midtrans.state.set_status(order.id, "settlement", payment_type="bank_transfer")
            body = json.dumps(midtrans.state.notification_body(order.id)).encode()
            result = await actions.measure("settlement notification", services.payments.handle_notification(body))
            if result.outcome.value != "paid":
                raise RuntimeError(f"settlement: {result.outcome}")
            delivered = await actions.measure("delivery job", services.delivery.deliver(order.id))
            if not delivered:
                raise RuntimeError("the delivery job did not deliver everything")

            # ---- the organiser scans the ticket at the door
            ticket = (await services.tickets.for_order(order.id))[0]
            answer = await actions.measure("check-in (/start t_<code>)",
                                           lane.say(ORGANISER_ID, f"/start t_{ticket.id}", "checkin"))
            if answer is None or "✅" not in (answer.body or ""):
                raise RuntimeError(f"check-in: {answer.body if answer else None}")

            # ---- the expiry sweep: exactly `sweep_due` due orders, one seat of one tier each
            for earlier in await services.store.orders.due_for_expiry(services.clock() + timedelta(hours=1), 1000):
                await services.orders.cancel(earlier.id, earlier.user_id)
            for i, sweeper in enumerate(accounts[6:]):
                await services.orders.reserve(sweeper, EVENT, {"GA": 1}, buyer(10 + i))
            sweep_name = f"expiry sweep, {args.sweep_due} due"
            report = await actions.measure(sweep_name, services.orders.expire_due(
                services.clock() + timedelta(hours=1)))
            if len(report.orders) != args.sweep_due:
                raise RuntimeError(f"the sweep expired {len(report.orders)} orders, not {args.sweep_due}")
        finally:
            await app.shutdown()

    problems = await invariant_problems(services)
    if any(c for c in telegram.calls if not c.ok):
        problems.append("Bot API calls refused: " + "; ".join(f"{c.method}: {c.description}"
                                                               for c in telegram.calls if not c.ok)[:300])
    minimum = {**MINIMUM, sweep_name: sweep_minimum(args.sweep_due)}
    per_action = {}
    for name, commands in actions.counts.items():
        need = minimum[name]
        per_action[name] = {"commands": len(commands), "minimum": need.commands,
                            "ratio": round(len(commands) / need.commands, 2) if need.commands else None,
                            "detail": describe(commands), "minimum_because": need.why}
    purchase_steps = [n for n in actions.counts if n.startswith("chat: ") and n not in
                      ("chat: /orders", "chat: pay button")] + ["settlement notification", "delivery job"]
    purchase = sum(per_action[n]["commands"] for n in purchase_steps)
    purchase_min = sum(per_action[n]["minimum"] for n in purchase_steps)
    worst = max(per_action.items(), key=lambda kv: kv[1]["ratio"] or 0)
    over = [n for n, v in per_action.items() if (v["ratio"] or 0) > TARGET_RATIO]
    fields = {
        "actions": per_action,
        "purchase_commands": purchase,
        "purchase_minimum": purchase_min,
        "purchase_steps": purchase_steps,
        "catalog_load_commands": load,
        "catalog_version_checks": counter.version_checks,
        "max_ratio": worst[1]["ratio"],
        "max_ratio_action": worst[0],
        "over_target": over,
        "invariant_ok": not problems,
        "target": f"every action <= {TARGET_RATIO}x its minimum",
        "target_met": not over and not problems,
    }
    table = [[name, v["commands"], v["minimum"], v["ratio"], v["detail"]] for name, v in per_action.items()]
    table.append(["a purchase (the chat to confirm, settlement, delivery)", purchase, purchase_min,
                  round(purchase / purchase_min, 2), ""])
    rows = [("purchase_commands (first-time buyer, 1 ticket)", purchase), ("purchase_minimum", purchase_min),
            ("catalog_load_commands (first read in a process)", load),
            ("catalog_version_checks (during the run; 1 per process per interval)", counter.version_checks),
            ("max_ratio", f"{worst[1]['ratio']} ({worst[0]})"), ("over_target", ", ".join(over) or "none"),
            ("invariant_ok", not problems), ("target", fields["target"]), ("target_met", fields["target_met"])]
    notes = problems[:10] + [f"minimum for {name}: {m.why}" for name, m in minimum.items()]
    return Result("commands", {"sweep_due": args.sweep_due}, fields, rows, notes=notes,
                  sections=[("MongoDB commands per action (counted on the wire)",
                             ["action", "commands", "minimum", "ratio", "commands sent"], table)])
