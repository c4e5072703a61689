"""The first message to an organiser or admin who has never written to the bot is in the language the events file
gives them (`organisers: - {address: ..., language: id|en}`), else Indonesian on Telegram and by number on
WhatsApp (+62: Indonesian); once they have written, their own chat's language wins (bot/profiles.py)."""

from __future__ import annotations

import pytest
import yaml

from bot.accounts import whatsapp_address
from bot.errors import EventsFileError
from bot.event_file import parse_events
from storage.store import Store
from tests.conftest import BUYER_ID, FakeClock
from tests.handlers_kit import Bot, event_yaml
from tests.helpers import acct, buyer
from tests.test_handlers_notifier import midtrans_says
from tests.whatsapp_stack import AYU, DEWI, JOHN, whatsapp_stack

SAYS_ID, SAYS_EN, SAYS_NOTHING, WROTE = 900000071, 900000072, 900000073, 900000074  # organisers
PUISI = "malam-puisi"


def events(*organisers: object, event_id: str = PUISI) -> list:
    return event_yaml(id=event_id, organisers=list(organisers))


def test_the_events_file_takes_a_language_per_organiser_and_refuses_others() -> None:
    [spec] = events({"address": SAYS_ID, "language": "id"}, {"address": [f"telegram:{SAYS_EN}"], "language": "en"},
                    SAYS_NOTHING)
    assert [getattr(o, "language", None) for o in spec.organisers] == ["id", "en", None]
    assert [tuple(o) for o in spec.organisers] == [(f"telegram:{SAYS_ID}",), (f"telegram:{SAYS_EN}",),
                                                   (f"telegram:{SAYS_NOTHING}",)]
    for wrong, says in (({"address": SAYS_ID, "language": "jv"}, 'language "jv" is not one Karcis speaks'),
                        ({"address": SAYS_ID, "lang": "id"}, "lang is not one of its fields"),
                        ({"language": "id"}, "`address:` is required")):
        with pytest.raises(EventsFileError) as refused:
            parse_events(yaml.safe_load(yaml.safe_dump({"events": [{
                "id": PUISI, "title": "Malam Puisi", "venue": "Kafe", "starts_at": "2026-12-20T19:00:00+07:00",
                "ends_at": "2026-12-20T22:00:00+07:00", "organisers": [wrong],
                "tiers": [{"code": "GA", "name": "GA", "price": 0, "capacity": 4}]}]})))
        assert "event #1 (malam-puisi), organisers #1: " in str(refused.value) and says in str(refused.value)


async def sell_one(kit: Bot) -> str:
    order = await kit.services.orders.reserve(acct(BUYER_ID), PUISI, {"GA": 1}, buyer())
    await kit.services.payments.payment_link(order.id, acct(BUYER_ID))
    await midtrans_says(kit, order.id, "settlement")
    return order.id


async def test_telegram_organisers_who_never_wrote_get_the_files_language_else_indonesian(kit: Bot) -> None:
    for uid in (SAYS_ID, SAYS_EN, SAYS_NOTHING, WROTE):  # all with English Telegram apps
        kit.fake.add_user(uid, f"Organiser {uid}", language_code="en", started=True)
    await kit.say(WROTE, "/help")  # only this one has written to the bot
    await kit.services.catalog.import_events(events(
        {"address": SAYS_ID, "language": "id"}, {"address": SAYS_EN, "language": "en"}, SAYS_NOTHING,
        {"address": WROTE, "language": "id"}))

    order_id = await sell_one(kit)
    assert await kit.services.digests.send_due() == 4

    [digest] = kit.sent(SAYS_ID)
    assert digest.text.startswith("📊 Penjualan sejak ") and "Pesanan: 1 · kursi: 1" in digest.text
    assert order_id in digest.text
    [digest] = kit.sent(SAYS_NOTHING)  # no language in the file: Indonesian, not English
    assert digest.text.startswith("📊 Penjualan sejak ")
    [digest] = kit.sent(SAYS_EN)
    assert digest.text.startswith("📊 Sales since ") and "Orders: 1 · seats: 1" in digest.text
    digest = kit.sent(WROTE)[-1]  # their own chat says English: that wins over the file
    assert digest.text.startswith("📊 Sales since ")


async def test_an_admin_who_never_wrote_is_addressed_in_indonesian_unless_the_file_says_otherwise(kit: Bot) -> None:
    """The language every staff notice (needs refund, amount mismatch, reversal...) and the digest are rendered
    in, for an account the bot has never heard from."""
    from handlers.telegram.notifier import TelegramNotifier

    telegram = TelegramNotifier(kit.app.bot, kit.services)
    assert await telegram._staff_lang(acct(SAYS_NOTHING)) == "id"
    await kit.services.catalog.import_events(events({"address": SAYS_EN, "language": "en"}))
    assert await telegram._staff_lang(acct(SAYS_EN)) == "en"  # one who also organises: the file's language
    await kit.services.profiles.remember(acct(SAYS_NOTHING), language="en-GB", name=None)  # then writes
    assert await telegram._staff_lang(acct(SAYS_NOTHING)) == "en"


async def test_whatsapp_organisers_who_never_wrote_get_the_files_language(memory_store: Store,
                                                                          clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        # John's number is Australian (English by default), the file says Indonesian; Dewi's the other way
        await stack.services.catalog.import_events(
            events({"address": f"whatsapp:{JOHN}", "language": "id"},
                   {"address": f"whatsapp:{DEWI}", "language": "en"}))
        account = stack.services.accounts.resolve(whatsapp_address(AYU))
        order = await stack.services.orders.reserve(account, PUISI, {"GA": 1}, buyer())
        await stack.services.payments.payment_link(order.id, account)
        await stack.midtrans.simulate_payment(order.id, "pay", payment_type="gopay")
        await stack.settle()
        assert await stack.services.digests.send_due() >= 1  # the sale reaches John in his digest
        await stack.settle()
        [digest] = [m for m in stack.wa.messages_for(JOHN) if order.id in (m.text or "")]
        assert "Penjualan sejak" in digest.text and "Sales since" not in digest.text
        [digest] = [m for m in stack.wa.messages_for(DEWI) if order.id in (m.text or "")]  # +62, the file says en
        assert "Sales since" in digest.text
