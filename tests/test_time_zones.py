"""Events in WIB, WITA and WIT (docs/time-zones.md): the events file names an event's zone (or its start's offset
does), every time about the event is shown in that zone with its name on both doors, the digest and the ticket
page; sales that have not opened yet say when they open."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from bot.accounts import whatsapp_address
from bot.catalog import SalesState, sales_state
from bot.clock import JAKARTA, JAYAPURA, MAKASSAR
from bot.errors import EventsFileError
from bot.event_file import parse_events
from bot.links import Links
from bot.services import Services
from bot.tickets import format_code
from handlers.formatting import local_when
from storage.documents import EventDoc, tier_key
from storage.store import Store
from tests.conftest import BUYER_ID, EXAMPLES, ORGANISER_ID, FakeClock
from tests.handlers_kit import INDO_ID, KECAK, Bot, event_yaml
from tests.helpers import acct, buyer
from tests.test_handlers_buyer import checkout_to_summary, open_card
from tests.whatsapp_stack import AYU, DEWI, JOHN, Stack, whatsapp_stack
from webhooks.app import create_app

BALI_START = "Sat, 9 Jan 2027 19:00 WITA"  # the example Kecak evening, written 2027-01-09 19:00:00+08:00
POETRY = "malam-puisi"  # tests/handlers_kit.py's extra event


def one_event(**fields: Any) -> dict[str, Any]:
    event = {"id": "festival-danau", "title": "Festival Danau", "venue": "Tepi danau",
             "starts_at": "2027-02-01T19:00:00+07:00", "ends_at": "2027-02-01T22:00:00+07:00",
             "tiers": [{"code": "GA", "name": "Umum", "price": 50000, "capacity": 10}]}
    event.update(fields)
    return event


def parsed(**fields: Any):
    [spec] = parse_events(yaml.safe_load(yaml.safe_dump({"events": [one_event(**fields)]})))
    return spec


# ---------------------------------------------------------------------------------------------- the events file


@pytest.mark.parametrize(("written", "zone"), [
    ("Asia/Jakarta", JAKARTA), ("WIB", JAKARTA), ("Asia/Makassar", MAKASSAR), ("WITA", MAKASSAR),
    ("wita", MAKASSAR), (" asia/jayapura ", JAYAPURA), ("WIT", JAYAPURA),
])
def test_the_zone_is_named_by_its_iana_or_short_name(written: str, zone: str) -> None:
    assert parsed(timezone=written).timezone == zone


@pytest.mark.parametrize(("starts_at", "zone"), [
    ("2027-02-01T19:00:00+08:00", MAKASSAR), ("2027-02-01T19:00:00+09:00", JAYAPURA),
    ("2027-02-01T19:00:00+07:00", JAKARTA), ("2027-02-01T19:00:00", JAKARTA),
    ("2027-02-01T19:00:00+05:30", JAKARTA), ("2027-02-01T12:00:00Z", JAKARTA),
])
def test_without_a_zone_the_offset_of_the_start_decides_else_wib(starts_at: str, zone: str) -> None:
    assert parsed(starts_at=starts_at, ends_at="2027-02-02T01:00:00+07:00").timezone == zone


def test_times_without_an_offset_are_the_events_own_clock_and_an_offset_fixes_the_instant() -> None:
    spec = parsed(timezone="WITA", starts_at="2027-02-01T19:00:00", ends_at="2027-02-01T22:00:00",
                  sales={"opens_at": "2027-01-01T10:00:00", "closes_at": "2027-02-01T18:00:00+07:00"})
    assert spec.starts_at == datetime(2027, 2, 1, 11, 0, tzinfo=UTC)  # 19:00 WITA
    assert spec.ends_at == datetime(2027, 2, 1, 14, 0, tzinfo=UTC)
    assert spec.sales.opens_at == datetime(2027, 1, 1, 2, 0, tzinfo=UTC)  # 10:00 WITA
    assert spec.sales.closes_at == datetime(2027, 2, 1, 11, 0, tzinfo=UTC)  # 18:00 WIB is 19:00 WITA
    named = parsed(timezone="WIT", starts_at="2027-02-01T19:00:00+07:00", ends_at="2027-02-01T22:00:00+07:00")
    assert named.timezone == JAYAPURA and named.starts_at == datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
    assert parsed().starts_at == datetime(2027, 2, 1, 12, 0, tzinfo=UTC)  # as before: +07:00 in WIB


def test_a_zone_karcis_does_not_know_is_named_with_what_is_allowed_all_at_once() -> None:
    data = {"events": [one_event(timezone="Asia/Bali"),
                       one_event(id="festival-dua", timezone=8, ends_at="2027-01-01T00:00:00+07:00"),
                       one_event(id="festival-tiga", timezone="UTC+8", tiers=[])]}
    with pytest.raises(EventsFileError) as caught:
        parse_events(data)
    lines = str(caught.value).splitlines()
    assert lines[0] == "Invalid events file (5 problems); nothing was imported:"
    assert lines[1:] == [
        '  event #1 (festival-danau), timezone: "Asia/Bali" is not one of Indonesia\'s time zones as Karcis knows '
        "them: write one of Asia/Jakarta or WIB, Asia/Makassar or WITA, Asia/Jayapura or WIT",
        "  event #2 (festival-dua), timezone: must be the name of a time zone: one of Asia/Jakarta or WIB, "
        "Asia/Makassar or WITA, Asia/Jayapura or WIT",
        "  event #2 (festival-dua), ends_at: the event ends before (or when) it starts: ends_at must be after "
        "starts_at",  # the other rules are still checked beside a wrong zone
        "  event #3 (festival-tiga), tiers: an event needs at least one tier",
        '  event #3 (festival-tiga), timezone: "UTC+8" is not one of Indonesia\'s time zones as Karcis knows them: '
        "write one of Asia/Jakarta or WIB, Asia/Makassar or WITA, Asia/Jayapura or WIT",
    ]


def test_the_date_format_message_says_a_time_without_offset_is_the_events_zone() -> None:
    with pytest.raises(EventsFileError) as caught:
        parse_events({"events": [one_event(starts_at="1/2/2027 19:00")]})
    assert "without one it is the event's own time zone, WIB unless timezone says otherwise" in str(caught.value)


async def test_the_zone_is_stored_on_the_event_and_an_old_document_without_it_is_wib(services: Services) -> None:
    assert (await services.catalog.event(KECAK)).timezone == MAKASSAR  # type: ignore[union-attr]
    assert (await services.catalog.event("jazz-senja-2026")).timezone == JAKARTA  # type: ignore[union-attr]
    await services.store.db["events"].insert_one({  # written before events had zones
        "_id": "old-event", "title": "Old", "venue": "Somewhere", "starts_at": datetime(2027, 3, 1, 12, 0),
        "ends_at": datetime(2027, 3, 1, 15, 0), "status": "on_sale", "tier_codes": []})
    services.catalog.invalidate()
    old = await services.catalog.event("old-event")
    assert old is not None and old.timezone == JAKARTA
    assert local_when(old.starts_at, old.timezone, "en") == "Mon, 1 Mar 2027 19:00 WIB"
    assert EventDoc.model_validate({"_id": "x", "title": "x", "venue": "x", "starts_at": old.starts_at,
                                    "ends_at": old.ends_at}).timezone == JAKARTA


# ---------------------------------------------------------------------------------------------- Telegram


async def bali_order(kit: Bot, uid: int = BUYER_ID, presses: tuple[str, ...] = (f"c|{KECAK}|REG:1",)):
    """The summary's text, the payment link message and the order of one Kecak ticket."""
    summary = await checkout_to_summary(kit, uid, KECAK, presses)
    shown = summary.text  # the summary message becomes the payment link
    confirm = next(d for d in summary.callback_data() if d.startswith("y|"))
    link = await kit.tap(uid, summary, confirm)
    [order] = await kit.services.orders.pending_for_user(acct(uid))
    return shown, link, order


async def test_a_bali_evening_is_shown_in_wita_everywhere_on_telegram(kit: Bot) -> None:
    card = await open_card(kit, event=KECAK)
    assert f"🗓 {BALI_START}" in card.text and "WIB" not in card.text
    [indonesian] = await kit.say(INDO_ID, f"/start ev_{KECAK}")
    assert "🗓 Sab, 9 Jan 2027 19:00 WITA" in indonesian.text

    summary, link, order = await bali_order(kit)
    assert f"🗓 {BALI_START}" in summary and "WIB" not in summary
    hold_end = order.expires_at.astimezone(UTC) + timedelta(hours=8)
    assert f"{hold_end:%H:%M} WITA" in link.text and "WIB" not in link.text  # "pay before", in Bali time
    [orders] = await kit.say(BUYER_ID, "/orders")
    assert f"{hold_end:%H:%M} WITA" in orders.text and "WIB" not in orders.text

    await kit.services.orders.pay(order.id)
    await kit.services.delivery.deliver(order.id)
    [photo] = [m for m in kit.sent(BUYER_ID) if m.photo]
    assert BALI_START in photo.caption and "WIB" not in photo.caption
    [mine] = await kit.say(BUYER_ID, "/mytickets")
    assert BALI_START in mine.text

    assert await kit.services.digests.send_due() == 1
    [digest] = kit.sent(ORGANISER_ID)
    assert digest.text.startswith("📊 Sales since 11:00 WITA")  # paid at 03:00 UTC
    assert f"🗓 {BALI_START}" in digest.text and "WIB" not in digest.text

    [ticket] = await kit.services.tickets.for_order(order.id)
    [early] = await kit.say(ORGANISER_ID, f"/checkin {ticket.id}")  # weeks before the door opens
    assert early.text.startswith(f"⏳ This event starts on {BALI_START}: check in anyway?")
    kit.clock.now = datetime(2027, 1, 9, 10, 30, tzinfo=UTC)  # 18:30 WITA, at the door
    [ok] = await kit.say(ORGANISER_ID, f"/checkin {ticket.id}")
    assert ok.text.startswith("✅") and "Sinta Maharani, Reguler" in ok.text
    kit.clock.advance(minutes=7)
    [again] = await kit.say(ORGANISER_ID, f"/checkin {format_code(ticket.id)}")
    assert again.text.startswith("⚠️ Already checked in at 18:30 WITA by Rani Organiser")

    [stats] = await kit.say(ORGANISER_ID, "/stats")
    assert f"📊 Kecak at Sunset, Uluwatu · {BALI_START}" in stats.text
    assert "📊 Jazz Senja di Taman: Malam Tahun Baru · Thu, 31 Dec 2026 19:00 WIB" in stats.text


async def test_an_event_in_papua_is_shown_in_wit(kit: Bot) -> None:
    await kit.services.catalog.import_events(event_yaml(starts_at="2026-12-20T19:00:00+09:00",
                                                        ends_at="2026-12-20T22:00:00+09:00"))
    card = await open_card(kit, event=POETRY)
    assert "🗓 Sun, 20 Dec 2026 19:00 WIT" in card.text and "WIB" not in card.text
    [welcome] = await kit.say(INDO_ID, "/start")
    assert "Min, 20 Des 2026 · Malam Puisi" in [b["text"] for b in welcome.buttons()]


async def test_a_digest_over_events_in_two_zones_says_wib_for_its_own_time(kit: Bot) -> None:
    await bali_order(kit)
    [order] = await kit.services.orders.pending_for_user(acct(BUYER_ID))
    await kit.services.orders.pay(order.id)
    jazz = await kit.services.orders.reserve(acct(INDO_ID), "jazz-senja-2026", {"REG": 1}, buyer())
    await kit.services.orders.pay(jazz.id)
    await kit.services.delivery.deliver(order.id)
    await kit.services.delivery.deliver(jazz.id)
    assert await kit.services.digests.send_due() == 1
    [digest] = kit.sent(ORGANISER_ID)
    assert digest.text.startswith("📊 Sales since 10:00 WIB")
    assert f"🗓 {BALI_START}" in digest.text and "🗓 Thu, 31 Dec 2026 19:00 WIB" in digest.text


async def not_yet_open(kit_services: Services, opens_at: str = "2026-12-05T10:00:00+09:00") -> None:
    await kit_services.catalog.import_events(event_yaml(
        starts_at="2026-12-20T19:00:00+09:00", ends_at="2026-12-20T22:00:00+09:00", sales={"opens_at": opens_at}))


async def test_sales_not_yet_open_say_when_they_open_on_telegram(kit: Bot) -> None:
    await not_yet_open(kit.services, opens_at="2026-11-20T10:00:00+09:00")  # open for now
    older = await kit.tap(BUYER_ID, await open_card(kit, event=POETRY), f"c|{POETRY}|GA:1")
    await not_yet_open(kit.services)  # the organiser moves the opening to 5 December
    card = await open_card(kit, event=POETRY)
    assert "⏳ Ticket sales open on Sat, 5 Dec 2026 10:00 WIT." in card.text
    assert "closed" not in card.text and "ended" not in card.text
    assert card.buttons()[0]["text"] == "⏳ Sales open Sat, 5 Dec 2026 10:00 WIT"
    assert card.callback_data() == ["n|o", "l|0"]  # no ➕: nothing can be chosen yet
    assert await kit.answer_to(BUYER_ID, card, "n|o") == "Ticket sales have not opened yet: the card says when."
    stale = await kit.answer_to(BUYER_ID, older, f"k|{POETRY}|GA:1")  # Continue on the card from before
    assert stale == "Ticket sales have not opened yet: they open on Sat, 5 Dec 2026 10:00 WIT."
    [indonesian] = await kit.say(INDO_ID, f"/start ev_{POETRY}")
    assert "⏳ Penjualan tiket dibuka pada Sab, 5 Des 2026 10:00 WIT." in indonesian.text
    assert indonesian.buttons()[0]["text"] == "⏳ Dibuka Sab, 5 Des 2026 10:00 WIT"

    kit.clock.now = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 10:00 WIT: open
    opened = await open_card(kit, event=POETRY)
    assert "⏳" not in opened.text and f"c|{POETRY}|GA:1" in opened.callback_data()


async def test_confirming_after_the_opening_moved_later_says_when_they_open(kit: Bot) -> None:
    await not_yet_open(kit.services, opens_at="2026-11-20T10:00:00+09:00")  # open now
    summary = await checkout_to_summary(kit, BUYER_ID, POETRY, (f"c|{POETRY}|GA:1",))
    await not_yet_open(kit.services)  # the organiser moves the opening to 5 December
    refused = await kit.tap(BUYER_ID, summary, "✅ Confirm and hold the seats")
    assert refused.text == "⏳ Ticket sales for Malam Puisi open on Sat, 5 Dec 2026 10:00 WIT."
    assert await kit.services.orders.pending_for_user(acct(BUYER_ID)) == []


async def test_ended_and_sold_out_are_each_said_as_they_are(kit: Bot) -> None:
    await kit.services.catalog.import_events(event_yaml())
    await kit.services.store.inventory.hold(tier_key(POETRY, "GA"), 40)
    sold_out = await open_card(kit, event=POETRY)
    assert "😕 Every ticket for this event is sold out." in sold_out.text and "open on" not in sold_out.text
    listing = await kit.services.catalog.get(POETRY)
    assert sales_state(listing.event, kit.clock(), listing.tiers) is SalesState.SOLD_OUT
    kit.clock.now = datetime(2026, 12, 20, 15, 0, tzinfo=UTC)  # after the end
    ended = await open_card(kit, event=POETRY)
    assert "⛔ Ticket sales for this event have ended." in ended.text and "sold out." not in ended.text


# ---------------------------------------------------------------------------------------------- WhatsApp


async def whatsapp_bali_summary(stack: Stack, number: str = AYU) -> Any:
    indonesian = number.startswith("+62")
    menu = await stack.say(number, "halo")
    events = await stack.tap(number, menu, "Acara" if indonesian else "Events")
    row = next(r for r in events.rows() if r["title"].startswith("Kecak"))
    assert row["description"].startswith("Sab, 9 Jan 2027 19:00 WITA" if indonesian else BALI_START)
    card = await stack.tap(number, events, "Kecak")
    tiers = await stack.tap(number, card, "Beli" if indonesian else "Buy")
    quantities = await stack.tap(number, tiers, "Reguler")
    cart = await stack.tap(number, quantities, "1 ×")
    await stack.tap(number, cart, "Lanjut" if indonesian else "Continue")
    await stack.say(number, "Ayu Lestari")
    await stack.say(number, "ayu@example.com")
    summary = await stack.say(number, "0812 3456 7890")
    return card, summary


async def test_a_bali_evening_is_shown_in_wita_everywhere_on_whatsapp(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        await stack.say(DEWI, "halo")  # the organiser's window is open: the digest is free-form text
        card, summary = await whatsapp_bali_summary(stack)
        assert "Sab, 9 Jan 2027 19:00 WITA" in card.text and "WIB" not in card.text
        assert "Sab, 9 Jan 2027 19:00 WITA" in summary.text and "WIB" not in summary.text
        confirm = next(b["id"] for b in summary.buttons() if b["title"].startswith("Konfirmasi"))
        first = await stack.wa.press_button(AYU, summary.id, confirm)
        pay = await stack.wa.wait_for_message(AYU, lambda m: m.cta() is not None, after=first.seq)
        account = stack.services.accounts.resolve(whatsapp_address(AYU))
        [order] = await stack.services.orders.pending_for_user(account)
        hold_end = order.expires_at.astimezone(UTC) + timedelta(hours=8)
        assert f"{hold_end:%H:%M} WITA" in pay.text and "WIB" not in pay.text
        orders = await stack.say(AYU, "pesanan")
        assert f"{hold_end:%H:%M} WITA" in orders.text and "WIB" not in orders.text

        await stack.midtrans.simulate_payment(order.id, "pay", payment_type="gopay")
        await stack.settle()
        [image] = stack.images(AYU)
        assert "Sab, 9 Jan 2027 19:00 WITA" in image.text and "WIB" not in image.text
        clock.advance(seconds=20)
        assert await stack.services.digests.send_due() >= 1
        [digest] = [m for m in stack.wa.all_messages_to(DEWI) if m.direction == "out" and order.id in (m.text or "")]
        assert "Penjualan sejak 11:00 WITA" in digest.text and "🗓 Sab, 9 Jan 2027 19:00 WITA" in digest.text
        assert "WIB" not in digest.text

        [ticket] = await stack.services.tickets.for_order(order.id)
        early = await stack.say(DEWI, f"checkin {ticket.id}")  # weeks before the door opens
        assert early.text.startswith("⏳ *Acara ini mulai Sab, 9 Jan 2027 19:00 WITA*: tetap check-in?")
        clock.now = datetime(2027, 1, 9, 10, 30, tzinfo=UTC)  # 18:30 WITA, at the door
        ok = await stack.say(DEWI, f"checkin {ticket.id}")
        assert ok.text.startswith("✅") and "Ayu Lestari, Reguler" in ok.text
        clock.advance(minutes=7)
        again = await stack.say(DEWI, f"checkin {ticket.id}")
        assert "18:30 WITA" in again.text and "WIB" not in again.text
        stats = await stack.say(DEWI, "stats", lambda m: "Kecak" in (m.text or ""))
        assert stats.text.startswith("📊 *Kecak at Sunset, Uluwatu* · Sab, 9 Jan 2027 19:00 WITA")


async def test_an_event_in_papua_is_shown_in_wit_on_whatsapp(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        await stack.services.catalog.import_events(event_yaml(starts_at="2026-12-20T19:00:00+09:00",
                                                              ends_at="2026-12-20T22:00:00+09:00"))
        menu = await stack.say(JOHN, "hi")
        events = await stack.tap(JOHN, menu, "Events")
        card = await stack.tap(JOHN, events, "Malam Puisi")
        assert "Sun, 20 Dec 2026 19:00 WIT" in card.text and "WIB" not in card.text


async def test_sales_not_yet_open_say_when_they_open_on_whatsapp(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        await not_yet_open(stack.services, opens_at="2026-11-20T10:00:00+09:00")  # open for now
        for number in (AYU, JOHN):
            menu = await stack.say(number, "halo")
            events = await stack.tap(number, menu, "Acara" if number == AYU else "Events")
            card = await stack.tap(number, events, "Malam Puisi")
            await not_yet_open(stack.services)  # the organiser moves the opening to 5 December
            later = await stack.tap(number, events, "Malam Puisi")  # the same list row, again
            stale_buy = await stack.tap(number, card, "Beli" if number == AYU else "Buy")
            if number == AYU:
                assert "⏳ Penjualan tiket dibuka pada Sab, 5 Des 2026 10:00 WIT." in later.text
                assert stale_buy.text == "⏳ Penjualan tiket dibuka pada Sab, 5 Des 2026 10:00 WIT."
                assert [b["title"] for b in later.buttons()] == ["Acara"]  # no Beli
            else:
                assert "⏳ Ticket sales open on Sat, 5 Dec 2026 10:00 WIT." in later.text
                assert stale_buy.text == "⏳ Ticket sales open on Sat, 5 Dec 2026 10:00 WIT."
                assert [b["title"] for b in later.buttons()] == ["Events"]
            assert "ditutup" not in later.text and "closed" not in later.text
            await not_yet_open(stack.services, opens_at="2026-11-20T10:00:00+09:00")


# ---------------------------------------------------------------------------------------------- the ticket page


async def test_the_ticket_page_shows_the_start_and_the_check_in_in_the_events_zone(services: Services,
                                                                                   clock: FakeClock) -> None:
    from dataclasses import replace

    order = await services.orders.reserve(acct(7), KECAK, {"REG": 1}, buyer())
    [ticket] = (await services.orders.pay(order.id)).tickets
    services = replace(services, links=Links(public_url="https://karcis.example"))
    async with TestClient(TestServer(create_app(services, services.payments, services.delivery),
                                     host="127.0.0.1")) as client:
        valid = await (await client.get(f"/t/{ticket.id}", headers={"Accept-Language": "en"})).text()
        assert BALI_START in valid and "WIB" not in valid
        clock.advance(minutes=30)
        await services.checkin.check_in(ticket.id, acct(ORGANISER_ID))
        used = await (await client.get(f"/t/{ticket.id}", headers={"Accept-Language": "id"})).text()
        assert "Tue" not in used and "Sel, 1 Des 2026 11:30 WITA" in used and "Sab, 9 Jan 2027 19:00 WITA" in used


def test_the_sample_events_include_a_wita_evening_in_bali() -> None:
    data = yaml.safe_load(EXAMPLES.read_text())
    bali = copy.deepcopy(next(e for e in data["events"] if e["id"] == KECAK))
    assert "Bali" in bali["venue"] and bali["timezone"] == "Asia/Makassar"
    [spec] = parse_events({"events": [bali]})
    assert local_when(spec.starts_at, spec.timezone or "", "en") == BALI_START


async def test_a_stranger_opening_a_ticket_link_reads_its_times_in_the_events_zone(services: Services,
                                                                                   clock: FakeClock) -> None:
    from handlers.views import public_ticket

    order = await services.orders.reserve(acct(7), KECAK, {"REG": 1}, buyer())
    [ticket] = (await services.orders.pay(order.id)).tickets
    await services.checkin.check_in(ticket.id, acct(ORGANISER_ID))
    text = public_ticket("en", await services.checkin.public_status(ticket.id))
    assert BALI_START in text and "Tue, 1 Dec 2026 11:00 WITA" in text and "WIB" not in text
