"""Rupiah, times in an event's zone (WIB, WITA, WIT), and fitting HTML text into Telegram's limits."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import datetime

from bot.clock import DEFAULT_ZONE, in_zone, zone_name
from handlers.messages import Html, label
from storage.documents import EventDoc

TEXT_LIMIT = 4096     # characters of a message, after entity parsing
CAPTION_LIMIT = 1024  # characters of a photo caption
BUTTON_TEXT_MAX = 48  # longer labels are cut on phones anyway


def esc(text: object) -> Html:
    """Organiser- or buyer-written text made safe for parse_mode=HTML."""
    return Html(html.escape(str(text), quote=False))


def rupiah(amount: int) -> str:
    """`Rp150.000`: Indonesian thousands separator, no decimals."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")


# ---- times ------------------------------------------------------------------------------------------------------
#
# The one place a stored instant (aware UTC) becomes text a person reads: always in a zone, always with its name.
# A time about an event (its start, its sales window, an order's hold deadline, a ticket's check-in) is shown in
# the event's zone, `zone_of(event)`; docs/time-zones.md says which times belong to no event and stay in WIB.


def zone_of(event: EventDoc | None) -> str:
    """The zone an event's times are shown in (WIB when the event is not known)."""
    return event.timezone if event is not None else DEFAULT_ZONE


def local_when(moment: datetime, zone: str, lang: str) -> str:
    """`Rab, 31 Des 2026 19:00 WITA` / `Wed, 31 Dec 2026 19:00 WITA`."""
    return f"{local_date(moment, zone, lang)} {local_time(moment, zone)}"


def local_date(moment: datetime, zone: str, lang: str) -> str:
    """`Rab, 31 Des 2026`: the date as a clock in `zone` reads it."""
    local = in_zone(moment, zone)
    weekday = label(lang, "time.weekdays").split()[local.weekday()]
    month = label(lang, "time.months").split()[local.month - 1]
    return f"{weekday}, {local.day} {month} {local.year}"


def local_time(moment: datetime, zone: str) -> str:
    """`19:00 WITA`."""
    return f"{in_zone(moment, zone):%H:%M} {zone_name(zone)}"


def shorten(text: str, limit: int = BUTTON_TEXT_MAX) -> str:
    """Plain text cut to `limit` characters with an ellipsis (for button labels)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def visible_length(text: str) -> int:
    """The length Telegram counts for HTML text: tags removed, entities decoded."""
    return len(html.unescape(re.sub(r"<[^>]*>", "", text)))


def fit_between(head: str, filler: str, tail: str, *, limit: int) -> Html:
    """`head` + the plain-text `filler` (a description), escaped + `tail`, the filler cut so that the whole stays
    within `limit` visible characters."""
    room = limit - visible_length(head) - visible_length(tail)
    if room <= 1:
        filler = ""
    elif len(filler) > room:
        filler = filler[: room - 1].rstrip() + "…"
    return Html(f"{head}{esc(filler)}{tail}")


def paginate(blocks: Iterable[str], *, limit: int = TEXT_LIMIT, separator: str = "\n\n") -> list[Html]:
    """Pack whole blocks (each itself within the limit) into as few messages as fit `limit`."""
    pages: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}{separator}{block}" if current else block
        if current and visible_length(candidate) > limit:
            pages.append(current)
            current = block
        else:
            current = candidate
    if current:
        pages.append(current)
    return [Html(p) for p in pages]
