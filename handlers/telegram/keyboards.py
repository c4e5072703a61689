"""Callback data: how it is built (never over Telegram's 64 bytes), parsed and matched, and the compact cart
encoding that carries a half-made order in a button instead of in memory."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

MAX_CALLBACK_BYTES = 64
SEP = "|"
CART_ITEM_SEP = "."
CART_QTY_SEP = ":"
_CART_ITEM = re.compile(r"^([A-Za-z0-9]{1,12}):([0-9]{1,2})$")


class CallbackDataTooLong(ValueError):
    """A button's callback data would exceed Telegram's 64 bytes (Telegram would refuse the whole message)."""


def fits(*parts: str) -> bool:
    return len(SEP.join(parts).encode("utf-8")) <= MAX_CALLBACK_BYTES


def cb(*parts: str) -> str:
    """Callback data `prefix|arg|arg`, checked against the 64-byte limit."""
    data = SEP.join(parts)
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise CallbackDataTooLong(f"{len(data.encode('utf-8'))} bytes: {data!r}")
    if not data:
        raise CallbackDataTooLong("callback data must not be empty")
    return data


def pattern(prefix: str) -> str:
    """The CallbackQueryHandler pattern for one prefix: `prefix` alone or followed by `|args`."""
    return rf"^{re.escape(prefix)}(?:{re.escape(SEP)}|$)"


# What Karcis itself puts in callback data: printable ASCII without spaces (ids, codes, carts, `*`), joined by `|`.
_SAFE_DATA = re.compile(r"^[\x21-\x7e]{1,64}$")


def args(data: str | None) -> list[str]:
    """The arguments after the prefix; none at all for data Karcis could not have made (a forged or garbled
    button: `l|²` would pass `str.isdigit` and then fail `int`), so every handler falls back to its default."""
    if not data or not _SAFE_DATA.match(data) or len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        return []
    return data.split(SEP)[1:]


def arg_int(data: str | None, index: int = 0, default: int = 0) -> int:
    """An argument read as a small non-negative number (a page), or `default`."""
    parts = args(data)
    text = parts[index] if index < len(parts) else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else default


def button(text: str, *data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=cb(*data))


def page_buttons(prefix: str, page: int, pages: int) -> list[InlineKeyboardButton]:
    """◀ ▶ under a paged list (`<prefix>|<page>`): only the ways that lead somewhere."""
    nav = []
    if page > 0:
        nav.append(button("◀", prefix, str(page - 1)))
    if page < pages - 1:
        nav.append(button("▶", prefix, str(page + 1)))
    return nav


def url_button(text: str, url: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, url=url)


def markup(rows: Iterable[Iterable[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    """An inline keyboard, or None when there is no button at all."""
    cleaned = [list(row) for row in rows]
    cleaned = [row for row in cleaned if row]
    return InlineKeyboardMarkup(cleaned) if cleaned else None


# ---- the cart: `EARLY:2.VIP:1` (tier codes are letters and digits, so `:` and `.` cannot clash) ----------------


def encode_cart(cart: Mapping[str, int]) -> str:
    return CART_ITEM_SEP.join(f"{code}{CART_QTY_SEP}{qty}" for code, qty in cart.items() if qty > 0)


def decode_cart(text: str) -> dict[str, int] | None:
    """The cart a button carries; None if it is not a cart (a forged or garbled button)."""
    cart: dict[str, int] = {}
    if not text:
        return cart
    for item in text.split(CART_ITEM_SEP):
        match = _CART_ITEM.match(item)
        if match is None or match.group(1) in cart:
            return None
        qty = int(match.group(2))
        if qty > 0:
            cart[match.group(1)] = qty
    return cart
