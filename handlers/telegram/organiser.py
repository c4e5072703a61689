"""Organisers (the Telegram ids listed on an event) and admins at the door: check-in by code or pasted link
(/checkin), by a photo of the QR or a typed code in scan mode (/scan), or by opening the QR's deep link with a
phone camera; and /stats.

Each of these checks in at once inside the event's door window; outside it the ticket is shown with one
"Check in anyway" button (`ci|<code>`), which checks it in (once, however often it is tapped) (bot/checkin.py).
A ticket's link opened by its buyer shows their ticket, by anyone else where it stands (no personal data).

Whether a photo or a typed code is a scan is remembered in the user's draft document (MongoDB), not in this process.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.accounts import telegram_id
from bot.checkin import CheckInResult, CheckInStatus, LinkRole
from bot.qr_reading import decode_qr
from bot.tickets import PAYLOAD_PREFIX, normalize_code
from handlers.formatting import paginate
from handlers.messages import Html, label, t
from handlers.telegram import buyer
from handlers.telegram.commands import set_user_commands
from handlers.telegram.keyboards import args, button, markup, pattern
from handlers.telegram.shared import (
    PRIVATE,
    Context,
    account,
    callback_query,
    chat_id,
    edit,
    is_admin,
    is_staff,
    lang,
    message_of,
    organised_events,
    reply,
    send_ticket,
    services_of,
)
from handlers.views import checkin_answer, public_ticket, stats_block
from storage.documents import TicketDoc

SCAN_WINDOW = timedelta(minutes=15)  # photos count as scans this long after /scan or the last scan
TICKET_LINK = filters.Regex(rf"^/start(?:@\w+)?\s+{PAYLOAD_PREFIX}")
PLAIN_START = filters.Regex(r"^/start(?:@\w+)?\s*$")
SCAN_CAPTION = filters.CaptionRegex(r"^\s*/scan\b")
IMAGES = filters.PHOTO | filters.Document.IMAGE
CONFIRM_CHECK_IN = "ci"  # ci|<code>   check this ticket in although outside its door window


class _TicketText(filters.MessageFilter):
    """A text message that is a ticket code or link (`K7QF-9MZT-XW3P`, any case, `PUBLIC_URL/t/...`)."""

    def filter(self, message: Message) -> bool:
        return bool(message.text) and normalize_code(message.text or "") is not None


TICKET_TEXT = _TicketText(name="ticket_text")



async def refuse(update: Update, context: Context) -> None:
    await reply(update, context, t(lang(update), "refused.staff_only"))


async def render_checkin(context: Context, lang_: str,
                         result: CheckInResult) -> tuple[Html, InlineKeyboardMarkup | None]:
    """✅ holder, tier / ⚠️ already, when, by whom / ❌ why not / ⏳ outside the door window, with its button."""
    services = services_of(context)
    by_name = None
    if result.status == CheckInStatus.ALREADY_CHECKED_IN and result.checked_in_by is not None:
        by_name = (await services.profiles.name(result.checked_in_by)
                   or str(telegram_id(result.checked_in_by) or "") or None)
    keyboard = None
    if result.needs_confirmation and result.ticket is not None:
        keyboard = markup([[button(label(lang_, "btn.checkin_anyway"), CONFIRM_CHECK_IN, result.ticket.id)]])
    return checkin_answer(lang_, result, by_name), keyboard


async def answer_checkin(update: Update, context: Context, code_or_link: str, read: TicketDoc | None = None) -> None:
    """Check one ticket in at the door (the door window decides whether a confirming tap is asked) and answer."""
    result = await services_of(context).checkin.at_door(code_or_link, account(update, context), read=read)
    await reply(update, context, *await render_checkin(context, lang(update), result))


async def ticket_link(update: Update, context: Context) -> None:
    """`/start t_<code>`: check in for the event's staff; the ticket for its owner; where it stands for others."""
    services, uid, lang_ = services_of(context), account(update, context), lang(update)
    opened = await services.checkin.open_link(context.args[0] if context.args else "", uid)
    if opened.role is LinkRole.DOOR and opened.check_in is not None:
        await reply(update, context, *await render_checkin(context, lang_, opened.check_in))
    elif opened.role is LinkRole.OWNER and opened.ticket is not None:
        await send_ticket(context.bot, chat_id(update), opened.ticket, opened.event, lang_, links=services.links)
    elif opened.public is not None:
        await reply(update, context, public_ticket(lang_, opened.public))


async def on_confirm_checkin(update: Update, context: Context) -> None:
    """`ci|<code>`: "Check in anyway" pressed: check it in now. The message becomes the answer (its button
    gone); a second tap that finds the ticket already checked in by the same person leaves it as it is."""
    query, lang_, uid = callback_query(update), lang(update), account(update, context)
    services = services_of(context)
    if not await is_staff(services, uid):
        await query.answer(label(lang_, "refused.staff_only"), show_alert=True)
        return
    result = await services.checkin.check_in((args(query.data) or [""])[0], uid)
    if result.status == CheckInStatus.ALREADY_CHECKED_IN and result.checked_in_by == uid:
        await query.answer(label(lang_, "checkin.answered"))
        return
    await query.answer()
    text, keyboard = await render_checkin(context, lang_, result)
    await edit(query, text, keyboard)


async def on_ticket_text(update: Update, context: Context) -> None:
    """A typed ticket code (or link): in scan mode, staff check it in (as /checkin does); staff not scanning
    are told how, unless a purchase waits for their typing; everyone else's text is the buyer's."""
    services, uid, lang_ = services_of(context), account(update, context), lang(update)
    if await is_staff(services, uid):
        if await services.checkin.scanning(uid):
            await services.checkin.start_scanning(uid, window=SCAN_WINDOW)  # each scan extends scan mode
            await answer_checkin(update, context, message_of(update).text or "")
            return
        draft = await services.checkout.current(uid)
        if draft is None or draft.awaiting not in buyer.ASKED:
            await reply(update, context, t(lang_, "checkin.typed_code"))
            return
    await buyer.on_text(update, context)


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
    application.add_handler(CallbackQueryHandler(on_confirm_checkin, pattern=pattern(CONFIRM_CHECK_IN)))
    # before the buyer's text handler (same group): a typed code at the door; any other text is the buyer's
    application.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND & TICKET_TEXT, on_ticket_text))
    # a separate group, so that it runs besides the buyer's plain /start (not on every ticket link at the door)
    application.add_handler(CommandHandler("start", refresh_menu, filters=PRIVATE & PLAIN_START), group=1)
