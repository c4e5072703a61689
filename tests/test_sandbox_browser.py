"""The sandbox in a real browser (headless Chromium driven by Playwright): a buyer buys two tickets and pays on the
Midtrans simulator's page, the organiser checks one in from a photo of its QR (✅, then ⚠️), the admin sees the sale
in /stats. Screenshots of the key steps go to artifacts/screenshots/; with UPDATE_DOCS_SCREENSHOT=1 the README's
picture, docs/sandbox.png, is replaced too (not by default: every run makes a slightly different picture).

Needs `pip install playwright` and Debian's `chromium` (/usr/bin/chromium); never `playwright install`."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import pytest

from bot.sandbox.runner import ADMIN, BUYER, ORGANISER
from tests.sandbox_stack import BANNER, NO_HANDLERS, handlers_ready, running_sandbox

if TYPE_CHECKING:
    from playwright.async_api import Browser, Locator, Page

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
README_SCREENSHOT = ROOT / "docs" / "sandbox.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 375, "height": 812}
STEP_TIMEOUT = 20_000  # ms

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="Playwright for Python is not installed (pip install playwright)"),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"no Chromium at {CHROMIUM} (apt-get install chromium; a browser download is not used)"),
    pytest.mark.skipif(not handlers_ready(), reason=NO_HANDLERS),
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


# ---- what a person does in the chat (always in the chat currently shown)


def chat(page: Page) -> Locator:
    return page.locator(".log:not([hidden])")


def bot_said(page: Page, text: str) -> Locator:
    return chat(page).locator(".message.in", has_text=text)


async def send(page: Page, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")


async def tap(page: Page, label: str) -> None:
    """Press the newest inline button whose label contains `label`."""
    await chat(page).locator(".inline-keyboard .button", has_text=label).last.click()


async def see(locator: Locator) -> None:
    from playwright.async_api import expect

    await expect(locator.last).to_be_visible(timeout=STEP_TIMEOUT)


async def be(page: Page, person_id: int) -> None:
    await page.click(f'.person[data-person="{person_id}"]')


async def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


# ---- the journey


async def test_buy_pay_check_in_and_see_stats_in_a_browser(browser: Browser, tmp_path: Path) -> None:
    from playwright.async_api import expect

    async with running_sandbox() as url:
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2)
        page = await context.new_page()
        problems: list[Any] = []
        page.on("pageerror", lambda error: problems.append(error))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        await page.goto(url)
        await see(page.get_by_text(BANNER))
        await expect(page.locator(".person.active")).to_contain_text("Sinta")

        # The buyer: the menu lists the bot's commands; /start shows the events.
        await page.click("#menu-button")
        await page.locator(".menu-item", has_text="/start").click()
        await see(chat(page).locator(".button", has_text="Jazz Senja"))
        await shot(page, "01-buyer-events")

        await tap(page, "Jazz Senja")
        await see(bot_said(page, "Early Bird"))
        for quantity in (1, 2):
            tier = chat(page).locator(".message.in").last.locator(".row", has_text="Early Bird")
            await tier.locator(".button").nth(2).click()  # ➖ · name · ➕
            await see(chat(page).locator(".button", has_text=f"Early Bird · {quantity}"))
        await shot(page, "02-buyer-two-tickets")
        await tap(page, "Continue")

        await see(bot_said(page, "Step 1 of 3"))
        for answer, then in (("Sinta Maharani", "Step 2 of 3"), ("sinta@example.com", "Step 3 of 3")):
            await send(page, answer)
            await see(bot_said(page, then))
        # the phone step's reply keyboard: share this Telegram account's number instead of typing it
        share = page.locator("#reply-keyboard .button.contact", has_text="Share my phone number")
        await see(share)
        await shot(page, "02b-buyer-share-phone")
        await share.click()
        await see(chat(page).locator(".message.out .contact", has_text="📱"))  # the shared contact, as sent
        await see(bot_said(page, "sinta@example.com"))  # the summary
        await expect(page.locator("#reply-keyboard")).to_be_hidden()  # ReplyKeyboardRemove took it away
        await shot(page, "02c-buyer-shared-phone-summary")
        await tap(page, "Confirm")
        await see(chat(page).locator("a.button.url", has_text="Pay"))
        await shot(page, "03-buyer-payment-link")

        # The payment link opens the Midtrans simulator's page in a new tab: pay there.
        async with context.expect_page() as opened:
            await tap(page, "Pay")
        payment = await opened.value
        await payment.wait_for_load_state()
        assert "/midtrans/snap/v4/redirection/" in payment.url
        await see(payment.get_by_text(BANNER))
        await payment.screenshot(path=str(SCREENSHOTS / "04-midtrans-page.png"))
        await payment.locator("button.pay").click()
        await see(payment.locator(".result.paid"))
        await payment.screenshot(path=str(SCREENSHOTS / "05-midtrans-paid.png"))
        await payment.close()

        # Back in the chat: two QR tickets arrive.
        photos = chat(page).locator(".message.in img.photo")
        await expect(photos).to_have_count(2, timeout=STEP_TIMEOUT)
        for index in range(2):
            await photos.nth(index).scroll_into_view_if_needed()
            assert await photos.nth(index).evaluate("img => img.complete && img.naturalWidth > 0")
        await photos.last.scroll_into_view_if_needed()
        await shot(page, "06-buyer-qr-tickets")
        # For the README: "payment received" at the top, the first QR ticket under it.
        await photos.first.evaluate("img => img.closest('.message').previousElementSibling.scrollIntoView()")
        await shot(page, "readme-sandbox")
        if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":
            shutil.copyfile(SCREENSHOTS / "readme-sandbox.png", README_SCREENSHOT)
        qr = await page.request.get(urljoin(url, await photos.first.get_attribute("src") or ""))
        assert qr.ok
        ticket_photo = tmp_path / "ticket.png"
        ticket_photo.write_bytes(await qr.body())

        # The tapped photo opens enlarged.
        await photos.first.click()
        await see(page.locator("#viewer[open] img"))
        await page.locator("#viewer").click()

        # The organiser was told of the sale; checks the ticket in from a photo of its QR: weeks before the event
        # the bot asks first (the door window), one tap checks it in: ✅, then ⚠️.
        await expect(page.locator(f'.person[data-person="{ORGANISER.id}"] .badge')).to_be_visible()
        await be(page, ORGANISER.id)
        await see(bot_said(page, "Sinta Maharani"))
        await send(page, "/scan")
        await see(bot_said(page, "📷"))
        await page.set_input_files("#photo", str(ticket_photo))
        await see(bot_said(page, "⏳"))
        await tap(page, "✅")  # "Check in anyway", in the organiser's language
        await see(bot_said(page, "✅"))
        await page.set_input_files("#photo", str(ticket_photo))
        await see(bot_said(page, "⚠️"))
        await expect(chat(page).locator(".message.out img.photo")).to_have_count(2)
        await shot(page, "07-organiser-check-in")

        # The admin sees the sale in /stats.
        await be(page, ADMIN.id)
        await send(page, "/stats")
        await see(bot_said(page, "Early Bird: sold 2/100"))
        await expect(bot_said(page, "Early Bird: sold 2/100").last).to_contain_text("Rp300.000")
        await shot(page, "08-admin-stats")

        # Each person kept their own chat; the buyer can switch her Telegram to Indonesian.
        await be(page, BUYER.id)
        await expect(chat(page).locator(".message.in img.photo")).to_have_count(2)
        await page.select_option("#lang", "id")
        await see(page.locator("#toast", has_text="Bahasa Indonesia"))
        await send(page, "/start")
        await see(bot_said(page, "Halo Sinta"))
        await shot(page, "09-buyer-bahasa-indonesia")

        assert not problems, problems
        await context.close()
    assert len(list(SCREENSHOTS.glob("*.png"))) >= 10


# ---- WhatsApp in the web chat (a scripted bot behind the simulator's webhook; the service is not started)

LAPTOP = {"width": 1280, "height": 800}


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["375px", "1280px"])
async def test_a_whatsapp_chat_looks_and_acts_like_whatsapp(browser: Browser, viewport: dict[str, int],
                                                            unused_tcp_port: int, tmp_path: Path) -> None:
    """Dewi types, the bot's text (WhatsApp formatting, HTML shown as text), list, reply buttons, cta_url and
    QR image are drawn as WhatsApp draws them; the list sheet, a reply button and a photo reach the bot signed."""
    import aiohttp
    from aiohttp import web
    from playwright.async_api import expect

    from bot import qr
    from bot.sandbox.runner import WA_BUYER, WHATSAPP, WHATSAPP_PHONE_NUMBER_ID, _listen, create_sandbox_app
    from tests.test_sandbox import FakeDoor

    sock = _listen(0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_sandbox_app(base, token="123456:AAsandboxTest", server_key="SB-Mid-server-test",
                             notification_url="http://127.0.0.1:9/api/payment/notification")
    wa = app[WHATSAPP]
    door = FakeDoor(wa.app_secret, "verify-me")
    door_app = web.Application()
    door_app.router.add_get("/whatsapp/webhook", door.verify)
    door_app.router.add_post("/whatsapp/webhook", door.receive)
    runners = [web.AppRunner(app, shutdown_timeout=1.0), web.AppRunner(door_app)]
    for runner in runners:
        await runner.setup()
    await web.SockSite(runners[0], sock).start()
    await web.TCPSite(runners[1], "127.0.0.1", unused_tcp_port).start()
    number, width = WA_BUYER.number, viewport["width"]
    try:
        await wa.configure_webhook(f"http://127.0.0.1:{unused_tcp_port}/whatsapp/webhook", "verify-me")
        context = await browser.new_context(viewport=viewport, device_scale_factor=1)
        page = await context.new_page()
        problems: list[Any] = []
        page.on("pageerror", lambda error: problems.append(error))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        await page.goto(f"{base}/")
        await page.click(f'.person[data-person="wa:{number}"]')
        await expect(page.locator("body")).to_have_class("wa")
        await send(page, "halo")
        await wa.wait_until(lambda: len(door.messages) == 1)
        assert door.messages[0]["text"]["body"] == "halo"

        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {wa.access_token}"}) as http:
            graph = f"{base}/whatsapp/v23.0/{WHATSAPP_PHONE_NUMBER_ID}"
            form = aiohttp.FormData()
            form.add_field("messaging_product", "whatsapp")
            form.add_field("type", "image/png")
            form.add_field("file", qr.render_png("https://karcis.example/t/KRC-TEST1"), filename="qr.png",
                           content_type="image/png")
            async with http.post(f"{graph}/media", data=form) as response:
                media_id = (await response.json())["id"]
            to = {"messaging_product": "whatsapp", "to": number[1:]}
            for message in (
                {"type": "text", "text": {"body": "Halo *Dewi*! _Selamat datang_ di <b>Karcis</b> ~lama~ `KRC-TEST1`"}},
                {"type": "interactive", "interactive": {
                    "type": "list", "body": {"text": "Pilih acara:"}, "action": {"button": "Acara", "sections": [
                        {"title": "Desember", "rows": [
                            {"id": "event:jazz", "title": "Jazz Senja", "description": "31 Des · Rp150.000"},
                            {"id": "event:ui", "title": "Workshop Desain UI", "description": "Sab 12 Des"}]}]}}},
                {"type": "interactive", "interactive": {
                    "type": "button", "body": {"text": "Berapa tiket?"}, "footer": {"text": "Early Bird"},
                    "action": {"buttons": [{"type": "reply", "reply": {"id": "qty:1", "title": "1 tiket"}},
                                           {"type": "reply", "reply": {"id": "qty:2", "title": "2 tiket"}}]}}},
                {"type": "interactive", "interactive": {
                    "type": "cta_url", "body": {"text": "Bayar Rp300.000"}, "action": {
                        "name": "cta_url", "parameters": {"display_text": "Bayar",
                                                          "url": f"{base}/midtrans/snap/v4/redirection/x"}}}},
                {"type": "image", "image": {"id": media_id, "caption": "Tiket KRC-TEST1"}},
            ):
                async with http.post(f"{graph}/messages", json={**to, **message}) as response:
                    assert response.status == 200, await response.text()

        log = chat(page)
        text = log.locator(".wa-message.in .text").first
        await see(text)
        await expect(text.locator("strong")).to_have_text("Dewi")
        await expect(text.locator("em")).to_have_text("Selamat datang")
        await expect(text.locator("s")).to_have_text("lama")
        await expect(text.locator("code")).to_have_text("KRC-TEST1")
        await expect(text).to_contain_text("<b>Karcis</b>")  # the bot's HTML is text, never markup
        assert await text.locator("b").count() == 0
        link = log.locator("a.wa-cta")
        await see(link)
        assert await link.get_attribute("target") == "_blank"
        photo = log.locator(".wa-message.in img.photo")
        await see(photo)
        await photo.scroll_into_view_if_needed()
        await page.wait_for_function("() => [...document.querySelectorAll('.wa-message.in img.photo')]"
                                     ".some((img) => img.complete && img.naturalWidth > 0)", timeout=STEP_TIMEOUT)
        await shot(page, f"wa-01-dewi-chat-{width}")

        await log.locator(".wa-list-button", has_text="Acara").click()
        sheet = page.locator("#wa-sheet[open]")
        await see(sheet.locator(".wa-row", has_text="Jazz Senja"))
        await expect(sheet.locator(".wa-section")).to_have_text("Desember")
        await expect(sheet.locator(".wa-row-description").first).to_have_text("31 Des · Rp150.000")
        await shot(page, f"wa-02-list-sheet-{width}")
        await sheet.locator(".wa-row", has_text="Jazz Senja").click()
        await wa.wait_until(lambda: len(door.messages) == 2)
        await log.locator(".wa-action", has_text="2 tiket").click()
        await wa.wait_until(lambda: len(door.messages) == 3)
        await see(log.locator(".wa-message.out", has_text="2 tiket"))
        ticket = tmp_path / "ticket.png"
        ticket.write_bytes(qr.render_png("https://karcis.example/t/KRC-TEST1"))
        await page.set_input_files("#photo", str(ticket))
        await wa.wait_until(lambda: len(door.messages) == 4)
        await see(log.locator(".wa-message.out img.photo"))
        await shot(page, f"wa-03-replies-and-photo-{width}")
        interactive = [m["interactive"] for m in door.messages if m["type"] == "interactive"]
        assert interactive[0]["list_reply"]["id"] == "event:jazz"
        assert interactive[1]["button_reply"] == {"id": "qty:2", "title": "2 tiket"}
        assert door.messages[3]["type"] == "image"

        # The Telegram chats are as they were: blue, with the menu button.
        await be(page, BUYER.id)
        await expect(page.locator("body")).not_to_have_class("wa")
        await see(page.locator("#menu-button"))
        assert not problems, problems
        await context.close()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()
        sock.close()


# ---- across the doors: bought on WhatsApp, checked in on Telegram, and the other way


async def wa_tap(page: Page, label: str) -> None:
    """Press the newest reply button whose title contains `label`."""
    await see(chat(page).locator(".wa-actions .wa-action", has_text=label))
    await chat(page).locator(".wa-actions .wa-action", has_text=label).last.click()


async def wa_choose(page: Page, prompt: str, row: str) -> None:
    """Open the list of the newest bot message saying `prompt`; choose the row whose title contains `row`."""
    message = chat(page).locator(".wa-message.in", has_text=prompt).last
    await see(message.locator(".wa-list-button"))
    await message.locator(".wa-list-button").click()
    await see(page.locator("#wa-sheet[open] .wa-row", has_text=row))
    await page.locator("#wa-sheet[open] .wa-row", has_text=row).first.click()
    await page.locator("#wa-sheet[open]").wait_for(state="detached")


async def test_bought_on_whatsapp_checked_in_on_telegram_and_the_other_way(browser: Browser, tmp_path: Path) -> None:
    from playwright.async_api import expect

    from bot.sandbox.runner import WA_BUYER, WA_ORGANISER

    async with running_sandbox() as url:
        context = await browser.new_context(viewport=PHONE, device_scale_factor=1)
        page = await context.new_page()
        hook = await page.request.get(urljoin(url, "whatsapp/sandbox/webhook"))
        assert (await hook.json())["url"], "the service's WhatsApp webhook did not answer Meta's handshake"
        problems: list[Any] = []
        page.on("pageerror", lambda error: problems.append(error))
        await page.goto(url)
        await page.click(f'.person[data-person="wa:{WA_BUYER.number}"]')
        await send(page, "acara")
        await wa_choose(page, "Acara yang dijual", "Jazz Senja")
        await shot(page, "wa-10-dewi-event")
        await wa_tap(page, "Beli")
        await wa_choose(page, "Tiket mana", "Early Bird")
        await wa_choose(page, "Berapa tiket", "1 ×")
        await wa_tap(page, "Lanjut")
        for answer in ("Dewi Lestari", "dewi@example.com", "0812 1111 2222"):
            await send(page, answer)
            await see(chat(page).locator(".wa-message.out", has_text=answer))
        await wa_tap(page, "Konfirmasi")
        await see(chat(page).locator("a.wa-cta"))
        await shot(page, "wa-11-dewi-pay-link")
        async with context.expect_page() as opened:
            await chat(page).locator("a.wa-cta").last.click()
        payment = await opened.value
        await payment.wait_for_load_state()
        assert "/midtrans/snap/v4/redirection/" in payment.url
        await payment.locator("button.pay").click()
        await see(payment.locator(".result.paid"))
        await payment.close()

        photo = chat(page).locator(".wa-message.in img.photo")
        await see(photo)
        await photo.last.scroll_into_view_if_needed()
        await shot(page, "wa-12-dewi-qr-ticket")
        qr = await page.request.get(urljoin(url, await photo.last.get_attribute("src") or ""))
        assert qr.ok
        ticket = tmp_path / "ticket.png"
        ticket.write_bytes(await qr.body())

        await be(page, ORGANISER.id)
        await send(page, "/scan")
        await see(bot_said(page, "📷"))
        await page.set_input_files("#photo", str(ticket))
        await see(bot_said(page, "⏳"))  # weeks before the event: one confirming tap
        await tap(page, "✅")
        await see(bot_said(page, "✅"))
        await shot(page, "wa-13-budi-checks-in-on-telegram")
        await expect(bot_said(page, "✅").last).to_contain_text("Dewi Lestari")

        # The other way: Sinta buys on Telegram, Budi checks her ticket in on WhatsApp with a photo of its QR.
        await be(page, BUYER.id)
        await send(page, "/start")
        await tap(page, "Jazz Senja")
        tier = chat(page).locator(".message.in").last.locator(".row", has_text="Early Bird")
        await tier.locator(".button").nth(2).click()
        await see(chat(page).locator(".button", has_text="Early Bird · 1"))
        await tap(page, "Continue")
        for answer, then in (("Sinta Maharani", "Step 2 of 3"), ("sinta@example.com", "Step 3 of 3"),
                             ("0812 3456 7890", "sinta@example.com")):
            await send(page, answer)
            await see(bot_said(page, then))
        await tap(page, "Confirm")
        async with context.expect_page() as opened:
            await tap(page, "Pay")
        payment = await opened.value
        await payment.wait_for_load_state()
        await payment.locator("button.pay").click()
        await see(payment.locator(".result.paid"))
        await payment.close()
        sinta_qr = chat(page).locator(".message.in img.photo")
        await see(sinta_qr)
        qr = await page.request.get(urljoin(url, await sinta_qr.last.get_attribute("src") or ""))
        assert qr.ok
        ticket.write_bytes(await qr.body())

        await page.click(f'.person[data-person="wa:{WA_ORGANISER.number}"]')
        await page.set_input_files("#photo", str(ticket))
        await wa_tap(page, "Tetap check-in")  # weeks before the event: one confirming tap
        checked = chat(page).locator(".wa-message.in", has_text="✅")
        await see(checked)
        await expect(checked.last).to_contain_text("Sinta Maharani")
        await shot(page, "wa-14-budi-checks-in-on-whatsapp")
        assert not problems, problems
        await context.close()


# ---- 375 px: what a Pay button says stays readable (issue 12; docs/order-messages.md)


async def truncated_labels(page: Page, text: str) -> list[str]:
    """The labels of the inline buttons containing `text` that the chat cuts short (its buttons end in "…" via
    text-overflow when the label is wider than the button)."""
    return await chat(page).locator(".inline-keyboard .button", has_text=text).evaluate_all(
        "buttons => buttons.filter(b => b.scrollWidth > b.clientWidth + 1).map(b => b.textContent)")


async def test_pay_buttons_keep_their_amount_visible_at_375px(browser: Browser) -> None:
    async with running_sandbox() as url:
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2)
        page = await context.new_page()
        await page.goto(url)
        await see(page.get_by_text(BANNER))
        await send(page, "/start")
        await tap(page, "Jazz Senja")
        await see(bot_said(page, "Early Bird"))
        for quantity in (1, 2, 3, 4):  # the largest amount a tier allows: the longest price
            tier = chat(page).locator(".message.in").last.locator(".row", has_text="Early Bird")
            await tier.locator(".button").nth(2).click()
            await see(chat(page).locator(".button", has_text=f"Early Bird · {quantity}"))
        await tap(page, "Continue")
        await see(bot_said(page, "Step 1 of 3"))
        for answer, then in (("Sinta Maharani", "Step 2 of 3"), ("sinta@example.com", "Step 3 of 3"),
                             ("0812 3456 7890", "sinta@example.com")):
            await send(page, answer)
            await see(bot_said(page, then))
        await tap(page, "Confirm")
        await see(chat(page).locator("a.button.url", has_text="Pay"))
        assert await truncated_labels(page, "Pay") == []

        await send(page, "/orders")
        await see(bot_said(page, "Unpaid orders"))
        pay = chat(page).locator(".message.in").last.locator(".inline-keyboard .button", has_text="Pay")
        await see(pay)
        assert "Rp600.000" in (await pay.first.text_content() or "")
        await shot(page, "10-buyer-orders-375px")
        assert await truncated_labels(page, "Pay") == [], "a Pay button's amount is cut off at 375 px"
        cancel = chat(page).locator(".message.in").last.locator(".inline-keyboard .button", has_text="Cancel")
        assert await cancel.count() == 1 and "#1" in (await cancel.first.text_content() or "")  # says which order
        await context.close()
