"""End to end: the real service (`bot.runtime.serve`, long polling) against the fake Bot API over HTTP, with the
Midtrans simulator sending signed notifications to the service's `/api/payment/notification`.

The tests act only as people do — buyers, an organiser, an admin and a stranger send texts and photos and press
buttons in the fake Telegram — and as Midtrans does (the simulator's payment flows). They read state (the store,
the simulator) only to check what happened. The one exception is the expiry test, which ends a hold by moving
its `expires_at` into the past in the database: the service runs on the real clock, and waiting out even a
one-minute hold would make the test slow.

Most tests share one running service (module scope) and keep apart by using their own buyers and, where seat
counts matter, their own event. Tests that need a quiet service (no expiry sweep racing `/expire`) or that
restart the service run their own. The events file is written with dates relative to now, so the events stay on
sale whatever the date.

The restart test runs two `serve`s one after the other over one MongoDB server (the mongoeco wire server the
storage tests use, fixture `wire_uri`; skipped without it), with the same fake Telegram and Midtrans: the
embedded store is the memory of one `serve` by design (it warns "Nothing is persisted"), so a restart over it
could only lose the purchase, and `serve` takes no store from outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import zxingcpp
from PIL import Image

from bot.clock import WIB
from bot.config import Settings
from bot.runtime import Running
from bot.sandbox.midtrans import MidtransSimulator
from bot.sandbox.telegram import CallbackQueryRecord, FakeTelegram, MessageRecord, parse_html
from bot.tickets import format_code
from storage.documents import OrderStatus, tier_key
from storage.store import close_store, open_store
from tests.conftest import ADMIN_ID, ORGANISER_ID
from tests.helpers import acct
from tests.service_runner import running
from webhooks.payment_notifications import PATH as NOTIFICATION_PATH

pytestmark = pytest.mark.asyncio(loop_scope="module")

SERVER_KEY = "SB-Mid-server-E2eTestKey0123456789"
STRANGER_ID = 900000012       # neither organiser nor admin
OTHER_ORGANISER_ID = 900000013
WAIT = 10.0                   # for one answer of the bot; only a failing test waits this long

KONSER, GRATIS, LAST, BATAL, HANGUS, MARKUP = (
    "e2e-konser", "e2e-gratis", "e2e-last", "e2e-batal", "e2e-hangus", "e2e-markup")
KONSER_TITLE = "Konser Senja E2E"
MARKUP_TITLE = 'Rock <&> Roll & "Friends" 🎸🔥 <b>not bold</b> &amp; <3'
MARKUP_TIER = '<Front> & "row" 🎟'


# ------------------------------------------------------------------------------------------------ the world


def write_events(directory: Path) -> Path:
    """Six events on sale from now on: starting in 30 days, sales open until they start."""
    starts = (datetime.now(UTC) + timedelta(days=30)).replace(second=0, microsecond=0)
    when = f"starts_at: {starts.isoformat()}\n    ends_at: {(starts + timedelta(hours=3)).isoformat()}"

    def event(event_id: str, title: str, tiers: str, organisers: int = ORGANISER_ID, venue: str = "Jakarta") -> str:
        return (f"  - id: {event_id}\n    title: '{title}'\n    description: An end-to-end test event.\n"
                f"    venue: '{venue}'\n    {when}\n    organisers: [{organisers}]\n    tiers:\n{tiers}")

    def tier(code: str, name: str, price: int, capacity: int, max_per_order: int) -> str:
        return (f"      - {{code: {code}, name: '{name}', price: {price}, capacity: {capacity}, "
                f"max_per_order: {max_per_order}}}\n")

    path = directory / "events.yaml"
    path.write_text("events:\n" + "".join([
        event(KONSER, KONSER_TITLE, tier("REG", "Reguler", 100000, 50, 4) + tier("VIP", "VIP", 250000, 10, 2)),
        event(GRATIS, "Workshop Gratis E2E", tier("FREE", "Community seat", 0, 20, 1)),
        event(LAST, "Last Seat Gig", tier("LAST", "Last seat", 75000, 1, 1), organisers=OTHER_ORGANISER_ID),
        event(BATAL, "Cancel Night", tier("GA", "General", 50000, 6, 4)),
        event(HANGUS, "Expiry Night", tier("GA", "General", 60000, 6, 4)),
        event(MARKUP, MARKUP_TITLE, tier("FRONT", MARKUP_TIER, 120000, 10, 2), venue="Bar <Ujung> & Co"),
    ]))
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_settings(fake: FakeTelegram, sim: MidtransSimulator, events_file: Path, **overrides: Any) -> Settings:
    """Every setting given here, so nothing comes from the environment of whoever runs pytest."""
    values: dict[str, Any] = {
        "telegram_bot_token": fake.token, "telegram_api_base_url": fake.base_url,
        "midtrans_server_key": SERVER_KEY, "midtrans_client_key": None, "midtrans_is_production": False,
        "midtrans_snap_base_url": sim.snap_base_url, "midtrans_api_base_url": sim.api_base_url,
        "mongodb_uri": None, "mongodb_db": "karcis_e2e", "public_url": None, "port": free_port(),
        "admin_ids": frozenset({ADMIN_ID}), "reservation_minutes": 30, "expiry_sweep_seconds": 1,
        "sale_digest_seconds": 1,
        "events_file": events_file, **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextlib.asynccontextmanager
async def telegram_and_midtrans() -> AsyncIterator[tuple[FakeTelegram, MidtransSimulator]]:
    """The fake Bot API with everybody in it, and the Midtrans simulator. The payment page and the e-wallet QR
    images live on 127.0.0.1, which Telegram refuses as a button URL; the fake lets the simulator's URLs through,
    as the sandbox does."""
    async with MidtransSimulator(SERVER_KEY) as sim, FakeTelegram(
        allowed_local_urls=[f"{sim.base_url}/"]
    ) as fake:
        fake.add_user(ORGANISER_ID, "Rani", last_name="Organiser", started=True)
        fake.add_user(OTHER_ORGANISER_ID, "Wulan", started=True)
        fake.add_user(ADMIN_ID, "Adi", last_name="Admin", started=True)
        fake.add_user(STRANGER_ID, "Joko", started=True)
        yield fake, sim


@contextlib.asynccontextmanager
async def serving(settings: Settings, sim: MidtransSimulator) -> AsyncIterator[Running]:
    """The service running, with Midtrans notifying it, until the block ends; then a clean stop."""
    sim.notification_url = f"http://127.0.0.1:{settings.port}{NOTIFICATION_PATH}"
    async with running(settings) as service:
        yield service


Match = Callable[[MessageRecord], bool]


def says(*fragments: str) -> Match:
    """A bot message whose text or caption contains every fragment."""
    return lambda m: all(f in (m.body or "") for f in fragments)


def starts(prefix: str) -> Match:
    return lambda m: (m.body or "").startswith(prefix)


@dataclass
class People:
    """Acting as Telegram users in the fake, and waiting for the bot's answers (which come over HTTP)."""

    fake: FakeTelegram

    def last_id(self, uid: int) -> int:
        chat = self.fake.messages(uid, include_user=True, include_deleted=True)
        return chat[-1].message_id if chat else 0

    async def say(self, uid: int, text: str, match: Match | None = None) -> MessageRecord:
        """The user sends `text`; the bot's first answer after it (that matches)."""
        sent = await self.fake.send_text(uid, text)
        return await self.fake.wait_for_message(uid, match, after=sent.message_id, timeout=WAIT)

    async def photo(self, uid: int, image: bytes, match: Match | None = None) -> MessageRecord:
        sent = await self.fake.send_photo(uid, image)
        return await self.fake.wait_for_message(uid, match, after=sent.message_id, timeout=WAIT)

    async def tap(self, uid: int, message: MessageRecord, which: str) -> CallbackQueryRecord:
        """Press the button labelled (or carrying the callback data) `which`; wait until the bot answered it."""
        current = self.fake.message(uid, message.message_id)
        data = next((b["callback_data"] for b in current.buttons()
                     if b.get("callback_data") and which in (b.get("text"), b["callback_data"])), None)
        if data is None:
            raise LookupError(f"no button {which!r} on #{message.message_id}: "
                              f"{[(b.get('text'), b.get('callback_data')) for b in current.buttons()]}")
        query = await self.fake.press_button(uid, message.message_id, data)
        return await self.fake.wait_for_callback_answer(query, timeout=WAIT)

    async def tap_edit(self, uid: int, message: MessageRecord, which: str,
                       match: Match | None = None) -> MessageRecord:
        """Press a button that changes the message in place; the message once it has changed (and matches)."""
        versions = len(self.fake.message(uid, message.message_id).history)
        await self.tap(uid, message, which)

        def changed() -> bool:
            current = self.fake.message(uid, message.message_id)
            return len(current.history) > versions and (match is None or match(current))

        await self.fake.wait_until(changed, timeout=WAIT)
        return self.fake.message(uid, message.message_id)

    async def answer(self, uid: int, text: str, match: Match) -> MessageRecord:
        """The user types `text` during a purchase; the bot message that answers it: the prompt edited in place
        (or a new message, when there was none the bot could edit), once it matches."""
        revision = self.fake.revision
        await self.fake.send_text(uid, text)
        found: list[MessageRecord] = []

        def check() -> bool:
            found[:] = [m for m in self.fake.changes_since(uid, revision) if m.from_bot and match(m)]
            return bool(found)

        await self.fake.wait_until(check, timeout=WAIT)
        return found[0]

    async def tap_reply(self, uid: int, message: MessageRecord, which: str,
                        match: Match | None = None) -> MessageRecord:
        """Press a button that makes the bot send a new message; that message."""
        after = self.last_id(uid)
        await self.tap(uid, message, which)
        return await self.fake.wait_for_message(uid, match, after=after, timeout=WAIT)

    def now(self, uid: int, message: MessageRecord) -> MessageRecord:
        return self.fake.message(uid, message.message_id)

    def photos_after(self, uid: int, message_id: int) -> list[MessageRecord]:
        return [m for m in self.fake.messages(uid) if m.photo and m.message_id > message_id]

    def failed_calls(self, since: int = 0) -> list[str]:
        return [f"{c.method}: {c.description}" for c in self.fake.calls[since:] if not c.ok]


# ------------------------------------------------------------------------------------------------ buying


def plus(message: MessageRecord, tier_name: str) -> str:
    """The ➕ of a tier's row on an event card: [➖] [name · qty] [➕]."""
    for row in message.inline_keyboard:
        if len(row) == 3 and row[1]["text"].split(" · ")[0] == tier_name and row[2]["text"] == "➕":
            return row[2]["callback_data"]
    raise LookupError(f"no ➕ for {tier_name!r}: {[[b['text'] for b in row] for row in message.inline_keyboard]}")


async def choose(people: People, uid: int, event_id: str, cart: dict[str, int]) -> MessageRecord:
    """Open the event's deep link and press ➕ as often as the cart says; the card, edited in place."""
    card = await people.say(uid, f"/start ev_{event_id}", says("🎟 Tickets"))
    for tier_name, qty in cart.items():
        for _ in range(qty):
            card = await people.tap_edit(uid, card, plus(card, tier_name))
    return card


async def to_summary(people: People, uid: int, event_id: str, cart: dict[str, int], name: str,
                     email: str = "buyer@example.com", phone: str = "0812-3456-7890") -> MessageRecord:
    """Choose the tickets, continue, and give name, email and phone; the order summary."""
    card = await choose(people, uid, event_id, cart)
    checkout = next(b["text"] for b in card.buttons() if b["text"].startswith("Continue · "))
    asked = await people.tap_edit(uid, card, checkout,  # the card becomes the first prompt
                                  lambda m: "Step 1 of 3" in (m.text or "") or "from last time" in (m.text or ""))
    if asked.text.startswith("👤 Use the details from last time?"):  # a buyer who bought before
        if f"Name: {name}\nEmail: {email}\n" in asked.text:
            return await people.tap_edit(uid, asked, "✅ Use these details", says("Order summary"))
        asked = await people.tap_edit(uid, asked, "✏️ Enter other details", says("Step 1 of 3"))
    assert asked.text.startswith("👤 Step 1 of 3")
    await people.answer(uid, name, says("Step 2 of 3"))
    await people.answer(uid, email, says("Step 3 of 3"))
    return await people.answer(uid, phone, says("Order summary"))


async def confirm(people: People, uid: int, summary: MessageRecord) -> MessageRecord:
    """Press Confirm; the summary, edited into the payment link."""
    return await people.tap_edit(uid, summary, "✅ Confirm and hold the seats", says("Seats held!"))


def order_id_in(message: MessageRecord) -> str:
    found = re.search(r"Order ([\w-]+)", message.text or "")  # "Order KRC-…:" once the message shows it paid
    assert found, message.text
    return found.group(1)


async def paid_photos(people: People, uid: int, after: int, count: int) -> tuple[MessageRecord, list[MessageRecord]]:
    """Wait for the first QR photo, captioned "payment received", and `count` QR photos in all after message
    `after`; then make sure no more come. (The receipt, and the photos, the first being the receipt.)"""
    received = await people.fake.wait_for_message(uid, starts("💳 Payment received"), after=after, timeout=WAIT)
    assert received.photo, "the receipt rides in the first ticket photo's caption"
    await people.fake.wait_until(lambda: len(people.photos_after(uid, received.message_id - 1)) >= count,
                                 timeout=WAIT)
    await asyncio.sleep(0.3)
    photos = people.photos_after(uid, received.message_id - 1)
    assert len(photos) == count, people.fake.transcript(uid)
    return received, photos


def ticket_part(photo: MessageRecord) -> list[str]:
    """The lines of a ticket photo's own caption (after the receipt the first one carries)."""
    return (photo.caption or "").split("\n\n")[-1].splitlines()


def qr_text(people: People, photo: MessageRecord) -> str:
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(people.fake.file_bytes(photo.photo_file_id))))
    return code.text


async def available(service: Running, event_id: str, tier: str) -> int:
    doc = await service.services.store.inventory.get(tier_key(event_id, tier))
    assert doc is not None
    return doc.available


# ------------------------------------------------------------------------------------------------ fixtures


@dataclass
class World:
    fake: FakeTelegram
    sim: MidtransSimulator
    service: Running
    people: People


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """One running service for the tests whose state does not collide: expiry sweep every second."""
    events = write_events(tmp_path_factory.mktemp("e2e"))
    async with telegram_and_midtrans() as (fake, sim):
        async with serving(service_settings(fake, sim, events), sim) as service:
            yield World(fake, sim, service, People(fake))
        assert not fake.pending_updates  # every update was taken before the service stopped


@pytest.fixture
def clean(world: World) -> Any:
    """The fake Bot API refused nothing during the test (bad HTML, bad buttons, too long...)."""
    since = len(world.fake.calls)
    yield
    assert world.people.failed_calls(since) == []


# ------------------------------------------------------------------------------------------------ buyers


async def test_a_full_purchase_from_start_to_the_qr_photos(world: World, clean: None) -> None:
    people, uid = world.people, 910001
    world.fake.add_user(uid, "Sinta", last_name="Maharani")

    welcome = await people.say(uid, "/start")
    assert welcome.text.startswith("👋 Hi Sinta!") and "Events on sale" in welcome.text
    event_button = next(b["text"] for b in welcome.buttons()  # the date first, then the title (cut to fit)
                        if b["text"].split(" · ", 1)[-1].rstrip("…") in KONSER_TITLE)
    card = await people.tap_edit(uid, welcome, event_button)
    assert card.text.startswith(f"{KONSER_TITLE}\n🗓 ") and " WIB\n📍 Jakarta" in card.text
    assert "• Reguler: Rp100.000 · " in card.text and "• VIP: Rp250.000 · " in card.text
    before = await available(world.service, KONSER, "REG")

    card = await people.tap_edit(uid, card, plus(card, "Reguler"))
    card = await people.tap_edit(uid, card, plus(card, "Reguler"))
    assert "2 × Reguler: Rp200.000" in card.text and "Total: Rp200.000" in card.text
    asked = await people.tap_edit(uid, card, "Continue · Rp200.000", says("Step 1 of 3"))
    assert asked.text.startswith("👤 Step 1 of 3")
    mistake = await people.answer(uid, "12345", says("A name needs letters"))
    assert mistake.text.startswith("⚠️ A name needs letters.") and mistake.message_id == card.message_id
    await people.answer(uid, "Sinta Maharani", says("Step 2 of 3"))
    await people.answer(uid, "sinta@example.com", says("Step 3 of 3"))
    summary = await people.answer(uid, "0812-3456-7890", says("Order summary"))
    assert "2 × Reguler: Rp200.000\nTotal: Rp200.000" in summary.text
    assert "👤 Sinta Maharani\n📧 sinta@example.com\n📱 +6281234567890" in summary.text

    pay = await confirm(people, uid, summary)
    order_id = order_id_in(pay)
    assert "⏰ Pay before " in pay.text and await available(world.service, KONSER, "REG") == before - 2
    url = pay.button("💳 Pay Rp200.000")["url"]
    assert url == world.sim.payment_page_url(order_id)
    async with aiohttp.ClientSession() as http, http.get(url) as page:  # the buyer's browser opens the link
        assert page.status == 200 and "Rp200.000" in await page.text()

    await world.sim.simulate_payment(order_id)  # bank transfer: pending, then settlement, each notified
    received, photos = await paid_photos(people, uid, pay.message_id, 2)
    va = world.sim.transaction(order_id).va_number
    instructions = await world.fake.wait_for_message(uid, starts("🏦 Finish your payment"), after=pay.message_id)
    assert f"• BCA virtual account: {va}" in instructions.text

    assert received.caption.startswith(f"💳 Payment received: order {order_id}\n2 × Reguler")
    tickets = await world.service.services.tickets.for_order(order_id)
    assert sorted(ticket_part(p)[3] for p in photos) == sorted(format_code(t.id) for t in tickets)
    assert ticket_part(photos[0])[:3] == [f"🎟 {KONSER_TITLE}", "Reguler", "👤 Sinta Maharani"]
    assert {qr_text(people, p) for p in photos} == {f"https://t.me/KarcisBot?start=t_{t.id}" for t in tickets}
    assert (await world.service.services.orders.get(order_id)).status == OrderStatus.PAID
    assert [d.http_status for d in world.sim.deliveries if d.order_id == order_id] == [200, 200]
    # the digest: in Indonesian while the organiser has never written to the bot, then in their own language
    sale = await world.fake.wait_for_message(ORGANISER_ID, says("📊 ", order_id), after=0, timeout=WAIT)
    assert f"• Sinta Maharani · 2 × Reguler · {order_id}" in sale.text  # the organiser's sale digest


async def test_a_multi_tier_order_totals_both_tiers_and_gives_a_qr_per_ticket(world: World, clean: None) -> None:
    people, uid = world.people, 910002
    world.fake.add_user(uid, "Budi")

    summary = await to_summary(people, uid, KONSER, {"Reguler": 1, "VIP": 2}, "Budi Santoso")
    assert "1 × Reguler: Rp100.000\n2 × VIP: Rp500.000\nTotal: Rp600.000" in summary.text
    pay = await confirm(people, uid, summary)
    order_id = order_id_in(pay)
    assert pay.button("💳 Pay Rp600.000")

    await world.sim.simulate_payment(order_id, payment_type="credit_card")
    received, photos = await paid_photos(people, uid, pay.message_id, 3)

    assert "1 × Reguler: Rp100.000\n2 × VIP: Rp500.000\nTotal Rp600.000" in received.caption
    assert sorted(ticket_part(p)[1] for p in photos) == ["Reguler", "VIP", "VIP"]
    order = await world.service.services.orders.get(order_id)
    assert order.total == 600000 and world.sim.transaction(order_id).gross_amount == 600000


async def test_a_free_ticket_comes_at_once(world: World, clean: None) -> None:
    people, uid = world.people, 910003
    world.fake.add_user(uid, "Dewi")

    summary = await to_summary(people, uid, GRATIS, {"Community seat": 1}, "Dewi Lestari")
    assert "1 × Community seat: Free\nTotal: Free" in summary.text and "Midtrans" not in summary.text
    confirmed = await people.tap_edit(uid, summary, "✅ Confirm: get my tickets", says("your tickets follow"))
    photo = await world.fake.wait_for_message(uid, starts("🎉 Your free tickets"), after=confirmed.message_id,
                                              timeout=WAIT)

    assert photo.photo and photos_after_is_one(people, uid, confirmed.message_id)
    [ticket] = await world.service.services.tickets.for_user(acct(uid))
    assert ticket_part(photo)[:4] == ["🎟 Workshop Gratis E2E", "Community seat", "👤 Dewi Lestari",
                                              format_code(ticket.id)]
    assert qr_text(people, photo) == f"https://t.me/KarcisBot?start=t_{ticket.id}"
    assert not world.sim.transactions.get(ticket.order_id)  # nothing to pay: Midtrans never heard of it


def photos_after_is_one(people: People, uid: int, message_id: int) -> bool:
    return len(people.photos_after(uid, message_id)) == 1


async def test_cancelling_an_order_puts_the_seats_back_on_sale(world: World, clean: None) -> None:
    people, uid = world.people, 910004
    world.fake.add_user(uid, "Eka")

    pay = await confirm(people, uid, await to_summary(people, uid, BATAL, {"General": 3}, "Eka Putri"))
    order_id = order_id_in(pay)
    assert await available(world.service, BATAL, "GA") == 3
    card = await people.say(uid, f"/start ev_{BATAL}", says("🎟 Tickets"))
    assert "• General: Rp50.000 · 3 left" in card.text

    ask = await people.tap_edit(uid, pay, "✖ Cancel order", starts("❓"))  # one confirming tap
    assert ask.text.startswith(f"❓ Cancel order {order_id}?")
    cancelled = await people.tap_edit(uid, ask, "✖ Yes, cancel it")

    assert cancelled.text.startswith(f"✖ Order {order_id} cancelled; the seats were released.")
    assert (await world.service.services.orders.get(order_id)).status == OrderStatus.CANCELLED
    assert await available(world.service, BATAL, "GA") == 6
    card = await people.say(uid, f"/start ev_{BATAL}", says("🎟 Tickets"))
    assert "• General: Rp50.000 · 6 left" in card.text
    orders = await people.say(uid, "/orders")
    assert orders.text.startswith("You have no unpaid orders")


async def test_an_ended_hold_is_released_by_the_expiry_job_and_the_buyer_is_told(world: World, clean: None) -> None:
    people, uid = world.people, 910005
    world.fake.add_user(uid, "Fajar")
    pay = await confirm(people, uid, await to_summary(people, uid, HANGUS, {"General": 2}, "Fajar Nugroho"))
    order_id = order_id_in(pay)
    assert await available(world.service, HANGUS, "GA") == 4

    # The hold ends: moved into the past in the database (the service runs on the real clock).
    ended = datetime.now(UTC) - timedelta(seconds=1)
    await world.service.services.store.db["orders"].update_one({"_id": order_id}, {"$set": {"expires_at": ended}})

    told = await world.fake.wait_for_message(uid, starts(f"⌛ Order {order_id}"), after=pay.message_id,
                                             timeout=WAIT)  # the sweep runs every second
    assert told.text == (f"⌛ Order {order_id} for Expiry Night was not paid in time; the seats were released.\n"
                         "2 × General: Rp120.000")
    assert (await world.service.services.orders.get(order_id)).status == OrderStatus.EXPIRED
    assert await available(world.service, HANGUS, "GA") == 6
    card = await people.tap_edit(uid, told, "🎟 Buy again")  # back on the card, the same two tickets chosen
    assert "• General: Rp60.000 · 6 left" in card.text and "2 × General: Rp120.000" in card.text


async def test_two_buyers_race_for_the_last_seat(world: World, clean: None) -> None:
    people, first, second = world.people, 910006, 910007
    world.fake.add_user(first, "Gita")
    world.fake.add_user(second, "Hadi")
    summaries = {uid: await to_summary(people, uid, LAST, {"Last seat": 1}, name)
                 for uid, name in ((first, "Gita Ayu"), (second, "Hadi Wijaya"))}
    after = {uid: people.last_id(uid) for uid in summaries}

    # Both press Confirm before the bot has answered either of them.
    presses = [await world.fake.press_button(uid, summary.message_id,
                                             summary.button("✅ Confirm and hold the seats")["callback_data"])
               for uid, summary in summaries.items()]
    assert not any(press.answered for press in presses)
    for press in presses:
        await world.fake.wait_for_callback_answer(press, timeout=WAIT)
    def answered(m: MessageRecord) -> bool:
        return "Seats held!" in (m.text or "") or (m.text or "").startswith("😕")

    for uid, summary in summaries.items():  # each summary is edited into the answer
        await world.fake.wait_until(lambda uid=uid, summary=summary: answered(people.now(uid, summary)), timeout=WAIT)
    answers = {uid: people.now(uid, summary) for uid, summary in summaries.items()}
    assert all(people.last_id(uid) == after[uid] for uid in summaries)  # and nothing new was sent

    held = [uid for uid, m in answers.items() if "Seats held!" in m.text]
    refused = [uid for uid, m in answers.items() if uid not in held]
    assert len(held) == 1 and len(refused) == 1, answers
    assert answers[held[0]].button("💳 Pay Rp75.000")["url"].startswith(world.sim.base_url)
    assert answers[refused[0]].text == "😕 Last seat is sold out."
    assert answers[refused[0]].buttons()[0]["text"] == "🎟 Change tickets"
    tier = await world.service.services.store.inventory.get(tier_key(LAST, "LAST"))
    assert (tier.available, tier.pending) == (0, 1)
    assert len(await world.service.services.orders.pending_for_user(acct(refused[0]))) == 0
    card = await people.say(refused[0], f"/start ev_{LAST}", says("🎟 Tickets"))
    assert "• Last seat: Rp75.000 · sold out" in card.text


# ------------------------------------------------------------------------------------------------ at the door


async def test_check_in_by_code_by_photo_and_by_deep_link_then_the_double_scan(world: World, clean: None) -> None:
    people, uid = world.people, 910008
    world.fake.add_user(uid, "Indah")
    pay = await confirm(people, uid, await to_summary(people, uid, KONSER, {"Reguler": 3}, "Indah <Sari> & Co"))
    await world.sim.simulate_payment(order_id_in(pay), payment_type="gopay")
    _, (by_code, by_photo, by_link) = await paid_photos(people, uid, pay.message_id, 3)
    code = ticket_part(by_code)[3]  # what the buyer reads out at the door: XXXX-XXXX-XXXX
    photo = world.fake.file_bytes(by_photo.photo_file_id)  # the QR the buyer got, shown to the camera
    link = qr_text(people, by_link)  # what the phone camera opens: t.me/KarcisBot?start=t_<code>
    assert link.startswith("https://t.me/KarcisBot?start=t_")
    payload = link.split("?start=", 1)[1]
    welcome = f"✅ Checked in: Indah <Sari> & Co, Reguler\n{KONSER_TITLE}"
    early = "⏳ This event starts on "  # the event is 30 days away: outside the door window, one tap to confirm

    asked = await people.say(ORGANISER_ID, f"/checkin {code.lower()}", starts(early))
    assert asked.text.endswith(": check in anyway?\nIndah <Sari> & Co, Reguler\n" + KONSER_TITLE)
    ok = await people.tap_edit(ORGANISER_ID, asked, "✅ Check in anyway", starts("✅"))
    assert ok.text == welcome and ok.buttons() == []
    ready = await people.say(ORGANISER_ID, "/scan", starts("📷"))
    assert ready.text.startswith("📷 Send a photo of the ticket's QR code")
    asked = await people.photo(ORGANISER_ID, photo, starts(early))
    ok = await people.tap_edit(ORGANISER_ID, asked, "✅ Check in anyway", starts("✅"))
    assert ok.text == welcome
    asked = await people.say(ORGANISER_ID, f"/start {payload}", starts(early))
    ok = await people.tap_edit(ORGANISER_ID, asked, "✅ Check in anyway", starts("✅"))
    assert ok.text == welcome
    tickets = {t.id: t for t in await world.service.services.tickets.for_order(order_id_in(pay))}
    assert all(t.checked_in_at is not None and t.checked_in_by == acct(ORGANISER_ID) for t in tickets.values())

    # Each again, the same way: ⚠️ with when (WIB) and by whom.
    for ticket_id, again in (
        (code.replace("-", ""), people.say(ORGANISER_ID, f"/checkin {code}", starts("⚠️"))),
        (qr_text(people, by_photo).rsplit("t_", 1)[1], people.photo(ORGANISER_ID, photo, starts("⚠️"))),
        (payload[len("t_"):], people.say(ORGANISER_ID, f"/start {payload}", starts("⚠️"))),
    ):
        warned = await again
        at = tickets[ticket_id].checked_in_at.astimezone(WIB).strftime("%H:%M")
        assert warned.text == f"⚠️ Already checked in at {at} WIB by Rani Organiser\nIndah <Sari> & Co, Reguler"

    stranger = await people.say(STRANGER_ID, f"/start {payload}")  # where it stands, nothing personal
    assert stranger.text.startswith("⚠️ Already used: checked in ") and KONSER_TITLE in stranger.text
    assert "Indah" not in stranger.text and "Rani" not in stranger.text
    unknown = await people.say(ORGANISER_ID, "/checkin ABCD-EFGH-JKLM", starts("❌"))
    assert unknown.text == "❌ Unknown code"


# ------------------------------------------------------------------------------------------------ text


async def test_a_title_full_of_markup_and_emoji_is_shown_literally(world: World, clean: None) -> None:
    people, uid = world.people, 910009
    world.fake.add_user(uid, "Kartika")

    welcome = await people.say(uid, "/start")
    assert any(" · Rock <&> Roll &" in b["text"] for b in welcome.buttons())
    card = await people.say(uid, f"/start ev_{MARKUP}", says("🎟 Tickets"))
    assert card.text.startswith(MARKUP_TITLE + "\n🗓 ")
    assert {"type": "bold", "offset": 0, "length": len(MARKUP_TITLE.encode("utf-16-le")) // 2} in card.entities
    assert "📍 Bar <Ujung> & Co" in card.text and f"• {MARKUP_TIER}: Rp120.000 · 10 left" in card.text

    summary = await to_summary(people, uid, MARKUP, {MARKUP_TIER: 1}, "Kartika <K> & Co")
    assert f"\n{MARKUP_TITLE}\n" in summary.text and "👤 Kartika <K> & Co" in summary.text
    pay = await confirm(people, uid, summary)
    order_id = order_id_in(pay)
    await world.sim.simulate_payment(order_id, payment_type="credit_card")
    received, [photo] = await paid_photos(people, uid, pay.message_id, 1)

    assert received is photo and f"1 × {MARKUP_TIER}: Rp120.000" in received.caption
    assert "\n".join(ticket_part(photo)).startswith(f"🎟 {MARKUP_TITLE}\n{MARKUP_TIER}\n👤 Kartika <K> & Co\n")
    sale = await world.fake.wait_for_message(ORGANISER_ID, says("📊 ", order_id), after=0, timeout=WAIT)
    assert MARKUP_TITLE in sale.text and "Kartika <K> & Co" in sale.text
    stats = await people.say(ORGANISER_ID, "/stats", starts("📊"))
    assert f"📊 {MARKUP_TITLE} · " in stats.text
    for message in (welcome, card, summary, pay, received, photo, sale, stats):  # the HTML sent was valid
        assert message.parse_mode != "HTML" or parse_html(message.source or "")


# ------------------------------------------------------------------------------------------------ admins


async def test_stats_and_expire_for_the_admin_and_a_polite_no_for_a_stranger(tmp_path: Path) -> None:
    """A quiet service of its own: the expiry sweep runs once at start, then not for an hour, so nothing but
    /expire can release the hold this test ends."""
    events = write_events(tmp_path)
    async with telegram_and_midtrans() as (fake, sim), serving(
        service_settings(fake, sim, events, expiry_sweep_seconds=3600), sim
    ) as service:
        people, uid = People(fake), 910010
        fake.add_user(uid, "Lina")

        def swept() -> bool:  # the start-up sweep is behind us: the next one is an hour away
            sweep = service.jobs.get("expiry-sweep")
            return sweep is not None and sweep.next_run_time > datetime.now(UTC) + timedelta(minutes=30)

        await fake.wait_until(swept, timeout=WAIT)

        free = await to_summary(people, uid, GRATIS, {"Community seat": 1}, "Lina Marlina")
        await people.tap_edit(uid, free, "✅ Confirm: get my tickets", says("your tickets follow"))
        pay = await confirm(people, uid, await to_summary(people, uid, HANGUS, {"General": 2}, "Lina Marlina"))
        order_id = order_id_in(pay)

        stats = await people.say(ORGANISER_ID, "/stats", starts("📊"))
        assert "• Community seat: sold 1/20 · held 0 · left 19 · checked in 0 · Rp0" in stats.text
        assert "• General: sold 0/6 · held 2 · left 4 · checked in 0 · Rp0" in stats.text
        assert "Last Seat Gig" not in stats.text  # not this organiser's event
        everything = await people.say(ADMIN_ID, "/stats", starts("📊"))
        for title in (KONSER_TITLE, "Workshop Gratis E2E", "Last Seat Gig", "Cancel Night", "Expiry Night",
                      MARKUP_TITLE):
            assert f"📊 {title} · " in everything.text
        refused = await people.say(STRANGER_ID, "/stats")
        assert refused.text == "🙏 Sorry, this command is for event organisers."

        ended = datetime.now(UTC) - timedelta(seconds=1)
        await service.services.store.db["orders"].update_one({"_id": order_id}, {"$set": {"expires_at": ended}})
        for who, text in ((STRANGER_ID, "🙏 Sorry, this command is for Karcis admins."),
                          (ORGANISER_ID, "🙏 Sorry, this command is for Karcis admins.")):
            refused = await people.say(who, "/expire")
            assert refused.text == text
        await asyncio.sleep(0.3)
        assert (await service.services.orders.get(order_id)).status == OrderStatus.PENDING  # nothing ran
        assert [m for m in fake.messages(uid) if m.message_id > pay.message_id] == []

        report = await people.say(ADMIN_ID, "/expire", starts("⌛"))

        assert report.text.splitlines() == ["⌛ 1 order expired, 2 seats released.",
                                            "• Expiry Night: 1 order, 2 seats"]
        told = await fake.wait_for_message(uid, starts(f"⌛ Order {order_id}"), after=pay.message_id, timeout=WAIT)
        assert "was not paid in time" in told.text
        stats = await people.say(ADMIN_ID, "/stats", starts("📊"))
        assert "• General: sold 0/6 · held 0 · left 6 · checked in 0 · Rp0" in stats.text
        nothing = await people.say(ADMIN_ID, "/expire")
        assert nothing.text == "Nothing to expire: no hold has ended."
        assert people.failed_calls() == []


# ------------------------------------------------------------------------------------------------ restart


async def test_a_restart_in_the_middle_of_a_purchase_continues_where_it_was(wire_uri: str, tmp_path: Path) -> None:
    """Stop the service after the buyer gave their name; a new `serve` over the same MongoDB carries on with the
    email, the phone, the confirmation and the payment."""
    events = write_events(tmp_path)
    database = f"karcis_e2e_{uuid.uuid4().hex[:12]}"
    try:
        async with telegram_and_midtrans() as (fake, sim):
            people, uid = People(fake), 910011
            fake.add_user(uid, "Maya")
            settings = service_settings(fake, sim, events, mongodb_uri=wire_uri, mongodb_db=database)

            async with serving(settings, sim):
                card = await choose(people, uid, KONSER, {"Reguler": 2})
                other = await people.say(uid, f"/start ev_{KONSER}", says("🎟 Tickets"))  # a second card
                await people.tap_edit(uid, card, "Continue · Rp200.000", says("Step 1 of 3"))
                await people.answer(uid, "Maya Sari", says("Step 2 of 3"))
            assert not fake.pending_updates

            async with serving(settings, sim) as service:  # a new process: nothing of the old one but the database
                asked = await people.answer(uid, "maya@example.com", says("Step"))
                assert asked.text.startswith("📱 Step 3 of 3"), fake.transcript(uid)
                assert asked.message_id > card.message_id  # a new message: it carries the share keyboard
                summary = await people.answer(uid, "0813 1111 2222", says("Order summary"))
                assert "2 × Reguler: Rp200.000" in summary.text and "👤 Maya Sari\n📧 maya@example.com" in summary.text
                again = await people.tap_edit(uid, other, plus(other, "Reguler"))  # a button from before the restart
                assert "1 × Reguler: Rp100.000" in again.text
                pay = await confirm(people, uid, summary)
                order_id = order_id_in(pay)
                await sim.simulate_payment(order_id)
                received, photos = await paid_photos(people, uid, pay.message_id, 2)
                assert received.caption.startswith(f"💳 Payment received: order {order_id}")
                assert (await service.services.orders.get(order_id)).buyer.name == "Maya Sari"
            assert people.failed_calls() == []
    finally:
        store = open_store(wire_uri, database)
        await store.db.client.drop_database(database)
        close_store(store)
