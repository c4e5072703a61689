"""What a new user reads, fixed after reading every message in both languages: no internal names, no prices that
say "Free each", Indonesian that reads as Indonesian."""

from __future__ import annotations

import json

import pytest

from bot.accounts import whatsapp_address
from bot.outbox import Message
from handlers.messages import CATALOG, ID, has
from handlers.whatsapp.texts import say, what_happened
from storage.store import Store
from tests.conftest import FakeClock
from tests.handlers_kit import event_yaml
from tests.helpers import buyer
from tests.whatsapp_stack import AYU, BOSS, JOHN, whatsapp_stack


@pytest.mark.parametrize("lang", sorted(CATALOG))
def test_every_order_notice_has_words_on_whatsapp(lang: str) -> None:
    for message in Message:
        assert has(f"wa.what.{message.value}"), message
        words = what_happened(lang, message.value)
        assert "_" not in words and words != message.value, (message, words)
    assert what_happened(lang, "something_new") == what_happened(lang, "other")  # a future notice: still words


async def test_a_whatsapp_admin_reads_what_happened_not_an_internal_name(memory_store: Store,
                                                                        clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        account = stack.services.accounts.resolve(whatsapp_address(AYU))
        order = await stack.services.orders.reserve(account, "jazz-senja-2026", {"EARLY": 1},
                                                    buyer())
        await stack.services.payments.payment_link(order.id, account)
        await stack.midtrans.set_status(order.id, "settlement", payment_type="bank_transfer", gross_amount=1000)
        body = stack.midtrans.state.notification_body(order.id)
        await stack.services.payments.handle_notification(json.dumps(body).encode())  # an amount mismatch
        await stack.services.delivery.deliver(order.id)
        await stack.settle()
        told = [m.text for m in stack.wa.messages_for(BOSS) if order.id in (m.text or "")]
        assert told, stack.wa.messages_for(BOSS)
        assert all("amount_mismatch" not in text and "_" not in text.split(order.id)[-1] for text in told), told
        assert any("Midtrans melaporkan jumlah yang berbeda; tiket tidak diterbitkan" in text for text in told), told


async def test_whatsapp_asks_how_many_of_a_free_tier_without_a_price_each(memory_store: Store,
                                                                         clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        free = event_yaml(tiers=[{"code": "GA", "name": "Open mic", "price": 0, "capacity": 20}])
        await stack.services.catalog.import_events(free)
        for number, events, buy, asked in ((AYU, "acara", "Beli", "Berapa tiket *Open mic* (gratis)?"),
                                          (JOHN, "events", "Buy", "How many *Open mic* (free)?")):
            listing = await stack.say(number, events)
            card = await stack.tap(number, listing, "Malam Puisi")
            tiers = await stack.tap(number, card, buy)
            quantities = await stack.tap(number, tiers, "Open mic")
            assert quantities.text == asked
            assert "each" not in quantities.text and "per tiket" not in quantities.text


def test_indonesian_reads_as_indonesian() -> None:
    assert ID["wa.draft_gone"].startswith("Pembelian itu sudah tidak aktif.")
    assert ID["alert.refund_gone_tickets"].endswith("ini keadaan pesanannya sekarang.")
    assert say("id", "wa.notice.other", order="KRC-1", title="Jazz", what=what_happened("id", "needs_refund")) == (
        "Karcis: pesanan `KRC-1` (Jazz): dibayar setelah kursi habis: pembeli harus di-refund.")


async def test_whatsapp_says_what_to_send_when_there_are_no_tickets(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        none = await stack.say(JOHN, "tickets")
        assert none.text == "You have no tickets yet. Send *events* to see what is on sale."
        none = await stack.say(AYU, "tiket")
        assert none.text == "Anda belum punya tiket. Kirim *acara* untuk melihat acara yang dijual."
        assert "/start" not in none.text
