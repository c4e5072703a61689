"""Door staff on WhatsApp: `checkin CODE` typed (also what a ticket page's "Check in with WhatsApp" link
types) or the bare code, a photo of a ticket's QR, `stats` for their events, and `page CODE` for a ticket's public
page.

Each check-in is at once inside the event's door window; outside it the ticket is shown with one "Check in
anyway" reply button (`checkinok:<code>`), which checks it in (once: a second tap says it already is)
(bot/checkin.py). `checkin CODE` from the ticket's buyer shows their ticket, from anyone else where it stands.

Any ticket checks in here: a QR of today (`PUBLIC_URL/t/<code>`), a QR already sold (`t.me/<bot>?start=t_<code>`),
or the code under it; the check-in service reads them all (bot/tickets.py normalize_code).
"""

from __future__ import annotations

import asyncio

from bot.checkin import CheckInResult, CheckInStatus, LinkRole
from bot.qr_reading import decode_qr
from handlers.views import checkin_answer, public_ticket, stats_block
from handlers.whatsapp.chat import Chat
from handlers.whatsapp.client import WhatsAppError
from handlers.whatsapp.texts import plain, say, title
from handlers.whatsapp.views import reply_id, send_ticket

CONFIRM_CHECK_IN = "checkinok"  # checkinok:<code>   check in although outside the door window


async def answer(chat: Chat, result: CheckInResult) -> None:
    """✅ holder, tier / ⚠️ already, when, by whom / ❌ why not / ⏳ outside the door window, with its button."""
    by_name = None
    if result.status == CheckInStatus.ALREADY_CHECKED_IN and result.checked_in_by is not None:
        by_name = await chat.services.profiles.name(result.checked_in_by) or result.checked_in_by
    text = plain(checkin_answer(chat.lang, result, by_name))
    if result.needs_confirmation and result.ticket is not None:
        await chat.buttons(text[:1024], [(reply_id(CONFIRM_CHECK_IN, result.ticket.id),
                                          title(chat.lang, "wa.btn.checkin_anyway"))])
        return
    await chat.text(text)


async def check_in(chat: Chat, code_or_link: str) -> None:
    """Check a ticket in at the door (a photo, a bare code): the door window decides whether to ask first."""
    await answer(chat, await chat.services.checkin.at_door(code_or_link, chat.account))


async def checkin_typed(chat: Chat, args: list[str]) -> None:
    """`checkin CODE`: the event's staff check it in; its buyer gets the ticket; anyone else where it stands."""
    if not args:
        await chat.text(say(chat.lang, "wa.checkin.usage"))
        return
    services = chat.services
    opened = await services.checkin.open_link(" ".join(args), chat.account)
    if opened.role is LinkRole.DOOR and opened.check_in is not None:
        await answer(chat, opened.check_in)
    elif opened.role is LinkRole.OWNER and opened.ticket is not None:
        await send_ticket(chat.client, chat.number, opened.ticket, opened.event, chat.lang, services.links)
    elif opened.public is not None:
        await chat.text(plain(public_ticket(chat.lang, opened.public)))


async def confirm_checkin(chat: Chat, args: list[str]) -> None:
    """`checkinok:<code>`: "Check in anyway" tapped: check it in now (a second tap: already, by you)."""
    if not await chat.services.access.is_staff(chat.account):
        await chat.text(say(chat.lang, "refused.staff_only"))
        return
    await answer(chat, await chat.services.checkin.check_in(args[0] if args else "", chat.account))


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


HANDLERS = {"checkin": checkin_typed, "stats": stats, "page": page, CONFIRM_CHECK_IN: confirm_checkin}
