"""`GET /t/<code>`: a ticket's public page, what a phone camera opens from a QR (docs/channels.md "Links").

It says whether the ticket is valid, already used (when, in the event's zone) or void, or that there is no such
ticket; the event's title, date and venue; and offers door staff "Check in with Telegram" (the bot's deep link)
and "Check in with WhatsApp" (a wa.me link that types `checkin <code>`), each when that door is configured.

The page never changes a ticket. A link is not a person: it is printed, photographed and forwarded, and anyone
who holds it may open it, so opening it cannot be what checks someone in. The staff member's own chat knows who
is asking and whether they work that event's door (bot/checkin.py), so the page hands the code to that chat and
check-in happens there, once, atomically. For the same reason the page shows no personal data: not the holder's
name, the buyer, or who checked the ticket in.

Input is bounded before anything is read: the route takes at most 32 letters, digits and dashes (anything else
is aiohttp's plain 404), and `normalize_code` decides whether that can be a code. Every value on the page is
HTML-escaped. Codes carry 60 random bits, so guessing one is hopeless; the page is still `noindex` and
`no-store` (its answer changes when the ticket is used). A database that does not answer within
`LOOKUP_TIMEOUT` gets a 503 page saying to try again, never a wrong answer.
"""

from __future__ import annotations

import asyncio
import html
import logging

from aiohttp import web

from bot.checkin import PublicTicket, Standing
from bot.tickets import format_code, normalize_code
from handlers.formatting import local_when
from handlers.messages import label, lang_of
from webhooks.keys import SERVICES

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT = 5.0  # seconds: a person is holding a phone up at a door
ROUTE = "/t/{code:[A-Za-z0-9-]{1,32}}"
HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
}
MARK = {Standing.VALID: ("✅", "#1b7f3b"), Standing.USED: ("⚠️", "#b26a00"), Standing.VOID: ("❌", "#b00020"),
        Standing.UNKNOWN: ("❔", "#555555")}


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def render(ticket: PublicTicket, lang: str, *, code_shown: str | None, telegram: str | None,
           whatsapp: str | None) -> str:
    """The page's HTML: every value escaped; staff links only for a ticket that exists and is not void."""
    mark, colour = MARK[ticket.standing]
    lines = [f'<h1 style="color:{colour}">{mark} {_esc(label(lang, "page." + ticket.standing.value))}</h1>']
    if ticket.code:
        lines.append(f"<p class=code>{_esc(format_code(ticket.code))}</p>")
    if ticket.standing == Standing.USED and ticket.used_at is not None:
        used = local_when(ticket.used_at, ticket.timezone, lang)
        lines.append(f"<p>{_esc(label(lang, 'page.used_at', when=used))}</p>")
    if ticket.standing == Standing.UNKNOWN:
        lines.append(f"<p>{_esc(label(lang, 'page.unknown_hint'))}</p>")
    if ticket.event_title:
        lines.append(f"<h2>{_esc(ticket.event_title)}</h2>")
        if ticket.tier_name:
            lines.append(f"<p>{_esc(ticket.tier_name)}</p>")
        if ticket.starts_at is not None:
            starts = local_when(ticket.starts_at, ticket.timezone, lang)
            when = label(lang, "page.when", when=starts, venue=ticket.venue or "")
            lines.append(f"<p>{_esc(when)}</p>")
    buttons = []
    if ticket.standing in (Standing.VALID, Standing.USED):
        if telegram:
            buttons.append(f'<a class=btn href="{_esc(telegram)}">{_esc(label(lang, "page.telegram"))}</a>')
        if whatsapp:
            buttons.append(f'<a class=btn href="{_esc(whatsapp)}">{_esc(label(lang, "page.whatsapp"))}</a>')
    if buttons:
        lines.append(f"<h3>{_esc(label(lang, 'page.staff'))}</h3>")
        lines.extend(buttons)
        lines.append(f"<p class=note>{_esc(label(lang, 'page.no_changes'))}</p>")
    title = label(lang, "page.title", code=format_code(code_shown) if code_shown else "")
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{_esc(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;line-height:1.4}"
        ".code{font-family:monospace;font-size:1.3rem;letter-spacing:.1rem}"
        ".btn{display:block;margin:.6rem 0;padding:.8rem;border-radius:.5rem;background:#0b57d0;color:#fff;"
        "text-align:center;text-decoration:none}.note{color:#555;font-size:.9rem}"
        "</style></head><body>" + "".join(lines) + "</body></html>"
    )


async def ticket_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    lang = lang_of(request.headers.get("Accept-Language", "")[:64])
    raw = request.match_info["code"]
    try:
        ticket = await asyncio.wait_for(services.checkin.public_status(raw), LOOKUP_TIMEOUT)
    except TimeoutError:
        log.warning("ticket page: the database did not answer within %.0f s", LOOKUP_TIMEOUT)
        return web.Response(text="Karcis is busy: try again in a moment.", status=503,
                            headers={**HEADERS, "Retry-After": "5"})
    links = services.links
    code = ticket.code
    body = render(ticket, lang, code_shown=code or normalize_code(raw),
                  telegram=links.telegram_check_in(code) if code else None,
                  whatsapp=links.whatsapp_check_in(code) if code else None)
    status = 404 if ticket.standing == Standing.UNKNOWN else 200
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)


def add_routes(app: web.Application) -> None:
    app.router.add_get(ROUTE, ticket_page)
