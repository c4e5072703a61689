"""The sandbox in a real browser at 375 px: the sample Bali evening is shown in WITA, on its card and in the events
list (docs/time-zones.md). Screenshots go to artifacts/screenshots/. Same needs as tests/test_sandbox_browser.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.sandbox_stack import BANNER, running_sandbox
from tests.test_sandbox_browser import PHONE, bot_said, chat, pytestmark, see, shot, tap

if TYPE_CHECKING:
    from playwright.async_api import Browser

__all__ = ["pytestmark"]  # the same skips as the main browser test

from tests.test_sandbox_browser import browser  # noqa: E402,F401 - the fixture


async def test_the_bali_evening_reads_wita_in_the_sandbox(browser: Browser) -> None:  # noqa: F811
    async with running_sandbox() as url:
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2)
        page = await context.new_page()
        await page.goto(url)
        await see(page.get_by_text(BANNER))
        await page.fill("#text", "/start")
        await page.press("#text", "Enter")
        await see(chat(page).locator(".button", has_text="Kecak at Sunset"))
        await tap(page, "Kecak at Sunset")
        await see(bot_said(page, "19:00 WITA"))
        card = bot_said(page, "Amfiteater Pura Luhur Uluwatu").last
        assert "WIB" not in (await card.inner_text())
        await shot(page, "zones-01-bali-card-wita")
        await context.close()
