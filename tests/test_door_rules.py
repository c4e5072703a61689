"""The door's rules (issue 12), on both doors: a draft event is no event to a stranger; a ticket's link tells a
stranger where it stands (nothing personal); check-in by link, photo, /checkin or a typed code is direct only in
the event's door window, else one confirming tap; a typed code in scan mode checks in; "Checked in" says so."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from bot.accounts import whatsapp_address
from bot.checkin import CheckInStatus, DoorWindow
from bot.checkout import CheckoutRefusal, CheckoutRefused
from bot.config import ConfigError, load_settings
from bot.errors import RefusalReason, ReservationRefused
from bot.event_file import parse_events
from bot.tickets import format_code
from storage.documents import EventStatus
from storage.store import Store
from tests.conftest import ADMIN_ID, BUYER_ID, EXAMPLES, ORGANISER_ID, FakeClock
from tests.handlers_kit import INDO_ID, JAZZ, OTHER_ORGANISER_ID, STRANGER_ID, Bot, event_yaml
from tests.helpers import acct, buyer
from tests.test_handlers_door import paid_ticket, qr_photo
from tests.test_whatsapp_door import paid_on_whatsapp
from tests.whatsapp_stack import AYU, DEWI, JOHN, whatsapp_stack

DRAFT = "malam-puisi"
STARTS = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)  # the jazz evening: 19:00 WIB
ENDS = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)   # 00:30 WIB on 1 January
ASK_EARLY = "⏳ This event starts on Thu, 31 Dec 2026 19:00 WIB: check in anyway?"
ANYWAY = "✅ Check in anyway"
POETRY = DRAFT  # the same extra event, on sale, where a test needs it so


def visible(messages: list) -> list[str]:
    return [m.text for m in messages]


# ---- drafts ---------------------------------------------------------------------------------------------------


async def test_a_draft_by_deep_link_is_no_event_to_a_stranger_and_a_card_to_its_organisers(kit: Bot) -> None:
    await kit.services.catalog.import_events(event_yaml())  # on sale first: a stranger keeps its card
    [old_card] = await kit.say(STRANGER_ID, f"/start ev_{DRAFT}")
    old_card = await kit.tap(STRANGER_ID, old_card, f"c|{DRAFT}|GA:1")  # ➕: the card now offers Continue
    await kit.services.catalog.import_events(event_yaml(status="draft"))  # organised by OTHER_ORGANISER_ID

    draft = await kit.say(STRANGER_ID, f"/start ev_{DRAFT}")
    unknown = await kit.say(STRANGER_ID, "/start ev_no-such-event")
    assert visible(draft) == visible(unknown)  # the same answer: a stranger cannot tell a draft exists
    assert draft[0].text == "That event is not available." and "Malam Puisi" not in "".join(visible(draft))
    for uid in (BUYER_ID, ORGANISER_ID):  # a buyer, and the organiser of other events
        assert "Malam Puisi" not in "".join(visible(await kit.say(uid, f"/start ev_{DRAFT}")))

    [own] = await kit.say(OTHER_ORGANISER_ID, f"/start ev_{DRAFT}")
    assert own.text.startswith("Malam Puisi\n🗓 ") and "Kafe Sastra" in own.text and "Rp50.000" in own.text
    [admin] = await kit.say(ADMIN_ID, f"/start ev_{DRAFT}")
    assert admin.text.startswith("Malam Puisi\n🗓 ")

    # the old card's buttons answer as for an unknown event, not "sales closed"
    assert await kit.answer_to(STRANGER_ID, old_card, f"c|{DRAFT}|") == "This event is no longer available."
    assert await kit.answer_to(STRANGER_ID, old_card, f"k|{DRAFT}|GA:1") == "This event is no longer available."


async def test_nobody_reserves_or_starts_a_purchase_of_a_draft_and_the_refusal_is_unknown_event(kit: Bot) -> None:
    await kit.services.catalog.import_events(event_yaml(status="draft"))
    with pytest.raises(CheckoutRefused) as started:
        await kit.services.checkout.start(acct(STRANGER_ID), DRAFT, {"GA": 1})
    assert started.value.reason is CheckoutRefusal.UNKNOWN_EVENT  # not "sales closed": that would tell
    with pytest.raises(ReservationRefused) as reserved:
        await kit.services.orders.reserve(acct(STRANGER_ID), DRAFT, {"GA": 1}, buyer())
    assert reserved.value.reason is RefusalReason.UNKNOWN_EVENT
    listing = await kit.services.catalog.definitions(DRAFT)
    assert listing is not None and listing.event.status is EventStatus.DRAFT
    access = kit.services.access
    assert access.may_see(acct(OTHER_ORGANISER_ID), listing.event) and access.may_see(acct(ADMIN_ID), listing.event)
    assert not access.may_see(acct(STRANGER_ID), listing.event) and not access.may_see(acct(ORGANISER_ID),
                                                                                         listing.event)
    assert await access.event_for(acct(STRANGER_ID), DRAFT) is None
    assert (await access.event_for(acct(STRANGER_ID), JAZZ)) is not None


async def test_a_draft_on_whatsapp_is_no_event_to_a_stranger_even_from_an_old_list(memory_store: Store,
                                                                                 clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        lists = {}
        for number in (JOHN, DEWI):
            menu = await stack.say(number, "hello")
            lists[number] = await stack.tap(number, menu, "Events" if number == JOHN else "Acara")
        cards = {n: await stack.tap(n, lists[n], "Jazz Senja") for n in (JOHN, DEWI)}
        # the organisers take the jazz evening back to draft (the events file, imported again)
        data = yaml.safe_load(EXAMPLES.read_text())
        data["events"] = [e for e in data["events"] if e["id"] == JAZZ]
        data["events"][0].update(status="draft", organisers=[*data["events"][0]["organisers"], f"whatsapp:{DEWI}"])
        await stack.services.catalog.import_events(parse_events(data))

        gone = await stack.tap(JOHN, lists[JOHN], "Jazz Senja")  # the old list's row
        assert gone.text == "That event is not available."
        bought = await stack.tap(JOHN, cards[JOHN], "Buy")  # the old card's Buy
        assert bought.text == "That event is not available."
        own = await stack.tap(DEWI, lists[DEWI], "Jazz Senja")
        assert "Taman Ismail Marzuki" in own.text and "Rp150.000" in own.text


# ---- a ticket's link, opened by anyone -------------------------------------------------------------------------


async def test_a_stranger_opening_a_ticket_link_is_told_where_it_stands_and_nothing_personal(kit: Bot) -> None:
    ticket = await paid_ticket(kit)
    link = f"/start t_{ticket.id}"

    [valid] = await kit.say(STRANGER_ID, link)
    assert valid.text == ("🎟 Valid ticket, not used yet\nJazz Senja di Taman: Malam Tahun Baru\n"
                          "Early Bird · Thu, 31 Dec 2026 19:00 WIB\n\nOnly the event's door staff can check it in.")
    [forged] = await kit.say(STRANGER_ID, "/start t_ABCDEFGHJKLM")
    assert forged.text == "❔ No such ticket. Check the code under the QR: 12 letters and digits."
    [indonesian] = await kit.say(INDO_ID, link)
    assert indonesian.text.startswith("🎟 Tiket berlaku, belum dipakai\nJazz Senja")

    kit.clock.now = STARTS - timedelta(hours=1)
    await kit.services.checkin.check_in(ticket.id, acct(ORGANISER_ID))
    [used] = await kit.say(STRANGER_ID, link)
    assert used.text.startswith("⚠️ Already used: checked in Thu, 31 Dec 2026 18:00 WIB\nJazz Senja")

    kit.clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    refunded = await paid_ticket(kit, "REG")
    await kit.services.orders.refund(refunded.order_id)
    [void] = await kit.say(STRANGER_ID, f"/start t_{refunded.id}")
    assert void.text.startswith("❌ Void ticket: it no longer lets anyone in\nJazz Senja")

    for message in (valid, forged, used, void):  # never the holder, the buyer or who checked it in
        assert "Sinta" not in message.text and "Rani" not in message.text
    [owner] = await kit.say(BUYER_ID, f"/start t_{refunded.id}")  # the buyer: their own ticket
    assert owner.photo and format_code(refunded.id) in owner.caption


async def test_on_whatsapp_checkin_code_from_its_buyer_shows_the_ticket_and_from_others_its_standing(
        memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        first, _ = await paid_on_whatsapp(stack)
        before = len(stack.images(AYU))
        mine = await stack.say(AYU, f"checkin {first.id}", lambda m: m.type == "image")
        assert mine.type == "image" and len(stack.images(AYU)) == before + 1
        forged = await stack.say(JOHN, "checkin ABCD-EFGH-JKLM")
        assert forged.text.startswith("❔ *No such ticket.*")
        assert (await stack.services.tickets.get(first.id)).checked_in_at is None


# ---- the door window --------------------------------------------------------------------------------------------


def test_the_door_window_runs_from_hours_before_the_start_to_the_end() -> None:
    from storage.documents import EventDoc

    event = EventDoc.model_validate({"_id": "e", "title": "E", "venue": "V", "starts_at": STARTS, "ends_at": ENDS,
                                     "updated_at": STARTS})
    window = DoorWindow(timedelta(hours=3))
    assert window.status_at(event, STARTS - timedelta(hours=3, seconds=1)) is CheckInStatus.EARLY
    assert window.status_at(event, STARTS - timedelta(hours=3)) is None
    assert window.status_at(event, ENDS) is None
    assert window.status_at(event, ENDS + timedelta(seconds=1)) is CheckInStatus.LATE


async def test_a_forwarded_link_weeks_early_asks_once_and_a_double_tap_checks_in_once(kit: Bot) -> None:
    ticket = await paid_ticket(kit)  # 1 December; the event is on 31 December

    [asked] = await kit.say(ORGANISER_ID, f"/start t_{ticket.id}")
    assert asked.text == f"{ASK_EARLY}\nSinta Maharani, Early Bird\nJazz Senja di Taman: Malam Tahun Baru"
    assert [b["text"] for b in asked.buttons()] == [ANYWAY]
    assert (await kit.services.tickets.get(ticket.id)).checked_in_at is None  # nothing until the tap

    data = asked.button(ANYWAY)["callback_data"]
    first, second = await asyncio.gather(kit.fake.press_button(ORGANISER_ID, asked.message_id, data),
                                         kit.fake.press_button(ORGANISER_ID, asked.message_id, data))
    await kit.pump()
    done = kit.now(ORGANISER_ID, asked)
    assert done.text.startswith("✅ Checked in: Sinta Maharani, Early Bird") and done.buttons() == []
    assert kit.fake.callback_query(second.id).answer_text == "✅ Already checked in."
    checked = await kit.services.tickets.get(ticket.id)
    assert checked.checked_in_at == kit.clock.now and checked.checked_in_by == acct(ORGANISER_ID)
    [again] = await kit.say(ORGANISER_ID, f"/start t_{ticket.id}")
    assert again.text.startswith("⚠️ Already checked in at 10:00 WIB by Rani Organiser")


async def test_checkin_command_photo_and_late_all_ask_outside_the_window_and_not_inside(kit: Bot) -> None:
    early, photo, late, inside = [await paid_ticket(kit) for _ in range(4)]

    [by_code] = await kit.say(ORGANISER_ID, f"/checkin {format_code(early.id)}")
    assert by_code.text.startswith(ASK_EARLY) and by_code.buttons()
    [by_photo] = await kit.photo(ORGANISER_ID, qr_photo(kit, photo.id), caption="/scan")
    assert by_photo.text.startswith(ASK_EARLY)

    kit.clock.now = STARTS - timedelta(hours=3, minutes=1)  # a minute before the doors open (default 3 hours)
    [still] = await kit.say(ORGANISER_ID, f"/checkin {inside.id}")
    assert still.text.startswith(ASK_EARLY)
    kit.clock.now = STARTS - timedelta(hours=3)
    [direct] = await kit.say(ORGANISER_ID, f"/checkin {inside.id}")
    assert direct.text.startswith("✅ Checked in: Sinta Maharani") and direct.buttons() == []

    kit.clock.now = ENDS + timedelta(minutes=5)
    [after] = await kit.say(ADMIN_ID, f"/start t_{late.id}")
    assert after.text.startswith("⏳ This event ended on Fri, 1 Jan 2027 00:30 WIB: check in anyway?")
    await kit.press(ADMIN_ID, after, ANYWAY)
    assert kit.now(ADMIN_ID, after).text.startswith("✅ Checked in: Sinta Maharani")
    assert [(await kit.services.tickets.get(t.id)).checked_in_at is not None for t in (early, photo, late)] == [
        False, False, True]


async def test_an_indonesian_organiser_is_asked_in_indonesian(kit: Bot) -> None:
    await kit.services.catalog.import_events(event_yaml(organisers=[INDO_ID]))  # Budi's Telegram speaks Indonesian
    order = await kit.services.orders.reserve(acct(BUYER_ID), POETRY, {"GA": 1}, buyer())
    [ticket] = (await kit.services.orders.pay(order.id)).tickets
    [asked] = await kit.say(INDO_ID, f"/checkin {ticket.id}")
    assert asked.text.startswith("⏳ Acara ini mulai ") and asked.buttons()[0]["text"] == "✅ Tetap check-in"


async def test_the_door_window_is_configured_and_checked(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DOOR_OPENS_HOURS_BEFORE", raising=False)
    assert load_settings().door_opens_hours_before == 3
    monkeypatch.setenv("DOOR_OPENS_HOURS_BEFORE", "1.5")
    assert load_settings().door_opens_hours_before == 1.5
    for bad in ("-1", "169", "nan", "soon"):
        monkeypatch.setenv("DOOR_OPENS_HOURS_BEFORE", bad)
        with pytest.raises(ConfigError, match="DOOR_OPENS_HOURS_BEFORE"):
            load_settings()


async def test_whatsapp_staff_are_asked_with_a_reply_button_and_a_second_tap_checks_in_once(
        memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        first, second = await paid_on_whatsapp(stack)
        asked = await stack.say(DEWI, f"checkin {first.id}")
        assert asked.text.startswith("⏳ *Acara ini mulai Kam, 31 Des 2026 19:00 WIB*: tetap check-in?")
        assert [b["title"] for b in asked.buttons()] == ["Tetap check-in"]
        assert (await stack.services.tickets.get(first.id)).checked_in_at is None
        done = await stack.tap(DEWI, asked, "Tetap check-in")
        assert done.text.startswith("✅ *Check-in berhasil*: Ayu Lestari, Early Bird")
        again = await stack.tap(DEWI, asked, "Tetap check-in")  # WhatsApp lets a button be tapped again
        assert again.text.startswith("⚠️ *Sudah check-in*")
        checked = await stack.services.tickets.get(first.id)
        assert checked.checked_in_by == stack.services.accounts.resolve(whatsapp_address(DEWI))

        # a bare code from door staff is `checkin CODE` (WhatsApp has no scan mode); from a buyer, the menu
        menu = await stack.say(AYU, format_code(second.id))
        assert "Karcis" in menu.text and (await stack.services.tickets.get(second.id)).checked_in_at is None
        clock.now = STARTS - timedelta(hours=1)
        bare = await stack.say(DEWI, format_code(second.id).lower())
        assert bare.text.startswith("✅ *Check-in berhasil*: Ayu Lestari")
        assert not bare.buttons()


# ---- a typed code at the door -----------------------------------------------------------------------------------


async def test_in_scan_mode_a_typed_code_checks_in_and_outside_it_staff_are_told_how(kit: Bot) -> None:
    first, second = await paid_ticket(kit), await paid_ticket(kit)
    kit.clock.now = STARTS - timedelta(hours=1)

    [hint] = await kit.say(ORGANISER_ID, format_code(first.id))  # not in scan mode
    assert hint.text.startswith("To check this ticket in, send /checkin CODE, or /scan first")
    [buyer_help] = await kit.say(BUYER_ID, format_code(first.id))  # a buyer's text stays the buyer's
    assert buyer_help.text.startswith("Send /start to see the events")
    assert (await kit.services.tickets.get(first.id)).checked_in_at is None

    [ready] = await kit.say(ORGANISER_ID, "/scan")
    assert "or type its code" in ready.text
    [ok] = await kit.say(ORGANISER_ID, format_code(first.id).lower())
    assert ok.text == "✅ Checked in: Sinta Maharani, Early Bird\nJazz Senja di Taman: Malam Tahun Baru"
    [again] = await kit.say(ORGANISER_ID, first.id)
    assert again.text.startswith("⚠️ Already checked in at 18:00 WIB by Rani Organiser")
    kit.clock.now = datetime(2026, 12, 20, 3, 0, tzinfo=UTC)  # weeks early: the same rule as /checkin
    await kit.say(ORGANISER_ID, "/scan")
    [asked] = await kit.say(ORGANISER_ID, second.id)
    assert asked.text.startswith(ASK_EARLY) and asked.buttons()
