"""Editing the Telegram messages that offer actions on an order once it has changed (docs/order-messages.md).

The domain (bot/order_messages.py) says which messages; the caller says what each should show now (`render`).
Edits go out at `Priority.STAFF`, the rate limiter's lowest (handlers/telegram/rate_limit.py): they tell nothing
new to someone waiting, so tickets and replies go first. A message that is gone, too old to edit or already
showing that state is fine (logged at debug); a flood wait or a network failure is raised, so the delivery that
asked retries later (it skips what it already sent, and edits are idempotent).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from bot.accounts import TELEGRAM, telegram_address, telegram_id
from bot.order_messages import MessageView, OfferedMessage
from handlers.messages import Html
from handlers.telegram.rate_limit import Priority, sending_as
from handlers.telegram.shared import NO_PREVIEW

log = logging.getLogger(__name__)

Rendered = tuple[Html, InlineKeyboardMarkup | None]
Render = Callable[[OfferedMessage], Awaitable[Rendered | None]]

# Telegram's answers to an edit that cannot or need not happen (the fake Bot API gives the same ones)
HARMLESS = ("not modified", "message to edit not found", "can't be edited", "message_id_invalid", "chat not found")


def offered(chat_id: int, message_id: int, lang: str, view: MessageView = MessageView.ORDER) -> OfferedMessage:
    """The Telegram message `message_id` in the private chat `chat_id`, as the domain names it."""
    return OfferedMessage(telegram_address(chat_id), str(message_id), view, lang)


async def edit_offered(bot: Bot, messages: Sequence[OfferedMessage], render: Render) -> int:
    """Edit each message to what `render` gives for it (None: leave it); the number edited."""
    edited = 0
    with sending_as(Priority.STAFF):
        for message in messages:
            chat = telegram_id(message.address) if message.address.startswith(TELEGRAM + ":") else None
            if chat is None or not message.message_id.isdigit():
                continue
            rendered = await render(message)
            if rendered is None:
                continue
            text, keyboard = rendered
            try:
                await bot.edit_message_text(text, chat_id=chat, message_id=int(message.message_id),
                                            parse_mode=ParseMode.HTML, reply_markup=keyboard,
                                            link_preview_options=NO_PREVIEW)
                edited += 1
            except BadRequest as exc:
                if not any(why in exc.message.lower() for why in HARMLESS):
                    raise
                log.debug("message %s in chat %s not edited: %s", message.message_id, chat, exc.message)
            except Forbidden as exc:  # the buyer blocked the bot: nothing to show them
                log.debug("message %s in chat %s not edited: %s", message.message_id, chat, exc.message)
    return edited
