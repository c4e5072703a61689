"""The shared catalog (handlers/messages.py) as WhatsApp shows it, and which language a WhatsApp person reads.

The catalog is Telegram HTML. WhatsApp formats plain text itself (*bold*, _italic_, ~strike~, `code`), so
`say()` renders a catalog entry and turns its few tags into those marks and its entities back into characters:
a person never sees a tag.

WhatsApp sends no language. A person reads Indonesian when their number is Indonesian (+62) and English
otherwise, until they choose (the `bahasa` / `english` reply), which is remembered on their account.
"""

from __future__ import annotations

import html
import re

from handlers.formatting import shorten
from handlers.messages import Html, has, label, t

INDONESIAN, ENGLISH = "id", "en"
_MARKS = {"b": "*", "strong": "*", "i": "_", "em": "_", "s": "~", "del": "~", "code": "`", "pre": "```"}
_LINK = re.compile(r'<a\s+href="([^"]*)"\s*>(.*?)</a>', re.S)
_TAG = re.compile(r"</?([a-z]+)(?:\s[^>]*)?>")


def plain(text: Html | str) -> str:
    """Telegram HTML as WhatsApp text: <b>x</b> → *x*, links as `text: url`, entities unescaped."""
    text = _LINK.sub(lambda m: f"{m.group(2)}: {html.unescape(m.group(1))}", text)
    text = _TAG.sub(lambda m: _MARKS.get(m.group(1), ""), text)
    return html.unescape(text)


def say(lang: str, key: str, /, **values: object) -> str:
    """A catalog message for WhatsApp (values escaped into the HTML first, so a title's `<` stays a `<`)."""
    return plain(t(lang, key, **values))


def title(lang: str, key: str, limit: int = 20, /, **values: object) -> str:
    """A button or row title (reply button titles are at most 20 characters, list rows 24)."""
    return shorten(label(lang, key, **values), limit)


def what_happened(lang: str, message: str) -> str:
    """An order's notice (bot/outbox.py `Message`) in words, never its internal name (`needs_refund`)."""
    key = f"wa.what.{message}"
    return label(lang, key) if has(key) else label(lang, "wa.what.other")


def default_language(number: str) -> str:
    """Indonesian for Indonesian numbers (+62…), English for the rest of the world."""
    return INDONESIAN if number.lstrip("+").startswith("62") else ENGLISH


def language_for(number: str, chosen: str | None) -> str:
    return chosen if chosen in (INDONESIAN, ENGLISH) else default_language(number)
