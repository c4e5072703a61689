"""At 375 px (a small phone), in the sandbox's web chats in headless Chromium: every event in the list shows its
date whole, not cut by the button's edge or an ellipsis: the Telegram /start buttons (English and Indonesian)
and the WhatsApp list sheet's rows. Screenshots go to $KARCIS_SHOTS (default /tmp/karcis-375/).

Needs Playwright for Python and Debian's chromium (.ci/chromium.sh); skipped with the reason otherwise."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.sandbox.runner import BUYER, WA_BUYER
from handlers.messages import CATALOG
from tests.sandbox_stack import BANNER, running_sandbox
from tests.test_sandbox_browser import PHONE, bot_said, browser, chat, pytestmark, see, send

if TYPE_CHECKING:
    from playwright.async_api import Browser, Locator

__all__ = ["browser", "pytestmark"]  # the fixture, and the same skips as the journey test

SHOTS = Path(os.environ.get("KARCIS_SHOTS", "/tmp/karcis-375"))
WEEKDAYS = sorted({day for lang in CATALOG for day in CATALOG[lang]["time.weekdays"].split()})
MONTHS = sorted({month for lang in CATALOG for month in CATALOG[lang]["time.months"].split()})
DATE = rf"(?:{'|'.join(WEEKDAYS)}), \d{{1,2}} (?:{'|'.join(MONTHS)}) \d{{4}}"  # `Thu, 31 Dec 2026`

# Where the date is drawn inside `el`, and how far right text can be seen there: the element's content box, less
# the ellipsis that `text-overflow` draws when the text is too wide, within the viewport and `clip`'s box.
WHERE_IS_THE_DATE = """(el, [pattern, clip]) => {
  const found = new RegExp(pattern);
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const m = found.exec(node.data);
    if (!m) continue;
    const range = document.createRange();
    range.setStart(node, m.index);
    range.setEnd(node, m.index + m[0].length);
    const date = range.getBoundingClientRect();
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    const overflowing = el.scrollWidth > el.clientWidth + 1;
    const pen = document.createElement("canvas").getContext("2d");
    pen.font = style.font;
    const ellipsis = overflowing && style.textOverflow === "ellipsis" ? pen.measureText("…").width : 0;
    const outer = clip ? clip.getBoundingClientRect() : box;
    const right = Math.min(box.right - parseFloat(style.paddingRight) - ellipsis, outer.right,
                           document.documentElement.clientWidth);
    const left = Math.max(box.left + parseFloat(style.paddingLeft), outer.left, 0);
    return {date: m[0], from: date.left, to: date.right, left, right, overflowing, text: el.textContent};
  }
  return {date: null, text: el.textContent};
}"""


async def date_placement(element: Locator, clip: Locator | None = None) -> dict[str, Any]:
    handle = await clip.element_handle() if clip is not None else None
    return await element.evaluate(WHERE_IS_THE_DATE, [DATE, handle])


def fully_visible(placed: dict[str, Any]) -> bool:
    if placed["date"] is None:
        return False
    return placed["from"] >= placed["left"] - 0.5 and placed["to"] <= placed["right"] + 0.5


async def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"))


async def test_every_event_shows_its_whole_date_at_375_px_on_telegram_and_whatsapp(browser: Browser) -> None:
    async with running_sandbox() as url:
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2)
        page = await context.new_page()
        await page.goto(url)
        await see(page.get_by_text(BANNER))

        # Telegram: the /start list, in English, then in Indonesian
        await page.click(f'.person[data-person="{BUYER.id}"]')
        for lang, heading in (("en", "Events on sale"), ("id", "Acara yang dijual")):
            if lang == "id":
                await page.select_option("#lang", "id")
                await see(page.locator("#toast", has_text="Bahasa Indonesia"))
                await page.locator("#toast").wait_for(state="hidden")  # not over the screenshot
            await send(page, "/start")
            listing = bot_said(page, heading).last
            await see(listing.locator(".inline-keyboard .button"))
            await shot(page, f"telegram-events-{lang}")
            buttons = listing.locator(".inline-keyboard .button")
            events = [b for b in await buttons.all() if (await b.inner_text()).strip() not in ("◀", "▶")]
            assert len(events) >= 2
            for event in events:
                placed = await date_placement(event)
                assert fully_visible(placed), (lang, placed)

        # WhatsApp: the events list sheet
        await page.click(f'.person[data-person="wa:{WA_BUYER.number}"]')
        await send(page, "acara")
        message = chat(page).locator(".wa-message.in", has_text="Acara yang dijual").last
        await see(message.locator(".wa-list-button"))
        await message.locator(".wa-list-button").click()
        sheet = page.locator("#wa-sheet[open]")
        await see(sheet.locator(".wa-row"))
        await shot(page, "whatsapp-events-sheet")
        rows = await sheet.locator(".wa-row").all()
        assert len(rows) >= 2
        for row in rows:
            placed = await date_placement(row, clip=sheet)
            assert fully_visible(placed), placed
            assert not placed["overflowing"], placed
        await context.close()
