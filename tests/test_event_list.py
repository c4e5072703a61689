"""The event list keeps each event's date visible on a narrow phone: on Telegram the date leads the button (clients
cut a long label at its end), on WhatsApp it leads the row's description (72 characters; the title has 24). The
pixels themselves are checked in Chromium at 375 px: tests/test_browser_375.py."""

from __future__ import annotations

import re

from storage.store import Store
from tests.conftest import BUYER_ID, FakeClock
from tests.handlers_kit import INDO_ID, Bot, event_yaml
from tests.whatsapp_stack import AYU, JOHN, whatsapp_stack

LONG_TITLE = "Festival Musik Senja Bersama Orkestra Simfoni Nusantara dan Paduan Suara Anak Indonesia"
LONG_VENUE = "Gedung Kesenian Jakarta, Jl. Gedung Kesenian No.1, Pasar Baru, Sawah Besar, Jakarta Pusat"
BUTTON_MAX = 43  # date (16) + " · " + 24 of the title: about what a 375 px phone's button shows


async def test_telegram_event_buttons_lead_with_the_date_and_stay_short(kit: Bot) -> None:
    await kit.services.catalog.import_events(event_yaml(title=LONG_TITLE, venue=LONG_VENUE))
    for uid, date in ((BUYER_ID, "Sun, 20 Dec 2026"), (INDO_ID, "Min, 20 Des 2026")):
        listing = next(m for m in reversed(await kit.say(uid, "/start")) if m.buttons())
        labels = [b["text"] for b in listing.buttons() if b["text"] not in ("◀", "▶")]
        assert len(labels) >= 3
        assert all(re.match(r"\w{3}, \d{1,2} \w{3} \d{4} · ", text) for text in labels), labels
        assert all(len(text) <= BUTTON_MAX for text in labels), labels
        [festival] = [text for text in labels if "Festival" in text]
        assert festival == f"{date} · Festival Musik Senja…"


async def test_whatsapp_event_rows_lead_their_description_with_the_date(memory_store: Store,
                                                                        clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        await stack.services.catalog.import_events(event_yaml(title=LONG_TITLE, venue=LONG_VENUE))
        for number, word, date in ((AYU, "acara", "Min, 20 Des 2026 19:00 WIB"),
                                   (JOHN, "events", "Sun, 20 Dec 2026 19:00 WIB")):
            listing = await stack.say(number, word)
            rows = [row for row in listing.rows() if not row["id"].startswith("events")]
            assert len(rows) >= 3
            assert all(len(row["title"]) <= 24 and len(row.get("description", "")) <= 72 for row in rows), rows
            assert all(re.match(r"\w{3}, \d{1,2} \w{3} \d{4} ", row.get("description", "")) for row in rows), rows
            [festival] = [row for row in rows if row["title"].startswith("Festival")]
            assert festival["description"].startswith(f"{date} · Gedung Kesenian")
