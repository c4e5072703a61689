"""The Telegram door with PUBLIC_URL set: new tickets' QRs carry the ticket page, and a photo of that QR, its
or its link pasted checks in; an old t.me QR still does."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
import zxingcpp
from PIL import Image

from bot.config import Settings
from bot.qr import render_png
from tests.conftest import ADMIN_ID, BUYER_ID, ORGANISER_ID
from tests.handlers_kit import JAZZ, WORKSHOP, Bot, png_of
from tests.helpers import acct, buyer
from tests.test_handlers_buyer import checkout_to_summary

PUBLIC = "https://karcis.example"


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, admin_ids=frozenset({ADMIN_ID}), public_url=PUBLIC)  # type: ignore[call-arg]


def photo_of(link: str) -> bytes:
    qr = Image.open(io.BytesIO(render_png(link)))
    canvas = Image.new("RGB", (qr.width + 200, qr.height + 300), "#d8d8d8")
    canvas.paste(qr.convert("RGB"), (100, 120))
    return png_of(canvas)


async def test_a_new_ticket_qr_carries_the_ticket_page(kit: Bot) -> None:
    summary = await checkout_to_summary(kit, event=WORKSHOP, presses=(f"c|{WORKSHOP}|FREE:1",))
    [photo] = await kit.press(BUYER_ID, summary, "✅ Confirm: get my tickets")
    [ticket] = await kit.services.tickets.for_user(acct(BUYER_ID))
    [qr] = zxingcpp.read_barcodes(Image.open(io.BytesIO(kit.fake.file_bytes(photo.photo_file_id))))
    assert qr.text == f"{PUBLIC}/t/{ticket.id}"


async def test_the_page_link_and_the_old_deep_link_both_check_in_at_the_telegram_door(kit: Bot) -> None:
    tickets = []
    for _ in range(3):
        order = await kit.services.orders.reserve(acct(BUYER_ID), JAZZ, {"EARLY": 1}, buyer())
        tickets.extend((await kit.services.orders.pay(order.id)).tickets)
    new, old, typed = tickets
    kit.clock.now = datetime(2026, 12, 31, 10, 0, tzinfo=UTC)  # the evening of the event: the doors are open
    await kit.say(ORGANISER_ID, "/scan")
    [by_page] = await kit.photo(ORGANISER_ID, photo_of(f"{PUBLIC}/t/{new.id}"))
    assert by_page.text.startswith("✅ Checked in: Sinta Maharani, Early Bird")
    [by_old] = await kit.photo(ORGANISER_ID, photo_of(f"https://t.me/{kit.fake.bot_username}?start=t_{old.id}"))
    assert by_old.text.startswith("✅ Checked in: Sinta Maharani, Early Bird")
    [by_text] = await kit.say(ORGANISER_ID, f"/checkin {PUBLIC}/t/{typed.id}")  # the page link pasted
    assert by_text.text.startswith("✅ Checked in: Sinta Maharani, Early Bird")
