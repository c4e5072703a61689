"""The message catalog, formatting, callback data, Indonesian vs English, and hostile organiser text."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import JAKARTA, JAYAPURA, MAKASSAR
from bot.sandbox.telegram import parse_html
from handlers.formatting import local_time, local_when, paginate, rupiah, visible_length
from handlers.messages import CATALOG, EN, ID, Html, label, lang_of, t
from handlers.telegram import admin, buyer, organiser
from handlers.telegram.keyboards import CallbackDataTooLong, cb, decode_cart, encode_cart, pattern
from handlers.views import payment_actions, payment_instructions
from storage.documents import OrderDoc, tier_key
from tests.conftest import BUYER_ID, ORGANISER_ID
from tests.handlers_kit import INDO_ID, JAZZ, Bot, event_yaml
from tests.helpers import acct
from tests.helpers import buyer as a_buyer

HANDLERS = Path(__file__).resolve().parent.parent / "handlers"


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_have_the_same_keys_and_fields() -> None:
    assert EN.keys() == ID.keys()
    for key in EN:
        assert fields(EN[key]) == fields(ID[key]), key


@pytest.mark.parametrize("lang", sorted(CATALOG))
def test_every_template_is_valid_telegram_html_even_with_hostile_values(lang: str) -> None:
    for key, template in CATALOG[lang].items():
        values = {name: "<b>&amp; \"x\" 🎉</b>" for name in fields(template)}
        if "url" in values:
            values["url"] = Html("https://example.com/?a=1&amp;b=2")
        text = t(lang, key, **values)
        parse_html(text)  # raises on invalid HTML, as Telegram would refuse it
        if set(values) - {"url"}:
            assert "&lt;b&gt;&amp;amp; \"x\" 🎉&lt;/b&gt;" in text, key


def test_every_key_the_handlers_use_is_in_the_catalog() -> None:
    used: set[str] = set()
    prefixes: set[str] = set()
    for path in HANDLERS.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\b(?:t|label)\(\s*\w+,\s*\"([a-z_.]+)\"", source))
        prefixes |= set(re.findall(r"\b(?:t|label)\(\s*\w+,\s*f\"([a-z_.]+)\{", source))
    assert used and prefixes
    assert used - EN.keys() == set()
    for prefix in prefixes:
        assert any(key.startswith(prefix) for key in EN), prefix


def pending_order(**payment: object) -> OrderDoc:
    return OrderDoc.model_validate({
        "_id": "KRC-2612-ABCDEFGHJK", "user_id": 1, "event_id": JAZZ, "lines": [], "seats": 1, "total": 150000,
        "buyer": {"name": "A", "email": "a@example.com", "phone": "+6281234567890"}, "status": "pending",
        "created_at": datetime(2026, 12, 1, tzinfo=UTC), "expires_at": datetime(2026, 12, 1, 4, tzinfo=UTC),
        "updated_at": datetime(2026, 12, 1, tzinfo=UTC), "payment": payment})


def test_payment_instructions_show_every_way_to_pay() -> None:
    text = payment_instructions("en", pending_order(payment_type="bank_transfer"), {
        "va_numbers": [{"bank": "bni", "va_number": "9880001"}], "permata_va_number": "8778001",
        "bill_key": "12345", "biller_code": "70012", "store": "alfamart", "payment_code": "ALF-1",
        "pdf_url": "https://app.midtrans.example/pdf?a=1&b=<2>", "expiry_time": "2026-12-01 11:00:00"}, zone=JAKARTA)
    plain, _ = parse_html(text)
    assert plain.splitlines() == [
        "🏦 Finish your payment for order KRC-2612-ABCDEFGHJK (Rp150.000):",
        "• BNI virtual account: 9880001", "• PERMATA virtual account: 8778001",
        "• Mandiri bill payment: company code 70012, bill key 12345", "• Pay at Alfamart with the code ALF-1",
        "Show the code to the cashier and pay the exact amount.",
        "• Payment instructions (PDF)", "⏰ Pay before Tue, 1 Dec 2026 11:00 WIB",
    ]
    assert 'href="https://app.midtrans.example/pdf?a=1&amp;b=&lt;2&gt;"' in text


# Midtrans's GoPay status/charge body (docs.midtrans.com, "GoPay" Core API: `actions` with generate-qr-code,
# deeplink-redirect, get-status, cancel); in production the deeplink is a gojek:// app link.
GOPAY_ACTIONS = [
    {"name": "generate-qr-code", "method": "GET", "url": "https://api.midtrans.com/v2/gopay/e48447d1/qr-code"},
    {"name": "deeplink-redirect", "method": "GET", "url": "https://simulator.sandbox.midtrans.com/gopay/ui/checkout"},
    {"name": "get-status", "method": "GET", "url": "https://api.midtrans.com/v2/e48447d1/status"},
    {"name": "cancel", "method": "POST", "url": "https://api.midtrans.com/v2/e48447d1/cancel"},
]


@pytest.mark.parametrize("lang", ["en", "id"])
def test_e_wallets_get_buttons_to_open_the_app_and_the_qr_never_the_api_links(lang: str) -> None:
    order = pending_order(payment_type="gopay")
    instructions = {"actions": GOPAY_ACTIONS, "payment_type": "gopay"}
    text, _ = parse_html(payment_instructions(lang, order, instructions, zone=JAKARTA))
    assert text.startswith("📱") and "🏦" not in text and "virtual" not in text.lower()
    assert payment_actions(lang, order, instructions) == [
        (label(lang, "btn.show_qr"), GOPAY_ACTIONS[0]["url"]), (label(lang, "btn.open_gopay"), GOPAY_ACTIONS[1]["url"])]
    assert "status" not in str(payment_actions(lang, order, instructions))

    production = [{**GOPAY_ACTIONS[0]}, {"name": "deeplink-redirect", "url": "gojek://gopay/merchanttransfer?t=1"},
                  {"name": "cancel", "url": "javascript:alert(1)"}]
    assert payment_actions(lang, order, {"actions": production}) == [(label(lang, "btn.show_qr"),
                                                                      GOPAY_ACTIONS[0]["url"])]
    shopee = [{"name": "deeplink-redirect", "url": "https://wsa.wallet.airpay.co.id/universal-link/x"}]
    assert payment_actions(lang, pending_order(payment_type="shopeepay"), {"actions": shopee}) == [
        (label(lang, "btn.open_shopeepay"), shopee[0]["url"])]
    qris, _ = parse_html(payment_instructions(lang, pending_order(payment_type="qris"),
                                              {"actions": GOPAY_ACTIONS[:1]}, zone=JAKARTA))
    assert qris.startswith("📱") and "QRIS" in qris


def test_a_declined_card_says_the_seats_are_still_held() -> None:
    text, _ = parse_html(payment_instructions("en", pending_order(payment_type="credit_card",
                                                                  transaction_status="deny"), {}, zone=JAKARTA))
    assert text.splitlines() == ["❌ The card was declined for order KRC-2612-ABCDEFGHJK (Rp150.000).",
                                 "Your seats are still held until Tue, 1 Dec 2026 11:00 WIB: try another card or "
                                 "another payment method."]


def test_language_choice() -> None:
    assert [lang_of(c) for c in ("id", "ID", "id-ID", "en", "en-GB", "jv", None, "")] == \
        ["id", "id", "id", "en", "en", "en", "en", "en"]


def test_rupiah_and_times_in_each_zone_with_its_name() -> None:
    assert rupiah(150000) == "Rp150.000" and rupiah(1_050_000) == "Rp1.050.000" and rupiah(0) == "Rp0"
    moment = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
    assert local_when(moment, JAKARTA, "en") == "Thu, 31 Dec 2026 19:00 WIB"
    assert local_when(moment, JAKARTA, "id") == "Kam, 31 Des 2026 19:00 WIB"
    assert local_when(datetime(2027, 8, 16, 17, 5, tzinfo=UTC), JAKARTA, "id") == "Sel, 17 Agu 2027 00:05 WIB"
    assert local_when(moment, MAKASSAR, "en") == "Thu, 31 Dec 2026 20:00 WITA"
    assert local_when(datetime(2026, 12, 31, 15, 30, tzinfo=UTC), JAYAPURA, "id") == "Jum, 1 Jan 2027 00:30 WIT"
    assert local_time(moment, MAKASSAR) == "20:00 WITA" and local_time(moment, JAYAPURA) == "21:00 WIT"
    assert local_time(moment, "Europe/Paris") == "19:00 WIB"  # a zone Karcis does not know is shown as WIB


def test_a_payment_deadline_is_in_the_events_zone_midtrans_expiry_read_as_jakarta_time() -> None:
    text, _ = parse_html(payment_instructions("en", pending_order(payment_type="bank_transfer"), {
        "va_numbers": [{"bank": "bni", "va_number": "9880001"}], "expiry_time": "2026-12-01 11:00:00"},
        zone=MAKASSAR))
    assert "⏰ Pay before Tue, 1 Dec 2026 12:00 WITA" in text
    declined, _ = parse_html(payment_instructions("id", pending_order(payment_type="credit_card",
                                                                      transaction_status="deny"), {}, zone=JAYAPURA))
    assert "Sel, 1 Des 2026 13:00 WIT" in declined


def test_values_are_escaped_unless_marked_html() -> None:
    assert t("en", "checkin.unknown") == "❌ <b>Unknown code</b>"
    assert t("en", "refused.sold_out", tier="<VIP> & co") == "😕 <b>&lt;VIP&gt; &amp; co</b> is sold out."
    assert t("en", "refused.sold_out", tier=Html("<i>x</i>")) == "😕 <b><i>x</i></b> is sold out."
    assert label("en", "btn.sold_out", tier="<VIP> & co") == "<VIP> & co · sold out"


def test_callback_data_is_checked_and_the_cart_round_trips() -> None:
    assert cb("c", JAZZ, "EARLY:2.VIP:1") == "c|jazz-senja-2026|EARLY:2.VIP:1"
    with pytest.raises(CallbackDataTooLong):
        cb("c", "e" * 32, "ABCDEFGHIJKL:20.ABCDEFGHIJKM:20")
    assert decode_cart(encode_cart({"EARLY": 2, "DAY1": 12, "VIP": 0})) == {"EARLY": 2, "DAY1": 12}
    assert decode_cart("") == {}
    for garbage in ("EARLY", "EARLY:x", "EARLY:2.EARLY:1", "EA-RLY:1", "EARLY:123"):
        assert decode_cart(garbage) is None
    assert re.match(pattern("c"), "c|x|") and not re.match(pattern("c"), "oc|x")


def test_callback_prefixes_are_distinct_across_modules() -> None:
    prefixes = [buyer.EVENTS, buyer.CART, buyer.NOOP, buyer.CHECKOUT, buyer.USE_LAST, buyer.NEW_DETAILS,
                buyer.CONFIRM, buyer.DROP, buyer.PAY, buyer.CANCEL, buyer.ORDERS, buyer.TICKETS, buyer.QR]
    assert len(set(prefixes)) == len(prefixes) and all("|" not in p for p in prefixes)
    assert admin and organiser  # they define no callbacks


def test_paginate_packs_blocks_within_the_limit() -> None:
    blocks = [Html(f"<b>{i}</b> " + "x" * 1000) for i in range(10)]
    pages = paginate(blocks)
    assert len(pages) == 3 and all(visible_length(p) <= 4096 for p in pages)
    assert "".join(pages).count("<b>") == 10


async def test_indonesian_users_get_indonesian_and_english_users_english(kit: Bot) -> None:
    [halo] = await kit.say(INDO_ID, "/start")
    assert halo.text.startswith("👋 Halo Budi!") and "Acara yang dijual" in halo.text
    [kartu] = await kit.say(INDO_ID, f"/start ev_{JAZZ}")
    assert "🗓 Kam, 31 Des 2026 19:00 WIB" in kartu.text and "• Early Bird: Rp150.000 · sisa 100" in kartu.text
    await kit.services.store.inventory.hold(tier_key(JAZZ, "VIP"), 50)
    [kartu] = await kit.say(INDO_ID, f"/start ev_{JAZZ}")
    assert "VIP (front lawn, welcome drink): Rp750.000 · habis" in kartu.text
    assert kartu.button("VIP (front lawn, welcome dr… · habis")

    [hello] = await kit.say(BUYER_ID, f"/start ev_{JAZZ}")
    assert "🗓 Thu, 31 Dec 2026 19:00 WIB" in hello.text and "· sold out" in hello.text

    user = await kit.services.store.users.get(acct(INDO_ID))
    assert user.language == "id" and user.name == "Budi"
    await kit.press(INDO_ID, kartu, f"c|{JAZZ}|EARLY:1")
    tanya = await kit.tap(INDO_ID, kit.now(INDO_ID, kartu), f"k|{JAZZ}|EARLY:1")
    assert "Langkah 1 dari 3" in tanya.text
    salah = await kit.step(INDO_ID, "Budi")
    salah = await kit.step(INDO_ID, "budi@")
    assert salah.text.startswith("⚠️ Alamat email itu tidak valid")


async def test_a_title_full_of_markup_and_emoji_is_shown_literally(kit: Bot) -> None:
    title = "<Jazz> & <b>Blues</b> 🎷🎉 &amp; \"Malam\" <3"
    await kit.services.catalog.import_events(event_yaml(
        id="jazz-blues", title=title, description="Bring <snacks> & drinks 🍢 " * 5, venue="Bar <Ujung> & Co",
        organisers=[ORGANISER_ID],
        tiers=[{"code": "GA", "name": "<General> & \"all\"", "price": 50000, "capacity": 40, "max_per_order": 4}]))

    [card] = await kit.say(BUYER_ID, "/start ev_jazz-blues")
    assert card.text.startswith(title + "\n")
    assert "📍 Bar <Ujung> & Co" in card.text and "• <General> & \"all\": Rp50.000 · 40 left" in card.text
    assert card.button("<General> & \"all\"")

    order = await kit.services.orders.reserve(acct(BUYER_ID), "jazz-blues", {"GA": 1}, a_buyer("<Sinta> & co"))
    await kit.services.orders.pay(order.id)
    await kit.services.delivery.deliver(order.id)
    photo = kit.sent(BUYER_ID)[-1]
    receipt, caption = photo.caption.split("\n\n")
    assert "1 × <General> & \"all\": Rp50.000" in receipt
    assert caption.startswith(f"🎟 {title}\n<General> & \"all\"\n👤 <Sinta> & co")
    await kit.services.digests.send_due()
    [sale] = kit.sent(ORGANISER_ID)
    assert title in sale.text and "<Sinta> & co" in sale.text
    [stats] = await kit.say(ORGANISER_ID, "/stats")
    assert f"📊 {title}" in stats.text
    # the fake Bot API refused nothing (kit.check_clean): every piece was escaped


async def test_a_very_long_description_is_cut_to_fit_one_message(kit: Bot) -> None:
    tiers = [{"code": f"T{i}", "name": f"Tier {i:02d} " + "n" * 56, "price": 1000 * i, "capacity": 10,
              "max_per_order": 2} for i in range(20)]
    await kit.services.catalog.import_events(event_yaml(
        id="huge-event", title="T" * 200, description="d&" * 1000, venue="V" * 200, tiers=tiers))

    [card] = await kit.say(BUYER_ID, "/start ev_huge-event")

    assert len(card.text) <= 4096 and card.text.count("• Tier") == 20 and "…" in card.text
    assert len(card.buttons()) == 20 * 3 + 1
