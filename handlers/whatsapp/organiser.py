"""Door staff on WhatsApp: `checkin CODE` typed (also what a ticket page's "Check in with WhatsApp" link
types), a photo of a ticket's QR, `stats` for their events, and `page CODE` for a ticket's public page.

Any ticket checks in here: a QR of today (`PUBLIC_URL/t/<code>`), a QR already sold (`t.me/<bot>?start=t_<code>`),
or the code under it; the check-in service reads them all (bot/tickets.py normalize_code).
"""

from __future__ import annotations

import asyncio

from bot.checkin import CheckInStatus
from bot.qr_reading import decode_qr
from handlers.views import checkin_answer, stats_block
from handlers.whatsapp.chat import Chat
from handlers.whatsapp.client import WhatsAppError
from handlers.whatsapp.texts import plain, say


async def check_in(chat: Chat, code_or_link: str) -> None:
    """✅ holder, tier / ⚠️ already, when, by whom / ❌ why not."""
    result = await chat.services.checkin.check_in(code_or_link, chat.account)
    by_name = None
    if result.status == CheckInStatus.ALREADY_CHECKED_IN and result.checked_in_by is not None:
        by_name = await chat.services.profiles.name(result.checked_in_by) or result.checked_in_by
    await chat.text(plain(checkin_answer(chat.lang, result, by_name)))


async def checkin_typed(chat: Chat, args: list[str]) -> None:
    if not args:
        await chat.text(say(chat.lang, "wa.checkin.usage"))
        return
    await check_in(chat, " ".join(args))


async def photo(chat: Chat) -> None:
    """A photo: the QR in it checks in (staff only; a buyer's photo gets the menu)."""
    if not await chat.services.access.is_staff(chat.account):
        await chat.text(say(chat.lang, "wa.menu"))
        return
    try:
        media = await chat.client.download_media(chat.message.media_id or "")
    except WhatsAppError:
        await chat.text(say(chat.lang, "wa.scan.none"))
        return
    texts = await asyncio.to_thread(decode_qr, media.content)
    if not texts:
        await chat.text(say(chat.lang, "wa.scan.none"))
        return
    await check_in(chat, texts[0])


async def stats(chat: Chat, args: list[str]) -> None:
    """Sales figures: every event for an admin, an organiser's own otherwise."""
    services = chat.services
    if services.access.is_admin(chat.account):
        figures = await services.stats.stats(None)
    else:
        own = await services.access.organised_events(chat.account)
        if not own:
            await chat.text(say(chat.lang, "refused.staff_only"))
            return
        figures = await services.stats.stats([e.id for e in own])
    if not figures:
        await chat.text(say(chat.lang, "stats.none"))
        return
    for block in figures:
        await chat.text(plain(stats_block(chat.lang, block))[:4096])


async def page(chat: Chat, args: list[str]) -> None:
    """A ticket's public page link (staff: to see it as a phone camera would)."""
    url = chat.services.links.ticket_page(args[0]) if args else None
    await chat.text(say(chat.lang, "wa.page", url=url) if url else say(chat.lang, "wa.checkin.usage"))


HANDLERS = {"checkin": checkin_typed, "stats": stats, "page": page}
