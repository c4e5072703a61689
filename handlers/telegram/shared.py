"""What every audience's handlers share: the services in bot_data, the user's language, who is staff, sending
HTML, sending a ticket's QR, remembering each user's language, and the one global error handler."""

from __future__ import annotations

import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes, filters

from bot.accounts import TELEGRAM, AccountId, telegram_address, telegram_id
from bot.links import Links
from bot.services import Services
from bot.tickets import render_link_qr
from handlers.messages import Html, lang_of, t
from handlers.views import ticket_caption
from storage.documents import EventDoc, TicketDoc

log = logging.getLogger(__name__)

SERVICES_KEY = "karcis.services"
PROFILES_KEY = "karcis.written_profiles"
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE  # new messages in private chats (not edits)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

Context = ContextTypes.DEFAULT_TYPE


def services_of(context: Context) -> Services:
    return context.application.bot_data[SERVICES_KEY]


def lang(update: Update) -> str:
    """The catalog language for whoever sent the update: Indonesian for `id…`, else English."""
    user = update.effective_user
    return lang_of(user.language_code if user else None)


def user_id(update: Update) -> int:
    """The sender's Telegram user id (to address their chat; the domain knows them by `account`)."""
    if update.effective_user is None:
        raise ValueError("update without a user")
    return update.effective_user.id


def account(update: Update, context: Context) -> AccountId:
    """The sender's account: `telegram:<user id>` resolved through the link table (no MongoDB command)."""
    return services_of(context).accounts.resolve(telegram_address(user_id(update)))


def telegram_chat(services: Services, who: AccountId) -> int | None:
    """The Telegram chat of an account (its Telegram user id), or None if it has no Telegram address."""
    address = services.accounts.address_on(who, TELEGRAM)
    return telegram_id(address) if address else None


def display_name(update: Update) -> str | None:
    user = update.effective_user
    return user.full_name if user else None


def is_admin(services: Services, who: AccountId) -> bool:
    return services.access.is_admin(who)


async def organised_events(services: Services, who: AccountId) -> list[EventDoc]:
    return await services.access.organised_events(who)


async def is_staff(services: Services, who: AccountId) -> bool:
    """Organises at least one event, or is an admin: may check tickets in."""
    return await services.access.is_staff(who)


async def send(bot: Bot, chat_id: int, text: Html, markup: InlineKeyboardMarkup | None = None) -> Message:
    return await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                  link_preview_options=NO_PREVIEW)


async def reply(update: Update, context: Context, text: Html, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Send HTML text into the chat the update came from."""
    if update.effective_chat is None:
        raise ValueError("update without a chat")
    return await send(context.bot, update.effective_chat.id, text, markup)


async def edit(query: CallbackQuery, text: Html, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the pressed message's text and buttons; a double tap that changes nothing is fine."""
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                      link_preview_options=NO_PREVIEW)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def drop_buttons(query: CallbackQuery) -> None:
    """Take the buttons off the pressed message, so it cannot be pressed twice."""
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(None)


# What a handler's registration guarantees, said to the type checker: PTB types every part of an Update as
# optional, but a CallbackQueryHandler's update has its query, and a message handler's has a chat and a message.

def callback_query(update: Update) -> CallbackQuery:
    """The button press of a CallbackQueryHandler's update."""
    if update.callback_query is None:
        raise ValueError("update without a callback query")
    return update.callback_query


def chat_id(update: Update) -> int:
    """The chat the update came from."""
    if update.effective_chat is None:
        raise ValueError("update without a chat")
    return update.effective_chat.id


def message_of(update: Update) -> Message:
    """The message of a message handler's update."""
    if update.effective_message is None:
        raise ValueError("update without a message")
    return update.effective_message


async def send_ticket(bot: Bot, chat_id: int, ticket: TicketDoc, event: EventDoc | None, lang_: str, *,
                      lead: Html | None = None, markup: InlineKeyboardMarkup | None = None,
                      links: Links | None = None) -> Message:
    """One ticket: its QR (the link a phone camera opens: bot/links.py `Links.ticket`, the ticket page or this
    bot's deep link) captioned with event, tier, holder and code, after `lead` (a receipt; the caller checks that
    the whole caption fits)."""
    png = await render_link_qr((links or Links()).ticket(ticket.id, telegram_username=bot.username))
    caption = ticket_caption(lang_, ticket, event)
    return await bot.send_photo(chat_id, photo=png, caption=Html(f"{lead}\n\n{caption}") if lead else caption,
                                parse_mode=ParseMode.HTML, filename=f"karcis-{ticket.id}.png", reply_markup=markup)


class WrittenProfiles:
    """What this process last wrote as each user's (language, name), and when: an update that brings the same
    values within `ttl` seconds costs no MongoDB command. Bounded (least recently seen users go first). The ttl
    bounds how long another process's write (same user, other values) can be overlooked here."""

    def __init__(self, *, size: int = 100_000, ttl: float = 600.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._seen: OrderedDict[int, tuple[str | None, str | None, float]] = OrderedDict()
        self._size, self._ttl, self._monotonic = size, ttl, monotonic

    def unchanged(self, uid: int, language: str | None, name: str | None) -> bool:
        entry = self._seen.get(uid)
        if entry is None or entry[:2] != (language, name) or self._monotonic() - entry[2] >= self._ttl:
            return False
        self._seen.move_to_end(uid)
        return True

    def written(self, uid: int, language: str | None, name: str | None) -> None:
        self._seen[uid] = (language, name, self._monotonic())
        self._seen.move_to_end(uid)
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)


async def remember_user(update: Update, context: Context) -> None:
    """Keep the user's language and name on their user document, so notices reach them in their language:
    written when they differ from what this process wrote last (one upsert, no read), else nothing."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    profiles: WrittenProfiles = context.application.bot_data.setdefault(PROFILES_KEY, WrittenProfiles())
    if profiles.unchanged(user.id, user.language_code, user.full_name):
        return
    await services_of(context).profiles.remember(account(update, context), language=user.language_code,
                                                 name=user.full_name)
    profiles.written(user.id, user.language_code, user.full_name)


def _describe(update: object) -> dict[str, Any]:
    """What to log about an update: who and what, never what a buyer typed (it may be their phone number)."""
    if not isinstance(update, Update):
        return {"update": repr(update)[:200]}
    info: dict[str, Any] = {"update_id": update.update_id}
    if update.effective_user:
        info["user_id"] = update.effective_user.id
    if update.callback_query:
        info["callback_data"] = update.callback_query.data
    elif update.effective_message:
        text = update.effective_message.text or ""
        info["kind"] = "command" if text.startswith("/") else ("photo" if update.effective_message.photo else "text")
        if text.startswith("/"):
            info["command"] = text.split()[0][:40]
    return info


async def on_error(update: object, context: Context) -> None:
    """Log the failure with its context; tell the user something went wrong, without the details."""
    log.error("handling %s failed", _describe(update), exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()
    with contextlib.suppress(TelegramError):
        await send(context.bot, update.effective_chat.id, t(lang(update), "error.generic"))
