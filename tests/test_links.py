"""Links (bot/links.py): what a new ticket's QR carries, the payment finish link by channel, both QR forms read
back, and the ticket's public page (webhooks/ticket_page.py), which shows no personal data and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.checkin import CheckInStatus, Standing
from bot.config import Settings, load_settings
from bot.links import Links, channel_of
from bot.services import Services
from bot.tickets import MAX_INPUT, normalize_code
from storage.documents import TicketStatus
from tests.conftest import ORGANISER_ID, FakeClock
from tests.helpers import acct, buyer
from webhooks.app import create_app

CODE = "K7QF9MZTXW3P"
JAZZ = "jazz-senja-2026"


async def paid_ticket(services: Services, name: str = "Budi Santoso"):
    order = await services.orders.reserve(acct(7), JAZZ, {"REG": 1}, buyer(name))
    [ticket] = (await services.orders.pay(order.id)).tickets
    return ticket


# ---------------------------------------------------------------------------------------------- the links


def test_a_new_ticket_carries_the_page_when_there_is_a_public_url_else_the_telegram_deep_link() -> None:
    assert Links(public_url="https://karcis.example").ticket(CODE) == f"https://karcis.example/t/{CODE}"
    assert Links(telegram_username="KarcisBot").ticket(CODE) == f"https://t.me/KarcisBot?start=t_{CODE}"
    assert Links().ticket(CODE, telegram_username="KarcisBot") == f"https://t.me/KarcisBot?start=t_{CODE}"
    settings = Settings(_env_file=None, public_url="https://karcis.example/")  # type: ignore[call-arg]
    assert Links.from_settings(settings).ticket(CODE) == f"https://karcis.example/t/{CODE}"  # one slash


def test_staff_links_into_each_chat() -> None:
    links = Links(whatsapp_number="+6281234567890", telegram_username="KarcisBot")
    assert links.telegram_check_in(CODE) == f"https://t.me/KarcisBot?start=t_{CODE}"
    assert links.whatsapp_check_in(CODE) == f"https://wa.me/6281234567890?text=checkin%20{CODE}"
    assert Links().telegram_check_in(CODE) is None and Links().whatsapp_check_in(CODE) is None


def test_a_check_in_rewrite_changes_the_staff_links_only_never_the_qr() -> None:
    """The sandbox's seam (Links.check_in_rewrite): the staff buttons lead where it says, or nowhere (None); the
    ticket's own link stays the deep link; production, which sets none, keeps t.me and wa.me."""
    seen: list[str] = []

    def rewrite(url: str) -> str | None:
        seen.append(url)
        return "http://127.0.0.1:1/chat" if "t.me" in url else None

    links = Links(whatsapp_number="+6281234567890", telegram_username="KarcisBot", check_in_rewrite=rewrite)
    assert links.telegram_check_in(CODE) == "http://127.0.0.1:1/chat"
    assert links.whatsapp_check_in(CODE) is None
    assert seen == [f"https://t.me/KarcisBot?start=t_{CODE}", f"https://wa.me/6281234567890?text=checkin%20{CODE}"]
    assert links.ticket(CODE) == f"https://t.me/KarcisBot?start=t_{CODE}"  # the QR: never rewritten
    assert Links(check_in_rewrite=rewrite).telegram_check_in(CODE) is None  # nothing to rewrite
    assert Links.from_settings(Settings(_env_file=None)).check_in_rewrite is None  # type: ignore[call-arg]


def test_the_payment_finish_link_returns_the_buyer_to_the_channel_they_bought_in() -> None:
    links = Links(whatsapp_number="+6281234567890", telegram_username="KarcisBot")
    order = "KRC-2612-ABCD"
    assert links.payment_finish(order) == f"https://t.me/KarcisBot?start=o_{order}"  # an order without address
    assert links.payment_finish(order, "telegram:42") == f"https://t.me/KarcisBot?start=o_{order}"
    assert links.payment_finish(order, "whatsapp:+6289999") == f"https://wa.me/6281234567890?text=order%20{order}"
    assert Links(telegram_username="KarcisBot").payment_finish(order, "whatsapp:+6289999") is None  # no number
    assert (channel_of(None), channel_of("telegram:1"), channel_of("whatsapp:+62")) == ("telegram", "telegram",
                                                                                       "whatsapp")


def test_the_whatsapp_display_number_setting() -> None:
    assert load_settings(_env_file=None, whatsapp_display_number="+62 812-3456-7890").whatsapp_display_number \
        == "+6281234567890"
    assert load_settings(_env_file=None, whatsapp_display_number=" ").whatsapp_display_number is None
    with pytest.raises(Exception, match="WHATSAPP_DISPLAY_NUMBER"):
        load_settings(_env_file=None, whatsapp_display_number="call me")


@pytest.mark.parametrize("text", [
    f"https://t.me/KarcisBot?start=t_{CODE}",       # every QR sold before ticket pages
    f"https://karcis.example/t/{CODE}", f"https://karcis.example/t/{CODE}/", "https://karcis.example/t/K7QF-9MZT-XW3P",
    f"checkin {CODE.lower()}", "checkin K7QF-9MZT-XW3P", f"Check-in {CODE}", f"/checkin {CODE}", f"t_{CODE}",
    "k7qf 9mzt xw3p",
])
def test_normalize_code_reads_every_form(text: str) -> None:
    assert normalize_code(text) == CODE


@pytest.mark.parametrize("text", ["https://karcis.example/t/../etc", "checkin", "x" * (MAX_INPUT + 1),
                                  f"{CODE} " + " " * MAX_INPUT, "https://karcis.example/t/K7QF9MZTXW3"])
def test_normalize_code_refuses_what_cannot_be_a_code(text: str) -> None:
    assert normalize_code(text) is None


async def test_an_old_format_telegram_qr_and_a_new_page_link_both_check_in(services: Services) -> None:
    old, new = await paid_ticket(services), await paid_ticket(services)
    result = await services.checkin.check_in(f"https://t.me/KarcisBot?start=t_{old.id}", acct(ORGANISER_ID))
    assert result.status == CheckInStatus.CHECKED_IN and result.ticket.id == old.id  # type: ignore[union-attr]
    result = await services.checkin.check_in(f"https://karcis.example/t/{new.id}", acct(ORGANISER_ID))
    assert result.status == CheckInStatus.CHECKED_IN and result.ticket.id == new.id  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------- public status


async def test_public_status_valid_used_void_unknown(services: Services, clock: FakeClock) -> None:
    ticket = await paid_ticket(services)
    listing = await services.catalog.get(JAZZ)
    assert listing is not None
    valid = await services.checkin.public_status(f"https://karcis.example/t/{ticket.id}")
    assert (valid.standing, valid.code, valid.event_title, valid.starts_at, valid.tier_name) == (
        Standing.VALID, ticket.id, listing.event.title, listing.event.starts_at, "Reguler")
    await services.checkin.check_in(ticket.id, acct(ORGANISER_ID))
    used = await services.checkin.public_status(ticket.id)
    assert (used.standing, used.used_at) == (Standing.USED, clock.now)
    await services.store.db["tickets"].update_one({"_id": ticket.id}, {"$set": {"status": TicketStatus.VOID.value}})
    assert (await services.checkin.public_status(ticket.id)).standing == Standing.VOID
    assert (await services.checkin.public_status("23456789ABCD")).standing == Standing.UNKNOWN
    assert (await services.checkin.public_status("nonsense")).standing == Standing.UNKNOWN
    stored = await services.store.tickets.get(ticket.id)
    assert stored is not None and stored.checked_in_by == acct(ORGANISER_ID)  # reading changed nothing


# ---------------------------------------------------------------------------------------------- the page


@pytest.fixture
async def page(services: Services) -> AsyncIterator[tuple[TestClient, Services]]:
    services = replace(services, links=Links(public_url="https://karcis.example", whatsapp_number="+6281234567890",
                                             telegram_username="KarcisBot"))
    app = create_app(services, services.payments, services.delivery)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client, services


async def test_the_page_of_a_valid_ticket_offers_both_chats_and_shows_no_personal_data(
    page: tuple[TestClient, Services],
) -> None:
    client, services = page
    ticket = await paid_ticket(services, name="Sinta Rahasia")
    response = await client.get(f"/t/{ticket.id}", headers={"Accept-Language": "en-GB,en;q=0.8"})
    body = await response.text()
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    assert "Valid ticket" in body and "Jazz" in body
    assert f'href="https://t.me/KarcisBot?start=t_{ticket.id}"' in body
    assert f'href="https://wa.me/6281234567890?text=checkin%20{ticket.id}"' in body
    assert "Sinta" not in body and "Rahasia" not in body and "example.com" not in body  # no holder, no e-mail
    before = await services.store.tickets.get(ticket.id)
    await client.get(f"/t/{ticket.id}")
    assert await services.store.tickets.get(ticket.id) == before  # opening the page checks nobody in


async def test_the_page_of_a_used_ticket_says_when_in_wib_and_in_indonesian(
    page: tuple[TestClient, Services], clock: FakeClock,
) -> None:
    client, services = page
    ticket = await paid_ticket(services)
    await services.checkin.check_in(ticket.id, acct(ORGANISER_ID))
    body = await (await client.get(f"/t/{ticket.id}", headers={"Accept-Language": "id-ID,id;q=0.9"})).text()
    assert "Sudah dipakai" in body and "WIB" in body and str(ORGANISER_ID) not in body


async def test_the_page_of_a_void_or_unknown_ticket_offers_no_check_in(page: tuple[TestClient, Services]) -> None:
    client, services = page
    ticket = await paid_ticket(services)
    await services.store.db["tickets"].update_one({"_id": ticket.id}, {"$set": {"status": TicketStatus.VOID.value}})
    void = await client.get(f"/t/{ticket.id}")
    body = await void.text()
    assert void.status == 200 and "Void ticket" in body and "wa.me" not in body and "t.me" not in body
    unknown = await client.get("/t/23456789ABCD")
    assert unknown.status == 404 and "No such ticket" in await unknown.text()
    assert (await client.get("/t/" + "A" * 33)).status == 404  # the route takes at most 32 characters
    assert (await client.get("/t/%3Cscript%3E")).status == 404


async def test_the_page_escapes_what_organisers_wrote(page: tuple[TestClient, Services]) -> None:
    client, services = page
    ticket = await paid_ticket(services)
    await services.store.db["events"].update_one({"_id": JAZZ}, {"$set": {"title": "<script>alert(1)</script>"}})
    services.catalog.invalidate()
    body = await (await client.get(f"/t/{ticket.id}")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>" not in body
