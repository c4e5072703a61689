"""Organisers and admins: check-in by code, link, photo and deep link; /stats; /expire; command menus."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from bot.qr import render_png
from bot.tickets import format_code
from handlers.telegram.commands import set_commands
from storage.documents import OrderStatus, TicketDoc
from tests.conftest import ADMIN_ID, BUYER_ID, ORGANISER_ID
from tests.handlers_kit import (
    INDO_ID,
    JAZZ,
    OTHER_ORGANISER_ID,
    STRANGER_ID,
    WORKSHOP,
    Bot,
    event_yaml,
    png_of,
)
from tests.helpers import acct, buyer


async def paid_ticket(kit: Bot, tier: str = "EARLY", uid: int = BUYER_ID, name: str = "Sinta Maharani") -> TicketDoc:
    order = await kit.services.orders.reserve(acct(uid), JAZZ, {tier: 1}, buyer(name))
    outcome = await kit.services.orders.pay(order.id)
    return outcome.tickets[0]


DOORS_OPEN = datetime(2026, 12, 31, 10, 0, tzinfo=UTC)  # 17:00 WIB: inside the jazz evening's door window


def open_doors(kit: Bot) -> None:
    """Move to the evening of the event, when a check-in needs no confirming tap (bot/checkin.py DoorWindow)."""
    kit.clock.now = DOORS_OPEN


def qr_photo(kit: Bot, code: str) -> bytes:
    """A phone's photo of a ticket QR: the QR on a larger grey background."""
    qr = Image.open(io.BytesIO(render_png(f"https://t.me/{kit.fake.bot_username}?start=t_{code}")))
    canvas = Image.new("RGB", (qr.width + 200, qr.height + 300), "#d8d8d8")
    canvas.paste(qr.convert("RGB"), (100, 120))
    return png_of(canvas)


async def test_checkin_by_code_then_again_says_when_and_by_whom(kit: Bot) -> None:
    ticket = await paid_ticket(kit, "VIP", name="Dewi <Lestari> & Sons")
    open_doors(kit)

    [first] = await kit.say(ORGANISER_ID, f"/checkin {format_code(ticket.id).lower()}")
    [second] = await kit.say(ORGANISER_ID, f"/checkin {ticket.id}")

    assert first.text == ("✅ Checked in: Dewi <Lestari> & Sons, VIP (front lawn, welcome drink)\n"
                          "Jazz Senja di Taman: Malam Tahun Baru")
    assert first.entities[0] == {"type": "bold", "offset": 2, "length": 10}
    assert second.text == ("⚠️ Already checked in at 17:00 WIB by Rani Organiser\n"
                           "Dewi <Lestari> & Sons, VIP (front lawn, welcome drink)")


async def test_checkin_by_pasted_link_and_the_failures(kit: Bot) -> None:
    ticket = await paid_ticket(kit)
    open_doors(kit)
    [ok] = await kit.say(ORGANISER_ID, f"/checkin https://t.me/KarcisBot?start=t_{ticket.id}")
    assert ok.text.startswith("✅ Checked in: Sinta Maharani, Early Bird")
    [unknown] = await kit.say(ORGANISER_ID, "/checkin ABCD-EFGH-JKLM")
    assert unknown.text == "❌ Unknown code"
    [usage] = await kit.say(ORGANISER_ID, "/checkin")
    assert usage.text.startswith("Send /checkin CODE")

    await kit.services.catalog.import_events(event_yaml())
    [not_yours] = await kit.say(OTHER_ORGANISER_ID, f"/checkin {ticket.id}")
    assert not_yours.text == "❌ Not your event"

    kit.clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # bought, refunded, then at the door
    refunded = await paid_ticket(kit, "REG")
    await kit.services.orders.refund(refunded.order_id)
    open_doors(kit)
    [void] = await kit.say(ORGANISER_ID, f"/checkin {refunded.id}")
    assert void.text == "❌ Void ticket\nSinta Maharani, Reguler"


async def test_strangers_cannot_check_in_and_nothing_runs(kit: Bot) -> None:
    ticket = await paid_ticket(kit)
    for command in (f"/checkin {ticket.id}", "/scan", "/stats"):
        [refused] = await kit.say(STRANGER_ID, command)
        assert refused.text == "🙏 Sorry, this command is for event organisers."
    assert (await kit.services.tickets.get(ticket.id)).checked_in_at is None


async def test_the_deep_link_checks_in_for_staff_and_shows_the_owner_their_ticket(kit: Bot) -> None:
    ticket = await paid_ticket(kit)
    link = f"/start t_{ticket.id}"
    open_doors(kit)

    [owner] = await kit.say(BUYER_ID, link)
    assert owner.photo and owner.caption.startswith("🎟 Jazz Senja di Taman") and format_code(ticket.id) in owner.caption
    assert (await kit.services.tickets.get(ticket.id)).checked_in_at is None

    door = await kit.say(ORGANISER_ID, link)
    assert door[-1].text.startswith("✅ Checked in: Sinta Maharani, Early Bird")
    [admin] = await kit.say(ADMIN_ID, link)
    assert admin.text.startswith("⚠️ Already checked in at 17:00 WIB by Rani Organiser")


async def test_scan_then_a_photo_of_the_qr_checks_in(kit: Bot) -> None:
    ticket = await paid_ticket(kit)
    open_doors(kit)
    [hint] = await kit.photo(ORGANISER_ID, qr_photo(kit, ticket.id))
    assert hint.text.startswith("To check a ticket in from a photo, send /scan first")

    [ready] = await kit.say(ORGANISER_ID, "/scan")
    assert ready.text.startswith("📷 Send a photo of the ticket's QR code")
    [ok] = await kit.photo(ORGANISER_ID, qr_photo(kit, ticket.id))
    assert ok.text.startswith("✅ Checked in: Sinta Maharani, Early Bird")
    [again] = await kit.photo(ORGANISER_ID, qr_photo(kit, ticket.id))  # still in scan mode: the double scan
    assert again.text.startswith("⚠️ Already checked in at 17:00 WIB")
    [blank] = await kit.photo(ORGANISER_ID, png_of(Image.new("RGB", (300, 300), "white")))
    assert blank.text.startswith("❌ No QR code found")

    kit.clock.advance(minutes=16)  # scan mode ends on its own
    [hint] = await kit.photo(ORGANISER_ID, qr_photo(kit, ticket.id))
    assert hint.text.startswith("To check a ticket in from a photo")


async def test_a_photo_captioned_scan_checks_in_without_scan_mode(kit: Bot) -> None:
    ticket = await paid_ticket(kit)
    open_doors(kit)
    [ok] = await kit.photo(ORGANISER_ID, qr_photo(kit, ticket.id), caption="/scan")
    assert ok.text.startswith("✅ Checked in: Sinta Maharani")
    [buyer_photo] = await kit.photo(BUYER_ID, qr_photo(kit, ticket.id), caption="/scan")
    assert buyer_photo.text.startswith("I can't do anything with photos")


async def test_scan_mode_survives_a_restart(kit: Bot) -> None:
    from tests.handlers_kit import build_app

    ticket = await paid_ticket(kit)
    open_doors(kit)
    await kit.say(ORGANISER_ID, "/scan")
    await kit.app.shutdown()
    kit.app = await build_app(kit.fake, kit.services)
    [ok] = await kit.photo(ORGANISER_ID, qr_photo(kit, ticket.id))
    assert ok.text.startswith("✅")


async def test_stats_for_an_organiser_an_admin_and_a_second_organiser(kit: Bot) -> None:
    await kit.services.catalog.import_events(event_yaml())
    ticket = await paid_ticket(kit, "EARLY")
    await kit.services.orders.reserve(acct(BUYER_ID), JAZZ, {"REG": 2}, buyer())
    await kit.services.checkin.check_in(ticket.id, acct(ORGANISER_ID))

    [own] = await kit.say(ORGANISER_ID, "/stats")
    assert "📊 Jazz Senja di Taman: Malam Tahun Baru · Thu, 31 Dec 2026 19:00 WIB" in own.text
    assert "• Early Bird: sold 1/100 · held 0 · left 99 · checked in 1 · Rp150.000" in own.text
    assert "• Reguler: sold 0/400 · held 2 · left 398 · checked in 0 · Rp0" in own.text
    assert "Total: sold 1/550 · held 2 · left 547 · checked in 1 · Rp150.000" in own.text
    assert "Workshop Desain UI" in own.text and "Malam Puisi" not in own.text

    [other] = await kit.say(OTHER_ORGANISER_ID, "/stats")
    assert "Malam Puisi" in other.text and "Jazz" not in other.text
    [everything] = await kit.say(ADMIN_ID, "/stats")
    assert all(title in everything.text for title in ("Jazz Senja", "Workshop Desain", "Malam Puisi"))


async def test_expire_is_for_admins_reports_per_event_and_tells_the_buyers(kit: Bot) -> None:
    jazz = await kit.services.orders.reserve(acct(BUYER_ID), JAZZ, {"EARLY": 2, "VIP": 1}, buyer())
    await kit.say(INDO_ID, "/start")  # the bot learns each user's language from their messages
    await kit.services.orders.reserve(acct(INDO_ID), WORKSHOP, {"PRO": 1}, buyer())
    kit.clock.advance(minutes=31)

    [refused] = await kit.say(STRANGER_ID, "/expire")
    assert refused.text == "🙏 Sorry, this command is for Karcis admins."
    [refused] = await kit.say(ORGANISER_ID, "/expire")
    assert refused.text == "🙏 Sorry, this command is for Karcis admins."
    assert (await kit.services.orders.get(jazz.id)).status == OrderStatus.PENDING  # nothing ran

    [report] = await kit.say(ADMIN_ID, "/expire")

    assert report.text.splitlines() == [
        "⌛ 2 orders expired, 4 seats released.",
        "• Jazz Senja di Taman: Malam Tahun Baru: 1 order, 3 seats",
        "• Workshop Desain UI untuk Pemula: 1 order, 1 seat",
    ]
    told = kit.sent(BUYER_ID)[-1]
    assert told.text.startswith(f"⌛ Order {jazz.id} for Jazz Senja di Taman: Malam Tahun Baru was not paid in time")
    assert told.callback_data() == [f"c|{JAZZ}|EARLY:2.VIP:1"]
    assert kit.sent(INDO_ID)[-1].text.startswith("⌛ Pesanan")
    [nothing] = await kit.say(ADMIN_ID, "/expire")
    assert nothing.text == "Nothing to expire: no hold has ended."


async def test_set_commands_gives_each_role_its_menu_in_both_languages(kit: Bot) -> None:
    await set_commands(kit.app.bot, kit.services)

    def names(uid: int) -> list[str]:
        return [c["command"] for c in kit.fake.commands_for(uid)]

    assert names(BUYER_ID) == ["start", "mytickets", "orders", "help"]
    assert names(ORGANISER_ID) == ["start", "mytickets", "orders", "help", "checkin", "scan", "stats", "refund"]
    assert names(ADMIN_ID) == ["start", "mytickets", "orders", "help", "checkin", "scan", "stats", "refund",
                               "expire"]
    assert kit.fake.commands_for(INDO_ID)[0]["description"] == "Acara yang dijual"
    assert kit.fake.commands(None, "id")[1] == {"command": "mytickets", "description": "Tiket saya"}
    assert kit.fake.commands({"type": "chat", "chat_id": ADMIN_ID})[-1] == {
        "command": "expire", "description": "Release the seats of holds that have ended"}


async def test_an_organiser_who_never_started_the_bot_does_not_stop_the_menus(kit: Bot) -> None:
    kit.expected_failures.append("chat not found")
    await kit.services.catalog.import_events(event_yaml(organisers=[777]))  # unknown to Telegram
    await set_commands(kit.app.bot, kit.services)
    assert [c["command"] for c in kit.fake.commands_for(ADMIN_ID)][-1] == "expire"


async def test_staff_get_their_menu_when_they_start_the_bot(kit: Bot) -> None:
    await kit.say(ORGANISER_ID, "/start")
    assert [c["command"] for c in kit.fake.commands_for(ORGANISER_ID)][-1] == "refund"
    await kit.say(BUYER_ID, "/start")
    assert kit.fake.commands_for(BUYER_ID) == []  # buyers keep the default menu
    calls = len(kit.fake.calls_to("setMyCommands"))
    ticket = await paid_ticket(kit)
    await kit.say(ORGANISER_ID, f"/start t_{ticket.id}")  # scanning at the door costs no menu updates
    assert len(kit.fake.calls_to("setMyCommands")) == calls


async def test_a_failing_handler_is_logged_with_context_and_the_user_told_briefly(
    kit: Bot, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    kit.expect_generic_error = True

    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(kit.services.stats, "stats", broken)
    [sorry] = await kit.say(ORGANISER_ID, "/stats")

    assert sorry.text == "😵 Sorry, something went wrong. Please try again in a moment."
    [record] = [r for r in caplog.records if r.name == "handlers.telegram.shared"]
    assert "'user_id': 900000002" in record.getMessage() and "'command': '/stats'" in record.getMessage()
    assert record.exc_info[0] is RuntimeError and "database on fire" not in sorry.text


async def test_a_failed_reservation_keeps_the_draft_for_another_try(kit: Bot, monkeypatch) -> None:
    from tests.test_handlers_buyer import checkout_to_summary

    kit.expect_generic_error = True
    kit.expected_failures.append("query is too old")  # the error handler answers a press that was answered
    summary = await checkout_to_summary(kit)
    real = kit.services.orders.reserve

    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(kit.services.orders, "reserve", broken)
    [sorry] = await kit.press(BUYER_ID, summary, "✅ Confirm and hold the seats")
    assert sorry.text.startswith("😵 Sorry")
    monkeypatch.setattr(kit.services.orders, "reserve", real)
    pay = await kit.tap(BUYER_ID, kit.now(BUYER_ID, summary), "✅ Confirm and hold the seats")
    assert pay.text.startswith("✅ Seats held!")


async def test_expire_is_described_as_releasing_ended_holds_in_both_languages(kit: Bot) -> None:
    await set_commands(kit.app.bot, kit.services)
    menus = {lang: {c["command"]: c["description"] for c in kit.fake.commands({"type": "chat", "chat_id": ADMIN_ID},
                                                                              lang)} for lang in ("", "id")}
    assert menus[""]["expire"] == "Release the seats of holds that have ended"
    assert menus["id"]["expire"] == "Lepas kursi dari penahanan yang sudah berakhir"
    [help_text] = await kit.say(ADMIN_ID, "/help")
    assert "/expire: release now the seats of unpaid orders whose hold has ended" in help_text.text
    assert "holds still running are left alone" in help_text.text
