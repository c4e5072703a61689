"""Ticket codes, idempotent issuing, and QR codes that scan back to the bot."""

from __future__ import annotations

import io
import math
import re

import pytest
import zxingcpp
from PIL import Image

from bot.services import Services
from bot.tickets import ALPHABET, CODE_LENGTH, deep_link, format_code, new_code, normalize_code, render_qr
from tests.helpers import acct, assert_invariant, buyer


def test_codes_carry_at_least_60_bits_from_an_alphabet_without_look_alikes() -> None:
    assert CODE_LENGTH * math.log2(len(ALPHABET)) >= 60
    assert not set("01OIoil") & set(ALPHABET)
    codes = {new_code() for _ in range(5000)}
    assert len(codes) == 5000
    assert all(re.fullmatch(f"[{ALPHABET}]{{12}}", c) for c in codes)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", format_code(new_code()))


@pytest.mark.parametrize("typed", [
    "K7QF-9MZT-XW3P", "k7qf9mztxw3p", " K7QF 9MZT XW3P ", "t_K7QF9MZTXW3P",
    "https://t.me/KarcisBot?start=t_K7QF9MZTXW3P", "t.me/KarcisBot?start=t_k7qf9mztxw3p",
])
def test_codes_are_read_in_any_form_a_person_gives(typed: str) -> None:
    assert normalize_code(typed) == "K7QF9MZTXW3P"


@pytest.mark.parametrize("typed", ["", "HELLO", "K7QF-9MZT-XW3", "K7QF-9MZT-XW3P-1", "K0QF9MZTXW3P"])
def test_things_that_cannot_be_codes_are_rejected(typed: str) -> None:
    assert normalize_code(typed) is None


def test_deep_link_payload_fits_telegram_rules() -> None:
    link = deep_link("KarcisBot", "K7QF9MZTXW3P")
    payload = link.split("start=")[1]
    assert link.startswith("https://t.me/KarcisBot?start=")
    assert len(payload) <= 64 and re.fullmatch(r"[A-Za-z0-9_-]+", payload)


async def test_qr_png_decodes_to_the_deep_link() -> None:
    png = await render_qr("KarcisBot", "K7QF9MZTXW3P")
    assert png.startswith(b"\x89PNG")
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [r.text for r in results] == ["https://t.me/KarcisBot?start=t_K7QF9MZTXW3P"]


async def test_issuing_twice_never_makes_extra_tickets(services: Services) -> None:
    order = await services.orders.reserve(acct(7), "jazz-senja-2026", {"EARLY": 2, "VIP": 1}, buyer("Budi"))
    outcome = await services.orders.pay(order.id)
    again = await services.tickets.issue(outcome.order)
    assert [t.id for t in again] == [t.id for t in outcome.tickets]
    assert [(t.seq, t.tier, t.holder_name) for t in again] == [
        (1, "EARLY", "Budi"), (2, "EARLY", "Budi"), (3, "VIP", "Budi")]
    assert len({t.id for t in again}) == 3
    await assert_invariant(services)


async def test_tickets_are_only_issued_for_paid_orders(services: Services) -> None:
    order = await services.orders.reserve(acct(7), "jazz-senja-2026", {"EARLY": 1}, buyer())
    with pytest.raises(ValueError, match="only issued for paid orders"):
        await services.tickets.issue(order)


async def test_a_code_collision_draws_another_code(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    first = await services.orders.reserve(acct(7), "jazz-senja-2026", {"EARLY": 1}, buyer())
    taken = (await services.orders.pay(first.id)).tickets[0].id
    draws = iter([taken, "ABCDEFGHJKMN"])
    monkeypatch.setattr("bot.tickets.new_code", lambda: next(draws))
    second = await services.orders.reserve(acct(8), "jazz-senja-2026", {"EARLY": 1}, buyer())
    assert [t.id for t in (await services.orders.pay(second.id)).tickets] == ["ABCDEFGHJKMN"]


async def test_a_broken_qr_worker_falls_back_to_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures.process import BrokenProcessPool

    from bot import qr

    class Broken:
        def submit(self, *args: object, **kwargs: object) -> object:
            raise BrokenProcessPool("worker died")

    monkeypatch.setattr(qr, "_pool", Broken())
    png = await render_qr("KarcisBot", "K7QF9MZTXW3P")
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))] == [
        "https://t.me/KarcisBot?start=t_K7QF9MZTXW3P"]
    assert qr._pool is None  # a fresh worker is tried next time


async def test_the_qr_worker_starts_and_stops_on_demand() -> None:
    from bot import qr

    await qr.start_worker()
    assert qr._pool is not None
    qr.stop_worker()
    assert qr._pool is None
    assert (await render_qr("KarcisBot", "K7QF9MZTXW3P")).startswith(b"\x89PNG")  # a new one starts
