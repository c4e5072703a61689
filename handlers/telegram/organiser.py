"""Organisers (the Telegram ids listed on an event) and admins at the door: check-in by code or pasted link
(/checkin), by a photo of the QR (/scan), or by opening the QR's deep link with a phone camera; and /stats.

Whether a photo is a scan is remembered in the user's draft document (MongoDB), not in this process.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.accounts import telegram_id
from bot.checkin import CheckInStatus
from bot.qr_reading import decode_qr
from bot.tickets import PAYLOAD_PREFIX, normalize_code
from handlers.formatting import paginate
from handlers.messages import t
from handlers.telegram.commands import set_user_commands
from handlers.telegram.shared import (
    PRIVATE,
    Context,
    account,
    chat_id,
    is_admin,
    is_staff,
    lang,
    message_of,
    organised_events,
    reply,
    send_ticket,
    services_of,
)
from handlers.views import checkin_answer, stats_block
from storage.documents import TicketDoc

SCAN_WINDOW = timedelta(minutes=15)  # photos count as scans this long after /scan or the last scan
TICKET_LINK = filters.Regex(rf"^/start(?:@\w+)?\s+{PAYLOAD_PREFIX}")
PLAIN_START = filters.Regex(r"^/start(?:@\w+)?\s*$")
SCAN_CAPTION = filters.CaptionRegex(r"^\s*/scan\b")
IMAGES = filters.PHOTO | filters.Document.IMAGE



async def refuse(update: Update, context: Context) -> None:
    await reply(update, context, t(lang(update), "refused.staff_only"))


async def answer_checkin(update: Update, context: Context, code_or_link: str, read: TicketDoc | None = None) -> None:
    """Check one ticket in and answer ✅ holder, tier / ⚠️ already, when, by whom / ❌ why not."""
    services = services_of(context)
    result = await services.checkin.check_in(code_or_link, account(update, context), read=read)
    by_name = None
    if result.status == CheckInStatus.ALREADY_CHECKED_IN and result.checked_in_by is not None:
        by_name = (await services.profiles.name(result.checked_in_by)
                   or str(telegram_id(result.checked_in_by) or "") or None)
    await reply(update, context, checkin_answer(lang(update), result, by_name))


async def ticket_link(update: Update, context: Context) -> None:
    """`/start t_<code>`: check in for the event's staff; show the ticket to its owner; tell others nothing."""
    services, uid, lang_ = services_of(context), account(update, context), lang(update)
    payload = context.args[0] if context.args else ""
    ticket = await services.tickets.get(payload)
    listing = await services.catalog.definitions(ticket.event_id) if ticket else None
    event = listing.event if listing else None
    if ticket and event and services.checkin.may_check_in(event, uid):
        await answer_checkin(update, context, payload, ticket)
    elif ticket and ticket.user_id == uid:
        await send_ticket(context.bot, chat_id(update), ticket, event, lang_, links=services.links)
    elif await is_staff(services, uid):
        await answer_checkin(update, context, payload)
    else:
        await reply(update, context, t(lang_, "ticket.stranger"))


async def checkin_command(update: Update, context: Context) -> None:
    """`/checkin CODE` or a pasted ticket link: check it in."""
    if not await is_staff(services_of(context), account(update, context)):
        await refuse(update, context)
        return
    if not context.args:
        await reply(update, context, t(lang(update), "checkin.usage"))
        return
    await answer_checkin(update, context, " ".join(context.args))


async def scan_command(update: Update, context: Context) -> None:
    """Start scan mode: the next photos are QR codes to check in."""
    services, uid = services_of(context), account(update, context)
    if not await is_staff(services, uid):
        await refuse(update, context)
        return
    await services.checkin.start_scanning(uid, window=SCAN_WINDOW)
    await reply(update, context, t(lang(update), "scan.ready"))


async def on_photo(update: Update, context: Context) -> None:
    """A photo from staff in scan mode (or captioned /scan): decode its QR and check the ticket in."""
    services, uid, lang_ = services_of(context), account(update, context), lang(update)
    message = message_of(update)
    if not await is_staff(services, uid):
        await reply(update, context, t(lang_, "photo.not_expected"))
        return
    if not (await services.checkin.scanning(uid) or SCAN_CAPTION.check_update(update)):
        await reply(update, context, t(lang_, "scan.first"))
        return
    image = message.photo[-1] if message.photo else message.document
    if image is None:  # the IMAGES filter lets only photos and image documents through
        return
    data = await (await context.bot.get_file(image.file_id)).download_as_bytearray()
    texts = await asyncio.to_thread(decode_qr, bytes(data))
    await services.checkin.start_scanning(uid, window=SCAN_WINDOW)  # each scan extends scan mode
    if not texts:
        await reply(update, context, t(lang_, "scan.no_code"))
        return
    for text in dict.fromkeys(texts):  # each distinct code once
        await answer_checkin(update, context, normalize_code(text) or text)


async def stats_command(update: Update, context: Context) -> None:
    """Sales figures per tier: an organiser's own events, or every event for an admin."""
    services, uid, lang_ = services_of(context), account(update, context), lang(update)
    if is_admin(services, uid):
        stats = await services.stats.stats(None)
    else:
        own = await organised_events(services, uid)
        if not own:
            await refuse(update, context)
            return
        stats = await services.stats.stats([e.id for e in own])
    if not stats:
        await reply(update, context, t(lang_, "stats.none"))
        return
    for page in paginate(stats_block(lang_, s) for s in stats):
        await reply(update, context, page)


async def refresh_menu(update: Update, context: Context) -> None:
    """Give staff their own command menu when they start the bot (Telegram cannot set it before they do)."""
    services, uid = services_of(context), account(update, context)
    if await is_staff(services, uid):
        await set_user_commands(context.bot, services, uid)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("start", ticket_link, filters=PRIVATE & TICKET_LINK))
    application.add_handler(CommandHandler("checkin", checkin_command, filters=PRIVATE))
    application.add_handler(CommandHandler("scan", scan_command, filters=PRIVATE))
    application.add_handler(CommandHandler("stats", stats_command, filters=PRIVATE))
    application.add_handler(MessageHandler(PRIVATE & IMAGES, on_photo))
    # a separate group, so that it runs besides the buyer's plain /start (not on every ticket link at the door)
    application.add_handler(CommandHandler("start", refresh_menu, filters=PRIVATE & PLAIN_START), group=1)
