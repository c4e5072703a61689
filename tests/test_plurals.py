"""Counts in messages take the right form: `1 order`, `2 orders` (English), `1 pesanan`, `2 pesanan` (Indonesian),
in every catalog entry that shows a count, and on both doors."""

from __future__ import annotations

import html
import re
import string

import pytest

from bot.accounts import whatsapp_address
from handlers.messages import CATALOG, Html, label, plural_form, render, t
from handlers.whatsapp.texts import plain
from storage.store import Store
from tests.conftest import FakeClock
from tests.helpers import buyer
from tests.whatsapp_stack import AYU, BOSS, whatsapp_stack

# Fields that hold a count wherever they appear (a field with a plural choice `{x:one|other}` is one too).
COUNT_FIELDS = {"n", "orders", "seats", "qty", "sold", "capacity", "pending", "available", "checked_in", "page",
                "pages"}
# English nouns that are counted somewhere in Karcis, as (singular, plural).
NOUNS = [("order", "orders"), ("ticket", "tickets"), ("seat", "seats"), ("event", "events"),
         ("check-in", "check-ins"), ("refund", "refunds"), ("tier", "tiers"), ("person", "people"),
         ("sale", "sales"), ("code", "codes"), ("page", "pages"), ("photo", "photos")]
SINGULAR = "|".join(re.escape(one) for one, _ in NOUNS)
PLURAL = "|".join(re.escape(other) for _, other in NOUNS)
# a count, at most two words (an adjective: `1 unpaid orders`), then the noun in the wrong number
WRONG_AFTER_ONE = re.compile(rf"(?<![\d.,/])1 (?:[\w-]+ ){{0,2}}?(?:{PLURAL})\b")
WRONG_AFTER_TWO = re.compile(rf"(?<![\d.,/])2 (?:[\w-]+ ){{0,2}}?(?:{SINGULAR})\b(?!-)")
LAZY = re.compile(r"\w\(s\)|\(e?s\)\b")


def fields(template: str) -> dict[str, set[str]]:
    """Each field of the template, with the format specs it is used with."""
    found: dict[str, set[str]] = {}
    for _, name, spec, _ in string.Formatter().parse(template):
        if name:
            found.setdefault(name, set()).add(spec or "")
    return found


def counted(template: str) -> set[str]:
    return {name for name, specs in fields(template).items()
            if name in COUNT_FIELDS or any("|" in spec for spec in specs)}


def rendered(lang: str, key: str, count: int) -> str:
    """The entry with every count `count` and every other value a short word, as a person reads it (no marks:
    `<b>1</b> orders` is `1 orders`)."""
    template = CATALOG[lang][key]
    values: dict[str, object] = {name: "Early Bird" for name in fields(template)}
    values.update({name: count for name in counted(template)})
    return html.unescape(re.sub(r"<[^>]*>", "", t(lang, key, **values)))


COUNTED_KEYS = sorted({key for lang in CATALOG for key, template in CATALOG[lang].items() if counted(template)})


def test_the_walk_finds_the_counts_it_must() -> None:
    assert {"expire.done", "expire.event", "digest.more", "refund.choice.tickets", "wa.tickets.sending",
            "notice.reversed.staff", "refused.too_many_pending", "digest.head"} <= set(COUNTED_KEYS)


@pytest.mark.parametrize("lang", sorted(CATALOG))
@pytest.mark.parametrize("key", COUNTED_KEYS)
def test_every_count_in_the_catalog_reads_right_with_one_and_with_two(lang: str, key: str) -> None:
    one, two = rendered(lang, key, 1), rendered(lang, key, 2)
    assert not WRONG_AFTER_ONE.search(one), (key, one)
    assert not WRONG_AFTER_TWO.search(two), (key, two)
    assert not LAZY.search(one) and not LAZY.search(two), (key, one)


@pytest.mark.parametrize("lang", sorted(CATALOG))
def test_no_entry_writes_a_lazy_plural(lang: str) -> None:
    lazy = {key: text for key, text in CATALOG[lang].items() if LAZY.search(text)}
    assert lazy == {}


def test_english_counts_one_and_other_and_indonesian_nouns_stay_the_same() -> None:
    assert plain(t("en", "expire.done", orders=1, seats=1)) == "⌛ *1* order expired, *1* seat released."
    assert plain(t("en", "expire.done", orders=2, seats=0)) == "⌛ *2* orders expired, *0* seats released."
    assert t("en", "expire.event", title="Jazz", orders=1, seats=3) == "• Jazz: 1 order, 3 seats"
    assert plain(t("id", "expire.done", orders=1, seats=2)) == "⌛ *1* pesanan kedaluwarsa, *2* kursi dilepas."
    assert t("id", "expire.event", title="Jazz", orders=3, seats=1) == "• Jazz: 3 pesanan, 1 kursi"
    assert label("en", "wa.tickets.sending", n=1) == "🎟 1 ticket: its QR code follows."
    assert label("en", "wa.tickets.sending", n=3) == "🎟 3 tickets: the QR codes follow."
    assert label("id", "wa.tickets.sending", n=3) == "🎟 3 tiket: kode QR menyusul."
    # Indonesian still chooses where its wording (not the noun) depends on one or many
    assert "Orang ini " in t("id", "refund.confirm_checked_in", codes="KRC-1", n=1)
    assert "Orang-orang ini " in t("id", "refund.confirm_checked_in", codes="KRC-1, KRC-2", n=2)
    assert "This person is (or was)" in t("en", "refund.confirm_checked_in", codes="KRC-1", n=1)


def test_a_plural_choice_is_catalog_text_and_a_value_is_still_escaped() -> None:
    assert render("en", "{n} {n:ticket|tickets} for {who}", {"n": 1, "who": "<b>"}, str) == "1 ticket for <b>"
    assert t("en", "digest.more", n=Html("1")).startswith("… and 1 earlier order in")
    assert plural_form("en", "not a number", "one|other") == "other"  # a hostile value takes the last form
    assert plural_form("en", True, "one|other") == "other"
    assert plural_form("id", 5, "satu") == "satu"  # one form given: always it


# ---- on the WhatsApp door (Telegram's /expire report: tests/test_handlers_door.py)


async def test_whatsapp_expire_says_one_order_and_one_seat(memory_store: Store, clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        account = stack.services.accounts.resolve(whatsapp_address(AYU))
        await stack.services.orders.reserve(account, "jazz-senja-2026", {"EARLY": 1}, buyer())
        clock.advance(hours=2)  # the hold has ended
        await stack.say(BOSS, "english")
        done = await stack.say(BOSS, "expire")
        assert done.text.splitlines() == ["⌛ *1* order expired, *1* seat released.",
                                          "• Jazz Senja di Taman: Malam Tahun Baru: 1 order, 1 seat"]
